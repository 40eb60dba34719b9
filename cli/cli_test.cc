// The storsim command as scripts see it: the built binary is run through the shell, its exit
// code, stdout (JSON) and stderr checked. Also the flag parsers, directly.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cli/binary_run_test_util.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "scenarios/run_context.h"
#include "sim/env.h"
#include "sim/simulation.h"

#ifndef STORSIM_BINARY
#error "STORSIM_BINARY must name the built storsim binary"
#endif

namespace storsim::cli {
namespace {

using Outcome = BinaryOutcome;

Outcome Storsim(const std::string& arguments) {
  return RunBinary(STORSIM_BINARY, arguments, "cli_test");
}

// A minimal JSON reader: enough to prove the output is valid JSON and read top-level fields.
// Values keep their raw text; strings are unescaped for \" and \\ only.
class Json {
 public:
  explicit Json(std::string text) : text_(std::move(text)) {}

  // Parses one object; false if the text is not exactly one valid JSON object.
  bool ParseObject(std::map<std::string, std::string>* fields) {
    position_ = 0;
    SkipSpace();
    if (!Object(fields)) return false;
    SkipSpace();
    return position_ == text_.size();
  }

 private:
  void SkipSpace() {
    while (position_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[position_]))) {
      ++position_;
    }
  }
  bool Eat(char c) {
    SkipSpace();
    if (position_ < text_.size() && text_[position_] == c) {
      ++position_;
      return true;
    }
    return false;
  }
  bool String(std::string* out) {
    if (!Eat('"')) return false;
    std::string value;
    while (position_ < text_.size() && text_[position_] != '"') {
      char c = text_[position_++];
      if (c == '\\') {
        if (position_ >= text_.size()) return false;
        c = text_[position_++];
        if (c == 'u') {
          if (position_ + 4 > text_.size()) return false;
          position_ += 4;
          c = '?';
        } else if (std::string("\"\\/bfnrt").find(c) == std::string::npos) {
          return false;
        }
      } else if (static_cast<unsigned char>(c) < 0x20) {
        return false;
      }
      value += c;
    }
    if (!Eat('"')) return false;
    if (out != nullptr) *out = value;
    return true;
  }
  bool Value(std::string* raw) {
    SkipSpace();
    const size_t start = position_;
    bool ok = false;
    if (position_ >= text_.size()) return false;
    const char c = text_[position_];
    if (c == '{') {
      std::map<std::string, std::string> ignored;
      ok = Object(&ignored);
    } else if (c == '[') {
      ++position_;
      ok = true;
      if (!Eat(']')) {
        do {
          ok = Value(nullptr);
        } while (ok && Eat(','));
        ok = ok && Eat(']');
      }
    } else if (c == '"') {
      std::string value;
      ok = String(&value);
      if (ok && raw != nullptr) {
        *raw = value;
        return true;
      }
    } else {
      for (const char* word : {"true", "false", "null"}) {
        if (text_.compare(position_, std::strlen(word), word) == 0) {
          position_ += std::strlen(word);
          ok = true;
        }
      }
      if (!ok) {
        const size_t number_start = position_;
        while (position_ < text_.size() &&
               std::string("-+.eE0123456789").find(text_[position_]) != std::string::npos) {
          ++position_;
        }
        ok = position_ > number_start;
      }
    }
    if (ok && raw != nullptr) *raw = text_.substr(start, position_ - start);
    return ok;
  }
  bool Object(std::map<std::string, std::string>* fields) {
    if (!Eat('{')) return false;
    if (Eat('}')) return true;
    do {
      std::string key;
      std::string value;
      if (!String(&key) || !Eat(':') || !Value(&value)) return false;
      (*fields)[key] = value;
    } while (Eat(','));
    return Eat('}');
  }

  std::string text_;
  size_t position_ = 0;
};

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

std::map<std::string, std::string> ParseOne(const std::string& line) {
  std::map<std::string, std::string> fields;
  EXPECT_TRUE(Json(line).ParseObject(&fields)) << "not one JSON object: " << line;
  return fields;
}

