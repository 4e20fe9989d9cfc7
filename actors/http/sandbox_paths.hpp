#pragma once
// Which files an agent's /files endpoints may serve: only what lies inside an executor's sandbox, as the real
// path says (after `..` and symlinks), never the agent's checkpoints or anything else on the host. Blocking
// (realpath); called on HTTP threads.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <sys/stat.h>

namespace mesoscaf::http {

struct confined_path {
  int status = 200;          // 200, or 403 (outside every sandbox), 404 (does not exist), 400 (malformed)
  std::string real;          // the resolved path when 200
  std::string sandbox;       // when 200: the sandbox `real` lies in (its real path)
  std::string below;         // when 200: `real` relative to `sandbox` ("." for the sandbox itself)
  std::string error;
};

/// Resolves `requested` (an absolute path as /state lists an executor's `directory`, or below it) and checks that
/// it lies inside a sandbox of `work_dir`: `<work_dir>/agents/<agent>/frameworks/<fw>/executors/<exec>/runs/<run>`.
confined_path confine_to_sandboxes(const std::string& work_dir, const std::string& requested);

/// Opens a confined path as `open(2)` with `flags` (O_CLOEXEC and O_NOFOLLOW are added) without leaving its
/// sandbox: the sandbox by its path (the agent's own directories above it), the rest beneath it with
/// openat2(RESOLVE_BENEATH). A directory of the sandbox that a task swapped for a symlink after the check cannot
/// lead outside (EXDEV). Kernels without openat2 (before 5.6): open(2) of the real path. -1 and errno on failure.
int open_confined(const confined_path& c, int flags);

/// One entry of a sandbox directory, as /files/browse and the v1 operator API's LIST_FILES show it.
struct sandbox_entry {
  std::string path;    // under the path the client gave (the real one may differ through a symlinked parent)
  uint64_t nlink = 0;
  uint64_t size = 0;
  int64_t mtime = 0;   // seconds since the epoch
  mode_t mode = 0;
  std::string uid;     // the owner's name (its number if it has none)
  std::string gid;
};

/// The entries of a confined directory, sorted by path; status 400 if it is not a directory.
confined_path list_sandbox(const std::string& work_dir, const std::string& requested,
                           std::vector<sandbox_entry>& out);
/// Opens a confined regular file (`fd` to close by the caller, `st` its stat); status 400 if it is not one.
confined_path open_sandbox_file(const std::string& work_dir, const std::string& requested, int& fd, struct stat& st);
/// Up to `length` bytes of a confined regular file from `offset` into `data`; `size` is the file's size.
confined_path read_sandbox_file(const std::string& work_dir, const std::string& requested, uint64_t offset,
                                std::size_t length, std::string& data, uint64_t& size);

} // namespace mesoscaf::http
