// tidy_test: the scanner fires on each rule, and the real tree is clean.
#include "tools/tidy.h"

#include <gtest/gtest.h>

namespace storsim::tools {
namespace {

std::vector<std::string> Rules(std::string_view path, std::string_view code) {
  std::vector<std::string> rules;
  for (const auto& finding : ScanSource(path, code)) rules.push_back(finding.rule);
  return rules;
}

TEST(TidyTest, BannedApisAreFoundInSimulatedCode) {
  for (const char* code :
       {"auto t = std::chrono::steady_clock::now();", "int x = rand();", "std::random_device rd;",
        "std::thread worker(run);", "absl::BitGen gen;", "std::shuffle(v.begin(), v.end(), g);",
        "time_t now = time(nullptr);", "const char* v = getenv(\"X\");",
        "std::this_thread::sleep_for(d);", "std::uniform_int_distribution<int> d(1, 6);"}) {
    EXPECT_EQ(Rules("model/x.cc", code), (std::vector<std::string>{"banned-api"})) << code;
  }
}

TEST(TidyTest, OptOutCommentsAndNonSimulatedFoldersAreAllowed) {
  EXPECT_TRUE(Rules("model/x.cc", "std::thread t(f);  // determinism: ok (real PG test)").empty());
  EXPECT_TRUE(Rules("cli/main.cc", "auto t = std::chrono::steady_clock::now();").empty());
  EXPECT_TRUE(Rules("bench/b.cc", "std::thread t(f);").empty());
  EXPECT_TRUE(Rules("model/x.cc", "// we never call rand() here").empty());
  EXPECT_TRUE(Rules("model/x.cc", "Duration runtime(5);  int lifetime(3);").empty());
  EXPECT_TRUE(Rules("model/x.cc", "env.Sleep(d);  x.time();  clock.WallTime();").empty());
}

TEST(TidyTest, HashContainersNeedAReason) {
  EXPECT_EQ(Rules("scenarios/c.h", "absl::flat_hash_map<int, int> m;"),
            (std::vector<std::string>{"hash-order"}));
  EXPECT_EQ(Rules("sim/c.h", "std::unordered_set<int> s;"),
            (std::vector<std::string>{"hash-order"}));
  EXPECT_TRUE(
      Rules("sim/c.h", "std::unordered_set<int> s;  // determinism: ok (lookup only)").empty());
}

TEST(TidyTest, IncludesMustNotPointUpTheLayering) {
  EXPECT_EQ(Rules("sim/a.cc", "#include \"model/pageserver/pageserver.h\""),
            (std::vector<std::string>{"include-up"}));
  EXPECT_EQ(Rules("model/a.cc", "#include \"scenarios/runner.h\""),
            (std::vector<std::string>{"include-up"}));
  EXPECT_EQ(Rules("scenarios/a.cc", "#include \"cli/flags.h\""),
            (std::vector<std::string>{"include-up"}));
  EXPECT_EQ(Rules("fuzz/a.cc", "#include \"reports/html.h\""),
            (std::vector<std::string>{"include-up"}));
  EXPECT_EQ(Rules("cli/a.cc", "#include \"bench/x.h\""), (std::vector<std::string>{"include-up"}));
  EXPECT_TRUE(Rules("model/a.cc", "#include \"sim/env.h\"").empty());
  EXPECT_TRUE(Rules("scenarios/a.cc", "#include \"model/persistence/persistence.h\"").empty());
  EXPECT_TRUE(Rules("cli/a.cc", "#include \"fuzz/sweep.h\"").empty());
  EXPECT_TRUE(Rules("sim/a.cc", "#include <unordered_map>").empty());
}

TEST(TidyTest, TheTreeIsClean) {
  const auto findings = ScanTree(STORSIM_SOURCE_DIR);
  std::string report;
  for (const auto& finding : findings) report += finding.ToString() + "\n";
  EXPECT_TRUE(findings.empty()) << report;
}

}  // namespace
}  // namespace storsim::tools
