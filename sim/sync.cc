// Waiter queues, Event, Mutex and WaitAny.
#include "sim/sync.h"

namespace storsim::sim {

void WaiterQueue::Add(WakeToken token) {
  while (!tokens_.empty() && !Live(tokens_.front())) tokens_.pop_front();
  tokens_.push_back(token);
  if (tokens_.size() >= compact_at_) {
    std::deque<WakeToken> live;
    for (const auto& t : tokens_) {
      if (Live(t)) live.push_back(t);
    }
    tokens_.swap(live);
    compact_at_ = std::max<size_t>(16, tokens_.size() * 2);
  }
}

bool WaiterQueue::WakeOne(Scheduler& scheduler) {
  while (!tokens_.empty()) {
    WakeToken token = tokens_.front();
    tokens_.pop_front();
    if (scheduler.Wake(token)) return true;
  }
  return false;
}

void WaiterQueue::WakeAll(Scheduler& scheduler) {
  std::deque<WakeToken> tokens;
  tokens.swap(tokens_);
  for (const auto& token : tokens) scheduler.Wake(token);
}

int WaitAny(Scheduler& scheduler, std::initializer_list<Waitable*> waitables, Instant deadline) {
  while (true) {
    int index = 0;
    for (Waitable* w : waitables) {
      if (w->Ready()) return index;
      ++index;
    }
    WakeToken token = scheduler.PrepareWait();
    for (Waitable* w : waitables) w->AddWaiter(token);
    if (scheduler.Block(deadline) == WakeReason::kTimeout) {
      index = 0;
      for (Waitable* w : waitables) {
        if (w->Ready()) return index;
        ++index;
      }
      return -1;
    }
  }
}

void Event::Set() {
  set_ = true;
  waiters_.WakeAll(*scheduler_);
}

bool Event::Wait(Instant deadline) {
  while (!set_) {
    waiters_.Add(scheduler_->PrepareWait());
    if (scheduler_->Block(deadline) == WakeReason::kTimeout) return set_;
  }
  return true;
}

bool Mutex::TryLock() {
  if (owner_ != nullptr) return false;
  owner_ = scheduler_->current();
  SIM_CHECK_MSG(owner_ != nullptr, "Mutex is for fibers");
  return true;
}

bool Mutex::Lock(Instant deadline) {
  Fiber* self = scheduler_->current();
  SIM_CHECK_MSG(self != nullptr, "Mutex is for fibers");
  SIM_CHECK_MSG(owner_ != self, "Mutex is not recursive");
  if (owner_ == nullptr) {
    owner_ = self;
    return true;
  }
  WakeToken token = scheduler_->PrepareWait();
  waiters_.emplace_back(token, self);
  if (scheduler_->Block(deadline) == WakeReason::kTimeout && owner_ != self) return false;
  SIM_CHECK(owner_ == self);  // handed off by Unlock
  return true;
}

void Mutex::Unlock() {
  owner_ = nullptr;
  while (!waiters_.empty()) {
    auto [token, fiber] = waiters_.front();
    waiters_.pop_front();
    if (scheduler_->Wake(token)) {
      owner_ = fiber;
      return;
    }
  }
}

}  // namespace storsim::sim
