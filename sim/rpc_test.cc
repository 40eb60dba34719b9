// RPC outcomes: ok, timeout, connection refused, executed-but-reply-lost; handlers that block.
#include "sim/rpc.h"

#include <gtest/gtest.h>

#include "sim/env.h"
#include "sim/simulation.h"

namespace storsim::sim {
namespace {

struct Add {
  int a;
  int b;
};
struct Sum {
  int value;
};
constexpr RpcMethod<Add, Sum> kAdd{"add"};

class RpcTest : public ::testing::Test {
 protected:
  RpcTest() : simulation_(SimulationOptions{.seed = 7}) {
    server_ = &simulation_.AddProcess("server", [this](Env& env) {
      env.rpc().Serve(kAdd, std::function<Sum(const Add&, const CallContext&)>(
                                [this, &env](const Add& add, const CallContext&) {
                                  ++executed_;
                                  env.Sleep(handler_delay_);
                                  return Sum{add.a + add.b};
                                }));
      env.shutdown_requested().Wait();
    });
    client_ = &simulation_.AddProcess("client", [this](Env& env) {
      for (auto& call : calls_) {
        auto result = env.rpc().Call(server_->id(), kAdd, Add{2, 3}, call.timeout);
        call.status = result.status();
        if (result.ok()) call.value = result->value;
      }
    });
  }

  struct CallRecord {
    Duration timeout;
    absl::Status status;
    int value = 0;
  };

  Simulation simulation_;
  Process* server_;
  Process* client_;
  std::vector<CallRecord> calls_;
  Duration handler_delay_ = Duration::Zero();
  int executed_ = 0;
};

TEST_F(RpcTest, OkReturnsTheHandlersValue) {
  calls_.push_back({Duration::Seconds(1)});
  server_->Start();
  client_->Start();
  simulation_.RunFor(Duration::Seconds(5));
  ASSERT_TRUE(calls_[0].status.ok()) << calls_[0].status;
  EXPECT_EQ(calls_[0].value, 5);
  EXPECT_EQ(client_->rpc().stats().ok, 1u);
}

TEST_F(RpcTest, DownServerRefusesConnection) {
  calls_.push_back({Duration::Seconds(1)});
  client_->Start();
  simulation_.RunFor(Duration::Seconds(5));
  EXPECT_EQ(calls_[0].status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(executed_, 0);
}

TEST_F(RpcTest, PartitionTimesOut) {
  calls_.push_back({Duration::Seconds(1)});
  server_->Start();
  client_->Start();
  simulation_.network().Partition(server_->id(), client_->id());
  simulation_.RunFor(Duration::Seconds(5));
  EXPECT_EQ(calls_[0].status.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(client_->rpc().stats().timeouts, 1u);
  EXPECT_EQ(executed_, 0);
}

TEST_F(RpcTest, OneWayPartitionExecutesButLosesTheReply) {
  calls_.push_back({Duration::Seconds(1)});
  server_->Start();
  client_->Start();
  simulation_.network().PartitionOneWay(server_->id(), client_->id());
  simulation_.RunFor(Duration::Seconds(5));
  EXPECT_EQ(calls_[0].status.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(executed_, 1);
  EXPECT_EQ(client_->rpc().stats().replies_lost, 1u);
}

TEST_F(RpcTest, HandlerSlowerThanTimeoutTimesOut) {
  handler_delay_ = Duration::Seconds(2);
  calls_.push_back({Duration::Seconds(1)});
  calls_.push_back({Duration::Seconds(3)});
  server_->Start();
  client_->Start();
  simulation_.RunFor(Duration::Seconds(10));
  EXPECT_EQ(calls_[0].status.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(calls_[1].status.ok());
  EXPECT_EQ(executed_, 2);
}

TEST_F(RpcTest, ServerCrashMidCallMeansTimeoutAndRestartServesAgain) {
  handler_delay_ = Duration::Seconds(2);
  calls_.push_back({Duration::Seconds(5)});
  server_->Start();
  client_->Start();
  simulation_.RunFor(Duration::Seconds(1));
  server_->Crash();
  simulation_.RunFor(Duration::Seconds(10));
  EXPECT_EQ(calls_[0].status.code(), absl::StatusCode::kDeadlineExceeded);
  server_->Start();
  handler_delay_ = Duration::Zero();
  calls_.clear();
  calls_.push_back({Duration::Seconds(1)});
  client_->Start();  // the client's main returned, so it is down: start a new incarnation
  simulation_.RunFor(Duration::Seconds(5));
  EXPECT_TRUE(calls_[0].status.ok()) << calls_[0].status;
}

}  // namespace
}  // namespace storsim::sim
