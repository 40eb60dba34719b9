// The built-in scenarios. A new scenario adds its Register...() declaration to its own header and
// one call here; `storsim list` shows them in name order.
#include "scenarios/register/register_scenario.h"
#include "scenarios/scenario.h"
#include "scenarios/storage/storage_world.h"

namespace storsim::scenarios {

const ScenarioRegistry& DefaultRegistry() {
  static const ScenarioRegistry* registry = [] {
    auto* built = new ScenarioRegistry();
    RegisterRegisterScenario(*built);
    RegisterStorageScenarios(*built);
    return built;
  }();
  return *registry;
}

}  // namespace storsim::scenarios
