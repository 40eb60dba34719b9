// Small concurrency helpers of the controller: cancellation tokens (upstream's CancellationToken),
// a counting semaphore, upstream's exponential backoff, and an RPC call that a cancellation
// aborts (upstream aborts in-flight pageserver calls when a node goes offline or a reconciler is
// superseded; the simulated RPC itself cannot be interrupted, so the call runs in a helper fiber
// and the caller stops waiting for it).
#pragma once

#include <initializer_list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "sim/check.h"
#include "sim/env.h"
#include "sim/rpc.h"
#include "sim/sync.h"

namespace storsim::controller {

// A cancellation token: cheap to copy (shared state); Cancel is idempotent. An empty token
// (default-constructed) is never cancelled.
class CancelToken {
 public:
  CancelToken() = default;
  explicit CancelToken(sim::Scheduler& scheduler)
      : event_(std::make_shared<sim::Event>(scheduler)) {}
  void Cancel() {
    if (event_) event_->Set();
  }
  bool cancelled() const { return event_ && event_->is_set(); }
  bool valid() const { return event_ != nullptr; }
  // The event to wait on; precondition valid().
  sim::Event& event() const {
    SIM_CHECK(event_ != nullptr);
    return *event_;
  }

 private:
  std::shared_ptr<sim::Event> event_;
};

// Whether any of the tokens is cancelled.
bool AnyCancelled(const std::vector<CancelToken>& tokens);

// Sleeps `local` unless a token is cancelled first. Returns false when cancelled.
bool SleepCancellable(sim::Env& env, sim::Duration local, const std::vector<CancelToken>& tokens);

// Upstream utils::backoff: the sleep before retry attempt `attempt` (0-based) of a retried call:
// none before attempts 0 and 1, then 1.1^(attempt-1) s, capped. Integer arithmetic only.
sim::Duration BackoffBeforeAttempt(int attempt, sim::Duration cap);
// 1.1^n s, capped (upstream exponential_backoff_duration_seconds with base 0.1).
sim::Duration ExponentialBackoff(int attempt, sim::Duration cap);

// A counting semaphore with FIFO fairness (a channel of permits).
class Semaphore {
 public:
  Semaphore(sim::Scheduler& scheduler, int permits);
  // Takes a permit, waiting until `deadline`; false on deadline.
  bool Acquire(sim::Instant deadline = sim::Instant::Max());
  bool TryAcquire();
  void Release();
  int available() const { return static_cast<int>(permits_.size()); }

 private:
  sim::Channel<int> permits_;
  int capacity_;
};

// Calls `method` on `to` in a helper fiber and waits for the reply or for a token to be
// cancelled, whichever comes first. Errors: those of Rpc::Call, and Cancelled when a token fired
// (the call may still execute on the server).
template <typename Req, typename Resp>
absl::StatusOr<Resp> CallCancellable(sim::Env& env, sim::ProcessId to,
                                     sim::RpcMethod<Req, Resp> method, Req request,
                                     sim::Duration timeout,
                                     const std::vector<CancelToken>& tokens) {
  if (AnyCancelled(tokens)) return absl::CancelledError("cancelled before the call");
  sim::Promise<absl::StatusOr<Resp>> promise(env.scheduler());
  sim::Future<absl::StatusOr<Resp>> future = promise.GetFuture();
  env.Spawn(std::string("ctl.call.") + method.name,
            [&env, to, method, request = std::move(request), timeout, promise]() mutable {
              promise.Set(env.rpc().Call(to, method, std::move(request), timeout));
            });
  // Bounded: the helper fiber always finishes within `timeout` (plus clock drift).
  for (int round = 0; round < 1'000'000; ++round) {
    if (future.Ready()) return future.Get();
    if (AnyCancelled(tokens)) return absl::CancelledError("call cancelled");
    std::vector<sim::Waitable*> waitables;
    waitables.push_back(&future);
    for (const CancelToken& token : tokens) {
      if (token.valid()) waitables.push_back(&token.event());
    }
    // WaitAny takes an initializer_list; wait on the future and up to three tokens.
    switch (waitables.size()) {
      case 1: sim::WaitAny(env.scheduler(), {waitables[0]}); break;
      case 2: sim::WaitAny(env.scheduler(), {waitables[0], waitables[1]}); break;
      case 3: sim::WaitAny(env.scheduler(), {waitables[0], waitables[1], waitables[2]}); break;
      default:
        sim::WaitAny(env.scheduler(), {waitables[0], waitables[1], waitables[2], waitables[3]});
        break;
    }
  }
  SIM_CHECK_MSG(false, "CallCancellable did not finish");
  return absl::InternalError("unreachable");
}

}  // namespace storsim::controller
