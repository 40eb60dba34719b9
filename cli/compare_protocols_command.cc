// `storsim compare-protocols`: runs N seeds of each leadership protocol (step-down, naive, lease,
// lease-fenced) on the leadership scenarios (controller-roll, clock-skew-leases) and compares
// them on the run metrics (scenarios/metrics/run_metrics.h): the 503 (unavailability) window
// percentiles, the dual-actor window, the runs failing each split-brain invariant S1–S4 (a run
// stops at its first violation, so each failed run counts once), and the generations issued.
// Output: a table on stdout (or JSON with --json, the table then going to stderr) and an HTML
// page with --html. Also here: the run-metrics lines `storsim run` prints.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>

#include "cli/commands.h"
#include "cli/flags.h"
#include "fuzz/fork_pool.h"
#include "fuzz/json.h"
#include "reports/compare_report.h"
#include "scenarios/metrics/controller_tracker.h"
#include "scenarios/runner.h"
#include "sim/check.h"

namespace storsim::cli {
namespace {

constexpr const char* kProtocols[] = {"step-down", "naive", "lease", "lease-fenced"};
constexpr const char* kDefaultScenarios[] = {"controller-roll", "clock-skew-leases"};
constexpr uint64_t kSeedsMax = 100'000;
constexpr size_t kListMax = 64;

std::vector<std::string> SplitComma(const std::string& text) {
  std::vector<std::string> parts;
  std::string part;
  for (char c : text) {
    if (c == ',') {
      parts.push_back(part);
      part.clear();
    } else {
      part += c;
    }
  }
  parts.push_back(part);
  return parts;
}

bool IsKnownProtocol(const std::string& name) {
  for (const char* protocol : kProtocols) {
    if (name == protocol) return true;
  }
  return false;
}

int64_t MetricOf(const scenarios::RunResult& result, const std::string& name) {
  auto it = result.metrics.find(name);
  return it == result.metrics.end() ? 0 : it->second;
}

// A run reduced to what the comparison aggregates: what a worker process sends back.
fuzz::Json Summarize(const scenarios::RunResult& result) {
  fuzz::Json summary;
  summary.Set("ok", result.ok);
  summary.Set("internal_error", result.internal_error);
  summary.Set("invariant", result.FirstInvariant());
  fuzz::Json metrics;
  for (const auto& [name, value] : result.metrics) metrics.Set(name, value);
  summary.Set("metrics", metrics.is_null() ? fuzz::Json(fuzz::Json::Object{}) : metrics);
  fuzz::Json windows(fuzz::Json::Array{});
  auto samples = result.metric_samples.find("unavailable_window_ns");
  if (samples != result.metric_samples.end()) {
    for (int64_t window : samples->second) windows.Append(fuzz::Json(window));
  }
  summary.Set("windows", std::move(windows));
  return summary;
}

struct Cell {
  reports::CompareCell stats;
  std::vector<int64_t> windows;  // every unavailability window of every run
  uint64_t arrived = 0;
};

void Accumulate(Cell& cell, const fuzz::Json& summary) {
  reports::CompareCell& stats = cell.stats;
  ++stats.runs;
  ++cell.arrived;
  if (!summary["error"].is_null()) {  // the task threw (fork_pool reports it so)
    ++stats.failed;
    ++stats.internal_errors;
    return;
  }
  if (!summary["internal_error"].AsString().empty()) ++stats.internal_errors;
  if (!summary["ok"].AsBool(false)) {
    ++stats.failed;
    ++stats.failures_by_invariant[summary["invariant"].AsString()];
  }
  const fuzz::Json& metrics = summary["metrics"];
  const int64_t dual_total = metrics["dual_actor_total_ns"].AsInt();
  stats.dual_actor_total_ns += dual_total;
  stats.dual_actor_max_ns = std::max(stats.dual_actor_max_ns, metrics["dual_actor_max_ns"].AsInt());
  if (dual_total > 0) ++stats.runs_with_dual_actor;
  stats.generations += metrics["generations"].AsInt();
  stats.http_503 += metrics["http_503"].AsInt();
  for (const fuzz::Json& window : summary["windows"].AsArray()) {
    cell.windows.push_back(window.AsInt());
  }
}

void FinishCell(Cell& cell) {
  using scenarios::metrics::Percentile;
  cell.stats.windows = cell.windows.size();
  cell.stats.window_p50_ns = Percentile(cell.windows, 0.50);
  cell.stats.window_p99_ns = Percentile(cell.windows, 0.99);
  cell.stats.window_max_ns = Percentile(cell.windows, 1.0);
}

void PrintTable(std::FILE* out, const std::vector<Cell>& cells) {
  std::fprintf(out, "%-18s %-13s %5s %8s %8s %8s %8s %10s %9s %5s %4s %4s %4s %4s %5s %8s %7s\n",
               "scenario", "protocol", "runs", "windows", "p50", "p99", "max", "dual-total",
               "dual-max", "dualR", "S1", "S2", "S3", "S4", "other", "gens", "503s");
  for (const Cell& cell : cells) {
    const reports::CompareCell& s = cell.stats;
    auto count = [&s](const char* invariant) {
      auto it = s.failures_by_invariant.find(invariant);
      return static_cast<unsigned long long>(it == s.failures_by_invariant.end() ? 0 : it->second);
    };
    const unsigned long long split = count("S1") + count("S2") + count("S3") + count("S4");
    std::fprintf(out,
                 "%-18s %-13s %5llu %8llu %8s %8s %8s %10s %9s %5llu %4llu %4llu %4llu %4llu "
                 "%5llu %8lld %7lld\n",
                 s.scenario.c_str(), s.protocol.c_str(), static_cast<unsigned long long>(s.runs),
                 static_cast<unsigned long long>(s.windows),
                 reports::FormatSeconds(s.window_p50_ns).c_str(),
                 reports::FormatSeconds(s.window_p99_ns).c_str(),
                 reports::FormatSeconds(s.window_max_ns).c_str(),
                 reports::FormatSeconds(s.dual_actor_total_ns).c_str(),
                 reports::FormatSeconds(s.dual_actor_max_ns).c_str(),
                 static_cast<unsigned long long>(s.runs_with_dual_actor), count("S1"), count("S2"),
                 count("S3"), count("S4"), static_cast<unsigned long long>(s.failed) - split,
                 static_cast<long long>(s.generations), static_cast<long long>(s.http_503));
  }
  // Which invariants the "other" failures were, so nothing is hidden.
  for (const Cell& cell : cells) {
    std::string other;
    for (const auto& [invariant, count] : cell.stats.failures_by_invariant) {
      if (invariant == "S1" || invariant == "S2" || invariant == "S3" || invariant == "S4") continue;
      other += (other.empty() ? "" : ", ") + invariant + " " + std::to_string(count);
    }
    if (!other.empty()) {
      std::fprintf(out, "  other failures %s/%s: %s\n", cell.stats.scenario.c_str(),
                   cell.stats.protocol.c_str(), other.c_str());
    }
  }
}

fuzz::Json CellJson(const reports::CompareCell& s) {
  fuzz::Json json;
  json.Set("scenario", s.scenario);
  json.Set("protocol", s.protocol);
  json.Set("runs", s.runs);
  json.Set("failed", s.failed);
  json.Set("internal_errors", s.internal_errors);
  fuzz::Json::Object failures;
  for (const auto& [invariant, count] : s.failures_by_invariant) failures[invariant] = count;
  json.Set("failures_by_invariant", fuzz::Json(std::move(failures)));
  json.Set("windows", s.windows);
  json.Set("window_p50_ns", s.window_p50_ns);
  json.Set("window_p99_ns", s.window_p99_ns);
  json.Set("window_max_ns", s.window_max_ns);
  json.Set("dual_actor_total_ns", s.dual_actor_total_ns);
  json.Set("dual_actor_max_ns", s.dual_actor_max_ns);
  json.Set("runs_with_dual_actor", s.runs_with_dual_actor);
  json.Set("generations", s.generations);
  json.Set("http_503", s.http_503);
  return json;
}

}  // namespace

std::string RunMetricsLine(const scenarios::RunResult& result) {
  if (result.metrics.empty()) return "(none)";
  auto seconds = [&result](const char* name) {
    return reports::FormatSeconds(MetricOf(result, name));
  };
  return "unavailable " + std::to_string(MetricOf(result, "unavailable_windows")) +
         " window(s), total " + seconds("unavailable_total_ns") + ", max " +
         seconds("unavailable_max_ns") +
         (MetricOf(result, "unavailable_open_at_end") != 0 ? " (open at the end)" : "") +
         "; dual-actor " + std::to_string(MetricOf(result, "dual_actor_windows")) +
         " window(s), total " + seconds("dual_actor_total_ns") + ", max " +
         seconds("dual_actor_max_ns") + "; generations " +
         std::to_string(MetricOf(result, "generations")) + "; 503s " +
         std::to_string(MetricOf(result, "http_503")) + "; forwards " +
         std::to_string(MetricOf(result, "forwards"));
}

std::string RunMetricsJson(const scenarios::RunResult& result) {
  fuzz::Json metrics(fuzz::Json::Object{});
  for (const auto& [name, value] : result.metrics) metrics.Set(name, value);
  for (const auto& [name, values] : result.metric_samples) {
    fuzz::Json array(fuzz::Json::Array{});
    for (int64_t value : values) array.Append(fuzz::Json(value));
    metrics.Set(name, std::move(array));
  }
  return metrics.Dump();
}

int CompareProtocolsCommand(const CommandContext& context,
                            const std::vector<std::string>& arguments) {
  absl::StatusOr<ParsedFlags> flags = ParseFlags({{"seeds", true},
                                                  {"start-seed", true},
                                                  {"scenarios", true},
                                                  {"protocols", true},
                                                  {"jobs", true},
                                                  {"json"},
                                                  {"html", true}},
                                                 arguments, "compare-protocols");
  if (!flags.ok()) return UsageError(context, flags.status());
  if (flags->Has("help")) {
    std::fputs(HelpText("compare-protocols").c_str(), context.out);
    return kExitOk;
  }
  const std::string kCommand = "compare-protocols";
  absl::StatusOr<uint64_t> seeds = ParseUnsigned(flags->Get("seeds", "20"), "--seeds");
  if (!seeds.ok()) return UsageError(context, seeds.status(), kCommand);
  if (*seeds == 0 || *seeds > kSeedsMax) {
    return UsageError(context, absl::InvalidArgumentError("--seeds must be in 1..100000"), kCommand);
  }
  absl::StatusOr<uint64_t> first = ParseUnsigned(flags->Get("start-seed", "1"), "--start-seed");
  if (!first.ok()) return UsageError(context, first.status(), kCommand);
  absl::StatusOr<uint64_t> jobs = ParseUnsigned(flags->Get("jobs", "1"), "--jobs");
  if (!jobs.ok() || *jobs == 0 || *jobs > static_cast<uint64_t>(fuzz::kForkPoolJobsMax)) {
    return UsageError(context, absl::InvalidArgumentError("--jobs must be in 1..256"), kCommand);
  }

  // Scenarios: the flag's, each of which must exist; or the defaults that this build has.
  std::vector<std::string> scenario_names;
  std::vector<std::string> missing;
  if (flags->Has("scenarios")) {
    scenario_names = SplitComma(flags->Get("scenarios"));
    for (const std::string& name : scenario_names) {
      if (name.empty() || context.registry.Find(name) == nullptr) {
        scenarios::RunOptions probe;
        probe.scenario = name;
        return UsageError(context, scenarios::ValidateOptions(context.registry, probe), kCommand);
      }
    }
  } else {
    for (const char* name : kDefaultScenarios) {
      if (context.registry.Find(name) != nullptr) {
        scenario_names.push_back(name);
      } else {
        missing.push_back(name);
        std::fprintf(context.err,
                     "compare-protocols: scenario '%s' is not in this build; comparing the "
                     "others\n",
                     name);
      }
    }
    if (scenario_names.empty()) {
      std::fprintf(context.err, "compare-protocols: none of the default scenarios exists\n");
      return kExitInternal;
    }
  }
  std::vector<std::string> protocols(std::begin(kProtocols), std::end(kProtocols));
  if (flags->Has("protocols")) {
    protocols = SplitComma(flags->Get("protocols"));
    for (const std::string& protocol : protocols) {
      if (!IsKnownProtocol(protocol)) {
        return UsageError(context,
                          absl::InvalidArgumentError(
                              "unknown protocol '" + protocol +
                              "'; known protocols: step-down, naive, lease, lease-fenced"),
                          kCommand);
      }
    }
  }
  if (scenario_names.size() > kListMax || protocols.size() > kListMax) {
    return UsageError(context, absl::InvalidArgumentError("too many scenarios or protocols"),
                      kCommand);
  }
  const std::string html_path = flags->Get("html");
  if (flags->Has("html")) {
    std::FILE* probe = html_path.empty() ? nullptr : std::fopen(html_path.c_str(), "w");
    if (probe == nullptr) {
      return UsageError(context,
                        absl::InvalidArgumentError("cannot write --html file '" + html_path + "'"),
                        kCommand);
    }
    std::fclose(probe);
  }

  std::vector<Cell> cells;
  for (const std::string& scenario : scenario_names) {
    for (const std::string& protocol : protocols) {
      Cell cell;
      cell.stats.scenario = scenario;
      cell.stats.protocol = protocol;
      cells.push_back(std::move(cell));
    }
  }
  std::fprintf(context.err,
               "storsim compare-protocols: %zu scenario(s) x %zu protocol(s) x %llu seed(s) from "
               "%llu, %llu job(s), build=%s\n",
               scenario_names.size(), protocols.size(), static_cast<unsigned long long>(*seeds),
               static_cast<unsigned long long>(*first), static_cast<unsigned long long>(*jobs),
               context.build_id.c_str());
  // determinism: ok (wall time for the progress line only, in cli/)
  const auto started = std::chrono::steady_clock::now();
  const uint64_t per_cell = *seeds;
  const uint64_t first_seed = *first;
  auto task = [&](size_t index) {
    const Cell& cell = cells[index / per_cell];
    scenarios::RunOptions options;
    options.scenario = cell.stats.scenario;
    options.protocol = cell.stats.protocol;
    options.seed = first_seed + index % per_cell;
    return Summarize(scenarios::RunScenario(context.registry, options));
  };
  auto on_result = [&](size_t index, fuzz::Json summary) {
    Cell& cell = cells[index / per_cell];
    Accumulate(cell, summary);
    if (cell.arrived == per_cell) {
      // determinism: ok (progress only)
      const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                                           started)
                                 .count();
      std::fprintf(context.err, "  %s/%s: %llu runs, %llu failed (%.0fs)\n",
                   cell.stats.scenario.c_str(), cell.stats.protocol.c_str(),
                   static_cast<unsigned long long>(cell.stats.runs),
                   static_cast<unsigned long long>(cell.stats.failed), elapsed);
    }
  };
  const absl::Status pooled =
      fuzz::RunForked(static_cast<int>(*jobs), cells.size() * per_cell, task, on_result);
  if (!pooled.ok()) {
    std::fprintf(context.err, "compare-protocols: %s\n", std::string(pooled.message()).c_str());
    return kExitInternal;
  }
  uint64_t internal_errors = 0;
  for (Cell& cell : cells) {
    SIM_CHECK_MSG(cell.arrived == per_cell, "a run of the comparison did not report");
    FinishCell(cell);
    internal_errors += cell.stats.internal_errors;
  }

