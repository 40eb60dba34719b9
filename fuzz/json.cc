// JSON writer and recursive-descent parser (depth-bounded).
#include "fuzz/json.h"

#include "sim/trace_writers.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace storsim::fuzz {
namespace {

const std::string& EmptyString() {
  static const std::string empty;
  return empty;
}
const Json& NullJson() {
  static const Json null;
  return null;
}

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  absl::StatusOr<Json> ParseDocument() {
    absl::StatusOr<Json> value = ParseValue(0);
    if (!value.ok()) return value;
    SkipSpace();
    if (position_ != text_.size()) return Error("end of input");
    return value;
  }

 private:
  static constexpr int kDepthMax = 64;

  absl::Status Error(std::string_view expected) const {
    return absl::InvalidArgumentError("JSON: expected " + std::string(expected) + " at byte " +
                                      std::to_string(position_));
  }
  void SkipSpace() {
    while (position_ < text_.size() &&
           (text_[position_] == ' ' || text_[position_] == '\n' || text_[position_] == '\t' ||
            text_[position_] == '\r')) {
      ++position_;
    }
  }
  bool Consume(std::string_view word) {
    if (text_.substr(position_, word.size()) != word) return false;
    position_ += word.size();
    return true;
  }

  absl::StatusOr<Json> ParseValue(int depth) {
    if (depth > kDepthMax) return Error("nesting of at most 64 levels");
    SkipSpace();
    if (position_ >= text_.size()) return Error("a value");
    const char c = text_[position_];
    if (c == '{') return ParseObject(depth);
    if (c == '[') return ParseArray(depth);
    if (c == '"') {
      absl::StatusOr<std::string> s = ParseString();
      if (!s.ok()) return s.status();
      return Json(std::move(*s));
    }
    if (Consume("true")) return Json(true);
    if (Consume("false")) return Json(false);
    if (Consume("null")) return Json();
    return ParseNumber();
  }

  absl::StatusOr<Json> ParseObject(int depth) {
    ++position_;
    Json::Object object;
    SkipSpace();
    if (Consume("}")) return Json(std::move(object));
    while (true) {
      SkipSpace();
      if (position_ >= text_.size() || text_[position_] != '"') return Error("a string key");
      absl::StatusOr<std::string> key = ParseString();
      if (!key.ok()) return key.status();
      SkipSpace();
      if (!Consume(":")) return Error("':'");
      absl::StatusOr<Json> value = ParseValue(depth + 1);
      if (!value.ok()) return value;
      object[std::move(*key)] = std::move(*value);
      SkipSpace();
      if (Consume("}")) return Json(std::move(object));
      if (!Consume(",")) return Error("',' or '}'");
    }
  }

  absl::StatusOr<Json> ParseArray(int depth) {
    ++position_;
    Json::Array array;
    SkipSpace();
    if (Consume("]")) return Json(std::move(array));
    while (true) {
      absl::StatusOr<Json> value = ParseValue(depth + 1);
      if (!value.ok()) return value;
      array.push_back(std::move(*value));
      SkipSpace();
      if (Consume("]")) return Json(std::move(array));
      if (!Consume(",")) return Error("',' or ']'");
    }
  }

  absl::StatusOr<std::string> ParseString() {
    ++position_;  // opening quote
    std::string out;
    while (position_ < text_.size()) {
      const char c = text_[position_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) return Error("no control character in a string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (position_ >= text_.size()) break;
      const char escape = text_[position_++];
      switch (escape) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          if (position_ + 4 > text_.size()) return Error("4 hex digits");
          unsigned code = 0;
          for (int i = 0; i < 4; ++i) {
            const char h = text_[position_++];
            code <<= 4;
            if (h >= '0' && h <= '9') code |= static_cast<unsigned>(h - '0');
            else if (h >= 'a' && h <= 'f') code |= static_cast<unsigned>(h - 'a' + 10);
            else if (h >= 'A' && h <= 'F') code |= static_cast<unsigned>(h - 'A' + 10);
            else return Error("a hex digit");
          }
          // Encode as UTF-8 (surrogate pairs are kept as two code units; we never write them).
          if (code < 0x80) {
            out += static_cast<char>(code);
          } else if (code < 0x800) {
            out += static_cast<char>(0xc0 | (code >> 6));
            out += static_cast<char>(0x80 | (code & 0x3f));
          } else {
            out += static_cast<char>(0xe0 | (code >> 12));
            out += static_cast<char>(0x80 | ((code >> 6) & 0x3f));
            out += static_cast<char>(0x80 | (code & 0x3f));
          }
          break;
        }
        default: return Error("a valid escape");
      }
    }
    return Error("a closing quote");
  }

  absl::StatusOr<Json> ParseNumber() {
    const size_t start = position_;
    if (position_ < text_.size() && text_[position_] == '-') ++position_;
    bool is_double = false;
    size_t digits = 0;
    while (position_ < text_.size()) {
      const char c = text_[position_];
      if (c >= '0' && c <= '9') {
        ++digits;
      } else if (c == '.' || c == 'e' || c == 'E' || c == '+' || (c == '-' && position_ > start)) {
        is_double = true;
      } else {
        break;
      }
      ++position_;
    }
    if (digits == 0) {
      position_ = start;
      return Error("a value");
    }
    const std::string number(text_.substr(start, position_ - start));
    if (!is_double && digits <= 18) return Json(static_cast<int64_t>(std::strtoll(number.c_str(), nullptr, 10)));
    char* end = nullptr;
    const double value = std::strtod(number.c_str(), &end);
    if (end == number.c_str() || !std::isfinite(value)) return Error("a number");
    return Json(value);
  }

  std::string_view text_;
  size_t position_ = 0;
};

}  // namespace

