// Trace events, the running hash and first-divergence search.
#include "sim/trace.h"

#include <algorithm>

#include "sim/check.h"

namespace storsim::sim {

bool TraceEvent::Has(std::string_view key) const {
  for (const auto& field : fields) {
    if (field.key == key) return true;
  }
  return false;
}

int64_t TraceEvent::Int(std::string_view key, int64_t fallback) const {
  for (const auto& field : fields) {
    if (field.key == key) {
      SIM_CHECK_MSG(!field.is_text, std::string(key));
      return field.number;
    }
  }
  return fallback;
}

std::string_view TraceEvent::Str(std::string_view key) const {
  for (const auto& field : fields) {
    if (field.key == key && field.is_text) return field.text;
  }
  return {};
}

std::string TraceEvent::ToString() const {
  std::string out = at.ToString();
  out += process >= 0 ? " p" + std::to_string(process) : std::string(" kernel");
  out += ' ';
  out += kind;
  for (const auto& field : fields) {
    out += ' ';
    out += field.key;
    out += '=';
    out += field.is_text ? field.text : std::to_string(field.number);
  }
  return out;
}

// Defined here, before its only caller, and inlined into it: a call per kind and key cost about a
// fifth of HashEvent.
__attribute__((always_inline)) inline uint64_t Trace::LiteralMix(std::string_view literal) {
  const auto address = reinterpret_cast<uintptr_t>(literal.data());
  LiteralEntry& entry = literal_hashes_[((address >> 3) ^ (address >> 11) ^ literal.size()) &
                                        (kLiteralEntries - 1)];
  // A null view (the table's initial state) is never taken from the table.
  if (entry.data != literal.data() || entry.size != literal.size() || entry.data == nullptr) {
    entry = LiteralEntry{literal.data(), literal.size(), RunningHash::WordMix(HashBytes(literal))};
  }
  return entry.mixed;
}

uint64_t Trace::HashEvent(Instant at, int32_t process, std::string_view kind,
                          std::span<const TraceField> fields) {
  // The running hash is folded in a local copy (kept in a register: a store through `this` to
  // the literal table could otherwise alias it) and written back once; same steps, same value.
  RunningHash hash = hash_;
  hash.Add(static_cast<uint64_t>(at.nanos()));
  hash.Add(static_cast<uint64_t>(static_cast<int64_t>(process)));
  hash.AddMixed(LiteralMix(kind));  // the same step as hash.Add(kind)
  for (const auto& field : fields) {
    hash.AddMixed(LiteralMix(field.key));
    if (field.is_text) {
      hash.Add(field.text);
    } else {
      hash.Add(static_cast<uint64_t>(field.number));
    }
  }
  hash_ = hash;
  return sequence_++;
}

void Trace::Notify(const TraceEvent& event) {
  for (TraceObserver* observer : observers_) observer->OnEvent(event);
}

void Trace::Emit(Instant at, int32_t process, std::string_view kind,
                 std::vector<TraceField> fields) {
  const uint64_t sequence = HashEvent(at, process, kind, fields);
  if (observers_.empty()) return;
  Notify(TraceEvent{sequence, at, kind, process, std::move(fields)});
}

void Trace::Emit(Instant at, int32_t process, std::string_view kind,
                 std::span<const TraceField> fields) {
  const uint64_t sequence = HashEvent(at, process, kind, fields);
  if (observers_.empty()) return;
  if (notifying_) {
    // Emitted from inside an observer: the scratch event is still being read.
    Notify(TraceEvent{sequence, at, kind, process, {fields.begin(), fields.end()}});
    return;
  }
  scratch_.sequence = sequence;
  scratch_.at = at;
  scratch_.kind = kind;
  scratch_.process = process;
  // Copy-assignment into the existing fields reuses the vector's and the strings' storage.
  scratch_.fields.assign(fields.begin(), fields.end());
  struct Reset {
    bool& flag;
    ~Reset() { flag = false; }  // also when an observer throws (a checker's SIM_CHECK)
  } reset{notifying_};
  notifying_ = true;
  Notify(scratch_);
}

void Trace::AddObserver(TraceObserver* observer) { observers_.push_back(observer); }

void Trace::RemoveObserver(TraceObserver* observer) {
  observers_.erase(std::remove(observers_.begin(), observers_.end(), observer), observers_.end());
}

std::optional<size_t> FirstDivergence(const std::vector<TraceEvent>& a,
                                      const std::vector<TraceEvent>& b) {
  const size_t common = std::min(a.size(), b.size());
  for (size_t i = 0; i < common; ++i) {
    if (a[i].ToString() != b[i].ToString()) return i;
  }
  if (a.size() != b.size()) return common;
  return std::nullopt;
}

}  // namespace storsim::sim
