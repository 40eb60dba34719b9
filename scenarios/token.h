// Replay tokens: one printable string that names a run exactly (DESIGN.md §6). Format version 1:
//
//   v1:<build id>:<scenario>:<seed>:<protocol>:<bug>,<bug>...:<fault plan>
//
// where the seed is decimal, the bug list is comma-separated in name order (possibly empty), and
// the fault plan is FaultPlan::Encode() (possibly empty). No field may contain ':'. The build id
// lets a later `storsim repro` refuse a token from another build unless forced.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "scenarios/scenario.h"
#include "sim/fault_plan.h"

namespace storsim::scenarios {

inline constexpr std::string_view kTokenVersion = "v1";

struct Token {
  std::string build_id;
  std::string scenario;
  uint64_t seed = 0;
  std::string protocol;
  std::set<std::string> bugs;
  sim::FaultPlan fault_plan;

  bool operator==(const Token&) const = default;
};

// The token of a finished run.
Token TokenFor(const RunResult& result, std::string build_id);

// Precondition: no field contains ':' and no bug contains ','. (Names are checked when scenarios
// register; the CLI refuses such a protocol or build id.)
std::string EncodeToken(const Token& token);

// Errors (InvalidArgument, saying what is wrong): another format version, a wrong number of
// fields, an empty scenario, a seed that is not a decimal uint64, a malformed fault plan.
absl::StatusOr<Token> DecodeToken(std::string_view text);

}  // namespace storsim::scenarios
