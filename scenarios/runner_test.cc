// The runner's classification of how runs end (checker violation, SIM_CHECK, LIMIT, internal
// error), the determinism helper on a deliberately nondeterministic scenario, tokens, and the
// swarm and fault plan draws.
#include "scenarios/runner.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "scenarios/run_context.h"
#include "scenarios/swarm.h"
#include "scenarios/token.h"
#include "sim/check.h"
#include "sim/env.h"

namespace storsim::scenarios {
namespace {

// A checker that reports a violation on the first event of kind "tick" with n >= 3.
class TickChecker : public sim::TraceObserver {
 public:
  explicit TickChecker(ViolationSink sink) : sink_(std::move(sink)) {}
  void OnEvent(const sim::TraceEvent& event) override {
    if (event.kind == "tick" && event.Int("n") >= 3) sink_(Violation{"T1", event.at, "n >= 3"});
  }

 private:
  ViolationSink sink_;
};

int nondeterministic_runs = 0;  // changes behaviour between runs: only for the divergence test

// Scenarios for the runner's own tests: one process ticking every second for `ticks` seconds.
ScenarioRegistry TestRegistry() {
  ScenarioRegistry registry;
  auto ticking = [](std::function<void(sim::Env&, int)> on_tick, bool with_checker) {
    return [on_tick, with_checker](ScenarioRun& run) {
      sim::Simulation& simulation = run.CreateSimulation({});
      simulation
          .AddProcess("ticker",
                      [on_tick](sim::Env& env) {
                        for (int n = 0; n < 10; ++n) {
                          env.Emit("tick", {sim::TraceField::Int("n", n)});
                          on_tick(env, n);
                          env.Sleep(sim::Duration::Seconds(1));
                        }
                      })
          .Start();
      if (with_checker) run.AddChecker(std::make_unique<TickChecker>(run.sink()));
      run.RunFor(sim::Duration::Seconds(20));
    };
  };
  registry.Add(Scenario{
      "quiet", "ten ticks", {{"boom", "SIM_CHECK at tick 5"}}, [ticking](ScenarioRun& run) {
        ticking([&run](sim::Env&, int n) { SIM_CHECK_MSG(!(run.bug("boom") && n == 5), "boom"); },
                false)(run);
      }});
  registry.Add(Scenario{
      "checked", "ticks with a checker firing at 3", {}, ticking([](sim::Env&, int) {}, true)});
  registry.Add(Scenario{"spin", "a process that never sleeps", {}, [](ScenarioRun& run) {
                          sim::Simulation& simulation = run.CreateSimulation({});
                          simulation
                              .AddProcess("spinner",
                                          [](sim::Env& env) {
                                            while (true) env.Yield();
                                          })
                              .Start();
                          run.RunFor(sim::Duration::Seconds(1));
                        }});
  registry.Add(Scenario{"throws", "a harness bug", {}, [](ScenarioRun& run) {
                          run.CreateSimulation({});
                          throw std::runtime_error("harness bug");
                        }});
  registry.Add(Scenario{"drifting",
                        "differs from one run to the next",
                        {},
                        ticking(
                            [](sim::Env& env, int n) {
                              if (n == 4 && ++nondeterministic_runs % 2 == 0) {
                                env.Emit("surprise", {});
                              }
                            },
                            false)});
  return registry;
}

RunOptions Options(std::string scenario) {
  RunOptions options;
  options.scenario = std::move(scenario);
  options.seed = 3;
  return options;
}

TEST(RunnerTest, CleanRunIsOk) {
  const RunResult result = RunScenario(TestRegistry(), Options("quiet"));
  EXPECT_TRUE(result.ok) << result.internal_error;
  EXPECT_TRUE(result.violations.empty());
  EXPECT_EQ(result.sim_ns, sim::Duration::Seconds(20).nanos());
  EXPECT_GE(result.events, 10u);
  EXPECT_NE(result.trace_hash, 0u);
}

TEST(RunnerTest, SimCheckBecomesAViolation) {
  RunOptions options = Options("quiet");
  options.bugs.insert("boom");
  const RunResult result = RunScenario(TestRegistry(), options);
  EXPECT_FALSE(result.ok);
  ASSERT_EQ(result.violations.size(), 1u);
  EXPECT_EQ(result.violations[0].invariant, "SIM_CHECK");
  EXPECT_EQ(result.violations[0].at, sim::Instant::Zero() + sim::Duration::Seconds(5));
  EXPECT_NE(result.violations[0].detail.find("boom"), std::string::npos);
  EXPECT_EQ(result.FirstInvariant(), "SIM_CHECK");
}

TEST(RunnerTest, CheckerViolationStopsTheRunEarly) {
  const RunResult result = RunScenario(TestRegistry(), Options("checked"));
  EXPECT_FALSE(result.ok);
  ASSERT_EQ(result.violations.size(), 1u);
  EXPECT_EQ(result.violations[0].invariant, "T1");
  EXPECT_EQ(result.sim_ns, sim::Duration::Seconds(3).nanos());  // failed fast, not at 20 s
}

TEST(RunnerTest, StepLimitIsALimitFailure) {
  RunOptions options = Options("spin");
  options.limits.steps_max = 10'000;
  const RunResult result = RunScenario(TestRegistry(), options);
  EXPECT_FALSE(result.ok);
  ASSERT_EQ(result.violations.size(), 1u);
  EXPECT_EQ(result.violations[0].invariant, "LIMIT");
  EXPECT_TRUE(result.internal_error.empty());
}

TEST(RunnerTest, SimulatedTimeLimitIsALimitFailure) {
  RunOptions options = Options("quiet");
  options.limits.sim_time_max = sim::Duration::Seconds(4);
  const RunResult result = RunScenario(TestRegistry(), options);
  ASSERT_EQ(result.violations.size(), 1u);
  EXPECT_EQ(result.violations[0].invariant, "LIMIT");
}

TEST(RunnerTest, OtherExceptionsAreInternalErrors) {
  const RunResult result = RunScenario(TestRegistry(), Options("throws"));
  EXPECT_FALSE(result.ok);
  EXPECT_NE(result.internal_error.find("harness bug"), std::string::npos);
  EXPECT_EQ(result.FirstInvariant(), "INTERNAL");
}

TEST(RunnerTest, UnopenableTraceFileIsAnInternalError) {
  RunOptions options = Options("quiet");
  options.ndjson_trace_path = "/nonexistent-directory/trace.ndjson";
  const RunResult result = RunScenario(TestRegistry(), options);
  EXPECT_FALSE(result.ok);
  EXPECT_NE(result.internal_error.find("/nonexistent-directory/trace.ndjson"), std::string::npos);
}

TEST(RunnerTest, ValidateNamesWhatIsWrong) {
  const ScenarioRegistry registry = TestRegistry();
  EXPECT_TRUE(ValidateOptions(registry, Options("quiet")).ok());
  const absl::Status unknown = ValidateOptions(registry, Options("nope"));
  EXPECT_EQ(unknown.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(unknown.message()).find("quiet"), std::string::npos);
  RunOptions bad_bug = Options("quiet");
  bad_bug.bugs.insert("nope");
  EXPECT_NE(std::string(ValidateOptions(registry, bad_bug).message()).find("boom"),
            std::string::npos);
}

TEST(RunnerTest, DeterminismCheckPassesForADeterministicScenario) {
  const DeterminismReport report = CheckDeterminism(TestRegistry(), Options("quiet"));
  EXPECT_TRUE(report.deterministic) << report.ToString();
  EXPECT_EQ(report.first.trace_hash, report.second.trace_hash);
}

TEST(RunnerTest, DeterminismCheckNamesTheFirstDivergingEvent) {
  nondeterministic_runs = 0;
  const DeterminismReport report = CheckDeterminism(TestRegistry(), Options("drifting"));
  EXPECT_FALSE(report.deterministic);
  ASSERT_TRUE(report.divergence.has_value());
  EXPECT_NE(report.second_event.find("surprise"), std::string::npos) << report.ToString();
  EXPECT_NE(report.ToString().find("first divergence"), std::string::npos);
}

TEST(TokenTest, RoundTrips) {
  Token token;
  token.build_id = "abc123";
  token.scenario = "register";
  token.seed = 18'446'744'073'709'551'615u;
  token.bugs = {"b-one", "a-two"};
  token.fault_plan.faults.push_back(sim::Fault{sim::Duration::Millis(1500), sim::FaultKind::kCrash,
                                               1, -1, sim::Duration::Millis(200), 0});
  const std::string text = EncodeToken(token);
  EXPECT_EQ(text.rfind("v1:abc123:register:18446744073709551615::a-two,b-one:", 0), 0u) << text;
  absl::StatusOr<Token> decoded = DecodeToken(text);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, token);
}

TEST(TokenTest, RefusesMalformedTokens) {
  EXPECT_FALSE(DecodeToken("v2:x:register:1:::").ok());
  EXPECT_FALSE(DecodeToken("v1:x:register:1::").ok());
  EXPECT_FALSE(DecodeToken("v1:x:register:12a:::").ok());
  EXPECT_FALSE(DecodeToken("v1:x::1:::").ok());
  EXPECT_FALSE(DecodeToken("v1:x:register:1:::zz").ok());
  EXPECT_TRUE(DecodeToken("v1:x:register:1:::").ok());
}

TEST(SwarmTest, SameSeedSameOptionsAndPlans) {
  SwarmRanges ranges = AllFaultKinds({});
  ranges.nodes_max = 5;
  std::set<std::string> distinct;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    sim::Random a = sim::Random(seed).Fork("swarm");
    sim::Random b = sim::Random(seed).Fork("swarm");
    const SwarmOptions first = DrawSwarm(a, ranges);
    EXPECT_EQ(first.ToString(), DrawSwarm(b, ranges).ToString());
    EXPECT_GE(first.KindsOn(), 1);
    EXPECT_TRUE(first.nodes >= 3 && first.nodes <= 5);
    distinct.insert(first.ToString());
  }
  EXPECT_GT(distinct.size(), 10u);  // the swarm varies between seeds
}

