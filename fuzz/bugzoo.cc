// Bug-zoo measurement: detection sweeps per defect and scenario, summary statistics, shrinking of
// the first detection, and the markdown table.
#include "fuzz/bugzoo.h"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <set>

#include "fuzz/fork_pool.h"
#include "fuzz/shrink.h"
#include "scenarios/runner.h"
#include "scenarios/token.h"
#include "sim/check.h"

namespace storsim::fuzz {
namespace {

constexpr size_t kSummaryLengthMax = 100'000;

bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// S8, L3, REG1, REG-L1: capitals, optionally "-" and more capitals, then digits only.
bool IsInvariantWord(std::string_view word) {
  size_t i = 0;
  while (i < word.size() && IsUpper(word[i])) ++i;
  if (i == 0) return false;
  if (i < word.size() && word[i] == '-') {
    const size_t dash = i++;
    while (i < word.size() && IsUpper(word[i])) ++i;
    if (i == dash + 1) return false;
  }
  const size_t digits = i;
  while (i < word.size() && IsDigit(word[i])) ++i;
  return i == word.size() && i > digits;
}

std::vector<std::string> InvariantWords(std::string_view text) {
  std::vector<std::string> words;
  std::string word;
  for (size_t i = 0; i <= text.size(); ++i) {
    const char c = i < text.size() ? text[i] : ' ';
    if (IsUpper(c) || IsDigit(c) || c == '-' || (c >= 'a' && c <= 'z')) {
      word += c;
      continue;
    }
    if (IsInvariantWord(word) && std::find(words.begin(), words.end(), word) == words.end()) {
      words.push_back(word);
    }
    word.clear();
  }
  return words;
}

std::string FormatMedian(const std::optional<double>& median) {
  if (!median.has_value()) return "—";
  char buffer[32];
  if (*median == static_cast<double>(static_cast<uint64_t>(*median))) {
    std::snprintf(buffer, sizeof buffer, "%llu", static_cast<unsigned long long>(*median));
  } else {
    std::snprintf(buffer, sizeof buffer, "%.1f", *median);
  }
  return buffer;
}

std::string Escape(std::string text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += "\\|";
    else if (c == '\n') out += ' ';
    else out += c;
  }
  return out;
}

SweepDetection RunDetectionSweep(const scenarios::ScenarioRegistry& registry,
                                 const BugzooOptions& options, const std::string& scenario,
                                 const std::string& bug, const std::vector<std::string>& expected,
                                 uint32_t sweep) {
  SweepDetection detection;
  detection.sweep = sweep;
  detection.first_seed = options.first_seed + static_cast<uint64_t>(sweep) * options.max_seeds;
  for (uint64_t k = 0; k < options.max_seeds; ++k) {
    scenarios::RunOptions run;
    run.scenario = scenario;
    run.seed = detection.first_seed + k;
    run.bugs = {bug};
    run.knobs = options.knobs;
    const scenarios::RunResult result = scenarios::RunScenario(registry, run);
    if (result.ok) continue;
    const std::string invariant = result.FirstInvariant();
    if (std::find(expected.begin(), expected.end(), invariant) == expected.end()) {
      ++detection.other_failures;
      continue;
    }
    detection.caught = true;
    detection.seeds_run = k + 1;
    detection.seed = run.seed;
    detection.invariant = invariant;
    detection.token = scenarios::EncodeToken(scenarios::TokenFor(result, options.build_id));
    return detection;
  }
  detection.seeds_run = options.max_seeds;
  return detection;
}

ShrunkCase ShrinkDetection(const scenarios::ScenarioRegistry& registry, const std::string& token,
                           uint32_t runs_max, const std::string& build_id) {
  ShrunkCase shrunk;
  absl::StatusOr<scenarios::Token> decoded = scenarios::DecodeToken(token);
  if (!decoded.ok()) {
    shrunk.error = "undecodable detection token: " + std::string(decoded.status().message());
    return shrunk;
  }
  scenarios::RunOptions options;
  options.scenario = decoded->scenario;
  options.seed = decoded->seed;
  options.protocol = decoded->protocol;
  options.bugs = decoded->bugs;
  options.fault_plan = decoded->fault_plan;
  options.knobs = decoded->knobs;
  ShrinkOptions shrink_options;
  shrink_options.runs_max = runs_max;
  absl::StatusOr<ShrinkResult> result = Shrink(registry, options, shrink_options);
  if (!result.ok()) {
    shrunk.error = std::string(result.status().message());
    return shrunk;
  }
  shrunk.done = true;
  shrunk.token = scenarios::EncodeToken(scenarios::TokenFor(result->result, build_id));
  shrunk.invariant = result->invariant;
  shrunk.faults_before = result->faults_before;
  shrunk.faults_after = result->faults_after;
  shrunk.knobs_before = result->knobs_before;
  shrunk.knobs_after = result->knobs_after;
  shrunk.runs = result->runs;
  return shrunk;
}

Json KnobsToJson(const std::map<std::string, int64_t>& knobs) {
  Json json = Json(Json::Object{});
  for (const auto& [name, value] : knobs) json.Set(name, value);
  return json;
}

std::map<std::string, int64_t> KnobsFromJson(const Json& json) {
  std::map<std::string, int64_t> knobs;
  for (const auto& [name, value] : json.AsObject()) knobs[name] = value.AsInt();
  return knobs;
}

}  // namespace

