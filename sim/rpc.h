// Request/response over the simulated network with a per-call timeout and explicit outcomes:
//   ok                    the handler ran and its reply arrived;
//   timeout               no reply before the deadline (request or reply lost, partition, slow);
//   connection refused    the destination was down, restarted, or not serving (yet);
// and, visible to the harness only (trace and RpcStats), "executed, reply lost": the handler ran
// but its reply was dropped, which the caller sees as a timeout — as in life.
//
// Each request runs its handler in a fresh fiber of the serving process, so handlers may block
// (on a database, on other RPCs). Handlers and pending calls belong to one incarnation: a crash
// drops both.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "sim/network.h"
#include "sim/payload.h"
#include "sim/scheduler.h"
#include "sim/time.h"

namespace storsim::sim {

class Process;

// A typed method: the name is a string literal, Req and Resp are copyable value types.
template <typename Req, typename Resp>
struct RpcMethod {
  const char* name;
};

struct CallContext {
  ProcessId from = -1;
  uint64_t from_incarnation = 0;
  uint64_t call_id = 0;
};

enum class RpcOutcome : uint8_t { kOk, kTimeout, kRefused, kReplyLost };
const char* RpcOutcomeName(RpcOutcome outcome);

struct RpcStats {
  uint64_t calls = 0;
  uint64_t ok = 0;
  uint64_t timeouts = 0;
  uint64_t refused = 0;
  uint64_t replies_lost = 0;
  uint64_t served = 0;
};

class Rpc {
 public:
  using RawHandler = std::function<Payload(Payload&, const CallContext&)>;

  explicit Rpc(Process& process) : process_(process) {}

  template <typename Req, typename Resp>
  void Serve(RpcMethod<Req, Resp> method,
             std::function<Resp(const Req&, const CallContext&)> handler) {
    ServeRaw(method.name, [handler = std::move(handler)](Payload& request,
                                                         const CallContext& context) {
      return Payload(handler(request.Get<Req>(), context));
    });
  }
  void ServeRaw(const char* method, RawHandler handler);
  void StopServing(const char* method);
  bool serving() const { return !handlers_.empty(); }

  // Calls `method` on process `to`. `timeout` is measured on the caller's local clock.
  // Errors: DeadlineExceeded (timeout, reply lost), Unavailable (connection refused).
  template <typename Req, typename Resp>
  absl::StatusOr<Resp> Call(ProcessId to, RpcMethod<Req, Resp> method, Req request,
                            Duration timeout) {
    Payload reply;
    absl::Status status = CallRaw(to, method.name, Payload(std::move(request)), timeout, &reply);
    if (!status.ok()) return status;
    return std::move(reply.Get<Resp>());
  }
  absl::Status CallRaw(ProcessId to, const char* method, Payload request, Duration timeout,
                       Payload* reply);

  const RpcStats& stats() const { return stats_; }

  // Kernel hooks.
  void OnMessage(Message* message);
  void Reset();  // the incarnation ended: forget handlers and pending calls

 private:
  // One outstanding call. It lives in the caller's frame (CallRaw), which outlives its entry in
  // pending_: CallRaw removes the entry before returning, and also when its fiber is unwound.
  struct PendingCall {
    uint64_t call_id = 0;
    WakeToken token;
    bool done = false;
    bool refused = false;
    Payload reply;
  };
  PendingCall* FindPending(uint64_t call_id);
  void ForgetPending(uint64_t call_id);
  void HandleRequest(Message* message);
  void RunHandler(Message* message);  // body of a handler fiber

  Process& process_;
  struct Served {
    // Shared with the fibers running it, so StopServing or Reset during a call cannot destroy a
    // handler that is still executing.
    std::shared_ptr<RawHandler> handler;
    std::string fiber_name;  // "rpc:" + method, built once rather than per request
  };
  using Handlers = std::map<std::string_view, Served>;
  // The handler of `method` (a literal), or end(). Requests for one method come in runs, so the
  // last lookup is remembered by the literal's address (equal addresses, equal names).
  Handlers::iterator FindHandler(const char* method);
  void ForgetLookup() { last_method_ = nullptr; }

  Handlers handlers_;
  const char* last_method_ = nullptr;
  Handlers::iterator last_handler_;
  // Sorted by call id: call ids only grow, so a new call appends. Kept as a vector (not a map)
  // so that a call allocates nothing once the vector has grown to the most calls pending at once.
  std::vector<PendingCall*> pending_;
  RpcStats stats_;
};

}  // namespace storsim::sim
