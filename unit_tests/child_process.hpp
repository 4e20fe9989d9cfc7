#pragma once
// Real processes for integration tests: start a program with its output captured to a file, wait (bounded) for a
// line in it, signal it, wait for its exit. Polling with generous bounds: these tests run real daemons.
#include <chrono>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include <sys/types.h>

namespace mesoscaf::test {

class child_process {
public:
  /// Starts `argv` with stdout+stderr appended to `log_path`. Throws std::runtime_error if it cannot start.
  child_process(std::vector<std::string> argv, std::string log_path);
  ~child_process();  // SIGKILLs the process if it still runs

  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  pid_t pid() const { return pid_; }
  const std::string& log_path() const { return log_path_; }

  /// Everything the process has printed so far.
  std::string output() const;

  /// Waits until a line of the output matches `pattern`; returns the match (with groups) or nullopt on timeout
  /// or if the process exits first.
  std::optional<std::smatch> wait_for_line(const std::string& pattern, std::chrono::milliseconds timeout);

  /// Sends a signal (no-op if already reaped).
  void signal(int sig);

  /// Waits for the exit; returns the exit code (128+signal if killed) or nullopt on timeout.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);

  bool running();

private:
  pid_t pid_ = -1;
  std::string log_path_;
  std::optional<int> exit_code_;
  std::string last_output_;  // keeps the string that smatch results refer to alive
};

/// A fresh directory under $TMPDIR (or /tmp), removed by the destructor.
class temp_dir {
public:
  explicit temp_dir(const std::string& prefix = "mesoscaf-test");
  ~temp_dir();
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

private:
  std::string path_;
};

/// Runs a command to completion (bounded), returning exit code and output.
struct run_result {
  int exit_code = -1;
  std::string output;
};
run_result run_to_completion(std::vector<std::string> argv, const std::string& log_path,
                             std::chrono::milliseconds timeout);

/// `s` in single quotes for sh.
std::string shell_quote(const std::string& s);
/// Runs `cmd` through sh; returns its exit status (-1 if it did not exit normally) and fills `out` with its
/// stdout + stderr. For short helper commands (ip, scripts/zookeeper), not for daemons.
int run_shell(const std::string& cmd, std::string& out);

} // namespace mesoscaf::test
