// `storsim fuzz`: a sequential seed sweep over one or every scenario, with a progress line, the
// failures' tokens, a share of runs replayed for determinism (the same runs the library sweep
// picks, fuzz::SampledForDeterminism), and a summary (seeds, failures, seeds per second,
// simulated seconds per wall second, coverage marks never hit). With --jobs/--shard/--out/
// --report/--protocol the sweep runs on the fuzz library instead (sweep_command.cc).
#include <unistd.h>

#include <chrono>
#include <map>
#include <set>

#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/json.h"
#include "fuzz/sweep.h"
#include "scenarios/runner.h"
#include "scenarios/token.h"
#include "sim/check.h"

namespace storsim::cli {
namespace {

// determinism: ok (the whole file measures wall time for progress and rates only, in cli/)
using Clock = std::chrono::steady_clock;

constexpr size_t kFailuresKeptMax = 1000;
constexpr uint64_t kSeedsMax = uint64_t{1} << 40;

struct Failure {
  std::string token;
  std::string scenario;
  uint64_t seed = 0;
  std::string invariant;
};

struct Sweep {
  uint64_t runs = 0;
  uint64_t failures = 0;
  uint64_t internal_errors = 0;
  uint64_t determinism_checked = 0;
  uint64_t nondeterministic = 0;
  int64_t sim_ns = 0;
  std::vector<Failure> kept;  // the first kFailuresKeptMax
  std::set<std::string> marks_hit;
};

double Seconds(Clock::duration duration) { return std::chrono::duration<double>(duration).count(); }

class Progress {
 public:
  explicit Progress(std::FILE* err) : err_(err), live_(isatty(fileno(err)) != 0) {}

  void Update(const Sweep& sweep, uint64_t seed, Clock::time_point started, bool force) {
    const Clock::time_point now = Clock::now();
    const auto interval = live_ ? std::chrono::milliseconds(200) : std::chrono::seconds(5);
    if (!force && now - last_ < interval) return;
    last_ = now;
    const double elapsed = Seconds(now - started);
    std::fprintf(err_,
                 "%sfuzz: seed %llu  runs %llu  failures %llu  %.1f runs/s  %.0f sim-s/s  %.0fs%s",
                 live_ ? "\r" : "", static_cast<unsigned long long>(seed),
                 static_cast<unsigned long long>(sweep.runs),
                 static_cast<unsigned long long>(sweep.failures),
                 elapsed > 0 ? static_cast<double>(sweep.runs) / elapsed : 0.0,
                 elapsed > 0 ? static_cast<double>(sweep.sim_ns) / 1e9 / elapsed : 0.0, elapsed,
                 live_ ? "   " : "\n");
    std::fflush(err_);
    dirty_ = live_;
  }
  // Ends the live line before other output.
  void Break() {
    if (dirty_) std::fputc('\n', err_);
    dirty_ = false;
  }

