// Integer clock arithmetic (128-bit intermediates, no floating point).
#include "sim/clock.h"

#include "sim/check.h"

namespace storsim::sim {
namespace {
constexpr int64_t kBillion = 1000'000'000;
}

Instant LocalClock::MonotonicDrifting(Instant true_now) const {
  const __int128 elapsed = true_now.nanos() - anchor_true_;
  const __int128 local = elapsed * (kBillion + drift_ppb_) / kBillion;
  return Instant::FromNanos(anchor_local_ + static_cast<int64_t>(local));
}

Instant LocalClock::TrueDeadlineDrifting(Instant true_now, Duration local) const {
  if (local <= Duration::Zero()) return true_now;
  if (local == Duration::Max()) return Instant::Max();
  const __int128 rate = kBillion + drift_ppb_;
  const __int128 true_elapsed = (static_cast<__int128>(local.nanos()) * kBillion + rate - 1) / rate;
  return true_now + Duration::Nanos(static_cast<int64_t>(true_elapsed));
}

void LocalClock::SetDriftPpb(Instant true_now, int64_t drift_ppb) {
  SIM_CHECK(drift_ppb > -kBillion && drift_ppb < kBillion);
  anchor_local_ = Monotonic(true_now).nanos();
  anchor_true_ = true_now.nanos();
  drift_ppb_ = drift_ppb;
}

}  // namespace storsim::sim
