// Trace events of the deploy orchestrators (SPEC.md §3.2–3.5, §7.2; checkers L3 and L4 of §11).
// Both orchestrators are harness-side (Kubernetes and Ansible are not processes under test), so
// every event below is emitted with Simulation::Emit: process = -1. Ids are in the fields.
//
// Kubernetes Deployment of the storage controller (ControllerDeployment, controller_deployment.h):
//
//   k8s.rollout.start     deployment(str) revision strategy(str "RollingUpdate"|"Recreate")
//                         old_pods(int: pods of older revisions running at the start)
//   k8s.rollout.stalled   deployment revision waited_ns   (progress deadline exceeded, once)
//   k8s.rollout.end       deployment revision strategy outcome(str "complete"|"timeout"|
//                         "superseded") duration_ns
//   k8s.pod.start         deployment slot pod(str process name) pid incarnation revision
//                         reason(str "rollout"|"replace"|"restart") restart_count
//   k8s.pod.stop          deployment slot pod pid incarnation revision grace_ns
//                         reason(str "rollout"|"liveness"|"startup"|"evicted")   (graceful stop
//                         requested; "evicted": the node came back and its deleted pod stops)
//   k8s.pod.exit          deployment slot pod pid incarnation revision expected(int 0|1)
//                         (the container process was seen down; expected = k8s had stopped it)
//   k8s.pod.restart       deployment slot pod pid incarnation revision reason(str "exited"|
//                         "liveness"|"startup"|"external") restart_count backoff_ns
//                         (decided; the matching k8s.pod.start follows after backoff_ns, except
//                         "external": the process was restarted from outside k8s, e.g. a fault)
//   k8s.pod.gone          deployment slot pod pid revision   (a terminated or evicted pod left
//                         its slot; after an eviction the process may still run)
//   k8s.pod.evicted       deployment slot pod pid incarnation revision   (deleted: node lost)
//   k8s.node.lost         deployment slot pod pid incarnation revision   (LoseNode)
//   k8s.node.recovered    deployment slot pod pid incarnation revision   (RecoverNode)
//   k8s.pod.ready         deployment slot pod pid incarnation revision ready(int 0|1)
//   k8s.probe.threshold   deployment slot pod pid incarnation probe(str "startup"|"readiness"|
//                         "liveness") failures   (consecutive failures reached the threshold)
//   k8s.service.endpoints service(str) pid(int: the endpoint that changed) ready(int 0|1)
//                         count(int) endpoints(str: ready pids, comma-separated, in order)
//
// The 503 window of §3.4 and the "no instant with zero ready pods" property of a RollingUpdate are
// both measured on k8s.service.endpoints (count) together with the controller's own events.
//
// Pageserver deploy loop (PageserverDeploy, pageserver_deploy.h; RFC 033 orchestrator):
//
//   deploy.pass.start     pass nodes(int) incarnation(int: of the deployer; a pass that a crash
//                         interrupted starts again with the same pass number)
//   deploy.node.start     pass node_id
//   deploy.request        pass node_id op(str "drain"|"fill"|"cancel_drain"|"cancel_fill")
//                         attempt result(str: "200 OK", "412 Precondition Failed", ... or the
//                         transport error "unavailable"|"timeout"|"no_endpoint") to(int pid, -1)
//   deploy.drain.end      pass node_id outcome(str "paused_for_restart"|"aborted"|"timeout"|
//                         "refused") polls elapsed_ns
//   deploy.cancel         pass node_id op(str "drain"|"fill") outcome(str "cancelled"|
//                         "not_running"|"failed"|"skipped") attempts
//   deploy.restart        pass node_id pid phase(str "stop"|"down"|"start"|"skipped")
//                         incarnation
//   deploy.fill.end       pass node_id outcome(str "active"|"aborted"|"timeout"|"refused")
//                         polls elapsed_ns
//   deploy.node.end       pass node_id drain(str) fill(str) restarted(int 0|1) elapsed_ns
//   deploy.pass.end       pass nodes drained(int: drains that reached PauseForRestart)
//                         filled(int: fills that ended Active) elapsed_ns
#pragma once

namespace storsim::deploy::events {

inline constexpr char kRolloutStart[] = "k8s.rollout.start";
inline constexpr char kRolloutStalled[] = "k8s.rollout.stalled";
inline constexpr char kRolloutEnd[] = "k8s.rollout.end";
inline constexpr char kPodStart[] = "k8s.pod.start";
inline constexpr char kPodStop[] = "k8s.pod.stop";
inline constexpr char kPodExit[] = "k8s.pod.exit";
inline constexpr char kPodRestart[] = "k8s.pod.restart";
inline constexpr char kPodGone[] = "k8s.pod.gone";
inline constexpr char kPodEvicted[] = "k8s.pod.evicted";
inline constexpr char kNodeLost[] = "k8s.node.lost";
inline constexpr char kNodeRecovered[] = "k8s.node.recovered";
inline constexpr char kPodReady[] = "k8s.pod.ready";
inline constexpr char kProbeThreshold[] = "k8s.probe.threshold";
inline constexpr char kServiceEndpoints[] = "k8s.service.endpoints";

inline constexpr char kPassStart[] = "deploy.pass.start";
inline constexpr char kNodeStart[] = "deploy.node.start";
inline constexpr char kRequest[] = "deploy.request";
inline constexpr char kDrainEnd[] = "deploy.drain.end";
inline constexpr char kCancel[] = "deploy.cancel";
inline constexpr char kRestart[] = "deploy.restart";
inline constexpr char kFillEnd[] = "deploy.fill.end";
inline constexpr char kNodeEnd[] = "deploy.node.end";
inline constexpr char kPassEnd[] = "deploy.pass.end";

}  // namespace storsim::deploy::events
