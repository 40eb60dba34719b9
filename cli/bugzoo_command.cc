// `storsim bugzoo`: measures how fast the harness catches each planted defect (fuzz/bugzoo.h) and
// prints the table BUGZOO.md carries: per defect, the best scenario, the invariant that caught it,
// median and worst seeds-to-detect over independent sweeps, and the size of the shrunk case.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>

#include "cli/commands.h"
#include "cli/flags.h"
#include "fuzz/bugzoo.h"
#include "scenarios/runner.h"

namespace storsim::cli {
namespace {

constexpr uint64_t kSweepsMax = 1000;
constexpr uint64_t kMaxSeedsMax = uint64_t{1} << 32;

absl::StatusOr<uint64_t> ParseInRange(const ParsedFlags& flags, const std::string& name,
                                      uint64_t fallback, uint64_t min, uint64_t max) {
  if (!flags.Has(name)) return fallback;
  absl::StatusOr<uint64_t> value = ParseUnsigned(flags.Get(name), "--" + name);
  if (!value.ok() || *value < min || *value > max) {
    return absl::InvalidArgumentError("--" + name + " must be an integer in " +
                                      std::to_string(min) + ".." + std::to_string(max));
  }
  return *value;
}

// --expect BUG=INV,INV (repeatable).
absl::Status ParseExpect(const ParsedFlags& flags,
                         std::map<std::string, std::vector<std::string>>* expected) {
  for (const std::string& text : flags.GetAll("expect")) {
    const size_t equals = text.find('=');
    if (equals == std::string::npos || equals == 0 || equals + 1 == text.size()) {
      return absl::InvalidArgumentError("--expect '" + text + "' is not BUG=INV[,INV...]");
    }
    std::vector<std::string>& list = (*expected)[text.substr(0, equals)];
    size_t start = equals + 1;
    for (size_t guard = 0; guard <= text.size() && start <= text.size(); ++guard) {
      const size_t comma = std::min(text.find(',', start), text.size());
      if (comma == start) {
        return absl::InvalidArgumentError("--expect '" + text + "' has an empty invariant");
      }
      list.push_back(text.substr(start, comma - start));
      start = comma + 1;
    }
  }
  return absl::OkStatus();
}

}  // namespace

int BugzooCommand(const CommandContext& context, const std::vector<std::string>& arguments) {
  absl::StatusOr<ParsedFlags> flags = ParseFlags({{"scenario", true},
                                                  {"bug", true},
                                                  {"sweeps", true},
                                                  {"max-seeds", true},
                                                  {"first-seed", true},
                                                  {"jobs", true},
                                                  {"shrink-runs", true},
                                                  {"expect", true, true},
                                                  {"knob", true, true},
                                                  {"json"},
                                                  {"markdown", true}},
                                                 arguments, "bugzoo");
  if (!flags.ok()) return UsageError(context, flags.status(), "bugzoo");
  if (flags->Has("help")) {
    std::fputs(HelpText("bugzoo").c_str(), context.out);
    return kExitOk;
  }
  fuzz::BugzooOptions options;
  options.build_id = context.build_id;
  absl::StatusOr<std::map<std::string, int64_t>> knobs = ParseKnobFlags(*flags);
  if (!knobs.ok()) return UsageError(context, knobs.status(), "bugzoo");
  options.knobs = *std::move(knobs);
  absl::StatusOr<uint64_t> sweeps = ParseInRange(*flags, "sweeps", 20, 1, kSweepsMax);
  absl::StatusOr<uint64_t> max_seeds = ParseInRange(*flags, "max-seeds", 2000, 1, kMaxSeedsMax);
  absl::StatusOr<uint64_t> first_seed = ParseInRange(*flags, "first-seed", 1, 0, kMaxSeedsMax);
  absl::StatusOr<uint64_t> jobs = ParseInRange(*flags, "jobs", 1, 1, 256);
  absl::StatusOr<uint64_t> shrink_runs = ParseInRange(*flags, "shrink-runs", 200, 0, 100'000);
  for (const auto* parsed : {&sweeps, &max_seeds, &first_seed, &jobs, &shrink_runs}) {
    if (!parsed->ok()) return UsageError(context, parsed->status(), "bugzoo");
  }
  options.sweeps = static_cast<uint32_t>(*sweeps);
  options.max_seeds = *max_seeds;
  options.first_seed = *first_seed;
  options.jobs = static_cast<int>(*jobs);
  options.shrink_runs = static_cast<uint32_t>(*shrink_runs);
  if (absl::Status expect = ParseExpect(*flags, &options.expected_override); !expect.ok()) {
    return UsageError(context, expect, "bugzoo");
  }

  const std::string scenario_name = flags->Get("scenario", "all");
  absl::StatusOr<std::vector<const scenarios::Scenario*>> selected =
      SelectedScenarios(context, *flags);
  if (!selected.ok()) return UsageError(context, selected.status(), "list");
  for (const scenarios::Scenario* scenario : *selected) {
    options.scenarios.push_back(scenario->name);
  }
  const std::string bug_name = flags->Get("bug", "all");
  std::set<std::string> bugs;  // name order
  for (const scenarios::Scenario* scenario : *selected) {
    for (const scenarios::BugInfo& bug : scenario->bugs) {
      if (bug_name == "all" || bug.name == bug_name) bugs.insert(bug.name);
    }
  }
  if (bugs.empty()) {
    return UsageError(context,
                      absl::InvalidArgumentError(
                          bug_name == "all" ? "the selected scenarios have no bugs"
                                            : "no selected scenario has bug '" + bug_name +
                                                  "'; see 'storsim list --bugs'"),
                      "bugzoo");
  }
  options.bugs.assign(bugs.begin(), bugs.end());
  for (const auto& [bug, invariants] : options.expected_override) {
    if (bugs.count(bug) == 0) {
      return UsageError(context,
                        absl::InvalidArgumentError("--expect names bug '" + bug +
                                                   "', which is not measured"),
                        "bugzoo");
    }
  }
  std::fprintf(context.err,
               "storsim bugzoo: %zu defects, scenario=%s, %u sweeps of at most %llu seeds from "
               "seed %llu, jobs=%d, build=%s\n",
               options.bugs.size(), scenario_name.c_str(), options.sweeps,
               static_cast<unsigned long long>(options.max_seeds),
               static_cast<unsigned long long>(options.first_seed), options.jobs,
               context.build_id.c_str());

  absl::StatusOr<std::vector<fuzz::BugDetection>> measured =
      fuzz::MeasureBugzoo(context.registry, options, [&](const std::string& line) {
        std::fprintf(context.err, "%s\n", line.c_str());
        std::fflush(context.err);
      });
  if (!measured.ok()) {
    if (measured.status().code() == absl::StatusCode::kInvalidArgument) {
      return UsageError(context, measured.status(), "bugzoo");
    }
    std::fprintf(context.err, "storsim bugzoo: %s\n",
                 std::string(measured.status().message()).c_str());
    return kExitInternal;
  }
  bool task_errors = false;
  for (const fuzz::BugDetection& detection : *measured) {
    for (const fuzz::ScenarioDetection& per_scenario : detection.scenarios) {
      for (const fuzz::SweepDetection& sweep : per_scenario.sweeps) {
        task_errors = task_errors || !sweep.error.empty();
      }
    }
    if (flags->Has("json")) {
      std::fprintf(context.out, "%s\n", detection.ToJson().Dump().c_str());
    }
  }
  const std::string table = fuzz::BugzooMarkdown(*measured, options);
  if (!flags->Has("json")) std::fputs(table.c_str(), context.out);
  if (flags->Has("markdown")) {
    std::ofstream out(flags->Get("markdown"));
    out << table;
    out.close();
    if (!out) {
      std::fprintf(context.err, "storsim bugzoo: cannot write %s\n",
                   flags->Get("markdown").c_str());
      return kExitInternal;
    }
    std::fprintf(context.err, "storsim bugzoo: table written to %s\n",
                 flags->Get("markdown").c_str());
  }
  return task_errors ? kExitInternal : kExitOk;
}

}  // namespace storsim::cli
