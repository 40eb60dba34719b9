// Running the built storsim binary from a test, as a script would: through the shell, with its
// exit code, stdout and stderr captured. Shared by the tests of the command-line tool.
#pragma once

#include <string>

namespace storsim::cli {

struct BinaryOutcome {
  int exit_code = -1;  // -1: the binary could not be started or did not exit normally
  std::string out;
  std::string err;
};

// Runs `binary arguments` through /bin/sh (arguments are shell words). stderr goes through a file
// in the test's temporary directory named after `tag` and this process, so test processes that
// ctest runs in parallel never share one.
BinaryOutcome RunBinary(const std::string& binary, const std::string& arguments,
                        const std::string& tag);

}  // namespace storsim::cli
