// WAL record encoding and recovery (see wal.h). Encoding is a flat sequence of fixed-width
// integers and length-prefixed strings, written and read by overloaded Put/Get pairs so that each
// type's layout is stated once. Encoding is on every commit's path, so it makes no temporary:
// no copy of the operation, one exactly-sized string per record.
#include "model/postgres/wal.h"

#include <bit>
#include <cstdint>
#include <cstring>

#include "sim/check.h"

namespace storsim::postgres {
namespace {

using namespace storsim::persistence;

constexpr uint8_t kWalVersion = 1;
constexpr size_t kStringBytesMax = 1 << 20;  // a record field is never this large
constexpr size_t kVectorItemsMax = 1 << 16;

// Where a Writer's bytes go. SizeSink only counts them, so EncodeWalRecord can size the record's
// string exactly once; BufferSink stores them into that string, each write bounds-checked.
class SizeSink {
 public:
  void Word(uint64_t) { size_ += 8; }
  void Bytes(const char*, size_t size) { size_ += size; }
  size_t size() const { return size_; }

 private:
  size_t size_ = 0;
};

class BufferSink {
 public:
  BufferSink(char* begin, size_t size) : next_(begin), end_(begin + size) {}
  void Word(uint64_t value) {
    SIM_CHECK_MSG(end_ - next_ >= 8, "WAL record larger than its computed size");
    if constexpr (std::endian::native == std::endian::little) {
      std::memcpy(next_, &value, 8);
    } else {
      for (int i = 0; i < 8; ++i) next_[i] = static_cast<char>((value >> (8 * i)) & 0xff);
    }
    next_ += 8;
  }
  void Bytes(const char* data, size_t size) {
    SIM_CHECK_MSG(static_cast<size_t>(end_ - next_) >= size,
                  "WAL record larger than its computed size");
    if (size > 0) std::memcpy(next_, data, size);
    next_ += size;
  }
  bool full() const { return next_ == end_; }

 private:
  char* next_;
  char* end_;
};

// Each type's layout, stated once for both sinks: integers as 8 little-endian bytes, strings as
// their 8-byte length then their bytes.
template <typename Sink>
class Writer {
 public:
  explicit Writer(Sink& sink) : sink_(sink) {}

  void Put(uint64_t value) { sink_.Word(value); }
  void Put(const std::string& value) {
    SIM_CHECK(value.size() < kStringBytesMax);
    Put(static_cast<uint64_t>(value.size()));
    sink_.Bytes(value.data(), value.size());
  }
  void Put(const TenantShardId& id) {
    Put(id.tenant_id);
    Put(static_cast<uint64_t>(id.shard_number));
    Put(static_cast<uint64_t>(id.shard_count));
  }
  void Put(const Generation& generation) {
    Put(static_cast<uint64_t>(generation.is_none() ? 0 : 1));
    Put(static_cast<uint64_t>(generation.is_none() ? 0 : generation.value()));
  }
  void Put(const LeaderRow& row) {
    Put(row.address);
    Put(static_cast<uint64_t>(row.started_at));
  }
  void Put(const PlacementPolicy& policy) {
    Put(static_cast<uint64_t>(policy.kind));
    Put(static_cast<uint64_t>(policy.secondaries));
  }
  void Put(const NodeRow& row) {
    Put(static_cast<uint64_t>(row.node_id));
    Put(static_cast<uint64_t>(row.scheduling_policy));
    Put(row.listen_http_addr);
    Put(static_cast<uint64_t>(row.listen_http_port));
    Put(row.listen_pg_addr);
    Put(static_cast<uint64_t>(row.listen_pg_port));
    Put(row.availability_zone_id);
    Put(static_cast<uint64_t>(row.lifecycle));
  }
  void Put(const TenantShardRow& row) {
    Put(row.id);
    Put(static_cast<uint64_t>(row.shard_stripe_size));
    Put(row.generation);
    Put(row.generation_pageserver);
    Put(row.placement_policy);
    Put(static_cast<uint64_t>(row.splitting));
    Put(row.config);
    Put(row.scheduling_policy);
    Put(row.preferred_az_id);
  }
  template <typename T>
  void Put(const std::optional<T>& value) {
    Put(static_cast<uint64_t>(value.has_value()));
    if (value) Put(*value);
  }
  template <typename T>
  void Put(const std::vector<T>& values) {
    SIM_CHECK(values.size() < kVectorItemsMax);
    Put(static_cast<uint64_t>(values.size()));
    for (const T& value : values) Put(value);
  }

