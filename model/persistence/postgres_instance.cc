// A throwaway PostgreSQL server for the conformance suite (see postgres_instance.h). Test support
// only, outside the simulation: it runs real processes (initdb, pg_ctl) and waits in real time.
#include "model/persistence/postgres_instance.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "model/persistence/libpq_persistence.h"

namespace storsim::persistence {
namespace {

#ifndef STORSIM_POSTGRES_CACHE_DIR
#define STORSIM_POSTGRES_CACHE_DIR "/tmp"
#endif
#ifndef STORSIM_POSTGRES_BIN_DIR
#define STORSIM_POSTGRES_BIN_DIR "/usr/lib/postgresql/15/bin"
#endif

// The configured bin dir if it has the server binaries, else the newest /usr/lib/postgresql/N/bin.
std::string FindBinDir() {
  namespace fs = std::filesystem;
  auto complete = [](const fs::path& dir) {
    return fs::exists(dir / "initdb") && fs::exists(dir / "pg_ctl") && fs::exists(dir / "postgres");
  };
  if (complete(STORSIM_POSTGRES_BIN_DIR)) return STORSIM_POSTGRES_BIN_DIR;
  std::string best;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", error)) {
    const fs::path bin = entry.path() / "bin";
    if (complete(bin) && bin.string() > best) best = bin.string();
  }
  return best;
}

// Binds port 0 on loopback and returns the port the kernel chose.
int FreeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  close(fd);
  return port;
}

std::string Tail(const std::string& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  const std::string all = text.str();
  return all.size() > 2000 ? all.substr(all.size() - 2000) : all;
}

}  // namespace

absl::Status PostgresInstance::Run(const std::string& command) const {
  const std::string full =
      (geteuid() == 0 ? "runuser -u postgres -- " : "") + command + " >>" + directory_ +
      "/commands.log 2>&1";
  const int rc = std::system(full.c_str());
  if (rc != 0) {
    return absl::InternalError("command failed (" + std::to_string(rc) + "): " + command +
                               "\n" + Tail(directory_ + "/commands.log") +
                               Tail(directory_ + "/server.log"));
  }
  return absl::OkStatus();
}

absl::Status PostgresInstance::InitDataDirectory() const {
  namespace fs = std::filesystem;
  const std::string data = directory_ + "/data";
  // A cached copy of a fresh initdb (per PostgreSQL version, in the build tree): copying it is
  // several times cheaper than initdb, and every test process starts its own server.
  const std::string version = fs::path(bin_dir_).parent_path().filename().string();
  const std::string cache = std::string(STORSIM_POSTGRES_CACHE_DIR) + "/postgres-initdb-" + version;
  std::error_code error;
  if (fs::exists(cache + "/PG_VERSION", error)) {
    const std::string copy = "cp -a " + cache + " " + data + " >>" + directory_ +
                             "/commands.log 2>&1";
    if (std::system(copy.c_str()) == 0) return absl::OkStatus();
    fs::remove_all(data, error);  // a broken cache: fall back to initdb
  }
  absl::Status initdb = Run(bin_dir_ + "/initdb -D " + data +
                            " -U postgres -A trust -E UTF8 --locale=C --no-sync --no-instructions");
  if (!initdb.ok()) return initdb;
  // Publish the cache atomically: copy aside, then rename (a concurrent publisher may win).
  const std::string staging = cache + ".staging-" + std::to_string(getpid());
  const std::string copy = "cp -a " + data + " " + staging + " >>" + directory_ +
                           "/commands.log 2>&1";
  if (std::system(copy.c_str()) == 0) {
    fs::rename(staging, cache, error);
  }
  fs::remove_all(staging, error);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<PostgresInstance>> PostgresInstance::Start() {
  auto instance = std::unique_ptr<PostgresInstance>(new PostgresInstance());
  instance->bin_dir_ = FindBinDir();
  if (instance->bin_dir_.empty()) {
    return absl::FailedPreconditionError(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found under "
        "/usr/lib/postgresql/*/bin: install the Debian package `postgresql` "
        "(scripts/install-deps.sh does; `make test` runs it)");
  }
  char pattern[] = "/tmp/storsim-pg-XXXXXX";
  if (mkdtemp(pattern) == nullptr) return absl::InternalError("mkdtemp failed");
  instance->directory_ = pattern;
  if (geteuid() == 0) {
    const passwd* user = getpwnam("postgres");
    if (user == nullptr) {
      return absl::FailedPreconditionError(
          "running as root but there is no `postgres` OS user to run the server as");
    }
    if (chown(pattern, user->pw_uid, user->pw_gid) != 0) {
      return absl::InternalError("chown of " + instance->directory_ + " failed");
    }
  }
  instance->port_ = FreeLoopbackPort();
  if (instance->port_ == 0) return absl::InternalError("no free loopback port");
  const std::string& dir = instance->directory_;
  const std::string& bin = instance->bin_dir_;
  absl::Status initdb = instance->InitDataDirectory();
  if (!initdb.ok()) return initdb;
  // pg_ctl -w waits until the server accepts connections (or fails after -t seconds).
  absl::Status started = instance->Run(
      bin + "/pg_ctl -D " + dir + "/data -l " + dir + "/server.log -w -t 60 -o \"-p " +
      std::to_string(instance->port_) + " -k " + dir +
      " -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
      "-c full_page_writes=off -c max_connections=40\" start");
  if (!started.ok()) return started;
  instance->started_ = true;
  instance->conninfo_ = "host=" + dir + " port=" + std::to_string(instance->port_) +
                        " user=postgres dbname=postgres connect_timeout=10";
  auto connection = LibpqPersistence::Connect(instance->conninfo_);
  if (!connection.ok()) return connection.status();
  absl::Status migrated = (*connection)->RunMigrations(STORSIM_MIGRATIONS_DIR);
  if (!migrated.ok()) return migrated;
  return instance;
}

PostgresInstance::~PostgresInstance() {
  if (started_) {
    (void)Run(bin_dir_ + "/pg_ctl -D " + directory_ + "/data -m immediate -w stop");
  }
  std::error_code error;
  if (!directory_.empty()) std::filesystem::remove_all(directory_, error);
}

}  // namespace storsim::persistence
