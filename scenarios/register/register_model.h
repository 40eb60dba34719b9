// The kernel self-test system: a replicated read/write register in the style of ABD
// (Attiya, Bar-Noy, Dolev), over sim RPC, with crash-recovery replicas.
//
//   Replica  holds one stamped value (stamp = (counter, writer)); `register.read` returns it,
//            `register.write` adopts a strictly higher stamp, persisting it on its Disk with Sync
//            before acknowledging, so an acknowledged value survives a crash.
//   Client   issues reads and writes with a local timeout per call and per operation, retrying
//            with back-off. A write asks a quorum for the highest stamp, picks (highest + 1, its
//            unique value) once, and stores it at a quorum, retrying with the same stamp (a new
//            stamp on retry would let one write take effect twice). A read asks a quorum, takes
//            the highest stamped value, writes it back to a quorum (so no later read can see an
//            older one), then returns it.
//   Auditor  after healing, one final read (final=1) with a longer bound: the liveness probe.
//
// The planted bug "register-read-one" makes reads ask a single random replica and skip the
// write-back: a replica that missed a write answers with a stale value.
//
// Every operation emits register.invoke and then register.ok or register.fail (the events the
// checker in scenarios/check/register_checker.h reads). Write values are unique per operation
// (the operation id), so a value names the write that produced it; the initial value is 0.
#pragma once

#include <cstdint>
#include <vector>

#include "sim/env.h"
#include "sim/network.h"
#include "sim/time.h"

namespace storsim::scenarios {

struct RegisterConfig {
  std::vector<sim::ProcessId> replicas;                     // at least one
  bool bug_read_one = false;                                // the planted bug "register-read-one"
  // Operations a client issues per incarnation before it goes quiet (the "ops" knob).
  uint64_t operations_max = 100'000;
  sim::Duration call_timeout = sim::Duration::Millis(300);  // one RPC, local time
  sim::Duration operation_timeout = sim::Duration::Seconds(3);
  sim::Duration final_read_timeout = sim::Duration::Seconds(10);
  sim::Duration backoff_min = sim::Duration::Millis(10);
  sim::Duration backoff_max = sim::Duration::Millis(100);
  sim::Duration think_min = sim::Duration::Millis(1);
  sim::Duration think_max = sim::Duration::Millis(25);

  size_t quorum() const { return replicas.size() / 2 + 1; }
};

// Bounds that keep every loop finite.
inline constexpr uint64_t kRegisterOperationsPerIncarnationMax = 999'999;
inline constexpr int kRegisterAttemptsMax = 10'000;

// Process mains. The config must outlive the simulation (the scenario keeps it in its run).
void RegisterReplicaMain(sim::Env& env);
// Loops reads and writes until a graceful stop is requested.
void RegisterClientMain(sim::Env& env, const RegisterConfig& config);
// One final read, retried until config.final_read_timeout; then the process exits.
void RegisterAuditorMain(sim::Env& env, const RegisterConfig& config);

}  // namespace storsim::scenarios
