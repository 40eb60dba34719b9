// Sweep execution: in-process or over forked worker processes that report one JSON line per run.
#include "fuzz/sweep.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "fuzz/fork_pool.h"
#include "scenarios/runner.h"
#include "sim/check.h"
#include "sim/hash.h"

namespace storsim::fuzz {
namespace {

RunRecord RunOne(const scenarios::ScenarioRegistry& registry, const SweepOptions& options,
                 const std::string& scenario, uint64_t seed, const SweepHooks& hooks) {
  scenarios::RunOptions run;
  run.scenario = scenario;
  run.seed = seed;
  // A defect goes to the scenarios that know it (a sweep over all scenarios names bugs of some).
  const scenarios::Scenario* known = registry.Find(scenario);
  for (const auto& bug : options.bugs) {
    if (known != nullptr && known->KnowsBug(bug)) run.bugs.insert(bug);
  }
  run.protocol = options.protocol;
  run.knobs = options.knobs;
  const int64_t start = hooks.wall_now_ms();
  RunRecord record;
  if (SampledForDeterminism(scenario, seed, options.determinism_percent)) {
    scenarios::DeterminismReport report = scenarios::CheckDeterminism(registry, run);
    report.first.wall_ms = hooks.wall_now_ms() - start;
    record = RecordFor(report.first, options.build_id);
    record.determinism_checked = true;
    record.deterministic = report.deterministic;
    if (!report.deterministic) record.divergence = report.ToString();
  } else {
    scenarios::RunResult result = scenarios::RunScenario(registry, run);
    result.wall_ms = hooks.wall_now_ms() - start;
    record = RecordFor(result, options.build_id);
  }
  return record;
}

// Calls `visit(scenario, seed)` for every run of this shard and worker, in index order, until the
// budget runs out. `visit` returns false to stop.
void ForEachRun(const SweepOptions& options, int worker, const SweepHooks& hooks,
                const std::function<bool(const std::string&, uint64_t)>& visit) {
  const uint64_t scenario_count = options.scenarios.size();
  const uint64_t total = options.seeds == 0 ? UINT64_MAX : options.seeds * scenario_count;
  const uint64_t jobs = static_cast<uint64_t>(std::max(options.jobs, 1));
  for (uint64_t i = options.shard_index; i < total; i += options.shard_count) {
    if ((i / options.shard_count) % jobs != static_cast<uint64_t>(worker)) continue;
    if (hooks.out_of_time && hooks.out_of_time()) return;
    const std::string& scenario = options.scenarios[i % scenario_count];
    if (!visit(scenario, options.first_seed + i / scenario_count)) return;
  }
}

// Names the run a dead worker was on: the one after the `reported` runs it finished (worker w
// runs a fixed sequence, so the parent can count it out). Without a time budget: a run the
// budget would have skipped is still named, which is what the worker was about to start.
std::string RunInFlight(const SweepOptions& options, int worker, uint64_t reported) {
  std::string named;
  uint64_t index = 0;
  ForEachRun(options, worker, SweepHooks{}, [&](const std::string& scenario, uint64_t seed) {
    if (index++ < reported) return true;
    named = "worker " + std::to_string(worker) + " was running " + scenario + " seed " +
            std::to_string(seed) + " (replay: storsim run --scenario " + scenario + " --seed " +
            std::to_string(seed) + ReplayFlags(options) + ")";
    return false;
  });
  return named.empty() ? "worker " + std::to_string(worker) + " had finished its runs" : named;
}

absl::StatusOr<SweepSummary> RunWorkers(const scenarios::ScenarioRegistry& registry,
                                        const SweepOptions& options, const SweepHooks& hooks,
                                        int64_t start) {
  SweepSummary summary;
  std::vector<uint64_t> reported(static_cast<size_t>(options.jobs), 0);
  std::vector<int> died;
  absl::Status status = ForkWorkers(
      options.jobs,
      [&](int w, const EmitLine& emit) {
        ForEachRun(options, w, hooks, [&](const std::string& scenario, uint64_t seed) {
          return emit(RunOne(registry, options, scenario, seed, hooks).ToJson());
        });
      },
      [&](int w, Json line) {
        ++reported[static_cast<size_t>(w)];
        summary.Add(RunRecord::FromJson(line));
        if (hooks.progress) {
          summary.wall_ms = hooks.wall_now_ms() - start;
          hooks.progress(summary);
        }
      },
      &died);
  if (!status.ok()) {
    std::string message = "sweep workers: " + std::string(status.message());
    for (int w : died) message += "; " + RunInFlight(options, w, reported[static_cast<size_t>(w)]);
    return absl::InternalError(message + " (a dead worker's remaining seeds were not run)");
  }
  return summary;
}

std::string SafeFileName(std::string name) {
  for (char& c : name) {
    const bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    if (!safe) c = '-';
  }
  return name;
}

}  // namespace

std::string ReplayFlags(const SweepOptions& options) {
  std::string flags;
  for (const std::string& bug : options.bugs) flags += " --bug " + bug;
  if (!options.protocol.empty()) flags += " --protocol " + options.protocol;
  return flags;
}

bool SampledForDeterminism(const std::string& scenario, uint64_t seed, uint32_t percent) {
  return sim::Mix64(seed ^ sim::HashBytes(scenario)) % 100 < percent;
}

namespace {
// Joins `seeds` into the sorted `into`, keeping the first kFailingSeedsMax.
void AddFailingSeeds(std::vector<uint64_t>& into, const std::vector<uint64_t>& seeds) {
  into.insert(into.end(), seeds.begin(), seeds.end());
  std::sort(into.begin(), into.end());
  into.erase(std::unique(into.begin(), into.end()), into.end());
  if (into.size() > SweepSummary::kFailingSeedsMax) into.resize(SweepSummary::kFailingSeedsMax);
}
}  // namespace

void SweepSummary::Add(const RunRecord& record) {
  ++runs;
  events += record.events;
  sim_ns += record.sim_ns;
  SweepStats& stats = per_scenario[record.scenario];
  ++stats.runs;
  stats.events += record.events;
  stats.sim_ns += record.sim_ns;
  for (const auto& mark : record.marks_hit) ++marks[mark];
  if (record.determinism_checked) ++determinism_checked;
  if (!record.deterministic) nondeterministic.push_back(record);
  if (record.ok) return;
  ++failed_runs;
  ++stats.failed_runs;
  ++failure_counts[record.Signature()];
  AddFailingSeeds(failing_seeds[record.Signature()], {record.seed});
  auto [it, inserted] = failures.try_emplace(record.Signature(), record);
  if (!inserted) {
    const RunRecord& kept = it->second;
    if (record.at_ns < kept.at_ns || (record.at_ns == kept.at_ns && record.seed < kept.seed)) {
      it->second = record;
    }
  }
}

void SweepSummary::Merge(const SweepSummary& other) {
  runs += other.runs;
  failed_runs += other.failed_runs;
  events += other.events;
  sim_ns += other.sim_ns;
  wall_ms = std::max(wall_ms, other.wall_ms);  // shards run side by side
  determinism_checked += other.determinism_checked;
  for (const auto& [signature, record] : other.failures) {
    auto [it, inserted] = failures.try_emplace(signature, record);
    if (!inserted && (record.at_ns < it->second.at_ns ||
                      (record.at_ns == it->second.at_ns && record.seed < it->second.seed))) {
      it->second = record;
    }
  }
  for (const auto& [signature, count] : other.failure_counts) failure_counts[signature] += count;
  for (const auto& [signature, seeds] : other.failing_seeds) {
    AddFailingSeeds(failing_seeds[signature], seeds);
  }
  nondeterministic.insert(nondeterministic.end(), other.nondeterministic.begin(),
                          other.nondeterministic.end());
  for (const auto& [mark, count] : other.marks) marks[mark] += count;
  for (const auto& [name, stats] : other.per_scenario) {
    SweepStats& mine = per_scenario[name];
    mine.runs += stats.runs;
    mine.failed_runs += stats.failed_runs;
    mine.events += stats.events;
    mine.sim_ns += stats.sim_ns;
  }
  shards.insert(shards.end(), other.shards.begin(), other.shards.end());
}

std::vector<std::string> SweepSummary::MarksMissed() const {
  std::vector<std::string> missed;
  for (const auto& [mark, count] : marks) {
    if (count == 0) missed.push_back(mark);
  }
  return missed;
}

double SweepSummary::RunsPerSecond() const {
  return wall_ms > 0 ? static_cast<double>(runs) * 1000.0 / static_cast<double>(wall_ms) : 0.0;
}

double SweepSummary::SimSecondsPerWallSecond() const {
  return wall_ms > 0 ? static_cast<double>(sim_ns) / 1e6 / static_cast<double>(wall_ms) : 0.0;
}

Json SweepSummary::ToJson() const {
  Json json;
  json.Set("seeds", runs);
  json.Set("failed_runs", failed_runs);
  json.Set("events", events);
  json.Set("sim_ns", sim_ns);
  json.Set("wall_ms", wall_ms);
  json.Set("seeds_per_sec", RunsPerSecond());
  json.Set("sim_seconds_per_wall_second", SimSecondsPerWallSecond());
  json.Set("determinism_checked", determinism_checked);
  Json failure_list = Json(Json::Array{});
  for (const auto& [signature, record] : failures) {
    Json entry;
    entry.Set("token", record.token);
    entry.Set("scenario", record.scenario);
    entry.Set("seed", record.seed);
    entry.Set("invariant", record.invariant);
    auto count = failure_counts.find(signature);
    entry.Set("count", count != failure_counts.end() ? count->second : uint64_t{1});
    Json seed_list = Json(Json::Array{});
    auto seeds = failing_seeds.find(signature);
    if (seeds != failing_seeds.end()) {
      for (uint64_t seed : seeds->second) seed_list.Append(seed);
    }
    entry.Set("seeds", std::move(seed_list));
    entry.Set("record", record.ToJson());
    failure_list.Append(std::move(entry));
  }
  json.Set("failures", std::move(failure_list));
  Json nondeterministic_list = Json(Json::Array{});
  for (const auto& record : nondeterministic) nondeterministic_list.Append(record.ToJson());
  json.Set("nondeterministic", std::move(nondeterministic_list));
  Json mark_counts;
  for (const auto& [mark, count] : marks) mark_counts.Set(mark, count);
  json.Set("marks", mark_counts.is_null() ? Json(Json::Object{}) : mark_counts);
  Json missed = Json(Json::Array{});
  for (const auto& mark : MarksMissed()) missed.Append(mark);
  json.Set("marks_missed", std::move(missed));
  Json scenarios_json = Json(Json::Object{});
  for (const auto& [name, stats] : per_scenario) {
    Json entry;
    entry.Set("seeds", stats.runs);
    entry.Set("failed_runs", stats.failed_runs);
    entry.Set("events", stats.events);
    entry.Set("sim_ns", stats.sim_ns);
    scenarios_json.Set(name, std::move(entry));
  }
  json.Set("scenarios", std::move(scenarios_json));
  Json shard_list = Json(Json::Array{});
  for (const auto& shard : shards) shard_list.Append(shard);
  json.Set("shards", std::move(shard_list));
  return json;
}

SweepSummary SweepSummary::FromJson(const Json& json) {
  SweepSummary summary;
  summary.runs = static_cast<uint64_t>(json["seeds"].AsInt());
  summary.failed_runs = static_cast<uint64_t>(json["failed_runs"].AsInt());
  summary.events = static_cast<uint64_t>(json["events"].AsInt());
  summary.sim_ns = json["sim_ns"].AsInt();
  summary.wall_ms = json["wall_ms"].AsInt();
  summary.determinism_checked = static_cast<uint64_t>(json["determinism_checked"].AsInt());
  for (const auto& entry : json["failures"].AsArray()) {
    RunRecord record = RunRecord::FromJson(entry["record"]);
    summary.failures[record.Signature()] = record;
    // Summaries written before counts and seeds existed count the one failure they kept.
    summary.failure_counts[record.Signature()] =
        entry["count"].is_number() ? static_cast<uint64_t>(entry["count"].AsInt()) : 1;
    std::vector<uint64_t>& seeds = summary.failing_seeds[record.Signature()];
    if (entry["seeds"].is_array()) {
      for (const auto& seed : entry["seeds"].AsArray()) {
        seeds.push_back(static_cast<uint64_t>(seed.AsInt()));
      }
    } else {
      seeds.push_back(record.seed);
    }
  }
  for (const auto& entry : json["nondeterministic"].AsArray()) {
    summary.nondeterministic.push_back(RunRecord::FromJson(entry));
  }
  for (const auto& [mark, count] : json["marks"].AsObject()) {
    summary.marks[mark] = static_cast<uint64_t>(count.AsInt());
  }
  for (const auto& [name, entry] : json["scenarios"].AsObject()) {
    SweepStats& stats = summary.per_scenario[name];
    stats.runs = static_cast<uint64_t>(entry["seeds"].AsInt());
    stats.failed_runs = static_cast<uint64_t>(entry["failed_runs"].AsInt());
    stats.events = static_cast<uint64_t>(entry["events"].AsInt());
    stats.sim_ns = entry["sim_ns"].AsInt();
  }
  for (const auto& shard : json["shards"].AsArray()) summary.shards.push_back(shard.AsString());
  return summary;
}

absl::StatusOr<SweepSummary> RunSweep(const scenarios::ScenarioRegistry& registry,
                                      const SweepOptions& options, const SweepHooks& hooks) {
  SIM_CHECK(!options.scenarios.empty());
  SIM_CHECK(options.shard_count >= 1 && options.shard_index < options.shard_count);
  SIM_CHECK(hooks.wall_now_ms != nullptr);
  if (options.seeds == 0 && !hooks.out_of_time) {
    return absl::InvalidArgumentError("a sweep needs a seed count or a time budget");
  }
  const int64_t start = hooks.wall_now_ms();
  SweepSummary summary;
  // Every registered coverage mark starts at zero, so marks never hit are reported.
  for (const auto& [mark, count] : sim::Marks::Global().counts()) summary.marks[mark] = 0;
  if (options.jobs <= 1) {
    ForEachRun(options, 0, hooks, [&](const std::string& scenario, uint64_t seed) {
      summary.Add(RunOne(registry, options, scenario, seed, hooks));
      if (hooks.progress) {
        summary.wall_ms = hooks.wall_now_ms() - start;
        hooks.progress(summary);
      }
      return true;
    });
  } else {
    absl::StatusOr<SweepSummary> from_workers = RunWorkers(registry, options, hooks, start);
    if (!from_workers.ok()) return from_workers.status();
    summary.Merge(*from_workers);
  }
  summary.wall_ms = hooks.wall_now_ms() - start;
  summary.shards = {std::to_string(options.shard_index) + "/" + std::to_string(options.shard_count)};
  return summary;
}

absl::Status WriteSweepOutputs(const SweepSummary& summary, const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code error;
  fs::create_directories(fs::path(dir) / "failures", error);
  if (error) return absl::InternalError("cannot create " + dir + "/failures: " + error.message());
  auto write = [](const fs::path& path, const std::string& text) -> absl::Status {
    std::ofstream out(path);
    out << text << "\n";
    out.close();
    if (!out) return absl::InternalError("cannot write " + path.string());
    return absl::OkStatus();
  };
  if (absl::Status s = write(fs::path(dir) / "summary.json", summary.ToJson().Dump()); !s.ok()) {
    return s;
  }
  for (const auto& [signature, record] : summary.failures) {
    Json failure = record.ToJson();
    const fs::path path =
        fs::path(dir) / "failures" / (SafeFileName(record.scenario + "-" + record.invariant) + ".json");
    if (absl::Status s = write(path, failure.Dump()); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<SweepSummary> ReadSweepSummary(const std::string& dir) {
  const std::string path = dir + "/summary.json";
  std::ifstream in(path);
  if (!in) return absl::NotFoundError("no sweep summary at " + path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  absl::StatusOr<Json> json = Json::Parse(buffer.str());
  if (!json.ok()) {
    return absl::InvalidArgumentError(path + ": " + std::string(json.status().message()));
  }
  return SweepSummary::FromJson(*json);
}

}  // namespace storsim::fuzz
