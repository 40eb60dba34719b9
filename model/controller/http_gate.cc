// The HTTP surface (SPEC.md §3.4): every method of controller_api.h and upcall_api.h served over
// sim RPC behind upstream's gating. A Candidate answers 503 except the probes; a SteppedDown
// instance forwards everything except step_down and the probes to the leader named by the DB row
// (503 when there is no row or the row names itself, 500 on a proxy transport error, 40 s
// timeout); a lease-protocol candidate forwards the same way to the lease holder; a Leader serves, and tenant-mutating handlers first wait <= 30 s for
// startup_complete (else 408). Upcalls hold the reconcilers gate while they run (see Serve).
#include <functional>
#include <string>

#include "model/controller/defects.h"
#include "model/controller/events.h"
#include "model/controller/service.h"

namespace storsim::controller {

using sim::TraceField;

bool Service::WaitForStartup() {
  if (startup_complete_) return true;
  return startup_complete_event_.Wait(
      context_.env().DeadlineAfter(context_.timings().startup_wait_for_handlers));
}

api::StatusResponse Service::HandleProbe(const api::ProbeRequest& request) {
  switch (request.probe) {
    case api::Probe::kStatus:
      return {api::Http::kOk};
    case api::Probe::kReady:
      // Ready also for a SteppedDown instance (upstream), and for a lease follower.
      return {startup_complete_ || FollowingValidLease() ? api::Http::kOk
                                                         : api::Http::kServiceUnavailable};
    case api::Probe::kLive: {
      if (FollowingValidLease()) return {api::Http::kOk};
      const bool leader_ok = status_ == LeadershipStatus::kLeader ||
                             context_.Defect(kDefectLiveIgnoresLeadership);
      return {startup_complete_ && leader_ok ? api::Http::kOk : api::Http::kServiceUnavailable};
    }
  }
  return {api::Http::kBadRequest};
}

bool Service::LeaseProtocol() const {
  return context_.options().protocol == LeadershipProtocol::kLease ||
         context_.options().protocol == LeadershipProtocol::kLeaseFenced;
}

bool Service::FollowingValidLease() {
  if (!LeaseProtocol() || status_ != LeadershipStatus::kCandidate || !lease_seen_) return false;
  if (lease_seen_->holder.empty() || lease_seen_->holder == context_.address()) return false;
  return context_.env().Now() - lease_seen_at_ <
         sim::Duration::Nanos(lease_seen_->lease_duration_ns);
}

template <typename Req, typename Resp>
Resp Service::Forward(sim::RpcMethod<Req, Resp> method, const Req& request) {
  Resp response{};
  auto leader = CurrentLeaderAddress();
  const char* reason = nullptr;
  if (!leader.ok() || !leader->has_value()) {
    reason = "no_leader";
  } else if (**leader == context_.address()) {
    reason = "self_leader";  // "leader is stepped down instance" (PR #11417: 503, not 500)
  }
  if (reason != nullptr) {
    context_.Emit(events::kHttp503,
                  {TraceField::Str("method", method.name), TraceField::Str("reason", reason)});
    response.status = api::Http::kServiceUnavailable;
    return response;
  }
  const sim::ProcessId target = context_.Resolve(**leader);
  absl::StatusOr<Resp> reply =
      target < 0 ? absl::StatusOr<Resp>(absl::UnavailableError("unresolved"))
                 : context_.env().rpc().Call(target, method, request,
                                             context_.timings().forward_timeout);
  context_.Emit(events::kForward, {TraceField::Str("method", method.name),
                                   TraceField::Str("target", **leader),
                                   TraceField::Str("result", reply.ok() ? "ok" : "transport")});
  if (!reply.ok()) {
    response.status = api::Http::kInternalError;
    return response;
  }
  return *reply;
}

template <typename Req, typename Resp>
void Service::Serve(sim::RpcMethod<Req, Resp> method, GateKind kind,
                    Resp (Service::*handler)(const Req&)) {
  context_.env().rpc().Serve(
      method, std::function<Resp(const Req&, const sim::CallContext&)>(
                  [this, method, kind, handler](const Req& request, const sim::CallContext&) {
                    if (kind == GateKind::kProbe) return (this->*handler)(request);
                    // A lease candidate forwards to the lease holder (503 while there is none
                    // or the holder is itself); it never serves the peer step-down API.
                    if (status_ == LeadershipStatus::kCandidate && LeaseProtocol() &&
                        kind != GateKind::kStepDown) {
                      return Forward(method, request);
                    }
                    if (status_ == LeadershipStatus::kCandidate) {
                      context_.Emit(events::kHttp503, {TraceField::Str("method", method.name),
                                                       TraceField::Str("reason", "candidate")});
                      Resp response{};
                      response.status = api::Http::kServiceUnavailable;
                      return response;
                    }
                    if (status_ == LeadershipStatus::kSteppedDown && kind != GateKind::kStepDown) {
                      return Forward(method, request);
                    }
                    if (kind == GateKind::kTenantMutating && !WaitForStartup()) {
                      Resp response{};
                      response.status = api::Http::kRequestTimeout;
                      return response;
                    }
                    if (kind == GateKind::kUpcall &&
                        !context_.Defect(kDefectStepDownIgnoresUpcalls)) {
                      // Upcalls (re-attach, validate) hold the reconcilers gate while they run,
                      // as shard splits do, so step-down (StopReconcilers) waits for them and no
                      // DB write of theirs lands after the step-down response; once the gate is
                      // closed a new upcall gets 503 (the pageserver retries and reaches the
                      // successor). Upstream's handlers hold no gate: the defect restores that.
                      if (reconcilers_gate_closed_) {
                        context_.Emit(events::kHttp503,
                                      {TraceField::Str("method", method.name),
                                       TraceField::Str("reason", "stepping_down")});
                        Resp response{};
                        response.status = api::Http::kServiceUnavailable;
                        return response;
                      }
                      ++reconcilers_in_flight_;
                      reconcilers_idle_.Reset();
                      Resp response = (this->*handler)(request);
                      SIM_CHECK(reconcilers_in_flight_ > 0);
                      if (--reconcilers_in_flight_ == 0) reconcilers_idle_.Set();
                      return response;
                    }
                    return (this->*handler)(request);
                  }));
}

void Service::RegisterHandlers() {
  Serve(api::kProbe, GateKind::kProbe, &Service::HandleProbe);
  Serve(api::kStepDown, GateKind::kStepDown, &Service::HandleStepDown);
  Serve(api::kReAttach, GateKind::kUpcall, &Service::HandleReAttach);
  Serve(api::kValidate, GateKind::kUpcall, &Service::HandleValidate);
  Serve(api::kTenantCreate, GateKind::kTenantMutating, &Service::HandleTenantCreate);
  Serve(api::kTenantDelete, GateKind::kTenantMutating, &Service::HandleTenantDelete);
  Serve(api::kTenantShardMigrate, GateKind::kTenantMutating, &Service::HandleTenantMigrate);
  Serve(api::kTenantPolicy, GateKind::kTenantMutating, &Service::HandleTenantPolicy);
  Serve(api::kTenantDescribe, GateKind::kRead, &Service::HandleTenantDescribe);
  Serve(api::kNodeRegister, GateKind::kNodeOp, &Service::HandleNodeRegister);
  Serve(api::kNodeConfigure, GateKind::kNodeOp, &Service::HandleNodeConfigure);
  Serve(api::kNodeDrain, GateKind::kNodeOp, &Service::HandleDrain);
  Serve(api::kNodeFill, GateKind::kNodeOp, &Service::HandleFill);
  Serve(api::kNodeCancelDrain, GateKind::kNodeOp, &Service::HandleCancelDrain);
  Serve(api::kNodeCancelFill, GateKind::kNodeOp, &Service::HandleCancelFill);
  Serve(api::kNodeDelete, GateKind::kNodeOp, &Service::HandleNodeDelete);
  Serve(api::kNodeStatus, GateKind::kRead, &Service::HandleNodeStatus);
}

}  // namespace storsim::controller
