#pragma once
// Small blocking file helpers shared by the containerizer (sandboxes, volumes) and the agent (checkpoints).
// Each returns "" on success or the error text. They block on the file system: actors call them from a worker.
#include <string>

namespace mesoscaf {

/// "<what>: <strerror(err)>".
std::string errno_text(const std::string& what, int err);

/// Closes a file descriptor on scope exit.
struct fd_guard {
  int fd = -1;
  explicit fd_guard(int x) : fd(x) {}
  ~fd_guard();
  fd_guard(const fd_guard&) = delete;
  fd_guard& operator=(const fd_guard&) = delete;
  void reset(int x);
};

/// mkdir -p with mode 0755.
std::string make_directories(const std::string& path);

/// Writes `content` to `path` atomically: `<path>.tmp` is written, fsynced and renamed over `path`, then the
/// directory is fsynced. Parent directories are created. A reader sees the old or the new content, never a mix.
std::string write_file_atomically(const std::string& path, const std::string& content);

/// Reads a whole file. Returns "" and fills `out`, or an error ("missing" is reported via `exists`).
std::string read_whole_file(const std::string& path, std::string& out, bool& exists);

/// Removes `path` and everything under it (symlinks are removed, never followed). A missing path is fine.
std::string remove_tree(const std::string& path);

} // namespace mesoscaf
