// Network: latency, one-way partitions, loss, duplication, clogging, restarts.
#include "sim/network.h"

#include <gtest/gtest.h>

#include <vector>

#include "sim/env.h"
#include "sim/simulation.h"

namespace storsim::sim {
namespace {

struct Ping {
  int value;
};

// Two processes; each records the raw messages it receives.
class NetworkTest : public ::testing::Test {
 protected:
  explicit NetworkTest(LinkOptions link = {}) : simulation_({.seed = 11, .link = link}) {
    for (int i = 0; i < 2; ++i) {
      Process& p = simulation_.AddProcess("p" + std::to_string(i), [this, i](Env& env) {
        env.process().SetRawHandler([this, i](Message* message) {
          received_[i].push_back(message->payload.Get<Ping>().value);
          arrival_[i].push_back(simulation_.Now());
          simulation_.network().Release(message);
        });
        env.shutdown_requested().Wait();
      });
      p.Start();
    }
    simulation_.RunFor(Duration::Millis(1));
  }

  void Send(ProcessId from, ProcessId to, int value) {
    Network& network = simulation_.network();
    Message* message = network.Allocate();
    message->from = from;
    message->to = to;
    message->from_incarnation = simulation_.process(from).incarnation();
    message->to_incarnation = simulation_.process(to).incarnation();
    message->payload = Payload(Ping{value});
    network.Send(message);
  }

  Simulation simulation_;
  std::vector<int> received_[2];
  std::vector<Instant> arrival_[2];
};

TEST_F(NetworkTest, DeliversInOrderWithinTheLatencyBounds) {
  const Instant sent = simulation_.Now();
  for (int i = 0; i < 100; ++i) Send(0, 1, i);
  simulation_.RunFor(Duration::Seconds(1));
  ASSERT_EQ(received_[1].size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(received_[1][i], i);
  for (const Instant& at : arrival_[1]) {
    EXPECT_GE(at - sent, LinkOptions{}.latency_min);
    EXPECT_LE(at - sent, LinkOptions{}.latency_max);
  }
}

TEST_F(NetworkTest, OneWayPartitionDropsOneDirectionOnly) {
  simulation_.network().PartitionOneWay(0, 1);
  Send(0, 1, 1);
  Send(1, 0, 2);
  simulation_.RunFor(Duration::Seconds(1));
  EXPECT_TRUE(received_[1].empty());
  EXPECT_EQ(received_[0], (std::vector<int>{2}));
  simulation_.network().HealOneWay(0, 1);
  Send(0, 1, 3);
  simulation_.RunFor(Duration::Seconds(1));
  EXPECT_EQ(received_[1], (std::vector<int>{3}));
}

TEST_F(NetworkTest, ClogHoldsMessagesAndUnclogDeliversThemInOrder) {
  simulation_.network().Clog(0, 1);
  for (int i = 0; i < 5; ++i) Send(0, 1, i);
  simulation_.RunFor(Duration::Seconds(10));
  EXPECT_TRUE(received_[1].empty());
  simulation_.network().Unclog(0, 1);
  simulation_.RunFor(Duration::Seconds(1));
  EXPECT_EQ(received_[1], (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST_F(NetworkTest, MessagesToAnEarlierIncarnationAreDropped) {
  Send(0, 1, 1);
  simulation_.process(1).Restart();
  simulation_.RunFor(Duration::Seconds(1));
  EXPECT_TRUE(received_[1].empty());
  EXPECT_EQ(simulation_.network().stats().dropped_dead, 1u);
}

class LossyNetworkTest : public NetworkTest {
 protected:
  LossyNetworkTest()
      : NetworkTest(LinkOptions{.loss_ppm = 250'000, .duplicate_ppm = 100'000}) {}
};

TEST_F(LossyNetworkTest, LossAndDuplicationFollowTheirRates) {
  for (int i = 0; i < 10'000; ++i) Send(0, 1, i);
  simulation_.RunFor(Duration::Seconds(1));
  const NetworkStats& stats = simulation_.network().stats();
  EXPECT_NEAR(static_cast<double>(stats.dropped_loss), 2500, 250);
  EXPECT_NEAR(static_cast<double>(stats.duplicated), 750, 150);  // duplicates of survivors
  EXPECT_EQ(received_[1].size(), stats.delivered);
}

class ReorderingNetworkTest : public NetworkTest {
 protected:
  ReorderingNetworkTest() : NetworkTest(LinkOptions{.reorder_ppm = 500'000}) {}
};

TEST_F(ReorderingNetworkTest, ReorderingHappensOnlyWhenAsked) {
  for (int i = 0; i < 1000; ++i) Send(0, 1, i);
  simulation_.RunFor(Duration::Seconds(1));
  ASSERT_EQ(received_[1].size(), 1000u);
  int inversions = 0;
  for (size_t i = 1; i < received_[1].size(); ++i) {
    if (received_[1][i] < received_[1][i - 1]) ++inversions;
  }
  EXPECT_GT(inversions, 100);
}

}  // namespace
}  // namespace storsim::sim

namespace storsim::sim {
namespace {

TEST_F(NetworkTest, OverlappingPartitionsEachEndOnlyTheirOwn) {
  Network& network = simulation_.network();
  network.Partition(0, 1);
  network.Isolate(0);  // a second, overlapping partition of the same links
  network.Heal(0, 1);  // the isolation still holds
  EXPECT_TRUE(network.Partitioned(0, 1));
  network.Heal(0, 1);  // the isolation's own heal
  EXPECT_FALSE(network.Partitioned(0, 1));
  network.Clog(0, 1);
  network.Clog(0, 1);
  Send(0, 1, 7);
  network.Unclog(0, 1);
  simulation_.RunFor(Duration::Seconds(1));
  EXPECT_TRUE(received_[1].empty());  // one clog still holds
  network.Unclog(0, 1);
  simulation_.RunFor(Duration::Seconds(1));
  EXPECT_EQ(received_[1], (std::vector<int>{7}));
}

TEST_F(NetworkTest, DegradationsNestAndRestoreTheConfiguredLink) {
  Network& network = simulation_.network();
  network.Degrade(0, 1, LinkOptions{.loss_ppm = 1000'000});
  network.Degrade(0, 1, LinkOptions{.loss_ppm = 1000'000});
  network.Undegrade(0, 1);
  Send(0, 1, 1);
  simulation_.RunFor(Duration::Seconds(1));
  EXPECT_TRUE(received_[1].empty());  // still fully lossy
  network.Undegrade(0, 1);
  Send(0, 1, 2);
  simulation_.RunFor(Duration::Seconds(1));
  EXPECT_EQ(received_[1], (std::vector<int>{2}));
}

}  // namespace
}  // namespace storsim::sim
