// libFuzzer target: the replay-token decoder on arbitrary bytes. It must never crash, and a
// token it accepts must re-encode to one that decodes to the same token.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "scenarios/token.h"
#include "sim/check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto token = storsim::scenarios::DecodeToken(text);
  if (!token.ok()) return 0;
  auto again = storsim::scenarios::DecodeToken(storsim::scenarios::EncodeToken(*token));
  SIM_CHECK(again.ok());
  SIM_CHECK(*again == *token);
  return 0;
}
