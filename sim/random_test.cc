// Random: reproducible streams, fork independence, distribution bounds.
#include "sim/random.h"

#include <gtest/gtest.h>

#include <map>
#include <vector>

namespace storsim::sim {
namespace {

TEST(RandomTest, SameSeedSameSequenceDifferentSeedDifferent) {
  Random a(42), b(42), c(43);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    const uint64_t x = a.Next64();
    EXPECT_EQ(x, b.Next64());
    if (x != c.Next64()) differs = true;
  }
  EXPECT_TRUE(differs);
}

TEST(RandomTest, ForkedStreamIsUnaffectedByDrawsOnSiblingsAndParent) {
  Random root(7);
  Random network_alone = root.Fork("network");
  std::vector<uint64_t> expected;
  for (int i = 0; i < 50; ++i) expected.push_back(network_alone.Next64());

  Random root2(7);
  Random pageserver = root2.Fork("pageserver");
  for (int i = 0; i < 1000; ++i) pageserver.Next64();  // sibling draws
  for (int i = 0; i < 1000; ++i) root2.Next64();       // parent draws
  Random network = root2.Fork("network");
  for (int i = 0; i < 50; ++i) EXPECT_EQ(network.Next64(), expected[i]);
}

TEST(RandomTest, ForksWithDifferentLabelsOrIndicesDiffer) {
  Random root(7);
  EXPECT_NE(root.Fork("a").Next64(), root.Fork("b").Next64());
  EXPECT_NE(root.Fork("a", 1).Next64(), root.Fork("a", 2).Next64());
}

TEST(RandomTest, BelowAndRangeStayInBoundsAndCoverThem) {
  Random random(1);
  std::map<int64_t, int> seen;
  for (int i = 0; i < 10'000; ++i) {
    const int64_t v = random.Range(-3, 3);
    ASSERT_GE(v, -3);
    ASSERT_LE(v, 3);
    ++seen[v];
  }
  EXPECT_EQ(seen.size(), 7u);
  for (const auto& [value, count] : seen) EXPECT_GT(count, 1000) << value;
}

TEST(RandomTest, ChanceMatchesRatio) {
  Random random(3);
  int hits = 0;
  for (int i = 0; i < 100'000; ++i) hits += random.Chance(1, 4) ? 1 : 0;
  EXPECT_NEAR(hits, 25'000, 1'000);
  EXPECT_FALSE(Random(1).Chance(0, 5));
  EXPECT_TRUE(Random(1).Chance(5, 5));
}

TEST(RandomTest, ExponentialHasRoughlyTheMeanAndIsCapped) {
  Random random(5);
  const Duration mean = Duration::Millis(10);
  int64_t total = 0;
  const int n = 50'000;
  for (int i = 0; i < n; ++i) {
    const Duration d = random.Exponential(mean);
    ASSERT_GE(d, Duration::Zero());
    ASSERT_LE(d, mean * 16);
    total += d.nanos();
  }
  EXPECT_NEAR(static_cast<double>(total / n), static_cast<double>(mean.nanos()),
              mean.nanos() * 0.05);
}

TEST(RandomTest, ShuffleIsAPermutationAndSeedDetermined) {
  std::vector<int> a{1, 2, 3, 4, 5, 6, 7, 8}, b = a;
  Random r1(9), r2(9);
  r1.Shuffle(a);
  r2.Shuffle(b);
  EXPECT_EQ(a, b);
  std::vector<int> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, (std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8}));
}

}  // namespace
}  // namespace storsim::sim
