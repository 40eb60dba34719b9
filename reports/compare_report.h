// The compare-protocols page (storsim compare-protocols --html FILE): per scenario and
// leadership protocol, the 503/unavailability windows, the dual-actor window, the runs failing
// each split-brain invariant and the generations issued — a table plus simple SVG bar charts.
// Self-contained like every report page (html.h): no external files, no network.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace storsim::reports {

// One (scenario, protocol) cell, aggregated over its seeds.
struct CompareCell {
  std::string scenario;
  std::string protocol;
  uint64_t runs = 0;
  uint64_t failed = 0;           // runs with any violation (or an internal error)
  uint64_t internal_errors = 0;
  // Runs stop at their first violation, so each failed run counts once, under that invariant.
  std::map<std::string, uint64_t> failures_by_invariant;
  uint64_t windows = 0;  // unavailability (503) windows over all runs
  int64_t window_p50_ns = 0;
  int64_t window_p99_ns = 0;
  int64_t window_max_ns = 0;
  int64_t dual_actor_total_ns = 0;  // summed over the runs
  int64_t dual_actor_max_ns = 0;    // the longest single window
  uint64_t runs_with_dual_actor = 0;
  int64_t generations = 0;  // summed over the runs
  int64_t http_503 = 0;     // summed over the runs
};

struct CompareReportInput {
  std::string title;
  uint64_t seeds = 0;
  uint64_t first_seed = 1;
  // The invariants given their own column (the split-brain ones); other failures are summed.
  std::vector<std::string> invariant_columns = {"S1", "S2", "S3", "S4"};
  std::vector<CompareCell> cells;  // in display order
  std::vector<std::string> notes;  // paragraphs under the title (plain text, escaped)
};

// The page. Precondition: every cell's windows/percentiles are consistent (p50 ≤ p99 ≤ max).
std::string RenderCompareReport(const CompareReportInput& input);

// "1.234s" for a duration in ns (also used by the text table).
std::string FormatSeconds(int64_t ns);

}  // namespace storsim::reports
