// Disk with append-prefix durability tracking.
#include "sim/disk.h"

#include <utility>

#include "sim/check.h"

namespace storsim::sim {
namespace {
const std::vector<std::string>& EmptyRecords() {
  static const std::vector<std::string> empty;
  return empty;
}
}  // namespace

Disk::Disk(const Disk& other) : files_(other.files_), syncs_(other.syncs_),
                                 bytes_written_(other.bytes_written_) {}

Disk& Disk::operator=(const Disk& other) {
  if (this == &other) return *this;
  Forget();
  files_ = other.files_;
  syncs_ = other.syncs_;
  bytes_written_ = other.bytes_written_;
  return *this;
}

// A moved std::map keeps its nodes, so the cache could follow them; it is simply dropped on both
// sides instead (the next lookup refills it).
Disk::Disk(Disk&& other) noexcept
    : files_(std::move(other.files_)), syncs_(other.syncs_), bytes_written_(other.bytes_written_) {
  other.Forget();
  other.files_.clear();
}

Disk& Disk::operator=(Disk&& other) noexcept {
  if (this == &other) return *this;
  Forget();
  other.Forget();
  files_ = std::move(other.files_);
  other.files_.clear();
  syncs_ = other.syncs_;
  bytes_written_ = other.bytes_written_;
  return *this;
}

Disk::File* Disk::FindFile(std::string_view name) {
  if (last_file_ != nullptr && *last_name_ == name) return last_file_;
  auto it = files_.find(name);
  if (it == files_.end()) return nullptr;
  Remember(it->first, it->second);
  return &it->second;
}

Disk::File& Disk::Touch(std::string_view name) {
  if (File* file = FindFile(name)) return *file;
  auto it = files_.emplace(std::string(name), File{}).first;
  it->second.durable_exists = false;
  it->second.durable_records = 0;
  Remember(it->first, it->second);
  return it->second;
}

void Disk::Append(std::string_view name, std::string record) {
  File& file = Touch(name);
  if (!file.exists) {
    // Re-created after a remove: no longer a pure append of the durable contents.
    KeepDurableBeforeOverwrite(file);
    file.records.clear();
    file.exists = true;
  }
  bytes_written_ += record.size();
  file.records.push_back(std::move(record));
}

void Disk::KeepDurableBeforeOverwrite(File& file) {
  if (file.durable_copy) return;  // already kept by an earlier overwrite since the last sync
  // Append-only since the last sync: the durable contents are the first durable_records records
  // (invariant 2). The current records are about to be dropped, so that prefix is moved into the
  // copy instead of copied (a WAL checkpoint overwrites thousands of records).
  SIM_CHECK(file.durable_records <= file.records.size());
  file.records.resize(file.durable_records);
  file.durable_copy.emplace(std::move(file.records));
  file.records.clear();  // a moved-from vector is valid but unspecified: make it empty
}

void Disk::Replace(std::string_view name, std::vector<std::string> records) {
  File& file = Touch(name);
  KeepDurableBeforeOverwrite(file);
  for (const auto& record : records) bytes_written_ += record.size();
  file.records = std::move(records);
  file.exists = true;
}

void Disk::Remove(std::string_view name) {
  File* found = FindFile(name);
  if (found == nullptr || !found->exists) return;
  File& file = *found;
  KeepDurableBeforeOverwrite(file);
  file.records.clear();
  file.exists = false;
}

const std::vector<std::string>& Disk::Read(std::string_view name) const {
  auto it = files_.find(name);
  if (it == files_.end() || !it->second.exists) return EmptyRecords();
  return it->second.records;
}

bool Disk::Exists(std::string_view name) const {
  auto it = files_.find(name);
  return it != files_.end() && it->second.exists;
}

std::vector<std::string> Disk::List(std::string_view prefix) const {
  std::vector<std::string> names;
  for (auto it = files_.lower_bound(prefix); it != files_.end(); ++it) {
    if (it->first.compare(0, prefix.size(), prefix) != 0) break;
    if (it->second.exists) names.push_back(it->first);
  }
  return names;
}

std::string Disk::TakeRecordBuffer() {
  if (spare_records_.empty()) return {};
  std::string buffer = std::move(spare_records_.back());
  spare_records_.pop_back();
  SIM_CHECK(buffer.empty());
  return buffer;
}

void Disk::KeepSpare(std::vector<std::string>& records) {
  for (std::string& record : records) {
    if (spare_records_.size() >= kSpareRecordsMax) break;
    record.clear();
    spare_records_.push_back(std::move(record));
  }
}

void Disk::SyncOne(File& file) {
  // The durable copy (what a crash would have restored) is no longer needed: its strings become
  // spare record buffers.
  if (file.durable_copy) KeepSpare(*file.durable_copy);
  file.durable_copy.reset();
  file.durable_exists = file.exists;
  file.durable_records = file.exists ? file.records.size() : 0;
}

void Disk::Sync() {
  ++syncs_;
  for (auto& [name, file] : files_) SyncOne(file);
}

void Disk::SyncFile(std::string_view name) {
  ++syncs_;
  if (File* file = FindFile(name)) SyncOne(*file);
}

void Disk::DropUnsynced() {
  Forget();  // entries may be erased below (invariant 3)
  for (auto it = files_.begin(); it != files_.end();) {
    File& file = it->second;
    if (file.durable_copy) {
      file.records = std::move(*file.durable_copy);
      file.durable_copy.reset();
    } else {
      file.records.resize(file.durable_records);
    }
    file.exists = file.durable_exists;
    file.durable_records = file.records.size();
    if (!file.exists) {
      it = files_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace storsim::sim
