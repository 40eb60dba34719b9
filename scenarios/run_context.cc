// The per-run context: simulation ownership, trace files, limits and fail-fast stopping.
#include "scenarios/run_context.h"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "scenarios/token.h"
#include "sim/check.h"

namespace storsim::scenarios {

ScenarioRun::ScenarioRun(RunOptions options) : options_(std::move(options)) {}

ScenarioRun::~ScenarioRun() {
  // The simulation goes first: its processes unwind while checkers, writers and kept state exist.
  if (simulation_ != nullptr) {
    for (size_t id = 0; id < simulation_->process_count(); ++id) {
      if (perfetto_writer_ != nullptr) {
        perfetto_writer_->NameProcess(static_cast<int32_t>(id),
                                      simulation_->process(static_cast<sim::ProcessId>(id)).name());
      }
    }
  }
  simulation_.reset();
  checkers_.clear();
  kept_.clear();
  perfetto_writer_.reset();  // closes the JSON array
  ndjson_writer_.reset();
  if (perfetto_file_ != nullptr) std::fclose(perfetto_file_);
  if (ndjson_file_ != nullptr) std::fclose(ndjson_file_);
}

absl::Status ScenarioRun::OpenTraceFiles() {
  SIM_CHECK_MSG(simulation_ == nullptr, "trace files must be opened before the simulation");
  if (!options_.ndjson_trace_path.empty() && ndjson_file_ == nullptr) {
    ndjson_file_ = std::fopen(options_.ndjson_trace_path.c_str(), "w");
    if (ndjson_file_ == nullptr) {
      return absl::InternalError("cannot open trace file '" + options_.ndjson_trace_path +
                                 "' for writing");
    }
    ndjson_writer_ = std::make_unique<sim::NdjsonTraceWriter>(ndjson_file_);
  }
  if (!options_.perfetto_trace_path.empty() && perfetto_file_ == nullptr) {
    perfetto_file_ = std::fopen(options_.perfetto_trace_path.c_str(), "w");
    if (perfetto_file_ == nullptr) {
      return absl::InternalError("cannot open Perfetto trace file '" +
                                 options_.perfetto_trace_path + "' for writing");
    }
    perfetto_writer_ = std::make_unique<sim::PerfettoTraceWriter>(perfetto_file_);
  }
  return absl::OkStatus();
}

sim::Simulation& ScenarioRun::CreateSimulation(sim::SimulationOptions options) {
  SIM_CHECK_MSG(simulation_ == nullptr, "a run has one simulation");
  SIM_CHECK(options_.limits.steps_max > 0 && options_.limits.sim_time_max > sim::Duration::Zero());
  options.seed = options_.seed;
  options.scheduler.steps_max = options_.limits.steps_max;
  options.scheduler.time_max = sim::Instant::Zero() + options_.limits.sim_time_max;
  simulation_ = std::make_unique<sim::Simulation>(options);
  sim::Trace& trace = simulation_->trace();
  if (ndjson_writer_ != nullptr) trace.AddObserver(ndjson_writer_.get());
  if (perfetto_writer_ != nullptr) trace.AddObserver(perfetto_writer_.get());
  for (sim::TraceObserver* observer : options_.observers) {
    SIM_CHECK(observer != nullptr);
    trace.AddObserver(observer);
  }
  run_metrics_ = std::make_unique<metrics::RunMetricsObserver>();
  trace.AddObserver(run_metrics_.get());
  restart_checker_ = &AddChecker(std::make_unique<metrics::RestartUnavailabilityChecker>(sink()));
  return *simulation_;
}

sim::Simulation& ScenarioRun::simulation() {
  SIM_CHECK_MSG(simulation_ != nullptr, "CreateSimulation has not been called");
  return *simulation_;
}

void ScenarioRun::RunFor(sim::Duration duration) {
  SIM_CHECK(duration >= sim::Duration::Zero());
  RunUntil(simulation().Now() + duration);
}

void ScenarioRun::RunUntil(sim::Instant until) {
  if (!violations_.empty()) throw RunStopped();
  sim::Simulation& world = simulation();
  const sim::RunOutcome outcome = world.RunUntil(until);
  if (outcome == sim::RunOutcome::kStepLimit) {
    violations_.push_back(Violation{"LIMIT", world.Now(),
                                    "step limit of " + std::to_string(options_.limits.steps_max) +
                                        " scheduler steps exceeded (a livelock or runaway run)"});
  } else if (outcome == sim::RunOutcome::kTimeLimit) {
    violations_.push_back(Violation{
        "LIMIT", world.Now(),
        "simulated-time limit of " + options_.limits.sim_time_max.ToString() + " exceeded"});
  }
  if (!violations_.empty()) throw RunStopped();
  SIM_CHECK_MSG(outcome != sim::RunOutcome::kStopped,
                "the scheduler was stopped without a reported violation");
}

int64_t ScenarioRun::Knob(std::string_view name, int64_t drawn) {
  return Knob(name, drawn, INT64_MIN, INT64_MAX);
}

int64_t ScenarioRun::Knob(std::string_view name, int64_t drawn, int64_t min, int64_t max) {
  SIM_CHECK(min <= drawn && drawn <= max);
  SIM_CHECK_MSG(IsKnobName(name), "knob names are 1..32 characters of [a-z0-9_]");
  const std::string key(name);
  if (auto recorded = knobs_.find(key); recorded != knobs_.end()) return recorded->second;
  const auto override_value = options_.knobs.find(key);
  int64_t value = override_value != options_.knobs.end() ? override_value->second : drawn;
  value = std::clamp(value, min, max);
  knobs_.emplace(key, value);
  return value;
}

std::map<std::string, int64_t> ScenarioRun::FinishMetrics(bool body_completed) {
  SIM_CHECK_MSG(run_metrics_ != nullptr && restart_checker_ != nullptr,
                "FinishMetrics needs the simulation");
  const sim::Instant now = simulation().Now();
  // A run stopped early (a violation, a limit, an exception) has not had its full time: L3's
  // end-of-run check would judge windows the run never let close.
  if (body_completed && violations_.empty()) restart_checker_->Finish(now);
  run_metrics_->Finish(now);
  std::map<std::string, int64_t> values = run_metrics_->Metrics();
  for (const auto& [name, value] : restart_checker_->Metrics()) values[name] = value;
  return values;
}

std::map<std::string, std::vector<int64_t>> ScenarioRun::MetricSamples() const {
  SIM_CHECK(run_metrics_ != nullptr && run_metrics_->finished());
  return run_metrics_->Samples();
}

void ScenarioRun::ReportViolation(Violation violation) {
  if (violations_.size() < kViolationsMax) violations_.push_back(std::move(violation));
  if (simulation_ != nullptr) simulation_->scheduler().Stop();
}

}  // namespace storsim::scenarios
