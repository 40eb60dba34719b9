// The deterministic scheduler: one thread, a FIFO ready queue of fibers and a timer heap ordered
// by (Instant, sequence number). Time jumps to the earliest timer when nothing is ready.
//
// Order at one instant (defined on purpose, never by accident):
//   1. every ready fiber runs, in FIFO order, before time is looked at again;
//   2. then the earliest timer fires; timers at the same instant fire in the order they were
//      armed (their sequence number); a fired timer makes its fiber ready (rule 1 again).
//
// Fibers switch directly to the next ready fiber (one context switch per yield, not two); the
// main stack only runs when the run stops, fails, or has nothing left to do. On x86-64 the switch
// is the kernel's own (scheduler.cc: Boost.Context's frame layout without its floating-point
// control save/restore), and a fiber whose body ended keeps its stack and context parked in
// FiberEntry, so the next Spawn on that record costs no stack set-up or teardown.
//
// Invariants:
//   1. At most one fiber runs at a time; `running_` names it (the main record on the main stack).
//   2. A fiber is in exactly one of: ready queue (kReady), blocked (kBlocked), running, done.
//   3. A wake token is valid only while the fiber's wait_epoch equals the token's epoch; every
//      wake and every kill bumps the epoch, so stale waiter entries do nothing.
//   5. A fiber has a timer in the queue exactly while timed_wait_ is set: the Block that armed it
//      is still waiting. Its firing, a wake or a kill clears the flag and removes the timer.
//   4. Fiber records are pooled and never freed before the scheduler, so a stale token never
//      points to freed memory. A recycled record may hold a parked context (see above); a kill
//      destroys the context, and Spawn then makes a new one.
#pragma once

#include <bit>
#include <boost/context/fiber.hpp>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sim/stack_pool.h"
#include "sim/time.h"

// Fibers switch through the kernel's own jump (scheduler.cc) on x86-64 fcontext builds, and
// through Boost.Context's resume elsewhere (sanitizer builds use ucontext).
#if defined(__x86_64__) && defined(__ELF__) && !defined(BOOST_USE_UCONTEXT) && \
    !defined(BOOST_USE_WINFIB)
#define STORSIM_FAST_SWITCH 1
#else
#define STORSIM_FAST_SWITCH 0
#endif

namespace storsim::sim {

class Process;
class Scheduler;

enum class WakeReason : uint8_t { kNotified, kTimeout };

class Fiber {
 public:
  uint64_t id() const { return id_; }
  const std::string& name() const { return name_; }
  Process* process() const { return process_; }
  bool done() const { return status_.state == State::kDone; }
  uint64_t wait_epoch() const { return wait_epoch_; }

 private:
  friend class Scheduler;
  enum class State : uint8_t { kFree, kReady, kRunning, kBlocked, kDone };

  // On fast-switch builds a running fiber's context_ is stale (the stack pointer it last
  // resumed from): nothing reads a running fiber's context, and its next switch away rewrites it.
  boost::context::fiber context_;
  std::function<void()> body_;
  std::string name_;
  Process* process_ = nullptr;
  uint64_t id_ = 0;
  uint64_t wait_epoch_ = 0;
  // The state and whether the owning process is paused (always false for kernel fibers), side
  // by side in one word: Yield's fast path tests "ready and not paused" with one 32-bit compare
  // (Dispatchable) instead of a compare, a pointer load and a second compare. The paused copy is
  // kept by Scheduler::SetPaused (Process::Pause and Resume, for each of its fibers) and by
  // Spawn; PickNextSlow still asks the process itself before it parks a fiber.
  // A running fiber is never paused (a process cannot pause itself from its own fiber, and a
  // paused fiber is never dispatched), so Yield's fast path writes the whole word at once, as one
  // 32-bit store; a byte store followed soon by the wider load of the same word would miss
  // store-to-load forwarding and stall (measured: +5 TSC ticks per switch). PickNext, which
  // follows PushReady's byte stores closely, compares the two bytes separately.
  // Padded to 32 bits: x86-64 stores a 32-bit immediate in one instruction, a 16-bit one in two
  // (compilers avoid the length-changing operand-size prefix).
  struct Status {
    State state = State::kFree;
    bool paused = false;
    uint8_t unused[2] = {0, 0};  // always zero, so the word compare sees only the two flags
  };
  static_assert(sizeof(Status) == 4);
  alignas(4) Status status_;
  bool Dispatchable() const {
    return std::bit_cast<uint32_t>(status_) ==
           std::bit_cast<uint32_t>(Status{State::kReady, false});
  }
  WakeReason wake_reason_ = WakeReason::kNotified;
  bool wake_pending_ = false;
  bool killed_ = false;
  // The current Block armed a deadline timer that has not fired (in the timer queue's slot
  // `timer_slot_`): a wake or kill before the deadline cancels it.
  bool timed_wait_ = false;
  uint32_t timer_slot_ = 0;
};

// Identifies one wait of one fiber. Waking a stale token does nothing.
struct WakeToken {
  Fiber* fiber = nullptr;
  uint64_t epoch = 0;
};

// Kernel code that wants a callback at an instant (the network delivering a message) implements
// this. Handlers run on whatever stack dispatches them and must not block.
class TimerHandler {
 public:
  virtual void OnTimer(uint64_t argument) = 0;

