// `storsim repro TOKEN` and `storsim shrink TOKEN`: a failure is replayed bit-exactly from its
// token (refused, unless --force, when the token comes from another build), optionally written
// out as an HTML report with a timeline; and shrunk to a smaller fault plan that still fails the
// same invariant, printed as a new token and a readable plan.
#include <chrono>
#include <filesystem>
#include <fstream>

#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/json.h"
#include "fuzz/shrink.h"
#include "reports/html.h"
#include "reports/timeline.h"
#include "scenarios/runner.h"
#include "scenarios/storage/fault_text.h"
#include "scenarios/token.h"
#include "sim/trace.h"

namespace storsim::cli {
namespace {

// determinism: ok (wall time for the report line only, in cli/)
using Clock = std::chrono::steady_clock;

// Decodes the single positional token and checks its build. Returns the exit code on failure.
std::optional<int> DecodeChecked(const CommandContext& context, const ParsedFlags& flags,
                                 std::string_view command, scenarios::Token* token) {
  if (flags.positional().size() != 1) {
    return UsageError(context,
                      absl::InvalidArgumentError(std::string(command) + " takes exactly one TOKEN"),
                      command);
  }
  absl::StatusOr<scenarios::Token> decoded = scenarios::DecodeToken(flags.positional()[0]);
  if (!decoded.ok()) {
    return UsageError(context,
                      absl::InvalidArgumentError("malformed token: " +
                                                 std::string(decoded.status().message())),
                      command);
  }
  if (decoded->build_id != context.build_id && !flags.Has("force")) {
    return UsageError(context,
                      absl::InvalidArgumentError(
                          "the token comes from build " + decoded->build_id + ", this is build " +
                          context.build_id +
                          "; the replay may differ. Pass --force to replay it anyway"),
                      command);
  }
  if (context.registry.Find(decoded->scenario) == nullptr) {
    scenarios::RunOptions probe;
    probe.scenario = decoded->scenario;
    return UsageError(context, scenarios::ValidateOptions(context.registry, probe), command);
  }
  *token = std::move(*decoded);
  return std::nullopt;
}

scenarios::RunOptions OptionsOf(const scenarios::Token& token) {
  scenarios::RunOptions options;
  options.scenario = token.scenario;
  options.seed = token.seed;
  options.protocol = token.protocol;
  options.bugs = token.bugs;
  options.fault_plan = token.fault_plan;
  options.knobs = token.knobs;
  return options;
}

absl::Status WriteReport(const std::string& dir, const scenarios::RunResult& result,
                         const std::string& token, const std::vector<sim::TraceEvent>& events) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) return absl::InternalError("cannot create " + dir + ": " + error.message());
  std::vector<reports::Violation> violations;
  for (const auto& v : result.violations) violations.push_back({v.invariant, v.at.nanos(), v.detail});
  reports::FailureReportInput input;
  input.scenario = result.options.scenario;
  input.seed = result.options.seed;
  input.token = token;
  input.verdict = result.ok ? "ok" : result.FirstInvariant();
  input.options = result.swarm;
  input.fault_plan = scenarios::DescribeFaultPlan(result.fault_plan);
  if (!result.knobs.empty()) input.options += " knobs: " + scenarios::KnobsToString(result.knobs);
  input.trace_hash = scenarios::HashToHex(result.trace_hash);
  input.timeline = reports::BuildTimeline(events, violations, result.sim_ns);
  input.events = events;
  std::ofstream out(dir + "/report.html");
  out << reports::RenderFailureReport(input);
  out.close();
  if (!out) return absl::InternalError("cannot write " + dir + "/report.html");
  return absl::OkStatus();
}

int ExitFor(const scenarios::RunResult& result) {
  if (!result.internal_error.empty()) return kExitInternal;
  return result.ok ? kExitOk : kExitViolation;
}

}  // namespace

