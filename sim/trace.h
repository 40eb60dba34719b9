// Typed trace events. An event is a kind (a string literal with static storage, e.g.
// "ps.location_config") plus named fields holding integers or strings; events are never parsed
// back from text. Every event is folded into a running 64-bit hash (our own hash function), which
// is the run's determinism fingerprint: the same seed must give the same hash on every build.
//
// Checkers observe events as they are emitted (TraceObserver) and read fields by name; sinks
// record or write them (memory, NDJSON, Chrome/Perfetto trace-event JSON).
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sim/hash.h"
#include "sim/time.h"

namespace storsim::sim {

struct TraceField {
  std::string_view key;  // a literal with static storage
  int64_t number = 0;
  std::string text;
  bool is_text = false;

  static TraceField Int(std::string_view key, int64_t value) { return {key, value, {}, false}; }
  static TraceField Str(std::string_view key, std::string value) {
    return {key, 0, std::move(value), true};
  }
};

struct TraceEvent {
  uint64_t sequence = 0;      // position in the run, from 0
  Instant at;                 // true simulated time
  std::string_view kind;      // a literal with static storage
  int32_t process = -1;       // emitting process id, -1 for the kernel and the harness
  std::vector<TraceField> fields;

  bool Has(std::string_view key) const;
  // The integer field `key`; `fallback` when absent. Precondition for Int: field is an integer.
  int64_t Int(std::string_view key, int64_t fallback = 0) const;
  std::string_view Str(std::string_view key) const;  // "" when absent
  // "12.000000000s p3 ps.attach shard=1 gen=4": for humans (diffs, first-divergence reports).
  std::string ToString() const;
};

class TraceObserver {
 public:
  virtual ~TraceObserver() = default;
  virtual void OnEvent(const TraceEvent& event) = 0;
};

class Trace {
 public:
  Trace() = default;
  Trace(const Trace&) = delete;
  Trace& operator=(const Trace&) = delete;

  // Records an event at `at` from `process` with the given fields. Three forms, one event and
  // one hash: a braced list (`{TraceField::Int(...), ...}`: the initializer_list form is chosen)
  // and a span (a caller's std::array, for a variable number of fields) allocate nothing here
  // when no observer is attached, and reuse one event's storage when observers are; a vector is
  // moved into the event. The event an observer sees lives only during its OnEvent call.
  void Emit(Instant at, int32_t process, std::string_view kind, std::vector<TraceField> fields);
  void Emit(Instant at, int32_t process, std::string_view kind,
            std::initializer_list<TraceField> fields) {
    Emit(at, process, kind, std::span<const TraceField>(fields.begin(), fields.size()));
  }
  void Emit(Instant at, int32_t process, std::string_view kind,
            std::span<const TraceField> fields);

  uint64_t hash() const { return hash_.value(); }
  uint64_t events() const { return sequence_; }

  // Observers are called in the order they were added, synchronously, for every event.
  // The Trace does not own them.
  void AddObserver(TraceObserver* observer);
  void RemoveObserver(TraceObserver* observer);

 private:
  // RunningHash::WordMix(HashBytes(literal)) of a kind or key, ready for RunningHash::AddMixed
  // (together the same step as Add(literal)). They are literals with static storage (TraceEvent
  // keeps only a view of them), so equal address and length mean equal bytes: the value of each
  // literal is computed once and remembered in a small direct-mapped table, which changes no
  // hash value.
  uint64_t LiteralMix(std::string_view literal);
  // Folds one event into the running hash and returns its sequence number.
  uint64_t HashEvent(Instant at, int32_t process, std::string_view kind,
                     std::span<const TraceField> fields);
  void Notify(const TraceEvent& event);
  struct LiteralEntry {
    const char* data = nullptr;
    size_t size = 0;
    uint64_t mixed = 0;  // RunningHash::WordMix(HashBytes(literal))
  };
  static constexpr size_t kLiteralEntries = 256;  // a power of two

  RunningHash hash_;
  uint64_t sequence_ = 0;
  std::vector<TraceObserver*> observers_;
  // The event handed to observers by the list and span forms: its field vector and strings keep
  // their capacity from one event to the next. `notifying_` is set while observers run with it
  // (an observer that emits gets an event of its own).
  TraceEvent scratch_;
  bool notifying_ = false;
  std::array<LiteralEntry, kLiteralEntries> literal_hashes_{};
};

// Keeps every event in memory (for tests, first-divergence reports and report writers).
class MemoryTraceSink : public TraceObserver {
 public:
  void OnEvent(const TraceEvent& event) override { events_.push_back(event); }
  const std::vector<TraceEvent>& events() const { return events_; }

 private:
  std::vector<TraceEvent> events_;
};

// Index of the first event where two event lists differ, or nullopt if one is a prefix of the
// other and they have the same length.
std::optional<size_t> FirstDivergence(const std::vector<TraceEvent>& a,
                                      const std::vector<TraceEvent>& b);

}  // namespace storsim::sim
