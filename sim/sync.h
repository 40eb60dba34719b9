// Fiber synchronisation: Event, bounded Channel<T>, Mutex, Promise/Future<T>, and WaitAny (a race
// of several waits with a deadline). Every wait wakes in FIFO order. Deadlines are true-time
// Instants; a process turns a local timeout into one with Env::DeadlineAfter, so clock drift
// bends its timeouts.
//
// A fiber can register one wake token with several waiter queues (that is how WaitAny works): the
// first notification wins and the other entries go stale; stale entries are skipped on wake and
// pruned on registration, so a queue never grows past its live waiters by more than a constant
// factor.
#pragma once

#include <cstddef>
#include <deque>
#include <initializer_list>
#include <memory>
#include <optional>
#include <utility>

#include "sim/check.h"
#include "sim/scheduler.h"

namespace storsim::sim {

// FIFO queue of wake tokens.
class WaiterQueue {
 public:
  void Add(WakeToken token);
  // Wakes the first live waiter. Returns whether one was woken.
  bool WakeOne(Scheduler& scheduler);
  void WakeAll(Scheduler& scheduler);
  bool empty() const { return tokens_.empty(); }
  size_t size() const { return tokens_.size(); }  // live and stale entries

 private:
  static bool Live(const WakeToken& token) { return token.fiber->wait_epoch() == token.epoch; }
  std::deque<WakeToken> tokens_;
  size_t compact_at_ = 16;
};

// Something a fiber can wait for inside WaitAny.
class Waitable {
 public:
  virtual ~Waitable() = default;
  virtual bool Ready() const = 0;
  virtual void AddWaiter(WakeToken token) = 0;
};

// Waits until one of `waitables` is ready or the deadline passes. Returns the index of the first
// ready one (lowest index wins a tie), or -1 on deadline. Consumes nothing: the caller then takes
// the value (Channel::TryReceive, Future::Get, ...).
int WaitAny(Scheduler& scheduler, std::initializer_list<Waitable*> waitables,
            Instant deadline = Instant::Max());

// A manual-reset event.
class Event : public Waitable {
 public:
  explicit Event(Scheduler& scheduler) : scheduler_(&scheduler) {}
  void Set();
  void Reset() { set_ = false; }
  bool is_set() const { return set_; }
  // Returns true if set, false on deadline.
  bool Wait(Instant deadline = Instant::Max());

  bool Ready() const override { return set_; }
  void AddWaiter(WakeToken token) override { waiters_.Add(token); }
  size_t waiter_entries() const { return waiters_.size(); }

 private:
  Scheduler* scheduler_;
  bool set_ = false;
  WaiterQueue waiters_;
};

// A FIFO mutex with direct hand-off: Unlock gives the lock to the longest waiter.
class Mutex {
 public:
  explicit Mutex(Scheduler& scheduler) : scheduler_(&scheduler) {}
  // Returns false on deadline (lock not taken).
  bool Lock(Instant deadline = Instant::Max());
  bool TryLock();
  void Unlock();
  bool locked() const { return owner_ != nullptr; }

 private:
  Scheduler* scheduler_;
  Fiber* owner_ = nullptr;
  std::deque<std::pair<WakeToken, Fiber*>> waiters_;
};

class MutexLock {
 public:
  explicit MutexLock(Mutex& mutex) : mutex_(&mutex) { mutex_->Lock(); }
  ~MutexLock() { mutex_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* mutex_;
};

// A bounded FIFO channel. Send blocks while full; Receive blocks while empty. Close wakes all:
// receivers drain what is left and then get nullopt; senders fail.
template <typename T>
class Channel : public Waitable {
 public:
  Channel(Scheduler& scheduler, size_t capacity) : scheduler_(&scheduler), capacity_(capacity) {
    SIM_CHECK(capacity > 0);
  }

  // Returns false if the channel is closed or the deadline passed.
  bool Send(T value, Instant deadline = Instant::Max()) {
    while (!closed_ && items_.size() >= capacity_) {
      senders_.Add(scheduler_->PrepareWait());
      if (scheduler_->Block(deadline) == WakeReason::kTimeout) return false;
    }
    if (closed_) return false;
    items_.push_back(std::move(value));
    receivers_.WakeOne(*scheduler_);
    return true;
  }
  bool TrySend(T value) {
    if (closed_ || items_.size() >= capacity_) return false;
    items_.push_back(std::move(value));
    receivers_.WakeOne(*scheduler_);
    return true;
  }
  // nullopt when closed and drained, or on deadline.
  std::optional<T> Receive(Instant deadline = Instant::Max()) {
    while (items_.empty() && !closed_) {
      receivers_.Add(scheduler_->PrepareWait());
      if (scheduler_->Block(deadline) == WakeReason::kTimeout) return std::nullopt;
    }
    return TryReceive();
  }
  std::optional<T> TryReceive() {
    if (items_.empty()) return std::nullopt;
    T value = std::move(items_.front());
    items_.pop_front();
    senders_.WakeOne(*scheduler_);
    if (!items_.empty()) receivers_.WakeOne(*scheduler_);
    return value;
  }
  void Close() {
    closed_ = true;
    receivers_.WakeAll(*scheduler_);
    senders_.WakeAll(*scheduler_);
  }
  bool closed() const { return closed_; }
  size_t size() const { return items_.size(); }

  bool Ready() const override { return !items_.empty() || closed_; }
  void AddWaiter(WakeToken token) override { receivers_.Add(token); }

 private:
  Scheduler* scheduler_;
  size_t capacity_;
  bool closed_ = false;
  std::deque<T> items_;
  WaiterQueue receivers_;
  WaiterQueue senders_;
};

// A single-assignment value shared by a Promise and any number of Futures.
template <typename T>
class Future;

template <typename T>
class Promise {
 public:
  explicit Promise(Scheduler& scheduler) : state_(std::make_shared<State>(scheduler)) {}
  // Sets the value once; later calls are ignored and return false.
  bool Set(T value) {
    if (state_->value) return false;
    state_->value.emplace(std::move(value));
    state_->waiters.WakeAll(*state_->scheduler);
    return true;
  }
  bool is_set() const { return state_->value.has_value(); }
  Future<T> GetFuture() const { return Future<T>(state_); }

 private:
  friend class Future<T>;
  struct State {
    explicit State(Scheduler& s) : scheduler(&s) {}
    Scheduler* scheduler;
    std::optional<T> value;
    WaiterQueue waiters;
  };
  std::shared_ptr<State> state_;
};

template <typename T>
class Future : public Waitable {
 public:
  Future() = default;
  bool valid() const { return state_ != nullptr; }
  // The value once set; nullopt on deadline.
  std::optional<T> Wait(Instant deadline = Instant::Max()) {
    SIM_CHECK(state_ != nullptr);
    while (!state_->value) {
      state_->waiters.Add(state_->scheduler->PrepareWait());
      if (state_->scheduler->Block(deadline) == WakeReason::kTimeout) {
        if (state_->value) break;
        return std::nullopt;
      }
    }
    return *state_->value;
  }
  bool Ready() const override { return state_ != nullptr && state_->value.has_value(); }
  void AddWaiter(WakeToken token) override { state_->waiters.Add(token); }
  const T& Get() const {
    SIM_CHECK(Ready());
    return *state_->value;
  }

 private:
  friend class Promise<T>;
  using State = typename Promise<T>::State;
  explicit Future(std::shared_ptr<State> state) : state_(std::move(state)) {}
  std::shared_ptr<State> state_;
};

}  // namespace storsim::sim