// Seed 1 catches the planted bug (see register_scenario_test.cc for the measured rate).
constexpr const char* kFailingBugRun =
    "run --scenario register --seed 1 --bug register-read-one --json";

TEST(CliTest, ListShowsScenariosAndBugs) {
  const Outcome list = Storsim("list");
  EXPECT_EQ(list.exit_code, 0) << list.err;
  // One scenario per line, in name order: the storage stories and the kernel self-test.
  for (const char* name : {"chaos ", "controller-roll ", "live-migration ", "register "}) {
    EXPECT_TRUE(list.out.rfind(name, 0) == 0 || list.out.find(std::string("\n") + name) !=
                                                     std::string::npos)
        << name << " missing from:\n" << list.out;
  }
  const Outcome bugs = Storsim("list --bugs");
  EXPECT_EQ(bugs.exit_code, 0);
  EXPECT_NE(bugs.out.find("register-read-one"), std::string::npos) << bugs.out;
  // Each defect once, with the scenarios that know it.
  const size_t first = bugs.out.find("canary-generation-reuse");
  ASSERT_NE(first, std::string::npos) << bugs.out;
  EXPECT_EQ(bugs.out.find("canary-generation-reuse", first + 1), std::string::npos) << bugs.out;
  EXPECT_NE(bugs.out.find("scenarios: register"), std::string::npos) << bugs.out;
}

TEST(CliTest, ReproReplaysATokenExactlyAndRefusesBadOnes) {
  const Outcome failing = Storsim(kFailingBugRun);
  ASSERT_EQ(failing.exit_code, 1) << failing.err;
  const auto fields = ParseOne(Lines(failing.out).at(0));
  const std::string token = fields.at("token");
  const Outcome replay = Storsim("repro " + token + " --json");
  EXPECT_EQ(replay.exit_code, 1) << replay.err;
  EXPECT_EQ(ParseOne(Lines(replay.out).at(0)).at("trace_hash"), fields.at("trace_hash"));
  std::string foreign = token;
  foreign.replace(3, foreign.find(':', 3) - 3, "someotherbuild");
  const Outcome refused = Storsim("repro " + foreign);
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find("--force"), std::string::npos) << refused.err;
  EXPECT_EQ(Storsim("repro " + foreign + " --force").exit_code, 1);
  const Outcome malformed = Storsim("repro v9:nonsense");
  EXPECT_EQ(malformed.exit_code, 2);
  EXPECT_NE(malformed.err.find("malformed token"), std::string::npos) << malformed.err;
  EXPECT_EQ(Storsim("repro").exit_code, 2);
}

TEST(CliTest, ShrinkPrintsATokenThatStillFails) {
  const Outcome failing = Storsim(kFailingBugRun);
  const std::string token = ParseOne(Lines(failing.out).at(0)).at("token");
  const Outcome shrunk = Storsim("shrink " + token + " --runs-max 50");
  ASSERT_EQ(shrunk.exit_code, 1) << shrunk.err;
  const std::string new_token = Lines(shrunk.out).at(0);
  EXPECT_EQ(new_token.rfind("v1:", 0), 0u) << new_token;
  EXPECT_EQ(Storsim("repro " + new_token).exit_code, 1);
  EXPECT_NE(shrunk.err.find("shrunk knobs: clients="), std::string::npos) << shrunk.err;
}