 protected:
  ~TimerHandler() = default;
};

struct SchedulerOptions {
  size_t stack_bytes = 256 * 1024;
  size_t fibers_max = 100'000;
  uint64_t steps_max = 2'000'000'000;       // fiber dispatches plus timer firings
  Instant time_max = Instant::Max();        // simulated-time limit
};

enum class RunOutcome : uint8_t {
  kIdle,         // nothing ready and no timer left
  kReachedTime,  // RunUntil's instant was reached
  kStopped,      // Stop() was called
  kStepLimit,    // steps_max exceeded: a livelock or a runaway run
  kTimeLimit,    // time_max exceeded
};
const char* RunOutcomeName(RunOutcome outcome);

class Scheduler {
 public:
  explicit Scheduler(SchedulerOptions options = {});
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  Instant Now() const { return now_; }
  uint64_t steps() const { return steps_; }
  // A fingerprint of every scheduling decision (which fiber ran, which timer fired, at what time).
  uint64_t schedule_hash() const { return schedule_hash_; }

  // Creates a fiber that becomes ready at once (behind those already ready). `process` may be null
  // for kernel and test fibers. The fiber ends when `body` returns; an exception leaving `body`
  // stops the run and is rethrown from Run on the main stack. `name` is copied into the pooled
  // fiber record, whose string keeps its capacity across reuses (an RPC handler fiber per request
  // then costs no allocation for its name).
  Fiber* Spawn(std::string_view name, Process* process, std::function<void()> body);

  // Runs until idle, Stop, a limit, or a fiber's exception (rethrown here).
  RunOutcome Run();
  // As Run, but stops when the next event would be later than `until`; time is then `until`.
  RunOutcome RunUntil(Instant until);
  RunOutcome RunFor(Duration duration) { return RunUntil(now_ + duration); }
  // Ends the current Run after the running fiber next suspends.
  void Stop() {
    stop_requested_ = true;
    dispatch_steps_max_ = 0;
  }

  // --- Called from inside a fiber. ---
  Fiber* current() const { return running_ == &main_record_ ? nullptr : running_; }
  bool InFiber() const { return running_ != &main_record_; }
  // The token for the next Block of the current fiber; register it with waiter queues first.
  WakeToken PrepareWait();
  // Suspends the current fiber until its prepared token is woken or the true-time deadline passes.
  WakeReason Block(Instant deadline = Instant::Max());
  // Goes to the back of the ready queue.
  void Yield();
  // Sleeps in true time (processes sleep through their local clock; see Env).
  void SleepUntil(Instant deadline);

  // Makes the token's fiber ready if the token is still valid. Returns whether it woke a fiber.
  bool Wake(WakeToken token);

  // Arms a kernel timer; fires handler->OnTimer(argument) at `at` (not earlier than now).
  void ArmTimer(Instant at, TimerHandler* handler, uint64_t argument);

  // Destroys a fiber that is not running: its stack unwinds (destructors run, must not block),
  // its pending wakes become stale. Used by process crash.
  void Kill(Fiber* fiber);
  bool unwinding() const { return unwinding_ > 0; }

  // Moves a ready fiber of a paused process aside; Unpark makes it ready again, in order.
  void Requeue(Fiber* fiber) { PushReady(fiber); }
  // Records whether `fiber`'s process is paused; Process::Pause and Resume call it for each of
  // the process's live fibers, so the dispatch fast paths read the flag in the fiber record.
  void SetPaused(Fiber* fiber, bool paused) { fiber->status_.paused = paused; }

  size_t fibers_live() const { return fibers_live_; }
  // Timers armed and not yet fired or cancelled (a wait that ends early cancels its deadline).
  size_t timers_pending() const { return timers_.size(); }

