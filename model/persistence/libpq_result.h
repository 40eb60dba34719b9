// LibpqPersistence::Result: owns one PGresult and reads its cells. Private to the libpq
// implementation (libpq_connection.cc and libpq_persistence.cc).
#pragma once

#include <libpq-fe.h>

#include <string>
#include <utility>

#include "absl/strings/numbers.h"
#include "model/persistence/libpq_persistence.h"
#include "sim/check.h"

namespace storsim::persistence {

// Owns a PGresult.
class LibpqPersistence::Result {
 public:
  explicit Result(PGresult* result) : result_(result) {}
  Result(Result&& other) noexcept : result_(other.result_) { other.result_ = nullptr; }
  Result& operator=(Result&& other) noexcept {
    std::swap(result_, other.result_);
    return *this;
  }
  ~Result() {
    if (result_ != nullptr) PQclear(result_);
  }
  PGresult* get() const { return result_; }
  int rows() const { return PQntuples(result_); }
  // Rows changed by an UPDATE/DELETE/INSERT.
  int affected() const {
    int count = 0;
    SIM_CHECK(absl::SimpleAtoi(PQcmdTuples(result_), &count));
    return count;
  }
  bool null(int row, int column) const { return PQgetisnull(result_, row, column) != 0; }
  std::string text(int row, int column) const { return PQgetvalue(result_, row, column); }
  int64_t integer(int row, int column) const {
    int64_t value = 0;
    SIM_CHECK_MSG(absl::SimpleAtoi(text(row, column), &value), "not an integer: " + text(row, column));
    return value;
  }

 private:
  PGresult* result_;
};

}  // namespace storsim::persistence
