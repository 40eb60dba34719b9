// See binary_run_test_util.h.
#include "cli/binary_run_test_util.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

namespace storsim::cli {
namespace {

void AppendAll(std::FILE* file, std::string* text) {
  char buffer[4096];
  for (size_t read; (read = std::fread(buffer, 1, sizeof buffer, file)) > 0;) {
    text->append(buffer, read);
  }
}

}  // namespace

BinaryOutcome RunBinary(const std::string& binary, const std::string& arguments,
                        const std::string& tag) {
  const std::string err_path = ::testing::TempDir() + "storsim_" + tag + "_stderr_" +
                               std::to_string(getpid()) + ".txt";
  const std::string command = binary + " " + arguments + " 2>" + err_path;
  BinaryOutcome outcome;
  std::FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return outcome;
  AppendAll(pipe, &outcome.out);
  const int status = pclose(pipe);
  outcome.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (std::FILE* err = std::fopen(err_path.c_str(), "r")) {
    AppendAll(err, &outcome.err);
    std::fclose(err);
  }
  return outcome;
}

}  // namespace storsim::cli
