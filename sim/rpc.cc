// RPC over the simulated network.
#include "sim/rpc.h"

#include <algorithm>

#include "sim/check.h"
#include "sim/env.h"
#include "sim/simulation.h"

namespace storsim::sim {

const char* RpcOutcomeName(RpcOutcome outcome) {
  switch (outcome) {
    case RpcOutcome::kOk: return "ok";
    case RpcOutcome::kTimeout: return "timeout";
    case RpcOutcome::kRefused: return "refused";
    case RpcOutcome::kReplyLost: return "reply_lost";
  }
  return "unknown";
}

void Rpc::ServeRaw(const char* method, RawHandler handler) {
  ForgetLookup();  // a remembered miss may become a hit
  Served& served = handlers_[std::string_view(method)];
  served.handler = std::make_shared<RawHandler>(std::move(handler));
  served.fiber_name = std::string("rpc:") + method;
}

void Rpc::StopServing(const char* method) {
  ForgetLookup();
  handlers_.erase(std::string_view(method));
}

void Rpc::Reset() {
  ForgetLookup();
  handlers_.clear();
  pending_.clear();
}

// Inlined into its two callers (per request: the remembered lookup is one comparison, which an
// out-of-line call's register saves cost several times over); only this file calls it.
__attribute__((always_inline)) inline Rpc::Handlers::iterator Rpc::FindHandler(
    const char* method) {
  if (method != last_method_ || method == nullptr) {
    last_handler_ = handlers_.find(std::string_view(method));
    last_method_ = method;
  }
  return last_handler_;
}

Rpc::PendingCall* Rpc::FindPending(uint64_t call_id) {
  auto it = std::lower_bound(
      pending_.begin(), pending_.end(), call_id,
      [](const PendingCall* pending, uint64_t id) { return pending->call_id < id; });
  return it != pending_.end() && (*it)->call_id == call_id ? *it : nullptr;
}

void Rpc::ForgetPending(uint64_t call_id) {
  auto it = std::lower_bound(
      pending_.begin(), pending_.end(), call_id,
      [](const PendingCall* pending, uint64_t id) { return pending->call_id < id; });
  if (it != pending_.end() && (*it)->call_id == call_id) pending_.erase(it);
}

absl::Status Rpc::CallRaw(ProcessId to, const char* method, Payload request, Duration timeout,
                          Payload* reply) {
  Simulation& simulation = process_.simulation();
  Scheduler& scheduler = simulation.scheduler();
  SIM_CHECK_MSG(scheduler.current() != nullptr && scheduler.current()->process() == &process_,
                "an RPC is called from a fiber of the calling process");
  ++stats_.calls;
  const uint64_t call_id = simulation.NextCallId();
  const Instant deadline = process_.env().DeadlineAfter(timeout);
  SIM_CHECK(pending_.empty() || pending_.back()->call_id < call_id);
  PendingCall pending;
  pending.call_id = call_id;
  pending_.push_back(&pending);
  // Removes the entry however this frame ends, a crash's unwinding included.
  struct Forget {
    Rpc* rpc;
    uint64_t call_id;
    ~Forget() { rpc->ForgetPending(call_id); }
  } forget{this, call_id};
  pending.token = scheduler.PrepareWait();

  Network& network = simulation.network();
  Message* message = network.Allocate();
  message->from = process_.id();
  message->to = to;
  message->from_incarnation = process_.incarnation();
  message->to_incarnation = simulation.process(to).incarnation();
  message->channel = MessageChannel::kRpcRequest;
  message->call_id = call_id;
  message->method = method;
  message->payload = std::move(request);
  if (!simulation.process(to).up()) message->to_incarnation = 0;  // refused on arrival
  network.Send(message);

  scheduler.Block(deadline);
  SIM_CHECK(FindPending(call_id) == &pending);
  RpcOutcome outcome;
  absl::Status status;
  if (pending.done && !pending.refused) {
    outcome = RpcOutcome::kOk;
    *reply = std::move(pending.reply);
    ++stats_.ok;
  } else if (pending.refused) {
    outcome = RpcOutcome::kRefused;
    ++stats_.refused;
    status = absl::UnavailableError(std::string("connection refused: ") + method);
  } else {
    const bool lost = network.TakeDroppedResponse(call_id);
    outcome = lost ? RpcOutcome::kReplyLost : RpcOutcome::kTimeout;
    if (lost) {
      ++stats_.replies_lost;
    } else {
      ++stats_.timeouts;
    }
    status = absl::DeadlineExceededError(std::string("timeout: ") + method);
  }
  if (outcome != RpcOutcome::kOk) {
    process_.env().Emit("rpc.failed", {TraceField::Str("method", method),
                                       TraceField::Int("to", to),
                                       TraceField::Str("outcome", RpcOutcomeName(outcome))});
  }
  return status;
}

void Rpc::OnMessage(Message* message) {
  Network& network = process_.simulation().network();
  switch (message->channel) {
    case MessageChannel::kRpcRequest:
      HandleRequest(message);
      return;
    case MessageChannel::kRpcResponse:
    case MessageChannel::kRpcRefused: {
      PendingCall* pending = FindPending(message->call_id);
      if (pending != nullptr && !pending->done) {
        pending->done = true;
        pending->refused = message->channel == MessageChannel::kRpcRefused;
        pending->reply = std::move(message->payload);
        process_.simulation().scheduler().Wake(pending->token);
      }
      network.Release(message);  // a late or duplicate reply is dropped
      return;
    }
    case MessageChannel::kRaw:
      break;
  }
  network.Release(message);
}

void Rpc::HandleRequest(Message* message) {
  Simulation& simulation = process_.simulation();
  Network& network = simulation.network();
  auto it = FindHandler(message->method);
  if (it == handlers_.end()) {
    // Not listening (yet): the connection is refused.
    message->to_incarnation = process_.incarnation();
    Message* reply = network.Allocate();
    reply->from = process_.id();
    reply->to = message->from;
    reply->from_incarnation = process_.incarnation();
    reply->to_incarnation = message->from_incarnation;
    reply->channel = MessageChannel::kRpcRefused;
    reply->call_id = message->call_id;
    reply->method = message->method;
    network.Release(message);
    network.Send(reply);
    return;
  }
  ++stats_.served;
  // The fiber's body captures two pointers only, so std::function keeps it inline (no heap);
  // the call's context travels in the message itself.
  process_.SpawnFiber(it->second.fiber_name, [this, message] { RunHandler(message); });
}

void Rpc::RunHandler(Message* message) {
  Network& network = process_.simulation().network();
  const CallContext context{message->from, message->from_incarnation, message->call_id};
  auto it = FindHandler(message->method);
  if (it == handlers_.end()) {
    // Stopped serving between the request's arrival and this fiber's start: refused, as if the
    // request had arrived a moment later.
    message->payload.Reset();
    message->channel = MessageChannel::kRpcRefused;
  } else {
    const std::shared_ptr<RawHandler> handler = it->second.handler;  // alive until it returns
    message->payload = (*handler)(message->payload, context);
    message->channel = MessageChannel::kRpcResponse;
  }
  message->to = context.from;
  message->from = process_.id();
  message->to_incarnation = context.from_incarnation;
  message->from_incarnation = process_.incarnation();
  network.Send(message);
}

}  // namespace storsim::sim
