// The compute hook (SPEC.md §8.1): dedupe on {request, applied}, 423 handling (and bug #9),
// 429 pause and retry, fatal answers, sharded tenants sent only when complete.
#include "model/controller/compute_hook.h"

#include <gtest/gtest.h>

#include "model/controller/controller_test_util.h"
#include "model/controller/defects.h"

namespace storsim::controller::testing {
namespace {

using sim::Duration;

class ComputeHookTest : public ::testing::Test {
 protected:
  // Runs `script` inside a process that owns a ComputeHook.
  void RunHook(api::Defects defects, std::function<void(ComputeHook&, sim::Env&)> script) {
    cplane_ = &harness_.AddControlPlane();
    options_ = harness_.DefaultOptions("ctl-a");
    defects_ = std::move(defects);
    bool done = false;
    sim::Process& process = harness_.simulation().AddProcess("hook", [&](sim::Env& env) {
      Context context(env, options_, defects_);
      ComputeHook hook(context);
      script(hook, env);
      done = true;
      env.shutdown_requested().Wait();
    });
    process.Start();
    ASSERT_TRUE(harness_.RunUntil([&] { return done; }, Duration::Seconds(300)));
  }
  Harness harness_;
  FakeControlPlane* cplane_ = nullptr;
  ControllerOptions options_;
  api::Defects defects_;
};

const api::TenantShardId kT{"t", 0, 0};

TEST_F(ComputeHookTest, DedupesAppliedRequestsButResendsUnapplied) {
  std::vector<NotifyOutcome> outcomes;
  RunHook({}, [&](ComputeHook& hook, sim::Env&) {
    outcomes.push_back(hook.Notify(kT, 0, std::nullopt, 1, CancelToken()));
    outcomes.push_back(hook.Notify(kT, 0, std::nullopt, 1, CancelToken()));  // deduped
    cplane_->script.push_back(api::Http::kLocked);
    outcomes.push_back(hook.Notify(kT, 0, std::nullopt, 2, CancelToken()));  // 423: busy
    outcomes.push_back(hook.Notify(kT, 0, std::nullopt, 2, CancelToken()));  // not applied: resend
    outcomes.push_back(hook.Notify(kT, 0, std::nullopt, 2, CancelToken()));  // deduped
  });
  EXPECT_EQ(outcomes, (std::vector<NotifyOutcome>{NotifyOutcome::kOk, NotifyOutcome::kOk,
                                                  NotifyOutcome::kBusy, NotifyOutcome::kOk,
                                                  NotifyOutcome::kOk}));
  ASSERT_EQ(cplane_->received.size(), 3u);
  EXPECT_EQ(cplane_->applied.at("t").shards.front().node_id, 2u);
}

// Bug #9: A applied, B refused with 423, back to A: the fixed hook sends A again; the defect
// dedupes A against the stale "last request" and sends nothing.
class BusyThenBackTest : public ComputeHookTest, public ::testing::WithParamInterface<bool> {};

TEST_P(BusyThenBackTest, GoingBackAfter423) {
  const bool defect = GetParam();
  RunHook(defect ? api::Defects({kDefectDedupeIgnoresApplied}) : api::Defects(),
          [&](ComputeHook& hook, sim::Env&) {
            EXPECT_EQ(hook.Notify(kT, 0, std::nullopt, 1, CancelToken()), NotifyOutcome::kOk);
            cplane_->script.push_back(api::Http::kLocked);
            EXPECT_EQ(hook.Notify(kT, 0, std::nullopt, 2, CancelToken()), NotifyOutcome::kBusy);
            EXPECT_EQ(hook.Notify(kT, 0, std::nullopt, 1, CancelToken()), NotifyOutcome::kOk);
          });
  EXPECT_EQ(cplane_->received.size(), defect ? 2u : 3u);
}

INSTANTIATE_TEST_SUITE_P(WithAndWithoutDefect, BusyThenBackTest, ::testing::Bool());

TEST_F(ComputeHookTest, TooManyRequestsPausesAndRetriesFatalDoesNot) {
  sim::Duration took;
  NotifyOutcome fatal = NotifyOutcome::kOk;
  RunHook({}, [&](ComputeHook& hook, sim::Env& env) {
    cplane_->script = {api::Http::kTooManyRequests, api::Http::kOk};
    const sim::Instant start = env.Now();
    EXPECT_EQ(hook.Notify(kT, 0, std::nullopt, 1, CancelToken()), NotifyOutcome::kOk);
    took = env.Now() - start;
    cplane_->script = {api::Http::kBadRequest};
    fatal = hook.Notify(kT, 0, std::nullopt, 2, CancelToken());
  });
  EXPECT_GE(took, Duration::Seconds(5));
  EXPECT_EQ(fatal, NotifyOutcome::kFatal);
  EXPECT_EQ(cplane_->received.size(), 3u);  // 429, 200, 400: no retry after 400
}

// An incomplete sharded tenant is not sent; the hook says so (kIncomplete), so the reconciler
// keeps the notification pending and demotes nothing. Upstream says kOk
// (kDefectDemoteAfterIncompleteNotify).
TEST_F(ComputeHookTest, ShardedTenantSentOnlyWhenComplete) {
  RunHook({}, [&](ComputeHook& hook, sim::Env&) {
    EXPECT_EQ(hook.Notify(api::TenantShardId{"s", 0, 2}, 8, std::nullopt, 1, CancelToken()),
              NotifyOutcome::kIncomplete);
    EXPECT_TRUE(cplane_->received.empty());
    EXPECT_EQ(hook.Notify(api::TenantShardId{"s", 1, 2}, 8, std::nullopt, 2, CancelToken()),
              NotifyOutcome::kOk);
  });
  ASSERT_EQ(cplane_->received.size(), 1u);
  EXPECT_EQ(cplane_->received[0].stripe_size, 8u);
  EXPECT_EQ(cplane_->received[0].shards,
            (std::vector<api::ShardLocation>{{1, 0}, {2, 1}}));
}

TEST_F(ComputeHookTest, IncompleteTenantCountsAsSentWithTheDefect) {
  RunHook(api::Defects({kDefectDemoteAfterIncompleteNotify}), [&](ComputeHook& hook, sim::Env&) {
    EXPECT_EQ(hook.Notify(api::TenantShardId{"s", 0, 2}, 8, std::nullopt, 1, CancelToken()),
              NotifyOutcome::kOk);
  });
  EXPECT_TRUE(cplane_->received.empty());
}

}  // namespace
}  // namespace storsim::controller::testing
