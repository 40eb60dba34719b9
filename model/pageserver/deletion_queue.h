// The pageserver's deletion queue (SPEC.md §4.2): one per pageserver, persistent on local disk.
// Lists of remote keys to delete, each tagged with the (shard, generation) that unlinked them, are
// written to disk (synced) when enqueued. A validator fiber wakes every deletion_flush_period, at
// deletion_flush_keys pending keys, or on Flush(); it validates every shard with pending lists or
// pending remote_consistent_lsn updates through the /validate upcall in chunks of
// validate_chunk_shards (retried forever), then per list: executes it iff the shard was answered
// valid AND the list's generation equals the validated generation (the newest pending generation
// of that shard); otherwise drops it ("objects may be leaked"). A validated list whose shard is
// attached here in AttachedMulti/Stale at that generation is handed back to the shard's
// blocked_deletions (S13) instead of executing. Executed and dropped lists are removed from disk.
//
// Recovery after restart: a stored list of generation exactly current - 1 for a shard attached
// here in `current` is relabelled to current (same disk: nobody else held it in between); others
// keep their generation and are dropped at validation.
//
// Invariants:
//   1. Every pending list is on disk under its sequence number until executed or dropped.
//   2. A list executes only after a validation that answered valid for its exact generation.
//   3. pending_keys_ == the sum of the pending lists' key counts.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "model/api/location.h"
#include "model/pageserver/context.h"
#include "sim/sync.h"

namespace storsim::pageserver {

// What the deletion queue asks of the pageserver that owns it.
class DeletionQueueHost {
 public:
  virtual ~DeletionQueueHost() = default;
  // If `shard` is attached here at `generation` in AttachedMulti or AttachedStale, takes `keys`
  // into its blocked_deletions and returns true; otherwise returns false.
  virtual bool HoldIfBlocked(const api::TenantShardId& shard, api::Generation generation,
                             const std::vector<std::string>& keys) = 0;
  // A projected remote_consistent_lsn of (shard, generation) passed validation.
  virtual void OnLsnValidated(const api::TenantShardId& shard, api::Generation generation,
                              api::Lsn lsn) = 0;
};

struct DeletionQueueStats {
  size_t lists_pending = 0;
  size_t keys_pending = 0;
  uint64_t lists_executed = 0;
  uint64_t lists_dropped = 0;
  uint64_t keys_executed = 0;
  uint64_t validations = 0;
};

class DeletionQueue {
 public:
  DeletionQueue(PageserverContext& context, DeletionQueueHost& host);
  DeletionQueue(const DeletionQueue&) = delete;
  DeletionQueue& operator=(const DeletionQueue&) = delete;

  // Loads the stored lists and applies the relabel rule against `attached` (shard -> generation
  // attached here after re-attach). Call once, before Start.
  void Recover(const std::map<api::TenantShardId, api::Generation>& attached);
  // Spawns the validator fiber; it runs until Stop (or the incarnation ends).
  void Start();
  // Stops the validator: a validate or DeleteObjects retry in progress gives up; what is pending
  // stays on disk for the next incarnation.
  void Stop();

  // Persists a list (synced) and queues it. Precondition: keys not empty, generation not none.
  void Enqueue(const api::TenantShardId& shard, api::Generation generation,
               std::vector<std::string> keys);
  // Records a projected remote_consistent_lsn to validate at the next flush (newest wins).
  void ProjectLsn(const api::TenantShardId& shard, api::Generation generation, api::Lsn lsn);
  // Forgets pending projected updates of `shard` (AttachedStale discards them).
  void DiscardLsn(const api::TenantShardId& shard);

  // Wakes the validator and waits until a full pass that started after the call completed (every
  // list enqueued before the call executed, dropped or handed back; every projected lsn
  // validated), or until `deadline` (true time) or Stop. Returns whether it got there.
  bool Flush(sim::Instant deadline);
  // Whether `key` is in a list not yet executed or dropped (the upload barrier asks this).
  bool HasPendingKey(const std::string& key) const;

  DeletionQueueStats stats() const;

 private:
  struct List {
    uint64_t sequence = 0;
    api::TenantShardId shard;
    api::Generation generation;
    std::vector<std::string> keys;
  };
  struct PendingLsn {
    api::Generation generation;
    api::Lsn lsn = 0;
  };

  void Persist(const List& list);
  void Forget(uint64_t sequence);
  void ValidatorLoop();
  // One pass over everything pending. false when stopped midway (the rest stays pending).
  bool ProcessOnce();
  // DeleteObjects for every key of `list`, retried until done or Stop. Returns whether done.
  bool Execute(const List& list);
  void NotifyProgress();

  PageserverContext& context_;
  DeletionQueueHost& host_;
  std::map<uint64_t, List> lists_;  // pending, by sequence
  std::map<std::string, int> pending_key_counts_;
  std::map<api::TenantShardId, PendingLsn> pending_lsns_;
  uint64_t next_sequence_ = 1;
  uint64_t passes_completed_ = 0;
  bool pass_running_ = false;
  size_t pending_keys_ = 0;
  sim::Event wake_;
  sim::Event stop_;
  std::shared_ptr<sim::Event> progress_;
  DeletionQueueStats counters_;
};

}  // namespace storsim::pageserver
