// Replay tokens: one printable string that names a run exactly (DESIGN.md §6). Format version 1:
//
//   v1:<build id>:<scenario>:<seed>:<protocol>:<bug>,<bug>...:<fault plan>[:<knobs>]
//
// where the seed is decimal, the bug list is comma-separated in name order (possibly empty), the
// fault plan is FaultPlan::Encode() (possibly empty), and the optional eighth field holds the
// run's workload knobs (ScenarioRun::Knob) as <name>=<value>,... in name order, each a knob name
// ([a-z0-9_]) and a decimal int64. The knob field is a compatible extension: it is written only
// when the run has knobs, so a run without knobs keeps the 7-field token older builds wrote, and
// 7-field tokens still decode (with no knobs). No field may contain ':'. Every character is one a
// shell takes literally in an unquoted word ([A-Za-z0-9_.,=:-]), so a token pastes unquoted. The
// build id lets a later `storsim repro` refuse a token from another build unless forced.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "scenarios/scenario.h"
#include "sim/fault_plan.h"

namespace storsim::scenarios {

inline constexpr std::string_view kTokenVersion = "v1";
inline constexpr size_t kKnobsMax = 64;

struct Token {
  std::string build_id;
  std::string scenario;
  uint64_t seed = 0;
  std::string protocol;
  std::set<std::string> bugs;
  sim::FaultPlan fault_plan;
  std::map<std::string, int64_t> knobs;

  bool operator==(const Token&) const = default;
};

// The token of a finished run.
Token TokenFor(const RunResult& result, std::string build_id);

// Precondition: no field contains ':' and no bug contains ','. (Names are checked when scenarios
// register; the CLI refuses such a protocol or build id.)
std::string EncodeToken(const Token& token);

// Errors (InvalidArgument, saying what is wrong): another format version, a wrong number of
// fields (7, or 8 with knobs), an empty scenario, a seed that is not a decimal uint64, a
// malformed fault plan, a malformed or empty knob field (DecodeKnobs).
absl::StatusOr<Token> DecodeToken(std::string_view text);

// A knob name: 1..32 characters of [a-z0-9_].
bool IsKnobName(std::string_view name);
// "name=value,..." in name order ("" for none). Precondition: every name is a knob name.
std::string EncodeKnobs(const std::map<std::string, int64_t>& knobs);
// The inverse; also reads one `--knob` flag value ("clients=2"). Errors (InvalidArgument, naming
// the entry): an entry without '=', a bad name, a value that is not a decimal int64, a name given
// twice, more than kKnobsMax knobs.
absl::StatusOr<std::map<std::string, int64_t>> DecodeKnobs(std::string_view text);
// "clients=2 ops=40", or "(none)": for people.
std::string KnobsToString(const std::map<std::string, int64_t>& knobs);

}  // namespace storsim::scenarios