std::vector<std::string> ExpectedInvariants(std::string_view summary) {
  summary = summary.substr(0, kSummaryLengthMax);
  const size_t trip = summary.find("should trip");
  if (trip != std::string_view::npos) {
    std::string_view rest = summary.substr(trip + std::string_view("should trip").size());
    rest = rest.substr(0, rest.find(')'));
    std::vector<std::string> words = InvariantWords(rest);
    if (!words.empty()) return words;
  }
  return InvariantWords(summary);
}

std::optional<double> MedianSeeds(const std::vector<SweepDetection>& sweeps) {
  if (sweeps.empty()) return std::nullopt;
  constexpr double kInfinite = std::numeric_limits<double>::infinity();
  std::vector<double> values;
  for (const SweepDetection& sweep : sweeps) {
    values.push_back(sweep.caught ? static_cast<double>(sweep.seeds_run) : kInfinite);
  }
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  const double median = n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
  if (median == kInfinite) return std::nullopt;
  return median;
}

Json SweepDetection::ToJson() const {
  Json json;
  json.Set("sweep", static_cast<uint64_t>(sweep));
  json.Set("first_seed", first_seed);
  json.Set("caught", caught);
  json.Set("seeds_run", seeds_run);
  json.Set("seed", seed);
  json.Set("invariant", invariant);
  json.Set("token", token);
  json.Set("other_failures", other_failures);
  if (!error.empty()) json.Set("error", error);
  return json;
}

SweepDetection SweepDetection::FromJson(const Json& json) {
  SweepDetection detection;
  detection.sweep = static_cast<uint32_t>(json["sweep"].AsInt());
  detection.first_seed = static_cast<uint64_t>(json["first_seed"].AsInt());
  detection.caught = json["caught"].AsBool();
  detection.seeds_run = static_cast<uint64_t>(json["seeds_run"].AsInt());
  detection.seed = static_cast<uint64_t>(json["seed"].AsInt());
  detection.invariant = json["invariant"].AsString();
  detection.token = json["token"].AsString();
  detection.other_failures = static_cast<uint64_t>(json["other_failures"].AsInt());
  detection.error = json["error"].AsString();
  return detection;
}

void ScenarioDetection::Summarize() {
  caught = 0;
  other_failures = 0;
  worst.reset();
  std::map<std::string, uint32_t> by_invariant;
  bool all_caught = !sweeps.empty();
  uint64_t worst_seen = 0;
  for (const SweepDetection& sweep : sweeps) {
    other_failures += sweep.other_failures;
    if (!sweep.caught) {
      all_caught = false;
      continue;
    }
    ++caught;
    ++by_invariant[sweep.invariant];
    worst_seen = std::max(worst_seen, sweep.seeds_run);
  }
  if (all_caught) worst = worst_seen;
  median = MedianSeeds(sweeps);
  invariant.clear();
  uint32_t most = 0;
  for (const auto& [name, count] : by_invariant) {  // name order breaks ties
    if (count > most) {
      most = count;
      invariant = name;
    }
  }
}

