#pragma once
// Waits for child processes off the actor threads (docs/CAF_PITFALLS.md §7): ONE thread per reaper polls a pidfd per
// watched process plus an eventfd (new pid / stop). It reaps only the pids it watches (waitpid(pid, WNOHANG)),
// so several reapers can live in one process (several agents in a local cluster, or an agent next to tests).
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

namespace mesoscaf {

class process_reaper {
public:
  /// Called once on the reaper thread with the wait status (as from waitpid) when the process ended.
  /// Must not block: post a message (caf::anon_send is thread-safe) and return. A status of -1 means the
  /// process could not be waited for (someone else reaped it).
  using exit_callback = std::function<void(int wait_status)>;

  /// Starts the thread.
  process_reaper();
  /// Calls stop().
  ~process_reaper();

  process_reaper(const process_reaper&) = delete;
  process_reaper& operator=(const process_reaper&) = delete;

  /// Watches `pid`, which must be a child of this process not yet reaped (a zombie is fine).
  /// Returns false (and never calls `on_exit`) if the reaper is stopped or the pid cannot be watched.
  bool watch(pid_t pid, exit_callback on_exit);

  /// Watches a process that is NOT our child (left by an earlier agent process), through a pidfd. Only if it
  /// still runs and its start time equals `start_time` (process_start_time), so a reused pid is never adopted.
  /// `on_exit` gets -1 (the status of a non-child is unknown). Returns false if it is gone (or not ours).
  bool watch_foreign(pid_t pid, uint64_t start_time, exit_callback on_exit);

  /// Takes over a process another watcher had: a child of this process not reaped yet (the reaper of a
  /// containerizer that died left it) is watched as with watch() if its start time equals `start_time`, even as a
  /// zombie (an unreaped child keeps its pid, so it cannot be another process); anything else as with
  /// watch_foreign(). Returns false if it is gone (or not ours).
  bool adopt(pid_t pid, uint64_t start_time, exit_callback on_exit);

  /// Sends `sig` to the process group led by `pid` (or to the process alone if it has no group), but only
  /// while the pid is watched and not yet reaped: a reaped pid may already belong to another process.
  /// Returns false if it did nothing.
  bool signal_group(pid_t pid, int sig);

  /// True while `pid` is watched and not yet reaped.
  bool watching(pid_t pid) const;

  /// Number of watched processes not yet reaped.
  size_t size() const;

  /// Stops and joins the thread without waiting for the watched processes (they keep running and are
  /// never reported). Idempotent; returns promptly. Safe to call from an exit callback (then it detaches).
  void stop();

private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

/// The start time of a live process (field 22 of /proc/<pid>/stat, clock ticks since boot); 0 if it does not
/// exist or is a zombie. With the boot ID it identifies a process across pid reuse.
uint64_t process_start_time(pid_t pid);

} // namespace mesoscaf