// The register scenario's knobs (clients, ops) end to end: printed, overridable with --knob,
// carried by the token, refused when malformed or unknown, and lowered by shrink.
TEST(CliTest, KnobsRunReplayAndShrink) {
  const Outcome run = Storsim("run --scenario register --seed 4 --knob clients=1 --knob ops=30 "
                              "--json");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto fields = ParseOne(Lines(run.out).at(0));
  EXPECT_EQ(fields["knobs"], "{\"clients\":1,\"ops\":30}");
  EXPECT_NE(run.err.find("knobs: clients=1 ops=30"), std::string::npos) << run.err;
  EXPECT_NE(fields["token"].find(":clients=1,ops=30"), std::string::npos) << fields["token"];
  const Outcome replay = Storsim("repro " + fields["token"] + " --json");
  EXPECT_EQ(replay.exit_code, 0) << replay.err;
  EXPECT_EQ(ParseOne(Lines(replay.out).at(0))["trace_hash"], fields["trace_hash"]);
  // Fewer operations is a different run than the seed's own.
  const Outcome drawn = Storsim("run --scenario register --seed 4 --json");
  EXPECT_NE(ParseOne(Lines(drawn.out).at(0))["trace_hash"], fields["trace_hash"]);

  struct Case {
    std::string arguments;
    const char* message;
  };
  const std::string token = fields["token"];
  const std::string prefix = token.substr(0, token.rfind(':') + 1);
  for (const Case& c : {
           Case{"run --scenario register --seed 1 --knob clients", "not NAME=VALUE"},
           Case{"run --scenario register --seed 1 --knob clients=two", "not NAME=VALUE"},
           Case{"run --scenario register --seed 1 --knob clients=1,ops=2", "not NAME=VALUE"},
           Case{"run --scenario register --seed 1 --knob ops=1 --knob ops=2", "given twice"},
           Case{"run --scenario register --seed 1 --knob colour=3", "has no knob 'colour'"},
           Case{"repro " + prefix + "clients=x", "malformed token"},
           Case{"repro " + prefix + "Clients=1", "malformed token"},
           Case{"shrink " + prefix + "clients=1,clients=2", "given twice"},
       }) {
    const Outcome outcome = Storsim(c.arguments);
    EXPECT_EQ(outcome.exit_code, 2) << c.arguments << ": " << outcome.err;
    EXPECT_NE(outcome.err.find(c.message), std::string::npos) << c.arguments << ": "
                                                              << outcome.err;
  }

  // A knob the replay never asks for is noted, not refused (it may have drawn only what the
  // token's fault plan replaces).
  const Outcome unused = Storsim("repro " + prefix + "clients=1,colour=3,ops=30");
  EXPECT_EQ(unused.exit_code, 0) << unused.err;
  EXPECT_NE(unused.err.find("note: scenario 'register' has no knob 'colour'"), std::string::npos)
      << unused.err;

  // Shrinking the planted bug's failure lowers ops from the drawn 100000.
  const Outcome failing = Storsim(kFailingBugRun);
  const Outcome shrunk =
      Storsim("shrink " + ParseOne(Lines(failing.out).at(0)).at("token") + " --runs-max 120");
  ASSERT_EQ(shrunk.exit_code, 1) << shrunk.err;
  EXPECT_NE(shrunk.err.find("knob ops -> "), std::string::npos) << shrunk.err;
  const std::string new_token = Lines(shrunk.out).at(0);
  const size_t ops = new_token.find("ops=");
  ASSERT_NE(ops, std::string::npos) << new_token;
  EXPECT_LT(std::stoll(new_token.substr(ops + 4)), 100'000) << new_token;
  const Outcome replayed = Storsim("repro " + new_token + " --json");
  EXPECT_EQ(replayed.exit_code, 1) << replayed.err;
}

TEST(CliTest, ShardsWithJobsMergeIntoTheWholeSweep) {
  const std::string dir = ::testing::TempDir() + "/storsim_cli_shards";
  const std::string common = " --scenario register --seeds 6 --jobs 2 --out " + dir;
  ASSERT_EQ(Storsim("fuzz --shard 0/2" + common + "/a").exit_code, 0);
  ASSERT_EQ(Storsim("fuzz --shard 1/2" + common + "/b").exit_code, 0);
  const Outcome merged = Storsim("merge " + dir + "/a " + dir + "/b --json");
  EXPECT_EQ(merged.exit_code, 0) << merged.err;
  EXPECT_NE(merged.out.find("\"seeds\":6"), std::string::npos) << merged.out;
  EXPECT_EQ(Storsim("merge " + dir + "/missing").exit_code, 2);
  EXPECT_EQ(Storsim("fuzz --seeds 1 --shard 2/2").exit_code, 2);
}

TEST(CliTest, RunJsonPrintsOneObjectWithTheContractFields) {
  const Outcome run = Storsim("run --scenario register --seed 4 --json");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::vector<std::string> lines = Lines(run.out);
  ASSERT_EQ(lines.size(), 1u) << run.out;
  std::map<std::string, std::string> fields = ParseOne(lines[0]);
  for (const char* key : {"scenario", "seed", "token", "protocol", "bugs", "ok", "violations",
                          "trace_hash", "events", "sim_ns", "wall_ms"}) {
    EXPECT_EQ(fields.count(key), 1u) << key;
  }
  EXPECT_EQ(fields["scenario"], "register");
  EXPECT_EQ(fields["seed"], "4");
  EXPECT_EQ(fields["ok"], "true");
  EXPECT_EQ(fields["violations"], "[]");
  EXPECT_EQ(fields["bugs"], "[]");
  EXPECT_EQ(fields["token"].rfind("v1:", 0), 0u);
  EXPECT_EQ(fields["trace_hash"].size(), 16u);
  EXPECT_GT(std::stoll(fields["events"]), 100);
  EXPECT_GT(std::stoll(fields["sim_ns"]), 0);
  // The human line on stderr names the seed and the build.
  EXPECT_NE(run.err.find("seed=4 build="), std::string::npos) << run.err;
  // Another process, same seed: the same fingerprint.
  EXPECT_EQ(
      ParseOne(Lines(Storsim("run --scenario register --seed 4 --json").out).at(0))["trace_hash"],
      fields["trace_hash"]);
}

TEST(CliTest, PlantedBugExitsOneWithTheViolation) {
  const Outcome run = Storsim(kFailingBugRun);
  EXPECT_EQ(run.exit_code, 1) << run.err;
  std::map<std::string, std::string> fields = ParseOne(Lines(run.out).at(0));
  EXPECT_EQ(fields["ok"], "false");
  EXPECT_NE(fields["violations"].find("\"invariant\":\"REG"), std::string::npos)
      << fields["violations"];
  EXPECT_NE(run.err.find("VIOLATION REG"), std::string::npos) << run.err;
}

TEST(CliTest, WritesTraceFiles) {
  const std::string prefix = ::testing::TempDir() + "cli_test_" + std::to_string(getpid());
  const std::string ndjson = prefix + "_trace.ndjson";
  const std::string perfetto = prefix + "_trace.json";
  const Outcome run = Storsim("run --scenario register --seed 3 --json --trace " + ndjson +
                              " --perfetto " + perfetto);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::string events = ParseOne(Lines(run.out).at(0))["events"];
  std::FILE* file = std::fopen(ndjson.c_str(), "r");
  ASSERT_NE(file, nullptr);
  size_t lines = 0;
  for (int c = std::fgetc(file); c != EOF; c = std::fgetc(file)) lines += c == '\n' ? 1 : 0;
  std::fclose(file);
  EXPECT_EQ(std::to_string(lines), events);
  file = std::fopen(perfetto.c_str(), "r");
  ASSERT_NE(file, nullptr);
  std::string perfetto_text;
  for (int c = std::fgetc(file); c != EOF; c = std::fgetc(file))
    perfetto_text += static_cast<char>(c);
  std::fclose(file);
  std::map<std::string, std::string> trace = ParseOne(perfetto_text);  // valid JSON, closed
  EXPECT_EQ(trace.count("traceEvents"), 1u);
  const Outcome unwritable = Storsim("run --scenario register --seed 3 --trace /nonexistent/x");
  EXPECT_EQ(unwritable.exit_code, 2);
  EXPECT_NE(unwritable.err.find("cannot write trace file"), std::string::npos);
}

TEST(CliTest, CheckDeterminismPasses) {
  const Outcome run = Storsim("run --scenario register --seed 2 --check-determinism");
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.err.find("deterministic: two runs gave trace_hash"), std::string::npos) << run.err;
}

