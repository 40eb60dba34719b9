// xoshiro256** (Blackman and Vigna) seeded through SplitMix64, and integer-only distributions.
#include "sim/random.h"

#include "sim/check.h"
#include "sim/hash.h"

namespace storsim::sim {
namespace {

constexpr uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

// floor(log2(x) * 2^16) for x >= 1, by integer steps: integer part from the bit width, fraction by
// repeated squaring of the normalized mantissa in 1.31 fixed point.
int64_t Log2Fixed16(uint64_t x) {
  int integer = 63 - __builtin_clzll(x);
  // Normalize to [2^31, 2^32) so the mantissa is 1.31 fixed point.
  uint64_t m = integer >= 31 ? x >> (integer - 31) : x << (31 - integer);
  int64_t fraction = 0;
  for (int bit = 15; bit >= 0; --bit) {
    m = (m * m) >> 31;
    if (m >= (uint64_t{1} << 32)) {
      m >>= 1;
      fraction |= int64_t{1} << bit;
    }
  }
  return (int64_t{integer} << 16) | fraction;
}

}  // namespace

Random::Random(uint64_t seed) : seed_(seed) {
  uint64_t x = seed;
  for (auto& word : s_) {
    x += 0x9e3779b97f4a7c15ULL;
    word = Mix64(x);
  }
}

Random Random::Fork(std::string_view label) const {
  return Random(Mix64(seed_ ^ HashBytes(label)));
}

Random Random::Fork(std::string_view label, uint64_t index) const {
  return Random(Mix64(seed_ ^ HashBytes(label) ^ Mix64(index + 1)));
}

uint64_t Random::Next64() {
  const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = Rotl(s_[3], 45);
  return result;
}

uint64_t Random::Below(uint64_t n) {
  SIM_CHECK(n > 0);
  __uint128_t product = static_cast<__uint128_t>(Next64()) * n;
  uint64_t low = static_cast<uint64_t>(product);
  if (low < n) {
    const uint64_t threshold = (0 - n) % n;
    while (low < threshold) {
      product = static_cast<__uint128_t>(Next64()) * n;
      low = static_cast<uint64_t>(product);
    }
  }
  return static_cast<uint64_t>(product >> 64);
}

int64_t Random::Range(int64_t lo, int64_t hi) {
  SIM_CHECK(lo <= hi);
  const uint64_t span = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo);
  if (span == ~uint64_t{0}) return static_cast<int64_t>(Next64());
  return static_cast<int64_t>(static_cast<uint64_t>(lo) + Below(span + 1));
}

bool Random::Chance(uint64_t numerator, uint64_t denominator) {
  SIM_CHECK(denominator > 0);
  if (numerator == 0) return false;
  if (numerator >= denominator) return true;
  return Below(denominator) < numerator;
}

Duration Random::DurationIn(Duration lo, Duration hi) {
  return Duration::Nanos(Range(lo.nanos(), hi.nanos()));
}

Duration Random::Exponential(Duration mean) {
  if (mean <= Duration::Zero()) return Duration::Zero();
  // -ln(U) = -log2(U) * ln 2, with U uniform in (0, 1] as u / 2^32, u in [1, 2^32].
  const uint64_t u = Below(uint64_t{1} << 32) + 1;
  const int64_t minus_log2_fixed16 = (int64_t{32} << 16) - Log2Fixed16(u);  // >= 0
  constexpr int64_t kLn2Fixed16 = 45426;                                      // ln(2) * 2^16
  const __int128 scaled = static_cast<__int128>(minus_log2_fixed16) * kLn2Fixed16;  // 2^32 scale
  __int128 ns = (scaled * mean.nanos()) >> 32;
  const __int128 cap = static_cast<__int128>(mean.nanos()) * 16;
  if (ns > cap) ns = cap;
  return Duration::Nanos(static_cast<int64_t>(ns));
}

}  // namespace storsim::sim
