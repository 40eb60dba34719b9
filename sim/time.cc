// Formatting of simulated time for logs and reports.
#include "sim/time.h"

#include <cstdio>

namespace storsim::sim {

std::string Duration::ToString() const {
  char buffer[48];
  int64_t n = ns_;
  const char* sign = n < 0 ? "-" : "";
  if (n < 0) n = -n;
  if (n % 1000'000'000 == 0) {
    std::snprintf(buffer, sizeof buffer, "%s%llds", sign, static_cast<long long>(n / 1000'000'000));
  } else if (n % 1000'000 == 0) {
    std::snprintf(buffer, sizeof buffer, "%s%lldms", sign, static_cast<long long>(n / 1000'000));
  } else if (n % 1000 == 0) {
    std::snprintf(buffer, sizeof buffer, "%s%lldus", sign, static_cast<long long>(n / 1000));
  } else {
    std::snprintf(buffer, sizeof buffer, "%s%lldns", sign, static_cast<long long>(n));
  }
  return buffer;
}

std::string Instant::ToString() const {
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, "%lld.%09llds", static_cast<long long>(ns_ / 1000'000'000),
                static_cast<long long>(ns_ % 1000'000'000));
  return buffer;
}

}  // namespace storsim::sim
