// The list, run and help commands, dispatch, and the per-run report lines.
#include "cli/commands.h"

#include <chrono>

#include "cli/flags.h"
#include "cli/json.h"
#include "scenarios/runner.h"
#include "scenarios/token.h"

namespace storsim::cli {
namespace {

constexpr const char* kOverview =
    "storsim: deterministic simulation of a storage control plane\n"
    "\n"
    "usage: storsim <command> [flags]\n"
    "\n"
    "commands:\n"
    "  list [--bugs]        list scenarios (or switchable bugs), one per line with a summary\n"
    "  run                  run one scenario with one seed\n"
    "  fuzz                 run many seeds of one or every scenario\n"
    "  merge DIR...         join the outputs (--out) of sharded fuzz runs\n"
    "  repro TOKEN          replay a run exactly from its token (and --report D for HTML)\n"
    "  shrink TOKEN         minimize a failing run's fault plan; prints the new token\n"
    "  help [command]       this text, or a command's flags\n"
    "\n"
    "exit codes: 0 every invariant held, 1 an invariant was violated, 2 bad usage,\n"
    "            3 internal error\n";

constexpr const char* kListHelp =
    "usage: storsim list [--bugs]\n"
    "\n"
    "Prints each scenario as '<name>  <summary>'. With --bugs, prints each switchable defect\n"
    "as '<bug>  <scenario>  <summary>' instead.\n";

constexpr const char* kRunHelp =
    "usage: storsim run --scenario S --seed N [--protocol P] [--bug B]... [--json]\n"
    "                   [--trace F] [--perfetto F] [--check-determinism] [--max-steps N]\n"
    "\n"
    "  --scenario S         scenario name (see 'storsim list')\n"
    "  --seed N             the seed, a decimal integer\n"
    "  --protocol P         protocol variant, for scenarios that have them\n"
    "  --bug B              switch on a planted defect (repeatable; see 'storsim list --bugs')\n"
    "  --json               print one JSON object for the run on stdout\n"
    "  --trace F            write every trace event to F as NDJSON\n"
    "  --perfetto F         write a Chrome/Perfetto trace to F (open in ui.perfetto.dev)\n"
    "  --check-determinism  run twice and compare; a mismatch names the first differing event\n"
    "  --max-steps N        scheduler step limit (exceeding it is a LIMIT failure)\n"
    "\n"
    "The seed, build id, options, swarm and replay token are printed on stderr.\n";

constexpr const char* kFuzzHelp =
    "usage: storsim fuzz [--scenario S|all] (--seeds N | --time D) [--start-seed K]\n"
    "                    [--bug B]... [--json] [--max-steps N]\n"
    "                    [--protocol P] [--jobs J] [--shard K/N] [--out D] [--report D]\n"
    "\n"
    "  --scenario S|all     one scenario, or every scenario (default: all)\n"
    "  --seeds N            run seeds K..K+N-1 of each scenario\n"
    "  --time D             run seeds from K on until D of wall time passed (500ms, 30s, 10m, 2h)\n"
    "  --start-seed K       first seed (default 1)\n"
    "  --bug B              switch on a planted defect in the scenarios that know it (repeatable)\n"
    "  --json               one JSON object per run, then one summary object, on stdout\n"
    "  --max-steps N        scheduler step limit per run\n"
    "  --protocol P         leadership protocol of the storage scenarios\n"
    "  --jobs J             J worker processes\n"
    "  --shard K/N          run shard K of N of the same runs (for nightly batch jobs)\n"
    "  --out D              write D/summary.json and D/failures/*.json (for storsim merge)\n"
    "  --report D           write D/report.html, and a replayed timeline per distinct failure\n"
    "With any of the last five, the sweep runs on the fuzz library: 5% of runs are replayed for\n"
    "determinism, --json prints only the summary, and failures are listed at the end.\n"
    "\n"
    "Progress goes to stderr (a live line on a terminal, a line every few seconds otherwise),\n"
    "with each failure's seed and token. Exit 1 if any run failed, 3 if any had an internal "
    "error.\n";

constexpr const char* kMergeHelp =
    "usage: storsim merge DIR... [--out D] [--json]\n"
    "\n"
    "Joins the outputs of sharded sweeps (storsim fuzz --shard K/N --out DIR): runs, failures\n"
    "(the fastest-failing case per signature), marks never hit. Exit 1 if any shard failed.\n";

constexpr const char* kReproHelp =
    "usage: storsim repro TOKEN [--trace F] [--perfetto F] [--report D] [--json] [--force]\n"
    "\n"
    "Replays the run a token names, bit for bit, and prints how it ended.\n"
    "  --trace F / --perfetto F   write the trace as NDJSON / Chrome-Perfetto JSON\n"
    "  --report D                 write D/report.html: timeline, violations, events\n"
    "  --json                     one JSON object for the run on stdout\n"
    "  --force                    replay a token made by another build (it may differ)\n";

constexpr const char* kShrinkHelp =
    "usage: storsim shrink TOKEN [--runs-max N] [--force]\n"
    "\n"
    "Minimizes the token's fault plan while the same invariant still fails (at most N runs,\n"
    "default 300), prints the steps and the shrunk plan on stderr and the new token on stdout.\n"
    "Exit 1 when a shrunk failing case was found, 0 when the token's run does not fail.\n";

int PrintHelp(const CommandContext& context, std::string_view command) {
  std::fputs(HelpText(command).c_str(), context.out);
  return kExitOk;
}

}  // namespace

std::string HelpText(std::string_view command) {
  if (command == "list") return kListHelp;
  if (command == "run") return kRunHelp;
  if (command == "fuzz") return kFuzzHelp;
  if (command == "repro") return kReproHelp;
  if (command == "merge") return kMergeHelp;
  if (command == "shrink") return kShrinkHelp;
  return kOverview;
}

int UsageError(const CommandContext& context, const absl::Status& status,
               std::string_view command) {
  std::string message(status.message());
  // Every usage error ends with where to read more.
  if (message.find("see 'storsim") == std::string::npos) {
    message += command.empty() ? "; see 'storsim help'"
                               : "; see 'storsim help " + std::string(command) + "'";
  }
  std::fprintf(context.err, "storsim: %s\n", message.c_str());
  return kExitUsage;
}

std::string TokenOf(const scenarios::RunResult& result, const std::string& build_id) {
  return scenarios::EncodeToken(scenarios::TokenFor(result, build_id));
}

int Dispatch(const CommandContext& context, const std::vector<std::string>& arguments) {
  if (arguments.empty()) {
    std::fputs(kOverview, context.err);
    return kExitUsage;
  }
  const std::string& command = arguments[0];
  const std::vector<std::string> rest(arguments.begin() + 1, arguments.end());
  if (command == "help" || command == "--help" || command == "-h") {
    return PrintHelp(context, rest.empty() ? "" : rest[0]);
  }
  if (command == "list") return ListCommand(context, rest);
  if (command == "run") return RunCommand(context, rest);
  if (command == "fuzz") return FuzzCommand(context, rest);
  if (command == "repro") return ReproCommand(context, rest);
  if (command == "merge") return MergeCommand(context, rest);
  if (command == "shrink") return ShrinkCommand(context, rest);
  return UsageError(
      context, absl::InvalidArgumentError("unknown command '" + command + "'; see 'storsim help'"));
}

int ListCommand(const CommandContext& context, const std::vector<std::string>& arguments) {
  absl::StatusOr<ParsedFlags> flags = ParseFlags({{"bugs"}}, arguments, "list");
  if (!flags.ok()) return UsageError(context, flags.status());
  if (flags->Has("help")) return PrintHelp(context, "list");
  for (const scenarios::Scenario* scenario : context.registry.All()) {
    if (!flags->Has("bugs")) {
      std::fprintf(context.out, "%-20s %s\n", scenario->name.c_str(), scenario->summary.c_str());
      continue;
    }
    for (const scenarios::BugInfo& bug : scenario->bugs) {
      std::fprintf(context.out, "%-24s %-12s %s\n", bug.name.c_str(), scenario->name.c_str(),
                   bug.summary.c_str());
    }
  }
  return kExitOk;
}

void PrintRunReport(const CommandContext& context, const scenarios::RunResult& result,
                    const std::string& token, bool plan_in_full) {
  std::FILE* err = context.err;
  std::fprintf(err, "  swarm: %s\n", result.swarm.c_str());
  std::fprintf(err, "  fault plan: %zu faults\n", result.fault_plan.faults.size());
  if (plan_in_full) {
    for (const sim::Fault& fault : result.fault_plan.faults) {
      std::fprintf(err, "    %s\n", fault.ToString().c_str());
    }
  }
  std::fprintf(err, "  token: %s\n", token.c_str());
  std::string marks;
  for (const std::string& mark : result.marks_hit) marks += (marks.empty() ? "" : ", ") + mark;
  std::fprintf(err, "  marks hit: %s\n", marks.empty() ? "(none)" : marks.c_str());
  if (!result.internal_error.empty()) {
    std::fprintf(err, "  INTERNAL ERROR: %s\n", result.internal_error.c_str());
  }
  for (const scenarios::Violation& violation : result.violations) {
    std::fprintf(err, "  VIOLATION %s\n", violation.ToString().c_str());
  }
  std::fprintf(err, "  %s: trace_hash=%s events=%llu sim=%s wall=%lldms\n",
               result.ok ? "ok" : "FAILED", scenarios::HashToHex(result.trace_hash).c_str(),
               static_cast<unsigned long long>(result.events),
               sim::Duration::Nanos(result.sim_ns).ToString().c_str(),
               static_cast<long long>(result.wall_ms));
}

int RunCommand(const CommandContext& context, const std::vector<std::string>& arguments) {
  absl::StatusOr<ParsedFlags> flags = ParseFlags({{"scenario", true},
                                                  {"seed", true},
                                                  {"protocol", true},
                                                  {"bug", true, true},
                                                  {"json"},
                                                  {"trace", true},
                                                  {"perfetto", true},
                                                  {"check-determinism"},
                                                  {"max-steps", true}},
                                                 arguments, "run");
  if (!flags.ok()) return UsageError(context, flags.status());
  if (flags->Has("help")) return PrintHelp(context, "run");
  if (!flags->Has("scenario") || !flags->Has("seed")) {
    return UsageError(context, absl::InvalidArgumentError(
                                   "run needs --scenario and --seed; see 'storsim help run'"));
  }
  scenarios::RunOptions options;
  options.scenario = flags->Get("scenario");
  absl::StatusOr<uint64_t> seed = ParseUnsigned(flags->Get("seed"), "--seed");
  if (!seed.ok()) return UsageError(context, seed.status(), "run");
  options.seed = *seed;
  options.protocol = flags->Get("protocol");
  for (const std::string& bug : flags->GetAll("bug")) options.bugs.insert(bug);
  options.ndjson_trace_path = flags->Get("trace");
  options.perfetto_trace_path = flags->Get("perfetto");
  if (flags->Has("max-steps")) {
    absl::StatusOr<uint64_t> steps = ParseUnsigned(flags->Get("max-steps"), "--max-steps");
    if (!steps.ok() || *steps == 0) {
      return UsageError(context,
                        absl::InvalidArgumentError(
                            "--max-steps needs a positive integer; see 'storsim help run'"));
    }
    options.limits.steps_max = *steps;
  }
  for (const std::string* path : {&options.ndjson_trace_path, &options.perfetto_trace_path}) {
    if (path->empty()) continue;
    std::FILE* probe = std::fopen(path->c_str(), "w");
    if (probe == nullptr) {
      return UsageError(
          context, absl::InvalidArgumentError("cannot write trace file '" + *path + "'"), "run");
    }
    std::fclose(probe);
  }
  if (absl::Status valid = scenarios::ValidateOptions(context.registry, options); !valid.ok()) {
    return UsageError(context, absl::InvalidArgumentError(std::string(valid.message()) +
                                                          "; see 'storsim list [--bugs]'"));
  }
  std::string bugs;
  for (const std::string& bug : options.bugs) bugs += (bugs.empty() ? "" : ",") + bug;
  std::fprintf(context.err, "storsim run: scenario=%s seed=%llu build=%s protocol=%s bugs=%s\n",
               options.scenario.c_str(), static_cast<unsigned long long>(options.seed),
               context.build_id.c_str(), options.protocol.empty() ? "-" : options.protocol.c_str(),
               bugs.empty() ? "-" : bugs.c_str());

  // determinism: ok (wall time is measured for reporting only, in cli/)
  const auto started = std::chrono::steady_clock::now();
  scenarios::RunResult result;
  if (flags->Has("check-determinism")) {
    const scenarios::DeterminismReport report =
        scenarios::CheckDeterminism(context.registry, options);
    result = report.first;
    std::fprintf(context.err, "  %s\n", report.ToString().c_str());
    if (!report.deterministic) {
      result.violations.push_back(scenarios::Violation{
          "DETERMINISM", sim::Instant::FromNanos(result.sim_ns), report.ToString()});
      result.ok = false;
    }
  } else {
    result = scenarios::RunScenario(context.registry, options);
  }
  // determinism: ok (wall time for reporting only)
  result.wall_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::steady_clock::now() - started)
                       .count();
  const std::string token = TokenOf(result, context.build_id);
  PrintRunReport(context, result, token, /*plan_in_full=*/true);
  if (flags->Has("json")) {
    std::fprintf(context.out, "%s\n", RunResultJson(result, token, context.build_id).c_str());
  }
  if (!result.internal_error.empty()) return kExitInternal;
  return result.ok ? kExitOk : kExitViolation;
}

}  // namespace storsim::cli
