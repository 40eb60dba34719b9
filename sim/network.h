// The simulated network between processes: typed messages (a Payload) with a per-link latency
// distribution, loss, duplication and reordering, symmetric and one-way partitions, and clogging
// (messages held on a link until it unclogs). Messages are pooled: sending and delivering one
// allocates nothing once the pool is warm.
//
// Rules:
//   1. Loss, partitions and duplication are decided when a message is sent; a message already on
//      the wire is delivered even if a partition starts meanwhile (it left the sender's NIC).
//   2. A message reaches a process only if the process is up and still the incarnation it was
//      when the message was sent (a restart breaks connections). Otherwise an RPC request is
//      bounced back as "connection refused", and anything else is dropped.
//   3. Clogging is decided at delivery: a clogged link holds its messages in FIFO order and
//      delivers them when it unclogs.
//   4. Every random choice comes from the network's own forked stream.
#pragma once

#include <cstdint>
#include <deque>
#include <set>
#include <vector>

#include "sim/payload.h"
#include "sim/random.h"
#include "sim/scheduler.h"
#include "sim/time.h"

namespace storsim::sim {

class Process;
using ProcessId = int32_t;

struct LinkOptions {
  Duration latency_min = Duration::Micros(200);
  Duration latency_max = Duration::Millis(2);
  uint32_t loss_ppm = 0;        // parts per million of messages dropped
  uint32_t duplicate_ppm = 0;   // parts per million of messages delivered twice
  uint32_t reorder_ppm = 0;     // parts per million delayed by up to reorder_delay_max extra
  Duration reorder_delay_max = Duration::Millis(20);
};

enum class MessageChannel : uint8_t { kRaw, kRpcRequest, kRpcResponse, kRpcRefused };

struct Message {
  ProcessId from = -1;
  ProcessId to = -1;
  uint64_t from_incarnation = 0;
  uint64_t to_incarnation = 0;  // the destination incarnation the sender saw
  MessageChannel channel = MessageChannel::kRaw;
  uint64_t call_id = 0;
  const char* method = nullptr;  // RPC method name (a literal)
  Payload payload;
};

struct NetworkStats {
  uint64_t sent = 0;
  uint64_t delivered = 0;
  uint64_t dropped_loss = 0;
  uint64_t dropped_partition = 0;
  uint64_t dropped_dead = 0;
  uint64_t duplicated = 0;
  uint64_t refused = 0;
};

class Network final : public TimerHandler {
 public:
  Network(Scheduler& scheduler, Random random);
  ~Network();

  void AddProcess(Process* process);  // ids must be dense: 0, 1, 2, ...

  // A message from the pool; Send takes it back.
  Message* Allocate();
  void Release(Message* message);
  // Sends `message` (from its sender, now). Takes ownership.
  void Send(Message* message);

  // Faults. Partitions drop messages in the named direction(s) at send time. Each Partition is
  // ended by its own Heal: a link stays partitioned while any partition of it holds.
  void Partition(ProcessId a, ProcessId b);         // both directions
  void PartitionOneWay(ProcessId from, ProcessId to);
  void Heal(ProcessId a, ProcessId b);              // both directions
  void HealOneWay(ProcessId from, ProcessId to);
  void Isolate(ProcessId process);                  // from everyone, both directions
  void HealAll();                                   // every partition and clog
  bool Partitioned(ProcessId from, ProcessId to) const;

  // Clog and Unclog nest like partitions: the link delivers again when every clog has ended.
  void Clog(ProcessId from, ProcessId to);
  void Unclog(ProcessId from, ProcessId to);
  // A temporary degradation of one direction (a fault): in force until its Undegrade, on top of
  // whatever SetLink configured; nests like partitions.
  void Degrade(ProcessId from, ProcessId to, const LinkOptions& options);
  void Undegrade(ProcessId from, ProcessId to);

  void SetDefaultLink(const LinkOptions& options) { default_link_ = options; }
  void SetLink(ProcessId from, ProcessId to, const LinkOptions& options);
  void ResetLinks();  // every link back to the default

  // Whether a response to `call_id` was dropped (and forgets it): "executed, reply lost".
  bool TakeDroppedResponse(uint64_t call_id);

  const NetworkStats& stats() const { return stats_; }

  void OnTimer(uint64_t argument) override;

 private:
  struct Link {
    // Faults are counted, not flagged, so that overlapping faults on one link each end only
    // their own effect: the link is partitioned while any partition holds, and so on.
    uint32_t partitions = 0;
    uint32_t clogs = 0;
    uint32_t degradations = 0;
    LinkOptions degraded;  // the latest degradation's options, in force while degradations > 0
    bool custom = false;
    LinkOptions options;
    // While clogged, in arrival order. A vector: libstdc++'s std::deque allocates ~600 bytes even
    // when empty, and there are capacity^2 links.
    std::vector<Message*> held;
    Instant last_delivery;      // FIFO floor for links without reordering
  };
  Link& LinkFor(ProcessId from, ProcessId to);
  const LinkOptions& OptionsOf(const Link& link) const {
    return link.degradations > 0 ? link.degraded : link.custom ? link.options : default_link_;
  }
  const Link* FindLink(ProcessId from, ProcessId to) const;
  void Schedule(Message* message, Link& link, Duration extra);
  void Deliver(Message* message);
  void Bounce(Message* request);
  void Drop(Message* message);

  Scheduler& scheduler_;
  Random random_;
  LinkOptions default_link_;
  std::vector<Process*> processes_;
  std::vector<Link> links_;  // dense: from * capacity_ + to
  size_t capacity_ = 0;
  std::vector<Message*> free_;
  std::vector<std::unique_ptr<Message>> all_;
  std::set<uint64_t> dropped_responses_;
  NetworkStats stats_;
};

}  // namespace storsim::sim
