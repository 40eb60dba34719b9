// Timeline extraction, HTML rendering, and a real render in headless Chromium.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>

#include "reports/compare_report.h"
#include "reports/html.h"
#include "reports/timeline.h"

namespace storsim::reports {
namespace {

sim::TraceEvent Event(int64_t at_ms, int32_t process, std::string_view kind,
                      std::vector<sim::TraceField> fields) {
  sim::TraceEvent event;
  event.at = sim::Instant::Zero() + sim::Duration::Millis(at_ms);
  event.process = process;
  event.kind = kind;
  event.fields = std::move(fields);
  return event;
}

std::vector<sim::TraceEvent> SampleRun() {
  using F = sim::TraceField;
  return {
      Event(0, -1, "process.start", {F::Int("pid", 0), F::Str("name", "controller-0")}),
      Event(0, -1, "process.start", {F::Int("pid", 1), F::Str("name", "pageserver-1")}),
      Event(10, 0, "ctl.status", {F::Str("status", "Leader")}),
      Event(20, 0, "ctl.generation", {F::Str("shard", "t1"), F::Int("generation", 1), F::Int("node", 1)}),
      Event(30, 1, "ps.attach", {F::Str("shard", "t1"), F::Str("mode", "AttachedSingle"), F::Int("gen", 1)}),
      Event(1000, -1, "fault", {F::Str("kind", "crash"), F::Int("a", 1), F::Int("b", -1), F::Int("duration_ns", 2'000'000'000)}),
      Event(1000, -1, "process.down", {F::Int("pid", 1), F::Str("reason", "crash")}),
      Event(3000, -1, "process.start", {F::Int("pid", 1), F::Str("name", "pageserver-1")}),
      Event(4000, 0, "ctl.status", {F::Str("status", "SteppedDown")}),
      Event(5000, 1, "odd.kind", {F::Str("text", "<script>alert(1)</script>")}),
  };
}

TEST(TimelineTest, LanesSpansAndMarksComeFromTheTrace) {
  const Timeline timeline = BuildTimeline(SampleRun(), {{"S8", 4500'000'000, "layer missing"}}, 6000'000'000);
  ASSERT_EQ(timeline.lanes.size(), 3u);  // harness, controller-0, pageserver-1
  EXPECT_EQ(timeline.lanes[0].name, "faults & checks");
  EXPECT_EQ(timeline.lanes[1].name, "controller-0");
  EXPECT_EQ(timeline.lanes[2].name, "pageserver-1");
  // The pageserver was up twice: 0–1 s and 3–6 s.
  std::vector<std::pair<int64_t, int64_t>> up;
  for (const auto& span : timeline.lanes[2].spans) {
    if (span.category == "up") up.push_back({span.from_ns, span.to_ns});
  }
  EXPECT_EQ(up, (std::vector<std::pair<int64_t, int64_t>>{{0, 1000'000'000}, {3000'000'000, 6000'000'000}}));
  // The controller was Leader from 10 ms to 4 s, then SteppedDown to the end.
  std::vector<std::string> statuses;
  for (const auto& span : timeline.lanes[1].spans) statuses.push_back(span.category);
  EXPECT_NE(std::find(statuses.begin(), statuses.end(), "Leader"), statuses.end());
  EXPECT_NE(std::find(statuses.begin(), statuses.end(), "SteppedDown"), statuses.end());
  // The crash is a 2 s fault span on the harness lane, and the violation a mark there.
  ASSERT_FALSE(timeline.lanes[0].spans.empty());
  EXPECT_EQ(timeline.lanes[0].spans[0].to_ns - timeline.lanes[0].spans[0].from_ns, 2000'000'000);
  bool violation_mark = false;
  for (const auto& mark : timeline.lanes[0].marks) violation_mark |= mark.category == "violation";
  EXPECT_TRUE(violation_mark);
}

FailureReportInput SampleReport() {
  FailureReportInput input;
  input.scenario = "controller-roll";
  input.seed = 7;
  input.token = "v1:abc:controller-roll:7:step-down::";
  input.verdict = "S8";
  input.options = "pageservers=2 tenants=1";
  input.fault_plan = "at 1s crash p1 for 2s\n";
  input.trace_hash = "0123456789abcdef";
  input.events = SampleRun();
  input.timeline = BuildTimeline(input.events, {{"S8", 4500'000'000, "layer <missing>"}}, 6000'000'000);
  return input;
}

TEST(HtmlTest, FailureReportIsSelfContainedAndEscaped) {
  const std::string html = RenderFailureReport(SampleReport());
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("storsim repro v1:abc:controller-roll:7:step-down::"), std::string::npos);
  EXPECT_EQ(html.find("<script>alert(1)"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)"), std::string::npos);
  EXPECT_EQ(html.find("http://"), html.find("http://www.w3.org/2000/svg"));  // nothing fetched
  EXPECT_EQ(html.find("src="), std::string::npos);
}

TEST(HtmlTest, SweepReportListsFailuresAndMissedMarks) {
  SweepReportInput input;
  input.title = "sweep";
  input.seeds = 10;
  input.scenarios = {{"register", 10, 1, 1000, 5'000'000'000}};
  input.failures = {{"register", 3, "REG1", "stale read", "v1:x:register:3:::", "failures/a.html"}};
  input.marks_missed = {"drain.cancelled"};
  const std::string html = RenderSweepReport(input);
  EXPECT_NE(html.find("REG1"), std::string::npos);
  EXPECT_NE(html.find("href=\"failures/a.html\""), std::string::npos);
  EXPECT_NE(html.find("drain.cancelled"), std::string::npos);
}

CompareReportInput SampleComparison() {
  CompareReportInput input;
  input.title = "leadership protocols";
  input.seeds = 3;
  CompareCell step_down;
  step_down.scenario = "controller-roll";
  step_down.protocol = "step-down";
  step_down.runs = 3;
  step_down.windows = 6;
  step_down.window_p50_ns = 400'000'000;
  step_down.window_p99_ns = 900'000'000;
  step_down.window_max_ns = 900'000'000;
  step_down.generations = 30;
  CompareCell naive = step_down;
  naive.protocol = "naive <unfenced>";
  naive.failed = 2;
  naive.failures_by_invariant = {{"S2", 1}, {"L1", 1}};
  naive.dual_actor_total_ns = 7'500'000'000;
  naive.dual_actor_max_ns = 5'000'000'000;
  naive.runs_with_dual_actor = 2;
  input.cells = {step_down, naive};
  input.notes = {"windows are server side"};
  return input;
}

TEST(HtmlTest, CompareReportHasTheTableAndBars) {
  const std::string html = RenderCompareReport(SampleComparison());
  EXPECT_NE(html.find("<table id=\"compare\">"), std::string::npos);
  EXPECT_NE(html.find("naive &lt;unfenced&gt;"), std::string::npos);
  EXPECT_EQ(html.find("naive <unfenced>"), std::string::npos);
  EXPECT_NE(html.find("7.500s"), std::string::npos);
  // The naive row: S2 1 (bad), other failures 1 (L1).
  EXPECT_NE(html.find("<td class=\"bad\">1</td><td class=\"ok\">0</td><td class=\"ok\">0</td>"
                      "<td class=\"bad\">1</td>"),
            std::string::npos);
  // Three charts for the one scenario, the longest dual-actor bar at full width.
  size_t charts = 0;
  for (size_t at = html.find("<svg"); at != std::string::npos; at = html.find("<svg", at + 1)) ++charts;
  EXPECT_EQ(charts, 3u);
  EXPECT_NE(html.find("width=\"360\""), std::string::npos);
  EXPECT_EQ(FormatSeconds(1'234'567'890), "1.235s");
}

// Runs a command and returns its standard output.
std::string Capture(const std::string& command) {
  std::string out;
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  if (!pipe) return out;
  std::array<char, 4096> buffer;
  size_t n;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe.get())) > 0) out.append(buffer.data(), n);
  return out;
}

TEST(BrowserTest, ReportsRenderInHeadlessChromiumWithoutScriptErrors) {
  ASSERT_TRUE(std::filesystem::exists("/usr/bin/chromium"))
      << "chromium is missing: scripts/install-deps.sh installs it";
  const std::string dir = testing::TempDir() + "/storsim_report_render";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir + "/profile");
  SweepReportInput sweep;
  sweep.title = "sweep";
  const std::vector<std::pair<std::string, std::string>> pages = {
      {"failure.html", RenderFailureReport(SampleReport())},
      {"sweep.html", RenderSweepReport(sweep)},
      {"table.html", RenderTableReport("protocols", {"protocol", "p99"}, {{"step-down", "1.2s"}})},
      {"compare.html", RenderCompareReport(SampleComparison())}};
  for (const auto& [name, html] : pages) {
    std::ofstream(dir + "/" + name) << html;
    const std::string dom = Capture(
        "timeout 120 /usr/bin/chromium --headless --no-sandbox --disable-gpu --disable-quic "
        "--no-first-run --disable-background-networking --disable-component-update "
        "--disable-sync --user-data-dir=" + dir + "/profile --dump-dom file://" + dir + "/" +
        name + " 2>/dev/null");
    EXPECT_NE(dom.find("data-rendered=\"ok\""), std::string::npos) << name << ":\n" << dom.substr(0, 500);
    EXPECT_EQ(dom.find("data-script-error"), std::string::npos) << name;
  }
}

}  // namespace
}  // namespace storsim::reports
