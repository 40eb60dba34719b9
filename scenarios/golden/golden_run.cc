// The interpreter's walk over a script, and RunGoldenScript: the script becomes the body of a
// one-off scenario, so the runner's classification (violations, SIM_CHECK, limits, trace files)
// and its digest apply unchanged.
#include "scenarios/golden/golden_run.h"

#include <algorithm>

#include "scenarios/golden/interpreter.h"
#include "scenarios/runner.h"
#include "sim/check.h"

namespace storsim::scenarios::golden {

Interpreter::Interpreter(ScenarioRun& run, const Script& script, const sim::MemoryTraceSink& events,
                         std::vector<Failure>& failures, int& expectations)
    : run_(run),
      script_(script),
      events_(events),
      failures_(failures),
      expectations_(expectations) {}

cluster::ClusterOptions Interpreter::MakeClusterOptions() const {
  const Settings& settings = script_.settings;
  cluster::ClusterOptions options;
  options.pageservers = settings.pageservers;
  options.tenants = settings.tenants;
  options.shard_count = static_cast<uint8_t>(settings.shards);
  options.secondaries = static_cast<uint32_t>(settings.secondaries);
  if (settings.protocol == "naive") {
    options.protocol = controller::LeadershipProtocol::kNaive;
  } else if (settings.protocol == "lease") {
    options.protocol = controller::LeadershipProtocol::kLease;
  } else if (settings.protocol == "lease-fenced") {
    options.protocol = controller::LeadershipProtocol::kLeaseFenced;
    options.pageserver.check_controller_term = true;
  }
  for (const std::string& bug : settings.bugs) options.defects.Enable(bug);
  // As the storage scenarios do: housekeeping often enough that a minute of simulated time sees
  // deletions validated (the /validate upcall is part of the generation story).
  options.pageserver.deletion_flush_period = sim::Duration::Seconds(5);
  options.compute.lakebase_mode = settings.lakebase;
  if (settings.drain_concurrency > 0) {
    options.controller.timings.drain_fill_in_flight_max = settings.drain_concurrency;
  }
  return options;
}

sim::Duration Interpreter::Elapsed() const { return run_.simulation().Now() - zero_; }

void Interpreter::Schedule(Pending pending) {
  pending.order = order_++;
  auto position = std::upper_bound(queue_.begin(), queue_.end(), pending,
                                   [](const Pending& a, const Pending& b) {
                                     return a.at != b.at ? a.at < b.at : a.order < b.order;
                                   });
  queue_.insert(position, pending);
}

void Interpreter::Fire(const Pending& pending) {
  current_line_ = pending.statement->line;
  if (pending.undo) {
    Undo(*pending.statement);
    return;
  }
  const Action& action = pending.statement->action;
  if (action.kind == Action::Kind::kExpect) {
    Check(pending.statement->line, action.expectation);
    return;
  }
  Execute(*pending.statement);
  if (action.duration && action.kind == Action::Kind::kCplaneFail) {
    Schedule({pending.at + *action.duration, 0, pending.statement, /*undo=*/true});
  }
}

void Interpreter::RunTo(sim::Duration target) {
  for (int fired = 0; fired < 100'000; ++fired) {
    if (queue_.empty() || queue_.front().at > target) break;
    const Pending next = queue_.front();
    queue_.erase(queue_.begin());
    if (next.at > Elapsed()) run_.RunUntil(zero_ + next.at);
    Fire(next);
  }
  if (target > Elapsed()) run_.RunUntil(zero_ + target);
}

void Interpreter::Run() {
  world_ = std::make_unique<StorageWorld>(run_, MakeClusterOptions());
  probe_ = std::make_shared<ProbeState>();
  run_.Keep(probe_);
  world_->Start();
  zero_ = run_.simulation().Now();
  run_.simulation().Emit("golden.start", {sim::TraceField::Str("script", script_.name)});
  for (const Statement& statement : script_.statements) {
    current_line_ = statement.line;
    switch (statement.kind) {
      case Statement::Kind::kAction:
        // The parser refused times before the runs above, so nothing fires late.
        SIM_CHECK(statement.at >= Elapsed());
        Schedule({statement.at, 0, &statement, false});
        // A time already reached (e.g. `at 60s` right after `run 60s`) fires now.
        RunTo(Elapsed());
        break;
      case Statement::Kind::kRun:
        RunTo(Elapsed() + statement.run);
        break;
      case Statement::Kind::kExpect:
        Check(statement.line, statement.expect);
        break;
    }
  }
  SIM_CHECK_MSG(queue_.empty() || queue_.front().undo,
                "a timed line was never reached (the parser should have refused it)");
}

std::string GoldenResult::Describe(const std::string& script_name) const {
  std::string out;
  for (const Failure& failure : failures) {
    out += script_name + ":" + std::to_string(failure.line) + ": " + failure.message + "\n";
  }
  return out;
}

GoldenResult RunGoldenScript(const Script& script, const GoldenOptions& options) {
  GoldenResult result;
  sim::MemoryTraceSink events;
  std::vector<Failure> failures;
  int expectations = 0;
  int stopped_line = 0;
  ScenarioRegistry registry;
  Scenario scenario;
  scenario.name = "golden";
  scenario.summary = "golden script " + script.name;
  for (const std::string& bug : script.settings.bugs) scenario.bugs.push_back({bug, "planted"});
  scenario.body = [&](ScenarioRun& run) {
    Interpreter interpreter(run, script, events, failures, expectations);
    try {
      interpreter.Run();
    } catch (...) {
      stopped_line = interpreter.current_line();
      throw;
    }
  };
  registry.Add(scenario);
  RunOptions run_options;
  run_options.scenario = "golden";
  run_options.seed = script.settings.seed;
  run_options.bugs = {script.settings.bugs.begin(), script.settings.bugs.end()};
  run_options.protocol = script.settings.protocol;
  run_options.ndjson_trace_path = options.ndjson_trace_path;
  run_options.observers.push_back(&events);
  const RunResult run = RunScenario(registry, run_options);
  result.failures = std::move(failures);
  for (const Violation& violation : run.violations) {
    result.failures.push_back({stopped_line, "the run stopped: " + violation.ToString()});
  }
  if (!run.internal_error.empty()) {
    result.failures.push_back({stopped_line, "internal error: " + run.internal_error});
  }
  result.digest = HashToHex(run.trace_hash);
  result.events = run.events;
  result.expectations = expectations;
  result.sim_ms = run.sim_ns / 1000'000;
  return result;
}

}  // namespace storsim::scenarios::golden