TEST(CliTest, BadUsageExitsTwoWithAMessage) {
  struct Case {
    const char* arguments;
    const char* message;
  };
  for (const Case& c : {
           Case{"run --scenario nope --seed 1", "unknown scenario 'nope'"},
           Case{"run --scenario register --seed 1 --frobnicate", "unknown flag '--frobnicate'"},
           Case{"run --scenario register --seed", "needs a value"},
           Case{"run --scenario register --seed x12", "'x12' is not"},
           Case{"run --scenario register --seed -3", "'-3' is not"},
           Case{"run --scenario register", "needs --scenario and --seed"},
           Case{"run --scenario register --seed 1 --bug nope", "has no bug 'nope'"},
           Case{"frobnicate", "unknown command 'frobnicate'"},
           Case{"fuzz --scenario register", "exactly one of --seeds N or --time D"},
           Case{"fuzz --time 10parsecs", "not a duration"},
           Case{"fuzz --seeds 2 --bug nope", "no selected scenario has bug 'nope'"},
           Case{"fuzz --seeds 2 --knob ops", "not NAME=VALUE"},
           Case{"fuzz --seeds 2 --jobs 2 --knob ops=x", "not NAME=VALUE"},
           Case{"list --everything", "unknown flag"},
       }) {
    const Outcome outcome = Storsim(c.arguments);
    EXPECT_EQ(outcome.exit_code, 2) << c.arguments;
    EXPECT_NE(outcome.err.find(c.message), std::string::npos) << c.arguments << ": " << outcome.err;
    EXPECT_NE(outcome.err.find("storsim "), std::string::npos) << c.arguments;  // a hint
  }
}