std::string JsonQuote(std::string_view text) { return "\"" + sim::JsonEscape(text) + "\""; }

const std::string& Json::AsString() const {
  const auto* s = std::get_if<std::string>(&value_);
  return s != nullptr ? *s : EmptyString();
}

int64_t Json::AsInt(int64_t fallback) const {
  if (const auto* i = std::get_if<int64_t>(&value_)) return *i;
  if (const auto* d = std::get_if<double>(&value_)) return static_cast<int64_t>(*d);
  return fallback;
}

double Json::AsDouble(double fallback) const {
  if (const auto* d = std::get_if<double>(&value_)) return *d;
  if (const auto* i = std::get_if<int64_t>(&value_)) return static_cast<double>(*i);
  return fallback;
}

bool Json::AsBool(bool fallback) const {
  const auto* b = std::get_if<bool>(&value_);
  return b != nullptr ? *b : fallback;
}

const Json::Array& Json::AsArray() const {
  static const Array empty;
  const auto* a = std::get_if<Array>(&value_);
  return a != nullptr ? *a : empty;
}

const Json::Object& Json::AsObject() const {
  static const Object empty;
  const auto* o = std::get_if<Object>(&value_);
  return o != nullptr ? *o : empty;
}

const Json& Json::operator[](std::string_view key) const {
  const auto* o = std::get_if<Object>(&value_);
  if (o == nullptr) return NullJson();
  auto it = o->find(key);
  return it == o->end() ? NullJson() : it->second;
}

Json& Json::Set(std::string key, Json value) {
  if (is_null()) value_ = Object{};
  auto& object = std::get<Object>(value_);
  return object[std::move(key)] = std::move(value);
}

void Json::Append(Json value) {
  if (is_null()) value_ = Array{};
  std::get<Array>(value_).push_back(std::move(value));
}

std::string Json::Dump() const {
  std::string out;
  DumpTo(out);
  return out;
}

void Json::DumpTo(std::string& out) const {
  if (std::holds_alternative<std::monostate>(value_)) {
    out += "null";
  } else if (const auto* b = std::get_if<bool>(&value_)) {
    out += *b ? "true" : "false";
  } else if (const auto* i = std::get_if<int64_t>(&value_)) {
    out += std::to_string(*i);
  } else if (const auto* d = std::get_if<double>(&value_)) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.6g", *d);
    out += buffer;
  } else if (const auto* s = std::get_if<std::string>(&value_)) {
    out += JsonQuote(*s);
  } else if (const auto* a = std::get_if<Array>(&value_)) {
    out += '[';
    for (size_t k = 0; k < a->size(); ++k) {
      if (k > 0) out += ',';
      (*a)[k].DumpTo(out);
    }
    out += ']';
  } else if (const auto* o = std::get_if<Object>(&value_)) {
    out += '{';
    bool first = true;
    for (const auto& [key, value] : *o) {
      if (!first) out += ',';
      first = false;
      out += JsonQuote(key);
      out += ':';
      value.DumpTo(out);
    }
    out += '}';
  }
}

absl::StatusOr<Json> Json::Parse(std::string_view text) {
  if (text.size() > (64u << 20)) return absl::InvalidArgumentError("JSON: input over 64 MiB");
  return Parser(text).ParseDocument();
}

}  // namespace storsim::fuzz
