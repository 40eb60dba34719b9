// Flag parsing for the storsim command.
#include "cli/flags.h"

namespace storsim::cli {
namespace {

constexpr size_t kArgumentsMax = 10'000;

std::string Hint(std::string_view command) {
  return "; see 'storsim help " + std::string(command) + "'";
}

}  // namespace

std::string ParsedFlags::Get(std::string_view name, std::string fallback) const {
  auto it = values_.find(std::string(name));
  if (it == values_.end() || it->second.empty()) return fallback;
  return it->second.back();
}

std::vector<std::string> ParsedFlags::GetAll(std::string_view name) const {
  auto it = values_.find(std::string(name));
  return it == values_.end() ? std::vector<std::string>{} : it->second;
}

absl::StatusOr<ParsedFlags> ParseFlags(const std::vector<FlagSpec>& specs,
                                       const std::vector<std::string>& arguments,
                                       std::string_view command, size_t positional_max) {
  if (arguments.size() > kArgumentsMax) {
    return absl::InvalidArgumentError("too many arguments" + Hint(command));
  }
  ParsedFlags parsed;
  for (size_t i = 0; i < arguments.size(); ++i) {
    const std::string& argument = arguments[i];
    if (argument == "-h" || argument == "--help") {
      parsed.ValuesOf("help").push_back("");
      continue;
    }
    if (argument.rfind("--", 0) != 0 || argument.size() == 2) {
      if (!argument.empty() && argument[0] == '-') {
        return absl::InvalidArgumentError("unknown flag '" + argument + "' for '" +
                                          std::string(command) + "'" + Hint(command));
      }
      if (parsed.positional().size() >= positional_max) {
        return absl::InvalidArgumentError("unexpected argument '" + argument + "' for '" +
                                          std::string(command) + "'" + Hint(command));
      }
      parsed.positional().push_back(argument);
      continue;
    }
    std::string name = argument.substr(2);
    std::string value;
    bool has_inline_value = false;
    if (const size_t equals = name.find('='); equals != std::string::npos) {
      value = name.substr(equals + 1);
      name = name.substr(0, equals);
      has_inline_value = true;
    }
    const FlagSpec* spec = nullptr;
    for (const FlagSpec& candidate : specs) {
      if (candidate.name == name) spec = &candidate;
    }
    if (spec == nullptr) {
      return absl::InvalidArgumentError("unknown flag '--" + name + "' for '" +
                                        std::string(command) + "'" + Hint(command));
    }
    if (!spec->takes_value && has_inline_value) {
      return absl::InvalidArgumentError("flag '--" + name + "' takes no value" + Hint(command));
    }
    if (spec->takes_value && !has_inline_value) {
      if (i + 1 >= arguments.size()) {
        return absl::InvalidArgumentError("flag '--" + name + "' needs a value" + Hint(command));
      }
      value = arguments[++i];
    }
    std::vector<std::string>& values = parsed.ValuesOf(name);
    if (!values.empty() && !spec->repeatable) {
      return absl::InvalidArgumentError("flag '--" + name + "' given twice" + Hint(command));
    }
    values.push_back(value);
  }
  return parsed;
}

absl::StatusOr<uint64_t> ParseUnsigned(std::string_view text, std::string_view what) {
  const std::string message = std::string(what) + " '" + std::string(text) +
                              "' is not a non-negative decimal integer below 2^64";
  if (text.empty() || text.size() > 20) return absl::InvalidArgumentError(message);
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return absl::InvalidArgumentError(message);
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) return absl::InvalidArgumentError(message);
    value = value * 10 + digit;
  }
  return value;
}

absl::StatusOr<sim::Duration> ParseDuration(std::string_view text, std::string_view what) {
  const std::string message = std::string(what) + " '" + std::string(text) +
                              "' is not a duration such as 500ms, 30s, 10m or 2h";
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0 || digits > 9) return absl::InvalidArgumentError(message);
  absl::StatusOr<uint64_t> number = ParseUnsigned(text.substr(0, digits), what);
  if (!number.ok()) return absl::InvalidArgumentError(message);
  const auto amount = static_cast<int64_t>(*number);
  const std::string_view unit = text.substr(digits);
  if (unit == "ms") return sim::Duration::Millis(amount);
  if (unit == "s") return sim::Duration::Seconds(amount);
  if (unit == "m") return sim::Duration::Minutes(amount);
  if (unit == "h") return sim::Duration::Minutes(amount * 60);
  return absl::InvalidArgumentError(message);
}

}  // namespace storsim::cli