 private:
  Sink& sink_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}

  uint64_t U64() {
    SIM_CHECK_MSG(in_.size() >= 8, "truncated WAL record");
    uint64_t value = 0;
    for (int i = 0; i < 8; ++i) value |= static_cast<uint64_t>(static_cast<uint8_t>(in_[i])) << (8 * i);
    in_.remove_prefix(8);
    return value;
  }
  template <typename T>
  T Small(uint64_t limit) {
    const uint64_t value = U64();
    SIM_CHECK_MSG(value <= limit, "WAL field out of range");
    return static_cast<T>(value);
  }
  void Get(std::string& value) {
    const uint64_t size = U64();
    SIM_CHECK_MSG(size < kStringBytesMax && size <= in_.size(), "bad WAL string length");
    value.assign(in_.data(), size);
    in_.remove_prefix(size);
  }
  void Get(uint64_t& value) { value = U64(); }
  void Get(TenantShardId& id) {
    Get(id.tenant_id);
    id.shard_number = Small<uint8_t>(255);
    id.shard_count = Small<uint8_t>(255);
  }
  void Get(Generation& generation) {
    const bool valid = Small<bool>(1);
    const auto value = Small<uint32_t>(UINT32_MAX);
    generation = valid ? Generation(value) : Generation::None();
  }
  void Get(LeaderRow& row) {
    Get(row.address);
    row.started_at = static_cast<int64_t>(U64());
  }
  void Get(PlacementPolicy& policy) {
    policy.kind = Small<PlacementPolicy::Kind>(2);
    policy.secondaries = Small<uint32_t>(UINT32_MAX);
  }
  void Get(NodeRow& row) {
    row.node_id = U64();
    row.scheduling_policy = Small<NodeSchedulingPolicy>(kNodeSchedulingPolicyCount - 1);
    Get(row.listen_http_addr);
    row.listen_http_port = Small<uint16_t>(UINT16_MAX);
    Get(row.listen_pg_addr);
    row.listen_pg_port = Small<uint16_t>(UINT16_MAX);
    Get(row.availability_zone_id);
    row.lifecycle = Small<NodeLifecycle>(1);
  }
  void Get(TenantShardRow& row) {
    Get(row.id);
    row.shard_stripe_size = Small<uint32_t>(UINT32_MAX);
    Get(row.generation);
    Get(row.generation_pageserver);
    Get(row.placement_policy);
    row.splitting = Small<SplitState>(1);
    Get(row.config);
    Get(row.scheduling_policy);
    Get(row.preferred_az_id);
  }
  template <typename T>
  void Get(std::optional<T>& value) {
    if (Small<bool>(1)) {
      value.emplace();
      Get(*value);
    } else {
      value.reset();
    }
  }
  template <typename T>
  void Get(std::vector<T>& values) {
    const auto size = Small<size_t>(kVectorItemsMax);
    values.assign(size, T());
    for (T& value : values) Get(value);
  }
  bool done() const { return in_.empty(); }

