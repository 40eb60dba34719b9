// Scheduler implementation: direct fiber-to-fiber transfer on Boost.Context.
#include "sim/scheduler.h"

#include <algorithm>
#include <cstring>
#include <type_traits>
#include <utility>

#include "sim/check.h"
#include "sim/process.h"

namespace storsim::sim {

namespace ctx = boost::context;

#if STORSIM_FAST_SWITCH
// The hot-path context switch (x86-64 System V, ELF; fcontext builds only). It saves and restores
// exactly the frame Boost.Context's jump_fcontext uses, so Boost's own jump_fcontext and
// ontop_fcontext (fiber start, fiber exit, the forced unwind of Kill) work on contexts suspended
// here and vice versa:
//   0x00 MXCSR (4 bytes) and x87 control word (2 bytes), 0x08 r12, 0x10 r13, 0x18 r14, 0x20 r15,
//   0x28 rbx, 0x30 rbp, 0x38 return address.
// It differs from jump_fcontext in three ways, each worth time on every dispatch:
//   1. it does not execute stmxcsr/fnstcw/ldmxcsr/fldcw (microcoded: about half of a Boost switch).
//      The simulator never changes the floating-point control state, so every context has the
//      one captured when the first Scheduler was built. The jump leaves the frame's slot for it
//      unwritten; the only Boost jumps into a frame suspended here are the forced unwinds of a
//      fiber's context (Kill, and ~Scheduler for parked contexts), and both write that value
//      into the frame first (WriteFloatingPointControl), so the Boost jump restores the right
//      state. The Scheduler constructor checks that the state has not changed since the capture.
//   2. it writes the suspended stack pointer straight into the caller's two slots (the `from`
//      fiber's context and, for a yielding fiber, its new ready-queue entry; otherwise the first
//      slot again), instead of returning it for the resumed side to store;
//   3. it is called directly (not through the PLT of the shared libboost_context).
// It returns nothing of Boost's transfer_t (jump_fcontext returns the suspended stack pointer in
// rax, a data pointer in rdx, and copies in rdi:rsi for a context whose first jump enters its
// function): each context it resumes was suspended either by this jump (which returns void) or
// by a Boost fiber's constructor, in fiber_entry's jump_fcontext, which does not read the data
// pointer after that jump and hands fctx (here whatever rax held) to FiberEntry, which
// overwrites it with null before anything reads it. No context that was never jumped into
// reaches it (a Boost fiber is entered once by its constructor). (Four instructions less per
// switch than a jump that returns transfer_t.)
extern "C" void StorsimSimJump(void** save_slot, void* target, void** second_save_slot);
extern "C" {
__attribute__((visibility("hidden"))) uint64_t storsim_sim_fp_control = 0;
}
asm(R"(
  .text
  .p2align 4
  .type StorsimSimJump,@function
StorsimSimJump:
  leaq -0x38(%rsp), %rsp
  movq %r12, 0x08(%rsp)
  movq %r13, 0x10(%rsp)
  movq %r14, 0x18(%rsp)
  movq %r15, 0x20(%rsp)
  movq %rbx, 0x28(%rsp)
  movq %rbp, 0x30(%rsp)
  movq %rsp, (%rdi)
  movq %rsp, (%rdx)
  movq %rsi, %rsp
  movq 0x38(%rsp), %r8
  movq 0x08(%rsp), %r12
  movq 0x10(%rsp), %r13
  movq 0x18(%rsp), %r14
  movq 0x20(%rsp), %r15
  movq 0x28(%rsp), %rbx
  movq 0x30(%rsp), %rbp
  leaq 0x40(%rsp), %rsp
  jmp *%r8
  .size StorsimSimJump, .-StorsimSimJump
)");

namespace {

// The floating-point control state in jump_fcontext's layout: MXCSR in the low 32 bits, the x87
// control word in the next 16. MXCSR's six sticky exception flags (bits 0-5) are not control
// state: they are cleared here, as a restore of any saved frame may reset them anyway.
uint64_t CurrentFloatingPointControl() {
  uint32_t mxcsr = 0;
  uint16_t x87 = 0;
  asm volatile("stmxcsr %0" : "=m"(mxcsr));
  asm volatile("fnstcw %0" : "=m"(x87));
  return uint64_t{mxcsr & ~uint32_t{0x3f}} | (uint64_t{x87} << 32);
}

// Boost's fiber is one fcontext_t (standard layout, so a pointer to it is a pointer to that
// member): the hot path reads and writes it directly.
static_assert(std::is_standard_layout_v<ctx::fiber> && sizeof(ctx::fiber) == sizeof(void*));
void*& RawContext(ctx::fiber& fiber) { return *reinterpret_cast<void**>(&fiber); }

// Before Boost jumps into a suspended context (a forced unwind): stores the floating-point
// control state in the frame's first slot, which StorsimSimJump leaves unwritten. Harmless on a
// frame Boost saved itself (a fiber that never ran): the value is the same state.
void WriteFloatingPointControl(ctx::fiber& fiber) {
  void* const frame = RawContext(fiber);
  SIM_CHECK(frame != nullptr);
  std::memcpy(frame, &storsim_sim_fp_control, sizeof(storsim_sim_fp_control));
}

}  // namespace
#endif  // STORSIM_FAST_SWITCH

namespace {

// The scheduler whose Run is on this thread's stack (the innermost one if runs nest), or null.
// Yield's fast path reads the scheduler's fields through this pointer rather than through
// `this`: `this` comes from the caller, which after a switch reloads it from registers restored
// off the resumed stack (one or two dependent loads), whereas this pointer is loaded without
// depending on the switch at all. Comparing the two is a predicted branch, not a data
// dependency, so the loads of the ready queue's head start as soon as the fiber resumes.
thread_local constinit Scheduler* active_scheduler = nullptr;

// Makes `scheduler` the active one for the length of a run, and restores the previous one after
// (also when the run ends with an exception).
class ActiveSchedulerScope {
 public:
  explicit ActiveSchedulerScope(Scheduler* scheduler)
      : previous_(std::exchange(active_scheduler, scheduler)) {}
  ~ActiveSchedulerScope() { active_scheduler = previous_; }
  ActiveSchedulerScope(const ActiveSchedulerScope&) = delete;
  ActiveSchedulerScope& operator=(const ActiveSchedulerScope&) = delete;

