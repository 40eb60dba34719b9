// Delta debugging over fault plans.
#include "fuzz/shrink.h"

#include <algorithm>

#include "scenarios/runner.h"

namespace storsim::fuzz {
namespace {

class Shrinker {
 public:
  Shrinker(const scenarios::ScenarioRegistry& registry, const ShrinkOptions& options,
           scenarios::RunOptions base, std::string invariant)
      : registry_(registry), options_(options), base_(std::move(base)),
        invariant_(std::move(invariant)) {}

  // Runs `plan`; true if it fails with the target invariant (and remembers that run).
  bool StillFails(const sim::FaultPlan& plan) {
    if (runs_ >= options_.runs_max) return false;
    ++runs_;
    scenarios::RunOptions options = base_;
    options.fault_plan = plan;
    scenarios::RunResult result = scenarios::RunScenario(registry_, options);
    if (result.ok || result.FirstInvariant() != invariant_) return false;
    last_failing_ = std::move(result);
    return true;
  }

  sim::FaultPlan RemoveFaults(sim::FaultPlan plan, std::vector<std::string>& log) {
    size_t chunks = 2;
    while (!plan.faults.empty() && runs_ < options_.runs_max) {
      if (plan.faults.size() == 1) {
        sim::FaultPlan empty;
        if (StillFails(empty)) {
          log.push_back("removed the last fault");
          plan = empty;
        }
        break;
      }
      chunks = std::min(chunks, plan.faults.size());
      const size_t chunk = (plan.faults.size() + chunks - 1) / chunks;
      bool removed = false;
      for (size_t start = 0; start < plan.faults.size(); start += chunk) {
        sim::FaultPlan candidate;
        for (size_t k = 0; k < plan.faults.size(); ++k) {
          if (k < start || k >= start + chunk) candidate.faults.push_back(plan.faults[k]);
        }
        if (StillFails(candidate)) {
          log.push_back("removed " + std::to_string(plan.faults.size() - candidate.faults.size()) +
                        " fault(s), " + std::to_string(candidate.faults.size()) + " left");
          plan = std::move(candidate);
          chunks = std::max<size_t>(chunks - 1, 2);
          removed = true;
          break;
        }
      }
      if (!removed) {
        if (chunks >= plan.faults.size()) break;
        chunks = std::min(chunks * 2, plan.faults.size());
      }
    }
    return plan;
  }

  sim::FaultPlan Simplify(sim::FaultPlan plan, std::vector<std::string>& log) {
    for (size_t k = 0; k < plan.faults.size(); ++k) {
      // Each halving loop is bounded by the 64 bits of the number it halves.
      for (int step = 0; step < 64 && plan.faults[k].duration > sim::Duration::Zero(); ++step) {
        sim::FaultPlan candidate = plan;
        candidate.faults[k].duration = sim::Duration::Millis(plan.faults[k].duration.millis() / 2);
        if (!StillFails(candidate)) break;
        plan = std::move(candidate);
        log.push_back("fault " + std::to_string(k) + ": duration -> " +
                      plan.faults[k].duration.ToString());
      }
      for (int step = 0; step < 64 && plan.faults[k].value != 0; ++step) {
        sim::FaultPlan candidate = plan;
        candidate.faults[k].value = plan.faults[k].value / 2;
        if (!StillFails(candidate)) break;
        plan = std::move(candidate);
        log.push_back("fault " + std::to_string(k) + ": value -> " +
                      std::to_string(plan.faults[k].value));
      }
      for (int step = 0; step < 64 && plan.faults[k].at > sim::Duration::Zero(); ++step) {
        sim::FaultPlan candidate = plan;
        candidate.faults[k].at = sim::Duration::Millis(plan.faults[k].at.millis() / 2);
        if (!StillFails(candidate)) break;
        plan = std::move(candidate);
        log.push_back("fault " + std::to_string(k) + ": at -> " + plan.faults[k].at.ToString());
      }
    }
    return plan;
  }

  uint32_t runs() const { return runs_; }
  scenarios::RunResult& last_failing() { return last_failing_; }
  void set_last_failing(scenarios::RunResult result) { last_failing_ = std::move(result); }

 private:
  const scenarios::ScenarioRegistry& registry_;
  ShrinkOptions options_;
  scenarios::RunOptions base_;
  std::string invariant_;
  uint32_t runs_ = 0;
  scenarios::RunResult last_failing_;
};

}  // namespace

absl::StatusOr<ShrinkResult> Shrink(const scenarios::ScenarioRegistry& registry,
                                    scenarios::RunOptions failing, const ShrinkOptions& options) {
  if (absl::Status valid = scenarios::ValidateOptions(registry, failing); !valid.ok()) {
    return valid;
  }
  failing.ndjson_trace_path.clear();
  failing.perfetto_trace_path.clear();
  scenarios::RunResult original = scenarios::RunScenario(registry, failing);
  if (original.ok) {
    return absl::FailedPreconditionError("the run does not fail: nothing to shrink");
  }
  if (!original.internal_error.empty()) {
    return absl::FailedPreconditionError("the run ends in an internal error, not a violation: " +
                                         original.internal_error);
  }
  ShrinkResult shrunk;
  shrunk.invariant = original.FirstInvariant();
  shrunk.faults_before = original.fault_plan.faults.size();
  Shrinker shrinker(registry, options, failing, shrunk.invariant);
  shrinker.set_last_failing(original);
  sim::FaultPlan plan = shrinker.RemoveFaults(original.fault_plan, shrunk.log);
  plan = shrinker.Simplify(std::move(plan), shrunk.log);
  shrunk.faults_after = plan.faults.size();
  shrunk.options = failing;
  shrunk.options.fault_plan = plan;
  shrunk.runs = shrinker.runs() + 1;
  shrunk.result = std::move(shrinker.last_failing());
  return shrunk;
}

}  // namespace storsim::fuzz