bool ScenarioDetection::BetterThan(const ScenarioDetection& other) const {
  constexpr double kInfinite = std::numeric_limits<double>::infinity();
  const double mine = median.value_or(kInfinite);
  const double theirs = other.median.value_or(kInfinite);
  if (mine != theirs) return mine < theirs;
  const uint64_t my_worst = worst.value_or(UINT64_MAX);
  const uint64_t their_worst = other.worst.value_or(UINT64_MAX);
  if (my_worst != their_worst) return my_worst < their_worst;
  return caught > other.caught;
}

Json ShrunkCase::ToJson() const {
  Json json;
  json.Set("done", done);
  json.Set("error", error);
  json.Set("token", token);
  json.Set("invariant", invariant);
  json.Set("faults_before", static_cast<uint64_t>(faults_before));
  json.Set("faults_after", static_cast<uint64_t>(faults_after));
  json.Set("knobs_before", KnobsToJson(knobs_before));
  json.Set("knobs_after", KnobsToJson(knobs_after));
  json.Set("runs", static_cast<uint64_t>(runs));
  return json;
}

ShrunkCase ShrunkCase::FromJson(const Json& json) {
  ShrunkCase shrunk;
  shrunk.done = json["done"].AsBool();
  shrunk.error = json["error"].AsString();
  shrunk.token = json["token"].AsString();
  shrunk.invariant = json["invariant"].AsString();
  shrunk.faults_before = static_cast<size_t>(json["faults_before"].AsInt());
  shrunk.faults_after = static_cast<size_t>(json["faults_after"].AsInt());
  shrunk.knobs_before = KnobsFromJson(json["knobs_before"]);
  shrunk.knobs_after = KnobsFromJson(json["knobs_after"]);
  shrunk.runs = static_cast<uint32_t>(json["runs"].AsInt());
  return shrunk;
}

std::string ShrunkCase::ToString() const {
  if (!done) return error.empty() ? "not shrunk" : "not shrunk (" + error + ")";
  std::string text = std::to_string(faults_after) + (faults_after == 1 ? " fault" : " faults") +
                     " (from " + std::to_string(faults_before) + ")";
  if (!knobs_after.empty()) text += ", " + scenarios::KnobsToString(knobs_after);
  return text;
}

Json BugDetection::ToJson() const {
  Json json;
  json.Set("bug", bug);
  json.Set("summary", summary);
  Json expected_json = Json(Json::Array{});
  for (const std::string& invariant : expected) expected_json.Append(invariant);
  json.Set("expected", std::move(expected_json));
  Json scenario_list = Json(Json::Array{});
  for (const ScenarioDetection& detection : scenarios) {
    Json entry;
    entry.Set("scenario", detection.scenario);
    entry.Set("caught", static_cast<uint64_t>(detection.caught));
    entry.Set("sweeps", static_cast<uint64_t>(detection.sweeps.size()));
    entry.Set("median", detection.median.has_value() ? Json(*detection.median) : Json());
    entry.Set("worst", detection.worst.has_value() ? Json(*detection.worst) : Json());
    entry.Set("invariant", detection.invariant);
    entry.Set("other_failures", detection.other_failures);
    Json sweep_list = Json(Json::Array{});
    for (const SweepDetection& sweep : detection.sweeps) sweep_list.Append(sweep.ToJson());
    entry.Set("per_sweep", std::move(sweep_list));
    scenario_list.Append(std::move(entry));
  }
  json.Set("scenarios", std::move(scenario_list));
  json.Set("best_scenario",
           best >= 0 ? Json(scenarios[static_cast<size_t>(best)].scenario) : Json());
  json.Set("shrunk", shrunk.ToJson());
  return json;
}

