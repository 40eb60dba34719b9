// Linearizability rules for the register self-test, checked incrementally from trace events.
// Completions arrive in sequence order, so "every write that completed before R began" is a
// prefix of completed_writes_ and a binary search plus a running maximum answers each rule in
// O(log n) per read.
#include "scenarios/check/register_checker.h"

#include <algorithm>
#include <utility>

#include "sim/check.h"

namespace storsim::scenarios {

RegisterChecker::RegisterChecker(ViolationSink sink) : sink_(std::move(sink)) {
  SIM_CHECK(sink_ != nullptr);
  // The initial value: "written" before everything, completed before everything.
  writes_[kInitialValue] = Write{-1, 0, -1, 0};
}

void RegisterChecker::OnEvent(const sim::TraceEvent& event) {
  if (event.kind == "register.invoke") {
    OnInvoke(event);
  } else if (event.kind == "register.ok") {
    if (event.Str("type") == "write") {
      OnWriteOk(event);
    } else {
      OnReadOk(event);
    }
  } else if (event.kind == "register.fail") {
    // A failed read tells nothing; a failed write stays incomplete forever (it may still land).
    pending_reads_.erase(event.Int("op"));
  }
}

void RegisterChecker::Report(std::string invariant, sim::Instant at, std::string detail) {
  ++violations_;
  sink_(Violation{std::move(invariant), at, std::move(detail)});
}

void RegisterChecker::OnInvoke(const sim::TraceEvent& event) {
  SIM_CHECK_MSG(writes_.size() + pending_reads_.size() < kOperationsMax,
                "register history exceeds its operation bound");
  const auto sequence = static_cast<int64_t>(event.sequence);
  const int64_t op = event.Int("op");
  if (event.Str("type") == "write") {
    const int64_t value = event.Int("value");
    if (writes_.count(value) != 0) {
      Report("REG0", event.at,
             "write op " + std::to_string(op) + " reuses value " + std::to_string(value));
      return;
    }
    writes_[value] = Write{sequence, event.at.nanos(), kNever, 0};
    return;
  }
  const bool final = event.Int("final") != 0;
  pending_reads_[op] = PendingRead{sequence, event.at.nanos(), final};
  if (final) final_invoked_ = true;
}

void RegisterChecker::OnWriteOk(const sim::TraceEvent& event) {
  const int64_t value = event.Int("value");
  auto it = writes_.find(value);
  if (it == writes_.end() || value == kInitialValue || it->second.complete_sequence != kNever) {
    Report("REG0", event.at,
           "write ok for value " + std::to_string(value) + " without a single open invocation");
    return;
  }
  Write& write = it->second;
  write.complete_sequence = static_cast<int64_t>(event.sequence);
  write.complete_ns = event.at.nanos();
  PrefixMax entry{write.complete_sequence, write.invoke_sequence, value};
  if (!completed_writes_.empty() &&
      completed_writes_.back().max_invoke_sequence > entry.max_invoke_sequence) {
    entry.max_invoke_sequence = completed_writes_.back().max_invoke_sequence;
    entry.max_value = completed_writes_.back().max_value;
  }
  completed_writes_.push_back(entry);
  latest_completed_write_ = value;
}

const RegisterChecker::PrefixMax* RegisterChecker::CompletedBefore(
    const std::vector<PrefixMax>& entries, int64_t sequence) {
  auto it = std::lower_bound(
      entries.begin(), entries.end(), sequence,
      [](const PrefixMax& entry, int64_t s) { return entry.complete_sequence < s; });
  if (it == entries.begin()) return nullptr;
  return &*(it - 1);
}

std::string RegisterChecker::DescribeWrite(int64_t value) const {
  if (value == kInitialValue) return "the initial value";
  auto it = writes_.find(value);
  SIM_CHECK(it != writes_.end());
  std::string out = "write " + std::to_string(value) + " [invoked " +
                    sim::Instant::FromNanos(it->second.invoke_ns).ToString() + ", ";
  if (it->second.complete_sequence == kNever) return out + "never acknowledged]";
  return out + "acknowledged " + sim::Instant::FromNanos(it->second.complete_ns).ToString() + "]";
}

void RegisterChecker::OnReadOk(const sim::TraceEvent& event) {
  const int64_t op = event.Int("op");
  const int64_t value = event.Int("value");
  auto pending = pending_reads_.find(op);
  if (pending == pending_reads_.end()) {
    Report("REG0", event.at, "read ok for op " + std::to_string(op) + " without an invocation");
    return;
  }
  const PendingRead read = pending->second;
  pending_reads_.erase(pending);
  ++reads_checked_;
  const std::string read_text = "read op " + std::to_string(op) + " [invoked " +
                                sim::Instant::FromNanos(read.invoke_ns).ToString() + ", returned " +
                                event.at.ToString() + "]";
  auto written = writes_.find(value);
  if (written == writes_.end()) {
    Report("REG2", event.at,
           read_text + " returned " + std::to_string(value) + ", which no write ever wrote");
    return;
  }
  const Write& source = written->second;
  if (const PrefixMax* before = CompletedBefore(completed_writes_, read.invoke_sequence);
      before != nullptr && source.complete_sequence < before->max_invoke_sequence) {
    Report("REG1", event.at,
           read_text + " returned " + DescribeWrite(value) + ", but " +
               DescribeWrite(before->max_value) +
               " began after that write completed and completed before the read began");
  }
  if (const PrefixMax* before = CompletedBefore(completed_reads_, read.invoke_sequence);
      before != nullptr && source.complete_sequence < before->max_invoke_sequence) {
    Report("REG3", event.at,
           read_text + " returned " + DescribeWrite(value) +
               ", but an earlier completed read had already returned " +
               DescribeWrite(before->max_value) + ", which began after that write completed");
  }
  PrefixMax entry{static_cast<int64_t>(event.sequence), source.invoke_sequence, value};
  if (!completed_reads_.empty() &&
      completed_reads_.back().max_invoke_sequence > entry.max_invoke_sequence) {
    entry.max_invoke_sequence = completed_reads_.back().max_invoke_sequence;
    entry.max_value = completed_reads_.back().max_value;
  }
  completed_reads_.push_back(entry);
  if (read.final) final_value_ = value;
}

void RegisterChecker::Finish(sim::Instant now) {
  if (!final_invoked_) {
    Report("REG-L1", now, "the final read after healing was never issued");
    return;
  }
  if (!final_value_.has_value()) {
    Report("REG-L1", now, "the final read after healing did not succeed in its bounded time");
    return;
  }
  const int64_t value = *final_value_;
  if (value == latest_completed_write_) return;
  const Write& latest = writes_.at(latest_completed_write_);
  const Write& source = writes_.at(value);
  if (source.complete_sequence < latest.invoke_sequence) {
    Report("REG-L1", now,
           "the final read returned " + DescribeWrite(value) +
               ", older than the latest completed " + DescribeWrite(latest_completed_write_));
  }
}

}  // namespace storsim::scenarios