 private:
  Scheduler* previous_;
};

}  // namespace

const char* RunOutcomeName(RunOutcome outcome) {
  switch (outcome) {
    case RunOutcome::kIdle: return "idle";
    case RunOutcome::kReachedTime: return "reached_time";
    case RunOutcome::kStopped: return "stopped";
    case RunOutcome::kStepLimit: return "step_limit";
    case RunOutcome::kTimeLimit: return "time_limit";
  }
  return "unknown";
}

Scheduler::Scheduler(SchedulerOptions options)
    : options_(options), stacks_(options.stack_bytes, options.fibers_max) {
  RefreshDispatchLimit();
  main_record_.status_.state = Fiber::State::kRunning;
  main_record_.name_ = "main";
#if STORSIM_FAST_SWITCH
  // Captured once per program; every later scheduler must see the same state (see the jump).
  const uint64_t fp_control = CurrentFloatingPointControl();
  if (storsim_sim_fp_control == 0) storsim_sim_fp_control = fp_control;
  SIM_CHECK_MSG(storsim_sim_fp_control == fp_control,
                "the floating-point control state changed since the first scheduler was built");
#endif
  timers_.Reserve(1024);
}

Scheduler::~Scheduler() {
  // Unwind every fiber still suspended, so that their destructors run before the stacks go.
  SIM_CHECK(!InFiber());
  for (auto& fiber : fibers_) {
    const Fiber::State state = fiber->status_.state;
    if (state == Fiber::State::kReady || state == Fiber::State::kBlocked) {
      Kill(fiber.get());
    }
  }
  // Recycled records keep their contexts parked in FiberEntry's loop: unwind those too, while
  // the stack pool is still there.
  for (auto& fiber : fibers_) {
    if (fiber->status_.state == Fiber::State::kFree && fiber->context_) {
      ++unwinding_;
#if STORSIM_FAST_SWITCH
      WriteFloatingPointControl(fiber->context_);
#endif
      { ctx::fiber doomed = std::move(fiber->context_); }
      --unwinding_;
    }
  }
}

Fiber* Scheduler::Spawn(std::string_view name, Process* process, std::function<void()> body) {
  Fiber* fiber;
  if (!free_fibers_.empty()) {
    fiber = free_fibers_.back();
    free_fibers_.pop_back();
  } else {
    fibers_.push_back(std::make_unique<Fiber>());
    fiber = fibers_.back().get();
  }
  fiber->id_ = next_fiber_id_++;
  fiber->name_.assign(name);  // reuses the record's buffer
  fiber->process_ = process;
  fiber->status_.paused = process != nullptr && process->paused();
  fiber->body_ = std::move(body);
  fiber->killed_ = false;
#if STORSIM_FAST_SWITCH
  // A recycled record whose last fiber ended normally still has its context, parked in
  // FiberEntry's loop: its next dispatch runs this body there, with no stack set-up or teardown.
  if (!fiber->context_) {
    fiber->context_ = ctx::fiber(std::allocator_arg, PooledStackAllocator(&stacks_),
                                 [this, fiber](ctx::fiber&& previous) {
                                   return FiberEntry(fiber, std::move(previous));
                                 });
  }
#else
  fiber->context_ = ctx::fiber(std::allocator_arg, PooledStackAllocator(&stacks_),
                               [this, fiber](ctx::fiber&& previous) {
                                 return FiberEntry(fiber, std::move(previous));
                               });
#endif
  ++fibers_live_;
  fiber->status_.state = Fiber::State::kBlocked;
  ++fiber->wait_epoch_;
  PushReady(fiber);
  return fiber;
}

ctx::fiber Scheduler::FiberEntry(Fiber* fiber, ctx::fiber&& previous) {
  if (fiber->killed_) {
    // Killed before it ever ran. With fcontext the body is never entered in that case; with
    // ucontext (sanitizer builds) it is, so go straight back to the destroyer.
    return std::move(previous);
  }
#if STORSIM_FAST_SWITCH
  // The switch that started this fiber stored its caller's context already (or the caller was a
  // finished fiber, which has none); `previous` holds whatever that switch left in rax (see
  // StorsimSimJump), not a context: clear it before its destructor could read it.
  RawContext(previous) = nullptr;
  // One iteration per fiber run on this record and stack: when a body ends, the record is
  // recycled with its context parked here, and Spawn reuses both. A kill unwinds out of the
  // loop (Boost then frees the stack, and Spawn makes a new context for the record).
  while (true) {
    RunBody(fiber);
    Fiber* next = PickNext();
    if (next == nullptr) next = &main_record_;
    // Nothing runs between the recycling and the switch, so the record cannot be reused while
    // this stack is still in use (PickNext, which can run timer handlers that spawn, is done).
    Recycle(fiber);
    TransferTo(fiber, next);
  }
#else
  AfterResume(std::move(previous));
  RunBody(fiber);
  Fiber* next = PickNext();
  if (next == nullptr) next = &main_record_;
  switched_from_ = fiber;
  running_ = next;
  next->status_.state = Fiber::State::kRunning;
  return std::move(next->context_);
#endif
}

void Scheduler::RunBody(Fiber* fiber) {
  try {
    fiber->body_();
  } catch (const ctx::detail::forced_unwind&) {
    throw;  // a kill: let Boost.Context finish the unwind
  } catch (...) {
    if (!failure_) failure_ = std::current_exception();
    stop_requested_ = true;
    RefreshDispatchLimit();
  }
  fiber->body_ = nullptr;  // captured state dies on the fiber's own stack
  fiber->status_.state = Fiber::State::kDone;
  ++fiber->wait_epoch_;
  if (fiber->process_ != nullptr) fiber->process_->OnFiberDone(fiber);
}

#if !STORSIM_FAST_SWITCH
void Scheduler::AfterResume(ctx::fiber&& previous) {
  Fiber* from = switched_from_;
  switched_from_ = nullptr;
  if (from == nullptr) return;
  from->context_ = std::move(previous);
  if (from->status_.state == Fiber::State::kDone) Recycle(from);
}
#endif

void Scheduler::Recycle(Fiber* fiber) {
  fiber->status_.state = Fiber::State::kFree;
  fiber->process_ = nullptr;
  fiber->status_.paused = false;
  --fibers_live_;
  free_fibers_.push_back(fiber);
}

void Scheduler::TransferTo(Fiber* from, Fiber* to) {
  SIM_CHECK_MSG(!to->status_.paused, "a fiber of a paused process was dispatched");
  running_ = to;
  to->status_.state = Fiber::State::kRunning;
#if STORSIM_FAST_SWITCH
  void** const save_slot = &RawContext(from->context_);
  StorsimSimJump(save_slot, std::exchange(RawContext(to->context_), nullptr), save_slot);
#else
  switched_from_ = from;
  ctx::fiber previous = std::move(to->context_).resume();
  AfterResume(std::move(previous));
#endif
}

void Scheduler::PushReady(Fiber* fiber) {
  fiber->status_.state = Fiber::State::kReady;
#if STORSIM_FAST_SWITCH
  // A running fiber (YieldSlow queues itself before it switches) has no saved context yet: its
  // entry says so with a null copy.
  ready_.push_back(ReadyEntry{fiber, fiber->wait_epoch_, RawContext(fiber->context_)});
#else
  ready_.push_back(ReadyEntry{fiber, fiber->wait_epoch_, nullptr});
#endif
}

Scheduler::ReadyEntry Scheduler::ReadyQueue::Filler() {
  // A free record (state kFree, never pushed, so never ready) that lives as long as the program.
  static const Fiber* const never_ready = new Fiber();
  return ReadyEntry{const_cast<Fiber*>(never_ready), ~uint64_t{0}, nullptr};
}

Scheduler::ReadyQueue::ReadyQueue()
    : slots_(new ReadyEntry[kInitialSlots]),
      end_(slots_.get() + kInitialSlots),
      head_(slots_.get()),
      tail_(slots_.get()) {
  std::fill(slots_.get(), end_, Filler());
}

void Scheduler::ReadyQueue::Grow() {
  SIM_CHECK(full());
  const size_t capacity = size_ * 2;
  SIM_CHECK(capacity > size_);
  std::unique_ptr<ReadyEntry[]> slots(new ReadyEntry[capacity]);
  ReadyEntry* from = head_;
  for (size_t i = 0; i < size_; ++i) {
    slots[i] = *from;
    from = Next(from);
  }
  std::fill(slots.get() + size_, slots.get() + capacity, Filler());
  slots_ = std::move(slots);
  end_ = slots_.get() + capacity;
  head_ = slots_.get();
  tail_ = head_ + size_;  // size_ < capacity now
}

void Scheduler::TimerQueue::Reserve(size_t timers) {
  keys_.reserve(timers);
  slots_.reserve(timers);
  positions_.reserve(timers);
  free_slots_.reserve(timers);
}

// Inlined into its two callers (ArmTimer, Block), once per timer; only this file calls it.
__attribute__((always_inline)) inline uint32_t Scheduler::TimerQueue::Push(const Timer& timer) {
  uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
    slots_[slot] = timer;
  } else {
    SIM_CHECK_MSG(slots_.size() < (size_t{1} << kSlotBits), "too many timers pending");
    slot = static_cast<uint32_t>(slots_.size());
    slots_.push_back(timer);
    positions_.push_back(0);
  }
  SIM_CHECK(timer.sequence < (uint64_t{1} << (64 - kSlotBits)));
  const Key key{timer.at.nanos(), (timer.sequence << kSlotBits) | slot};
  const size_t hole = keys_.size();
  keys_.emplace_back();
  SiftUp(hole, key);
  return slot;
}

