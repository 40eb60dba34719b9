// Token encoding and decoding, and the knob field of tokens.
#include "scenarios/token.h"

#include <vector>

#include "sim/check.h"

namespace storsim::scenarios {
namespace {

constexpr size_t kFieldCount = 7;
constexpr size_t kFieldCountKnobs = 8;  // with the optional knob field
constexpr size_t kKnobNameLengthMax = 32;
constexpr size_t kTokenLengthMax = 4'000'000;

// Debian's Abseil has its own string_view type, so splitting is done here.
std::vector<std::string_view> Split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (parts.size() <= kTokenLengthMax) {
    const size_t end = text.find(separator, start);
    if (end == std::string_view::npos) {
      parts.push_back(text.substr(start));
      break;
    }
    parts.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

bool ParseSeed(std::string_view text, uint64_t* seed) {
  if (text.empty() || text.size() > 20) return false;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) return false;
    value = value * 10 + digit;
  }
  *seed = value;
  return true;
}

bool ParseSignedInteger(std::string_view text, int64_t* value) {
  const bool negative = !text.empty() && text[0] == '-';
  uint64_t magnitude = 0;
  if (!ParseSeed(negative ? text.substr(1) : text, &magnitude)) return false;
  const uint64_t limit = negative ? uint64_t{1} << 63 : (uint64_t{1} << 63) - 1;
  if (magnitude > limit) return false;
  *value = negative ? static_cast<int64_t>(0 - magnitude) : static_cast<int64_t>(magnitude);
  return true;
}

}  // namespace

bool IsKnobName(std::string_view name) {
  if (name.empty() || name.size() > kKnobNameLengthMax) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

std::string EncodeKnobs(const std::map<std::string, int64_t>& knobs) {
  std::string text;
  for (const auto& [name, value] : knobs) {
    SIM_CHECK_MSG(IsKnobName(name), "knob names are 1..32 characters of [a-z0-9_]");
    if (!text.empty()) text += ',';
    text += name + "=" + std::to_string(value);
  }
  return text;
}

absl::StatusOr<std::map<std::string, int64_t>> DecodeKnobs(std::string_view text) {
  std::map<std::string, int64_t> knobs;
  if (text.empty()) return knobs;
  const std::vector<std::string_view> entries = Split(text, ',');
  if (entries.size() > kKnobsMax) {
    return absl::InvalidArgumentError("more than " + std::to_string(kKnobsMax) + " knobs");
  }
  for (std::string_view entry : entries) {
    const size_t equals = entry.find('=');
    if (equals == std::string_view::npos) {
      return absl::InvalidArgumentError("knob '" + std::string(entry) +
                                        "' is not of the form name=value");
    }
    const std::string_view name = entry.substr(0, equals);
    const std::string_view value_text = entry.substr(equals + 1);
    if (!IsKnobName(name)) {
      return absl::InvalidArgumentError("knob name '" + std::string(name) +
                                        "' is not 1..32 characters of [a-z0-9_]");
    }
    int64_t value = 0;
    if (!ParseSignedInteger(value_text, &value)) {
      return absl::InvalidArgumentError("knob '" + std::string(name) + "' has value '" +
                                        std::string(value_text) +
                                        "', not a decimal 64-bit signed integer");
    }
    if (!knobs.emplace(std::string(name), value).second) {
      return absl::InvalidArgumentError("knob '" + std::string(name) + "' is given twice");
    }
  }
  return knobs;
}

std::string KnobsToString(const std::map<std::string, int64_t>& knobs) {
  std::string text;
  for (const auto& [name, value] : knobs) {
    if (!text.empty()) text += ' ';
    text += name + "=" + std::to_string(value);
  }
  return text.empty() ? "(none)" : text;
}

Token TokenFor(const RunResult& result, std::string build_id) {
  Token token;
  token.build_id = std::move(build_id);
  token.scenario = result.options.scenario;
  token.seed = result.options.seed;
  token.protocol = result.options.protocol;
  token.bugs = result.options.bugs;
  token.fault_plan = result.fault_plan;
  token.knobs = result.knobs;
  return token;
}

std::string EncodeToken(const Token& token) {
  for (const std::string* field : {&token.build_id, &token.scenario, &token.protocol}) {
    SIM_CHECK_MSG(field->find(':') == std::string::npos, "token fields cannot hold ':'");
  }
  std::string bugs;
  for (const std::string& bug : token.bugs) {
    SIM_CHECK_MSG(bug.find_first_of(":,") == std::string::npos, "bug names cannot hold ':' or ','");
    if (!bugs.empty()) bugs += ',';
    bugs += bug;
  }
  std::string text = std::string(kTokenVersion) + ":" + token.build_id + ":" + token.scenario + ":" +
                     std::to_string(token.seed) + ":" + token.protocol + ":" + bugs + ":" +
                     token.fault_plan.Encode();
  if (!token.knobs.empty()) text += ":" + EncodeKnobs(token.knobs);
  return text;
}

absl::StatusOr<Token> DecodeToken(std::string_view text) {
  if (text.size() > kTokenLengthMax) return absl::InvalidArgumentError("token is too long");
  std::vector<std::string_view> fields = Split(text, ':');
  if (fields.empty() || fields[0] != kTokenVersion) {
    return absl::InvalidArgumentError("token format '" + std::string(fields.at(0)) + "' is not " +
                                      std::string(kTokenVersion) + " (a token starts with 'v1:')");
  }
  const bool with_knobs = fields.size() == kFieldCountKnobs;
  if (fields.size() != kFieldCount && !with_knobs) {
    return absl::InvalidArgumentError("token has " + std::to_string(fields.size()) +
                                      " ':'-separated fields, expected " +
                                      std::to_string(kFieldCount) + " (or " +
                                      std::to_string(kFieldCountKnobs) + " with knobs)");
  }
  Token token;
  token.build_id = std::string(fields[1]);
  token.scenario = std::string(fields[2]);
  if (token.scenario.empty()) return absl::InvalidArgumentError("token names no scenario");
  if (!ParseSeed(fields[3], &token.seed)) {
    return absl::InvalidArgumentError("token seed '" + std::string(fields[3]) +
                                      "' is not a decimal 64-bit unsigned integer");
  }
  token.protocol = std::string(fields[4]);
  if (!fields[5].empty()) {
    for (std::string_view bug : Split(fields[5], ',')) {
      if (bug.empty()) return absl::InvalidArgumentError("token has an empty bug name");
      token.bugs.insert(std::string(bug));
    }
  }
  absl::StatusOr<sim::FaultPlan> plan = sim::FaultPlan::Decode(fields[6]);
  if (!plan.ok()) {
    return absl::InvalidArgumentError("token fault plan: " + std::string(plan.status().message()));
  }
  token.fault_plan = *std::move(plan);
  if (with_knobs) {
    absl::StatusOr<std::map<std::string, int64_t>> knobs = DecodeKnobs(fields[7]);
    if (!knobs.ok()) {
      return absl::InvalidArgumentError("token knobs: " + std::string(knobs.status().message()));
    }
    if (knobs->empty()) {
      return absl::InvalidArgumentError("token has an empty knob field (omit the field instead)");
    }
    token.knobs = *std::move(knobs);
  }
  return token;
}

}  // namespace storsim::scenarios
