// The parallel and sharded form of `storsim fuzz` (--jobs, --shard K/N, --out D) and
// `storsim merge DIR...`: both run on the fuzz library (fuzz/sweep.h), which splits one index
// space of runs across worker processes and machines so that the merge of all shards equals the
// unsplit sweep. Outputs: DIR/summary.json and DIR/failures/<scenario>-<invariant>.json.
#include <unistd.h>

#include <chrono>

#include "cli/commands.h"
#include "cli/flags.h"
#include "fuzz/sweep.h"

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
    std::fprintf(context.err, "  FAILED %s seed=%llu: %s\n    storsim repro %s\n",
                 signature.c_str(), static_cast<unsigned long long>(record.seed),
                 record.detail.c_str(), record.token.c_str());
  }
  if (json) std::fprintf(context.out, "%s\n", summary.ToJson().Dump().c_str());
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
  options.build_id = context.build_id;
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
  hooks.progress = [&context, live, last](const fuzz::SweepSummary& summary) {
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