TEST(CliTest, HelpForEveryCommand) {
  for (const char* arguments :
       {"help", "--help", "help run", "run --help", "fuzz --help", "list --help", "help fuzz"}) {
    const Outcome outcome = Storsim(arguments);
    EXPECT_EQ(outcome.exit_code, 0) << arguments;
    EXPECT_NE(outcome.out.find("usage: storsim"), std::string::npos) << arguments;
  }
}

TEST(CliTest, FuzzJsonEndsWithASummary) {
  const Outcome clean = Storsim("fuzz --scenario register --seeds 3 --json");
  EXPECT_EQ(clean.exit_code, 0) << clean.err;
  const std::vector<std::string> lines = Lines(clean.out);
  ASSERT_EQ(lines.size(), 4u) << clean.out;  // three runs, then the summary
  std::map<std::string, std::string> summary = ParseOne(lines.back());
  EXPECT_EQ(summary["seeds"], "3");
  EXPECT_EQ(summary["failures"], "[]");
  for (const char* key : {"seeds_per_sec", "sim_seconds_per_wall_second", "marks_missed"}) {
    EXPECT_EQ(summary.count(key), 1u) << key;
  }

  const Outcome buggy = Storsim("fuzz --scenario all --seeds 3 --bug register-read-one --json");
  EXPECT_EQ(buggy.exit_code, 1) << buggy.err;
  summary = ParseOne(Lines(buggy.out).back());
  EXPECT_NE(summary["failures"].find("\"seed\":1"), std::string::npos) << summary["failures"];
  EXPECT_NE(summary["failures"].find("\"token\":\"v1:"), std::string::npos);
}