// Inlined into Push and Cancel; only this file calls it.
__attribute__((always_inline)) inline void Scheduler::TimerQueue::SiftUp(size_t hole, Key key) {
  while (hole > 0) {
    const size_t parent = (hole - 1) / kArity;
    if (!Before(key, keys_[parent])) break;
    Place(hole, keys_[parent]);
    hole = parent;
  }
  Place(hole, key);
}

// Inlined into Pop, the hot path of every timer (an out-of-line call cost ~25% of
// BM_TimerEvent/64), and into Cancel; only this file calls it.
__attribute__((always_inline)) inline void Scheduler::TimerQueue::SiftDown(size_t hole, Key key,
                                                                            size_t count) {
  while (true) {
    const size_t first = hole * kArity + 1;
    if (first >= count) break;
    const size_t end = std::min(first + kArity, count);
    size_t best = first;
    for (size_t child = first + 1; child < end; ++child) {
      if (Before(keys_[child], keys_[best])) best = child;
    }
    if (!Before(keys_[best], key)) break;
    Place(hole, keys_[best]);
    hole = best;
  }
  Place(hole, key);
}

// Inlined into PickNextSlow, its only caller; only this file calls it.
__attribute__((always_inline)) inline Scheduler::Timer Scheduler::TimerQueue::Pop() {
  SIM_CHECK(!keys_.empty());
  const uint32_t slot = SlotOf(keys_.front());
  const Key last = keys_.back();
  keys_.pop_back();
  const size_t count = keys_.size();
  if (count > 0) SiftDown(0, last, count);  // the last key, down from a hole at the root
  free_slots_.push_back(slot);
  return slots_[slot];
}

