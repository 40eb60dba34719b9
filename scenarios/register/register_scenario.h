// The kernel self-test scenario "register": 3–5 replicas of an ABD register (register_model.h),
// 2–3 clients, a random fault plan over all of them drawn from the seed's swarm options, then
// heal, stop the clients, a quiet period, and a final read by an auditor. Checked by
// RegisterChecker (REG0–REG3 continuously, REG-L1 at the end).
//
// Timeline (true time):  0 .. kFaultPhase        faults per the plan, clients read and write
//                        kFaultPhase             heal everything; clients asked to stop
//                        + kQuietPeriod          the auditor's final read starts
//                        + kFinalReadBound       liveness verdict
#pragma once

#include "scenarios/scenario.h"
#include "sim/time.h"

namespace storsim::scenarios {

inline constexpr const char* kRegisterScenarioName = "register";
inline constexpr const char* kRegisterBugReadOne = "register-read-one";

inline constexpr sim::Duration kRegisterFaultPhase = sim::Duration::Seconds(10);
inline constexpr sim::Duration kRegisterQuietPeriod = sim::Duration::Seconds(5);
inline constexpr sim::Duration kRegisterFinalReadBound = sim::Duration::Seconds(12);

void RegisterRegisterScenario(ScenarioRegistry& registry);

}  // namespace storsim::scenarios
