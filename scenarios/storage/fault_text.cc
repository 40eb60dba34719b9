// Readable fault plans: story actions by name, in time order.
#include "scenarios/storage/fault_text.h"

#include "scenarios/storage/story_helpers.h"

namespace storsim::scenarios {

std::string DescribeFault(const sim::Fault& fault) {
  StoryAction action;
  if (!IsStoryFault(fault, &action)) return fault.ToString();
  std::string out = "at " + fault.at.ToString() + " " + StoryActionName(action) +
                    " subject=" + std::to_string(fault.a);
  if (fault.value != 0) out += " value=" + std::to_string(fault.value);
  if (fault.duration > sim::Duration::Zero()) out += " for " + fault.duration.ToString();
  return out;
}

std::string DescribeFaultPlan(const sim::FaultPlan& plan) {
  if (plan.faults.empty()) return "(no faults)\n";
  std::string out;
  for (const sim::Fault& fault : plan.Sorted().faults) out += DescribeFault(fault) + "\n";
  return out;
}

}  // namespace storsim::scenarios
