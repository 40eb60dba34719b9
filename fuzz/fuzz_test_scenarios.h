// Synthetic scenarios for the fuzz library's tests: small, fast, and failing in known ways, so
// sweeps, merges and shrinking can be checked against exact expectations.
//   "parity":  fails (invariant TEST1) when seed % 7 == 0, at a time that shrinks as the seed
//              grows, so "fastest failing" has one right answer.
//   "needle":  draws 12 random faults over 3 processes; fails (invariant TEST2) iff the plan holds
//              a crash of process 1 lasting at least 1 s. Shrinking must find that one fault.
//   "knobs":   knobs "size" (drawn 100..999) and "width" (drawn 5..9, clamped to 1..9), six
//              harmless pauses; fails (TEST3) iff size >= 37. Shrinking must reach size=37,
//              width=1 and no faults.
//   "zoo":     bug "zoo-bug" (should trip TEST4): fails TEST4 when seed % 7 == 0 and knob size
//              (drawn 50..99) >= 10; fails TEST5 (noise) when seed % 3 == 0, bug or not.
#pragma once

#include "scenarios/scenario.h"

namespace storsim::fuzz {

scenarios::ScenarioRegistry TestRegistry();

}  // namespace storsim::fuzz
