#pragma once
// Where this process's program lives, and which program an agent starts as the command executor. Nothing here
// depends on where the project was built: an installed agent finds the `mesoscaf` next to itself.
#include <string>

namespace mesoscaf {

/// The running program's absolute path (/proc/self/exe), or "" if it cannot be read.
std::string self_executable();

/// The command executor program: `configured` if not empty, else $MESOSCAF_EXECUTOR_BINARY if set, else the
/// `mesoscaf` next to the running program (the mesoscaf binary itself, or a program installed beside it), else
/// plain "mesoscaf" for a lookup in PATH when it is started.
std::string executor_binary(const std::string& configured);

} // namespace mesoscaf
