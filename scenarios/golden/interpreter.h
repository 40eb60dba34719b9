// The golden script interpreter (internal to scenarios/golden): walks a parsed script's
// statements in order inside one ScenarioRun. Timed actions wait in a queue ordered by time and
// fire while `run` advances the simulation; `expect` lines are checked at the instant they are
// reached. Actions live in actions.cc, expectations in expectations.cc.
//
// Time zero of the script is the instant StorageWorld::Start returned (every tenant created).
// Everything a simulated fiber touches (the probe's state) is owned by the ScenarioRun (Keep), so
// it outlives the simulation's teardown.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "scenarios/golden/golden_run.h"
#include "scenarios/golden/script.h"
#include "scenarios/run_context.h"
#include "scenarios/storage/storage_world.h"
#include "sim/trace.h"

namespace storsim::scenarios::golden {

// The client-side view of the controller API (SPEC L3): one request every 100 ms from the
// operator; a window is a stretch of failed requests (503, other non-2xx, transport error, no
// ready endpoint), from the first failure sent to the next success sent.
struct ProbeState {
  bool started = false;
  int64_t probes = 0;
  int64_t failures = 0;
  int64_t windows = 0;
  std::optional<sim::Instant> failing_since;
  sim::Duration longest;
};

class Interpreter {
 public:
  // `events` records every event of the run (attached before the simulation's first event);
  // `failures` collects what went wrong, in order.
  Interpreter(ScenarioRun& run, const Script& script, const sim::MemoryTraceSink& events,
              std::vector<Failure>& failures, int& expectations);

  // Builds the world, starts it and walks the statements. Throws RunStopped when a checker
  // stopped the run (the caller blames current_line()).
  void Run();
  int current_line() const { return current_line_; }

 private:
  struct Pending {
    sim::Duration at;
    int order = 0;  // ties keep script order
    const Statement* statement = nullptr;
    // An inverse scheduled by a "for D" action (cplane faults); statement is then its origin.
    bool undo = false;
  };

  cluster::ClusterOptions MakeClusterOptions() const;
  sim::Duration Elapsed() const;  // script time now
  void Schedule(Pending pending);
  void RunTo(sim::Duration target);
  void Fire(const Pending& pending);

  // actions.cc
  void Execute(const Statement& statement);
  void Undo(const Statement& statement);
  sim::ProcessId Resolve(int line, const ProcessRef& process);
  void OperatorCall(const Statement& statement);
  void StartProbe();

  // expectations.cc: records a Failure when `expectation` does not hold now.
  void Check(int line, const Expectation& expectation);
  std::optional<std::string> CheckAttached(const Expectation& expectation);
  std::optional<std::string> CheckEvent(const Expectation& expectation);
  std::optional<std::string> CheckNode(const Expectation& expectation);
  std::optional<std::string> CheckRollout(const Expectation& expectation);
  std::optional<std::string> CheckCompute(const Expectation& expectation);
  std::optional<std::string> CheckUnavailability(const Expectation& expectation);
  // The leader's snapshot; nullopt (and a message in *why) when no live instance leads.
  std::optional<controller::ControllerSnapshot> LeaderSnapshot(std::string* why) const;

  void Fail(int line, std::string message) { failures_.push_back({line, std::move(message)}); }

  ScenarioRun& run_;
  const Script& script_;
  const sim::MemoryTraceSink& events_;
  std::vector<Failure>& failures_;
  int& expectations_;
  std::unique_ptr<StorageWorld> world_;
  std::shared_ptr<ProbeState> probe_;
  sim::Instant zero_;
  std::vector<Pending> queue_;  // sorted by (at, order)
  int order_ = 0;
  int current_line_ = 0;
};

}  // namespace storsim::scenarios::golden
