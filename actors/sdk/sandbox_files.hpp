#pragma once
// Reading a file out of a task's sandbox, for tests and tools on the machine of the agent (local_cluster): bounded,
// and never outside the sandbox. Blocking (the caller's thread, never an actor).
#include <cstddef>
#include <string>

namespace mesoscaf {

/// Enough for a test's view of a task's output, small enough that a chatty task cannot exhaust the test's memory.
constexpr size_t default_sandbox_read_limit = size_t{1} << 20;

/// The outcome of reading a sandbox file.
struct sandbox_file {
  std::string content;     // at most the requested number of bytes, from the start of the file
  bool truncated = false;  // the file is longer than that
  std::string error;       // empty on success

  bool ok() const { return error.empty(); }
};

/// Reads `relative_path` under `sandbox`, at most `max_bytes`. Refused (error "path escapes the sandbox: ...")
/// if the path is absolute, has a ".." component, or resolves (through symlinks) to a place outside the sandbox.
sandbox_file read_sandbox_file(const std::string& sandbox, const std::string& relative_path,
                               size_t max_bytes = default_sandbox_read_limit);

} // namespace mesoscaf
