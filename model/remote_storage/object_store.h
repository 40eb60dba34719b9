// ObjectStore: the durable key → bytes map behind the fake S3, kept in memory and journalled to
// one log file on the serving process's sim Disk. It is the only place that knows the log format
// and the durability rule, so the server's request handling stays free of both.
//
// Durability rule: every mutation appends its record(s), syncs the log file, and only then
// changes the in-memory map — all without yielding. A crash therefore either precedes a mutation
// (nothing of it survives, nothing saw it) or follows it (it is durable and recovery replays it):
// a mutation is atomic as an S3 PUT or DELETE is. Recover() rebuilds exactly the synced state.
//
// Invariants:
//   1. Replaying the log file from the start yields exactly `objects_`.
//   2. `log_records_` equals the number of records in the log file.
//   3. The log is compacted (rewritten as one put per live object, then synced) when it holds
//      more than compact_records_min records and more than twice as many records as objects, so
//      its size stays within a constant factor of the live data.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "sim/disk.h"

namespace storsim::remote_storage {

struct StoredObject {
  std::string bytes;
  uint64_t content_hash = 0;  // sim::HashBytes(bytes)
  int64_t last_modified_wall_nanos = 0;
};

struct ObjectStoreOptions {
  std::string log_file = "remote_storage/objects.log";
  size_t compact_records_min = 1024;
};

// One page of a listing: keys under a prefix strictly after a start key, in byte order.
struct ObjectPage {
  std::vector<std::string> keys;
  bool truncated = false;  // more keys under the prefix follow the last one returned
};

class ObjectStore {
 public:
  ObjectStore(sim::Disk& disk, ObjectStoreOptions options);
  ObjectStore(const ObjectStore&) = delete;
  ObjectStore& operator=(const ObjectStore&) = delete;

  // Rebuilds the map from the log file. Call once, before serving. A malformed record is a bug
  // of this class (the disk never corrupts), so it fails a SIM_CHECK.
  void Recover();

  // The object at `key`, or nullptr. The pointer is valid until the next mutation.
  const StoredObject* Find(std::string_view key) const;

  // Stores (or overwrites) `key`, durably. Returns the content hash. Precondition: valid key.
  uint64_t Put(const std::string& key, std::string bytes, int64_t wall_nanos);

  // Deletes each key, durably, with one sync for the whole batch. Returns, per key in order,
  // whether an object was removed (deleting an absent key is a no-op, as in S3). A key listed
  // twice is removed by its first occurrence only.
  std::vector<bool> Delete(const std::vector<std::string>& keys);

  // Up to `max_keys` keys starting with `prefix` and strictly greater than `start_after`.
  // Precondition: max_keys > 0.
  ObjectPage List(std::string_view prefix, std::string_view start_after, size_t max_keys) const;

  const std::map<std::string, StoredObject, std::less<>>& objects() const { return objects_; }
  size_t log_records() const { return log_records_; }
  uint64_t compactions() const { return compactions_; }
  uint64_t bytes_stored() const { return bytes_stored_; }

 private:
  void Apply(const std::string& record);
  void MaybeCompact();

  sim::Disk& disk_;
  ObjectStoreOptions options_;
  std::map<std::string, StoredObject, std::less<>> objects_;
  size_t log_records_ = 0;
  uint64_t compactions_ = 0;
  uint64_t bytes_stored_ = 0;
};

}  // namespace storsim::remote_storage
