// `storsim compare-protocols` and the run metrics as scripts see them: the built binary run
// through the shell with a tiny number of seeds; exit codes, the JSON on stdout, the table and
// the HTML page. Also RunMetricsLine/RunMetricsJson directly.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "cli/binary_run_test_util.h"
#include "cli/commands.h"
#include "fuzz/json.h"

#ifndef STORSIM_BINARY
#error "STORSIM_BINARY must name the built storsim binary"
#endif

namespace storsim::cli {
namespace {

using Outcome = BinaryOutcome;

std::string ReadFile(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

Outcome Storsim(const std::string& arguments) {
  return RunBinary(STORSIM_BINARY, arguments, "compare_test");
}

TEST(CompareProtocolsTest, TinyComparisonPrintsJsonTableAndPage) {
  const std::string html = ::testing::TempDir() + "compare_" + std::to_string(getpid()) + ".html";
  const Outcome outcome = Storsim(
      "compare-protocols --seeds 1 --start-seed 3 --scenarios controller-roll "
      "--protocols step-down,naive --json --html " + html);
  ASSERT_EQ(outcome.exit_code, 0) << outcome.err;
  absl::StatusOr<fuzz::Json> json = fuzz::Json::Parse(outcome.out);
  ASSERT_TRUE(json.ok()) << json.status() << "\n" << outcome.out;
  EXPECT_EQ((*json)["seeds"].AsInt(), 1);
  EXPECT_EQ((*json)["first_seed"].AsInt(), 3);
  const fuzz::Json::Array& cells = (*json)["cells"].AsArray();
  ASSERT_EQ(cells.size(), 2u);
  EXPECT_EQ(cells[0]["protocol"].AsString(), "step-down");
  EXPECT_EQ(cells[1]["protocol"].AsString(), "naive");
  for (const fuzz::Json& cell : cells) {
    EXPECT_EQ(cell["scenario"].AsString(), "controller-roll");
    EXPECT_EQ(cell["runs"].AsInt(), 1);
    EXPECT_EQ(cell["internal_errors"].AsInt(), 0);
    // Two rollouts of the controller: the old leader goes away at least once.
    EXPECT_GE(cell["windows"].AsInt(), 1) << cell.Dump();
    EXPECT_GT(cell["window_max_ns"].AsInt(), 0) << cell.Dump();
    EXPECT_LE(cell["window_p50_ns"].AsInt(), cell["window_p99_ns"].AsInt());
    EXPECT_LE(cell["window_p99_ns"].AsInt(), cell["window_max_ns"].AsInt());
    EXPECT_GT(cell["generations"].AsInt(), 0) << cell.Dump();
  }
  // With --json the table goes to stderr.
  EXPECT_NE(outcome.err.find("controller-roll    step-down"), std::string::npos) << outcome.err;
  const std::string page = ReadFile(html);
  EXPECT_NE(page.find("<table id=\"compare\">"), std::string::npos);
  EXPECT_NE(page.find("<svg"), std::string::npos);

  // Without --json the table is the standard output.
  const Outcome table = Storsim(
      "compare-protocols --seeds 1 --scenarios controller-roll --protocols step-down");
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_EQ(table.out.rfind("scenario ", 0), 0u) << table.out;
  EXPECT_NE(table.out.find("step-down"), std::string::npos);
}

TEST(CompareProtocolsTest, BadInputExitsTwoWithAMessage) {
  struct Case {
    const char* arguments;
    const char* message;
  };
  for (const Case& c : {
           Case{"compare-protocols --seeds 0", "--seeds must be in 1..100000"},
           Case{"compare-protocols --seeds many", "'many' is not"},
           Case{"compare-protocols --protocols step-down,raft", "unknown protocol 'raft'"},
           Case{"compare-protocols --scenarios controller-roll,nope", "unknown scenario 'nope'"},
           Case{"compare-protocols --scenarios controller-roll,", "unknown scenario ''"},
           Case{"compare-protocols --html /nonexistent/dir/x.html", "cannot write --html"},
           Case{"compare-protocols --jobs 0", "--jobs must be in"},
           Case{"compare-protocols --frobnicate", "unknown flag"},
       }) {
    const Outcome outcome = Storsim(c.arguments);
    EXPECT_EQ(outcome.exit_code, 2) << c.arguments;
    EXPECT_NE(outcome.err.find(c.message), std::string::npos) << c.arguments << ": " << outcome.err;
  }
  const Outcome help = Storsim("help compare-protocols");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("usage: storsim compare-protocols"), std::string::npos);
  EXPECT_NE(Storsim("help").out.find("compare-protocols"), std::string::npos);
}

TEST(RunMetricsOutputTest, RunJsonCarriesTheMetrics) {
  const Outcome run = Storsim("run --scenario controller-roll --seed 2 --json");
  ASSERT_LE(run.exit_code, 1) << run.err;
  absl::StatusOr<fuzz::Json> json = fuzz::Json::Parse(run.out);
  ASSERT_TRUE(json.ok()) << json.status() << "\n" << run.out;
  const fuzz::Json& metrics = (*json)["metrics"];
  ASSERT_TRUE(metrics.is_object()) << run.out;
  EXPECT_EQ(metrics["events"].AsInt(), (*json)["events"].AsInt());
  EXPECT_GE(metrics["unavailable_windows"].AsInt(), 1);
  EXPECT_EQ(static_cast<int64_t>(metrics["unavailable_window_ns"].AsArray().size()),
            metrics["unavailable_windows"].AsInt());
  EXPECT_GT(metrics["generations"].AsInt(), 0);
  EXPECT_NE(run.err.find("  metrics: unavailable "), std::string::npos) << run.err;
}

TEST(RunMetricsOutputTest, LineAndJsonFromAResult) {
  scenarios::RunResult result;
  EXPECT_EQ(RunMetricsLine(result), "(none)");
  EXPECT_EQ(RunMetricsJson(result), "{}");
  result.metrics = {{"unavailable_windows", 2}, {"unavailable_total_ns", 3'000'000'000},
                    {"unavailable_max_ns", 2'000'000'000}, {"generations", 7}};
  result.metric_samples = {{"unavailable_window_ns", {1'000'000'000, 2'000'000'000}}};
  const std::string line = RunMetricsLine(result);
  EXPECT_NE(line.find("unavailable 2 window(s), total 3.000s, max 2.000s"), std::string::npos)
      << line;
  EXPECT_NE(line.find("generations 7"), std::string::npos) << line;
  absl::StatusOr<fuzz::Json> json = fuzz::Json::Parse(RunMetricsJson(result));
  ASSERT_TRUE(json.ok());
  EXPECT_EQ((*json)["unavailable_window_ns"].AsArray().size(), 2u);
  EXPECT_EQ((*json)["generations"].AsInt(), 7);
}

}  // namespace
}  // namespace storsim::cli
