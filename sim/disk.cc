// Disk with append-prefix durability tracking.
#include "sim/disk.h"

namespace storsim::sim {
namespace {
const std::vector<std::string>& EmptyRecords() {
  static const std::vector<std::string> empty;
  return empty;
}
}  // namespace

Disk::File& Disk::Touch(std::string_view name) {
  auto it = files_.find(name);
  if (it == files_.end()) {
    it = files_.emplace(std::string(name), File{}).first;
    it->second.durable_exists = false;
    it->second.durable_records = 0;
  }
  return it->second;
}

void Disk::Append(std::string_view name, std::string record) {
  File& file = Touch(name);
  if (!file.exists) {
    // Re-created after a remove: no longer a pure append of the durable contents.
    if (!file.durable_copy) {
      file.durable_copy.emplace(file.records.begin(),
                                file.records.begin() + static_cast<long>(file.durable_records));
    }
    file.records.clear();
    file.exists = true;
  }
  bytes_written_ += record.size();
  file.records.push_back(std::move(record));
}

void Disk::Replace(std::string_view name, std::vector<std::string> records) {
  File& file = Touch(name);
  if (!file.durable_copy) {
    file.durable_copy.emplace(file.records.begin(),
                              file.records.begin() + static_cast<long>(file.durable_records));
  }
  for (const auto& record : records) bytes_written_ += record.size();
  file.records = std::move(records);
  file.exists = true;
}

void Disk::Remove(std::string_view name) {
  auto it = files_.find(name);
  if (it == files_.end() || !it->second.exists) return;
  File& file = it->second;
  if (!file.durable_copy) {
    file.durable_copy.emplace(file.records.begin(),
                              file.records.begin() + static_cast<long>(file.durable_records));
  }
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

void Disk::SyncOne(File& file) {
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
  auto it = files_.find(name);
  if (it != files_.end()) SyncOne(it->second);
}

void Disk::DropUnsynced() {
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
