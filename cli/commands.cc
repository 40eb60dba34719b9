// The list, run and help commands, dispatch, and the per-run report lines.
#include "cli/commands.h"

#include <chrono>
#include <map>
#include <vector>

#include "cli/flags.h"
#include "cli/json.h"
#include "scenarios/runner.h"
#include "scenarios/storage/fault_text.h"
#include "scenarios/token.h"
#include "sim/check.h"

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
    "  shrink TOKEN         minimize a failing run's fault plan and knobs; prints the new token\n"
    "  bugzoo               measure seeds-to-detect of each planted defect (BUGZOO.md)\n"
    "  compare-protocols    compare the leadership protocols' 503 and dual-actor windows\n"
    "  help [command]       this text, or a command's flags\n"
    "\n"
    "exit codes: 0 every invariant held, 1 an invariant was violated, 2 bad usage,\n"
    "            3 internal error\n";

constexpr const char* kListHelp =
    "usage: storsim list [--bugs]\n"
    "\n"
    "Prints each scenario as '<name>  <summary>'. With --bugs, prints each switchable defect\n"
    "once, as '<bug>  <summary>', and under it the scenarios that can switch it on.\n";

constexpr const char* kRunHelp =
    "usage: storsim run --scenario S --seed N [--protocol P] [--bug B]... [--json]\n"
    "                   [--trace F] [--perfetto F] [--check-determinism] [--max-steps N]\n"
    "                   [--knob NAME=VALUE]...\n"
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
    "  --knob NAME=VALUE    set a workload knob instead of drawing it (repeatable; a run prints\n"
    "                       its knobs; a knob the scenario does not have is an error)\n"
    "\n"
    "The seed, build id, options, swarm, knobs and replay token are printed on stderr.\n";

constexpr const char* kFuzzHelp =
    "usage: storsim fuzz [--scenario S|all] (--seeds N | --time D) [--start-seed K]\n"
    "                    [--bug B]... [--knob NAME=VALUE]... [--json] [--max-steps N]\n"
    "                    [--determinism-percent P] [--protocol P] [--jobs J] [--shard K/N]\n"
    "                    [--out D] [--report D]\n"
    "\n"
    "  --scenario S|all     one scenario, or every scenario (default: all)\n"
    "  --seeds N            run seeds K..K+N-1 of each scenario\n"
    "  --time D             run seeds from K on until D of wall time passed (500ms, 30s, 10m, 2h)\n"
    "  --start-seed K       first seed (default 1)\n"
    "  --bug B              switch on a planted defect in the scenarios that know it (repeatable)\n"
    "  --knob NAME=VALUE    set a workload knob in every run instead of drawing it (repeatable;\n"
    "                       a scenario without that knob ignores it; tokens record the value)\n"
    "  --json               one JSON object per run, then one summary object, on stdout\n"
    "  --max-steps N        scheduler step limit per run\n"
    "  --determinism-percent P  replay P% of runs (default 5, the same runs in every mode) and\n"
    "                       compare traces; a difference is a DETERMINISM failure naming the\n"
    "                       first differing event, and the sweep exits 3\n"
    "  --protocol P         leadership protocol of the storage scenarios\n"
    "  --jobs J             J worker processes\n"
    "  --shard K/N          run shard K of N of the same runs (for nightly batch jobs)\n"
    "  --out D              write D/summary.json and D/failures/*.json (for storsim merge)\n"
    "  --report D           write D/report.html, and a replayed timeline per distinct failure\n"
    "With any of the last five, the sweep runs on the fuzz library and forked workers: --json\n"
    "prints only the summary; each failing seed is named on stderr as it is found (with the\n"
    "command that replays it) and every failure is listed, with its token, at the end.\n"
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
    "Minimizes the token's fault plan and workload knobs (halving each toward 1, then lowering\n"
    "it step by step) while the same invariant still fails (at most N runs, default 300),\n"
    "prints the steps, the shrunk plan and knobs on stderr and the new token on stdout.\n"
    "Exit 1 when a shrunk failing case was found, 0 when the token's run does not fail.\n";

