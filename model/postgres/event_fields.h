// EventFields: a trace event's field list kept from one event to the next, so that emitting an
// event on a hot path (the fake Postgres's db.commit, once per transaction) allocates nothing.
// sim::TraceField holds its text in a std::string; building fresh fields allocates for every text
// longer than the small-string buffer ("increment_generation", a 32-hex-digit tenant id), and a
// std::vector of them allocates once more. Here the fields live in a fixed array and a text field
// is assigned into the string it already has, which keeps its capacity.
//
// The fields passed to sim::Env::Emit are exactly what TraceField::Int / TraceField::Str would
// build (an integer field has empty text, a text field has number 0), so the event, its hash and
// what observers see are the same as with a braced list of fresh fields.
//
// Invariants:
//   1. size_ <= N: adding a field past N fails a SIM_CHECK (the caller's bound is wrong).
//   2. fields_[0, size_) are the current event's fields, in the order they were added.
// Not reentrant: fill, emit, then refill (the span is valid until the next Clear or add).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "model/persistence/types.h"
#include "sim/check.h"
#include "sim/trace.h"

namespace storsim::postgres {

template <size_t N>
class EventFields {
 public:
  // Starts a new event (keeps every string's storage).
  void Clear() { size_ = 0; }

  // `key` must be a string literal (static storage), as for sim::TraceField.
  void Int(std::string_view key, int64_t value) {
    sim::TraceField& field = Next(key);
    field.number = value;
    field.text.clear();
    field.is_text = false;
  }
  void Str(std::string_view key, std::string_view value) {
    sim::TraceField& field = Next(key);
    field.number = 0;
    field.text.clear();  // then append: keeps the capacity, and is lighter than assign
    field.text.append(value.data(), value.size());
    field.is_text = true;
  }
  // The text of shard.ToString() (the tenant id, then "-NNCC" in hex when sharded), written into
  // the field's own string.
  void Shard(std::string_view key, const persistence::TenantShardId& shard) {
    Str(key, shard.tenant_id);
    if (shard.shard_count == 0) return;
    constexpr char kHex[] = "0123456789abcdef";
    const char suffix[5] = {'-', kHex[shard.shard_number >> 4], kHex[shard.shard_number & 0xf],
                            kHex[shard.shard_count >> 4], kHex[shard.shard_count & 0xf]};
    fields_[size_ - 1].text.append(suffix, sizeof(suffix));
  }

  size_t size() const { return size_; }
  std::span<const sim::TraceField> span() const { return {fields_.data(), size_}; }

 private:
  sim::TraceField& Next(std::string_view key) {
    SIM_CHECK_MSG(size_ < N, "more event fields than the event's bound");
    sim::TraceField& field = fields_[size_++];
    field.key = key;
    return field;
  }

  std::array<sim::TraceField, N> fields_{};
  size_t size_ = 0;
};

}  // namespace storsim::postgres
