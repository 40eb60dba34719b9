// Self-contained HTML reports (no external files, no network): a failure report with an SVG
// timeline of processes over simulated time and a filterable event table, and a sweep report.
// Every page sets <body data-rendered="ok"> from its script once it has run, and records any
// script error in data-script-error, so a headless browser can prove it renders cleanly.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "reports/timeline.h"
#include "sim/trace.h"

namespace storsim::reports {

struct FailureReportInput {
  std::string scenario;
  uint64_t seed = 0;
  std::string token;
  std::string verdict;      // "ok" or the first invariant violated
  std::string options;      // swarm options and the rest, human-readable
  std::string fault_plan;   // FaultPlan::ToString()
  std::string trace_hash;
  Timeline timeline;
  std::vector<sim::TraceEvent> events;  // for the table; the newest kEventsMax are kept
};
inline constexpr size_t kEventsMax = 20'000;

std::string RenderFailureReport(const FailureReportInput& input);

// The SVG timeline alone (embedded by the failure report; exposed for tests).
std::string RenderTimelineSvg(const Timeline& timeline);

struct SweepReportRow {
  std::string scenario;
  uint64_t seeds = 0;
  uint64_t failed = 0;
  uint64_t events = 0;
  int64_t sim_ns = 0;
};
struct SweepReportFailure {
  std::string scenario;
  uint64_t seed = 0;
  std::string invariant;
  std::string detail;
  std::string token;
  std::string report_link;  // relative link to its failure report, or ""
};
struct SweepReportInput {
  std::string title;
  uint64_t seeds = 0;
  double seeds_per_sec = 0;
  double sim_seconds_per_wall_second = 0;
  uint64_t determinism_checked = 0;
  uint64_t nondeterministic = 0;
  std::vector<SweepReportRow> scenarios;
  std::vector<SweepReportFailure> failures;
  std::vector<std::string> marks_missed;
};

std::string RenderSweepReport(const SweepReportInput& input);

// A titled table (compare-protocols): header cells and rows of cells, escaped.
std::string RenderTableReport(const std::string& title, const std::vector<std::string>& header,
                              const std::vector<std::vector<std::string>>& rows);

std::string HtmlEscape(std::string_view text);

// A whole page around `body` (already HTML): the shared style and the render-check script that
// sets <body data-rendered="ok">. For report pages defined in other files (compare_report.h).
std::string RenderPage(const std::string& title, const std::string& body);

}  // namespace storsim::reports
