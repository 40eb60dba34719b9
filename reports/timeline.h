// A timeline of one run, extracted from its trace: one lane per process with its up/down spans
// and labelled marks, fault spans, leadership changes, per-shard generation and attached node,
// compute configuration, and violations. It reads the event vocabulary of the model leniently:
// unknown kinds become plain ticks, missing fields are skipped, so a report never fails to render.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sim/time.h"
#include "sim/trace.h"

namespace storsim::reports {

struct TimelineMark {
  int64_t at_ns = 0;
  std::string label;     // short text shown next to the mark
  std::string category;  // "fault", "leadership", "generation", "compute", "violation", "event"
  std::string detail;    // the full event, for the tooltip
};

struct TimelineSpan {
  int64_t from_ns = 0;
  int64_t to_ns = 0;
  std::string category;  // "up", "paused", "fault", "Leader", "Candidate", "SteppedDown"
  std::string label;
};

struct TimelineLane {
  int32_t process = -1;  // -1: the harness lane (faults, violations)
  std::string name;
  std::vector<TimelineSpan> spans;
  std::vector<TimelineMark> marks;
};

struct Violation {
  std::string invariant;
  int64_t at_ns = 0;
  std::string detail;
};

struct Timeline {
  int64_t end_ns = 0;
  std::vector<TimelineLane> lanes;  // harness lane first, then processes by id
  std::vector<Violation> violations;
};

// Builds the timeline from every event of a run (in emission order) and its violations.
Timeline BuildTimeline(const std::vector<sim::TraceEvent>& events,
                       const std::vector<Violation>& violations, int64_t end_ns);

}  // namespace storsim::reports
