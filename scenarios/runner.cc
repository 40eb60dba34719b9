// Running a scenario and classifying how it ended; the twice-run determinism check.
#include "scenarios/runner.h"

#include <cinttypes>
#include <cstdio>
#include <exception>
#include <utility>

#include "scenarios/run_context.h"
#include "sim/check.h"
#include "sim/trace.h"

namespace storsim::scenarios {
namespace {

std::string KnownScenarios(const ScenarioRegistry& registry) {
  std::string names;
  for (const Scenario* scenario : registry.All()) {
    if (!names.empty()) names += ", ";
    names += scenario->name;
  }
  return names.empty() ? "(none)" : names;
}

std::string KnownBugs(const Scenario& scenario) {
  std::string names;
  for (const BugInfo& bug : scenario.bugs) {
    if (!names.empty()) names += ", ";
    names += bug.name;
  }
  return names.empty() ? "(none)" : names;
}

std::vector<std::string> MarksHit() {
  std::vector<std::string> hit;
  for (const auto& [name, count] : sim::Marks::Global().counts()) {
    if (count > 0) hit.push_back(name);
  }
  return hit;
}

}  // namespace

std::string HashToHex(uint64_t hash) {
  char buffer[17];
  std::snprintf(buffer, sizeof buffer, "%016" PRIx64, hash);
  return buffer;
}

absl::Status ValidateOptions(const ScenarioRegistry& registry, const RunOptions& options) {
  const Scenario* scenario = registry.Find(options.scenario);
  if (scenario == nullptr) {
    return absl::InvalidArgumentError("unknown scenario '" + options.scenario +
                                      "'; known scenarios: " + KnownScenarios(registry));
  }
  for (const std::string& bug : options.bugs) {
    if (!scenario->KnowsBug(bug)) {
      return absl::InvalidArgumentError("scenario '" + scenario->name + "' has no bug '" + bug +
                                        "'; its bugs: " + KnownBugs(*scenario));
    }
  }
  if (options.protocol.find(':') != std::string::npos) {
    return absl::InvalidArgumentError("protocol '" + options.protocol + "' cannot contain ':'");
  }
  return absl::OkStatus();
}

RunResult RunScenario(const ScenarioRegistry& registry, const RunOptions& options) {
  RunResult result;
  result.options = options;
  result.options.observers.clear();  // not owned, and meaningless after the run
  if (absl::Status valid = ValidateOptions(registry, options); !valid.ok()) {
    result.internal_error = std::string(valid.message());
    return result;
  }
  const Scenario& scenario = *registry.Find(options.scenario);
  sim::Marks::Global().ResetHits();
  ScenarioRun run(options);
  if (absl::Status opened = run.OpenTraceFiles(); !opened.ok()) {
    result.internal_error = std::string(opened.message());
    return result;
  }
  bool body_completed = false;
  try {
    scenario.body(run);
    body_completed = true;
  } catch (const RunStopped&) {
    // The reason is in run.violations().
  } catch (const sim::InvariantViolation& violation) {
    const sim::Instant at = run.has_simulation() ? run.simulation().Now() : sim::Instant::Zero();
    result.violations.push_back(Violation{"SIM_CHECK", at, violation.what()});
  } catch (const std::exception& error) {
    result.internal_error = std::string("unexpected exception: ") + error.what();
  } catch (...) {
    result.internal_error = "unexpected exception of unknown type";
  }
  if (run.has_simulation()) {
    // Before the violations are collected: L3's end-of-run check may report.
    try {
      result.metrics = run.FinishMetrics(body_completed);
      result.metric_samples = run.MetricSamples();
    } catch (const std::exception& error) {
      if (result.internal_error.empty()) {
        result.internal_error = std::string("run metrics: ") + error.what();
      }
    }
  }
  // Checker findings come first: a SIM_CHECK thrown after a report is a consequence.
  result.violations.insert(result.violations.begin(), run.violations().begin(),
                           run.violations().end());
  if (run.has_simulation()) {
    sim::Simulation& simulation = run.simulation();
    result.trace_hash = simulation.Fingerprint();
    result.events = simulation.trace().events();
    result.sim_ns = simulation.Now().nanos();
  } else if (result.internal_error.empty()) {
    result.internal_error = "scenario '" + scenario.name + "' never created its simulation";
  }
  result.swarm = run.swarm();
  result.fault_plan = run.fault_plan();
  result.knobs = run.knobs();
  result.marks_hit = MarksHit();
  result.ok = result.violations.empty() && result.internal_error.empty();
  return result;
}

std::string DeterminismReport::ToString() const {
  if (deterministic) {
    return "deterministic: two runs gave trace_hash " + HashToHex(first.trace_hash) + " over " +
           std::to_string(first.events) + " events";
  }
  std::string out = "NOT deterministic: trace_hash " + HashToHex(first.trace_hash) + " (" +
                    std::to_string(first.events) + " events) vs " + HashToHex(second.trace_hash) +
                    " (" + std::to_string(second.events) + " events)";
  if (divergence.has_value()) {
    out += "; first divergence at event " + std::to_string(*divergence) +
           ":\n  run 1: " + (first_event.empty() ? "(no event)" : first_event) +
           "\n  run 2: " + (second_event.empty() ? "(no event)" : second_event);
  } else {
    out += "; the events are equal, so the scheduling decisions differ";
  }
  return out;
}

DeterminismReport CheckDeterminism(const ScenarioRegistry& registry, RunOptions options) {
  DeterminismReport report;
  sim::MemoryTraceSink first_events;
  sim::MemoryTraceSink second_events;
  RunOptions first_options = options;
  first_options.observers.push_back(&first_events);
  report.first = RunScenario(registry, first_options);
  RunOptions second_options = std::move(options);
  second_options.ndjson_trace_path.clear();
  second_options.perfetto_trace_path.clear();
  second_options.observers.push_back(&second_events);
  report.second = RunScenario(registry, second_options);
  report.divergence = sim::FirstDivergence(first_events.events(), second_events.events());
  if (report.divergence.has_value()) {
    const size_t index = *report.divergence;
    if (index < first_events.events().size()) {
      report.first_event = first_events.events()[index].ToString();
    }
    if (index < second_events.events().size()) {
      report.second_event = second_events.events()[index].ToString();
    }
  }
  report.deterministic = !report.divergence.has_value() &&
                         report.first.trace_hash == report.second.trace_hash &&
                         report.first.events == report.second.events;
  return report;
}

}  // namespace storsim::scenarios