 private:
  struct Timer {
    Instant at;
    uint64_t sequence;
    Fiber* fiber;  // wake this fiber (if epoch matches), or
    uint64_t epoch;
    TimerHandler* handler;  // call this handler
    uint64_t argument;
  };
  // Pending timers: a 4-ary min-heap of 16-byte keys ordered by (at, sequence), the rest of each
  // timer in a slab slot named by the key. Same order as a heap of whole Timers under
  // (at, sequence), so firing order (and every fingerprint) is unchanged; but a sift moves 16
  // bytes instead of 48 and the tree is half as deep.
  // Each slot also records where its key is in the heap (positions_), so a timer can be
  // cancelled in O(log n): a wait that ends before its deadline (an RPC answered in microseconds
  // under a 10 s timeout) removes its timer at once, and the heap holds live timers only. Keys
  // are unique and totally ordered by (at, sequence), so any heap of the same keys pops them in
  // one order: cancelling never changes the order of the others.
  class TimerQueue {
   public:
    bool empty() const { return keys_.empty(); }
    size_t size() const { return keys_.size(); }
    Instant earliest() const { return Instant::FromNanos(keys_.front().at); }
    // Returns the timer's slot, valid until it is popped or cancelled.
    uint32_t Push(const Timer& timer);
    Timer Pop();  // precondition: !empty()
    // Removes the pending timer in `slot` (precondition: pushed, not popped or cancelled since).
    void Cancel(uint32_t slot);
    void Reserve(size_t timers);

   private:
    static constexpr int kSlotBits = 24;  // bound on timers pending at once: 2^24
    static constexpr size_t kArity = 4;
    struct Key {
      int64_t at;
      uint64_t order;  // sequence << kSlotBits | slot: unique, and ordered as the sequence
    };
    static bool Before(const Key& a, const Key& b) {
      return a.at != b.at ? a.at < b.at : a.order < b.order;
    }
    static constexpr uint64_t kSlotMask = (uint64_t{1} << kSlotBits) - 1;
    static uint32_t SlotOf(const Key& key) { return static_cast<uint32_t>(key.order & kSlotMask); }
    // Writes `key` at heap index `index` and records that index for its slot.
    void Place(size_t index, const Key& key) {
      keys_[index] = key;
      positions_[SlotOf(key)] = static_cast<uint32_t>(index);
    }
    // Moves `key` up from `hole` to its place (towards the root).
    void SiftUp(size_t hole, Key key);
    // Moves `key` down from `hole` to its place among keys_[0, count).
    void SiftDown(size_t hole, Key key, size_t count);
    std::vector<Key> keys_;
    std::vector<Timer> slots_;
    std::vector<uint32_t> positions_;  // per slot: index of its key in keys_ while pending
    std::vector<uint32_t> free_slots_;
  };
  // One ready fiber. `context` is a copy of the fiber's saved stack pointer (its raw
  // boost::context::fiber) taken when the entry was pushed, or null when it was not known then (a
  // fiber queued while still running, and always in builds without the fast switch). A fiber's
  // context does not change between its push and its pop (it is not running), so while the entry
  // is live (its epoch is the fiber's and the fiber is kReady), a non-null copy is the fiber's
  // context: Yield's fast path jumps to it without loading it through the fiber record, one
  // dependent load less on the chain from one switch to the next.
  struct ReadyEntry {
    Fiber* fiber;
    uint64_t epoch;
    void* context;
  };
  // FIFO of ready entries on a ring, walked by pointers (the hot path loads the head entry's
  // address directly, with no index arithmetic on the switch's critical chain). Push and pop
  // never allocate once the ring has grown to the largest ready set seen (std::deque allocates
  // and frees a block every 32 entries, and its segmented iterators cost a branch per operation).
  // Every slot not holding a queued entry holds either an entry already taken or the filler (a
  // record that is never dispatchable), never uninitialised memory: Yield's fast path reads the
  // head slot without testing emptiness first (see Yield).
  class ReadyQueue {
   public:
    ReadyQueue();
    bool empty() const { return size_ == 0; }
    size_t size() const { return size_; }
    const ReadyEntry& front() const { return *head_; }
    void pop_front() {
      head_ = Next(head_);
      --size_;
    }
    void push_back(ReadyEntry entry) {
      if (full()) Grow();
      *tail_ = entry;
      tail_ = Next(tail_);
      ++size_;
    }
    void push_front(ReadyEntry entry) {
      if (full()) Grow();
      head_ = (head_ == slots_.get() ? end_ : head_) - 1;
      *head_ = entry;
      ++size_;
    }

