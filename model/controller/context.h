// What every part of one controller incarnation shares: the process Env, options, defects, the
// trace emitter that stamps each event with the issuing instance, and the database wrapper that
// traces every write. Built at the start of each Run and dropped with it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "model/api/defects.h"
#include "model/controller/cancel.h"
#include "model/controller/options.h"
#include "model/persistence/persistence.h"
#include "sim/env.h"
#include "sim/trace.h"

namespace storsim::controller {

// "-1" for none, the value otherwise: generations in trace fields.
int64_t GenerationField(const persistence::Generation& generation);

class Context {
 public:
  Context(sim::Env& env, const ControllerOptions& options, const api::Defects& defects)
      : env_(env), options_(options), defects_(defects) {}

  sim::Env& env() { return env_; }
  const ControllerOptions& options() const { return options_; }
  const ControllerTimings& timings() const { return options_.timings; }
  bool Defect(std::string_view name) const { return defects_.On(name); }
  const std::string& address() const { return options_.address; }

  // Emits `kind` with the instance's address and incarnation appended.
  void Emit(std::string_view kind, std::vector<sim::TraceField> fields);

  // The leadership term stamped into location configs and re-attach responses (lease-fenced
  // protocol only; 0 otherwise).
  uint64_t term() const { return term_; }
  void set_term(uint64_t term) { term_ = term; }
  bool fenced() const { return options_.protocol == LeadershipProtocol::kLeaseFenced; }

  // Resolves an address through the Directory; -1 when unknown.
  sim::ProcessId Resolve(const std::string& address) const;

 private:
  sim::Env& env_;
  const ControllerOptions& options_;
  const api::Defects& defects_;
  uint64_t term_ = 0;
};

// A node as a call target: id, resolved process, and the cancel token of its availability epoch.
struct NodeRef {
  persistence::NodeId id = 0;
  sim::ProcessId process = -1;
  CancelToken cancel;
};

}  // namespace storsim::controller