constexpr const char* kBugzooHelp =
    "usage: storsim bugzoo [--scenario S|all] [--bug B|all] [--sweeps N] [--max-seeds M]\n"
    "                      [--first-seed K] [--jobs J] [--shrink-runs R] [--expect B=INV,...]\n"
    "                      [--knob NAME=VALUE]... [--json] [--markdown FILE]\n"
    "\n"
    "For each defect (default: every defect of the selected scenarios) and each selected scenario\n"
    "that knows it, runs N independent sweeps (default 20) over disjoint seed ranges (sweep i\n"
    "starts at K + i*M), each stopping at the first run whose first invariant is one the defect\n"
    "should trip (parsed from its summary, or --expect), after at most M seeds (default 2000).\n"
    "Then per defect: the best scenario, the invariant that caught it, median and worst\n"
    "seeds-to-detect, and its first detection shrunk (at most R runs, default 200; 0: no shrink).\n"
    "  --jobs J            J worker processes (sweeps run side by side)\n"
    "  --knob NAME=VALUE   set a workload knob in every run instead of drawing it (repeatable)\n"
    "  --json              one JSON object per defect on stdout instead of the table\n"
    "  --markdown FILE     also write the table to FILE (it replaces BUGZOO.md's table)\n"
    "Progress lines go to stderr. Exit 0 when measured (caught or not), 2 bad usage, 3 error.\n";

constexpr const char* kCompareProtocolsHelp =
    "usage: storsim compare-protocols [--seeds N] [--start-seed K]\n"
    "                                 [--scenarios S1,S2] [--protocols P1,P2] [--jobs J]\n"
    "                                 [--json] [--html FILE]\n"
    "\n"
    "Runs seeds K..K+N-1 (default 20 seeds from 1) of each scenario (default: controller-roll,\n"
    "clock-skew-leases) with each leadership protocol (default: step-down, naive, lease,\n"
    "lease-fenced) and compares, per scenario and protocol: the 503 window (no live Leader)\n"
    "p50/p99/max over every window of every run, the dual-actor window (total, longest, runs\n"
    "with one), the runs failing S1, S2, S3, S4 or another invariant (a run stops at its first\n"
    "violation), the generations issued and the 503 responses.\n"
    "  --jobs J       J worker processes\n"
    "  --json         one JSON object on stdout (the table then goes to stderr)\n"
    "  --html FILE    also write a self-contained HTML page (table and bar charts) to FILE\n"
    "Exit 0 when every run finished (failing runs are part of the comparison), 2 bad usage,\n"
    "3 when a run had an internal error.\n";

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
  if (command == "compare-protocols") return kCompareProtocolsHelp;
  if (command == "bugzoo") return kBugzooHelp;
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

absl::StatusOr<std::map<std::string, int64_t>> ParseKnobFlags(const ParsedFlags& flags) {
  std::map<std::string, int64_t> knobs;
  for (const std::string& text : flags.GetAll("knob")) {
    absl::StatusOr<std::map<std::string, int64_t>> one = scenarios::DecodeKnobs(text);
    if (!one.ok() || one->size() != 1) {
      return absl::InvalidArgumentError(
          "--knob '" + text + "' is not NAME=VALUE with a [a-z0-9_] name and an integer value" +
          (one.ok() ? std::string() : ": " + std::string(one.status().message())));
    }
    if (!knobs.insert(*one->begin()).second) {
      return absl::InvalidArgumentError("--knob " + one->begin()->first + " is given twice");
    }
  }
  return knobs;
}

absl::Status CheckKnobsUsed(const scenarios::RunOptions& options,
                            const scenarios::RunResult& result) {
  std::string unknown;
  for (const auto& [name, value] : options.knobs) {
    if (result.knobs.count(name) == 0) unknown += (unknown.empty() ? "'" : ", '") + name + "'";
  }
  if (unknown.empty() || !result.internal_error.empty()) return absl::OkStatus();
  std::string known;
  for (const auto& [name, value] : result.knobs) known += (known.empty() ? "" : ", ") + name;
  return absl::InvalidArgumentError("scenario '" + options.scenario + "' has no knob " + unknown +
                                    "; its knobs: " + (known.empty() ? "(none)" : known));
}

absl::StatusOr<uint32_t> DeterminismPercent(const ParsedFlags& flags) {
  constexpr uint32_t kDefaultPercent = 5;
  if (!flags.Has("determinism-percent")) return kDefaultPercent;
  absl::StatusOr<uint64_t> percent =
      ParseUnsigned(flags.Get("determinism-percent"), "--determinism-percent");
  if (!percent.ok() || *percent > 100) {
    return absl::InvalidArgumentError("--determinism-percent must be an integer in 0..100");
  }
  return static_cast<uint32_t>(*percent);
}