void Scheduler::TimerQueue::Cancel(uint32_t slot) {
  SIM_CHECK(slot < positions_.size());
  const size_t index = positions_[slot];
  SIM_CHECK_MSG(index < keys_.size() && SlotOf(keys_[index]) == slot,
                "cancelling a timer that is not pending");
  const Key last = keys_.back();
  keys_.pop_back();
  const size_t count = keys_.size();
  if (index < count) {
    // The last key fills the hole: up if it orders before the hole's parent, else down.
    if (index > 0 && Before(last, keys_[(index - 1) / kArity])) {
      SiftUp(index, last);
    } else {
      SiftDown(index, last, count);
    }
  }
  free_slots_.push_back(slot);
}

void Scheduler::CancelWaitTimer(Fiber* fiber) {
  SIM_CHECK(fiber->timed_wait_);
  fiber->timed_wait_ = false;
  timers_.Cancel(fiber->timer_slot_);
}

Fiber* Scheduler::PickNextSlow() {
  while (true) {
    if (stop_requested_ || stopping_) {
      if (!stopping_) {
        stopping_ = true;
        dispatch_steps_max_ = 0;
        stop_outcome_ = RunOutcome::kStopped;
      }
      return nullptr;
    }
    if (!ready_.empty()) {
      ReadyEntry entry = ready_.front();
      ready_.pop_front();
      Fiber* fiber = entry.fiber;
      if (entry.epoch != fiber->wait_epoch_ || fiber->status_.state != Fiber::State::kReady) {
        continue;
      }
      // The fiber's copy of its process's paused flag (read by the fast paths) must agree.
      SIM_CHECK(fiber->status_.paused ==
                (fiber->process_ != nullptr && fiber->process_->paused()));
      if (fiber->process_ != nullptr && fiber->process_->paused()) {
        fiber->process_->Park(fiber);
        continue;
      }
      if (++steps_ > options_.steps_max) {
        stopping_ = true;
        dispatch_steps_max_ = 0;
        stop_outcome_ = RunOutcome::kStepLimit;
        ready_.push_front(entry);
        return nullptr;
      }
      schedule_hash_ = (schedule_hash_ ^ fiber->id_) * 0x100000001b3ULL;
      return fiber;
    }
    if (timers_.empty()) {
      stopping_ = true;
      dispatch_steps_max_ = 0;
      stop_outcome_ = RunOutcome::kIdle;
      return nullptr;
    }
    const Instant earliest = timers_.earliest();
    if (earliest > run_until_) {
      stopping_ = true;
      dispatch_steps_max_ = 0;
      stop_outcome_ = RunOutcome::kReachedTime;
      now_ = std::max(now_, run_until_);
      return nullptr;
    }
    if (earliest > options_.time_max) {
      stopping_ = true;
      dispatch_steps_max_ = 0;
      stop_outcome_ = RunOutcome::kTimeLimit;
      return nullptr;
    }
    if (++steps_ > options_.steps_max) {
      stopping_ = true;
      dispatch_steps_max_ = 0;
      stop_outcome_ = RunOutcome::kStepLimit;
      return nullptr;
    }
    const Timer timer = timers_.Pop();
    // A wait that ended early cancelled its timer, so a wait timer that fires is the live one.
    SIM_CHECK_MSG(
        timer.handler != nullptr ||
            (timer.fiber->wait_epoch_ == timer.epoch &&
             timer.fiber->status_.state == Fiber::State::kBlocked && timer.fiber->timed_wait_),
        "a wait timer outlived its wait");
    if (timer.at > now_) now_ = timer.at;
    schedule_hash_ = (schedule_hash_ ^ static_cast<uint64_t>(now_.nanos())) * 0x100000001b3ULL;
    if (timer.handler != nullptr) {
      timer.handler->OnTimer(timer.argument);
    } else {
      timer.fiber->timed_wait_ = false;
      timer.fiber->wake_reason_ = WakeReason::kTimeout;
      ++timer.fiber->wait_epoch_;
      PushReady(timer.fiber);
    }
  }
}

