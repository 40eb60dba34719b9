// A process's clocks, as functions of true simulated time (TigerBeetle's split of monotonic from
// wall time). Skew bends this process's sleeps, timeouts and leases, never the scheduler.
//
//   monotonic(t) = anchor_local + (t - anchor_true) * (1e9 + drift_ppb) / 1e9
//   wall(t)      = monotonic(t) + wall_offset
//
// drift_ppb is the rate error in parts per billion (+1'000'000 = 0.1% fast). A rate change
// re-anchors at the current instant, so monotonic time never jumps or runs backwards. A wall step
// (an NTP correction) moves only the wall clock, and may move it backwards.
#pragma once

#include <cstdint>

#include "sim/time.h"

namespace storsim::sim {

class LocalClock {
 public:
  // Unix nanoseconds the wall clocks start from: 2026-01-01T00:00:00Z.
  static constexpr int64_t kWallEpochNanos = 1767225600LL * 1000'000'000LL;

  LocalClock() = default;

  // Both take an inline fast path when the clock runs at exactly the true rate (drift_ppb 0, the
  // common case): the 128-bit scaling is then the identity, so the result is the same.
  Instant Monotonic(Instant true_now) const {
    if (drift_ppb_ == 0) [[likely]] {
      return Instant::FromNanos(anchor_local_ + (true_now.nanos() - anchor_true_));
    }
    return MonotonicDrifting(true_now);
  }
  int64_t WallNanos(Instant true_now) const { return Monotonic(true_now).nanos() + wall_offset_; }

  // True instant at which this clock will have advanced by `local` from `true_now`; rounded up so
  // a timeout never fires early by the local clock.
  Instant TrueDeadline(Instant true_now, Duration local) const {
    // At rate 1, ceil(local * 1e9 / 1e9) is `local` itself.
    if (drift_ppb_ == 0 && local > Duration::Zero()) [[likely]] return true_now + local;
    return TrueDeadlineDrifting(true_now, local);
  }

  void SetDriftPpb(Instant true_now, int64_t drift_ppb);  // |drift| < 1e9
  int64_t drift_ppb() const { return drift_ppb_; }
  void StepWall(int64_t delta_nanos) { wall_offset_ += delta_nanos; }
  void SetWallOffset(int64_t offset_nanos) { wall_offset_ = offset_nanos; }
  int64_t wall_offset_nanos() const { return wall_offset_; }

 private:
  // The general cases (any drift), with 128-bit intermediates.
  Instant MonotonicDrifting(Instant true_now) const;
  Instant TrueDeadlineDrifting(Instant true_now, Duration local) const;

  int64_t anchor_true_ = 0;
  int64_t anchor_local_ = 0;
  int64_t drift_ppb_ = 0;
  int64_t wall_offset_ = kWallEpochNanos;
};

}  // namespace storsim::sim
