// A Kubernetes Service in front of a set of pods: the endpoints that currently pass their
// readiness probe. Callers that address "the controller" (pageservers' upcalls, the control
// plane, operators) pick an endpoint here per request, as kube-proxy would; the deploy
// orchestrator (or a test) keeps the list current. Owned by the harness, shared by reference,
// deterministic: endpoints are kept in the order they became ready.
#pragma once

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "sim/network.h"
#include "sim/random.h"

namespace storsim::api {

class ServiceEndpoints {
 public:
  explicit ServiceEndpoints(std::string name) : name_(std::move(name)) {}

  const std::string& name() const { return name_; }
  void SetReady(sim::ProcessId endpoint, bool ready) {
    auto it = std::find(ready_.begin(), ready_.end(), endpoint);
    if (ready && it == ready_.end()) ready_.push_back(endpoint);
    if (!ready && it != ready_.end()) ready_.erase(it);
  }
  const std::vector<sim::ProcessId>& ready() const { return ready_; }
  // A ready endpoint chosen with the caller's stream; nullopt when none is ready (the caller sees
  // "connection refused" and retries, as with an empty Service).
  std::optional<sim::ProcessId> Pick(sim::Random& random) const {
    if (ready_.empty()) return std::nullopt;
    return ready_[random.Below(ready_.size())];
  }

 private:
  std::string name_;
  std::vector<sim::ProcessId> ready_;
};

}  // namespace storsim::api
