// Golden files on disk: testdata/golden/<name>.script holds a story, <name>.digest beside it the
// digest its run must produce (one line, 16 hex digits). Shared by golden_test and the
// storsim_golden tool, so that the test's verdict and the tool's --update agree.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "scenarios/golden/golden_run.h"

namespace storsim::scenarios::golden {

// The directory golden_test reads (the source tree's testdata/golden), fixed at build time.
std::string DefaultGoldenDirectory();

// Every "*.script" file of `directory`, sorted by name. Error: NotFound when it cannot be listed.
absl::StatusOr<std::vector<std::string>> ListScripts(const std::string& directory);

// "<dir>/<name>.script" -> "<dir>/<name>.digest" and "<name>".
std::string DigestPathOf(const std::string& script_path);
std::string ScriptNameOf(const std::string& script_path);

// The stored digest: nullopt when the file does not exist or holds no 16-hex-digit first word.
std::optional<std::string> ReadDigest(const std::string& digest_path);
// Writes "<digest>\n". Error: Internal naming the file.
absl::Status WriteDigest(const std::string& digest_path, const std::string& digest);

struct ScriptCheck {
  std::string name;
  std::string path;
  std::string parse_error;  // non-empty: the script did not parse, nothing ran
  GoldenResult result;
  std::optional<std::string> stored_digest;

  bool digest_matches() const { return stored_digest && *stored_digest == result.digest; }
  bool ok() const { return parse_error.empty() && result.ok() && digest_matches(); }
  // What failed, for people: failing expectations, and on a digest mismatch both digests and the
  // command that updates them.
  std::string Report() const;
};

// Reads, parses and runs one script file, and reads its stored digest.
ScriptCheck CheckScriptFile(const std::string& script_path, const GoldenOptions& options = {});

// The command a reviewer runs to accept new digests after an intended model change.
inline constexpr char kUpdateCommand[] =
    "ninja -C <build dir> storsim_golden && <build dir>/storsim_golden --update";

}  // namespace storsim::scenarios::golden