RunOutcome Scheduler::Run() { return RunUntil(Instant::Max()); }

RunOutcome Scheduler::RunUntil(Instant until) {
  SIM_CHECK_MSG(!InFiber(), "Run must be called from the main stack");
  run_until_ = until;
  stop_requested_ = false;
  stopping_ = false;
  RefreshDispatchLimit();
  RunOutcome outcome;
  {
    ActiveSchedulerScope active(this);
    outcome = RunLoop();
  }
  run_until_ = Instant::Max();
  if (failure_) {
    std::exception_ptr failure = std::exchange(failure_, nullptr);
    std::rethrow_exception(failure);
  }
  return outcome;
}

RunOutcome Scheduler::RunLoop() {
  while (true) {
    Fiber* next = PickNext();
    if (next == nullptr) break;
    TransferTo(&main_record_, next);
    if (failure_) break;
  }
  RunOutcome outcome = stop_outcome_;
  // Time moves on to `until` even when nothing is left to run (a paused process's world still
  // ages), so callers can rely on Now() == until after RunUntil unless the run stopped early.
  if ((outcome == RunOutcome::kReachedTime || outcome == RunOutcome::kIdle) &&
      run_until_ != Instant::Max() && now_ < run_until_) {
    now_ = run_until_;
  }
  stop_requested_ = false;
  stopping_ = false;
  RefreshDispatchLimit();
  return outcome;
}

