// Process lifecycle: start, crash, kill, restart, pause, graceful stop.
#include "sim/process.h"

#include <algorithm>

#include "sim/check.h"
#include "sim/env.h"
#include "sim/rpc.h"
#include "sim/simulation.h"

namespace storsim::sim {
namespace {
// OnTimer arguments: the low bits carry the action, the rest the timer epoch.
constexpr uint64_t kExitAction = 1;
constexpr uint64_t kStopDeadlineAction = 2;
}  // namespace

Process::Process(Simulation& simulation, ProcessId id, std::string name, Main main)
    : simulation_(simulation),
      id_(id),
      name_(std::move(name)),
      main_(std::move(main)),
      random_(simulation.root_random().Fork("process/" + name_)),
      env_(std::make_unique<Env>(*this)),
      rpc_(std::make_unique<Rpc>(*this)),
      shutdown_(std::make_unique<Event>(simulation.scheduler())) {}

Process::~Process() {
  up_ = false;
  std::vector<Fiber*> fibers = fibers_;
  for (Fiber* fiber : fibers) simulation_.scheduler().Kill(fiber);
}

void Process::Start() {
  SIM_CHECK_MSG(!up_, "Start of a process that is up");
  ++incarnation_;
  ++timer_epoch_;
  up_ = true;
  paused_ = false;
  parked_.clear();
  random_ = simulation_.root_random().Fork("process/" + name_, incarnation_);
  shutdown_ = std::make_unique<Event>(simulation_.scheduler());
  simulation_.Emit("process.start", {TraceField::Int("pid", id_), TraceField::Str("name", name_),
                                     TraceField::Int("incarnation", static_cast<int64_t>(incarnation_))});
  main_fiber_ = SpawnFiber(name_ + "/main", [this] { main_(*env_); });
}

Fiber* Process::SpawnFiber(std::string_view name, std::function<void()> body) {
  SIM_CHECK_MSG(up_, "spawning a fiber in a process that is down");
  Fiber* fiber = simulation_.scheduler().Spawn(name, this, std::move(body));
  fibers_.push_back(fiber);
  return fiber;
}

void Process::OnFiberDone(Fiber* fiber) {
  auto it = std::find(fibers_.begin(), fibers_.end(), fiber);
  if (it != fibers_.end()) fibers_.erase(it);
  if (fiber == main_fiber_) {
    main_fiber_ = nullptr;
    if (up_) {
      // main returned: the process exits once the current fiber has switched away.
      simulation_.scheduler().ArmTimer(simulation_.Now(), this, (timer_epoch_ << 2) | kExitAction);
    }
  }
}

void Process::OnTimer(uint64_t argument) {
  if ((argument >> 2) != timer_epoch_ || !up_) return;
  // Timer handlers may run on the stack of one of this process's fibers, which cannot destroy
  // itself: a harness fiber takes the process down.
  const uint64_t epoch = timer_epoch_;
  const char* reason = (argument & 3) == kExitAction ? "exit" : "stop_deadline";
  simulation_.SpawnKernel("process_exit", [this, epoch, reason] {
    if (epoch == timer_epoch_ && up_) GoDown(Down::kKill, reason);
  });
}

void Process::GoDown(Down how, const char* reason) {
  SIM_CHECK(up_);
  Scheduler& scheduler = simulation_.scheduler();
  SIM_CHECK_MSG(scheduler.current() == nullptr || scheduler.current()->process() != this,
                "a process cannot take itself down from its own fiber; use Env::Exit");
  // The endpoint closes first: nothing the dying fibers do can reach the network.
  up_ = false;
  ++timer_epoch_;
  paused_ = false;
  parked_.clear();
  std::vector<Fiber*> fibers = fibers_;
  for (Fiber* fiber : fibers) scheduler.Kill(fiber);
  fibers_.clear();
  main_fiber_ = nullptr;
  rpc_->Reset();
  raw_handler_ = nullptr;
  if (how == Down::kCrash) disk_.DropUnsynced();
  simulation_.Emit("process.down", {TraceField::Int("pid", id_), TraceField::Str("name", name_),
                                    TraceField::Str("reason", reason)});
}

void Process::Crash() {
  if (up_) GoDown(Down::kCrash, "crash");
}

void Process::Kill() {
  if (up_) GoDown(Down::kKill, "kill");
}

void Process::Restart() {
  Crash();
  Start();
}

void Process::Pause() {
  if (!up_ || paused_) return;
  // The scheduler relies on a running fiber never being paused (see Fiber::Status).
  const Fiber* current = simulation_.scheduler().current();
  SIM_CHECK_MSG(current == nullptr || current->process() != this,
                "a process cannot pause itself from its own fiber");
  paused_ = true;
  for (Fiber* fiber : fibers_) simulation_.scheduler().SetPaused(fiber, true);
  simulation_.Emit("process.pause", {TraceField::Int("pid", id_)});
}

void Process::Resume() {
  if (!paused_) return;
  paused_ = false;
  for (Fiber* fiber : fibers_) simulation_.scheduler().SetPaused(fiber, false);
  simulation_.Emit("process.resume", {TraceField::Int("pid", id_)});
  std::vector<Fiber*> parked;
  parked.swap(parked_);
  for (Fiber* fiber : parked) simulation_.scheduler().Requeue(fiber);
}

void Process::Stop(Duration grace) {
  if (!up_) return;
  simulation_.Emit("process.stop", {TraceField::Int("pid", id_)});
  shutdown_->Set();
  simulation_.scheduler().ArmTimer(simulation_.Now() + grace, this,
                                   (timer_epoch_ << 2) | kStopDeadlineAction);
}

void Process::ExitFromInside() {
  Scheduler& scheduler = simulation_.scheduler();
  SIM_CHECK_MSG(scheduler.current() != nullptr && scheduler.current()->process() == this,
                "Exit must be called from one of the process's own fibers");
  scheduler.ArmTimer(simulation_.Now(), this, (timer_epoch_ << 2) | kExitAction);
  while (true) {
    scheduler.PrepareWait();
    scheduler.Block();  // destroyed by the exit before it could ever wake
  }
}

void Process::OnMessage(Message* message) {
  if (message->channel == MessageChannel::kRaw) {
    // Raw messages are for the kernel self-test and benchmarks: handed to the inbox handler.
    if (raw_handler_) {
      raw_handler_(message);
    } else {
      simulation_.network().Release(message);
    }
    return;
  }
  rpc_->OnMessage(message);
}

}  // namespace storsim::sim
