// Simulated time. Instant and Duration are int64 nanosecond strong types, so that true simulated
// time, local clock readings and durations cannot be mixed up with plain integers. No floating
// point takes part in any decision: every conversion here is integer arithmetic.
#pragma once

#include <compare>
#include <cstdint>
#include <limits>
#include <string>

namespace storsim::sim {

class Duration {
 public:
  constexpr Duration() = default;
  static constexpr Duration Nanos(int64_t n) { return Duration(n); }
  static constexpr Duration Micros(int64_t n) { return Duration(n * 1000); }
  static constexpr Duration Millis(int64_t n) { return Duration(n * 1000'000); }
  static constexpr Duration Seconds(int64_t n) { return Duration(n * 1000'000'000); }
  static constexpr Duration Minutes(int64_t n) { return Seconds(n * 60); }
  static constexpr Duration Zero() { return Duration(0); }
  static constexpr Duration Max() { return Duration(std::numeric_limits<int64_t>::max()); }

  constexpr int64_t nanos() const { return ns_; }
  constexpr int64_t millis() const { return ns_ / 1000'000; }
  constexpr int64_t seconds() const { return ns_ / 1000'000'000; }

  constexpr Duration operator+(Duration o) const { return Duration(ns_ + o.ns_); }
  constexpr Duration operator-(Duration o) const { return Duration(ns_ - o.ns_); }
  constexpr Duration operator*(int64_t k) const { return Duration(ns_ * k); }
  constexpr Duration operator/(int64_t k) const { return Duration(ns_ / k); }
  constexpr Duration& operator+=(Duration o) { ns_ += o.ns_; return *this; }
  constexpr Duration& operator-=(Duration o) { ns_ -= o.ns_; return *this; }
  constexpr auto operator<=>(const Duration&) const = default;

  // "1.5s", "20ms", "7ns": for logs and reports, never parsed back.
  std::string ToString() const;

 private:
  constexpr explicit Duration(int64_t ns) : ns_(ns) {}
  int64_t ns_ = 0;
};

// A point in time. True simulated time (the scheduler's) and local clock readings (a process's
// monotonic clock) are both Instants; which one a value is, is said by where it came from.
class Instant {
 public:
  constexpr Instant() = default;
  static constexpr Instant FromNanos(int64_t n) { return Instant(n); }
  static constexpr Instant Zero() { return Instant(0); }
  static constexpr Instant Max() { return Instant(std::numeric_limits<int64_t>::max()); }

  constexpr int64_t nanos() const { return ns_; }

  constexpr Instant operator+(Duration d) const { return Instant(SaturatingAdd(ns_, d.nanos())); }
  constexpr Instant operator-(Duration d) const { return Instant(ns_ - d.nanos()); }
  constexpr Duration operator-(Instant o) const { return Duration::Nanos(ns_ - o.ns_); }
  constexpr auto operator<=>(const Instant&) const = default;

  std::string ToString() const;  // seconds since simulation start, e.g. "12.000345678s"

 private:
  constexpr explicit Instant(int64_t ns) : ns_(ns) {}
  static constexpr int64_t SaturatingAdd(int64_t a, int64_t b) {
    if (b > 0 && a > std::numeric_limits<int64_t>::max() - b) {
      return std::numeric_limits<int64_t>::max();
    }
    return a + b;
  }
  int64_t ns_ = 0;
};

}  // namespace storsim::sim
