// Rendering the compare-protocols page: a table and one bar chart per scenario and measure.
#include "reports/compare_report.h"

#include <algorithm>
#include <cstdio>

#include "reports/html.h"
#include "sim/check.h"

namespace storsim::reports {
namespace {

constexpr int kChartLabelWidth = 120;
constexpr int kChartBarWidth = 360;
constexpr int kChartRowHeight = 20;
constexpr size_t kCellsMax = 1000;

std::string Td(const std::string& text, const std::string& css = "") {
  return "<td" + (css.empty() ? std::string() : " class=\"" + css + "\"") + ">" +
         HtmlEscape(text) + "</td>";
}

// One horizontal bar per cell of `scenario`, scaled to the largest value; the value as text.
std::string BarChart(const std::string& caption, const std::vector<const CompareCell*>& cells,
                     int64_t (*value_of)(const CompareCell&)) {
  int64_t largest = 0;
  for (const CompareCell* cell : cells) largest = std::max(largest, value_of(*cell));
  const int height = kChartRowHeight * static_cast<int>(cells.size()) + 4;
  const int width = kChartLabelWidth + kChartBarWidth + 90;
  std::string svg = "<figure><figcaption>" + HtmlEscape(caption) +
                    "</figcaption><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
                    std::to_string(width) + "\" height=\"" + std::to_string(height) + "\">";
  int row = 0;
  for (const CompareCell* cell : cells) {
    const int64_t value = value_of(*cell);
    const int bar = largest > 0 ? static_cast<int>(static_cast<double>(value) /
                                                   static_cast<double>(largest) * kChartBarWidth)
                                : 0;
    const int y = row * kChartRowHeight + 2;
    svg += "<text x=\"0\" y=\"" + std::to_string(y + 14) + "\" class=\"lane-label\">" +
           HtmlEscape(cell->protocol) + "</text>";
    svg += "<rect x=\"" + std::to_string(kChartLabelWidth) + "\" y=\"" + std::to_string(y) +
           "\" width=\"" + std::to_string(std::max(bar, value > 0 ? 1 : 0)) + "\" height=\"" +
           std::to_string(kChartRowHeight - 4) + "\" fill=\"#5b8def\"><title>" +
           HtmlEscape(cell->protocol + ": " + FormatSeconds(value)) + "</title></rect>";
    svg += "<text x=\"" + std::to_string(kChartLabelWidth + bar + 4) + "\" y=\"" +
           std::to_string(y + 14) + "\" class=\"mark-label\">" + HtmlEscape(FormatSeconds(value)) +
           "</text>";
    ++row;
  }
  return svg + "</svg></figure>\n";
}

}  // namespace

std::string FormatSeconds(int64_t ns) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.3fs", static_cast<double>(ns) / 1e9);
  return buffer;
}

std::string RenderCompareReport(const CompareReportInput& input) {
  SIM_CHECK_MSG(input.cells.size() <= kCellsMax, "too many cells for one compare page");
  std::string body = "<h1>" + HtmlEscape(input.title) + "</h1>\n";
  body += "<p>" + std::to_string(input.seeds) + " seeds per cell, from seed " +
          std::to_string(input.first_seed) + ".</p>\n";
  for (const std::string& note : input.notes) body += "<p>" + HtmlEscape(note) + "</p>\n";

  body += "<table id=\"compare\"><tr><th>scenario</th><th>protocol</th><th>runs</th>"
          "<th>503 windows</th><th>p50</th><th>p99</th><th>max</th>"
          "<th>dual-actor total</th><th>dual-actor max</th><th>runs with dual actors</th>";
  for (const std::string& invariant : input.invariant_columns) {
    body += "<th>" + HtmlEscape(invariant) + " runs</th>";
  }
  body += "<th>other failures</th><th>generations</th><th>503 responses</th></tr>\n";
  for (const CompareCell& cell : input.cells) {
    SIM_CHECK(cell.window_p50_ns <= cell.window_p99_ns && cell.window_p99_ns <= cell.window_max_ns);
    uint64_t other = cell.failed;
    std::string split;
    for (const std::string& invariant : input.invariant_columns) {
      auto it = cell.failures_by_invariant.find(invariant);
      const uint64_t count = it == cell.failures_by_invariant.end() ? 0 : it->second;
      other -= std::min(other, count);
      split += Td(std::to_string(count), count == 0 ? "ok" : "bad");
    }
    body += "<tr>" + Td(cell.scenario) + Td(cell.protocol) + Td(std::to_string(cell.runs)) +
            Td(std::to_string(cell.windows)) + Td(FormatSeconds(cell.window_p50_ns)) +
            Td(FormatSeconds(cell.window_p99_ns)) + Td(FormatSeconds(cell.window_max_ns)) +
            Td(FormatSeconds(cell.dual_actor_total_ns), cell.dual_actor_total_ns == 0 ? "ok" : "") +
            Td(FormatSeconds(cell.dual_actor_max_ns)) +
            Td(std::to_string(cell.runs_with_dual_actor)) + split +
            Td(std::to_string(other), other == 0 ? "ok" : "bad") +
            Td(std::to_string(cell.generations)) + Td(std::to_string(cell.http_503)) + "</tr>\n";
  }
  body += "</table>\n";

  // Charts, one group per scenario in first-appearance order.
  std::vector<std::string> scenarios;
  for (const CompareCell& cell : input.cells) {
    if (std::find(scenarios.begin(), scenarios.end(), cell.scenario) == scenarios.end()) {
      scenarios.push_back(cell.scenario);
    }
  }
  for (const std::string& scenario : scenarios) {
    std::vector<const CompareCell*> cells;
    for (const CompareCell& cell : input.cells) {
      if (cell.scenario == scenario) cells.push_back(&cell);
    }
    body += "<h2>" + HtmlEscape(scenario) + "</h2>\n";
    body += BarChart("503 window p99", cells,
                     [](const CompareCell& cell) { return cell.window_p99_ns; });
    body += BarChart("503 window max", cells,
                     [](const CompareCell& cell) { return cell.window_max_ns; });
    body += BarChart("dual-actor window, total over the runs", cells,
                     [](const CompareCell& cell) { return cell.dual_actor_total_ns; });
  }
  return RenderPage(input.title, body);
}

}  // namespace storsim::reports
