// S11.
#include "scenarios/invariants/data_checkers.h"

namespace storsim::invariants {

void AcknowledgedWriteChecker::OnEvent(const sim::TraceEvent& event) {
  if (event.kind == "compute.write_acked") {
    ++writes_acked_;
    acked_[std::string(event.Str("tenant"))][event.Int("key")][event.Int("lsn")] =
        std::string(event.Str("value"));
    return;
  }
  if (event.kind != "compute.read" || event.Str("outcome") != "ok") return;
  ++reads_checked_;
  const std::string tenant(event.Str("tenant"));
  const int64_t key = event.Int("key");
  const int64_t request_lsn = event.Int("request_lsn");
  const auto& writes = acked_[tenant][key];
  // The newest acknowledged write of the key at or below the request LSN must be visible.
  auto newest = writes.upper_bound(request_lsn);
  const int64_t required_lsn = newest == writes.begin() ? 0 : std::prev(newest)->first;
  const bool found = event.Int("found") != 0;
  const int64_t value_lsn = found ? event.Int("value_lsn") : 0;
  const std::string where = " (tenant " + tenant + ", key " + std::to_string(key) +
                            ", read at " + std::to_string(request_lsn) + " from node " +
                            std::to_string(event.Int("node_id")) + ")";
  if (required_lsn > 0 && value_lsn < required_lsn) {
    Report("S11", event.at,
           "a read returned " +
               (found ? "the write at " + std::to_string(value_lsn) : std::string("nothing")) +
               " although the write at " + std::to_string(required_lsn) + " was acknowledged" +
               where);
    return;
  }
  if (found) {
    auto written = writes.find(value_lsn);
    if (written != writes.end() && written->second != event.Str("value")) {
      Report("S11", event.at, "a read returned '" + std::string(event.Str("value")) + "' at " +
                                  std::to_string(value_lsn) + " but '" + written->second +
                                  "' was written there" + where);
    }
  }
}

}  // namespace storsim::invariants
