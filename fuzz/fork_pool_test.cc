// Tests of the forked worker layer: lines arrive per worker in order, and a worker that dies or
// throws is an error while what it did report is still delivered.
#include "fuzz/fork_pool.h"

#include <unistd.h>

#include <map>
#include <stdexcept>
#include <vector>

#include "gtest/gtest.h"

namespace storsim::fuzz {
namespace {

Json Numbered(int64_t value) {
  Json line;
  line.Set("value", value);
  return line;
}

TEST(ForkWorkersTest, EveryLineArrivesInItsWorkersOrder) {
  std::map<int, std::vector<int64_t>> received;
  absl::Status status = ForkWorkers(
      3,
      [](int w, const EmitLine& emit) {
        for (int64_t i = 0; i < 50; ++i) {
          if (!emit(Numbered(w * 1000 + i))) return;
        }
      },
      [&](int w, Json line) { received[w].push_back(line["value"].AsInt()); });
  ASSERT_TRUE(status.ok()) << status;
  ASSERT_EQ(received.size(), 3u);
  for (const auto& [w, values] : received) {
    ASSERT_EQ(values.size(), 50u);
    for (int64_t i = 0; i < 50; ++i) EXPECT_EQ(values[static_cast<size_t>(i)], w * 1000 + i);
  }
}

TEST(ForkWorkersTest, AWorkerThatDiesIsAnErrorAndItsLinesStillArrive) {
  std::vector<int64_t> received;
  absl::Status status = ForkWorkers(
      2,
      [](int w, const EmitLine& emit) {
        emit(Numbered(w));
        if (w == 1) ::_exit(7);
      },
      [&](int, Json line) { received.push_back(line["value"].AsInt()); });
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal);
  EXPECT_EQ(received.size(), 2u);
}

TEST(ForkWorkersTest, AWorkerThatThrowsExitsInsteadOfUnwindingIntoTheParent) {
  int lines = 0;
  absl::Status status = ForkWorkers(
      2,
      [](int w, const EmitLine& emit) {
        emit(Numbered(w));
        if (w == 0) throw std::runtime_error("boom");
      },
      [&](int, Json) { ++lines; });
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal);
  EXPECT_EQ(lines, 2);
}

TEST(RunForkedTest, EveryTaskIsReportedOnceWithItsIndex) {
  std::map<size_t, int64_t> results;
  absl::Status status = RunForked(
      3, 10, [](size_t task) { return Numbered(static_cast<int64_t>(task * task)); },
      [&](size_t task, Json result) {
        EXPECT_FALSE(results.contains(task));
        results[task] = result["value"].AsInt();
      });
  ASSERT_TRUE(status.ok()) << status;
  ASSERT_EQ(results.size(), 10u);
  for (const auto& [task, value] : results) EXPECT_EQ(value, static_cast<int64_t>(task * task));
}

TEST(RunForkedTest, AThrowingTaskIsReportedAsAnErrorResult) {
  std::map<size_t, Json> results;
  absl::Status status = RunForked(
      2, 4,
      [](size_t task) -> Json {
        if (task == 2) throw std::runtime_error("task two");
        return Numbered(static_cast<int64_t>(task));
      },
      [&](size_t task, Json result) { results[task] = std::move(result); });
  ASSERT_TRUE(status.ok()) << status;
  ASSERT_EQ(results.size(), 4u);
  EXPECT_TRUE(results[2]["error"].is_string());
}

}  // namespace
}  // namespace storsim::fuzz
