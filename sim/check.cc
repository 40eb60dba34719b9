// Failure reporting for SIM_CHECK and the coverage-mark registry.
#include "sim/check.h"

#include <string>

namespace storsim::sim {

CheckContext& CurrentCheckContext() {
  static CheckContext context;
  return context;
}

void FailCheck(const char* condition, const char* file, int line, std::string_view message) {
  std::string what = std::string("SIM_CHECK failed: ") + condition;
  if (!message.empty()) {
    what += " (";
    what += message;
    what += ")";
  }
  what += " at ";
  what += file;
  what += ":" + std::to_string(line);
  const CheckContext& context = CurrentCheckContext();
  if (context.active) {
    what += " simulated_ns=" + std::to_string(context.now_nanos) +
            " seed=" + std::to_string(context.seed);
  }
  throw InvariantViolation(std::move(what), file, line);
}

Marks& Marks::Global() {
  static Marks marks;
  return marks;
}

void Marks::Register(std::string_view name) { counts_.try_emplace(std::string(name), 0); }

void Marks::Hit(std::string_view name) {
  auto it = counts_.find(name);
  if (it == counts_.end()) it = counts_.emplace(std::string(name), 0).first;
  ++it->second;
}

void Marks::ResetHits() {
  for (auto& [name, count] : counts_) count = 0;
}

}  // namespace storsim::sim
