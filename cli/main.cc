// The storsim command's entry point: everything else is in commands.cc and fuzz_command.cc.
// The build id (the git revision, set by the top CMakeLists as STORSIM_GIT_REV) is compiled in
// and printed with every run and carried in every token.
#include <exception>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "scenarios/scenario.h"

#ifndef STORSIM_BUILD_ID
#define STORSIM_BUILD_ID "unknown"
#endif

int main(int argc, char** argv) {
  std::vector<std::string> arguments(argv + 1, argv + argc);
  try {
    const storsim::cli::CommandContext context{storsim::scenarios::DefaultRegistry(),
                                               STORSIM_BUILD_ID};
    return storsim::cli::Dispatch(context, arguments);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "storsim: internal error: %s\n", error.what());
    return storsim::cli::kExitInternal;
  }
}
