// Our own 64-bit hashing, stable across processes, builds and compilers. absl::Hash and std::hash
// are salted or implementation-defined, so they must never reach a trace hash or a token.
#pragma once

#include <cstdint>
#include <string_view>

namespace storsim::sim {

// SplitMix64 finalizer: a bijective avalanche of one 64-bit word.
constexpr uint64_t Mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// FNV-1a over bytes, finished with Mix64 so short strings still spread over all bits.
constexpr uint64_t HashBytes(std::string_view bytes, uint64_t seed = 0xcbf29ce484222325ULL) {
  uint64_t h = seed;
  for (char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return Mix64(h);
}

// A running hash: order-sensitive combination of words and strings.
class RunningHash {
 public:
  constexpr void Add(uint64_t word) { state_ = Mix64(state_ ^ Mix64(word + 0x2545f4914f6cdd1dULL)); }
  constexpr void Add(std::string_view bytes) { Add(HashBytes(bytes)); }
  constexpr uint64_t value() const { return state_; }

 private:
  uint64_t state_ = 0x243f6a8885a308d3ULL;
};

}  // namespace storsim::sim
