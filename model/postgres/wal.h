// The fake Postgres's write-ahead log: one Disk record per committed mutating transaction, holding
// the Operation that committed. Replaying the records in order through ControllerTables::Apply
// rebuilds exactly the committed state, because ControllerTables is deterministic and each logged
// operation succeeded on the same prior state when it was first applied.
//
// Record format: a version byte, then the operation's variant index and its fields, each integer
// as 8 little-endian bytes and each string as its 8-byte length then its bytes. A record that does
// not decode is a bug (the simulated disk never tears a record), so decoding SIM_CHECKs.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "model/persistence/controller_tables.h"
#include "model/persistence/operation.h"
#include "sim/disk.h"

namespace storsim::postgres {

inline constexpr std::string_view kWalFile = "postgres/wal";

// Precondition: persistence::IsMutation(operation). The second form writes the record into
// `buffer` (its contents are replaced), reusing its capacity: pass sim::Disk::TakeRecordBuffer()
// and a record costs no allocation when that capacity suffices. Both give the same bytes.
std::string EncodeWalRecord(const persistence::Operation& operation);
std::string EncodeWalRecord(const persistence::Operation& operation, std::string buffer);
persistence::Operation DecodeWalRecord(std::string_view record);

// Replays every record of the WAL on `disk` into fresh tables. Every record must apply without
// error (SIM_CHECK). `records` (optional) receives the number of records replayed.
persistence::ControllerTables RecoverTables(const sim::Disk& disk, size_t* records = nullptr);

}  // namespace storsim::postgres
