// Workload knobs end to end below the CLI: ScenarioRun::Knob overrides and records, tokens carry
// knobs (an optional eighth field) and still read 7-field tokens, malformed knob lists are refused with a reason, and the shrinker
// lowers knobs to the smallest failing values while it removes faults.
#include <gtest/gtest.h>

#include "fuzz/fuzz_test_scenarios.h"
#include "fuzz/shrink.h"
#include "scenarios/runner.h"
#include "scenarios/token.h"

namespace storsim::fuzz {
namespace {

using scenarios::DecodeKnobs;
using scenarios::DecodeToken;
using scenarios::EncodeToken;
using scenarios::Token;

TEST(KnobTest, DrawnValuesAreRecordedAndOverridesReplaceThem) {
  const auto registry = TestRegistry();
  scenarios::RunOptions options;
  options.scenario = "knobs";
  options.seed = 3;
  const scenarios::RunResult drawn = scenarios::RunScenario(registry, options);
  ASSERT_EQ(drawn.knobs.size(), 2u);
  EXPECT_GE(drawn.knobs.at("size"), 100);
  EXPECT_LT(drawn.knobs.at("size"), 1000);
  EXPECT_FALSE(drawn.ok);  // size >= 37

  options.knobs = {{"size", 12}, {"width", 400}};  // width is clamped into 1..9
  const scenarios::RunResult overridden = scenarios::RunScenario(registry, options);
  EXPECT_TRUE(overridden.ok) << overridden.FirstInvariant();
  EXPECT_EQ(overridden.knobs.at("size"), 12);
  EXPECT_EQ(overridden.knobs.at("width"), 9);
}

TEST(KnobTest, ARunReplaysFromItsTokenWithItsKnobs) {
  const auto registry = TestRegistry();
  scenarios::RunOptions options;
  options.scenario = "knobs";
  options.seed = 5;
  options.knobs = {{"size", 40}};
  const scenarios::RunResult first = scenarios::RunScenario(registry, options);
  const std::string text = EncodeToken(scenarios::TokenFor(first, "build1"));
  EXPECT_EQ(text.substr(0, 3), "v1:");
  EXPECT_EQ(text.substr(text.rfind(':')),
            ":size=40,width=" + std::to_string(first.knobs.at("width")));
  absl::StatusOr<Token> token = DecodeToken(text);
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(token->knobs, first.knobs);
  scenarios::RunOptions replay;
  replay.scenario = token->scenario;
  replay.seed = token->seed;
  replay.fault_plan = token->fault_plan;
  replay.knobs = token->knobs;
  const scenarios::RunResult second = scenarios::RunScenario(registry, replay);
  EXPECT_EQ(second.trace_hash, first.trace_hash);
  EXPECT_EQ(second.knobs, first.knobs);
}

TEST(TokenKnobsTest, RoundTripsAndKeepsSevenFieldsWithoutKnobs) {
  Token token;
  token.build_id = "abc123";
  token.scenario = "register";
  token.seed = 42;
  token.bugs = {"register-read-one"};
  token.knobs = {{"clients", 2}, {"ops", 312}, {"negative_one", -1},
                 {"big", INT64_MAX}, {"small", INT64_MIN}};
  const std::string text = EncodeToken(token);
  EXPECT_EQ(text.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                   "0123456789_.,=:-"),
            std::string::npos)
      << "not shell-safe: " << text;
  absl::StatusOr<Token> decoded = DecodeToken(text);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, token);

  token.knobs.clear();
  const std::string old_style = EncodeToken(token);
  EXPECT_EQ(old_style, "v1:abc123:register:42::register-read-one:");
  decoded = DecodeToken(old_style);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_TRUE(decoded->knobs.empty());
}

TEST(TokenKnobsTest, RefusesMalformedKnobsWithAReason) {
  const std::string prefix = "v1:b:register:1::::";  // up to the knob field
  struct Case {
    std::string knobs;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {"", "empty knob field"},
      {"clients", "not of the form name=value"},
      {"clients=", "not a decimal 64-bit signed integer"},
      {"clients=2x", "not a decimal 64-bit signed integer"},
      {"clients=+2", "not a decimal 64-bit signed integer"},
      {"clients=9223372036854775808", "not a decimal 64-bit signed integer"},
      {"Clients=2", "not 1..32 characters"},
      {"=2", "not 1..32 characters"},
      {"clients=2,clients=3", "given twice"},
      {"clients=2,,ops=1", "not of the form name=value"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<Token> decoded = DecodeToken(prefix + c.knobs);
    ASSERT_FALSE(decoded.ok()) << c.knobs;
    EXPECT_NE(std::string(decoded.status().message()).find(c.reason), std::string::npos)
        << c.knobs << ": " << decoded.status();
  }
  // Seven fields, or eight with knobs; never nine, and no other version.
  EXPECT_TRUE(DecodeToken("v1:b:register:1::::ops=1").ok());
  EXPECT_FALSE(DecodeToken("v1:b:register:1:::::ops=1").ok());
  EXPECT_FALSE(DecodeToken("v2:b:register:1::::ops=1").ok());
  std::string many;
  for (int k = 0; k <= static_cast<int>(scenarios::kKnobsMax); ++k) {
    many += (k == 0 ? "" : ",") + std::string("k") + std::to_string(k) + "=1";
  }
  EXPECT_FALSE(DecodeKnobs(many).ok());
  EXPECT_EQ(DecodeKnobs("a=-9223372036854775808")->at("a"), INT64_MIN);
}

TEST(ShrinkKnobsTest, LowersKnobsToTheSmallestFailingValuesAndDropsFaults) {
  const auto registry = TestRegistry();
  scenarios::RunOptions failing;
  failing.scenario = "knobs";
  failing.seed = 7;
  auto shrunk = Shrink(registry, failing, {});
  ASSERT_TRUE(shrunk.ok()) << shrunk.status();
  EXPECT_EQ(shrunk->invariant, "TEST3");
  EXPECT_EQ(shrunk->faults_before, 6u);
  EXPECT_EQ(shrunk->faults_after, 0u);
  EXPECT_GE(shrunk->knobs_before.at("size"), 100);
  EXPECT_EQ(shrunk->knobs_after.at("size"), 37);
  EXPECT_EQ(shrunk->knobs_after.at("width"), 1);
  EXPECT_EQ(shrunk->result.knobs, shrunk->knobs_after);
  EXPECT_LT(shrunk->runs, 80u);
  // The shrunk options replay to the same failure.
  scenarios::RunResult replay = scenarios::RunScenario(registry, shrunk->options);
  EXPECT_EQ(replay.FirstInvariant(), "TEST3");
  EXPECT_EQ(replay.trace_hash, shrunk->result.trace_hash);
}

TEST(ShrinkKnobsTest, AKnobTheRunNeverAsksForIsDropped) {
  const auto registry = TestRegistry();
  scenarios::RunOptions failing;
  failing.scenario = "knobs";
  failing.seed = 7;
  failing.knobs = {{"colour", 3}, {"size", 50}};
  auto shrunk = Shrink(registry, failing, {});
  ASSERT_TRUE(shrunk.ok()) << shrunk.status();
  EXPECT_EQ(shrunk->knobs_before.count("colour"), 0u);
  EXPECT_EQ(shrunk->knobs_before.at("size"), 50);
  EXPECT_EQ(shrunk->options.knobs.count("colour"), 0u);
  EXPECT_EQ(shrunk->knobs_after.at("size"), 37);
}

}  // namespace
}  // namespace storsim::fuzz
