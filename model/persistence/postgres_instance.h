// PostgresInstance: a throwaway PostgreSQL server for conformance tests (outside the simulation;
// real processes and real time). Start() runs initdb into a fresh temporary directory, starts the
// server on a free loopback port with its unix socket inside that directory, waits until it
// accepts connections and applies the migrations; the destructor stops it and deletes the
// directory. The output of initdb is cached in the build tree (postgres-initdb-<version>) and
// copied by later starts, which is several times cheaper than initdb. When running as root the server runs as the unprivileged `postgres` OS user
// (runuser), since PostgreSQL refuses to run as root.
//
// Failure: Start() returns FailedPrecondition with an install hint when the server binaries are
// missing (tests must fail, not skip: `make test` installs them), and Internal with the server
// log's tail when initdb or the start fails.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace storsim::persistence {

class PostgresInstance {
 public:
  static absl::StatusOr<std::unique_ptr<PostgresInstance>> Start();
  ~PostgresInstance();
  PostgresInstance(const PostgresInstance&) = delete;
  PostgresInstance& operator=(const PostgresInstance&) = delete;

  // libpq connection string (unix socket) for the `postgres` database.
  const std::string& conninfo() const { return conninfo_; }
  int port() const { return port_; }

 private:
  PostgresInstance() = default;
  absl::Status Run(const std::string& command) const;  // with runuser when root
  // Fills directory_/data with a fresh cluster: a copy of the cached initdb output when there is
  // one, else initdb (then cached).
  absl::Status InitDataDirectory() const;

  std::string bin_dir_;
  std::string directory_;
  std::string conninfo_;
  int port_ = 0;
  bool started_ = false;
};

}  // namespace storsim::persistence
