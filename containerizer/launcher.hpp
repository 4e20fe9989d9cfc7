#pragma once
// Starting processes in sandboxes (pure POSIX, no actors). Every process is started with posix_spawn:
// - empty signal mask and default dispositions for the usual signals, because the agent's threads block
//   SIGTERM/SIGINT for sigwait and children would inherit that (docs/CAF_PITFALLS.md §6);
// - a new session (setsid), so its process ID is also its process group ID and kill(-pid) reaches every
//   process the command started; it also survives the agent;
// - cwd = the sandbox, stdin = /dev/null, stdout/stderr appended to <sandbox>/stdout and <sandbox>/stderr.
#include "messages/launch_spec.hpp"

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace mesoscaf {

/// Result of spawn_process: a process ID (> 0) on success, otherwise an error text.
struct spawn_result {
  pid_t pid = -1;
  std::string error;

  bool ok() const { return pid > 0; }
  explicit operator bool() const { return ok(); }
};

/// Starts `spec.command` in `spec.sandbox` (created with parents if missing). Shell commands run as
/// `/bin/sh -c value`; argv commands exec `value` (searched in PATH if it has no '/') with `arguments`
/// (argv[0] included; empty arguments: argv = {value}). Environment: this process's environment, then
/// `command.environment`, then `spec.environment` (later ones override). Nothing is left running on error.
/// The caller must reap the child (see process_reaper).
spawn_result spawn_process(const launch_spec& spec);

/// What a process is confined by, applied in the child between fork and exec (see spawn_process below).
struct process_isolation {
  /// cgroup.procs files (cgroups::procs_files) the child joins before exec, so even its first fork is counted.
  std::vector<std::string> cgroup_procs;
  /// Switch to this user before exec (setgroups, setgid, setuid); the sandbox and its stdout/stderr files are
  /// made theirs. Unset: run as this process's user.
  std::optional<uid_t> uid;
  gid_t gid = 0;
  std::vector<gid_t> groups;
  /// A PID namespace of its own: the command is PID 1 there, and when it ends the kernel kills every process
  /// left in the namespace. /proc is remounted inside (needs a mount namespace, created with it).
  bool pid_namespace = false;
  /// A mount namespace in which `/tmp` is `<sandbox>/tmp` (created if missing, owned by the user).
  bool private_tmp = false;

  bool empty() const {
    return cgroup_procs.empty() && !uid && !pid_namespace && !private_tmp;
  }
};

/// The user `name`'s uid, primary gid and supplementary groups, into `out`. Returns "" or an error
/// ("unknown user 'x'").
std::string resolve_user(const std::string& name, process_isolation& out);

/// The name of the user this process runs as (effective uid); $USER if it has no passwd entry, else "".
/// Frameworks run their tasks as the user who submits them, as Mesos' schedulers do.
std::string current_user_name();

/// As spawn_process(spec), confined by `isolation` (empty: exactly spawn_process(spec)). Starts the child with
/// fork/clone instead of posix_spawn; the child only makes async-signal-safe calls. An error in the child before
/// exec (a cgroup it cannot join, a user switch, a mount) is returned as the error text, and nothing is left
/// running.
spawn_result spawn_process(const launch_spec& spec, const process_isolation& isolation);

/// Sends `sig` to the process group of `pid` (a process started by spawn_process leads its own group);
/// falls back to the process alone if the group is gone. Returns false if neither exists.
bool kill_process_group(pid_t pid, int sig);

/// The file in a command task's sandbox that records "<pid> <start time>" of the task's process (written by the
/// command executor). Tasks run in sessions of their own, so when their executor dies (e.g. SIGKILLed while the
/// agent was down) nothing else reaches them: the agent kills them through this record.
constexpr const char* task_pid_file = ".mesoscaf-task-pid";

/// Writes `dir`/task_pid_file for `pid`. Returns "" or an error.
std::string record_task_process(const std::string& dir, pid_t pid);

/// SIGKILLs the process group recorded in `dir`/task_pid_file if that process still runs with the recorded start
/// time (never a reused pid). Returns true if it signalled something.
bool kill_recorded_task_process(const std::string& dir);

/// True if `name` can be used as one component of a sandbox path: non-empty, at most 200 characters,
/// only [A-Za-z0-9._-], and not "." or "..". Everything that names a directory under a sandbox and comes from
/// outside (task IDs, executor IDs, framework IDs) must pass this check, so it cannot escape the sandbox.
bool is_safe_path_component(const std::string& name);

/// `base` + "/" + each component, or an empty string if any component is unsafe (see is_safe_path_component).
std::string sandbox_path(const std::string& base, const std::vector<std::string>& components);


/// "exited with status 3", "killed by signal 9", or "ended with unknown wait status N".
std::string describe_wait_status(int status);

} // namespace mesoscaf
