// HTML and SVG rendering.
#include "reports/html.h"

#include <algorithm>
#include <cstdio>

namespace storsim::reports {
namespace {

constexpr int kLabelWidth = 170;
constexpr int kPlotWidth = 1000;
constexpr int kLaneHeight = 30;
constexpr int kAxisHeight = 24;

const char* kStyle = R"(
body{font:13px/1.4 system-ui,sans-serif;margin:16px;color:#222}
h1{font-size:18px}h2{font-size:15px;margin-top:24px}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}
.ok{color:#1a7f37}.bad{color:#c62828;font-weight:bold}
code{background:#f4f4f4;padding:1px 3px;word-break:break-all}
#events td{font-family:monospace;font-size:12px;white-space:nowrap}
.lane-label{font:12px monospace}.mark-label{font:10px monospace;fill:#333}
)";

const char* kScript = R"(
window.onerror = function(message){ document.body.dataset.scriptError = String(message); };
function filterEvents(){
  var needle = document.getElementById('filter').value.toLowerCase();
  var rows = document.querySelectorAll('#events tbody tr');
  var shown = 0;
  rows.forEach(function(row){
    var match = row.textContent.toLowerCase().indexOf(needle) >= 0;
    row.style.display = match ? '' : 'none';
    if (match) shown++;
  });
  var counter = document.getElementById('shown');
  if (counter) counter.textContent = shown + ' shown';
}
document.addEventListener('DOMContentLoaded', function(){
  var filter = document.getElementById('filter');
  if (filter) { filter.addEventListener('input', filterEvents); filterEvents(); }
  document.body.dataset.rendered = 'ok';
});
)";

std::string Seconds(int64_t ns) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.3fs", static_cast<double>(ns) / 1e9);
  return buffer;
}

const char* SpanColor(const std::string& category) {
  if (category == "up") return "#dfe9f5";
  if (category == "paused") return "#f6d58e";
  if (category == "fault") return "#f3b4b4";
  if (category == "Leader") return "#8fd19e";
  if (category == "Candidate") return "#f0e68c";
  if (category == "SteppedDown") return "#c0c0c0";
  return "#e0e0e0";
}

const char* MarkColor(const std::string& category) {
  if (category == "fault") return "#c62828";
  if (category == "leadership") return "#2e7d32";
  if (category == "generation") return "#1565c0";
  if (category == "compute") return "#6a1b9a";
  if (category == "violation") return "#d50000";
  return "#616161";
}

std::string Page(const std::string& title, const std::string& body) {
  return "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + HtmlEscape(title) +
         "</title><style>" + kStyle + "</style><script>" + kScript + "</script></head><body>\n" +
         body + "\n</body></html>\n";
}

}  // namespace

std::string HtmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string RenderTimelineSvg(const Timeline& timeline) {
  const int64_t end = std::max<int64_t>(timeline.end_ns, 1);
  auto x = [&](int64_t ns) {
    return kLabelWidth + static_cast<int>(static_cast<double>(std::clamp<int64_t>(ns, 0, end)) /
                                          static_cast<double>(end) * kPlotWidth);
  };
  const int height = kAxisHeight + static_cast<int>(timeline.lanes.size()) * kLaneHeight + 8;
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
                    std::to_string(kLabelWidth + kPlotWidth + 20) + "\" height=\"" +
                    std::to_string(height) + "\">\n";
  for (int tick = 0; tick <= 10; ++tick) {
    const int64_t at = end / 10 * tick;
    const int tx = x(at);
    svg += "<line x1=\"" + std::to_string(tx) + "\" y1=\"" + std::to_string(kAxisHeight - 4) +
           "\" x2=\"" + std::to_string(tx) + "\" y2=\"" + std::to_string(height) +
           "\" stroke=\"#eee\"/><text x=\"" + std::to_string(tx) +
           "\" y=\"14\" class=\"mark-label\" text-anchor=\"middle\">" + Seconds(at) + "</text>\n";
  }
  for (size_t index = 0; index < timeline.lanes.size(); ++index) {
    const TimelineLane& lane = timeline.lanes[index];
    const int y = kAxisHeight + static_cast<int>(index) * kLaneHeight;
    svg += "<text x=\"4\" y=\"" + std::to_string(y + 18) + "\" class=\"lane-label\">" +
           HtmlEscape(lane.name) + "</text>\n";
    for (const auto& span : lane.spans) {
      const int x1 = x(span.from_ns);
      const int width = std::max(1, x(span.to_ns) - x1);
      const bool thin = span.category == "up";
      svg += "<rect x=\"" + std::to_string(x1) + "\" y=\"" + std::to_string(y + (thin ? 4 : 8)) +
             "\" width=\"" + std::to_string(width) + "\" height=\"" +
             std::to_string(thin ? 22 : 14) + "\" fill=\"" + SpanColor(span.category) +
             "\"><title>" + HtmlEscape(span.label.empty() ? span.category : span.label) + " " +
             Seconds(span.from_ns) + "–" + Seconds(span.to_ns) + "</title></rect>\n";
    }
    int last_label_x = -1000;
    for (const auto& mark : lane.marks) {
      const int mx = x(mark.at_ns);
      svg += "<line x1=\"" + std::to_string(mx) + "\" y1=\"" + std::to_string(y + 3) +
             "\" x2=\"" + std::to_string(mx) + "\" y2=\"" + std::to_string(y + 27) +
             "\" stroke=\"" + MarkColor(mark.category) + "\" stroke-width=\"" +
             (mark.category == "violation" ? "3" : "1") + "\"><title>" + Seconds(mark.at_ns) +
             " " + HtmlEscape(mark.detail) + "</title></line>\n";
      if (mx - last_label_x > 90 && !mark.label.empty()) {
        svg += "<text x=\"" + std::to_string(mx + 2) + "\" y=\"" + std::to_string(y + 26) +
               "\" class=\"mark-label\">" + HtmlEscape(mark.label.substr(0, 28)) + "</text>\n";
        last_label_x = mx;
      }
    }
  }
  for (const auto& violation : timeline.violations) {
    const int vx = x(violation.at_ns);
    svg += "<line x1=\"" + std::to_string(vx) + "\" y1=\"" + std::to_string(kAxisHeight) +
           "\" x2=\"" + std::to_string(vx) + "\" y2=\"" + std::to_string(height) +
           "\" stroke=\"#d50000\" stroke-dasharray=\"4 3\"><title>" +
           HtmlEscape(violation.invariant + ": " + violation.detail) + "</title></line>\n";
  }
  svg += "</svg>\n";
  return svg;
}

std::string RenderFailureReport(const FailureReportInput& input) {
  const bool ok = input.verdict == "ok";
  std::string body = "<h1>storsim: " + HtmlEscape(input.scenario) + " seed " +
                     std::to_string(input.seed) + " — <span class=\"" + (ok ? "ok" : "bad") +
                     "\">" + HtmlEscape(ok ? "every invariant held" : input.verdict) +
                     "</span></h1>\n";
  body += "<p>Replay: <code>storsim repro " + HtmlEscape(input.token) + "</code></p>\n";
  body += "<p>Trace hash <code>" + HtmlEscape(input.trace_hash) + "</code></p>\n";
  if (!input.timeline.violations.empty()) {
    body += "<h2>Violations</h2><table><tr><th>invariant</th><th>at</th><th>detail</th></tr>\n";
    for (const auto& v : input.timeline.violations) {
      body += "<tr><td class=\"bad\">" + HtmlEscape(v.invariant) + "</td><td>" +
              Seconds(v.at_ns) + "</td><td>" + HtmlEscape(v.detail) + "</td></tr>\n";
    }
    body += "</table>\n";
  }
  body += "<h2>Timeline</h2>\n" + RenderTimelineSvg(input.timeline);
  body += "<p>Spans: light blue up, yellow paused, green Leader, khaki Candidate, grey "
          "SteppedDown, pink fault. Ticks: red faults, green leadership, blue generations and "
          "attachments, purple compute configuration. Hover for details.</p>\n";
  body += "<h2>Options</h2><pre>" + HtmlEscape(input.options) + "</pre>\n";
  body += "<h2>Fault plan</h2><pre>" + HtmlEscape(input.fault_plan) + "</pre>\n";
  const size_t first = input.events.size() > kEventsMax ? input.events.size() - kEventsMax : 0;
  body += "<h2>Events</h2><p><input id=\"filter\" placeholder=\"filter events\" size=\"40\"> <span "
          "id=\"shown\"></span>" +
          (first > 0 ? " (the last " + std::to_string(kEventsMax) + " of " +
                           std::to_string(input.events.size()) + ")"
                     : std::string()) +
          "</p>\n<table id=\"events\"><thead><tr><th>#</th><th>time</th><th>process</th><th>"
          "event</th></tr></thead><tbody>\n";
  for (size_t i = first; i < input.events.size(); ++i) {
    const sim::TraceEvent& event = input.events[i];
    std::string fields;
    for (const auto& field : event.fields) {
      fields += " " + std::string(field.key) + "=" +
                (field.is_text ? field.text : std::to_string(field.number));
    }
    body += "<tr><td>" + std::to_string(event.sequence) + "</td><td>" + Seconds(event.at.nanos()) +
            "</td><td>" + std::to_string(event.process) + "</td><td>" +
            HtmlEscape(std::string(event.kind) + fields) + "</td></tr>\n";
  }
  body += "</tbody></table>\n";
  return Page("storsim " + input.scenario + " " + std::to_string(input.seed), body);
}

std::string RenderSweepReport(const SweepReportInput& input) {
  std::string body = "<h1>" + HtmlEscape(input.title) + "</h1>\n";
  char rates[160];
  std::snprintf(rates, sizeof rates, "%.1f seeds/s, %.0f simulated seconds per wall second",
                input.seeds_per_sec, input.sim_seconds_per_wall_second);
  body += "<p>" + std::to_string(input.seeds) + " runs; " + rates + "; " +
          std::to_string(input.determinism_checked) + " replayed for determinism, " +
          "<span class=\"" + (input.nondeterministic == 0 ? "ok" : "bad") + "\">" +
          std::to_string(input.nondeterministic) + " nondeterministic</span>.</p>\n";
  body += "<p class=\"" + std::string(input.failures.empty() ? "ok" : "bad") + "\">" +
          (input.failures.empty() ? std::string("No invariant was violated.")
                                  : std::to_string(input.failures.size()) +
                                        " distinct failure(s).") +
          "</p>\n";
  body += "<h2>Scenarios</h2><table><tr><th>scenario</th><th>seeds</th><th>failed</th><th>"
          "events</th><th>simulated</th></tr>\n";
  for (const auto& row : input.scenarios) {
    body += "<tr><td>" + HtmlEscape(row.scenario) + "</td><td>" + std::to_string(row.seeds) +
            "</td><td class=\"" + (row.failed == 0 ? "ok" : "bad") + "\">" +
            std::to_string(row.failed) + "</td><td>" + std::to_string(row.events) + "</td><td>" +
            Seconds(row.sim_ns) + "</td></tr>\n";
  }
  body += "</table>\n";
  if (!input.failures.empty()) {
    body += "<h2>Failures</h2><table><tr><th>scenario</th><th>seed</th><th>invariant</th><th>"
            "detail</th><th>replay</th></tr>\n";
    for (const auto& failure : input.failures) {
      const std::string seed = failure.report_link.empty()
                                   ? std::to_string(failure.seed)
                                   : "<a href=\"" + HtmlEscape(failure.report_link) + "\">" +
                                         std::to_string(failure.seed) + "</a>";
      body += "<tr><td>" + HtmlEscape(failure.scenario) + "</td><td>" + seed +
              "</td><td class=\"bad\">" + HtmlEscape(failure.invariant) + "</td><td>" +
              HtmlEscape(failure.detail) + "</td><td><code>storsim repro " +
              HtmlEscape(failure.token) + "</code></td></tr>\n";
    }
    body += "</table>\n";
  }
  body += "<h2>Coverage marks never hit</h2>\n";
  if (input.marks_missed.empty()) {
    body += "<p class=\"ok\">Every registered mark was hit.</p>\n";
  } else {
    body += "<ul>";
    for (const auto& mark : input.marks_missed) body += "<li><code>" + HtmlEscape(mark) + "</code></li>";
    body += "</ul>\n";
  }
  return Page(input.title, body);
}

std::string RenderPage(const std::string& title, const std::string& body) {
  return Page(title, body);
}

std::string RenderTableReport(const std::string& title, const std::vector<std::string>& header,
                              const std::vector<std::vector<std::string>>& rows) {
  std::string body = "<h1>" + HtmlEscape(title) + "</h1>\n<table><tr>";
  for (const auto& cell : header) body += "<th>" + HtmlEscape(cell) + "</th>";
  body += "</tr>\n";
  for (const auto& row : rows) {
    body += "<tr>";
    for (const auto& cell : row) body += "<td>" + HtmlEscape(cell) + "</td>";
    body += "</tr>\n";
  }
  body += "</table>\n";
  return Page(title, body);
}

}  // namespace storsim::reports
