// Parsing golden scripts: one statement per line, words separated by blanks, '#' starts a comment.
// The grammar is in README.md; every error names its line.
#include "scenarios/golden/script.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <map>
#include <set>
#include <sstream>

#include "absl/status/status.h"

namespace storsim::scenarios::golden {
namespace {

constexpr int kLinesMax = 1000;
constexpr int kIndexMax = 64;

// Thrown inside the parser only; turned into the InvalidArgument status with the line number.
struct ParseError {
  std::string message;
};

// The words of one line, consumed left to right.
class Words {
 public:
  explicit Words(std::vector<std::string> words) : words_(std::move(words)) {}

  bool done() const { return next_ == words_.size(); }
  const std::string& Peek() const {
    static const std::string kEmpty;
    return done() ? kEmpty : words_[next_];
  }
  std::string Take(const char* what) {
    if (done()) throw ParseError{std::string("missing ") + what};
    return words_[next_++];
  }
  bool TakeIf(const std::string& word) {
    if (done() || words_[next_] != word) return false;
    ++next_;
    return true;
  }
  void Expect(const std::string& word) {
    if (done()) throw ParseError{"missing '" + word + "'"};
    if (words_[next_] != word) {
      throw ParseError{"expected '" + word + "', found '" + words_[next_] + "'"};
    }
    ++next_;
  }
  int64_t Integer(const char* what, int64_t min, int64_t max) {
    const std::string word = Take(what);
    char* end = nullptr;
    const long long value = std::strtoll(word.c_str(), &end, 10);
    if (word.empty() || *end != '\0' || value < min || value > max) {
      throw ParseError{std::string("bad ") + what + " '" + word + "' (an integer in [" +
                       std::to_string(min) + ", " + std::to_string(max) + "])"};
    }
    return value;
  }
  sim::Duration Duration(const char* what) {
    const std::string word = Take(what);
    std::optional<sim::Duration> duration = ParseDuration(word);
    if (!duration)
      throw ParseError{std::string("bad ") + what + " '" + word + "' (e.g. 10s, 500ms, 2m)"};
    return *duration;
  }
  void End() {
    if (!done()) throw ParseError{"unexpected '" + words_[next_] + "'"};
  }