   private:
    friend class Scheduler;  // Yield's fast path rotates the ring in place
    static constexpr size_t kInitialSlots = 256;
    bool full() const { return head_ == tail_ && size_ != 0; }
    ReadyEntry* Next(ReadyEntry* slot) const {
      ++slot;
      return slot == end_ ? slots_.get() : slot;
    }
    void Grow();  // doubles the ring, keeping the order
    // The entry in every slot never written: its record is never ready, its epoch never matches.
    static ReadyEntry Filler();
    std::unique_ptr<ReadyEntry[]> slots_;
    ReadyEntry* end_;   // slots_ + capacity (a power of two, at least kInitialSlots)
    ReadyEntry* head_;  // the oldest entry (when size_ > 0)
    ReadyEntry* tail_;  // where the next entry goes; equals head_ when empty or full
    size_t size_ = 0;
  };
  // Its five words share the dispatch cache line with running_, steps_ and dispatch_steps_max_.
  static_assert(sizeof(ReadyQueue) == 40);

  void PushReady(Fiber* fiber);
  // A wait armed with a deadline ended before it (woken or killed): its timer is cancelled. A
  // cancelled timer never moved time or the schedule hash when it was left in the heap to be
  // dropped on pop (the earlier design), so cancelling it changes no run; only the step count
  // no longer includes such pops.
  void CancelWaitTimer(Fiber* fiber);
  // Picks the next fiber to run, firing timers as time advances. Null: switch to main.
  // The common case (a live ready fiber, no stop, no limit) is inline; the rest is PickNextSlow.
  Fiber* PickNext() {
    if (steps_ < dispatch_steps_max_ && !ready_.empty()) {
      const ReadyEntry entry = ready_.front();
      Fiber* fiber = entry.fiber;
      if (entry.epoch == fiber->wait_epoch_ && fiber->status_.state == Fiber::State::kReady &&
          !fiber->status_.paused) {
        ready_.pop_front();
        ++steps_;
        schedule_hash_ = (schedule_hash_ ^ fiber->id_) * 0x100000001b3ULL;
        return fiber;
      }
    }
    return PickNextSlow();
  }
  Fiber* PickNextSlow();
  void RefreshDispatchLimit() {
    dispatch_steps_max_ = stop_requested_ || stopping_ ? 0 : options_.steps_max;
  }
  // Yield when its inline fast path does not apply (empty or stale queue front, stop, limit).
  __attribute__((noinline)) void YieldSlow();
  void TransferTo(Fiber* from, Fiber* to);
#if !STORSIM_FAST_SWITCH
  // On the resumed side of a Boost resume: stores the context of the fiber that switched here,
  // recycling it if it finished.
  void AfterResume(boost::context::fiber&& previous);
#endif
  boost::context::fiber FiberEntry(Fiber* fiber, boost::context::fiber&& previous);
  // Runs the fiber's body to its end (an exception stops the run) and marks the fiber done.
  void RunBody(Fiber* fiber);
  void Recycle(Fiber* fiber);
  RunOutcome RunLoop();

  // Read or written by every dispatch (Yield's fast path and PickNext), so they share one cache
  // line: the running fiber, the ready ring's pointers, the step count and its limit.
  alignas(64) Fiber* running_ = &main_record_;
  ReadyQueue ready_;
  uint64_t steps_ = 0;
  // options_.steps_max, or 0 while a stop is requested or under way (stop_requested_ or
  // stopping_): the fast paths test `steps_ < dispatch_steps_max_` once instead of two flags and
  // the limit. RefreshDispatchLimit recomputes it after either flag changes.
  uint64_t dispatch_steps_max_ = 0;
  uint64_t schedule_hash_ = 0;

  SchedulerOptions options_;
  StackPool stacks_;
  Instant now_ = Instant::Zero();
  Instant run_until_ = Instant::Max();
  uint64_t timer_sequence_ = 0;
  uint64_t next_fiber_id_ = 1;
  size_t fibers_live_ = 0;
  int unwinding_ = 0;
  bool stop_requested_ = false;
  RunOutcome stop_outcome_ = RunOutcome::kIdle;
  bool stopping_ = false;
  std::exception_ptr failure_;

  Fiber main_record_;
#if !STORSIM_FAST_SWITCH
  Fiber* switched_from_ = nullptr;
#endif

  TimerQueue timers_;
  std::vector<std::unique_ptr<Fiber>> fibers_;
  std::vector<Fiber*> free_fibers_;
};

}  // namespace storsim::sim
