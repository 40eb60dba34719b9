// The checker of the kernel self-test scenario "register": a replicated read/write register. It
// reads trace events only (what clients invoked and what they were told), never the replicas'
// state, and checks necessary conditions of atomic-register linearizability in a simple, sound
// way (each rule names an ordering that every linearization must respect, so a flagged history
// is never linearizable; some non-linearizable histories may pass):
//
//   REG0   the history is well formed: each write value is unique, every response has an
//          invocation (a broken history is a harness bug, reported rather than guessed around).
//   REG1   no stale read: a read R returning the value of write Wv is wrong if some write W
//          completed before R began and Wv completed before W began (Wv -> W -> R in real time),
//          or if R returns the initial value although some write completed before R began.
//   REG2   no phantom value: a read returns the initial value or a value some write had been
//          invoked with before the read responded.
//   REG3   no new-old inversion: if read R1 completed before read R2 began, R2 must not return a
//          write that completed before the write R1 returned was invoked.
//   REG-L1 liveness after healing: the final read (an invocation with final=1, issued after the
//          faults were healed and a quiet period passed) succeeded, and returned the latest
//          completed write or a write not real-time before it (an unacknowledged write may take
//          effect late).
//
// Real-time order is the order of trace events (their sequence numbers): the simulation is
// single-threaded, so "response emitted before invocation" is exactly "completed before began".
// A write that never got a response (timeout, crashed client) never completes: it may take
// effect at any later time.
//
// Events read (emitted by scenarios/register/register_model.cc):
//   register.invoke  op, type ("read"|"write"), value (writes), final (0|1)
//   register.ok      op, type, value (the value read, or the value written)
//   register.fail    op, type (the operation gave up; its effect is unknown)
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "scenarios/check/violation.h"
#include "sim/trace.h"

namespace storsim::scenarios {

class RegisterChecker : public sim::TraceObserver {
 public:
  // The value every replica starts with; writes use other (unique) values.
  static constexpr int64_t kInitialValue = 0;
  // Bound on the operations one run may record (a run that issues more is itself a bug).
  static constexpr size_t kOperationsMax = 2'000'000;

  explicit RegisterChecker(ViolationSink sink);

  // Checks REG0–REG3 as each response arrives (fail fast).
  void OnEvent(const sim::TraceEvent& event) override;

  // Checks REG-L1. Call once, after the final read had its bounded time to finish.
  void Finish(sim::Instant now);

  uint64_t reads_checked() const { return reads_checked_; }
  uint64_t writes_completed() const { return completed_writes_.size(); }
  uint64_t violations() const { return violations_; }

 private:
  static constexpr int64_t kNever = INT64_MAX;

  struct Write {
    int64_t invoke_sequence = 0;
    int64_t invoke_ns = 0;
    int64_t complete_sequence = kNever;
    int64_t complete_ns = 0;
  };
  struct PendingRead {
    int64_t invoke_sequence = 0;
    int64_t invoke_ns = 0;
    bool final = false;
  };
  // One completed operation in completion order, with the running maximum (over this and every
  // earlier entry) of an invocation sequence and the write value that attains it.
  struct PrefixMax {
    int64_t complete_sequence = 0;
    int64_t max_invoke_sequence = -1;
    int64_t max_value = kInitialValue;
  };

  void OnInvoke(const sim::TraceEvent& event);
  void OnWriteOk(const sim::TraceEvent& event);
  void OnReadOk(const sim::TraceEvent& event);
  void Report(std::string invariant, sim::Instant at, std::string detail);
  // The last entry of `entries` that completed before `sequence`, or null.
  static const PrefixMax* CompletedBefore(const std::vector<PrefixMax>& entries, int64_t sequence);
  std::string DescribeWrite(int64_t value) const;

  ViolationSink sink_;
  std::map<int64_t, Write> writes_;               // by value; holds the initial value too
  std::map<int64_t, PendingRead> pending_reads_;  // by op id, until the response
  std::vector<PrefixMax> completed_writes_;       // max over invocations of completed writes
  std::vector<PrefixMax> completed_reads_;        // max over invocations of the writes they read
  int64_t latest_completed_write_ = kInitialValue;
  bool final_invoked_ = false;
  std::optional<int64_t> final_value_;
  uint64_t reads_checked_ = 0;
  uint64_t violations_ = 0;
};

}  // namespace storsim::scenarios