 private:
  std::vector<std::string> words_;
  size_t next_ = 0;
};

Comparison ParseComparison(Words& words) {
  static const std::map<std::string, Comparison> kComparisons = {
      {"<", Comparison::kLess},          {"<=", Comparison::kLessEqual},
      {"==", Comparison::kEqual},        {"!=", Comparison::kNotEqual},
      {">=", Comparison::kGreaterEqual}, {">", Comparison::kGreater}};
  const std::string word = words.Take("comparison");
  auto it = kComparisons.find(word);
  if (it == kComparisons.end()) throw ParseError{"bad comparison '" + word + "' (< <= == != >= >)"};
  return it->second;
}

ProcessRef ParseProcess(Words& words) {
  static const std::map<std::string, ProcessRef::Kind> kIndexed = {
      {"pageserver", ProcessRef::Kind::kPageserver},
      {"controller", ProcessRef::Kind::kController},
      {"compute", ProcessRef::Kind::kCompute}};
  static const std::map<std::string, ProcessRef::Kind> kSingle = {
      {"db", ProcessRef::Kind::kDb},
      {"cplane", ProcessRef::Kind::kCplane},
      {"safekeeper", ProcessRef::Kind::kSafekeeper},
      {"s3", ProcessRef::Kind::kS3},
      {"kubelet", ProcessRef::Kind::kKubelet}};
  const std::string word = words.Take("process");
  ProcessRef process;
  if (auto it = kIndexed.find(word); it != kIndexed.end()) {
    process.kind = it->second;
    process.index = static_cast<int>(words.Integer("process number", 0, kIndexMax));
  } else if (auto single = kSingle.find(word); single != kSingle.end()) {
    process.kind = single->second;
  } else {
    throw ParseError{
        "unknown process '" + word +
        "' (pageserver N, controller N, compute N, db, cplane, safekeeper, s3, kubelet)"};
  }
  return process;
}

// "key=value" words until a keyword of the expectation's tail.
void ParseFields(Words& words, Expectation& expectation) {
  for (int i = 0; i < 32 && !words.done(); ++i) {
    const std::string& word = words.Peek();
    const size_t equals = word.find('=');
    if (equals == std::string::npos) return;
    if (equals == 0 || equals + 1 == word.size())
      throw ParseError{"bad field '" + word + "' (key=value)"};
    expectation.fields.push_back({word.substr(0, equals), word.substr(equals + 1)});
    words.Take("field");
  }
}

Expectation ParseExpectation(Words& words) {
  Expectation expectation;
  const std::string what = words.Take("expectation");
  if (what == "attached") {
    expectation.kind = Expectation::Kind::kAttached;
    words.Expect("tenant");
    expectation.tenant = static_cast<int>(words.Integer("tenant", 0, kIndexMax));
    words.Expect("shard");
    expectation.shard = static_cast<int>(words.Integer("shard", 0, 255));
    words.Expect("node");
    expectation.node = words.Integer("node", 1, kIndexMax);
    if (words.TakeIf("generation"))
      expectation.generation = words.Integer("generation", 0, 1 << 30);
  } else if (what == "converged") {
    expectation.kind = Expectation::Kind::kConverged;
  } else if (what == "no") {
    const std::string next = words.Take("'violations' or 'event'");
    if (next == "violations") {
      expectation.kind = Expectation::Kind::kNoViolations;
    } else if (next == "event") {
      expectation.kind = Expectation::Kind::kNoEvent;
      expectation.name = words.Take("event kind");
      ParseFields(words, expectation);
      if (words.TakeIf("since")) expectation.since = words.Duration("time");
    } else {
      throw ParseError{"expected 'no violations' or 'no event', found 'no " + next + "'"};
    }
  } else if (what == "event") {
    expectation.kind = Expectation::Kind::kEvent;
    expectation.name = words.Take("event kind");
    ParseFields(words, expectation);
    if (words.TakeIf("count")) {
      expectation.comparison = ParseComparison(words);
      expectation.count = words.Integer("count", 0, 1'000'000'000);
    }
    if (words.TakeIf("since")) expectation.since = words.Duration("time");
  } else if (what == "503-window") {
    expectation.kind = Expectation::Kind::kUnavailability;
    expectation.comparison = ParseComparison(words);
    expectation.duration = words.Duration("window");
  } else if (what == "node") {
    expectation.node = words.Integer("node", 1, kIndexMax);
    const std::string property = words.Take("'policy' or 'attached'");
    if (property == "policy") {
      expectation.kind = Expectation::Kind::kNodePolicy;
      expectation.name = words.Take("policy");
    } else if (property == "attached") {
      expectation.kind = Expectation::Kind::kNodeAttached;
      expectation.comparison = ParseComparison(words);
      expectation.count = words.Integer("count", 0, 1'000'000);
    } else {
      throw ParseError{"expected 'policy' or 'attached' after the node, found '" + property + "'"};
    }
  } else if (what == "rollout") {
    expectation.kind = Expectation::Kind::kRollout;
    if (words.TakeIf("revision")) expectation.revision = words.Integer("revision", 1, 1000);
    expectation.name = words.Take("rollout phase");
  } else if (what == "compute") {
    expectation.kind = Expectation::Kind::kCompute;
    expectation.tenant = static_cast<int>(words.Integer("tenant", 0, kIndexMax));
    words.Expect("status");
    expectation.name = words.Take("compute status");
    if (words.TakeIf("node")) expectation.compute_node = words.Integer("node", 1, kIndexMax);
  } else {
    throw ParseError{"unknown expectation '" + what +
                     "' (attached, converged, no violations, event, no event, 503-window, node, "
                     "rollout, compute)"};
  }
  words.End();
  return expectation;
}

std::optional<sim::Duration> ParseFor(Words& words) {
  if (!words.TakeIf("for")) return std::nullopt;
  return words.Duration("duration");
}

Action ParseAction(Words& words) {
  static const std::set<std::string> kFaultVerbs = {"crash",   "kill",  "stop",    "pause",
                                                    "restart", "start", "isolate", "partition"};
  Action action;
  const std::string verb = words.Take("action");
  if (verb == "migrate") {
    action.kind = Action::Kind::kMigrate;
    words.Expect("tenant");
    action.tenant = static_cast<int>(words.Integer("tenant", 0, kIndexMax));
    words.Expect("shard");
    action.shard = static_cast<int>(words.Integer("shard", 0, 255));
    words.Expect("to");
    words.Expect("node");
    action.node = words.Integer("node", 1, kIndexMax);
  } else if (kFaultVerbs.count(verb)) {
    action.kind = Action::Kind::kFault;
    action.verb = verb;
    action.process = ParseProcess(words);
    if (verb == "partition") action.other = ParseProcess(words);
    action.duration = ParseFor(words);
    if ((verb == "pause") && !action.duration) throw ParseError{"'pause' needs 'for DURATION'"};
  } else if (verb == "heal") {
    action.kind = Action::Kind::kHeal;
  } else if (verb == "roll") {
    action.kind = Action::Kind::kRoll;
    words.Expect("controller");
    action.recreate = words.TakeIf("recreate");
  } else if (verb == "drain" || verb == "fill" || verb == "cancel") {
    action.kind = Action::Kind::kNodeOperation;
    action.verb = verb;
    if (verb == "cancel") {
      const std::string operation = words.Take("'drain' or 'fill'");
      if (operation != "drain" && operation != "fill") {
        throw ParseError{"expected 'cancel drain' or 'cancel fill', found 'cancel " + operation +
                         "'"};
      }
      action.verb = "cancel_" + operation;
    }
    words.Expect("node");
    action.node = words.Integer("node", 1, kIndexMax);
  } else if (verb == "cplane") {
    const std::string what = words.Take("'fail' or 'ok'");
    if (what == "fail") {
      action.kind = Action::Kind::kCplaneFail;
      action.http = static_cast<int>(words.Integer("HTTP status", 400, 599));
      action.duration = ParseFor(words);
    } else if (what == "ok") {
      action.kind = Action::Kind::kCplaneClear;
    } else {
      throw ParseError{"expected 'cplane fail CODE' or 'cplane ok', found 'cplane " + what + "'"};
    }
  } else if (verb == "db") {
    // `db down for D`: the database crashes and comes back after D.
    words.Expect("down");
    action.kind = Action::Kind::kFault;
    action.verb = "crash";
    action.process.kind = ProcessRef::Kind::kDb;
    action.duration = ParseFor(words);
    if (!action.duration) throw ParseError{"'db down' needs 'for DURATION'"};
  } else if (verb == "compute") {
    words.Expect("refresh");
    words.Expect("tenant");
    action.kind = Action::Kind::kComputeRefresh;
    action.tenant = static_cast<int>(words.Integer("tenant", 0, kIndexMax));
  } else if (verb == "probe") {
    words.Expect("controller");
    action.kind = Action::Kind::kProbe;
  } else if (verb == "expect") {
    action.kind = Action::Kind::kExpect;
    action.expectation = ParseExpectation(words);
  } else {
    throw ParseError{"unknown action '" + verb + "'"};
  }
  words.End();
  return action;
}

// A setting line; false when the first word is not a setting.
bool ParseSetting(Words& words, Settings& settings, std::set<std::string>& seen) {
  static const std::set<std::string> kSettings = {"seed",     "pageservers", "tenants",
                                                  "shards",   "secondaries", "protocol",
                                                  "lakebase", "bug",         "drain-concurrency"};
  const std::string key = words.Peek();
  if (!kSettings.count(key)) return false;
  words.Take("setting");
  if (key != "bug" && !seen.insert(key).second) throw ParseError{"'" + key + "' set twice"};
  if (key == "seed") {
    settings.seed = static_cast<uint64_t>(words.Integer("seed", 1, int64_t{1} << 62));
  } else if (key == "pageservers") {
    settings.pageservers = static_cast<int>(words.Integer("pageservers", 1, 16));
  } else if (key == "tenants") {
    settings.tenants = static_cast<int>(words.Integer("tenants", 0, 32));
  } else if (key == "shards") {
    settings.shards = static_cast<int>(words.Integer("shards", 0, 8));
  } else if (key == "secondaries") {
    settings.secondaries = static_cast<int>(words.Integer("secondaries", 0, 4));
  } else if (key == "protocol") {
    settings.protocol = words.Take("protocol");
    if (settings.protocol != "step-down" && settings.protocol != "naive" &&
        settings.protocol != "lease" && settings.protocol != "lease-fenced") {
      throw ParseError{"unknown protocol '" + settings.protocol +
                       "' (step-down, naive, lease, lease-fenced)"};
    }
  } else if (key == "drain-concurrency") {
    settings.drain_concurrency = static_cast<int>(words.Integer("drain concurrency", 1, 64));
  } else if (key == "lakebase") {
    const std::string value = words.Take("on or off");
    if (value != "on" && value != "off") throw ParseError{"lakebase is 'on' or 'off'"};
    settings.lakebase = value == "on";
  } else {
    settings.bugs.push_back(words.Take("bug name"));
  }
  words.End();
  return true;
}

std::vector<std::string> SplitWords(const std::string& line) {
  std::vector<std::string> words;
  std::istringstream stream(line);
  std::string word;
  while (stream >> word && words.size() < 64) words.push_back(word);
  return words;
}

}  // namespace

std::string ProcessRef::ToString() const {
  switch (kind) {
    case Kind::kPageserver:
      return "pageserver " + std::to_string(index);
    case Kind::kController:
      return "controller " + std::to_string(index);
    case Kind::kCompute:
      return "compute " + std::to_string(index);
    case Kind::kDb:
      return "db";
    case Kind::kCplane:
      return "cplane";
    case Kind::kSafekeeper:
      return "safekeeper";
    case Kind::kS3:
      return "s3";
    case Kind::kKubelet:
      return "kubelet";
  }
  return "?";
}

bool Compare(int64_t actual, Comparison comparison, int64_t expected) {
  switch (comparison) {
    case Comparison::kLess:
      return actual < expected;
    case Comparison::kLessEqual:
      return actual <= expected;
    case Comparison::kEqual:
      return actual == expected;
    case Comparison::kNotEqual:
      return actual != expected;
    case Comparison::kGreaterEqual:
      return actual >= expected;
    case Comparison::kGreater:
      return actual > expected;
  }
  return false;
}

const char* ComparisonName(Comparison comparison) {
  switch (comparison) {
    case Comparison::kLess:
      return "<";
    case Comparison::kLessEqual:
      return "<=";
    case Comparison::kEqual:
      return "==";
    case Comparison::kNotEqual:
      return "!=";
    case Comparison::kGreaterEqual:
      return ">=";
    case Comparison::kGreater:
      return ">";
  }
  return "?";
}

std::optional<sim::Duration> ParseDuration(const std::string& text) {
  size_t digits = 0;
  while (digits < text.size() &&
         (std::isdigit(static_cast<unsigned char>(text[digits])) || text[digits] == '.')) {
    ++digits;
  }
  if (digits == 0 || digits > 12) return std::nullopt;
  const std::string number = text.substr(0, digits);
  const std::string unit = text.substr(digits);
  if (std::count(number.begin(), number.end(), '.') > 1) return std::nullopt;
  // Whole milliseconds: split at the dot to stay exact (no floating point in durations).
  const size_t dot = number.find('.');
  const int64_t whole = std::strtoll(number.substr(0, dot).c_str(), nullptr, 10);
  std::string fraction = dot == std::string::npos ? "" : number.substr(dot + 1);
  if (fraction.size() > 3) return std::nullopt;
  fraction.resize(3, '0');
  const int64_t thousandths = std::strtoll(fraction.c_str(), nullptr, 10);
  int64_t millis_per_unit = 0;
  if (unit == "ms") {
    if (dot != std::string::npos) return std::nullopt;
    return sim::Duration::Millis(whole);
  }
  if (unit == "s") millis_per_unit = 1000;
  if (unit == "m") millis_per_unit = 60'000;
  if (millis_per_unit == 0) return std::nullopt;
  return sim::Duration::Millis(whole * millis_per_unit + thousandths * millis_per_unit / 1000);
}

absl::StatusOr<Script> ParseScript(const std::string& name, const std::string& text) {
  Script script;
  script.name = name;
  std::set<std::string> seen;
  std::istringstream stream(text);
  std::string line;
  int number = 0;
  sim::Duration reached;  // the instant the runs so far end at
  bool started = false;   // a statement other than a setting was seen
  bool converged_seen = false;
  try {
    while (std::getline(stream, line)) {
      ++number;
      if (number > kLinesMax) throw ParseError{"more than " + std::to_string(kLinesMax) + " lines"};
      const std::string body = line.substr(0, line.find('#'));
      std::vector<std::string> split = SplitWords(body);
      if (split.empty()) continue;
      Words words(split);
      if (ParseSetting(words, script.settings, seen)) {
        if (started) throw ParseError{"settings come before the first action, run or expect"};
        continue;
      }
      started = true;
      Statement statement;
      statement.line = number;
      statement.text = body.substr(0, body.find_last_not_of(" \t\r") + 1);
      const std::string first = words.Take("statement");
      if (first == "run") {
        statement.kind = Statement::Kind::kRun;
        statement.run = words.Duration("duration");
        words.End();
        if (statement.run <= sim::Duration::Zero())
          throw ParseError{"'run' needs a positive duration"};
        reached = reached + statement.run;
      } else if (first == "expect") {
        statement.kind = Statement::Kind::kExpect;
        statement.expect = ParseExpectation(words);
      } else if (first == "at") {
        statement.kind = Statement::Kind::kAction;
        statement.at = words.Duration("time");
        if (statement.at < reached) {
          throw ParseError{"'at " + statement.at.ToString() +
                           "' is before the end of the runs above (" + reached.ToString() + ")"};
        }
        statement.action = ParseAction(words);
      } else {
        throw ParseError{"unknown statement '" + first +
                         "' (a setting, 'at TIME action', 'run DURATION' or 'expect ...')"};
      }
      const bool converged = (statement.kind == Statement::Kind::kExpect &&
                              statement.expect.kind == Expectation::Kind::kConverged) ||
                             (statement.kind == Statement::Kind::kAction &&
                              statement.action.kind == Action::Kind::kExpect &&
                              statement.action.expectation.kind == Expectation::Kind::kConverged);
      if (converged && converged_seen) {
        throw ParseError{"'expect converged' may appear once: it runs the end-of-run checks"};
      }
      converged_seen = converged_seen || converged;
      script.statements.push_back(std::move(statement));
    }
  } catch (const ParseError& error) {
    return absl::InvalidArgumentError("line " + std::to_string(number) + ": " + error.message);
  }
  for (const Statement& statement : script.statements) {
    if (statement.kind == Statement::Kind::kAction && statement.at > reached) {
      return absl::InvalidArgumentError(
          "line " + std::to_string(statement.line) + ": 'at " + statement.at.ToString() +
          "' is never reached: the runs end at " + reached.ToString());
    }
  }
  if (script.statements.empty())
    return absl::InvalidArgumentError("line 1: the script has no statement");
  return script;
}

}  // namespace storsim::scenarios::golden
