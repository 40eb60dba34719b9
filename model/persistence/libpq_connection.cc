// The connection side of LibpqPersistence: connect, one statement (SQLSTATE to status), the
// transaction loop with its serialization-failure retries, migrations and truncation.
#include <libpq-fe.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "model/persistence/libpq_persistence.h"
#include "model/persistence/libpq_result.h"
#include "sim/check.h"

namespace storsim::persistence {

absl::StatusOr<std::unique_ptr<LibpqPersistence>> LibpqPersistence::Connect(
    const std::string& conninfo, LibpqOptions options) {
  PGconn* connection = PQconnectdb(conninfo.c_str());
  if (connection == nullptr || PQstatus(connection) != CONNECTION_OK) {
    std::string message = connection ? PQerrorMessage(connection) : "out of memory";
    if (connection) PQfinish(connection);
    return absl::UnavailableError("cannot connect to PostgreSQL: " + message);
  }
  auto persistence =
      std::unique_ptr<LibpqPersistence>(new LibpqPersistence(connection, std::move(options)));
  for (const char* setting : {"SET client_min_messages = warning",
                              "SET default_transaction_isolation = 'serializable'"}) {
    absl::StatusOr<Result> set = persistence->Exec(setting);
    if (!set.ok()) return set.status();
  }
  return persistence;
}

LibpqPersistence::LibpqPersistence(pg_conn* connection, LibpqOptions options)
    : connection_(connection), options_(std::move(options)) {
  SIM_CHECK(connection_ != nullptr);
  SIM_CHECK(options_.serialization_retries_max >= 1);
}

LibpqPersistence::~LibpqPersistence() { PQfinish(connection_); }

absl::StatusOr<LibpqPersistence::Result> LibpqPersistence::Exec(const std::string& sql,
                                                                const Params& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& param : params) values.push_back(param ? param->c_str() : nullptr);
  Result result(PQexecParams(connection_, sql.c_str(), static_cast<int>(values.size()), nullptr,
                             values.data(), nullptr, nullptr, 0));
  last_sqlstate_.clear();
  PGresult* raw = result.get();
  const ExecStatusType status = raw ? PQresultStatus(raw) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return result;
  if (PQstatus(connection_) != CONNECTION_OK) {
    return absl::UnavailableError("connection lost: " + std::string(PQerrorMessage(connection_)));
  }
  const char* sqlstate = raw ? PQresultErrorField(raw, PG_DIAG_SQLSTATE) : nullptr;
  last_sqlstate_ = sqlstate ? sqlstate : "";
  const std::string message = raw ? PQresultErrorMessage(raw) : "no result";
  if (last_sqlstate_ == "40001") return absl::AbortedError("serialization failure: " + message);
  if (last_sqlstate_ == "23505") return absl::AlreadyExistsError(message);
  if (last_sqlstate_ == "53300") return absl::ResourceExhaustedError(message);
  return absl::UnknownError("SQLSTATE " + last_sqlstate_ + ": " + message + " in: " + sql);
}

absl::Status LibpqPersistence::Transaction(const char* isolation,
                                           const std::function<absl::Status()>& body) {
  for (int attempt = 0; attempt < options_.serialization_retries_max; ++attempt) {
    if (isolation == nullptr) {
      // One statement in its own implicit transaction (default_transaction_isolation is
      // serializable on this connection): one round trip instead of three.
      absl::Status status = body();
      if (status.ok() || last_sqlstate_ != "40001") return status;
      ++serialization_retries_;
      continue;
    }
    absl::StatusOr<Result> begin = Exec(std::string("BEGIN ISOLATION LEVEL ") + isolation);
    if (!begin.ok()) return begin.status();
    absl::Status status = body();
    if (status.ok()) {
      absl::StatusOr<Result> commit = Exec("COMMIT");
      if (commit.ok()) return absl::OkStatus();
      status = commit.status();
    } else {
      const std::string sqlstate = last_sqlstate_;
      (void)Exec("ROLLBACK");
      last_sqlstate_ = sqlstate;
    }
    if (last_sqlstate_ != "40001") return status;
    ++serialization_retries_;
  }
  return absl::AbortedError("serialization failure after " +
                            std::to_string(options_.serialization_retries_max) + " attempts");
}

absl::Status LibpqPersistence::RunMigrations(const std::string& directory) {
  absl::StatusOr<Result> table = Exec(
      "CREATE TABLE IF NOT EXISTS storsim_migrations (name VARCHAR PRIMARY KEY)");
  if (!table.ok()) return table.status();
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(directory)) {
    if (entry.path().extension() == ".sql") files.push_back(entry.path());
  }
  if (files.empty()) return absl::NotFoundError("no migrations in " + directory);
  std::sort(files.begin(), files.end());
  for (const std::filesystem::path& file : files) {
    std::ifstream in(file);
    std::stringstream sql;
    sql << in.rdbuf();
    const std::string name = file.filename().string();
    absl::Status status = Transaction("SERIALIZABLE", [&]() -> absl::Status {
      auto done = Exec("SELECT 1 FROM storsim_migrations WHERE name = $1", {name});
      if (!done.ok()) return done.status();
      if (done->rows() > 0) return absl::OkStatus();
      // Simple-query protocol: a migration file may hold several statements.
      Result applied(PQexec(connection_, sql.str().c_str()));
      if (PQresultStatus(applied.get()) != PGRES_COMMAND_OK) {
        return absl::InternalError("migration " + name + ": " + PQerrorMessage(connection_));
      }
      auto record = Exec("INSERT INTO storsim_migrations (name) VALUES ($1)", {name});
      return record.status();
    });
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status LibpqPersistence::Truncate() {
  // DELETE, not TRUNCATE: on tables this small it is much cheaper (no new relation files).
  return Serializable([&]() -> absl::Status {
    for (const char* table : {"controllers", "nodes", "tenant_shards"}) {
      absl::StatusOr<Result> deleted = Exec(std::string("DELETE FROM ") + table);
      if (!deleted.ok()) return deleted.status();
    }
    return absl::OkStatus();
  });
}
}  // namespace storsim::persistence
