// One run of a sweep, reduced to what sweeps aggregate, store and merge: identity (scenario, seed,
// token), verdict (invariant, first violation), cost (events, simulated and wall time) and the
// coverage marks it hit. Serialises to one JSON object (a line of a worker's output, an entry of a
// failure file).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fuzz/json.h"
#include "scenarios/scenario.h"

namespace storsim::fuzz {

struct RunRecord {
  std::string scenario;
  uint64_t seed = 0;
  std::string token;
  bool ok = true;
  std::string invariant;  // "" when ok
  std::string detail;     // first violation's detail
  int64_t at_ns = 0;      // first violation's simulated time
  int64_t sim_ns = 0;
  uint64_t events = 0;
  int64_t wall_ms = 0;
  std::string trace_hash;
  std::string fault_plan;  // readable form
  std::string knobs;       // readable form: "clients=2 ops=100000" or "(none)"
  std::string swarm;
  std::string protocol;
  std::vector<std::string> bugs;
  std::vector<std::string> marks_hit;
  bool determinism_checked = false;
  bool deterministic = true;
  std::string divergence;  // first differing events, when not deterministic

  // scenario/invariant: failures with one signature are one bug as far as the sweep can tell.
  std::string Signature() const { return scenario + "/" + invariant; }
  Json ToJson() const;
  static RunRecord FromJson(const Json& json);
};

// Builds a record from a runner result. `build_id` goes into the token.
RunRecord RecordFor(const scenarios::RunResult& result, const std::string& build_id);

}  // namespace storsim::fuzz