// fuzz --knob sets the knob in every run, in process and in forked workers: each run's JSON
// and token carry the value instead of a drawn one.
TEST(CliTest, FuzzKnobsReachEveryRun) {
  const Outcome in_process = Storsim("fuzz --scenario register --seeds 3 --knob ops=7 --json");
  ASSERT_EQ(in_process.exit_code, 0) << in_process.err;
  EXPECT_NE(in_process.err.find("knobs=ops=7"), std::string::npos) << in_process.err;
  const std::vector<std::string> lines = Lines(in_process.out);
  ASSERT_EQ(lines.size(), 4u) << in_process.out;
  for (size_t i = 0; i + 1 < lines.size(); ++i) {
    std::map<std::string, std::string> run = ParseOne(lines[i]);
    EXPECT_NE(run["knobs"].find("\"ops\":7"), std::string::npos) << run["knobs"];
    EXPECT_NE(run["token"].find("ops=7"), std::string::npos) << run["token"];
  }
  const Outcome forked = Storsim(
      "fuzz --scenario register --seeds 6 --knob ops=200 --bug register-read-one --jobs 2 --json");
  EXPECT_EQ(forked.exit_code, 1) << forked.err;
  std::map<std::string, std::string> summary = ParseOne(Lines(forked.out).back());
  EXPECT_NE(summary["failures"].find("ops=200"), std::string::npos) << summary["failures"];
}

// With forked workers, each failing seed is named on stderr as it is found (an interrupted long
// sweep keeps what it found), once, before the final list.
TEST(CliTest, ForkedFuzzNamesEachFailureAsItIsFound) {
  const Outcome buggy =
      Storsim("fuzz --scenario register --seeds 6 --bug register-read-one --jobs 2");
  EXPECT_EQ(buggy.exit_code, 1) << buggy.err;
  const size_t first = buggy.err.find("fuzz: FAILED register/");
  ASSERT_NE(first, std::string::npos) << buggy.err;
  EXPECT_LT(first, buggy.err.find("sweep summary:")) << buggy.err;
  EXPECT_NE(buggy.err.find("(storsim run --scenario register --seed "), std::string::npos);
  size_t named = 0;
  for (size_t at = 0; (at = buggy.err.find("fuzz: FAILED ", at)) != std::string::npos; ++at) {
    ++named;
  }
  const size_t failed_at = buggy.err.find("sweep summary: 6 runs, ");
  ASSERT_NE(failed_at, std::string::npos) << buggy.err;
  const int failed = std::stoi(buggy.err.substr(failed_at + std::string("sweep summary: 6 runs, ").size()));
  EXPECT_EQ(named, static_cast<size_t>(failed)) << buggy.err;
}

TEST(CliTest, BugzooMeasuresTheRegisterBugWithATinyBudget) {
  const std::string table = ::testing::TempDir() + "cli_test_bugzoo_" + std::to_string(getpid());
  const Outcome measured =
      Storsim("bugzoo --scenario register --bug register-read-one --sweeps 2 --max-seeds 5 "
              "--shrink-runs 60 --jobs 2 --json --markdown " + table);
  ASSERT_EQ(measured.exit_code, 0) << measured.err;
  const std::vector<std::string> lines = Lines(measured.out);
  ASSERT_EQ(lines.size(), 1u) << measured.out;  // one object per defect
  std::map<std::string, std::string> bug = ParseOne(lines[0]);
  EXPECT_EQ(bug["bug"], "register-read-one");
  EXPECT_EQ(bug["expected"], "[\"REG1\",\"REG3\"]");
  EXPECT_EQ(bug["best_scenario"], "register");
  EXPECT_NE(bug["shrunk"].find("\"done\":true"), std::string::npos) << bug["shrunk"];
  EXPECT_NE(measured.err.find("register-read-one on register sweep 2: caught after"),
            std::string::npos)
      << measured.err;
  std::FILE* file = std::fopen(table.c_str(), "r");
  ASSERT_NE(file, nullptr);
  std::string text;
  for (int c = std::fgetc(file); c != EOF; c = std::fgetc(file)) text += static_cast<char>(c);
  std::fclose(file);
  EXPECT_NE(text.find("| `register-read-one` |"), std::string::npos) << text;
  EXPECT_NE(text.find("| register | REG"), std::string::npos) << text;
  EXPECT_NE(text.find("2/2"), std::string::npos) << text;

  // --knob reaches every run: the detecting run's token carries the value.
  const Outcome knobbed =
      Storsim("bugzoo --scenario register --bug register-read-one --sweeps 1 --max-seeds 6 "
              "--shrink-runs 0 --knob ops=200 --json");
  ASSERT_EQ(knobbed.exit_code, 0) << knobbed.err;
  EXPECT_NE(knobbed.out.find("ops=200"), std::string::npos) << knobbed.out;

  for (const char* arguments :
       {"bugzoo --bug nope", "bugzoo --scenario register --sweeps 0",
        "bugzoo --scenario register --expect register-read-one", "bugzoo --scenario nope",
        "bugzoo --scenario register --knob ops"}) {
    EXPECT_EQ(Storsim(arguments).exit_code, 2) << arguments;
  }
}

