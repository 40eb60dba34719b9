// libFuzzer target: FaultPlan::Decode on arbitrary bytes. It must never crash, and whatever it
// accepts must encode back to something that decodes to the same plan.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sim/check.h"
#include "sim/fault_plan.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto plan = storsim::sim::FaultPlan::Decode(text);
  if (!plan.ok()) return 0;
  auto again = storsim::sim::FaultPlan::Decode(plan->Encode());
  SIM_CHECK(again.ok());
  SIM_CHECK(*again == *plan);
  (void)plan->ToString();
  return 0;
}
