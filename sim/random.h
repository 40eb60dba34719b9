// Deterministic randomness. One root seed per run; every component forks its own stream from a
// label, so that a new draw in one component never changes the choices of another (TigerBeetle's
// simulator does the same when it builds a cluster). We own the generator (xoshiro256**) and every
// distribution, so a seed means the same thing on every compiler and standard library.
#pragma once

#include <cstdint>
#include <string_view>

#include "sim/time.h"

namespace storsim::sim {

class Random {
 public:
  explicit Random(uint64_t seed);

  // A child stream derived from this stream's seed and the label only: it does not consume draws
  // from this stream, and the same (seed, label) always gives the same child.
  Random Fork(std::string_view label) const;
  Random Fork(std::string_view label, uint64_t index) const;

  uint64_t seed() const { return seed_; }

  uint64_t Next64();
  // Uniform in [0, n). Precondition: n > 0. Unbiased (Lemire's method with rejection).
  uint64_t Below(uint64_t n);
  // Uniform in [lo, hi]. Precondition: lo <= hi.
  int64_t Range(int64_t lo, int64_t hi);
  // True with probability numerator/denominator. Precondition: 0 < denominator.
  bool Chance(uint64_t numerator, uint64_t denominator);
  // Uniform duration in [lo, hi].
  Duration DurationIn(Duration lo, Duration hi);
  // Exponentially distributed duration with the given mean, computed in integers (inverse CDF on a
  // fixed-point logarithm), capped at 16 * mean.
  Duration Exponential(Duration mean);

  // Pick an index with integer weights. Precondition: at least one weight is positive.
  template <typename Container>
  size_t Weighted(const Container& weights) {
    uint64_t total = 0;
    for (auto w : weights) total += static_cast<uint64_t>(w);
    uint64_t r = Below(total);
    size_t i = 0;
    for (auto w : weights) {
      if (r < static_cast<uint64_t>(w)) return i;
      r -= static_cast<uint64_t>(w);
      ++i;
    }
    return i - 1;
  }

  // Fisher-Yates shuffle with our own draws (the standard library's shuffle is
  // implementation-defined).
  template <typename Vector>
  void Shuffle(Vector& v) {
    for (size_t i = v.size(); i > 1; --i) {
      size_t j = Below(i);
      using std::swap;
      swap(v[i - 1], v[j]);
    }
  }

 private:
  uint64_t seed_;
  uint64_t s_[4];
};

}  // namespace storsim::sim