// A scenario that breaks determinism on purpose: each run's trace carries how many runs this
// process has made, so a replay differs from its first run.
int64_t flaky_runs = 0;

void FlakyBody(scenarios::ScenarioRun& run) {
  ++flaky_runs;
  sim::Simulation& simulation = run.CreateSimulation({});
  simulation
      .AddProcess("p",
                  [](sim::Env& env) {
                    env.Emit("flaky.tick", {sim::TraceField::Int("runs", flaky_runs)});
                    env.shutdown_requested().Wait();
                  })
      .Start();
  run.RunFor(sim::Duration::Seconds(1));
}

void SteadyBody(scenarios::ScenarioRun& run) {
  sim::Simulation& simulation = run.CreateSimulation({});
  simulation.AddProcess("p", [](sim::Env& env) { env.shutdown_requested().Wait(); }).Start();
  run.RunFor(sim::Duration::Seconds(1));
}

// Runs `fuzz` in this process on a registry of the flaky and a steady scenario.
Outcome FuzzInProcess(const std::vector<std::string>& arguments) {
  scenarios::ScenarioRegistry registry;
  registry.Add({"flaky", "nondeterministic on purpose", {}, FlakyBody});
  registry.Add({"steady", "deterministic", {}, SteadyBody});
  std::FILE* out = std::tmpfile();
  std::FILE* err = std::tmpfile();
  const CommandContext context{registry, "testbuild", out, err};
  Outcome outcome;
  outcome.exit_code = Dispatch(context, arguments);
  for (auto [file, text] : {std::pair{out, &outcome.out}, std::pair{err, &outcome.err}}) {
    std::rewind(file);
    char buffer[4096];
    for (size_t read; (read = std::fread(buffer, 1, sizeof buffer, file)) > 0;) {
      text->append(buffer, read);
    }
    std::fclose(file);
  }
  return outcome;
}