absl::StatusOr<std::vector<const scenarios::Scenario*>> SelectedScenarios(
    const CommandContext& context, const ParsedFlags& flags) {
  const std::string name = flags.Get("scenario", "all");
  if (name == "all") return context.registry.All();
  if (const scenarios::Scenario* one = context.registry.Find(name)) {
    return std::vector<const scenarios::Scenario*>{one};
  }
  scenarios::RunOptions probe;
  probe.scenario = name;
  absl::Status unknown = scenarios::ValidateOptions(context.registry, probe);
  SIM_CHECK(!unknown.ok());  // Find failed, so validation names the unknown scenario
  return unknown;
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
  if (command == "compare-protocols") return CompareProtocolsCommand(context, rest);
  if (command == "bugzoo") return BugzooCommand(context, rest);
  return UsageError(
      context, absl::InvalidArgumentError("unknown command '" + command + "'; see 'storsim help'"));
}

int ListCommand(const CommandContext& context, const std::vector<std::string>& arguments) {
  absl::StatusOr<ParsedFlags> flags = ParseFlags({{"bugs"}}, arguments, "list");
  if (!flags.ok()) return UsageError(context, flags.status());
  if (flags->Has("help")) return PrintHelp(context, "list");
  if (!flags->Has("bugs")) {
    for (const scenarios::Scenario* scenario : context.registry.All()) {
      std::fprintf(context.out, "%-20s %s\n", scenario->name.c_str(), scenario->summary.c_str());
    }
    return kExitOk;
  }
  // Each defect once, in name order, with the scenarios that can switch it on.
  struct Known {
    std::string summary;
    std::vector<std::string> scenarios;
  };
  std::map<std::string, Known> bugs;
  for (const scenarios::Scenario* scenario : context.registry.All()) {
    for (const scenarios::BugInfo& bug : scenario->bugs) {
      Known& known = bugs[bug.name];
      known.summary = bug.summary;
      known.scenarios.push_back(scenario->name);
    }
  }
  for (const auto& [name, known] : bugs) {
    std::string where;
    for (const std::string& scenario : known.scenarios) {
      where += (where.empty() ? "" : ", ") + scenario;
    }
    std::fprintf(context.out, "%-42s %s\n%-42s   scenarios: %s\n", name.c_str(),
                 known.summary.c_str(), "", where.c_str());
  }
  return kExitOk;
}

void PrintRunReport(const CommandContext& context, const scenarios::RunResult& result,
                    const std::string& token, bool plan_in_full) {
  std::FILE* err = context.err;
  std::fprintf(err, "  swarm: %s\n", result.swarm.c_str());
  std::fprintf(err, "  knobs: %s\n", scenarios::KnobsToString(result.knobs).c_str());
  std::fprintf(err, "  fault plan: %zu faults\n", result.fault_plan.faults.size());
  if (plan_in_full) {
    for (const sim::Fault& fault : result.fault_plan.Sorted().faults) {
      std::fprintf(err, "    %s\n", scenarios::DescribeFault(fault).c_str());
    }
  }
  std::fprintf(err, "  token: %s\n", token.c_str());
  std::string marks;
  for (const std::string& mark : result.marks_hit) marks += (marks.empty() ? "" : ", ") + mark;
  std::fprintf(err, "  marks hit: %s\n", marks.empty() ? "(none)" : marks.c_str());
  std::fprintf(err, "  metrics: %s\n", RunMetricsLine(result).c_str());
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
                                                  {"max-steps", true},
                                                  {"knob", true, true}},
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
  absl::StatusOr<std::map<std::string, int64_t>> knobs = ParseKnobFlags(*flags);
  if (!knobs.ok()) return UsageError(context, knobs.status(), "run");
  options.knobs = *std::move(knobs);
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
  if (absl::Status used = CheckKnobsUsed(options, result); !used.ok()) {
    return UsageError(context, used, "run");
  }
  const std::string token = TokenOf(result, context.build_id);
  PrintRunReport(context, result, token, /*plan_in_full=*/true);
  if (flags->Has("json")) {
    std::string json = RunResultJson(result, token, context.build_id);
    // The run metrics go in as the object's last key (until RunResultJson carries them).
    SIM_CHECK(!json.empty() && json.back() == '}');
    json.insert(json.size() - 1, ",\"metrics\":" + RunMetricsJson(result));
    std::fprintf(context.out, "%s\n", json.c_str());
  }
  if (!result.internal_error.empty()) return kExitInternal;
  return result.ok ? kExitOk : kExitViolation;
}

}  // namespace storsim::cli
