// `mesoscaf command-executor` (hidden): the built-in executor, started by agents for command tasks.
#include "apps/mesoscaf/subcommands.hpp"

#if __has_include("actors/sdk/command_executor.hpp")
#  include "actors/sdk/command_executor.hpp"
#  define MESOSCAF_HAVE_COMMAND_EXECUTOR 1
#endif

#include <iostream>

namespace mesoscaf {

int command_executor_main(int argc, char** argv) {
#ifdef MESOSCAF_HAVE_COMMAND_EXECUTOR
  return run_command_executor(argc, argv);
#else
  std::cerr << "mesoscaf command-executor: not built in\n";
  return 1;
#endif
}

} // namespace mesoscaf