TEST(SwarmTest, PlansEndWithinThePhaseAndRoundTrip) {
  const sim::Duration phase = sim::Duration::Seconds(10);
  size_t faults = 0;
  for (uint64_t seed = 1; seed <= 50; ++seed) {
    sim::Random swarm_random(seed);
    const SwarmOptions swarm = DrawSwarm(swarm_random, AllFaultKinds({}));
    sim::Random plan_random = sim::Random(seed).Fork("fault_plan");
    const sim::FaultPlan plan = RandomFaultPlan(plan_random, swarm, {0, 1, 2, 3}, phase);
    faults += plan.faults.size();
    for (const sim::Fault& fault : plan.faults) {
      EXPECT_TRUE(swarm.kinds_on[static_cast<size_t>(fault.kind)]) << fault.ToString();
      const sim::Duration end =
          fault.at + (fault.kind == sim::FaultKind::kStop ? fault.duration * 2 : fault.duration);
      EXPECT_LE(end, phase) << fault.ToString();
      EXPECT_NE(fault.a, fault.b);
    }
    absl::StatusOr<sim::FaultPlan> decoded = sim::FaultPlan::Decode(plan.Encode());
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(*decoded, plan);
  }
  EXPECT_GT(faults, 50u);
}

}  // namespace
}  // namespace storsim::scenarios
