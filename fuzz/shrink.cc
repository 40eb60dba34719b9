// Delta debugging over fault plans, and knob lowering, in alternating rounds.
#include "fuzz/shrink.h"

#include <algorithm>

#include "scenarios/runner.h"
#include "sim/check.h"

namespace storsim::fuzz {
namespace {

class Shrinker {
 public:
  Shrinker(const scenarios::ScenarioRegistry& registry, const ShrinkOptions& options,
           scenarios::RunOptions base, std::string invariant)
      : registry_(registry), options_(options), base_(std::move(base)),
        invariant_(std::move(invariant)) {}

  // Runs `plan` with the current knobs; true if it fails with the target invariant (and
  // remembers that run).
  bool StillFails(const sim::FaultPlan& plan) { return StillFails(plan, knobs_); }
  bool StillFails(const sim::FaultPlan& plan, const std::map<std::string, int64_t>& knobs) {
    if (runs_ >= options_.runs_max) return false;
    ++runs_;
    scenarios::RunOptions options = base_;
    options.fault_plan = plan;
    options.knobs = knobs;
    scenarios::RunResult result = scenarios::RunScenario(registry_, options);
    if (result.ok || result.FirstInvariant() != invariant_) return false;
    last_failing_ = std::move(result);
    return true;
  }

  // Step 3: each knob above 1 halved toward 1, then lowered by halving steps down to 1.
  // Returns true if a knob changed.
  bool ShrinkKnobs(const sim::FaultPlan& plan, std::vector<std::string>& log) {
    bool changed = false;
    const std::vector<std::string> names = [&] {
      std::vector<std::string> keys;
      for (const auto& [name, value] : knobs_) keys.push_back(name);
      return keys;
    }();
    for (const std::string& name : names) {
      // Halving: bounded by the 64 bits of the value.
      for (int step = 0; step < 64 && knobs_[name] > 1 && runs_ < options_.runs_max; ++step) {
        if (!TryKnob(plan, name, knobs_[name] / 2, log)) break;
        changed = true;
      }
      // The last halving failed, so the smallest failing value is in (value / 2, value]: lower
      // by `decrement`, halving the decrement on each refusal, down to single steps.
      int64_t decrement = (knobs_[name] - knobs_[name] / 2) / 2;
      for (int step = 0; step < 128 && knobs_[name] > 1 && runs_ < options_.runs_max; ++step) {
        decrement = std::clamp<int64_t>(decrement, 1, knobs_[name] - 1);
        if (TryKnob(plan, name, knobs_[name] - decrement, log)) {
          changed = true;
        } else if (decrement == 1) {
          break;
        } else {
          decrement /= 2;
        }
      }
    }
    return changed;
  }

  const std::map<std::string, int64_t>& knobs() const { return knobs_; }
  void set_knobs(std::map<std::string, int64_t> knobs) { knobs_ = std::move(knobs); }

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
  bool out_of_runs() const { return runs_ >= options_.runs_max; }
  scenarios::RunResult& last_failing() { return last_failing_; }
  void set_last_failing(scenarios::RunResult result) { last_failing_ = std::move(result); }

 private:
  const scenarios::ScenarioRegistry& registry_;
  ShrinkOptions options_;
  scenarios::RunOptions base_;
  std::string invariant_;
  uint32_t runs_ = 0;
  scenarios::RunResult last_failing_;
  std::map<std::string, int64_t> knobs_;  // the accepted knobs so far

  bool TryKnob(const sim::FaultPlan& plan, const std::string& name, int64_t value,
               std::vector<std::string>& log) {
    SIM_CHECK(value >= 1 && value < knobs_[name]);
    std::map<std::string, int64_t> candidate = knobs_;
    candidate[name] = value;
    if (!StillFails(plan, candidate)) return false;
    knobs_ = std::move(candidate);
    log.push_back("knob " + name + " -> " + std::to_string(value));
    return true;
  }
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
  shrunk.knobs_before = original.knobs;
  // Every knob the run used is pinned, so that shrinking one knob never changes what another
  // would have drawn. Knobs the run did not ask for are dropped: a token's knob can be one that
  // only drew what the token's fault plan now replaces (a storage story's "faults").
  failing.knobs = original.knobs;
  Shrinker shrinker(registry, options, failing, shrunk.invariant);
  shrinker.set_last_failing(original);
  shrinker.set_knobs(original.knobs);
  sim::FaultPlan plan = original.fault_plan;
  for (int round = 0; round < kShrinkRoundsMax && !shrinker.out_of_runs(); ++round) {
    const sim::FaultPlan plan_before = plan;
    plan = shrinker.RemoveFaults(std::move(plan), shrunk.log);
    plan = shrinker.Simplify(std::move(plan), shrunk.log);
    const bool knobs_changed = shrinker.ShrinkKnobs(plan, shrunk.log);
    if (!knobs_changed && plan == plan_before) break;
  }
  shrunk.faults_after = plan.faults.size();
  shrunk.knobs_after = shrinker.knobs();
  shrunk.options = failing;
  shrunk.options.fault_plan = plan;
  shrunk.options.knobs = shrinker.knobs();
  shrunk.runs = shrinker.runs() + 1;
  shrunk.result = std::move(shrinker.last_failing());
  return shrunk;
}

}  // namespace storsim::fuzz
