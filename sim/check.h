// SIM_CHECK: an assertion that is on in every build and throws sim::InvariantViolation with the
// source location, the simulated time and the seed of the run, so that the runner can report it
// as a failed run instead of aborting the process. SIM_MARK: a named coverage mark for rare paths;
// sweeps report which marks were never hit.
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>

namespace storsim::sim {

class InvariantViolation : public std::runtime_error {
 public:
  InvariantViolation(std::string what, std::string file, int line)
      : std::runtime_error(std::move(what)), file_(std::move(file)), line_(line) {}
  const std::string& file() const { return file_; }
  int line() const { return line_; }

 private:
  std::string file_;
  int line_;
};

// Context printed with every failed check: set by the running simulation (time, seed).
struct CheckContext {
  int64_t now_nanos = 0;
  uint64_t seed = 0;
  bool active = false;
};
CheckContext& CurrentCheckContext();

[[noreturn]] void FailCheck(const char* condition, const char* file, int line,
                            std::string_view message);

// Coverage marks. A mark is registered at static-initialisation time by the SIM_MARK expansion so
// that "never hit" can be reported; hits are counted per run.
class Marks {
 public:
  static Marks& Global();
  void Register(std::string_view name);
  void Hit(std::string_view name);
  void ResetHits();
  // name -> hit count, for every registered mark (0 = never hit). Ordered by name.
  const std::map<std::string, uint64_t, std::less<>>& counts() const { return counts_; }

 private:
  std::map<std::string, uint64_t, std::less<>> counts_;
};

struct MarkRegistrar {
  explicit MarkRegistrar(std::string_view name) { Marks::Global().Register(name); }
};

// A mark name as a template argument, so that each SIM_MARK site is its own class template
// instance whose static registrar runs when the program loads: a mark is known (with zero hits)
// even if its line never runs, which is what "marks never hit" reports need.
template <size_t N>
struct MarkName {
  constexpr MarkName(const char (&text)[N]) {  // NOLINT: implicit on purpose (a literal)
    for (size_t i = 0; i < N; ++i) value[i] = text[i];
  }
  constexpr std::string_view view() const { return std::string_view(value, N - 1); }
  char value[N];
};

template <MarkName Name>
struct MarkSite {
  static inline const MarkRegistrar registrar{Name.view()};
  static void Hit() {
    (void)&registrar;  // odr-use: instantiating Hit registers the mark at load time
    Marks::Global().Hit(Name.view());
  }
};

}  // namespace storsim::sim

#define SIM_CHECK(condition)                                                        \
  do {                                                                              \
    if (!(condition)) ::storsim::sim::FailCheck(#condition, __FILE__, __LINE__, ""); \
  } while (0)

#define SIM_CHECK_MSG(condition, message)                                                \
  do {                                                                                   \
    if (!(condition)) ::storsim::sim::FailCheck(#condition, __FILE__, __LINE__, (message)); \
  } while (0)

// Names a rare path. The name must be a string literal.
#define SIM_MARK(name) ::storsim::sim::MarkSite<name>::Hit()
