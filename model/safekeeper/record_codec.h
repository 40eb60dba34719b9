// RecordWriter / RecordReader: a tiny self-delimiting text encoding for the records the safekeeper
// and the pageserver keep on their sim Disks and in object storage (WAL records, layers, indexes,
// deletion lists, location configs). Integers are decimal followed by ';', strings are
// "<length>:<bytes>", so any byte string round-trips. Only this model writes these records and
// the simulated disk never corrupts, so a malformed record is a bug: the reader fails a SIM_CHECK.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "sim/check.h"

namespace storsim::codec {

class RecordWriter {
 public:
  RecordWriter& Int(uint64_t value) {
    out_ += std::to_string(value);
    out_.push_back(';');
    return *this;
  }
  RecordWriter& Str(std::string_view value) {
    out_ += std::to_string(value.size());
    out_.push_back(':');
    out_.append(value.data(), value.size());
    return *this;
  }
  const std::string& str() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

class RecordReader {
 public:
  explicit RecordReader(std::string_view in) : in_(in) {}

  bool done() const { return position_ >= in_.size(); }

  // Precondition: the next item is an integer (SIM_CHECK otherwise).
  uint64_t Int() {
    uint64_t value = 0;
    size_t digits = 0;
    while (position_ < in_.size() && in_[position_] != ';') {
      const char c = in_[position_++];
      SIM_CHECK_MSG(c >= '0' && c <= '9', "malformed record: digit expected");
      value = value * 10 + static_cast<uint64_t>(c - '0');
      ++digits;
      SIM_CHECK_MSG(digits <= 20, "malformed record: integer too long");
    }
    SIM_CHECK_MSG(position_ < in_.size() && digits > 0, "malformed record: ';' expected");
    ++position_;
    return value;
  }

  // Precondition: the next item is a string (SIM_CHECK otherwise).
  std::string Str() {
    size_t length = 0;
    size_t digits = 0;
    while (position_ < in_.size() && in_[position_] != ':') {
      const char c = in_[position_++];
      SIM_CHECK_MSG(c >= '0' && c <= '9', "malformed record: length expected");
      length = length * 10 + static_cast<size_t>(c - '0');
      ++digits;
      SIM_CHECK_MSG(digits <= 12, "malformed record: length too long");
    }
    SIM_CHECK_MSG(position_ < in_.size() && digits > 0, "malformed record: ':' expected");
    ++position_;
    SIM_CHECK_MSG(in_.size() - position_ >= length, "malformed record: string truncated");
    std::string value(in_.substr(position_, length));
    position_ += length;
    return value;
  }

 private:
  std::string_view in_;
  size_t position_ = 0;
};

}  // namespace storsim::codec
