// Network implementation: dense per-link state, pooled messages, delivery through kernel timers.
#include "sim/network.h"

#include <algorithm>

#include "sim/check.h"
#include "sim/process.h"

namespace storsim::sim {

Network::Network(Scheduler& scheduler, Random random)
    : scheduler_(scheduler), random_(random) {}

Network::~Network() = default;

void Network::AddProcess(Process* process) {
  SIM_CHECK(process->id() == static_cast<ProcessId>(processes_.size()));
  processes_.push_back(process);
  if (processes_.size() > capacity_) {
    const size_t old_capacity = capacity_;
    size_t capacity = std::max<size_t>(8, capacity_ * 2);
    while (capacity < processes_.size()) capacity *= 2;
    std::vector<Link> links(capacity * capacity);
    for (size_t from = 0; from < old_capacity; ++from) {
      for (size_t to = 0; to < old_capacity; ++to) {
        links[from * capacity + to] = std::move(links_[from * old_capacity + to]);
      }
    }
    links_ = std::move(links);
    capacity_ = capacity;
  }
}

// Inlined into Send and OnTimer (two calls per message; only this file calls it).
__attribute__((always_inline)) inline Network::Link& Network::LinkFor(ProcessId from,
                                                                     ProcessId to) {
  SIM_CHECK(from >= 0 && to >= 0 && static_cast<size_t>(from) < processes_.size() &&
            static_cast<size_t>(to) < processes_.size());
  return links_[static_cast<size_t>(from) * capacity_ + static_cast<size_t>(to)];
}

const Network::Link* Network::FindLink(ProcessId from, ProcessId to) const {
  if (from < 0 || to < 0 || static_cast<size_t>(from) >= processes_.size() ||
      static_cast<size_t>(to) >= processes_.size()) {
    return nullptr;
  }
  return &links_[static_cast<size_t>(from) * capacity_ + static_cast<size_t>(to)];
}

Message* Network::Allocate() {
  if (free_.empty()) {
    all_.push_back(std::make_unique<Message>());
    return all_.back().get();
  }
  Message* message = free_.back();
  free_.pop_back();
  return message;
}

void Network::Release(Message* message) {
  message->payload.Reset();
  message->method = nullptr;
  message->call_id = 0;
  message->channel = MessageChannel::kRaw;
  free_.push_back(message);
}

void Network::Drop(Message* message) {
  if (message->channel == MessageChannel::kRpcResponse) dropped_responses_.insert(message->call_id);
  Release(message);
}

void Network::Send(Message* message) {
  ++stats_.sent;
  Link& link = LinkFor(message->from, message->to);
  if (link.partitions > 0) {
    ++stats_.dropped_partition;
    Drop(message);
    return;
  }
  const LinkOptions& options = OptionsOf(link);
  if (options.loss_ppm > 0 && random_.Chance(options.loss_ppm, 1000'000)) {
    ++stats_.dropped_loss;
    Drop(message);
    return;
  }
  if (options.duplicate_ppm > 0 && random_.Chance(options.duplicate_ppm, 1000'000)) {
    ++stats_.duplicated;
    Message* copy = Allocate();
    *copy = *message;
    Schedule(copy, link, Duration::Zero());
  }
  Duration extra = Duration::Zero();
  if (options.reorder_ppm > 0 && random_.Chance(options.reorder_ppm, 1000'000)) {
    extra = random_.DurationIn(Duration::Zero(), options.reorder_delay_max);
  }
  Schedule(message, link, extra);
}

void Network::Schedule(Message* message, Link& link, Duration extra) {
  const LinkOptions& options = OptionsOf(link);
  Instant at = scheduler_.Now() + random_.DurationIn(options.latency_min, options.latency_max);
  if (options.reorder_ppm == 0) {
    at = std::max(at, link.last_delivery);  // FIFO like one TCP connection
    link.last_delivery = at;
  }
  at = at + extra;
  scheduler_.ArmTimer(at, this, reinterpret_cast<uint64_t>(message));
}

// Inlined into OnTimer, its only caller: one call less on every message's way to its process.
__attribute__((always_inline)) inline void Network::Deliver(Message* message) {
  Process* destination = processes_[static_cast<size_t>(message->to)];
  const bool reachable = destination->up() && destination->incarnation() == message->to_incarnation;
  if (!reachable) {
    ++stats_.dropped_dead;
    if (message->channel == MessageChannel::kRpcRequest) {
      Bounce(message);
    } else {
      Drop(message);
    }
    return;
  }
  ++stats_.delivered;
  destination->OnMessage(message);
}

void Network::OnTimer(uint64_t argument) {
  Message* message = reinterpret_cast<Message*>(argument);
  Link& link = LinkFor(message->from, message->to);
  if (link.clogs > 0) {
    link.held.push_back(message);
    return;
  }
  Deliver(message);
}

void Network::Bounce(Message* request) {
  ++stats_.refused;
  Process* sender = processes_[static_cast<size_t>(request->from)];
  Message* reply = request;  // reuse the slot
  reply->payload.Reset();
  std::swap(reply->from, reply->to);
  reply->to_incarnation = reply->from_incarnation;
  reply->from_incarnation = processes_[static_cast<size_t>(reply->from)]->incarnation();
  reply->channel = MessageChannel::kRpcRefused;
  if (!sender->up()) {
    Release(reply);
    return;
  }
  // A reset travels back like any packet, but is never lost (the caller would only time out).
  Link& link = LinkFor(reply->from, reply->to);
  Schedule(reply, link, Duration::Zero());
}

void Network::Partition(ProcessId a, ProcessId b) {
  PartitionOneWay(a, b);
  PartitionOneWay(b, a);
}
void Network::PartitionOneWay(ProcessId from, ProcessId to) { ++LinkFor(from, to).partitions; }
void Network::Heal(ProcessId a, ProcessId b) {
  HealOneWay(a, b);
  HealOneWay(b, a);
}
void Network::HealOneWay(ProcessId from, ProcessId to) {
  Link& link = LinkFor(from, to);
  if (link.partitions > 0) --link.partitions;
}

void Network::Isolate(ProcessId process) {
  for (size_t other = 0; other < processes_.size(); ++other) {
    if (static_cast<ProcessId>(other) == process) continue;
    Partition(process, static_cast<ProcessId>(other));
  }
}

bool Network::Partitioned(ProcessId from, ProcessId to) const {
  const Link* link = FindLink(from, to);
  return link != nullptr && link->partitions > 0;
}

void Network::HealAll() {
  for (size_t from = 0; from < processes_.size(); ++from) {
    for (size_t to = 0; to < processes_.size(); ++to) {
      Link& link = links_[from * capacity_ + to];
      link.partitions = 0;
      link.degradations = 0;
      if (link.clogs > 0) link.clogs = 1;  // the Unclog below ends the last one
      Unclog(static_cast<ProcessId>(from), static_cast<ProcessId>(to));
    }
  }
}

void Network::Clog(ProcessId from, ProcessId to) { ++LinkFor(from, to).clogs; }

void Network::Degrade(ProcessId from, ProcessId to, const LinkOptions& options) {
  Link& link = LinkFor(from, to);
  ++link.degradations;
  link.degraded = options;
}

void Network::Undegrade(ProcessId from, ProcessId to) {
  Link& link = LinkFor(from, to);
  if (link.degradations > 0) --link.degradations;
}

void Network::Unclog(ProcessId from, ProcessId to) {
  Link& link = LinkFor(from, to);
  if (link.clogs == 0) return;
  if (--link.clogs > 0) return;
  std::vector<Message*> held;
  held.swap(link.held);
  for (Message* message : held) Schedule(message, link, Duration::Zero());
}

void Network::SetLink(ProcessId from, ProcessId to, const LinkOptions& options) {
  Link& link = LinkFor(from, to);
  link.custom = true;
  link.options = options;
}

void Network::ResetLinks() {
  for (auto& link : links_) link.custom = false;
}

bool Network::TakeDroppedResponse(uint64_t call_id) { return dropped_responses_.erase(call_id) > 0; }

}  // namespace storsim::sim
