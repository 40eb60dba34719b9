// The golden test: every testdata/golden/*.script runs, its expectations hold and its digest is
// the stored one. On a digest mismatch the message shows both digests and the update command.
// A second test per story appends expectations that contradict the story (a wrong generation, a
// wrong policy, ...) to the same script and checks that each of them fails with a clear message
// while the run's digest stays the same: the expectations carry the story's meaning, and they
// are not vacuous.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>

#include "scenarios/golden/golden_files.h"
#include "scenarios/golden/script.h"

namespace storsim::scenarios::golden {
namespace {

std::vector<std::string> Scripts() {
  absl::StatusOr<std::vector<std::string>> scripts = ListScripts(DefaultGoldenDirectory());
  return scripts.ok() ? *scripts : std::vector<std::string>{};
}

std::string TestName(const testing::TestParamInfo<std::string>& info) {
  std::string name = ScriptNameOf(info.param);
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

class GoldenScriptTest : public testing::TestWithParam<std::string> {};

TEST_P(GoldenScriptTest, ExpectationsHoldAndDigestMatches) {
  const ScriptCheck check = CheckScriptFile(GetParam());
  ASSERT_TRUE(check.parse_error.empty()) << check.parse_error;
  EXPECT_TRUE(check.result.ok()) << check.Report();
  EXPECT_GE(check.result.expectations, 3) << "a story needs expectations that make its point";
  EXPECT_TRUE(check.digest_matches()) << check.Report();
}

INSTANTIATE_TEST_SUITE_P(Stories, GoldenScriptTest, testing::ValuesIn(Scripts()), TestName);

// A wrong expectation in place of a right one: the line as written, its replacement, and a
// fragment of the failure message the replacement must produce.
struct Mutation {
  const char* line;
  const char* replacement;
  const char* message;
};

const std::map<std::string, std::vector<Mutation>>& Mutations() {
  static const auto* mutations = new std::map<std::string, std::vector<Mutation>>{
      {"generations",
       {{"expect attached tenant 0 shard 0 node 1 generation 2   # the bump on re-attach",
         "expect attached tenant 0 shard 0 node 1 generation 1",
         "generation 1 expected; found leader 2, pageserver 1 2, database 2"},
        {"expect event ctl.validate generation=3 valid=0 memory_generation=2 db_generation=3",
         "expect no event ctl.validate generation=3 valid=0", "1 matching event(s) found"},
        {"expect attached tenant 0 shard 0 node 2 generation 3",
         "expect attached tenant 0 shard 0 node 1 generation 3",
         "the leader attaches t1 to node 2"}}},
      {"controller-roll",
       {{"expect 503-window <= 3s                            # ...and short (L3's bound B)",
         "expect 503-window <= 500ms", "the longest window was 1s"},
        {"expect event ctl.step_down.served count == 1       # exactly one hand-over",
         "expect event ctl.step_down.served count == 0", "wanted count == 0"},
        {"expect rollout revision 2 Complete", "expect rollout revision 1 Complete",
         "the latest rollout is revision 2, Complete"}}},
      {"compute-refresh",
       {{"expect compute 0 status Running node 2", "expect compute 0 status Running node 1",
         "reads shard 0 from node 2"},
        {"expect event compute.reconfigured via=refresh shards=0@2",
         "expect event compute.reconfigured via=refresh shards=0@1", "0 matching event(s)"},
        {"expect no event compute.reconfigured via=configure since 5s   # no push yet: the pull "
         "did it",
         "expect event compute.reconfigured via=configure since 5s", "0 matching event(s)"}}},
      {"live-migration",
       {{"expect attached tenant 0 shard 0 node 3 generation 2",
         "expect attached tenant 0 shard 0 node 3 generation 3", "generation 3 expected"},
        {"expect no event compute.write_failed", "expect event compute.write_failed",
         "0 matching event(s)"},
        {"expect compute 1 status Running node 1", "expect compute 1 status Running node 2",
         "reads shard 0 from node 1"}}},
      {"drain-cancel",
       {{"expect node 1 policy Active", "expect node 1 policy Draining", "node 1 is active"},
        {"expect node 1 attached == 1", "expect node 1 attached == 0",
         "the leader attaches 1 shard(s) to node 1"},
        {"at 5.2s expect node 1 policy Draining", "at 5.2s expect node 1 policy Active",
         "node 1 is draining"},
        {"expect event ctl.intent reason=drain count == 1     # half-way: one of two shards moved",
         "expect event ctl.intent reason=drain count == 2", "1 matching event(s)"}}},
      {"drain-fill",
       {{"expect node 2 policy PauseForRestart", "expect node 2 policy Active",
         "node 2 is pause_for_restart"},
        {"expect node 2 attached == 0", "expect node 2 attached == 2",
         "the leader attaches 0 shard(s) to node 2"},
        {"at 30.1s expect node 2 policy Filling", "at 30.1s expect node 2 policy Active",
         "node 2 is filling"},
        {"expect event ctl.operation op=fill node=2 result=done",
         "expect event ctl.operation op=fill node=2 result=cancelled", "0 matching event(s)"}}},
  };
  return *mutations;
}

// Each story's key expectations, turned wrong in place, fail on their own line with a clear
// message, and nothing else fails; the digest does not move (expectations only read state).
TEST_P(GoldenScriptTest, WrongExpectationsFailClearly) {
  const std::string name = ScriptNameOf(GetParam());
  auto mutations = Mutations().find(name);
  ASSERT_NE(mutations, Mutations().end()) << "no mutations listed for " << name;
  std::ifstream in(GetParam());
  std::string line;
  std::string text;
  std::map<int, const Mutation*> mutated;  // line number -> mutation
  for (int number = 1; std::getline(in, line); ++number) {
    for (const Mutation& mutation : mutations->second) {
      if (line == mutation.line) {
        EXPECT_EQ(mutated.count(number), 0u);
        mutated[number] = &mutation;
        line = mutation.replacement;
      }
    }
    text += line + "\n";
  }
  ASSERT_EQ(mutated.size(), mutations->second.size()) << "a mutated line is missing in " << name;
  absl::StatusOr<Script> script = ParseScript(name, text);
  ASSERT_TRUE(script.ok()) << script.status();
  const GoldenResult result = RunGoldenScript(*script);
  std::map<int, std::string> failures;
  for (const Failure& failure : result.failures) failures[failure.line] += failure.message;
  for (const auto& [number, mutation] : mutated) {
    ASSERT_TRUE(failures.count(number))
        << name << ":" << number << ": '" << mutation->replacement << "' did not fail";
    EXPECT_NE(failures[number].find(mutation->message), std::string::npos)
        << name << ":" << number << ": " << failures[number];
    failures.erase(number);
  }
  EXPECT_TRUE(failures.empty()) << result.Describe(name);
  EXPECT_EQ(ReadDigest(DigestPathOf(GetParam())), result.digest);
}

// A planted defect (SPEC §12 canary: the migration destination gets the origin's generation)
// trips S4 mid-run: the run stops there and the line being run is blamed; later lines never run.
TEST(GoldenRunTest, AViolationStopsTheRunAndBlamesTheLineRunning) {
  absl::StatusOr<Script> script = ParseScript("canary",
                                              "pageservers 2\n"
                                              "tenants 1\n"
                                              "bug canary-generation-reuse\n"
                                              "run 5s\n"
                                              "at 5s migrate tenant 0 shard 0 to node 2\n"
                                              "run 20s\n"
                                              "expect no violations\n");
  ASSERT_TRUE(script.ok()) << script.status();
  const GoldenResult result = RunGoldenScript(*script);
  ASSERT_EQ(result.failures.size(), 1u) << result.Describe("canary");
  EXPECT_EQ(result.failures[0].line, 6);
  EXPECT_EQ(result.failures[0].message.rfind("the run stopped: S4 at ", 0), 0u)
      << result.failures[0].message;
  EXPECT_EQ(result.expectations, 0);
}

TEST(GoldenDirectoryTest, EveryStoryHasAScriptAndADigest) {
  const std::vector<std::string> scripts = Scripts();
  std::set<std::string> names;
  for (const std::string& path : scripts) {
    names.insert(ScriptNameOf(path));
    EXPECT_TRUE(ReadDigest(DigestPathOf(path)).has_value()) << "no digest beside " << path;
  }
  for (const char* story : {"controller-roll", "generations", "compute-refresh", "live-migration",
                            "drain-cancel", "drain-fill"}) {
    EXPECT_TRUE(names.count(story)) << "missing testdata/golden/" << story << ".script";
  }
}

}  // namespace
}  // namespace storsim::scenarios::golden