 private:
  std::FILE* err_;
  bool live_;
  bool dirty_ = false;
  Clock::time_point last_{};
};

}  // namespace

int FuzzCommand(const CommandContext& context, const std::vector<std::string>& arguments) {
  absl::StatusOr<ParsedFlags> flags = ParseFlags({{"scenario", true},
                                                  {"seeds", true},
                                                  {"time", true},
                                                  {"start-seed", true},
                                                  {"bug", true, true},
                                                  {"knob", true, true},
                                                  {"json"},
                                                  {"max-steps", true},
                                                  {"protocol", true},
                                                  {"jobs", true},
                                                  {"shard", true},
                                                  {"out", true},
                                                  {"report", true},
                                                  {"determinism-percent", true}},
                                                 arguments, "fuzz");
  if (!flags.ok()) return UsageError(context, flags.status());
  if (flags->Has("help")) {
    std::fputs(HelpText("fuzz").c_str(), context.out);
    return kExitOk;
  }
  if (flags->Has("seeds") == flags->Has("time")) {
    return UsageError(context,
                      absl::InvalidArgumentError("fuzz needs exactly one of --seeds N or --time D; "
                                                 "see 'storsim help fuzz'"));
  }
  uint64_t seeds = kSeedsMax;
  Clock::duration budget = Clock::duration::max();
  if (flags->Has("seeds")) {
    absl::StatusOr<uint64_t> parsed = ParseUnsigned(flags->Get("seeds"), "--seeds");
    if (!parsed.ok()) return UsageError(context, parsed.status(), "fuzz");
    if (*parsed == 0 || *parsed > kSeedsMax) {
      return UsageError(context, absl::InvalidArgumentError("--seeds must be in 1..2^40"));
    }
    seeds = *parsed;
  } else {
    absl::StatusOr<sim::Duration> parsed = ParseDuration(flags->Get("time"), "--time");
    if (!parsed.ok()) return UsageError(context, parsed.status(), "fuzz");
    budget = std::chrono::nanoseconds(parsed->nanos());
  }
  absl::StatusOr<uint64_t> start = ParseUnsigned(flags->Get("start-seed", "1"), "--start-seed");
  if (!start.ok()) return UsageError(context, start.status(), "fuzz");
  absl::StatusOr<uint32_t> determinism_percent = DeterminismPercent(*flags);
  if (!determinism_percent.ok()) return UsageError(context, determinism_percent.status(), "fuzz");

  // The scenarios to sweep, and which requested bugs each of them takes.
  const std::string scenario_name = flags->Get("scenario", "all");
  absl::StatusOr<std::vector<const scenarios::Scenario*>> chosen =
      SelectedScenarios(context, *flags);
  if (!chosen.ok()) return UsageError(context, chosen.status(), "list");
  const std::vector<const scenarios::Scenario*>& selected = *chosen;
  const std::vector<std::string> bugs = flags->GetAll("bug");
  for (const std::string& bug : bugs) {
    bool known = false;
    for (const scenarios::Scenario* scenario : selected) known = known || scenario->KnowsBug(bug);
    if (!known) {
      return UsageError(context, absl::InvalidArgumentError("no selected scenario has bug '" + bug +
                                                            "'; see 'storsim list --bugs'"));
    }
  }
  absl::StatusOr<std::map<std::string, int64_t>> knobs = ParseKnobFlags(*flags);
  if (!knobs.ok()) return UsageError(context, knobs.status(), "fuzz");
  if (flags->Has("protocol") || flags->Has("jobs") || flags->Has("shard") || flags->Has("out") ||
      flags->Has("report")) {
    std::vector<std::string> names;
    for (const scenarios::Scenario* scenario : selected) names.push_back(scenario->name);
    const int64_t budget_ms =
        flags->Has("time") ? std::chrono::duration_cast<std::chrono::milliseconds>(budget).count()
                           : 0;
    return SweepCommand(context, *flags, names, bugs, *start,
                        flags->Has("seeds") ? seeds : 0, budget_ms);
  }
  uint64_t steps_max = scenarios::RunLimits{}.steps_max;
  if (flags->Has("max-steps")) {
    absl::StatusOr<uint64_t> steps = ParseUnsigned(flags->Get("max-steps"), "--max-steps");
    if (!steps.ok() || *steps == 0) {
      return UsageError(context,
                        absl::InvalidArgumentError("--max-steps needs a positive integer"));
    }
    steps_max = *steps;
  }
  std::string bug_text;
  for (const std::string& bug : bugs) bug_text += (bug_text.empty() ? "" : ",") + bug;
  const std::string knob_text = knobs->empty() ? "-" : scenarios::KnobsToString(*knobs);
  std::fprintf(context.err,
               "storsim fuzz: scenario=%s start_seed=%llu %s build=%s bugs=%s knobs=%s\n",
               scenario_name.c_str(), static_cast<unsigned long long>(*start),
               flags->Has("seeds") ? ("seeds=" + flags->Get("seeds")).c_str()
                                   : ("time=" + flags->Get("time")).c_str(),
               context.build_id.c_str(), bug_text.empty() ? "-" : bug_text.c_str(),
               knob_text.c_str());

  const bool json = flags->Has("json");
  Sweep sweep;
  Progress progress(context.err);
  const Clock::time_point started = Clock::now();
  bool out_of_time = false;
  for (uint64_t index = 0; index < seeds && !out_of_time; ++index) {
    const uint64_t seed = *start + index;
    for (const scenarios::Scenario* scenario : selected) {
      if (Clock::now() - started >= budget) {
        out_of_time = true;
        break;
      }
      scenarios::RunOptions options;
      options.scenario = scenario->name;
      options.seed = seed;
      options.limits.steps_max = steps_max;
      options.knobs = *knobs;
      for (const std::string& bug : bugs) {
        if (scenario->KnowsBug(bug)) options.bugs.insert(bug);
      }
      const Clock::time_point run_started = Clock::now();
      scenarios::RunResult result;
      if (fuzz::SampledForDeterminism(scenario->name, seed, *determinism_percent)) {
        scenarios::DeterminismReport report =
            scenarios::CheckDeterminism(context.registry, options);
        result = std::move(report.first);
        ++sweep.determinism_checked;
        if (!report.deterministic) {
          // First, so that it is the failure's signature: the run's own verdict cannot be
          // trusted when two replays of it differ.
          ++sweep.nondeterministic;
          result.violations.insert(result.violations.begin(),
                                   scenarios::Violation{"DETERMINISM",
                                                        sim::Instant::FromNanos(result.sim_ns),
                                                        report.ToString()});
          result.ok = false;
        }
      } else {
        result = scenarios::RunScenario(context.registry, options);
      }
      result.wall_ms =
          std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - run_started).count();
      ++sweep.runs;
      sweep.sim_ns += result.sim_ns;
      sweep.marks_hit.insert(result.marks_hit.begin(), result.marks_hit.end());
      const std::string token = TokenOf(result, context.build_id);
      if (!result.ok) {
        ++sweep.failures;
        if (!result.internal_error.empty()) ++sweep.internal_errors;
        if (sweep.kept.size() < kFailuresKeptMax) {
          sweep.kept.push_back({token, scenario->name, seed, result.FirstInvariant()});
        }
        progress.Break();
        std::fprintf(context.err, "FAILED scenario=%s seed=%llu invariant=%s\n",
                     scenario->name.c_str(), static_cast<unsigned long long>(seed),
                     result.FirstInvariant().c_str());
        PrintRunReport(context, result, token, /*plan_in_full=*/false);
      }
      if (json) {
        std::fprintf(context.out, "%s\n", RunResultJson(result, token, context.build_id).c_str());
      }
      progress.Update(sweep, seed, started, /*force=*/false);
    }
  }
  progress.Update(sweep, *start + (sweep.runs == 0 ? 0 : (sweep.runs - 1) / selected.size()),
                  started, /*force=*/true);
  progress.Break();

