// A simulated process: a main fiber plus the fibers it spawns, a local clock, a disk that
// survives it, and an endpoint on the network. What survives a crash is shown by ownership: the
// Process object (and its Disk and clock) lives as long as the simulation; everything of one
// incarnation (fibers, RPC handlers and pending calls, its Random stream) is rebuilt by Start.
//
// Lifecycle:
//   Start    incarnation + 1, endpoint opens, main runs in a fresh fiber.
//   Crash    endpoint closes first, every fiber is destroyed (their stacks unwind; nothing they
//            do then can reach the network), unsynced disk writes are dropped.
//   Kill     as Crash but the disk keeps unsynced writes (the OS outlived the process: SIGKILL).
//   Restart  Crash if up, then Start: main again on the same Disk.
//   Pause    fibers freeze while time moves on (a GC or VM stall); timers that expire and messages
//            that arrive meanwhile wait, and run in order on Resume.
//   Stop     graceful: the shutdown event is set so main can run its shutdown path; when main
//            returns the process is down; after `grace` it is killed.
//   main returning, or Env::Exit, ends the incarnation like Kill.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sim/clock.h"
#include "sim/disk.h"
#include "sim/network.h"
#include "sim/random.h"
#include "sim/scheduler.h"
#include "sim/sync.h"

namespace storsim::sim {

class Env;
class Rpc;
class Simulation;

class Process final : public TimerHandler {
 public:
  using Main = std::function<void(Env&)>;

  Process(Simulation& simulation, ProcessId id, std::string name, Main main);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  ProcessId id() const { return id_; }
  const std::string& name() const { return name_; }
  uint64_t incarnation() const { return incarnation_; }
  bool up() const { return up_; }
  bool paused() const { return paused_; }

  void Start();
  void Crash();
  void Kill();
  void Restart();
  void Pause();
  void Resume();
  void Stop(Duration grace);

  Disk& disk() { return disk_; }
  LocalClock& clock() { return clock_; }
  Env& env() { return *env_; }
  Rpc& rpc() { return *rpc_; }
  Simulation& simulation() { return simulation_; }

  // Kernel hooks.
  void Park(Fiber* fiber) { parked_.push_back(fiber); }
  void OnFiberDone(Fiber* fiber);
  void OnMessage(Message* message);  // delivered by the network; takes ownership
  Fiber* SpawnFiber(std::string_view name, std::function<void()> body);
  // Ends this incarnation from inside one of its fibers (process exit), at the current instant.
  [[noreturn]] void ExitFromInside();
  Event& shutdown_requested() { return *shutdown_; }
  Random& random() { return random_; }
  // Receiver of raw (non-RPC) messages, run in kernel context: must not block, and must give the
  // message back with Network::Release. Cleared when the incarnation ends.
  void SetRawHandler(std::function<void(Message*)> handler) { raw_handler_ = std::move(handler); }

  void OnTimer(uint64_t argument) override;

 private:
  enum class Down { kCrash, kKill };
  void GoDown(Down how, const char* reason);

  Simulation& simulation_;
  ProcessId id_;
  std::string name_;
  Main main_;
  uint64_t incarnation_ = 0;
  bool up_ = false;
  bool paused_ = false;
  Fiber* main_fiber_ = nullptr;
  std::vector<Fiber*> fibers_;
  std::vector<Fiber*> parked_;
  Disk disk_;
  LocalClock clock_;
  Random random_;
  std::unique_ptr<Env> env_;
  std::unique_ptr<Rpc> rpc_;
  std::unique_ptr<Event> shutdown_;
  std::function<void(Message*)> raw_handler_;
  uint64_t timer_epoch_ = 0;  // pending exit/stop timers carry it; bumped on every transition
};

}  // namespace storsim::sim
