// The JSON the storsim command prints (DESIGN.md §6, a contract scripts and CI depend on):
// one object per run, and the fuzz summary. Objects are written on one line each, keys in a fixed
// order, so that output is stable and greppable.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "scenarios/scenario.h"

namespace storsim::cli {

// Builds one JSON object, key by key, in insertion order.
class JsonObject {
 public:
  JsonObject& String(std::string_view key, std::string_view value);
  JsonObject& Int(std::string_view key, int64_t value);
  JsonObject& Unsigned(std::string_view key, uint64_t value);
  JsonObject& Bool(std::string_view key, bool value);
  // A number with three decimals (rates); never used for anything but reporting.
  JsonObject& Rate(std::string_view key, double value);
  // `json` must already be valid JSON (an object or an array).
  JsonObject& Raw(std::string_view key, std::string json);
  std::string Build() const { return "{" + body_ + "}"; }

 private:
  void Key(std::string_view key);
  std::string body_;
};

std::string JsonStringArray(const std::vector<std::string>& values);
// Joins already-valid JSON values into an array.
std::string JsonArray(const std::vector<std::string>& elements);

// {"name": value, ...} in name order.
std::string KnobsJson(const std::map<std::string, int64_t>& knobs);

// One run: scenario, seed, token, build, protocol, bugs, ok, violations [{invariant, at_ns,
// detail}], trace_hash (16 hex digits), events, sim_ns, wall_ms, swarm, knobs {name: value},
// marks_hit, and internal_error when the run had one.
std::string RunResultJson(const scenarios::RunResult& result, const std::string& token,
                          const std::string& build_id);

}  // namespace storsim::cli
