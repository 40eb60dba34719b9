// The golden script parser: what it accepts, and that every error names its line.
#include "scenarios/golden/script.h"

#include <gtest/gtest.h>

namespace storsim::scenarios::golden {
namespace {

std::string ErrorOf(const std::string& text) {
  absl::StatusOr<Script> script = ParseScript("test", text);
  EXPECT_FALSE(script.ok()) << "parsed:\n" << text;
  return script.ok() ? "" : std::string(script.status().message());
}

TEST(GoldenScriptParseTest, ParsesSettingsActionsRunsAndExpectations) {
  absl::StatusOr<Script> script = ParseScript("story", R"(
# a story
pageservers 2      # two nodes
tenants 3
protocol lease
lakebase on
at 0s probe controller
at 10s migrate tenant 1 shard 0 to node 2
at 12s crash pageserver 1 for 5s
at 12s partition cplane compute 0 for 1.5s
at 13s cplane fail 423 for 10s
at 14s cancel drain node 2
run 30s
expect attached tenant 1 shard 0 node 2 generation 3
expect event ctl.validate valid=0 shard=t1 count >= 2 since 10s
expect no event ctl.exit
expect 503-window <= 5s
at 40s expect node 2 policy PauseForRestart
run 10s
expect compute 0 status Running node 2
)");
  ASSERT_TRUE(script.ok()) << script.status();
  EXPECT_EQ(script->settings.pageservers, 2);
  EXPECT_EQ(script->settings.tenants, 3);
  EXPECT_EQ(script->settings.protocol, "lease");
  EXPECT_TRUE(script->settings.lakebase);
  ASSERT_EQ(script->statements.size(), 14u);
  const Statement& migrate = script->statements[1];
  EXPECT_EQ(migrate.line, 8);
  EXPECT_EQ(migrate.at, sim::Duration::Seconds(10));
  EXPECT_EQ(migrate.action.kind, Action::Kind::kMigrate);
  EXPECT_EQ(migrate.action.tenant, 1);
  EXPECT_EQ(migrate.action.node, 2);
  const Statement& partition = script->statements[3];
  EXPECT_EQ(partition.action.other.kind, ProcessRef::Kind::kCompute);
  EXPECT_EQ(partition.action.duration, sim::Duration::Millis(1500));
  EXPECT_EQ(script->statements[5].action.verb, "cancel_drain");
  const Expectation& event = script->statements[8].expect;
  EXPECT_EQ(event.kind, Expectation::Kind::kEvent);
  ASSERT_EQ(event.fields.size(), 2u);
  EXPECT_EQ(event.fields[1].second, "t1");
  EXPECT_EQ(event.comparison, Comparison::kGreaterEqual);
  EXPECT_EQ(event.count, 2);
  EXPECT_EQ(event.since, sim::Duration::Seconds(10));
  EXPECT_EQ(script->statements[10].expect.duration, sim::Duration::Seconds(5));
  EXPECT_EQ(script->statements[11].action.expectation.kind, Expectation::Kind::kNodePolicy);
  EXPECT_EQ(script->statements[13].expect.compute_node, 2);
}

TEST(GoldenScriptParseTest, ErrorsNameTheLine) {
  EXPECT_EQ(ErrorOf("tenants 1\n\nat 5s explode node 2\nrun 10s\n"),
            "line 3: unknown action 'explode'");
  EXPECT_EQ(ErrorOf("run 10s\nexpect attached tenant 0 shard 0 node x\n"),
            "line 2: bad node 'x' (an integer in [1, 64])");
  EXPECT_EQ(ErrorOf("run 10s\npageservers 3\n"),
            "line 2: settings come before the first action, run or expect");
  EXPECT_EQ(ErrorOf("run 10\n"), "line 1: bad duration '10' (e.g. 10s, 500ms, 2m)");
  EXPECT_EQ(ErrorOf("run 20s\nat 5s heal\nrun 1s\n"),
            "line 2: 'at 5s' is before the end of the runs above (20s)");
  EXPECT_EQ(ErrorOf("at 5s heal\nat 50s heal\nrun 20s\n"),
            "line 2: 'at 50s' is never reached: the runs end at 20s");
  EXPECT_EQ(ErrorOf("at 1s crash pageserver\nrun 2s\n"), "line 1: missing process number");
  EXPECT_EQ(ErrorOf("run 1s\nexpect 503-window ~ 5s\n"),
            "line 2: bad comparison '~' (< <= == != >= >)");
  EXPECT_EQ(ErrorOf("protocol raft\nrun 1s\n"),
            "line 1: unknown protocol 'raft' (step-down, naive, lease, lease-fenced)");
  EXPECT_EQ(ErrorOf("tenants 1\ntenants 2\n"), "line 2: 'tenants' set twice");
  EXPECT_EQ(ErrorOf("run 1s\nexpect converged now\n"), "line 2: unexpected 'now'");
  EXPECT_EQ(ErrorOf("# nothing\n"), "line 1: the script has no statement");
}

TEST(GoldenScriptParseTest, Durations) {
  EXPECT_EQ(ParseDuration("10s"), sim::Duration::Seconds(10));
  EXPECT_EQ(ParseDuration("250ms"), sim::Duration::Millis(250));
  EXPECT_EQ(ParseDuration("2m"), sim::Duration::Minutes(2));
  EXPECT_EQ(ParseDuration("0.1s"), sim::Duration::Millis(100));
  EXPECT_EQ(ParseDuration("1.25s"), sim::Duration::Millis(1250));
  EXPECT_FALSE(ParseDuration("s").has_value());
  EXPECT_FALSE(ParseDuration("1.5ms").has_value());
  EXPECT_FALSE(ParseDuration("1.2.3s").has_value());
  EXPECT_FALSE(ParseDuration("-1s").has_value());
  EXPECT_FALSE(ParseDuration("5h").has_value());
}

}  // namespace
}  // namespace storsim::scenarios::golden
