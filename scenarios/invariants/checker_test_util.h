// Building trace histories by hand for checker tests.
#pragma once

#include <initializer_list>
#include <string>
#include <vector>

#include "scenarios/invariants/checker.h"

namespace storsim::invariants::testing {

// A field value for Event(): integer or string.
struct F {
  F(const char* k, int64_t v) : field(sim::TraceField::Int(k, v)) {}
  F(const char* k, int v) : field(sim::TraceField::Int(k, v)) {}
  F(const char* k, const char* v) : field(sim::TraceField::Str(k, v)) {}
  F(const char* k, std::string v) : field(sim::TraceField::Str(k, std::move(v))) {}
  sim::TraceField field;
};

inline sim::TraceEvent Event(int64_t at_ms, int32_t process, std::string_view kind,
                             std::initializer_list<F> fields) {
  sim::TraceEvent event;
  event.at = sim::Instant::Zero() + sim::Duration::Millis(at_ms);
  event.process = process;
  event.kind = kind;
  for (const auto& f : fields) event.fields.push_back(f.field);
  return event;
}

// Collects violations; feeds a history to a checker.
struct Collector {
  std::vector<Violation> violations;
  ViolationSink sink() {
    return [this](Violation v) { violations.push_back(std::move(v)); };
  }
  std::string Describe() const {
    std::string out;
    for (const auto& v : violations) out += v.ToString() + "\n";
    return out;
  }
};

inline void Feed(sim::TraceObserver& checker, const std::vector<sim::TraceEvent>& events) {
  for (const auto& event : events) checker.OnEvent(event);
}

}  // namespace storsim::invariants::testing
