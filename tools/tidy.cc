// The tidy scanner.
#include "tools/tidy.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

namespace storsim::tools {
namespace {

// Layer rank: a file may include only from folders of rank <= its own (same folder allowed).
const std::map<std::string, int>& LayerRanks() {
  static const std::map<std::string, int> ranks = {
      {"sim", 0}, {"model", 1}, {"scenarios", 2}, {"fuzz", 3}, {"reports", 3},
      {"cli", 4}, {"bench", 5}, {"tools", 5}};
  return ranks;
}

// Folders whose code runs inside the simulation and must be deterministic.
bool IsSimulated(const std::string& top) {
  return top == "sim" || top == "model" || top == "scenarios" || top == "fuzz";
}

std::string TopFolder(std::string_view path) {
  const size_t slash = path.find('/');
  return std::string(slash == std::string_view::npos ? std::string_view() : path.substr(0, slash));
}

const std::regex& BannedApi() {
  static const std::regex pattern(
      R"(std::chrono::(system_clock|steady_clock|high_resolution_clock)|std::random_device|)"
      R"((^|[^_[:alnum:]:.>])(s?rand|time|gettimeofday|clock_gettime|getenv|secure_getenv)\s*\(|)"
      R"(std::(thread|async|jthread)\b|pthread_create|)"
      R"(absl::(Now|BitGen|InsecureBitGen|Uniform|Bernoulli|Exponential|Gaussian)\b|)"
      R"(std::(uniform_int_distribution|uniform_real_distribution|normal_distribution|)"
      R"(exponential_distribution|bernoulli_distribution|shuffle|mt19937|mt19937_64|)"
      R"(default_random_engine)\b|sleep_for|usleep\s*\()");
  return pattern;
}

const std::regex& HashContainer() {
  static const std::regex pattern(
      R"(\b(std::unordered_map|std::unordered_set|std::unordered_multimap|)"
      R"(absl::flat_hash_map|absl::flat_hash_set|absl::node_hash_map|absl::node_hash_set)\b)");
  return pattern;
}

const std::regex& Include() {
  static const std::regex pattern(R"(^\s*#\s*include\s*"([a-z_]+)/)");
  return pattern;
}

std::string StripLineComment(const std::string& line) {
  // Good enough for our sources: a // outside a string literal starts a comment.
  bool in_string = false;
  for (size_t i = 0; i + 1 < line.size(); ++i) {
    if (line[i] == '"' && (i == 0 || line[i - 1] != '\\')) in_string = !in_string;
    if (!in_string && line[i] == '/' && line[i + 1] == '/') return line.substr(0, i);
  }
  return line;
}

}  // namespace

std::string TidyFinding::ToString() const {
  return path + ":" + std::to_string(line) + ": [" + rule + "] " + text;
}

std::vector<TidyFinding> ScanSource(std::string_view relative_path, std::string_view contents) {
  std::vector<TidyFinding> findings;
  const std::string path(relative_path);
  const std::string top = TopFolder(relative_path);
  const auto& ranks = LayerRanks();
  const auto rank = ranks.find(top);
  if (rank == ranks.end()) return findings;
  const bool simulated = IsSimulated(top);

  std::istringstream stream{std::string(contents)};
  std::string line;
  int number = 0;
  bool in_block_comment = false;
  while (std::getline(stream, line) && number < 1'000'000) {
    ++number;
    std::string code = line;
    if (in_block_comment) {
      const size_t end = code.find("*/");
      if (end == std::string::npos) continue;
      code = code.substr(end + 2);
      in_block_comment = false;
    }
    const size_t block = code.find("/*");
    if (block != std::string::npos && code.find("*/", block) == std::string::npos) {
      code = code.substr(0, block);
      in_block_comment = true;
    }
    std::smatch match;
    if (std::regex_search(line, match, Include())) {
      const std::string target = match[1].str();
      const auto target_rank = ranks.find(target);
      const bool up = target_rank != ranks.end() && target != top &&
                      (target == "bench" || target == "cli" || target_rank->second >= rank->second);
      if (up) findings.push_back({path, number, "include-up", line});
      continue;
    }
    if (!simulated) continue;
    const bool opted_out = line.find("determinism: ok") != std::string::npos;
    if (opted_out) continue;
    const std::string without_comment = StripLineComment(code);
    if (std::regex_search(without_comment, BannedApi())) {
      findings.push_back({path, number, "banned-api", line});
    }
    if (std::regex_search(without_comment, HashContainer())) {
      findings.push_back({path, number, "hash-order", line});
    }
  }
  return findings;
}

std::vector<TidyFinding> ScanTree(const std::string& root) {
  namespace fs = std::filesystem;
  std::vector<std::string> files;
  for (const auto& [folder, rank] : LayerRanks()) {
    const fs::path dir = fs::path(root) / folder;
    if (!fs::is_directory(dir)) continue;
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
      if (!entry.is_regular_file()) continue;
      const std::string extension = entry.path().extension().string();
      if (extension != ".h" && extension != ".cc" && extension != ".cpp" && extension != ".hpp") {
        continue;
      }
      files.push_back(fs::relative(entry.path(), root).string());
    }
  }
  std::sort(files.begin(), files.end());
  std::vector<TidyFinding> findings;
  for (const auto& file : files) {
    std::ifstream in(fs::path(root) / file);
    std::stringstream buffer;
    buffer << in.rdbuf();
    for (auto& finding : ScanSource(file, buffer.str())) findings.push_back(std::move(finding));
  }
  return findings;
}

}  // namespace storsim::tools
