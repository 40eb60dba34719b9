// A violation: one broken invariant, found by a checker (or by the runner, for SIM_CHECK failures
// and limits). Checkers in this folder read trace events only and report what they find through a
// ViolationSink; they never mutate the model, draw randomness or advance time (DESIGN.md §2).
#pragma once

#include <functional>
#include <string>

#include "sim/time.h"

namespace storsim::scenarios {

struct Violation {
  // A stable identifier: SPEC.md §10–11 ids (S1..S15, L1..L8) for the storage system, the REG*
  // ids of the register self-test, or the runner's own "SIM_CHECK", "LIMIT", "DETERMINISM".
  std::string invariant;
  sim::Instant at;     // true simulated time at which it was detected
  std::string detail;  // for people: which operations, values and times broke it

  std::string ToString() const { return invariant + " at " + at.ToString() + ": " + detail; }
};

// Where checkers send what they find. The runner's sink records the violation and asks the
// scheduler to stop, so that safety checkers fail fast.
using ViolationSink = std::function<void(Violation)>;

}  // namespace storsim::scenarios
