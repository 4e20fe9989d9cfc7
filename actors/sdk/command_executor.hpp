#pragma once
// The built-in command executor (`mesoscaf command-executor`). The agent starts ONE of these per framework
// (and agent); it serves MANY tasks: each `launch` starts the task's command as its own child through the
// launcher (sandbox <MESOSCAF_SANDBOX>/tasks/<task_id>/ with stdout/stderr files, own session), and ONE
// process_reaper thread reports the exits. No thread or actor system per task: a task costs about one process
// start. Updates: TASK_STARTING at once; then, if the task has URIs, the fetcher (`mesoscaf fetcher`, as the
// task's user, containerizer/fetcher.hpp) fills the sandbox, and a failed fetch ends the task TASK_FAILED
// (REASON_CONTAINER_LAUNCH_FAILED, the URI and cause in the message); TASK_RUNNING after the spawn, then
// TASK_FINISHED (exit 0), TASK_FAILED ("Command exited with status N" / "Command terminated by signal S", reason
// command_executor_failed), TASK_KILLED (after kill_task; TASK_KILLING first for frameworks with
// TASK_KILLING_STATE), TASK_FAILED with reason container_launch_failed if the command cannot start, TASK_ERROR
// for an unsafe task ID or a task without a command.
// Health checks (COMMAND inside the task's sandbox, user and control group; HTTP and TCP on 127.0.0.1 from a
// detached actor) run every `interval`; each change of health is a TASK_RUNNING update with `healthy` and
// REASON_TASK_HEALTH_CHECK_STATUS_UPDATED, and `consecutive_failures` failures kill the task (TASK_KILLED, same
// reason, the last failure in the message; actors/sdk/health_tracker.hpp decides).
// The same binary is the DEFAULT executor of task groups (LAUNCH_GROUP, one executor per group executor ID): a
// group's tasks are checked together, fetched, then started together, each in its own control group (nested in
// the executor's container, with the task's cpu and memory) and sandbox; if one cannot start, none runs. Once
// started, a task that ends other than FINISHED kills the others (group_failure_policy::kill_group, Mesos'
// rule), and so does a kill call for one of them; actors/sdk/task_group_tracker.hpp decides.
// It is an `executor` run by an `executor_driver`: registration, acknowledgements, resending and, with
// checkpointing (MESOSCAF_CHECKPOINT=1), reconnecting and re-registering after the agent restarts are the
// driver's (actors/sdk/executor_driver.hpp). What is its own runs on a task actor in the driver's actor system:
// spawning, reaping, kills (SIGTERM, SIGKILL after the grace period) and shutdown.
// It kills all its tasks and exits on the agent's `shutdown`, on SIGTERM/SIGINT, and when the driver gives up
// (the agent lost without checkpointing, a refused re-registration, MESOSCAF_RECOVERY_TIMEOUT without an agent).
#include "actors/sdk/executor_driver.hpp"
#include "actors/interfaces.hpp"
#include "containerizer/isolation.hpp"

#include <chrono>
#include <memory>

namespace mesoscaf {

struct command_executor_options {
  /// Time between SIGTERM and SIGKILL when a task without a kill policy is killed, and the most any task gets
  /// when the executor shuts down (MESOSCAF_EXECUTOR_SHUTDOWN_GRACE_PERIOD, the agent's
  /// --executor-shutdown-grace-period).
  std::chrono::milliseconds kill_grace_period{3000};
  /// Resend unacknowledged status updates this often.
  std::chrono::milliseconds resend_interval{1000};
  /// On shutdown: how long to wait for the agent's acknowledgements after the last task ended.
  std::chrono::milliseconds drain_timeout{2000};
  /// Timeout of the registration request (and of re-registration and each reconnection attempt).
  std::chrono::milliseconds registration_timeout{10000};
  /// Checkpointing: how the agent is reached again after a loss (see agent_reconnector).
  agent_reconnector reconnect;
  /// How tasks are confined (containerizer/isolation.hpp); the process reads it from its environment. With
  /// cgroups/* isolators and `container_cgroup` (the container's group, MESOSCAF_CGROUP), each task runs in
  /// task_cgroup(container_cgroup, task) with its own cpu and memory; a task the kernel kills for memory fails with
  /// REASON_CONTAINER_LIMITATION_MEMORY, and everything left in its group dies when it ends. disk/du measures the
  /// task's sandbox; with enforcement a task past its `disk` fails with REASON_CONTAINER_LIMITATION_DISK.
  isolation_options isolation = posix_isolation();
  std::string container_cgroup;
  /// Tasks whose command names no user run as this one (with isolation.switch_user); empty: ours.
  std::string framework_user;
  /// The fetcher (`mesoscaf fetcher`, containerizer/fetcher.hpp; the program executor_binary({}) names) caches
  /// in a directory per user under fetcher_cache_dir (empty: no cache).
  std::string fetcher_cache_dir;
  uint64_t fetcher_cache_bytes = uint64_t{2} << 30;
};

/// The command executor's callbacks. Use: construct, build an executor_driver with `driver_options()`, `attach`
/// it, start the driver. The driver ends after a shutdown (stopped) or when it gives up (aborted); `join` then
/// waits until every task is killed and reaped. Keep this alive while the driver runs (it calls this), and join
/// or destroy it before the driver (its task actor uses the driver and lives in the driver's actor system).
class command_executor : public executor {
public:
  explicit command_executor(command_executor_options opts = {});
  /// Kills what is left (SIGKILL) and waits for the task actor: destroy it outside actors.
  ~command_executor() override;

  /// The driver settings that go with `opts` (one scheduler thread: nothing here blocks).
  executor_driver_options driver_options() const;
  /// Spawns the task actor in the driver's actor system; once, before the driver starts.
  void attach(executor_driver& driver);
  /// SIGTERM/SIGINT: kill the tasks, then stop the driver (thread-safe).
  void terminate();
  /// Blocks until the task actor ended (after a shutdown, or after the driver gave up and the tasks are gone).
  void join();

  void launch_task(executor_driver& driver, const task_info& task) override;
  void launch_task_group(executor_driver& driver, const task_group_info& group) override;
  void registered(executor_driver& driver, const executor_registration& info) override;
  void reregistered(executor_driver& driver, const executor_registration& info) override;
  void kill_task(executor_driver& driver, const task_id& task) override;
  void kill_task(executor_driver& driver, const task_id& task, const kill_policy& policy) override;
  void shutdown(executor_driver& driver) override;
  void error(executor_driver& driver, const std::string& message) override;

  struct impl;

private:
  std::unique_ptr<impl> impl_;
};

/// Entry point of `mesoscaf command-executor` (argv[0] = the subcommand). Reads the MESOSCAF_* environment,
/// connects to the agent, serves tasks until shut down. Returns 0 after a shutdown or SIGTERM, 1 on errors
/// (bad environment, no agent, lost agent).
int run_command_executor(int argc, char** argv);

} // namespace mesoscaf
