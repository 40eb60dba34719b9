// RunRecord <-> JSON and construction from a RunResult.
#include "fuzz/run_record.h"

#include "scenarios/runner.h"
#include "scenarios/storage/fault_text.h"
#include "scenarios/token.h"

namespace storsim::fuzz {
namespace {
Json Strings(const std::vector<std::string>& values) {
  Json array = Json(Json::Array{});
  for (const auto& v : values) array.Append(v);
  return array;
}
std::vector<std::string> StringsFrom(const Json& json) {
  std::vector<std::string> values;
  for (const auto& v : json.AsArray()) values.push_back(v.AsString());
  return values;
}
}  // namespace

Json RunRecord::ToJson() const {
  Json json;
  json.Set("scenario", scenario);
  json.Set("seed", seed);
  json.Set("token", token);
  json.Set("ok", ok);
  json.Set("invariant", invariant);
  json.Set("detail", detail);
  json.Set("at_ns", at_ns);
  json.Set("sim_ns", sim_ns);
  json.Set("events", events);
  json.Set("wall_ms", wall_ms);
  json.Set("trace_hash", trace_hash);
  json.Set("fault_plan", fault_plan);
  json.Set("knobs", knobs);
  json.Set("swarm", swarm);
  json.Set("protocol", protocol);
  json.Set("bugs", Strings(bugs));
  json.Set("marks_hit", Strings(marks_hit));
  json.Set("determinism_checked", determinism_checked);
  json.Set("deterministic", deterministic);
  json.Set("divergence", divergence);
  return json;
}

RunRecord RunRecord::FromJson(const Json& json) {
  RunRecord record;
  record.scenario = json["scenario"].AsString();
  record.seed = static_cast<uint64_t>(json["seed"].AsInt());
  record.token = json["token"].AsString();
  record.ok = json["ok"].AsBool(true);
  record.invariant = json["invariant"].AsString();
  record.detail = json["detail"].AsString();
  record.at_ns = json["at_ns"].AsInt();
  record.sim_ns = json["sim_ns"].AsInt();
  record.events = static_cast<uint64_t>(json["events"].AsInt());
  record.wall_ms = json["wall_ms"].AsInt();
  record.trace_hash = json["trace_hash"].AsString();
  record.fault_plan = json["fault_plan"].AsString();
  record.knobs = json["knobs"].AsString();
  record.swarm = json["swarm"].AsString();
  record.protocol = json["protocol"].AsString();
  record.bugs = StringsFrom(json["bugs"]);
  record.marks_hit = StringsFrom(json["marks_hit"]);
  record.determinism_checked = json["determinism_checked"].AsBool();
  record.deterministic = json["deterministic"].AsBool(true);
  record.divergence = json["divergence"].AsString();
  return record;
}

RunRecord RecordFor(const scenarios::RunResult& result, const std::string& build_id) {
  RunRecord record;
  record.scenario = result.options.scenario;
  record.seed = result.options.seed;
  record.token = scenarios::EncodeToken(scenarios::TokenFor(result, build_id));
  record.ok = result.ok;
  record.invariant = result.FirstInvariant();
  if (!result.violations.empty()) {
    record.detail = result.violations.front().detail;
    record.at_ns = result.violations.front().at.nanos();
  } else if (!result.internal_error.empty()) {
    record.detail = result.internal_error;
  }
  record.sim_ns = result.sim_ns;
  record.events = result.events;
  record.wall_ms = result.wall_ms;
  record.trace_hash = scenarios::HashToHex(result.trace_hash);
  record.fault_plan = scenarios::DescribeFaultPlan(result.fault_plan);
  record.knobs = scenarios::KnobsToString(result.knobs);
  record.swarm = result.swarm;
  record.protocol = result.options.protocol;
  record.bugs.assign(result.options.bugs.begin(), result.options.bugs.end());
  record.marks_hit = result.marks_hit;
  return record;
}

}  // namespace storsim::fuzz
