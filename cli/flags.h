// Command-line flag parsing for the `storsim` command: each command declares its flags (name,
// whether it takes a value, whether it may repeat), and Parse turns argv into values or a usage
// error that says what is wrong and how to get help. Both "--flag value" and "--flag=value" work.
// Parsing only: what the values mean is the command's business.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "sim/time.h"

namespace storsim::cli {

struct FlagSpec {
  std::string name;  // without the leading "--"
  bool takes_value = false;
  bool repeatable = false;
};

class ParsedFlags {
 public:
  bool Has(std::string_view name) const { return values_.count(std::string(name)) != 0; }
  // The last value of a flag, or `fallback` when absent.
  std::string Get(std::string_view name, std::string fallback = "") const;
  // Every value of a repeatable flag, in order.
  std::vector<std::string> GetAll(std::string_view name) const;
  const std::vector<std::string>& positional() const { return positional_; }

  // Used by ParseFlags.
  std::vector<std::string>& ValuesOf(const std::string& name) { return values_[name]; }
  std::vector<std::string>& positional() { return positional_; }

 private:
  std::map<std::string, std::vector<std::string>> values_;
  std::vector<std::string> positional_;
};

// Parses `arguments` (after the command name) against `specs`. Every command also accepts
// --help/-h. Errors (InvalidArgument): an unknown flag, a missing value, a repeated flag that
// may not repeat, a stray positional argument when `positional_max` is 0. The message names the
// command and the flag and ends with a hint ("see 'storsim help run'").
absl::StatusOr<ParsedFlags> ParseFlags(const std::vector<FlagSpec>& specs,
                                       const std::vector<std::string>& arguments,
                                       std::string_view command, size_t positional_max = 0);

// A decimal unsigned 64-bit integer; InvalidArgument naming `what` otherwise.
absl::StatusOr<uint64_t> ParseUnsigned(std::string_view text, std::string_view what);

// A duration such as "500ms", "30s", "10m", "2h"; InvalidArgument otherwise.
absl::StatusOr<sim::Duration> ParseDuration(std::string_view text, std::string_view what);

}  // namespace storsim::cli
