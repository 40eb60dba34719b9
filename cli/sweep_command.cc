// The parallel and sharded form of `storsim fuzz` (--jobs, --shard K/N, --out D) and
// `storsim merge DIR...`: both run on the fuzz library (fuzz/sweep.h), which splits one index
// space of runs across worker processes and machines so that the merge of all shards equals the
// unsplit sweep. Outputs: DIR/summary.json and DIR/failures/<scenario>-<invariant>.json.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <vector>

#include "cli/commands.h"
#include "cli/flags.h"
#include "fuzz/sweep.h"
#include "reports/html.h"
#include "reports/timeline.h"
#include "scenarios/runner.h"
#include "scenarios/storage/fault_text.h"
#include "scenarios/token.h"

#include <filesystem>
#include <fstream>

namespace storsim::cli {
namespace {

// determinism: ok (wall time for the time budget and the rates, in cli/)
using Clock = std::chrono::steady_clock;

int64_t WallMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch())
      .count();
}

void PrintSummary(const CommandContext& context, const fuzz::SweepSummary& summary, bool json) {
  std::fprintf(context.err,
               "sweep summary: %llu runs, %llu failed, %zu distinct failures, %.1f seeds/s, "
               "%.0f simulated s per wall s, %llu replayed for determinism (%zu differed), "
               "marks never hit: %zu\n",
               static_cast<unsigned long long>(summary.runs),
               static_cast<unsigned long long>(summary.failed_runs), summary.failures.size(),
               summary.RunsPerSecond(), summary.SimSecondsPerWallSecond(),
               static_cast<unsigned long long>(summary.determinism_checked),
               summary.nondeterministic.size(), summary.MarksMissed().size());
  for (const auto& [signature, record] : summary.failures) {
    auto count = summary.failure_counts.find(signature);
    const uint64_t runs = count != summary.failure_counts.end() ? count->second : 1;
    std::fprintf(context.err, "  FAILED %s in %llu run(s), shortest seed=%llu: %s\n    storsim repro %s\n",
                 signature.c_str(), static_cast<unsigned long long>(runs),
                 static_cast<unsigned long long>(record.seed), record.detail.c_str(),
                 record.token.c_str());
    auto seeds = summary.failing_seeds.find(signature);
    if (runs > 1 && seeds != summary.failing_seeds.end()) {
      // The seeds, up to a screenful; summary.json (--out) has them all.
      constexpr size_t kPrinted = 30;
      std::string list;
      for (size_t i = 0; i < seeds->second.size() && i < kPrinted; ++i) {
        list += (i == 0 ? "" : " ") + std::to_string(seeds->second[i]);
      }
      if (seeds->second.size() > kPrinted) list += " ...";
      std::fprintf(context.err, "    seeds: %s\n", list.c_str());
    }
  }
  for (const fuzz::RunRecord& record : summary.nondeterministic) {
    std::fprintf(context.err, "  FAILED %s seed=%llu: DETERMINISM %s\n    storsim repro %s\n",
                 record.scenario.c_str(), static_cast<unsigned long long>(record.seed),
                 record.divergence.c_str(), record.token.c_str());
  }
  if (json) std::fprintf(context.out, "%s\n", summary.ToJson().Dump().c_str());
}

// Replays each distinct failure (at most kReportsMax) into DIR/failures/<n>.html and writes
// DIR/report.html for the whole sweep, linking them.
constexpr size_t kReportsMax = 20;

