// Cancellation, backoff and semaphore helpers (see cancel.h).
#include "model/controller/cancel.h"

namespace storsim::controller {

bool AnyCancelled(const std::vector<CancelToken>& tokens) {
  for (const CancelToken& token : tokens) {
    if (token.cancelled()) return true;
  }
  return false;
}

bool SleepCancellable(sim::Env& env, sim::Duration local, const std::vector<CancelToken>& tokens) {
  SIM_CHECK(local >= sim::Duration::Zero());
  if (AnyCancelled(tokens)) return false;
  const sim::Instant deadline = env.DeadlineAfter(local);
  // Each wake either passes the deadline or sees a cancellation: at most one round per token.
  for (size_t round = 0; round <= tokens.size() + 1; ++round) {
    std::vector<sim::Waitable*> waitables;
    for (const CancelToken& token : tokens) {
      if (token.valid()) waitables.push_back(&token.event());
    }
    int index = -1;
    switch (waitables.size()) {
      case 0: env.scheduler().SleepUntil(deadline); return true;
      case 1: index = sim::WaitAny(env.scheduler(), {waitables[0]}, deadline); break;
      case 2: index = sim::WaitAny(env.scheduler(), {waitables[0], waitables[1]}, deadline); break;
      default:
        index = sim::WaitAny(env.scheduler(), {waitables[0], waitables[1], waitables[2]}, deadline);
        break;
    }
    if (index < 0) return !AnyCancelled(tokens);
    if (AnyCancelled(tokens)) return false;
  }
  return !AnyCancelled(tokens);
}

sim::Duration BackoffBeforeAttempt(int attempt, sim::Duration cap) {
  SIM_CHECK(attempt >= 0);
  if (attempt <= 1) return sim::Duration::Zero();
  return ExponentialBackoff(attempt - 1, cap);
}

sim::Duration ExponentialBackoff(int attempt, sim::Duration cap) {
  SIM_CHECK(attempt >= 0);
  int64_t micros = 1'000'000;
  for (int i = 0; i < attempt && micros < cap.nanos() / 1000; ++i) micros = micros * 11 / 10;
  sim::Duration delay = sim::Duration::Micros(micros);
  return delay < cap ? delay : cap;
}

Semaphore::Semaphore(sim::Scheduler& scheduler, int permits)
    : permits_(scheduler, static_cast<size_t>(permits)), capacity_(permits) {
  SIM_CHECK(permits > 0);
  for (int i = 0; i < permits; ++i) SIM_CHECK(permits_.TrySend(i));
}

bool Semaphore::Acquire(sim::Instant deadline) {
  return permits_.Receive(deadline).has_value();
}

bool Semaphore::TryAcquire() { return permits_.TryReceive().has_value(); }

void Semaphore::Release() {
  SIM_CHECK_MSG(static_cast<int>(permits_.size()) < capacity_, "semaphore over-released");
  SIM_CHECK(permits_.TrySend(0));
}

}  // namespace storsim::controller