WakeToken Scheduler::PrepareWait() {
  SIM_CHECK_MSG(InFiber(), "waiting is only possible inside a fiber");
  Fiber* self = running_;
  ++self->wait_epoch_;
  self->wake_pending_ = false;
  return WakeToken{self, self->wait_epoch_};
}

WakeReason Scheduler::Block(Instant deadline) {
  SIM_CHECK_MSG(InFiber(), "blocking is only possible inside a fiber");
  SIM_CHECK_MSG(unwinding_ == 0, "a fiber must not block while a crash unwinds it");
  Fiber* self = running_;
  if (self->wake_pending_) {
    self->wake_pending_ = false;
    return WakeReason::kNotified;
  }
  self->status_.state = Fiber::State::kBlocked;
  if (deadline != Instant::Max()) {
    self->timer_slot_ = timers_.Push(
        Timer{std::max(deadline, now_), timer_sequence_++, self, self->wait_epoch_, nullptr, 0});
    self->timed_wait_ = true;
  }
  Fiber* next = PickNext();
  if (next == self) {
    self->status_.state = Fiber::State::kRunning;
    return self->wake_reason_;
  }
  TransferTo(self, next != nullptr ? next : &main_record_);
  return self->wake_reason_;
}

void Scheduler::Yield() {
  // The same object as `this` whenever the fast path applies (a fiber of this scheduler's run),
  // but loaded independently of the caller's registers (see active_scheduler). It is loaded
  // again, volatile, after the check: from a plain load the compiler would know the two are
  // equal and read through whichever it likes (in practice `this`).
  if (active_scheduler != this) [[unlikely]] {
    YieldSlow();
    return;
  }
  Scheduler* const scheduler = *static_cast<Scheduler* volatile*>(&active_scheduler);
  Fiber* self = scheduler->running_;
  ReadyQueue& ready = scheduler->ready_;
  // Fast path, the same steps as YieldSlow in fewer instructions (and no saved registers): when
  // the queue's front is a live ready fiber (never `self`, whose epoch moves on here) and nothing
  // stops the run, that fiber is the one PickNext would choose after `self` joined the back.
  // The queue's length does not change (one entry leaves the front, one joins the back), so the
  // ring is rotated in place and never needs to grow.
  // Emptiness is not tested: an empty ring's head slot holds the filler or an entry taken
  // earlier, and neither passes the checks below. A taken entry's fiber has since run (its
  // state is not kReady, or its epoch moved on when it became ready again), or it was parked
  // for a pause (it is ready again, at the same epoch, only after Resume queued it anew, and
  // the ring is then not empty), or its entry was stale already.
  if (self != &scheduler->main_record_ && scheduler->steps_ < scheduler->dispatch_steps_max_)
      [[likely]] {
    ReadyEntry* const head = ready.head_;
    const ReadyEntry entry = *head;
    Fiber* next = entry.fiber;
    // The fast switch jumps to the entry's copy of the context (no load through the fiber record
    // on the chain from one switch to the next); an entry without one (queued while its fiber
    // was still running) goes the slow way.
    void* const target = entry.context;
    if (entry.epoch == next->wait_epoch_ && next->Dispatchable() &&
        (!STORSIM_FAST_SWITCH || target != nullptr)) [[likely]] {
      const uint64_t epoch = ++self->wait_epoch_;
      // No wake_reason_ store: only Block reads it, and whoever ends a Block (Wake, its timer)
      // writes it first.
      self->status_ = Fiber::Status{Fiber::State::kReady, false};  // one store: see Fiber::Status
      ready.head_ = ready.Next(head);
      // The ring is full exactly when head_ == tail_ here; then the tail slot is the head slot
      // just read (and copied), so overwriting it is still FIFO.
      ReadyEntry* const tail = ready.tail_;
      tail->fiber = self;
      tail->epoch = epoch;
      ready.tail_ = ready.Next(tail);
      ++scheduler->steps_;
      scheduler->schedule_hash_ = (scheduler->schedule_hash_ ^ next->id_) * 0x100000001b3ULL;
      scheduler->running_ = next;
      next->status_ = Fiber::Status{Fiber::State::kRunning, false};
#if STORSIM_FAST_SWITCH
      // The switch stores self's stack pointer in its record and in its new queue entry. next's
      // record keeps its old (now stale) context: nothing reads a running fiber's context (Kill
      // and ~Scheduler never see a running fiber, Spawn only a free record), and its next
      // switch away overwrites it; so the null store that would mark it consumed is left out.
      StorsimSimJump(&RawContext(self->context_), target, &tail->context);
#else
      (void)target;  // always null here: contexts are Boost fibers, moved on resume
      tail->context = nullptr;
      switched_from_ = self;
      ctx::fiber previous = std::move(next->context_).resume();
      AfterResume(std::move(previous));
#endif
      return;
    }
  }
  YieldSlow();
}