absl::Status WriteReports(const CommandContext& context, const fuzz::SweepSummary& summary,
                          const std::string& dir) {
  std::error_code error;
  std::filesystem::create_directories(dir + "/failures", error);
  if (error) return absl::InternalError("cannot create " + dir + "/failures: " + error.message());
  reports::SweepReportInput input;
  input.title = "storsim sweep";
  input.seeds = summary.runs;
  input.seeds_per_sec = summary.RunsPerSecond();
  input.sim_seconds_per_wall_second = summary.SimSecondsPerWallSecond();
  input.determinism_checked = summary.determinism_checked;
  input.nondeterministic = summary.nondeterministic.size();
  for (const auto& [name, stats] : summary.per_scenario) {
    input.scenarios.push_back({name, stats.runs, stats.failed_runs, stats.events, stats.sim_ns});
  }
  input.marks_missed = summary.MarksMissed();
  size_t written = 0;
  for (const auto& [signature, record] : summary.failures) {
    reports::SweepReportFailure failure{record.scenario, record.seed, record.invariant,
                                        record.detail, record.token, ""};
    absl::StatusOr<scenarios::Token> token = scenarios::DecodeToken(record.token);
    if (token.ok() && written < kReportsMax) {
      scenarios::RunOptions options;
      options.scenario = token->scenario;
      options.seed = token->seed;
      options.protocol = token->protocol;
      options.bugs = token->bugs;
      options.fault_plan = token->fault_plan;
      options.knobs = token->knobs;
      sim::MemoryTraceSink sink;
      options.observers.push_back(&sink);
      const scenarios::RunResult result = scenarios::RunScenario(context.registry, options);
      std::vector<reports::Violation> violations;
      for (const auto& v : result.violations) {
        violations.push_back({v.invariant, v.at.nanos(), v.detail});
      }
      reports::FailureReportInput page;
      page.scenario = record.scenario;
      page.seed = record.seed;
      page.token = record.token;
      page.verdict = result.ok ? "ok" : result.FirstInvariant();
      page.options = result.swarm;
      if (!result.knobs.empty()) {
        page.options += " knobs: " + scenarios::KnobsToString(result.knobs);
      }
      page.fault_plan = scenarios::DescribeFaultPlan(result.fault_plan);
      page.trace_hash = scenarios::HashToHex(result.trace_hash);
      page.timeline = reports::BuildTimeline(sink.events(), violations, result.sim_ns);
      page.events = sink.events();
      const std::string name = "failures/" + std::to_string(++written) + ".html";
      std::ofstream(dir + "/" + name) << reports::RenderFailureReport(page);
      failure.report_link = name;
    }
    input.failures.push_back(std::move(failure));
  }
  std::ofstream out(dir + "/report.html");
  out << reports::RenderSweepReport(input);
  out.close();
  if (!out) return absl::InternalError("cannot write " + dir + "/report.html");
  return absl::OkStatus();
}

int ExitFor(const fuzz::SweepSummary& summary) {
  if (!summary.nondeterministic.empty()) return kExitInternal;
  return summary.failed_runs > 0 ? kExitViolation : kExitOk;
}

}  // namespace

