// Our own 64-bit hashing, stable across processes, builds and compilers. absl::Hash and std::hash
// are salted or implementation-defined, so they must never reach a trace hash or a token.
#pragma once

#include <cstddef>
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

// FNV-1a over bytes, finished with Mix64 so short strings still spread over all bits. The loop
// takes four bytes per iteration (the same steps in the same order, fewer loop branches: trace
// events hash their text fields with it).
constexpr uint64_t HashBytes(std::string_view bytes, uint64_t seed = 0xcbf29ce484222325ULL) {
  constexpr uint64_t kPrime = 0x100000001b3ULL;
  uint64_t h = seed;
  const char* next = bytes.data();
  size_t left = bytes.size();
  for (; left >= 4; next += 4, left -= 4) {
    h = (h ^ static_cast<unsigned char>(next[0])) * kPrime;
    h = (h ^ static_cast<unsigned char>(next[1])) * kPrime;
    h = (h ^ static_cast<unsigned char>(next[2])) * kPrime;
    h = (h ^ static_cast<unsigned char>(next[3])) * kPrime;
  }
  for (; left > 0; ++next, --left) h = (h ^ static_cast<unsigned char>(*next)) * kPrime;
  return Mix64(h);
}

// A running hash: order-sensitive combination of words and strings.
class RunningHash {
 public:
  constexpr void Add(uint64_t word) { AddMixed(WordMix(word)); }
  // Add(word) in two halves: a caller that adds the same word often (a trace key's hash) keeps
  // WordMix(word) and calls AddMixed, the same step as Add(word) with one Mix64 less.
  static constexpr uint64_t WordMix(uint64_t word) { return Mix64(word + 0x2545f4914f6cdd1dULL); }
  constexpr void AddMixed(uint64_t mixed) { state_ = Mix64(state_ ^ mixed); }
  constexpr void Add(std::string_view bytes) { Add(HashBytes(bytes)); }
  constexpr uint64_t value() const { return state_; }

 private:
  uint64_t state_ = 0x243f6a8885a308d3ULL;
};

}  // namespace storsim::sim