absl::StatusOr<std::vector<BugDetection>> MeasureBugzoo(
    const scenarios::ScenarioRegistry& registry, const BugzooOptions& options,
    const BugzooProgress& progress) {
  if (options.scenarios.empty() || options.bugs.empty()) {
    return absl::InvalidArgumentError("bugzoo needs at least one scenario and one bug");
  }
  if (options.sweeps == 0 || options.max_seeds == 0) {
    return absl::InvalidArgumentError("bugzoo needs at least one sweep of at least one seed");
  }
  std::vector<const scenarios::Scenario*> candidates;
  for (const std::string& name : options.scenarios) {
    const scenarios::Scenario* scenario = registry.Find(name);
    if (scenario == nullptr) return absl::InvalidArgumentError("unknown scenario '" + name + "'");
    candidates.push_back(scenario);
  }
  std::vector<BugDetection> detections;
  for (const std::string& bug : options.bugs) {
    BugDetection detection;
    detection.bug = bug;
    for (const scenarios::Scenario* scenario : candidates) {
      for (const scenarios::BugInfo& info : scenario->bugs) {
        if (info.name != bug) continue;
        if (detection.summary.empty()) detection.summary = info.summary;
        ScenarioDetection per_scenario;
        per_scenario.scenario = scenario->name;
        per_scenario.sweeps.resize(options.sweeps);
        detection.scenarios.push_back(std::move(per_scenario));
      }
    }
    if (detection.scenarios.empty()) {
      return absl::InvalidArgumentError("no selected scenario has bug '" + bug + "'");
    }
    const auto forced = options.expected_override.find(bug);
    detection.expected = forced != options.expected_override.end()
                             ? forced->second
                             : ExpectedInvariants(detection.summary);
    if (detection.expected.empty()) {
      return absl::InvalidArgumentError("bug '" + bug + "' names no invariant it should trip; "
                                        "pass --expect " + bug + "=INV,INV");
    }
    detections.push_back(std::move(detection));
  }

  // One task per (bug, scenario, sweep), sweeps of one scenario consecutive.
  struct SweepTask {
    size_t bug;
    size_t scenario;
    uint32_t sweep;
  };
  std::vector<SweepTask> tasks;
  for (size_t b = 0; b < detections.size(); ++b) {
    for (size_t s = 0; s < detections[b].scenarios.size(); ++s) {
      for (uint32_t sweep = 0; sweep < options.sweeps; ++sweep) tasks.push_back({b, s, sweep});
    }
  }
  size_t finished = 0;
  absl::Status swept = RunForked(
      options.jobs, tasks.size(),
      [&](size_t index) {
        const SweepTask& task = tasks[index];
        const BugDetection& detection = detections[task.bug];
        return RunDetectionSweep(registry, options, detection.scenarios[task.scenario].scenario,
                                 detection.bug, detection.expected, task.sweep)
            .ToJson();
      },
      [&](size_t index, Json result) {
        SIM_CHECK(index < tasks.size());
        const SweepTask& task = tasks[index];
        SweepDetection sweep = SweepDetection::FromJson(result);
        if (!result["error"].AsString().empty()) sweep.error = result["error"].AsString();
        sweep.sweep = task.sweep;
        BugDetection& detection = detections[task.bug];
        ScenarioDetection& per_scenario = detection.scenarios[task.scenario];
        ++finished;
        if (progress) {
          progress("bugzoo [" + std::to_string(finished) + "/" + std::to_string(tasks.size()) +
                   "] " + detection.bug + " on " + per_scenario.scenario + " sweep " +
                   std::to_string(task.sweep + 1) + ": " +
                   (!sweep.error.empty() ? "error: " + sweep.error
                    : sweep.caught ? "caught after " + std::to_string(sweep.seeds_run) +
                                         " seeds (seed " + std::to_string(sweep.seed) + ", " +
                                         sweep.invariant + ")"
                                   : "not caught in " + std::to_string(sweep.seeds_run) +
                                         " seeds"));
        }
        per_scenario.sweeps[task.sweep] = std::move(sweep);
      });
  if (!swept.ok()) return swept;

  std::vector<size_t> to_shrink;
  for (size_t b = 0; b < detections.size(); ++b) {
    BugDetection& detection = detections[b];
    for (size_t s = 0; s < detection.scenarios.size(); ++s) {
      ScenarioDetection& per_scenario = detection.scenarios[s];
      per_scenario.Summarize();
      if (per_scenario.caught == 0) continue;
      if (detection.best < 0 ||
          per_scenario.BetterThan(detection.scenarios[static_cast<size_t>(detection.best)])) {
        detection.best = static_cast<int>(s);
      }
    }
    if (detection.best >= 0 && options.shrink_runs > 0) to_shrink.push_back(b);
  }

  // The first detection (lowest sweep index) of each defect's best scenario, shrunk.
  auto first_detection = [&](const BugDetection& detection) -> const SweepDetection& {
    const ScenarioDetection& best = detection.scenarios[static_cast<size_t>(detection.best)];
    for (const SweepDetection& sweep : best.sweeps) {
      if (sweep.caught) return sweep;
    }
    SIM_CHECK_MSG(false, "the best scenario caught the bug in some sweep");
    return best.sweeps.front();
  };
  absl::Status shrunk_all = RunForked(
      options.jobs, to_shrink.size(),
      [&](size_t index) {
        const BugDetection& detection = detections[to_shrink[index]];
        return ShrinkDetection(registry, first_detection(detection).token, options.shrink_runs,
                               options.build_id)
            .ToJson();
      },
      [&](size_t index, Json result) {
        SIM_CHECK(index < to_shrink.size());
        BugDetection& detection = detections[to_shrink[index]];
        detection.shrunk = ShrunkCase::FromJson(result);
        if (!result["error"].AsString().empty()) {
          detection.shrunk.error = result["error"].AsString();
        }
        if (progress) progress("bugzoo: " + detection.bug + " shrunk to " +
                               detection.shrunk.ToString());
      });
  if (!shrunk_all.ok()) return shrunk_all;
  return detections;
}

