#pragma once
// The built-in command executor (`mesoscaf command-executor`). The agent starts ONE of these per framework
// (and agent); it serves MANY tasks: each `launch` starts the task's command as its own child through the
// launcher (sandbox <MESOSCAF_SANDBOX>/tasks/<task_id>/ with stdout/stderr files, own session), and ONE
// process_reaper thread reports the exits. No thread or actor system per task: a task costs about one process
// start. Updates: TASK_RUNNING after the spawn, then TASK_FINISHED (exit 0), TASK_FAILED ("Command exited with
// status N" / "Command terminated by signal S", reason command_executor_failed), TASK_KILLED (after kill_task),
// TASK_FAILED with reason container_launch_failed if the command cannot start, TASK_ERROR for an unsafe task ID
// or a task without a command.
// It kills all its tasks and exits on the agent's `shutdown` and on SIGTERM/SIGINT. When the connection to the
// agent is lost: without checkpointing (MESOSCAF_CHECKPOINT=0) it kills its tasks and exits; with it, the tasks
// keep running (own sessions), the reaper keeps reporting their exits into the queue of unacknowledged updates,
// and the executor reconnects to the same endpoint (backoff 100 ms doubling to 1 s) and re-registers
// (`rereg_exec`) with its running tasks and unacknowledged updates, then resends those. A refused
// re-registration or MESOSCAF_RECOVERY_TIMEOUT without an agent: it kills its tasks and exits with an error.
#include "actors/sdk/executor_driver.hpp"
#include "actors/interfaces.hpp"

#include <chrono>

namespace caf {
class actor_system;
}

namespace mesoscaf {

struct command_executor_options {
  /// Time between SIGTERM and SIGKILL when a task is killed.
  std::chrono::milliseconds kill_grace_period{3000};
  /// Resend unacknowledged status updates this often.
  std::chrono::milliseconds resend_interval{1000};
  /// On shutdown: how long to wait for the agent's acknowledgements after the last task ended.
  std::chrono::milliseconds drain_timeout{2000};
  /// Timeout of the registration request (and of re-registration and each reconnection attempt).
  std::chrono::milliseconds registration_timeout{10000};
  /// Checkpointing: how the agent is reached again after a loss (see agent_reconnector).
  agent_reconnector reconnect;
};

/// Spawns the command executor actor in `sys`; it registers with `agent` at once. It quits after a shutdown
/// (reason none) or when registration fails, the agent is lost (without checkpointing), re-registration is
/// refused or the recovery timeout passes (reason = that error).
executor_actor spawn_command_executor(caf::actor_system& sys, executor_environment env, agent_actor agent,
                                      command_executor_options opts = {});

/// Entry point of `mesoscaf command-executor` (argv[0] = the subcommand). Reads the MESOSCAF_* environment,
/// connects to the agent, serves tasks until shut down. Returns 0 after a shutdown or SIGTERM, 1 on errors
/// (bad environment, no agent, lost agent).
int run_command_executor(int argc, char** argv);

} // namespace mesoscaf