 private:
  std::string_view in_;
};

template <typename Sink>
struct EncodeField {
  Writer<Sink>& writer;
  template <typename T>
  void operator()(const T& field) {
    if constexpr (std::is_enum_v<T> || std::is_integral_v<T>) {
      writer.Put(static_cast<uint64_t>(field));
    } else {
      writer.Put(field);
    }
  }
};

struct DecodeField {
  Reader& reader;
  template <typename T>
  void operator()(T& field) {
    if constexpr (std::is_enum_v<T> || std::is_integral_v<T>) {
      field = static_cast<T>(reader.U64());
    } else {
      reader.Get(field);
    }
  }
};

// Visits the fields of every mutating operation in a fixed order. `operation` is a const
// Operation when encoding (no copy is made) and a mutable one when decoding.
template <typename Codec, typename AnyOperation>
void VisitFields(Codec& codec, AnyOperation& operation) {
  std::visit(
      [&codec](auto& op) {
        using T = std::decay_t<decltype(op)>;
        if constexpr (std::is_same_v<T, UpdateLeaderOp>) {
          codec(op.prev), codec(op.next);
        } else if constexpr (std::is_same_v<T, IncrementGenerationOp>) {
          codec(op.shard), codec(op.node);
        } else if constexpr (std::is_same_v<T, ReAttachOp> || std::is_same_v<T, DeleteNodeOp>) {
          codec(op.node);
        } else if constexpr (std::is_same_v<T, UpdateTenantShardOp>) {
          codec(op.filter.tenant_id), codec(op.filter.shard);
          codec(op.update.placement_policy), codec(op.update.config);
          codec(op.update.generation), codec(op.update.scheduling_policy);
        } else if constexpr (std::is_same_v<T, DetachOp>) {
          codec(op.shard);
        } else if constexpr (std::is_same_v<T, UpdateNodeSchedulingPolicyOp>) {
          codec(op.node), codec(op.policy);
        } else if constexpr (std::is_same_v<T, InsertNodeOp>) {
          codec(op.node);
        } else if constexpr (std::is_same_v<T, InsertTenantShardsOp>) {
          codec(op.shards);
        } else if constexpr (std::is_same_v<T, DeleteTenantOp>) {
          codec(op.tenant_id);
        } else if constexpr (std::is_same_v<T, BeginShardSplitOp> ||
                             std::is_same_v<T, CompleteShardSplitOp>) {
          codec(op.tenant_id), codec(op.old_count), codec(op.new_count);
        } else if constexpr (std::is_same_v<T, AbortShardSplitOp>) {
          codec(op.tenant_id), codec(op.new_count);
        } else if constexpr (std::is_same_v<T, SetGenerationOp>) {
          codec(op.shard), codec(op.generation), codec(op.node);
        } else if constexpr (std::is_same_v<T, OverwriteLeaderOp>) {
          codec(op.next);
        } else {
          SIM_CHECK_MSG(false, "read-only operation in the WAL");
        }
      },
      operation);
}

// Default-constructs the variant alternative with the given index.
template <size_t I = 0>
Operation MakeAlternative(size_t index) {
  if constexpr (I < std::variant_size_v<Operation>) {
    if (index == I) return Operation(std::in_place_index<I>);
    return MakeAlternative<I + 1>(index);
  } else {
    SIM_CHECK_MSG(false, "bad WAL operation index");
    return Operation();
  }
}

// Writes the version byte, the variant index and the fields through `sink`.
template <typename Sink>
void EncodeInto(Sink& sink, const Operation& operation) {
  Writer<Sink> writer(sink);
  writer.Put(static_cast<uint64_t>(kWalVersion));
  writer.Put(static_cast<uint64_t>(operation.index()));
  EncodeField<Sink> encode{writer};
  VisitFields(encode, operation);
}

}  // namespace

std::string EncodeWalRecord(const Operation& operation) {
  return EncodeWalRecord(operation, std::string());
}

std::string EncodeWalRecord(const Operation& operation, std::string buffer) {
  SIM_CHECK_MSG(IsMutation(operation), "only mutations are logged");
  // Two passes over the fields: count the bytes, then write them into the buffer, sized once
  // (no allocation when its capacity suffices).
  SizeSink size;
  EncodeInto(size, operation);
  const size_t bytes = size.size();
  // When the buffer must grow anyway, its capacity is rounded up to 64 bytes: once recycled
  // (sim::Disk::TakeRecordBuffer) it then fits most later records, which differ by a few bytes.
  if (buffer.capacity() < bytes) buffer.reserve((bytes + 63) / 64 * 64);
  buffer.assign(bytes, '\0');
  BufferSink sink(buffer.data(), buffer.size());
  EncodeInto(sink, operation);
  SIM_CHECK_MSG(sink.full(), "WAL record smaller than its computed size");
  return buffer;
}

Operation DecodeWalRecord(std::string_view record) {
  Reader reader(record);
  SIM_CHECK_MSG(reader.U64() == kWalVersion, "unknown WAL record version");
  Operation operation = MakeAlternative(reader.Small<size_t>(std::variant_size_v<Operation> - 1));
  SIM_CHECK(IsMutation(operation));
  DecodeField decode{reader};
  VisitFields(decode, operation);
  SIM_CHECK_MSG(reader.done(), "trailing bytes in WAL record");
  return operation;
}

ControllerTables RecoverTables(const sim::Disk& disk, size_t* records) {
  ControllerTables tables;
  const std::vector<std::string>& wal = disk.Read(kWalFile);
  for (const std::string& record : wal) {
    const Operation operation = DecodeWalRecord(record);
    const OpResult result = tables.Apply(operation);
    SIM_CHECK_MSG(result.status.ok(), "WAL replay of " + OperationToString(operation) +
                                          " failed: " + result.status.ToString());
  }
  if (records != nullptr) *records = wal.size();
  return tables;
}

}  // namespace storsim::postgres
