// Token encoding and decoding.
#include "scenarios/token.h"

#include <vector>

#include "sim/check.h"

namespace storsim::scenarios {
namespace {

constexpr size_t kFieldCount = 7;
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

}  // namespace

Token TokenFor(const RunResult& result, std::string build_id) {
  Token token;
  token.build_id = std::move(build_id);
  token.scenario = result.options.scenario;
  token.seed = result.options.seed;
  token.protocol = result.options.protocol;
  token.bugs = result.options.bugs;
  token.fault_plan = result.fault_plan;
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
  return std::string(kTokenVersion) + ":" + token.build_id + ":" + token.scenario + ":" +
         std::to_string(token.seed) + ":" + token.protocol + ":" + bugs + ":" +
         token.fault_plan.Encode();
}

absl::StatusOr<Token> DecodeToken(std::string_view text) {
  if (text.size() > kTokenLengthMax) return absl::InvalidArgumentError("token is too long");
  std::vector<std::string_view> fields = Split(text, ':');
  if (fields.empty() || fields[0] != kTokenVersion) {
    return absl::InvalidArgumentError("token format '" + std::string(fields.at(0)) + "' is not " +
                                      std::string(kTokenVersion) + " (a token starts with 'v1:')");
  }
  if (fields.size() != kFieldCount) {
    return absl::InvalidArgumentError("token has " + std::to_string(fields.size()) +
                                      " ':'-separated fields, expected " +
                                      std::to_string(kFieldCount));
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
  return token;
}

}  // namespace storsim::scenarios