int SweepCommand(const CommandContext& context, const ParsedFlags& flags,
                 std::vector<std::string> scenarios, std::vector<std::string> bugs,
                 uint64_t first_seed, uint64_t seeds, int64_t budget_ms) {
  fuzz::SweepOptions options;
  options.scenarios = std::move(scenarios);
  options.first_seed = first_seed;
  options.seeds = seeds;
  options.bugs.insert(bugs.begin(), bugs.end());
  options.protocol = flags.Get("protocol");
  absl::StatusOr<std::map<std::string, int64_t>> knobs = ParseKnobFlags(flags);
  if (!knobs.ok()) return UsageError(context, knobs.status(), "fuzz");
  options.knobs = *std::move(knobs);
  options.build_id = context.build_id;
  absl::StatusOr<uint32_t> determinism_percent = DeterminismPercent(flags);
  if (!determinism_percent.ok()) return UsageError(context, determinism_percent.status(), "fuzz");
  options.determinism_percent = *determinism_percent;
  if (flags.Has("jobs")) {
    absl::StatusOr<uint64_t> jobs = ParseUnsigned(flags.Get("jobs"), "--jobs");
    if (!jobs.ok() || *jobs == 0 || *jobs > 256) {
      return UsageError(context, absl::InvalidArgumentError("--jobs must be in 1..256"), "fuzz");
    }
    options.jobs = static_cast<int>(*jobs);
  }
  if (flags.Has("shard")) {
    const std::string shard = flags.Get("shard");
    const size_t slash = shard.find('/');
    absl::StatusOr<uint64_t> index = ParseUnsigned(shard.substr(0, slash), "--shard K");
    absl::StatusOr<uint64_t> count =
        slash == std::string::npos ? absl::StatusOr<uint64_t>(absl::InvalidArgumentError(""))
                                   : ParseUnsigned(shard.substr(slash + 1), "--shard N");
    if (!index.ok() || !count.ok() || *count == 0 || *count > 1'000'000 || *index >= *count) {
      return UsageError(context,
                        absl::InvalidArgumentError("--shard takes K/N with 0 <= K < N, e.g. 3/16"),
                        "fuzz");
    }
    options.shard_index = static_cast<uint32_t>(*index);
    options.shard_count = static_cast<uint32_t>(*count);
  }
  const Clock::time_point started = Clock::now();
  fuzz::SweepHooks hooks;
  hooks.wall_now_ms = WallMillis;
  if (budget_ms > 0) {
    hooks.out_of_time = [started, budget_ms] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started)
                 .count() >= budget_ms;
    };
  }
  const bool live = isatty(fileno(context.err)) != 0;
  auto last = std::make_shared<Clock::time_point>();
  // Failures are named the moment a worker reports them (not only in the final list), so a long
  // sweep that is interrupted still leaves every failing seed it found on stderr.
  auto reported = std::make_shared<std::map<std::string, std::vector<uint64_t>>>();
  auto reported_runs = std::make_shared<uint64_t>(0);
  const std::string bug_flags = fuzz::ReplayFlags(options);
  hooks.progress = [&context, live, last, reported, reported_runs,
                    bug_flags](const fuzz::SweepSummary& summary) {
    if (summary.failed_runs > *reported_runs) {
      *reported_runs = summary.failed_runs;
      for (const auto& [signature, seeds] : summary.failing_seeds) {
        std::vector<uint64_t>& known = (*reported)[signature];
        for (uint64_t seed : seeds) {
          if (std::binary_search(known.begin(), known.end(), seed)) continue;
          const size_t slash = signature.find('/');
          std::fprintf(context.err,
                       "%sfuzz: FAILED %s seed %llu (storsim run --scenario %s --seed %llu%s)\n",
                       live ? "\r" : "", signature.c_str(), static_cast<unsigned long long>(seed),
                       signature.substr(0, slash).c_str(), static_cast<unsigned long long>(seed),
                       bug_flags.c_str());
        }
        known = seeds;  // sorted, as the summary keeps them
      }
      std::fflush(context.err);
    }
    const Clock::time_point now = Clock::now();
    if (now - *last < (live ? std::chrono::milliseconds(200) : std::chrono::seconds(5))) return;
    *last = now;
    std::fprintf(context.err, "%sfuzz: runs %llu  failed %llu  %.1f runs/s%s", live ? "\r" : "",
                 static_cast<unsigned long long>(summary.runs),
                 static_cast<unsigned long long>(summary.failed_runs), summary.RunsPerSecond(),
                 live ? "   " : "\n");
    std::fflush(context.err);
  };
  absl::StatusOr<fuzz::SweepSummary> summary = fuzz::RunSweep(context.registry, options, hooks);
  if (live) std::fputc('\n', context.err);
  if (!summary.ok()) {
    std::fprintf(context.err, "storsim fuzz: %s\n", std::string(summary.status().message()).c_str());
    return kExitInternal;
  }
  if (flags.Has("out")) {
    absl::Status written = fuzz::WriteSweepOutputs(*summary, flags.Get("out"));
    if (!written.ok()) {
      std::fprintf(context.err, "storsim fuzz: %s\n", std::string(written.message()).c_str());
      return kExitInternal;
    }
    std::fprintf(context.err, "sweep output: %s/summary.json\n", flags.Get("out").c_str());
  }
  if (flags.Has("report")) {
    absl::Status written = WriteReports(context, *summary, flags.Get("report"));
    if (!written.ok()) {
      std::fprintf(context.err, "storsim fuzz: %s\n", std::string(written.message()).c_str());
      return kExitInternal;
    }
    std::fprintf(context.err, "sweep report: %s/report.html\n", flags.Get("report").c_str());
  }
  PrintSummary(context, *summary, flags.Has("json"));
  return ExitFor(*summary);
}

int MergeCommand(const CommandContext& context, const std::vector<std::string>& arguments) {
  absl::StatusOr<ParsedFlags> flags =
      ParseFlags({{"out", true}, {"json"}}, arguments, "merge", /*positional_max=*/100'000);
  if (!flags.ok()) return UsageError(context, flags.status(), "merge");
  if (flags->Has("help")) {
    std::fputs(HelpText("merge").c_str(), context.out);
    return kExitOk;
  }
  if (flags->positional().empty()) {
    return UsageError(context, absl::InvalidArgumentError("merge needs at least one DIR"), "merge");
  }
  fuzz::SweepSummary merged;
  for (const std::string& dir : flags->positional()) {
    absl::StatusOr<fuzz::SweepSummary> shard = fuzz::ReadSweepSummary(dir);
    if (!shard.ok()) {
      return UsageError(context, absl::InvalidArgumentError(std::string(shard.status().message())),
                        "merge");
    }
    merged.Merge(*shard);
  }
  if (flags->Has("out")) {
    absl::Status written = fuzz::WriteSweepOutputs(merged, flags->Get("out"));
    if (!written.ok()) {
      std::fprintf(context.err, "storsim merge: %s\n", std::string(written.message()).c_str());
      return kExitInternal;
    }
  }
  PrintSummary(context, merged, flags->Has("json"));
  return ExitFor(merged);
}

}  // namespace storsim::cli