int ReproCommand(const CommandContext& context, const std::vector<std::string>& arguments) {
  absl::StatusOr<ParsedFlags> flags = ParseFlags(
      {{"trace", true}, {"perfetto", true}, {"report", true}, {"force"}, {"json"}}, arguments,
      "repro", /*positional_max=*/1);
  if (!flags.ok()) return UsageError(context, flags.status(), "repro");
  if (flags->Has("help")) {
    std::fputs(HelpText("repro").c_str(), context.out);
    return kExitOk;
  }
  scenarios::Token token;
  if (std::optional<int> exit = DecodeChecked(context, *flags, "repro", &token)) return *exit;
  scenarios::RunOptions options = OptionsOf(token);
  options.ndjson_trace_path = flags->Get("trace");
  options.perfetto_trace_path = flags->Get("perfetto");
  sim::MemoryTraceSink sink;
  const bool report = flags->Has("report");
  if (report) options.observers.push_back(&sink);
  const Clock::time_point started = Clock::now();
  scenarios::RunResult result = scenarios::RunScenario(context.registry, options);
  result.wall_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
  // A token's knob that this replay never asked for is not an error: it may have drawn only
  // what the token's fault plan now replaces (a storage story's "faults").
  if (absl::Status used = CheckKnobsUsed(options, result); !used.ok()) {
    std::fprintf(context.err, "  note: %s (not used by this replay)\n",
                 std::string(used.message()).c_str());
  }
  const std::string replayed = TokenOf(result, context.build_id);
  PrintRunReport(context, result, replayed, /*plan_in_full=*/true);
  if (flags->Has("json")) {
    std::fprintf(context.out, "%s\n", RunResultJson(result, replayed, context.build_id).c_str());
  }
  if (report) {
    absl::Status written = WriteReport(flags->Get("report"), result, replayed, sink.events());
    if (!written.ok()) {
      std::fprintf(context.err, "storsim repro: %s\n", std::string(written.message()).c_str());
      return kExitInternal;
    }
    std::fprintf(context.err, "  report: %s/report.html\n", flags->Get("report").c_str());
  }
  return ExitFor(result);
}

int ShrinkCommand(const CommandContext& context, const std::vector<std::string>& arguments) {
  absl::StatusOr<ParsedFlags> flags =
      ParseFlags({{"force"}, {"runs-max", true}}, arguments, "shrink", /*positional_max=*/1);
  if (!flags.ok()) return UsageError(context, flags.status(), "shrink");
  if (flags->Has("help")) {
    std::fputs(HelpText("shrink").c_str(), context.out);
    return kExitOk;
  }
  scenarios::Token token;
  if (std::optional<int> exit = DecodeChecked(context, *flags, "shrink", &token)) return *exit;
  fuzz::ShrinkOptions shrink_options;
  if (flags->Has("runs-max")) {
    absl::StatusOr<uint64_t> runs = ParseUnsigned(flags->Get("runs-max"), "--runs-max");
    if (!runs.ok() || *runs == 0 || *runs > 100'000) {
      return UsageError(context, absl::InvalidArgumentError("--runs-max must be in 1..100000"),
                        "shrink");
    }
    shrink_options.runs_max = static_cast<uint32_t>(*runs);
  }
  absl::StatusOr<fuzz::ShrinkResult> shrunk =
      fuzz::Shrink(context.registry, OptionsOf(token), shrink_options);
  if (!shrunk.ok()) {
    std::fprintf(context.err, "storsim shrink: %s\n", std::string(shrunk.status().message()).c_str());
    return shrunk.status().code() == absl::StatusCode::kFailedPrecondition ? kExitOk
                                                                           : kExitUsage;
  }
  const std::string new_token = TokenOf(shrunk->result, context.build_id);
  std::fprintf(context.err, "storsim shrink: %s still fails %s after %u runs; faults %zu -> %zu\n",
               token.scenario.c_str(), shrunk->invariant.c_str(), shrunk->runs,
               shrunk->faults_before, shrunk->faults_after);
  for (const auto& step : shrunk->log) std::fprintf(context.err, "  %s\n", step.c_str());
  std::fprintf(context.err, "shrunk fault plan:\n%s",
               scenarios::DescribeFaultPlan(shrunk->result.fault_plan).c_str());
  std::fprintf(context.err, "shrunk knobs: %s (were %s)\n",
               scenarios::KnobsToString(shrunk->knobs_after).c_str(),
               scenarios::KnobsToString(shrunk->knobs_before).c_str());
  std::fprintf(context.out, "%s\n", new_token.c_str());
  return kExitViolation;
}

}  // namespace storsim::cli
