// The scenario runner: validates options against the registry, runs one scenario in a fresh
// Simulation, and turns everything a run can end with into a RunResult:
//   - violations reported by checkers (fail fast: the run stops at the first);
//   - a SIM_CHECK thrown out of the simulation (sim::InvariantViolation) -> invariant "SIM_CHECK";
//   - the step or simulated-time limit -> invariant "LIMIT";
//   - anything else thrown -> internal_error (a harness bug; the CLI exits 3).
// It also checks determinism: the same options run twice must give the same fingerprint, and on a
// mismatch it names the first event where the two runs diverge.
//
// Nothing here reads real time: wall_ms is left for the caller to fill.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "scenarios/scenario.h"

namespace storsim::scenarios {

// OK, or InvalidArgument saying what is wrong (unknown scenario, with the known ones; a bug the
// scenario does not know, with the ones it knows; a protocol holding ':').
absl::Status ValidateOptions(const ScenarioRegistry& registry, const RunOptions& options);

// Runs one scenario. Never throws for anything the run does; invalid options give an
// internal_error result (validate first to tell the user).
RunResult RunScenario(const ScenarioRegistry& registry, const RunOptions& options);

struct DeterminismReport {
  bool deterministic = false;
  RunResult first;
  RunResult second;
  // Index of the first differing event, when the event lists differ.
  std::optional<size_t> divergence;
  std::string first_event;   // the event at `divergence` in the first run ("" if none)
  std::string second_event;  // the same index in the second run ("" if none)

  // One line when deterministic; otherwise the hashes and the first differing event of each run.
  std::string ToString() const;
};

// Runs `options` twice with an in-memory trace sink each time (trace files are written by the
// first run only) and compares fingerprints and events.
DeterminismReport CheckDeterminism(const ScenarioRegistry& registry, RunOptions options);

// "0123456789abcdef": a hash as 16 lowercase hex digits.
std::string HashToHex(uint64_t hash);

}  // namespace storsim::scenarios
