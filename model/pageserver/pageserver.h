// The pageserver of storsim's model (SPEC.md §4.2, §4.3, §5.1, §5.2, §9): one process per node,
// with a fixed node_id. It holds a location slot per tenant shard (AttachedSingle / Multi / Stale
// with a Timeline, Secondary with a SecondaryLocation, or nothing), persists each slot's
// LocationConfig on its Disk, and serves the management API and the page service of
// model/api/pageserver_api.h.
//
// Start-up: persisted configs are loaded, RPCs are served at once but nothing activates and
// location_config answers 503 until the re-attach upcall (retried forever, backoff <= 3 s) was
// answered and processed; then every local shard is reconciled with the answer: absent ⇒ local
// data deleted; Secondary ⇒ kept as secondary; Attached(g) ⇒ attached in g (AttachedSingle),
// unless the locally stored generation is higher ⇒ demoted to secondary. Configs are persisted
// before tenants start; the deletion queue is recovered (relabel rule) before it runs.
//
// location_config (PUT): same generation ⇒ in-place mode/config update (Stale + flush waits for
// uploads up to `flush`, then proceeds); lower generation ⇒ 400; anything else ⇒ the old slot is
// torn down (attached Single/Multi first flush pending deletions, advisorily) and a fresh one
// started. With check_controller_term, a non-zero term lower than the highest seen ⇒ 400; the
// highest term is persisted.
//
// Graceful stop (shutdown_requested): every attached non-Stale timeline flushes and uploads
// (bounded by shutdown_flush_timeout), the deletion queue is flushed, then main returns.
//
// Invariants:
//   1. A slot's persisted config equals its in-memory config whenever no transition runs.
//   2. An attached slot never changes to a lower generation (S5).
//   3. Before re_attached_, no slot exists and no location_config is accepted.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/api/defects.h"
#include "model/api/location.h"
#include "model/api/pageserver_api.h"
#include "model/api/service.h"
#include "model/pageserver/context.h"
#include "model/pageserver/deletion_queue.h"
#include "model/pageserver/options.h"
#include "model/pageserver/secondary.h"
#include "model/pageserver/split_api.h"
#include "model/pageserver/timeline.h"
#include "sim/env.h"
#include "sim/process.h"

namespace storsim::pageserver {

struct SlotSnapshot {
  api::TenantShardId shard;
  api::LocationMode mode = api::LocationMode::kDetached;
  api::Generation generation;
  bool transitioning = false;
  bool attached = false;           // a Timeline exists
  TimelineSnapshot timeline;       // meaningful when attached
};

struct PageserverSnapshot {
  api::NodeId node_id = 0;
  uint64_t incarnation = 0;
  bool running = false;
  bool re_attached = false;
  uint64_t controller_term = 0;
  std::vector<SlotSnapshot> slots;  // ordered by shard
  DeletionQueueStats deletion_queue;
};

class Pageserver final : public DeletionQueueHost {
 public:
  // `controller` (the Service in front of the controllers), `safekeeper` and `storage` must
  // outlive the process.
  Pageserver(PageserverOptions options, api::ServiceEndpoints& controller,
             sim::ProcessId safekeeper, sim::ProcessId storage, api::Defects defects = {});
  Pageserver(const Pageserver&) = delete;
  Pageserver& operator=(const Pageserver&) = delete;

  // Process main; restartable (everything is rebuilt from the Disk).
  void Run(sim::Env& env);
  sim::Process::Main Main() {
    return [this](sim::Env& env) { Run(env); };
  }

  // For checkers: the state of the incarnation that last ran (`incarnation`). After a crash it
  // still shows that incarnation's memory until the next Run begins; combine with
  // sim::Process::up() and compare `incarnation` with Process::incarnation().
  PageserverSnapshot Snapshot() const;
  const PageserverOptions& options() const { return options_; }

  // DeletionQueueHost.
  bool HoldIfBlocked(const api::TenantShardId& shard, api::Generation generation,
                     const std::vector<std::string>& keys) override;
  void OnLsnValidated(const api::TenantShardId& shard, api::Generation generation,
                      api::Lsn lsn) override;

 private:
  struct Slot {
    api::LocationConfig config;
    std::shared_ptr<Timeline> timeline;
    std::shared_ptr<SecondaryLocation> secondary;
    bool transitioning = false;
  };

  // Start-up (pageserver.cc).
  void Reset(sim::Env& env);
  void LoadLocalConfigs();
  void ServeApi();
  bool ReAttach();  // false when shut down first
  void GracefulShutdown();

  // Slots (pageserver_slots.cc).
  api::PutLocationConfigResponse PutLocationConfig(const api::PutLocationConfigRequest& request);
  void PersistConfig(const api::TenantShardId& shard, const api::LocationConfig& config);
  void RemoveLocalData(const api::TenantShardId& shard);
  // Tears down whatever runs in `slot` (timeline or secondary).
  void Teardown(Slot& slot, bool flush_deletions);
  // Starts a timeline or secondary for `config` in `slot`.
  void StartSlot(const api::TenantShardId& shard, Slot& slot, const api::LocationConfig& config);
  sim::Mutex& SlotLock(const api::TenantShardId& shard);
  Timeline* AttachedTimeline(const api::TenantShardId& shard);
  void EmitLocationConfig(const api::PutLocationConfigRequest& request, const Slot* previous,
                          api::Http status, const char* action);
  bool TermAllows(uint64_t term);

  // Page service and migration helpers (pageserver_api.cc).
  api::GetPageResponse GetPage(const api::GetPageRequest& request);
  api::TimelineLsnsResponse TimelineLsns(const api::TimelineLsnsRequest& request);
  api::WaitLsnResponse WaitLsn(const api::WaitLsnRequest& request);
  api::SecondaryDownloadResponse SecondaryDownload(const api::SecondaryDownloadRequest& request);

  // Shard split (pageserver_split.cc, split_api.h).
  ShardSplitResponse ShardSplit(const ShardSplitRequest& request);
  // PUTs `index` under each child's prefix at index.generation; false when `deadline` passed.
  bool CopyIndexToChildren(const std::vector<api::TenantShardId>& children, const IndexPart& index,
                           sim::Instant deadline);

  PageserverOptions options_;
  api::ServiceEndpoints& controller_;
  sim::ProcessId safekeeper_;
  sim::ProcessId storage_;
  api::Defects defects_;

  // Per incarnation (rebuilt by Reset).
  sim::Env* env_ = nullptr;
  std::unique_ptr<PageserverContext> context_;
  std::unique_ptr<DeletionQueue> deletion_queue_;
  std::map<api::TenantShardId, api::LocationConfig> local_configs_;  // loaded at start
  std::map<api::TenantShardId, Slot> slots_;
  std::map<api::TenantShardId, std::unique_ptr<sim::Mutex>> slot_locks_;
  uint64_t incarnation_ = 0;  // of the incarnation this state belongs to
  bool running_ = false;
  bool re_attached_ = false;
  uint64_t controller_term_ = 0;
};

}  // namespace storsim::pageserver
