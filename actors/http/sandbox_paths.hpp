#pragma once
// Which files an agent's /files endpoints may serve: only what lies inside an executor's sandbox, as the real
// path says (after `..` and symlinks), never the agent's checkpoints or anything else on the host. Blocking
// (realpath); called on HTTP threads.
#include <string>

namespace mesoscaf::http {

struct confined_path {
  int status = 200;          // 200, or 403 (outside every sandbox), 404 (does not exist), 400 (malformed)
  std::string real;          // the resolved path when 200
  std::string error;
};

/// Resolves `requested` (an absolute path as /state lists an executor's `directory`, or below it) and checks that
/// it lies inside a sandbox of `work_dir`: `<work_dir>/agents/<agent>/frameworks/<fw>/executors/<exec>/runs/<run>`.
confined_path confine_to_sandboxes(const std::string& work_dir, const std::string& requested);

} // namespace mesoscaf::http
