// The storsim commands (DESIGN.md §6): list, run, fuzz and help. Each takes the arguments after
// its name and returns the process exit code:
//   0 every invariant held; 1 an invariant was violated; 2 bad usage (with a message saying what
//   is wrong and a hint); 3 internal error.
// Commands are thin: they parse flags, call the scenarios library and print. Human-readable lines
// go to stderr, JSON (--json) to stdout, one object per line.
#pragma once

#include <cstdio>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "scenarios/scenario.h"

namespace storsim::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitViolation = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitInternal = 3;

struct CommandContext {
  const scenarios::ScenarioRegistry& registry;
  std::string build_id;
  std::FILE* out = stdout;
  std::FILE* err = stderr;
};

// Dispatches on arguments[0] (the command); arguments excludes the program name.
int Dispatch(const CommandContext& context, const std::vector<std::string>& arguments);

int ListCommand(const CommandContext& context, const std::vector<std::string>& arguments);
int RunCommand(const CommandContext& context, const std::vector<std::string>& arguments);
int FuzzCommand(const CommandContext& context, const std::vector<std::string>& arguments);
int MergeCommand(const CommandContext& context, const std::vector<std::string>& arguments);
class ParsedFlags;
// The library-backed sweep (fuzz --jobs/--shard/--out/--protocol); budget_ms 0 = no time budget.
int SweepCommand(const CommandContext& context, const ParsedFlags& flags,
                 std::vector<std::string> scenarios, std::vector<std::string> bugs,
                 uint64_t first_seed, uint64_t seeds, int64_t budget_ms);
int ReproCommand(const CommandContext& context, const std::vector<std::string>& arguments);
int ShrinkCommand(const CommandContext& context, const std::vector<std::string>& arguments);
// Measures seeds-to-detect per planted defect (fuzz/bugzoo.h); exit 0 when measured.
int BugzooCommand(const CommandContext& context, const std::vector<std::string>& arguments);

// Compares the leadership protocols on the run metrics (compare_protocols_command.cc); exit 0
// when every run finished (violations are part of the measurement), 2 bad usage, 3 error.
int CompareProtocolsCommand(const CommandContext& context,
                            const std::vector<std::string>& arguments);
// A run's metrics (RunResult::metrics): one human line, and a JSON object with the samples.
std::string RunMetricsLine(const scenarios::RunResult& result);
std::string RunMetricsJson(const scenarios::RunResult& result);

// Help text for a command ("" or unknown: the overview).
std::string HelpText(std::string_view command);

// Prints "storsim: <message>" to stderr, with a hint to `storsim help <command>` unless the
// message has one, and returns kExitUsage.
int UsageError(const CommandContext& context, const absl::Status& status,
               std::string_view command = "");

// The repeatable --knob NAME=VALUE flags. Errors (InvalidArgument): a malformed or repeated knob.
absl::StatusOr<std::map<std::string, int64_t>> ParseKnobFlags(const ParsedFlags& flags);
// InvalidArgument naming the knobs of `options` that the run never asked for (a typo, or a token
// of another scenario version), with the scenario's knobs; OK when all were used.
absl::Status CheckKnobsUsed(const scenarios::RunOptions& options,
                            const scenarios::RunResult& result);

// --determinism-percent P (0..100): the share of a sweep's runs replayed to check determinism;
// 5 when absent. Errors (InvalidArgument): not an integer in 0..100.
absl::StatusOr<uint32_t> DeterminismPercent(const ParsedFlags& flags);

// --scenario S|all (default all): the registry's scenarios it names, in registry order. Errors
// (InvalidArgument): an unknown name, with the known ones listed.
absl::StatusOr<std::vector<const scenarios::Scenario*>> SelectedScenarios(
    const CommandContext& context, const ParsedFlags& flags);

// The replay token of a finished run.
std::string TokenOf(const scenarios::RunResult& result, const std::string& build_id);

// Prints the run's human-readable lines to stderr: what ran (seed, build id, options, swarm,
// fault plan size and token) and how it ended. `plan_in_full` prints every fault.
void PrintRunReport(const CommandContext& context, const scenarios::RunResult& result,
                    const std::string& token, bool plan_in_full);

}  // namespace storsim::cli