  const bool json = flags->Has("json");
  PrintTable(json ? context.err : context.out, cells);
  if (json) {
    fuzz::Json output;
    output.Set("seeds", per_cell);
    output.Set("first_seed", first_seed);
    fuzz::Json::Array names(scenario_names.begin(), scenario_names.end());
    output.Set("scenarios", fuzz::Json(std::move(names)));
    fuzz::Json::Array absent(missing.begin(), missing.end());
    output.Set("missing_scenarios", fuzz::Json(std::move(absent)));
    fuzz::Json::Array rows;
    for (const Cell& cell : cells) rows.push_back(CellJson(cell.stats));
    output.Set("cells", fuzz::Json(std::move(rows)));
    std::fprintf(context.out, "%s\n", output.Dump().c_str());
  }
  if (!html_path.empty()) {
    reports::CompareReportInput input;
    input.title = "storsim compare-protocols";
    input.seeds = per_cell;
    input.first_seed = first_seed;
    input.notes = {
        "503 window: an interval, after the first Leader, with no live controller instance in "
        "status Leader (server side). Dual-actor window: time covered by the side-effect "
        "activity segments of two or more controller instances (scenarios/metrics/"
        "run_metrics.h). A run stops at its first violation, so each failed run counts once, "
        "under that invariant.",
        "Build " + context.build_id + "."};
    if (!missing.empty()) {
      std::string names;
      for (const std::string& name : missing) names += (names.empty() ? "" : ", ") + name;
      input.notes.push_back("Not in this build: " + names + ".");
    }
    for (const Cell& cell : cells) input.cells.push_back(cell.stats);
    std::ofstream file(html_path);
    file << reports::RenderCompareReport(input);
    if (!file.good()) {
      std::fprintf(context.err, "compare-protocols: cannot write %s\n", html_path.c_str());
      return kExitInternal;
    }
    std::fprintf(context.err, "compare-protocols: wrote %s\n", html_path.c_str());
  }
  return internal_errors > 0 ? kExitInternal : kExitOk;
}

}  // namespace storsim::cli