std::string BugzooMarkdown(const std::vector<BugDetection>& detections,
                           const BugzooOptions& options) {
  std::string text =
      "Measured with `storsim bugzoo --sweeps " + std::to_string(options.sweeps) +
      " --max-seeds " + std::to_string(options.max_seeds) + "` (build " + options.build_id +
      "): per defect and per scenario that knows it, " + std::to_string(options.sweeps) +
      " independent sweeps over disjoint seed ranges (sweep i starts at seed " +
      std::to_string(options.first_seed) + " + i × " + std::to_string(options.max_seeds) +
      "), each stopping at the first run whose first invariant is one the defect should trip. "
      "Seeds-to-detect are for the best scenario; — means not caught within " +
      std::to_string(options.max_seeds) +
      " seeds in half the sweeps (median) or in some sweep (worst). The shrunk case is the best "
      "scenario's first detection after `storsim shrink`: faults and workload knobs left.\n\n"
      "| defect | upstream reference and expected invariants | best scenario | caught by | "
      "sweeps caught | median seeds | worst seeds | shrunk case | other scenarios |\n"
      "|---|---|---|---|---|---|---|---|---|\n";
  for (const BugDetection& detection : detections) {
    std::string expected;
    for (const std::string& invariant : detection.expected) {
      expected += (expected.empty() ? "" : " ") + invariant;
    }
    const ScenarioDetection* best =
        detection.best >= 0 ? &detection.scenarios[static_cast<size_t>(detection.best)] : nullptr;
    const ScenarioDetection& shown = best != nullptr ? *best : detection.scenarios.front();
    std::string others;
    for (const ScenarioDetection& per_scenario : detection.scenarios) {
      if (&per_scenario == &shown) continue;
      others += (others.empty() ? "" : "; ") + per_scenario.scenario + " " +
                std::to_string(per_scenario.caught) + "/" +
                std::to_string(per_scenario.sweeps.size()) + " median " +
                FormatMedian(per_scenario.median);
    }
    text += "| `" + detection.bug + "` | " + Escape(detection.summary) + " (expected: " +
            expected + ") | " + (best != nullptr ? best->scenario : "none") + " | " +
            (best != nullptr ? best->invariant : "—") + " | " + std::to_string(shown.caught) +
            "/" + std::to_string(shown.sweeps.size()) + " | " + FormatMedian(shown.median) +
            " | " +
            (shown.worst.has_value() ? std::to_string(*shown.worst)
                                     : "> " + std::to_string(options.max_seeds)) +
            " | " + (best != nullptr ? Escape(detection.shrunk.ToString()) : "—") + " | " +
            (others.empty() ? "—" : others) + " |\n";
  }
  return text;
}

}  // namespace storsim::fuzz
