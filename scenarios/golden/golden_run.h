// Running a golden script (script.h) as one scenario run: a StorageWorld (model::Cluster plus every
// SPEC safety checker) in a fresh Simulation, the script's timed actions applied on the way, its
// expectations checked where they stand. The result carries the run's digest (the Simulation
// fingerprint, 16 hex digits), which golden files store beside the script so that any change of
// behaviour shows up in review.
//
// How a run fails (each a Failure with the script line, 0 for the run as a whole):
//   - an expectation does not hold (the message says what was expected and what was found);
//   - a checker reported a violation: the run stops there (fail fast) and the line being run is
//     blamed, with the violation;
//   - a SIM_CHECK fired, a limit was hit, or the harness itself failed.
// The digest is computed either way; comparing it with the stored one is the caller's business
// (golden_files.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "scenarios/golden/script.h"

namespace storsim::scenarios::golden {

struct Failure {
  int line = 0;  // 0: the run as a whole
  std::string message;
};

struct GoldenOptions {
  std::string ndjson_trace_path;  // empty: no trace file
};

struct GoldenResult {
  std::vector<Failure> failures;
  std::string digest;  // HashToHex(Simulation::Fingerprint())
  uint64_t events = 0;
  int expectations = 0;  // expectations checked (passed or failed)
  int64_t sim_ms = 0;    // simulated time at the end, since the simulation started

  bool ok() const { return failures.empty(); }
  // One failure per line: "<script>:<line>: <message>".
  std::string Describe(const std::string& script_name) const;
};

// Runs `script`. Never throws for what the run does; see the file comment for failures.
GoldenResult RunGoldenScript(const Script& script, const GoldenOptions& options = {});

}  // namespace storsim::scenarios::golden
