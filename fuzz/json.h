// A small JSON value with a writer and a strict parser, for the files storsim writes and reads
// back (failure records, sweep summaries, merged shard outputs). Objects keep keys in sorted order
// (std::map), so output is deterministic and diffable. Numbers are int64 or double; nothing here
// is fast or general-purpose beyond that.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"

namespace storsim::fuzz {

class Json {
 public:
  using Array = std::vector<Json>;
  using Object = std::map<std::string, Json, std::less<>>;

  Json() = default;  // null
  Json(std::nullptr_t) {}
  Json(bool value) : value_(value) {}
  Json(int value) : value_(static_cast<int64_t>(value)) {}
  Json(int64_t value) : value_(value) {}
  Json(uint64_t value) : value_(static_cast<int64_t>(value)) {}
  Json(double value) : value_(value) {}
  Json(const char* value) : value_(std::string(value)) {}
  Json(std::string value) : value_(std::move(value)) {}
  Json(std::string_view value) : value_(std::string(value)) {}
  Json(Array value) : value_(std::move(value)) {}
  Json(Object value) : value_(std::move(value)) {}

  bool is_null() const { return std::holds_alternative<std::monostate>(value_); }
  bool is_object() const { return std::holds_alternative<Object>(value_); }
  bool is_array() const { return std::holds_alternative<Array>(value_); }
  bool is_string() const { return std::holds_alternative<std::string>(value_); }
  bool is_number() const {
    return std::holds_alternative<int64_t>(value_) || std::holds_alternative<double>(value_);
  }

  // Accessors return a fallback when the value has another type, so readers of files written by
  // other builds degrade to "missing" instead of crashing.
  const std::string& AsString() const;
  int64_t AsInt(int64_t fallback = 0) const;
  double AsDouble(double fallback = 0) const;
  bool AsBool(bool fallback = false) const;
  const Array& AsArray() const;
  const Object& AsObject() const;
  // Member of an object (null when absent or not an object).
  const Json& operator[](std::string_view key) const;
  Json& Set(std::string key, Json value);  // makes this an object if it is null
  void Append(Json value);                 // makes this an array if it is null

  // Compact single-line JSON.
  std::string Dump() const;
  // Errors: InvalidArgument with the byte offset and what was expected.
  static absl::StatusOr<Json> Parse(std::string_view text);

 private:
  void DumpTo(std::string& out) const;
  std::variant<std::monostate, bool, int64_t, double, std::string, Array, Object> value_;
};

std::string JsonQuote(std::string_view text);

}  // namespace storsim::fuzz
