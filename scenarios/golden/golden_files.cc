// Reading and writing golden files (see golden_files.h).
#include "scenarios/golden/golden_files.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace storsim::scenarios::golden {
namespace {

constexpr size_t kScriptsMax = 1000;

std::optional<std::string> ReadText(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

std::string DefaultGoldenDirectory() { return STORSIM_GOLDEN_DIR; }

absl::StatusOr<std::vector<std::string>> ListScripts(const std::string& directory) {
  std::error_code error;
  std::filesystem::directory_iterator it(directory, error);
  if (error) return absl::NotFoundError("cannot list '" + directory + "': " + error.message());
  std::vector<std::string> scripts;
  for (; it != std::filesystem::directory_iterator() && scripts.size() < kScriptsMax; ++it) {
    if (it->path().extension() == ".script") scripts.push_back(it->path().string());
  }
  std::sort(scripts.begin(), scripts.end());  // directory order is not stable
  return scripts;
}

std::string DigestPathOf(const std::string& script_path) {
  return std::filesystem::path(script_path).replace_extension(".digest").string();
}

std::string ScriptNameOf(const std::string& script_path) {
  return std::filesystem::path(script_path).stem().string();
}

std::optional<std::string> ReadDigest(const std::string& digest_path) {
  std::optional<std::string> text = ReadText(digest_path);
  if (!text) return std::nullopt;
  std::istringstream stream(*text);
  std::string word;
  if (!(stream >> word) || word.size() != 16) return std::nullopt;
  for (char c : word) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
  }
  return word;
}

absl::Status WriteDigest(const std::string& digest_path, const std::string& digest) {
  std::ofstream out(digest_path, std::ios::trunc);
  out << digest << "\n";
  out.close();
  if (!out) return absl::InternalError("cannot write '" + digest_path + "'");
  return absl::OkStatus();
}

std::string ScriptCheck::Report() const {
  if (!parse_error.empty()) return parse_error + "\n";
  std::string out = result.Describe(path);
  if (!digest_matches()) {
    out += path + ": digest mismatch: stored " + stored_digest.value_or("(none)") + ", this run " +
           result.digest + " (" + std::to_string(result.events) + " events).\n" +
           "  If the model change is intended and every expectation holds, update the digests:\n" +
           "    " + kUpdateCommand + "\n" + "  and read the new trace of this story with:\n" +
           "    <build dir>/storsim_golden --trace /tmp/" + name + ".ndjson " + path + "\n";
  }
  return out;
}

ScriptCheck CheckScriptFile(const std::string& script_path, const GoldenOptions& options) {
  ScriptCheck check;
  check.path = script_path;
  check.name = ScriptNameOf(script_path);
  check.stored_digest = ReadDigest(DigestPathOf(script_path));
  std::optional<std::string> text = ReadText(script_path);
  if (!text) {
    check.parse_error = script_path + ": cannot read the script";
    return check;
  }
  absl::StatusOr<Script> script = ParseScript(check.name, *text);
  if (!script.ok()) {
    check.parse_error = script_path + ": " + std::string(script.status().message());
    return check;
  }
  check.result = RunGoldenScript(*script, options);
  return check;
}

}  // namespace storsim::scenarios::golden
