// A process's disk: named files of records that survive the process (the Disk is owned by the
// simulation, not by the process incarnation). Writes are visible at once to the writer, and
// durable only after Sync; a crash reverts every file to its last synced contents (LevelDB's
// fault-injection Env keeps the same rule in one place).
//
// Invariants:
//   1. For every file, `durable` is exactly what a crash at this instant would leave.
//   2. If a file was only appended to since its last sync, its durable contents are a prefix of
//      its current records (durable_records), and no copy is kept.
//   3. last_name_ / last_file_ are null, or the key and the value of one entry of files_ (map
//      nodes never move; the cache is dropped whenever an entry is erased).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace storsim::sim {

class Disk {
 public:
  Disk() = default;
  // Copies and moves carry the files; the lookup cache (invariant 3) is rebuilt, never shared.
  Disk(const Disk& other);
  Disk& operator=(const Disk& other);
  Disk(Disk&& other) noexcept;
  Disk& operator=(Disk&& other) noexcept;
  ~Disk() = default;

  // Appends a record to a file (created if absent).
  void Append(std::string_view file, std::string record);
  // An empty string for the caller to build its next record in: it keeps the capacity of a
  // record this disk no longer holds (dropped by a synced Replace, Remove or re-create), so a log
  // that checkpoints (rewrites itself) builds its next records without a heap allocation each.
  // A new empty string when none is kept. Contents and durability are unaffected.
  std::string TakeRecordBuffer();
  // Replaces a file's whole contents. `records` is taken by value: pass it with std::move and no
  // record is copied (the old records are moved aside, kept only until the next sync or crash).
  void Replace(std::string_view file, std::vector<std::string> records);
  void Remove(std::string_view file);

  // Current contents (what the running process sees). Empty if absent.
  const std::vector<std::string>& Read(std::string_view file) const;
  bool Exists(std::string_view file) const;
  // Files whose name starts with prefix, in name order.
  std::vector<std::string> List(std::string_view prefix) const;

  // Makes every write so far durable. SyncFile does it for one file.
  void Sync();
  void SyncFile(std::string_view file);

  // Drops every unsynced write. Called by the simulation when the owning process crashes.
  void DropUnsynced();

  uint64_t syncs() const { return syncs_; }
  uint64_t bytes_written() const { return bytes_written_; }

 private:
  struct File {
    std::vector<std::string> records;       // current contents
    bool exists = true;                     // false once removed (kept until synced)
    size_t durable_records = 0;             // durable prefix when append-only since sync
    bool durable_exists = false;
    std::optional<std::vector<std::string>> durable_copy;  // set when not append-only
  };
  File& Touch(std::string_view file);
  // The file named `name`, or null. Both remember the entry they found: a log's appends and syncs
  // name one file over and over, and one comparison with the last name is cheaper than a walk of
  // files_.
  File* FindFile(std::string_view name);
  void Remember(const std::string& name, File& file) {
    last_name_ = &name;
    last_file_ = &file;
  }
  void Forget() {
    last_name_ = nullptr;
    last_file_ = nullptr;
  }
  // Before a write that is not an append (Replace, Remove, re-create): keeps what a crash would
  // leave in durable_copy, unless an earlier overwrite since the last sync already did. Moves the
  // durable prefix out of `records` (the caller overwrites them next), so no record is copied.
  static void KeepDurableBeforeOverwrite(File& file);
  void SyncOne(File& file);
  // Keeps the strings of `records` (emptied) for TakeRecordBuffer, up to kSpareRecordsMax.
  void KeepSpare(std::vector<std::string>& records);
  static constexpr size_t kSpareRecordsMax = 8192;

  std::map<std::string, File, std::less<>> files_;
  const std::string* last_name_ = nullptr;  // invariant 3
  File* last_file_ = nullptr;
  uint64_t syncs_ = 0;
  uint64_t bytes_written_ = 0;
  // Empty strings with capacity, for TakeRecordBuffer (never content: not copied or moved with
  // the disk).
  std::vector<std::string> spare_records_;
};

}  // namespace storsim::sim
