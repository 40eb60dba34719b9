// PageserverContext: what every part of one pageserver incarnation shares (its Env, options,
// defects, the addresses of its neighbours), plus the retry helpers its loops use. Rebuilt on
// every Run, so nothing here outlives an incarnation.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "model/api/defects.h"
#include "model/api/http.h"
#include "model/api/service.h"
#include "model/pageserver/options.h"
#include "model/remote_storage/remote_storage_client.h"
#include "sim/env.h"
#include "sim/sync.h"
#include "sim/trace.h"

namespace storsim::pageserver {

class DeletionQueue;

struct PageserverContext {
  sim::Env* env = nullptr;
  const PageserverOptions* options = nullptr;
  const api::Defects* defects = nullptr;
  api::ServiceEndpoints* controller = nullptr;
  sim::ProcessId safekeeper = -1;
  sim::ProcessId storage = -1;
  DeletionQueue* deletion_queue = nullptr;

  api::NodeId node_id() const { return options->node_id; }
  uint64_t incarnation() const { return env->incarnation(); }

  // Emits `kind` with node and incarnation prepended to `fields`.
  void Emit(std::string_view kind, std::vector<sim::TraceField> fields) const {
    fields.insert(fields.begin(),
                  {sim::TraceField::Int("node", static_cast<int64_t>(options->node_id)),
                   sim::TraceField::Int("inc", static_cast<int64_t>(env->incarnation()))});
    env->Emit(kind, std::move(fields));
  }

  // A storage client writing as the attachment (shard, this node, generation).
  remote_storage::RemoteStorageClient Storage(const api::TenantShardId& shard,
                                              api::Generation generation) const {
    remote_storage::WriterAttachment attachment;
    attachment.tenant_shard = shard.ToString();
    attachment.node_id = static_cast<int64_t>(options->node_id);
    attachment.generation = generation.is_none() ? 0 : generation.value();
    remote_storage::RemoteStorageClientOptions client_options;
    client_options.timeout = options->storage_timeout;
    return remote_storage::RemoteStorageClient(*env, storage, attachment, client_options);
  }

  // Sleeps `local` unless `cancel` is set first. Returns true when cancelled.
  bool SleepOrCancel(sim::Duration local, sim::Event& cancel) const {
    if (cancel.is_set()) return true;
    return cancel.Wait(env->DeadlineAfter(local));
  }

  // Doubling backoff from 100 ms with jitter, capped at `cap`, for attempt 1, 2, ...
  sim::Duration Backoff(int attempt, sim::Duration cap) const {
    sim::Duration backoff = sim::Duration::Millis(100);
    for (int i = 1; i < attempt && backoff < cap; ++i) backoff = backoff * 2;
    if (backoff > cap) backoff = cap;
    return env->random().DurationIn(backoff / 2, backoff);
  }

  // Calls `method` on the controller (an endpoint picked per attempt) until it answers 200;
  // retried forever with backoff (cap upcall_backoff_max). nullopt when `cancel` is set first.
  template <typename Req, typename Resp>
  std::optional<Resp> CallController(sim::RpcMethod<Req, Resp> method, const Req& request,
                                     sim::Event* cancel, int* attempts = nullptr) const {
    for (int attempt = 1;; ++attempt) {
      if (attempts != nullptr) *attempts = attempt;
      if (cancel->is_set()) return std::nullopt;
      std::optional<sim::ProcessId> endpoint = controller->Pick(env->random());
      if (endpoint) {
        absl::StatusOr<Resp> result =
            env->rpc().Call(*endpoint, method, request, options->upcall_timeout);
        if (result.ok() && result->status == api::Http::kOk) return *std::move(result);
      }
      if (SleepOrCancel(Backoff(attempt, options->upcall_backoff_max), *cancel)) {
        return std::nullopt;
      }
    }
  }
};

}  // namespace storsim::pageserver
