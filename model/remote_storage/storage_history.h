// StorageHistory: the harness-owned record of every mutation the fake object storage executed,
// in execution order, with the writer's identity. The storage server appends to it at the instant
// a mutation becomes durable; it lives outside every simulated process, so it survives crashes,
// and it records what executed — a PUT whose reply was lost is in it; a request the network
// duplicated executed twice and is in it twice. Checkers read it (S6 "no overwrite", S8 "no
// stale deletion") through the const queries below; they never mutate it.
//
// Time is true simulated time, read from the scheduler by the history itself: model code never
// sees it.
//
// Invariants:
//   1. entries()[i].sequence == i, and entries' `at` never decreases.
//   2. live_ holds, for every key whose last entry is a put, the sequence of that put — and no
//      other key.
//   3. by_key_[k] lists, in order, the sequence of every entry about key k.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/remote_storage/remote_storage_types.h"
#include "sim/hash.h"
#include "sim/network.h"
#include "sim/scheduler.h"
#include "sim/time.h"

namespace storsim::remote_storage {

// The identity of whoever issued a mutation: the calling process and its incarnation (from the
// RPC's CallContext, so it cannot be forged) plus the attachment the caller described.
struct StorageWriter {
  sim::ProcessId process = -1;
  uint64_t incarnation = 0;
  WriterAttachment attachment;
  auto operator<=>(const StorageWriter&) const = default;
};

enum class StorageOperation : uint8_t { kPut, kDelete };

struct StorageHistoryEntry {
  uint64_t sequence = 0;
  sim::Instant at;  // true time of execution
  StorageOperation operation = StorageOperation::kPut;
  std::string key;
  StorageWriter writer;
  uint64_t content_hash = 0;  // put: hash of the stored bytes; delete: hash of the removed bytes
  int64_t size = 0;           // put: bytes stored; delete: bytes removed
  bool existed = false;       // put: overwrote an object; delete: removed an object
  bool batch = false;         // delete: part of a DeleteObjects call
  uint64_t call_id = 0;       // the RPC call that executed it
};

// The live version of a key.
struct ObjectVersion {
  uint64_t content_hash = 0;
  int64_t size = 0;
  StorageWriter writer;
  uint64_t put_sequence = 0;
  sim::Instant put_at;
};

class StorageHistory {
 public:
  using Observer = std::function<void(const StorageHistoryEntry&)>;

  // `scheduler` supplies true time; it must outlive the history.
  explicit StorageHistory(const sim::Scheduler& scheduler) : scheduler_(&scheduler) {}
  StorageHistory(const StorageHistory&) = delete;
  StorageHistory& operator=(const StorageHistory&) = delete;

  // --- Appended by the storage server, at the instant the mutation became durable. ---
  void RecordPut(const std::string& key, uint64_t content_hash, int64_t size,
                 const StorageWriter& writer, bool overwrote, uint64_t call_id);
  // `removed_hash`/`removed_size` describe the object removed (zero when it was absent).
  void RecordDelete(const std::string& key, const StorageWriter& deleter, bool existed,
                    uint64_t removed_hash, int64_t removed_size, bool batch, uint64_t call_id);

  // Observers run synchronously after each append, in the order they were added (continuous
  // checkers). They must not append to the history.
  void AddObserver(Observer observer);

  // --- Queries (const; for checkers and tests). ---
  const std::vector<StorageHistoryEntry>& entries() const { return entries_; }
  size_t size() const { return entries_.size(); }
  const StorageHistoryEntry& entry(uint64_t sequence) const;

  // Every key that exists now, with its live version, in key order.
  std::map<std::string, ObjectVersion> CurrentObjects() const;
  // The live version of `key`, or nullopt when it does not exist now.
  std::optional<ObjectVersion> Current(std::string_view key) const;
  // Distinct writers that ever PUT `key`, in the order of their first PUT.
  std::vector<StorageWriter> WritersOf(std::string_view key) const;
  // Every entry about `key`, in order.
  std::vector<const StorageHistoryEntry*> EntriesOf(std::string_view key) const;
  // Whether `key` existed at true time `at`, counting every entry executed at or before `at`.
  bool ExistedAt(std::string_view key, sim::Instant at) const;
  // Whether `key` existed just after entry `sequence` executed (exact, even within one instant).
  bool ExistedAfter(std::string_view key, uint64_t sequence) const;

  uint64_t puts() const { return puts_; }
  uint64_t deletes() const { return deletes_; }
  // An order-sensitive hash of every entry: equal seeds must give equal digests.
  uint64_t Digest() const { return digest_.value(); }

 private:
  StorageHistoryEntry& Append(StorageOperation operation, const std::string& key,
                              const StorageWriter& writer);
  void Publish(const StorageHistoryEntry& entry);

  const sim::Scheduler* scheduler_;
  std::vector<StorageHistoryEntry> entries_;
  std::map<std::string, std::vector<uint64_t>, std::less<>> by_key_;
  std::map<std::string, uint64_t, std::less<>> live_;
  std::vector<Observer> observers_;
  sim::RunningHash digest_;
  uint64_t puts_ = 0;
  uint64_t deletes_ = 0;
};

}  // namespace storsim::remote_storage
