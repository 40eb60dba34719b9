// The scenario registry and small helpers of the run vocabulary.
#include "scenarios/scenario.h"

#include <utility>

#include "sim/check.h"

namespace storsim::scenarios {

std::string RunResult::FirstInvariant() const {
  if (!internal_error.empty()) return "INTERNAL";
  if (!violations.empty()) return violations.front().invariant;
  return ok ? "" : "UNKNOWN";
}

bool Scenario::KnowsBug(std::string_view bug) const {
  for (const BugInfo& info : bugs) {
    if (info.name == bug) return true;
  }
  return false;
}

void ScenarioRegistry::Add(Scenario scenario) {
  SIM_CHECK_MSG(!scenario.name.empty(), "a scenario needs a name");
  SIM_CHECK_MSG(scenario.name.find(':') == std::string::npos, "scenario names cannot hold ':'");
  SIM_CHECK_MSG(scenario.body != nullptr, "a scenario needs a body");
  for (const BugInfo& bug : scenario.bugs) {
    SIM_CHECK_MSG(!bug.name.empty() && bug.name.find_first_of(":,") == std::string::npos,
                  "bug names are non-empty and hold neither ':' nor ','");
  }
  const std::string name = scenario.name;
  const bool added = scenarios_.emplace(name, std::move(scenario)).second;
  SIM_CHECK_MSG(added, "scenario registered twice");
}

const Scenario* ScenarioRegistry::Find(std::string_view name) const {
  auto it = scenarios_.find(name);
  return it == scenarios_.end() ? nullptr : &it->second;
}

std::vector<const Scenario*> ScenarioRegistry::All() const {
  std::vector<const Scenario*> all;
  all.reserve(scenarios_.size());
  for (const auto& [name, scenario] : scenarios_) all.push_back(&scenario);
  return all;
}

}  // namespace storsim::scenarios