void Scheduler::YieldSlow() {
  SIM_CHECK(InFiber());
  Fiber* self = running_;
  ++self->wait_epoch_;
  self->wake_reason_ = WakeReason::kNotified;
  PushReady(self);
  Fiber* next = PickNext();
  if (next == self) {
    self->status_.state = Fiber::State::kRunning;
    return;
  }
  TransferTo(self, next != nullptr ? next : &main_record_);
}

void Scheduler::SleepUntil(Instant deadline) {
  PrepareWait();
  Block(deadline);
}

bool Scheduler::Wake(WakeToken token) {
  Fiber* fiber = token.fiber;
  if (fiber == nullptr || fiber->wait_epoch_ != token.epoch) return false;
  if (fiber->status_.state == Fiber::State::kRunning) {
    // Woken before it blocked (it registered a waiter, then the notification came from code it
    // called): its next Block returns at once.
    ++fiber->wait_epoch_;
    fiber->wake_pending_ = true;
    return true;
  }
  if (fiber->status_.state != Fiber::State::kBlocked) return false;
  fiber->wake_reason_ = WakeReason::kNotified;
  ++fiber->wait_epoch_;
  PushReady(fiber);
  if (fiber->timed_wait_) CancelWaitTimer(fiber);
  return true;
}

void Scheduler::ArmTimer(Instant at, TimerHandler* handler, uint64_t argument) {
  timers_.Push(Timer{std::max(at, now_), timer_sequence_++, nullptr, 0, handler, argument});
}

void Scheduler::Kill(Fiber* fiber) {
  SIM_CHECK_MSG(fiber != running_, "a fiber cannot kill itself; crash its process instead");
  const Fiber::State state = fiber->status_.state;
  if (state == Fiber::State::kDone || state == Fiber::State::kFree) return;
  ++fiber->wait_epoch_;
  fiber->killed_ = true;
  if (fiber->timed_wait_) CancelWaitTimer(fiber);
  Fiber* saved = running_;
  running_ = fiber;
  ++unwinding_;
  {
#if STORSIM_FAST_SWITCH
    if (fiber->context_) WriteFloatingPointControl(fiber->context_);
#endif
    ctx::fiber doomed = std::move(fiber->context_);
  }  // ~fiber unwinds the stack with forced_unwind, running destructors there
  --unwinding_;
  running_ = saved;
  fiber->body_ = nullptr;
  fiber->status_.state = Fiber::State::kDone;
  if (fiber->process_ != nullptr) fiber->process_->OnFiberDone(fiber);
  Recycle(fiber);
}

}  // namespace storsim::sim
