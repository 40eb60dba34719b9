// StorageHistory: appending entries, maintaining the per-key index, answering checker queries.
#include "model/remote_storage/storage_history.h"

#include <algorithm>

#include "sim/check.h"

namespace storsim::remote_storage {

StorageHistoryEntry& StorageHistory::Append(StorageOperation operation, const std::string& key,
                                            const StorageWriter& writer) {
  SIM_CHECK(!key.empty());
  const sim::Instant now = scheduler_->Now();
  SIM_CHECK_MSG(entries_.empty() || entries_.back().at <= now, "history time went backwards");
  StorageHistoryEntry& entry = entries_.emplace_back();
  entry.sequence = entries_.size() - 1;
  entry.at = now;
  entry.operation = operation;
  entry.key = key;
  entry.writer = writer;
  by_key_[key].push_back(entry.sequence);
  return entry;
}

void StorageHistory::Publish(const StorageHistoryEntry& entry) {
  digest_.Add(static_cast<uint64_t>(entry.at.nanos()));
  digest_.Add(static_cast<uint64_t>(entry.operation));
  digest_.Add(entry.key);
  digest_.Add(static_cast<uint64_t>(entry.writer.process));
  digest_.Add(entry.writer.incarnation);
  digest_.Add(entry.writer.attachment.tenant_shard);
  digest_.Add(static_cast<uint64_t>(entry.writer.attachment.node_id));
  digest_.Add(entry.writer.attachment.generation);
  digest_.Add(entry.content_hash);
  digest_.Add(static_cast<uint64_t>(entry.size));
  digest_.Add(entry.existed ? 1 : 0);
  // Observers may hold on to nothing but the entry's contents: entries_ may reallocate later.
  for (const Observer& observer : observers_) observer(entry);
}

void StorageHistory::RecordPut(const std::string& key, uint64_t content_hash, int64_t size,
                               const StorageWriter& writer, bool overwrote, uint64_t call_id) {
  SIM_CHECK(size >= 0);
  SIM_CHECK_MSG(overwrote == live_.contains(key), "put: storage and history disagree on presence");
  StorageHistoryEntry& entry = Append(StorageOperation::kPut, key, writer);
  entry.content_hash = content_hash;
  entry.size = size;
  entry.existed = overwrote;
  entry.call_id = call_id;
  live_[key] = entry.sequence;
  ++puts_;
  Publish(entry);
}

void StorageHistory::RecordDelete(const std::string& key, const StorageWriter& deleter,
                                  bool existed, uint64_t removed_hash, int64_t removed_size,
                                  bool batch, uint64_t call_id) {
  auto live = live_.find(key);
  SIM_CHECK_MSG(existed == (live != live_.end()),
                "delete: storage and history disagree on presence");
  SIM_CHECK(!existed || entries_[live->second].content_hash == removed_hash);
  StorageHistoryEntry& entry = Append(StorageOperation::kDelete, key, deleter);
  entry.content_hash = removed_hash;
  entry.size = removed_size;
  entry.existed = existed;
  entry.batch = batch;
  entry.call_id = call_id;
  if (existed) live_.erase(live);
  ++deletes_;
  Publish(entry);
}

void StorageHistory::AddObserver(Observer observer) {
  SIM_CHECK(observer != nullptr);
  observers_.push_back(std::move(observer));
}

const StorageHistoryEntry& StorageHistory::entry(uint64_t sequence) const {
  SIM_CHECK_MSG(sequence < entries_.size(), "history: no such entry");
  return entries_[sequence];
}

std::map<std::string, ObjectVersion> StorageHistory::CurrentObjects() const {
  std::map<std::string, ObjectVersion> objects;
  for (const auto& [key, sequence] : live_) {
    const StorageHistoryEntry& put = entries_[sequence];
    SIM_CHECK(put.operation == StorageOperation::kPut && put.key == key);
    objects.emplace(key,
                    ObjectVersion{put.content_hash, put.size, put.writer, put.sequence, put.at});
  }
  return objects;
}

std::optional<ObjectVersion> StorageHistory::Current(std::string_view key) const {
  auto it = live_.find(key);
  if (it == live_.end()) return std::nullopt;
  const StorageHistoryEntry& put = entries_[it->second];
  return ObjectVersion{put.content_hash, put.size, put.writer, put.sequence, put.at};
}

std::vector<StorageWriter> StorageHistory::WritersOf(std::string_view key) const {
  std::vector<StorageWriter> writers;
  auto it = by_key_.find(key);
  if (it == by_key_.end()) return writers;
  for (uint64_t sequence : it->second) {
    const StorageHistoryEntry& entry = entries_[sequence];
    if (entry.operation != StorageOperation::kPut) continue;
    // Writers per key are few (S6 says one), so a linear scan keeps first-write order cheaply.
    if (std::find(writers.begin(), writers.end(), entry.writer) == writers.end()) {
      writers.push_back(entry.writer);
    }
  }
  return writers;
}

std::vector<const StorageHistoryEntry*> StorageHistory::EntriesOf(std::string_view key) const {
  std::vector<const StorageHistoryEntry*> result;
  auto it = by_key_.find(key);
  if (it == by_key_.end()) return result;
  result.reserve(it->second.size());
  for (uint64_t sequence : it->second) result.push_back(&entries_[sequence]);
  return result;
}

bool StorageHistory::ExistedAt(std::string_view key, sim::Instant at) const {
  auto it = by_key_.find(key);
  if (it == by_key_.end()) return false;
  // Entries of a key are in time order: the last one at or before `at` decides.
  const std::vector<uint64_t>& sequences = it->second;
  auto after = std::upper_bound(sequences.begin(), sequences.end(), at,
                                [this](sim::Instant t, uint64_t s) { return t < entries_[s].at; });
  if (after == sequences.begin()) return false;
  return entries_[*(after - 1)].operation == StorageOperation::kPut;
}

bool StorageHistory::ExistedAfter(std::string_view key, uint64_t sequence) const {
  SIM_CHECK(sequence < entries_.size());
  auto it = by_key_.find(key);
  if (it == by_key_.end()) return false;
  const std::vector<uint64_t>& sequences = it->second;
  auto after = std::upper_bound(sequences.begin(), sequences.end(), sequence);
  if (after == sequences.begin()) return false;
  return entries_[*(after - 1)].operation == StorageOperation::kPut;
}

}  // namespace storsim::remote_storage