TEST(CliTest, FuzzSamplesRunsForDeterminismInBothModes) {
  // Sequential mode, every run replayed: the flaky scenario fails DETERMINISM with the first
  // differing event, and the sweep exits 3 (a harness defect).
  Outcome all = FuzzInProcess({"fuzz", "--scenario", "flaky", "--seeds", "2",
                               "--determinism-percent", "100", "--json"});
  EXPECT_EQ(all.exit_code, 3) << all.err;
  EXPECT_NE(all.err.find("invariant=DETERMINISM"), std::string::npos) << all.err;
  EXPECT_NE(all.err.find("first divergence at event"), std::string::npos) << all.err;
  EXPECT_NE(all.err.find("flaky.tick"), std::string::npos) << all.err;
  EXPECT_NE(all.err.find("2 replayed for determinism (2 differed)"), std::string::npos) << all.err;
  std::map<std::string, std::string> summary = ParseOne(Lines(all.out).back());
  EXPECT_EQ(summary["determinism_checked"], "2");
  EXPECT_EQ(summary["nondeterministic"], "2");
  EXPECT_NE(summary["failures"].find("\"invariant\":\"DETERMINISM\""), std::string::npos);

  // None replayed: the flaws go unseen.
  Outcome none = FuzzInProcess({"fuzz", "--scenario", "flaky", "--seeds", "2",
                                "--determinism-percent", "0"});
  EXPECT_EQ(none.exit_code, 0) << none.err;
  EXPECT_NE(none.err.find("0 replayed for determinism"), std::string::npos) << none.err;

  // The default 5%: over 200 seeds of a deterministic scenario, about 10 replays, all equal; and
  // the library mode picks exactly the same runs.
  Outcome sequential = FuzzInProcess({"fuzz", "--scenario", "steady", "--seeds", "200"});
  EXPECT_EQ(sequential.exit_code, 0) << sequential.err;
  const size_t at = sequential.err.find(" replayed for determinism (0 differed)");
  ASSERT_NE(at, std::string::npos) << sequential.err;
  const std::string count = sequential.err.substr(sequential.err.rfind(' ', at - 1) + 1,
                                                  at - sequential.err.rfind(' ', at - 1) - 1);
  EXPECT_GE(std::stoi(count), 3);
  EXPECT_LE(std::stoi(count), 25);
  Outcome library =
      FuzzInProcess({"fuzz", "--scenario", "steady", "--seeds", "200", "--jobs", "1"});
  EXPECT_EQ(library.exit_code, 0) << library.err;
  EXPECT_NE(library.err.find(count + " replayed for determinism (0 differed)"), std::string::npos)
      << library.err;

  // The library mode reports a difference too, with the differing events.
  Outcome forked = FuzzInProcess({"fuzz", "--scenario", "flaky", "--seeds", "2", "--jobs", "1",
                                  "--determinism-percent", "100"});
  EXPECT_EQ(forked.exit_code, 3) << forked.err;
  EXPECT_NE(forked.err.find("DETERMINISM NOT deterministic"), std::string::npos) << forked.err;
  EXPECT_NE(forked.err.find("flaky.tick"), std::string::npos) << forked.err;

  EXPECT_EQ(FuzzInProcess({"fuzz", "--seeds", "1", "--determinism-percent", "101"}).exit_code, 2);
}

TEST(FlagsTest, ParsesValuesRepeatsAndEqualsForm) {
  absl::StatusOr<ParsedFlags> flags =
      ParseFlags({{"seed", true}, {"bug", true, true}, {"json"}},
                 {"--seed=7", "--bug", "a", "--bug", "b", "--json"}, "run");
  ASSERT_TRUE(flags.ok()) << flags.status();
  EXPECT_EQ(flags->Get("seed"), "7");
  EXPECT_EQ(flags->GetAll("bug"), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(flags->Has("json"));
  EXPECT_FALSE(flags->Has("help"));
  EXPECT_FALSE(ParseFlags({{"seed", true}}, {"--seed", "1", "--seed", "2"}, "run").ok());
  EXPECT_FALSE(ParseFlags({{"json"}}, {"--json=yes"}, "run").ok());
  EXPECT_FALSE(ParseFlags({{"json"}}, {"stray"}, "run").ok());
}

TEST(FlagsTest, ParsesNumbersAndDurations) {
  EXPECT_EQ(*ParseUnsigned("18446744073709551615", "n"), UINT64_MAX);
  EXPECT_FALSE(ParseUnsigned("18446744073709551616", "n").ok());
  EXPECT_FALSE(ParseUnsigned("", "n").ok());
  EXPECT_FALSE(ParseUnsigned("1e3", "n").ok());
  EXPECT_EQ(*ParseDuration("10m", "t"), sim::Duration::Minutes(10));
  EXPECT_EQ(*ParseDuration("500ms", "t"), sim::Duration::Millis(500));
  EXPECT_EQ(*ParseDuration("2h", "t"), sim::Duration::Minutes(120));
  EXPECT_FALSE(ParseDuration("10", "t").ok());
  EXPECT_FALSE(ParseDuration("m", "t").ok());
}

}  // namespace
}  // namespace storsim::cli
