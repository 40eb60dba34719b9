// ObjectStore: log records, replay, compaction and listing.
//
// Log record format (binary safe, one Disk record per mutation):
//   put:    'P' field(key) field(bytes) field(decimal wall nanos)
//   delete: 'D' field(key)
// where field(x) = decimal length of x, ':', x.
#include "model/remote_storage/object_store.h"

#include <charconv>

#include "sim/check.h"
#include "sim/hash.h"

namespace storsim::remote_storage {
namespace {

constexpr char kPutTag = 'P';
constexpr char kDeleteTag = 'D';

void AppendField(std::string& out, std::string_view value) {
  out += std::to_string(value.size());
  out.push_back(':');
  out.append(value);
}

// Reads one field at `position`, advancing it. Fails a check on a malformed record.
std::string_view ReadField(std::string_view record, size_t& position) {
  const size_t colon = record.find(':', position);
  SIM_CHECK_MSG(colon != std::string_view::npos, "object log: field without a length");
  size_t length = 0;
  const char* first = record.data() + position;
  const char* last = record.data() + colon;
  auto [end, error] = std::from_chars(first, last, length);
  SIM_CHECK_MSG(error == std::errc() && end == last, "object log: malformed field length");
  SIM_CHECK_MSG(colon + 1 + length <= record.size(), "object log: field runs past the record");
  position = colon + 1 + length;
  return record.substr(colon + 1, length);
}

std::string EncodePut(std::string_view key, std::string_view bytes, int64_t wall_nanos) {
  std::string record;
  record.reserve(key.size() + bytes.size() + 48);
  record.push_back(kPutTag);
  AppendField(record, key);
  AppendField(record, bytes);
  AppendField(record, std::to_string(wall_nanos));
  return record;
}

std::string EncodeDelete(std::string_view key) {
  std::string record;
  record.push_back(kDeleteTag);
  AppendField(record, key);
  return record;
}

}  // namespace

ObjectStore::ObjectStore(sim::Disk& disk, ObjectStoreOptions options)
    : disk_(disk), options_(std::move(options)) {
  SIM_CHECK(!options_.log_file.empty());
  SIM_CHECK(options_.compact_records_min > 0);
}

void ObjectStore::Recover() {
  SIM_CHECK_MSG(objects_.empty() && log_records_ == 0, "Recover runs once, on a fresh store");
  const std::vector<std::string>& records = disk_.Read(options_.log_file);
  for (const std::string& record : records) Apply(record);
  log_records_ = records.size();
}

void ObjectStore::Apply(const std::string& record) {
  SIM_CHECK_MSG(!record.empty(), "object log: empty record");
  size_t position = 1;
  const std::string_view key = ReadField(record, position);
  SIM_CHECK_MSG(!key.empty(), "object log: empty key");
  if (record[0] == kPutTag) {
    const std::string_view bytes = ReadField(record, position);
    const std::string_view wall = ReadField(record, position);
    int64_t wall_nanos = 0;
    auto [end, error] = std::from_chars(wall.data(), wall.data() + wall.size(), wall_nanos);
    SIM_CHECK_MSG(error == std::errc() && end == wall.data() + wall.size(),
                  "object log: malformed time");
    auto [it, inserted] = objects_.try_emplace(std::string(key));
    if (!inserted) bytes_stored_ -= it->second.bytes.size();
    it->second.bytes.assign(bytes);
    it->second.content_hash = sim::HashBytes(bytes);
    it->second.last_modified_wall_nanos = wall_nanos;
    bytes_stored_ += bytes.size();
  } else {
    SIM_CHECK_MSG(record[0] == kDeleteTag, "object log: unknown record tag");
    auto it = objects_.find(key);
    if (it != objects_.end()) {
      bytes_stored_ -= it->second.bytes.size();
      objects_.erase(it);
    }
  }
  SIM_CHECK_MSG(position == record.size(), "object log: trailing bytes in a record");
}

const StoredObject* ObjectStore::Find(std::string_view key) const {
  auto it = objects_.find(key);
  return it == objects_.end() ? nullptr : &it->second;
}

uint64_t ObjectStore::Put(const std::string& key, std::string bytes, int64_t wall_nanos) {
  SIM_CHECK(!key.empty());
  std::string record = EncodePut(key, bytes, wall_nanos);
  disk_.Append(options_.log_file, record);
  disk_.SyncFile(options_.log_file);
  ++log_records_;
  Apply(record);
  const StoredObject* stored = Find(key);
  SIM_CHECK(stored != nullptr && stored->bytes.size() == bytes.size());
  MaybeCompact();
  return sim::HashBytes(bytes);
}

std::vector<bool> ObjectStore::Delete(const std::vector<std::string>& keys) {
  std::vector<bool> removed;
  removed.reserve(keys.size());
  std::vector<std::string> records;
  // Decide first, against the map as it stands, so that a key listed twice is removed once.
  std::map<std::string_view, bool> seen;
  for (const std::string& key : keys) {
    SIM_CHECK(!key.empty());
    const bool first = seen.emplace(key, true).second;
    const bool present = first && objects_.find(key) != objects_.end();
    removed.push_back(present);
    if (present) records.push_back(EncodeDelete(key));
  }
  if (records.empty()) return removed;  // nothing changes: no record, no sync
  for (const std::string& record : records) disk_.Append(options_.log_file, record);
  disk_.SyncFile(options_.log_file);
  log_records_ += records.size();
  for (const std::string& record : records) Apply(record);
  MaybeCompact();
  return removed;
}

ObjectPage ObjectStore::List(std::string_view prefix, std::string_view start_after,
                             size_t max_keys) const {
  SIM_CHECK(max_keys > 0);
  ObjectPage page;
  auto it = start_after < prefix ? objects_.lower_bound(prefix) : objects_.upper_bound(start_after);
  for (; it != objects_.end(); ++it) {
    if (it->first.compare(0, prefix.size(), prefix) != 0) break;  // past the prefix range
    if (page.keys.size() == max_keys) {
      page.truncated = true;
      break;
    }
    page.keys.push_back(it->first);
  }
  SIM_CHECK(page.keys.size() <= max_keys);
  return page;
}

void ObjectStore::MaybeCompact() {
  if (log_records_ <= options_.compact_records_min) return;
  if (log_records_ <= 2 * objects_.size()) return;
  std::vector<std::string> snapshot;
  snapshot.reserve(objects_.size());
  for (const auto& [key, object] : objects_) {
    snapshot.push_back(EncodePut(key, object.bytes, object.last_modified_wall_nanos));
  }
  log_records_ = snapshot.size();
  disk_.Replace(options_.log_file, std::move(snapshot));
  disk_.SyncFile(options_.log_file);
  ++compactions_;
  SIM_CHECK(disk_.Read(options_.log_file).size() == log_records_);
}

}  // namespace storsim::remote_storage