  const double elapsed = std::max(Seconds(Clock::now() - started), 1e-9);
  std::vector<std::string> missed;
  for (const auto& [name, count] : sim::Marks::Global().counts()) {
    if (sweep.marks_hit.count(name) == 0) missed.push_back(name);
  }
  std::vector<std::string> failures;
  for (const Failure& failure : sweep.kept) {
    failures.push_back(JsonObject()
                           .String("token", failure.token)
                           .String("scenario", failure.scenario)
                           .Unsigned("seed", failure.seed)
                           .String("invariant", failure.invariant)
                           .Build());
  }
  const double seeds_per_second = static_cast<double>(sweep.runs) / elapsed;
  const double sim_per_wall = static_cast<double>(sweep.sim_ns) / 1e9 / elapsed;
  std::fprintf(context.err,
               "fuzz summary: %llu runs, %llu failures (%llu internal), %.1f seeds/s, "
               "%.0f simulated s per wall s, %llu replayed for determinism (%llu differed), "
               "marks never hit: %zu\n",
               static_cast<unsigned long long>(sweep.runs),
               static_cast<unsigned long long>(sweep.failures),
               static_cast<unsigned long long>(sweep.internal_errors), seeds_per_second,
               sim_per_wall, static_cast<unsigned long long>(sweep.determinism_checked),
               static_cast<unsigned long long>(sweep.nondeterministic), missed.size());
  if (json) {
    std::fprintf(context.out, "%s\n",
                 JsonObject()
                     .Unsigned("seeds", sweep.runs)
                     .Unsigned("failure_count", sweep.failures)
                     .Raw("failures", JsonArray(failures))
                     .Rate("seeds_per_sec", seeds_per_second)
                     .Rate("sim_seconds_per_wall_second", sim_per_wall)
                     .Unsigned("determinism_checked", sweep.determinism_checked)
                     .Unsigned("nondeterministic", sweep.nondeterministic)
                     .Raw("marks_missed", JsonStringArray(missed))
                     .Build()
                     .c_str());
  }
  // A replay that differs is a harness defect, as in the library sweep: exit 3.
  if (sweep.internal_errors > 0 || sweep.nondeterministic > 0) return kExitInternal;
  return sweep.failures > 0 ? kExitViolation : kExitOk;
}

}  // namespace storsim::cli
