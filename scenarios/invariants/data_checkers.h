// Data invariants (SPEC.md §10 S11).
//
// S11  AcknowledgedWriteChecker: for every COMMIT acknowledged at LSN L, a read of that key at a
//      request LSN >= L returns the write at L or a later one, and the value returned for an
//      acknowledged LSN is the value written there. The checker keeps its own record of every
//      acknowledged write per tenant, so it does not trust the compute's memory (a restarted
//      compute forgets its writes; the checker does not).
#pragma once

#include "scenarios/invariants/checker.h"

namespace storsim::invariants {

class AcknowledgedWriteChecker : public Checker {
 public:
  explicit AcknowledgedWriteChecker(ViolationSink sink) : Checker("S11", std::move(sink)) {}
  void OnEvent(const sim::TraceEvent& event) override;
  std::map<std::string, int64_t> Metrics() const override {
    return {{"writes_acked", writes_acked_}, {"reads_checked", reads_checked_}};
  }

 private:
  // tenant -> key -> lsn -> value of acknowledged writes.
  std::map<std::string, std::map<int64_t, std::map<int64_t, std::string>>> acked_;
  int64_t writes_acked_ = 0;
  int64_t reads_checked_ = 0;
};

}  // namespace storsim::invariants
