// Fault plans as a person reads them. A storage story's action travels in the plan as a kernel
// fault with a marker in `b` (story_helpers.h); printed raw it reads "heal_all p0 -> p700005".
// Here it reads "at 46763ms db_down subject=0 for 1733ms", and a kernel fault as Fault::ToString.
#pragma once

#include <string>

#include "sim/fault_plan.h"

namespace storsim::scenarios {

std::string DescribeFault(const sim::Fault& fault);
// One fault per line (each ending in '\n'), in time order (ties keep plan order);
// "(no faults)\n" for an empty plan.
std::string DescribeFaultPlan(const sim::FaultPlan& plan);

}  // namespace storsim::scenarios
