// JSON output of the storsim command.
#include "cli/json.h"

#include <cstdio>

#include "scenarios/runner.h"
#include "sim/trace_writers.h"

namespace storsim::cli {

void JsonObject::Key(std::string_view key) {
  if (!body_.empty()) body_ += ',';
  body_ += '"';
  body_ += sim::JsonEscape(key);
  body_ += "\":";
}

JsonObject& JsonObject::String(std::string_view key, std::string_view value) {
  Key(key);
  body_ += '"';
  body_ += sim::JsonEscape(value);
  body_ += '"';
  return *this;
}

JsonObject& JsonObject::Int(std::string_view key, int64_t value) {
  Key(key);
  body_ += std::to_string(value);
  return *this;
}

JsonObject& JsonObject::Unsigned(std::string_view key, uint64_t value) {
  Key(key);
  body_ += std::to_string(value);
  return *this;
}

JsonObject& JsonObject::Bool(std::string_view key, bool value) {
  Key(key);
  body_ += value ? "true" : "false";
  return *this;
}

JsonObject& JsonObject::Rate(std::string_view key, double value) {
  Key(key);
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.3f", value);
  body_ += buffer;
  return *this;
}

JsonObject& JsonObject::Raw(std::string_view key, std::string json) {
  Key(key);
  body_ += json;
  return *this;
}

std::string JsonArray(const std::vector<std::string>& elements) {
  std::string out = "[";
  for (size_t i = 0; i < elements.size(); ++i) {
    if (i > 0) out += ',';
    out += elements[i];
  }
  return out + "]";
}

std::string JsonStringArray(const std::vector<std::string>& values) {
  std::vector<std::string> quoted;
  quoted.reserve(values.size());
  for (const std::string& value : values) quoted.push_back("\"" + sim::JsonEscape(value) + "\"");
  return JsonArray(quoted);
}

std::string KnobsJson(const std::map<std::string, int64_t>& knobs) {
  JsonObject object;
  for (const auto& [name, value] : knobs) object.Int(name, value);
  return object.Build();
}

std::string RunResultJson(const scenarios::RunResult& result, const std::string& token,
                          const std::string& build_id) {
  std::vector<std::string> violations;
  for (const scenarios::Violation& violation : result.violations) {
    violations.push_back(JsonObject()
                             .String("invariant", violation.invariant)
                             .Int("at_ns", violation.at.nanos())
                             .String("detail", violation.detail)
                             .Build());
  }
  JsonObject object;
  object.String("scenario", result.options.scenario)
      .Unsigned("seed", result.options.seed)
      .String("token", token)
      .String("build", build_id)
      .String("protocol", result.options.protocol)
      .Raw("bugs", JsonStringArray({result.options.bugs.begin(), result.options.bugs.end()}))
      .Bool("ok", result.ok)
      .Raw("violations", JsonArray(violations))
      .String("trace_hash", scenarios::HashToHex(result.trace_hash))
      .Unsigned("events", result.events)
      .Int("sim_ns", result.sim_ns)
      .Int("wall_ms", result.wall_ms)
      .String("swarm", result.swarm)
      .Raw("knobs", KnobsJson(result.knobs))
      .Raw("marks_hit", JsonStringArray(result.marks_hit));
  if (!result.internal_error.empty()) object.String("internal_error", result.internal_error);
  return object.Build();
}

}  // namespace storsim::cli
