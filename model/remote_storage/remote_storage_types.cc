// Status names and generation-suffix helpers for remote keys (SPEC.md §4.3).
#include "model/remote_storage/remote_storage_types.h"

#include "sim/check.h"

namespace storsim::remote_storage {
namespace {

constexpr size_t kSuffixDigits = 8;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;  // upper case is not the format ({gen:08x} prints lower case)
}

}  // namespace

const char* HttpStatusName(HttpStatus status) {
  switch (status) {
    case HttpStatus::kOk:
      return "200 OK";
    case HttpStatus::kNoContent:
      return "204 NoContent";
    case HttpStatus::kBadRequest:
      return "400 BadRequest";
    case HttpStatus::kNotFound:
      return "404 NotFound";
    case HttpStatus::kInternalError:
      return "500 InternalError";
    case HttpStatus::kSlowDown:
      return "503 SlowDown";
  }
  return "unknown status";
}

bool IsValidKey(std::string_view key) { return !key.empty() && key.size() <= kKeyBytesMax; }

std::string WithGenerationSuffix(std::string_view base, uint32_t generation) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string key(base);
  key.reserve(base.size() + 1 + kSuffixDigits);
  key.push_back('-');
  for (int shift = 28; shift >= 0; shift -= 4) key.push_back(kDigits[(generation >> shift) & 0xf]);
  SIM_CHECK(key.size() == base.size() + 1 + kSuffixDigits);
  return key;
}

std::optional<uint32_t> ParseGenerationSuffix(std::string_view key) {
  if (key.size() < kSuffixDigits + 1) return std::nullopt;
  const size_t dash = key.size() - kSuffixDigits - 1;
  if (key[dash] != '-') return std::nullopt;
  uint32_t generation = 0;
  for (size_t i = dash + 1; i < key.size(); ++i) {
    const int value = HexValue(key[i]);
    if (value < 0) return std::nullopt;
    generation = (generation << 4) | static_cast<uint32_t>(value);
  }
  return generation;
}

std::string_view StripGenerationSuffix(std::string_view key) {
  if (!ParseGenerationSuffix(key)) return key;
  return key.substr(0, key.size() - kSuffixDigits - 1);
}

}  // namespace storsim::remote_storage
