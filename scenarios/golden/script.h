// Golden scripts: a tiny line-oriented language that states one storage story (topology, timed
// actions, expectations) short enough for a reviewer to read. This header holds the parsed form
// and the parser; golden_run.h runs a parsed script; README.md is the language reference.
//
//   # a comment (also after a statement)
//   pageservers 3                          settings: before the first action, each at most once
//   at 10s migrate tenant 0 shard 0 to node 2
//   run 30s                                advance the simulation (timed lines fire on the way)
//   expect attached tenant 0 shard 0 node 2 generation 2
//
// Times after `at` are measured from the instant the cluster is up (every tenant created); `run`
// durations from the current instant. Parse errors name the line: "line 7: unknown action 'foo'".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "sim/time.h"

namespace storsim::scenarios::golden {

// A process the script names: `pageserver 2` (node id), `controller 0` (pod slot), `compute 0`
// (tenant index), `db`, `cplane`, `safekeeper`, `s3`, `kubelet`.
struct ProcessRef {
  enum class Kind : uint8_t {
    kPageserver,
    kController,
    kCompute,
    kDb,
    kCplane,
    kSafekeeper,
    kS3,
    kKubelet
  };
  Kind kind = Kind::kDb;
  int index = 0;
  std::string ToString() const;  // as written: "pageserver 2"
};

enum class Comparison : uint8_t { kLess, kLessEqual, kEqual, kNotEqual, kGreaterEqual, kGreater };
bool Compare(int64_t actual, Comparison comparison, int64_t expected);
const char* ComparisonName(Comparison comparison);  // "<=", ...

struct Settings {
  uint64_t seed = 1;
  int pageservers = 3;
  int tenants = 1;
  int shards = 0;  // per tenant; 0 = unsharded
  int secondaries = 1;
  std::string protocol = "step-down";  // step-down | naive | lease | lease-fenced
  bool lakebase = false;               // computes signal refresh on failed reads (SPEC §8.2)
  std::vector<std::string> bugs;       // planted defects (SPEC §12), by name
  int drain_concurrency = 0;           // shards a drain or fill moves at once; 0 = model default
};

// What an `expect` line checks; evaluated at the instant the line is reached (or at its `at`).
struct Expectation {
  enum class Kind : uint8_t {
    kAttached,        // attached tenant T shard S node N [generation G]
    kConverged,       // converged  (SPEC L1 checked now)
    kNoViolations,    // no violations
    kEvent,           // event KIND [key=value ...] [count OP N] [since T]
    kNoEvent,         // no event KIND [key=value ...] [since T]
    kUnavailability,  // 503-window OP DURATION  (the longest failed stretch of the probe)
    kNodePolicy,      // node N policy NAME
    kNodeAttached,    // node N attached OP K   (shards the leader intends attached there)
    kRollout,         // rollout [revision R] PHASE
    kCompute,         // compute T status NAME [node N]
  };
  Kind kind = Kind::kConverged;
  int tenant = 0;
  int shard = 0;
  int64_t node = 0;
  std::optional<int64_t> generation;
  std::string name;  // event kind, policy, rollout phase, compute status
  std::vector<std::pair<std::string, std::string>> fields;
  Comparison comparison = Comparison::kGreaterEqual;
  int64_t count = 1;
  sim::Duration duration;
  std::optional<sim::Duration> since;
  std::optional<int64_t> revision;
  std::optional<int64_t> compute_node;
};

struct Action {
  enum class Kind : uint8_t {
    kMigrate,        // migrate tenant T shard S to node N
    kFault,          // crash|kill|stop|pause|restart|start|isolate P [for D]; partition P P [for D]
    kHeal,           // heal: partitions healed, processes restarted (StorageWorld::Heal)
    kRoll,           // roll controller [recreate]
    kNodeOperation,  // drain|fill|cancel drain|cancel fill node N
    kCplaneFail,     // cplane fail CODE [for D]
    kCplaneClear,    // cplane ok
    kComputeRefresh,  // compute refresh tenant T  (POST /refresh_configuration)
    kProbe,           // probe controller  (the client-side 503 window starts being measured)
    kExpect,          // at T expect ...
  };
  Kind kind = Kind::kHeal;
  std::string verb;  // fault verb, node operation ("drain", "cancel_drain", ...)
  ProcessRef process;
  ProcessRef other;
  int tenant = 0;
  int shard = 0;
  int64_t node = 0;
  int http = 0;
  bool recreate = false;
  std::optional<sim::Duration> duration;  // "for D"
  Expectation expectation;
};

struct Statement {
  enum class Kind : uint8_t { kAction, kRun, kExpect };
  int line = 0;
  std::string text;  // the line as written, without its comment
  Kind kind = Kind::kRun;
  sim::Duration at;    // kAction: since the cluster came up
  sim::Duration run;   // kRun
  Action action;       // kAction
  Expectation expect;  // kExpect
};

struct Script {
  std::string name;  // file stem, for messages
  Settings settings;
  std::vector<Statement> statements;
};

// Parses a script; `name` (the file stem) is kept for messages and traced. Error:
// InvalidArgument "line N: <what is wrong>" for the first bad line; also for timed lines that no
// `run` reaches and for `at` times earlier than the runs before them.
absl::StatusOr<Script> ParseScript(const std::string& name, const std::string& text);

// "10s", "500ms", "2m", "1.5s" -> duration. nullopt when malformed or negative.
std::optional<sim::Duration> ParseDuration(const std::string& text);

}  // namespace storsim::scenarios::golden
