// Node API handlers (SPEC.md §7.1): register, configure, delete, status, and the drain / fill /
// cancel entry points with every precondition and HTTP code. Policies are persisted first, then
// changed in memory.
#include "model/controller/events.h"
#include "model/controller/service.h"

namespace storsim::controller {

using sim::TraceField;

absl::Status Service::SetNodePolicy(NodeId node_id, NodeSchedulingPolicy policy,
                                    const char* reason) {
  absl::Status status = db_.UpdateNodeSchedulingPolicy(node_id, policy);
  if (!status.ok()) return status;
  auto node = nodes_.find(node_id);
  if (node == nodes_.end()) return absl::NotFoundError("node vanished");
  node->second.policy = policy;
  context_.Emit(events::kNodePolicy,
                {TraceField::Int("node", node_id),
                 TraceField::Str("policy", persistence::NodeSchedulingPolicyName(policy)),
                 TraceField::Str("where", "db+memory"), TraceField::Str("reason", reason)});
  return absl::OkStatus();
}

void Service::ReleaseOperationSlot(OperationKind kind, NodeId node) {
  // Only our own reservation: nothing else can have replaced it while the DB write ran, because
  // every entry point refuses while operation_ is set.
  SIM_CHECK(operation_ && operation_->kind == kind && operation_->node == node);
  operation_.reset();
}

api::StatusResponse Service::HandleNodeRegister(const api::NodeRegisterRequest& request) {
  auto existing = nodes_.find(request.node_id);
  if (existing != nodes_.end()) {
    // Re-registration with the same address is a no-op; a different one is a conflict.
    return {existing->second.address == request.listen_http_addr ? api::Http::kOk
                                                                  : api::Http::kConflict};
  }
  persistence::NodeRow row;
  row.node_id = request.node_id;
  row.scheduling_policy = NodeSchedulingPolicy::kActive;
  row.listen_http_addr = request.listen_http_addr;
  row.listen_http_port = request.listen_http_port;
  row.availability_zone_id = request.availability_zone_id;
  absl::Status status = db_.InsertNode(row);
  if (!status.ok()) {
    return {status.code() == absl::StatusCode::kAlreadyExists ? api::Http::kConflict
                                                               : api::Http::kInternalError};
  }
  if (nodes_.count(request.node_id)) return {api::Http::kOk};  // raced with another register
  NodeState node;
  node.id = request.node_id;
  node.address = request.listen_http_addr;
  node.port = request.listen_http_port;
  node.availability_zone = request.availability_zone_id;
  node.cancel = CancelToken(context_.env().scheduler());
  node.cancel.Cancel();  // Offline until the first heartbeat
  nodes_[request.node_id] = std::move(node);
  context_.Emit(events::kNodePolicy,
                {TraceField::Int("node", request.node_id), TraceField::Str("policy", "active"),
                 TraceField::Str("where", "db+memory"), TraceField::Str("reason", "register")});
  return {api::Http::kOk};
}

api::StatusResponse Service::HandleNodeConfigure(const api::NodeConfigureRequest& request) {
  auto node = nodes_.find(request.node_id);
  if (node == nodes_.end()) return {api::Http::kNotFound};
  if (operation_ && operation_->node == request.node_id) return {api::Http::kPreconditionFailed};
  if (!request.scheduling_policy) return {api::Http::kOk};
  absl::Status status = SetNodePolicy(request.node_id, *request.scheduling_policy, "configure");
  return {status.ok() ? api::Http::kOk : api::Http::kInternalError};
}

api::NodeStatusResponse Service::HandleNodeStatus(const api::NodeRequest& request) {
  api::NodeStatusResponse response;
  auto node = nodes_.find(request.node_id);
  if (node == nodes_.end()) {
    response.status = api::Http::kNotFound;
    return response;
  }
  response.scheduling_policy = node->second.policy;
  response.availability = node->second.availability;
  for (const auto& [id, shard] : shards_) {
    if (shard.intent.attached == request.node_id) ++response.attached_shards;
  }
  return response;
}

api::StatusResponse Service::HandleDrain(const api::NodeRequest& request) {
  auto node = nodes_.find(request.node_id);
  if (node == nodes_.end()) return {api::Http::kNotFound};
  if (!node->second.available()) return {api::Http::kServiceUnavailable};
  if (operation_) return {api::Http::kPreconditionFailed};
  bool other_schedulable = false;
  for (const auto& [id, other] : nodes_) {
    if (id != request.node_id && other.schedulable()) other_schedulable = true;
  }
  if (!other_schedulable) return {api::Http::kPreconditionFailed};
  if (node->second.policy == NodeSchedulingPolicy::kDraining) return {api::Http::kConflict};
  if (node->second.policy != NodeSchedulingPolicy::kActive) return {api::Http::kPreconditionFailed};
  // Reserve the operation slot before the DB write (it yields): a concurrent request now sees
  // the operation and answers 412 without touching the DB, so no node is left in the new policy
  // with no task running (L4).
  CancelToken cancel(context_.env().scheduler());
  operation_ = Operation{OperationKind::kDrain, request.node_id, cancel};
  absl::Status status = SetNodePolicy(request.node_id, NodeSchedulingPolicy::kDraining, "drain");
  if (!status.ok()) {
    ReleaseOperationSlot(OperationKind::kDrain, request.node_id);
    return {api::Http::kInternalError};
  }
  operation_->started = true;
  context_.Emit(events::kOperation, {TraceField::Str("op", "drain"),
                                     TraceField::Int("node", request.node_id),
                                     TraceField::Str("phase", "start"), TraceField::Str("result", ""),
                                     TraceField::Str("error", "")});
  const NodeId id = request.node_id;
  context_.env().Spawn("ctl.drain", [this, id, cancel] { DrainTask(id, cancel); });
  return {api::Http::kAccepted};
}

api::StatusResponse Service::HandleFill(const api::NodeRequest& request) {
  auto node = nodes_.find(request.node_id);
  if (node == nodes_.end()) return {api::Http::kNotFound};
  if (!node->second.available()) return {api::Http::kServiceUnavailable};
  if (operation_) return {api::Http::kPreconditionFailed};
  if (nodes_.size() < 2) return {api::Http::kPreconditionFailed};
  if (node->second.policy == NodeSchedulingPolicy::kFilling) return {api::Http::kConflict};
  if (node->second.policy != NodeSchedulingPolicy::kActive) return {api::Http::kPreconditionFailed};
  // Reserve the operation slot before the DB write (it yields): a concurrent request now sees
  // the operation and answers 412 without touching the DB, so no node is left in the new policy
  // with no task running (L4).
  CancelToken cancel(context_.env().scheduler());
  operation_ = Operation{OperationKind::kFill, request.node_id, cancel};
  absl::Status status = SetNodePolicy(request.node_id, NodeSchedulingPolicy::kFilling, "fill");
  if (!status.ok()) {
    ReleaseOperationSlot(OperationKind::kFill, request.node_id);
    return {api::Http::kInternalError};
  }
  operation_->started = true;
  context_.Emit(events::kOperation, {TraceField::Str("op", "fill"),
                                     TraceField::Int("node", request.node_id),
                                     TraceField::Str("phase", "start"), TraceField::Str("result", ""),
                                     TraceField::Str("error", "")});
  const NodeId id = request.node_id;
  context_.env().Spawn("ctl.fill", [this, id, cancel] { FillTask(id, cancel); });
  return {api::Http::kAccepted};
}

api::StatusResponse Service::HandleCancel(const api::NodeRequest& request, OperationKind kind) {
  auto node = nodes_.find(request.node_id);
  if (node == nodes_.end()) return {api::Http::kNotFound};
  if (!node->second.available()) return {api::Http::kServiceUnavailable};
  if (!operation_ || !operation_->started || operation_->kind != kind ||
      operation_->node != request.node_id) {
    return {api::Http::kPreconditionFailed};
  }
  // Asynchronous: the loop notices at its next batch boundary.
  operation_->cancel.Cancel();
  context_.Emit(events::kOperation,
                {TraceField::Str("op", kind == OperationKind::kDrain ? "drain" : "fill"),
                 TraceField::Int("node", request.node_id),
                 TraceField::Str("phase", "cancel_requested"), TraceField::Str("result", ""),
                 TraceField::Str("error", "")});
  return {api::Http::kOk};
}

api::StatusResponse Service::HandleNodeDelete(const api::NodeRequest& request) {
  auto node = nodes_.find(request.node_id);
  if (node == nodes_.end()) return {api::Http::kNotFound};
  if (operation_) return {api::Http::kPreconditionFailed};
  if (node->second.policy != NodeSchedulingPolicy::kActive &&
      node->second.policy != NodeSchedulingPolicy::kPause) {
    return {api::Http::kPreconditionFailed};
  }
  // Reserve the operation slot before the DB write (it yields): a concurrent request now sees
  // the operation and answers 412 without touching the DB, so no node is left in the new policy
  // with no task running (L4).
  CancelToken cancel(context_.env().scheduler());
  operation_ = Operation{OperationKind::kDelete, request.node_id, cancel};
  absl::Status status = SetNodePolicy(request.node_id, NodeSchedulingPolicy::kDeleting, "delete");
  if (!status.ok()) {
    ReleaseOperationSlot(OperationKind::kDelete, request.node_id);
    return {api::Http::kInternalError};
  }
  operation_->started = true;
  context_.Emit(events::kOperation, {TraceField::Str("op", "delete"),
                                     TraceField::Int("node", request.node_id),
                                     TraceField::Str("phase", "start"), TraceField::Str("result", ""),
                                     TraceField::Str("error", "")});
  const NodeId id = request.node_id;
  context_.env().Spawn("ctl.node_delete", [this, id, cancel] { DeleteTask(id, cancel); });
  return {api::Http::kOk};
}

}  // namespace storsim::controller
