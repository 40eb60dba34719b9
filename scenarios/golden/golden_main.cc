// storsim_golden: runs golden scripts, updates their stored digests, writes a story's trace.
//
//   storsim_golden [--dir DIR] [SCRIPT...]          run (default: every script of DIR), report
//   storsim_golden --update [--dir DIR] [SCRIPT...] rewrite the .digest of every script whose
//                                                   expectations hold (refused for the others)
//   storsim_golden --trace FILE SCRIPT              also write SCRIPT's NDJSON trace to FILE
//
// DIR defaults to the source tree's testdata/golden. Exit status: 0 all ok (or updated), 1 some
// script failed, 2 usage error.
#include <cstdio>
#include <string>
#include <vector>

#include "scenarios/golden/golden_files.h"

namespace {

using storsim::scenarios::golden::CheckScriptFile;
using storsim::scenarios::golden::DefaultGoldenDirectory;
using storsim::scenarios::golden::DigestPathOf;
using storsim::scenarios::golden::GoldenOptions;
using storsim::scenarios::golden::ListScripts;
using storsim::scenarios::golden::ScriptCheck;
using storsim::scenarios::golden::WriteDigest;

int Usage(const char* message) {
  std::fprintf(stderr,
               "storsim_golden: %s\n"
               "usage: storsim_golden [--update] [--dir DIR] [--trace FILE] [SCRIPT...]\n",
               message);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  bool update = false;
  std::string directory = DefaultGoldenDirectory();
  std::string trace;
  std::vector<std::string> scripts;
  for (int i = 1; i < argc; ++i) {
    const std::string argument = argv[i];
    if (argument == "--update") {
      update = true;
    } else if (argument == "--dir" || argument == "--trace") {
      if (i + 1 >= argc) return Usage((argument + " needs a value").c_str());
      (argument == "--dir" ? directory : trace) = argv[++i];
    } else if (argument == "--help" || argument == "-h") {
      Usage("runs golden scripts");
      return 0;
    } else if (!argument.empty() && argument[0] == '-') {
      return Usage(("unknown flag " + argument).c_str());
    } else {
      scripts.push_back(argument);
    }
  }
  if (scripts.empty()) {
    auto listed = ListScripts(directory);
    if (!listed.ok()) return Usage(std::string(listed.status().message()).c_str());
    scripts = *listed;
  }
  if (!trace.empty() && scripts.size() != 1) return Usage("--trace needs exactly one script");
  if (scripts.empty()) return Usage(("no *.script in " + directory).c_str());

  int failed = 0;
  for (const std::string& path : scripts) {
    GoldenOptions options;
    options.ndjson_trace_path = trace;
    const ScriptCheck check = CheckScriptFile(path, options);
    const bool expectations_hold = check.parse_error.empty() && check.result.ok();
    if (update && expectations_hold) {
      if (!check.digest_matches()) {
        if (auto written = WriteDigest(DigestPathOf(path), check.result.digest); !written.ok()) {
          std::fprintf(stderr, "%s\n", std::string(written.message()).c_str());
          ++failed;
          continue;
        }
      }
      std::printf("%-28s %s %s (was %s; %llu events, %d expectations)\n", check.name.c_str(),
                  check.digest_matches() ? "unchanged" : "UPDATED  ", check.result.digest.c_str(),
                  check.stored_digest.value_or("none").c_str(),
                  static_cast<unsigned long long>(check.result.events), check.result.expectations);
      continue;
    }
    if (check.ok()) {
      std::printf("%-28s ok %s (%llu events, %d expectations, %.1f s simulated)\n",
                  check.name.c_str(), check.result.digest.c_str(),
                  static_cast<unsigned long long>(check.result.events), check.result.expectations,
                  static_cast<double>(check.result.sim_ms) / 1000.0);
    } else {
      ++failed;
      std::printf("%-28s FAILED\n%s", check.name.c_str(), check.Report().c_str());
      if (update) std::printf("  (digest not updated: fix the failing expectations first)\n");
    }
  }
  if (!trace.empty()) std::printf("trace written to %s\n", trace.c_str());
  return failed == 0 ? 0 : 1;
}
