// A process's disk: named files of records that survive the process (the Disk is owned by the
// simulation, not by the process incarnation). Writes are visible at once to the writer, and
// durable only after Sync; a crash reverts every file to its last synced contents (LevelDB's
// fault-injection Env keeps the same rule in one place).
//
// Invariants:
//   1. For every file, `durable` is exactly what a crash at this instant would leave.
//   2. If a file was only appended to since its last sync, its durable contents are a prefix of
//      its current records (durable_records), and no copy is kept.
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
  // Appends a record to a file (created if absent).
  void Append(std::string_view file, std::string record);
  // Replaces a file's whole contents.
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
  static void SyncOne(File& file);

  std::map<std::string, File, std::less<>> files_;
  uint64_t syncs_ = 0;
  uint64_t bytes_written_ = 0;
};

}  // namespace storsim::sim
