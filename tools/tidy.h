// tidy: the source scan that keeps the determinism rules of DESIGN.md §4 and the dependency
// direction of §2 true. It reads source text only.
//
// Rules, for files under sim/, model/, scenarios/, fuzz/ (and reports/ for includes):
//   banned-api   real time, real randomness, threads, environment reads and std distributions;
//   hash-order   hash containers (unordered_*, flat_hash_*, node_hash_*), whose iteration order
//                differs between runs, unless the line says why it is safe;
//   include-up   an include that points up the layering sim <- model <- scenarios <- fuzz/reports
//                <- cli (bench may include anything; nothing includes bench or cli).
// A line may opt out of banned-api and hash-order with a trailing `// determinism: ok (why)`.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace storsim::tools {

struct TidyFinding {
  std::string path;
  int line = 0;
  std::string rule;
  std::string text;

  std::string ToString() const;
};

// Scans one file given its path relative to the repository root and its contents.
std::vector<TidyFinding> ScanSource(std::string_view relative_path, std::string_view contents);

// Scans every .h/.cc/.cpp/.hpp file under the layered folders of `root`.
std::vector<TidyFinding> ScanTree(const std::string& root);

}  // namespace storsim::tools
