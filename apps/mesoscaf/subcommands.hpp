#pragma once
// Entry points of the `mesoscaf` subcommands (argv[0] is the subcommand's name) and the daemon helpers they
// share. Exit codes: 0 success, 1 failure, 2 bad arguments.
#include <chrono>
#include <csignal>
#include <functional>
#include <string>

namespace caf {
class actor;
class actor_system;
} // namespace caf

namespace mesoscaf {

int master_main(int argc, char** argv);
int agent_main(int argc, char** argv);
int local_main(int argc, char** argv);
int execute_main(int argc, char** argv);
int command_executor_main(int argc, char** argv);
// `mesoscaf certs create-ca | create` (apps/mesoscaf/certs_main.cpp).
int certs_main(int argc, char** argv);
// The operator CLI (apps/mesoscaf/cli_main.cpp).
int state_main(int argc, char** argv);
int agents_main(int argc, char** argv);
int frameworks_main(int argc, char** argv);
int tasks_main(int argc, char** argv);
int task_main(int argc, char** argv);
int quota_main(int argc, char** argv);
int weights_main(int argc, char** argv);
int framework_main(int argc, char** argv);

/// Blocks SIGTERM, SIGINT and SIGHUP in the calling thread; call before creating the actor system so every CAF thread
/// inherits the mask and only `wait_for_termination` takes them (caf-notes A13).
sigset_t block_termination_signals();

/// Raises the soft limit of open files to the hard limit: a daemon holds a descriptor per agent, framework and
/// HTTP client (thousands), and the usual soft default of 1024 is far below what the host allows.
void raise_open_file_limit();

/// Waits for SIGTERM or SIGINT; returns the signal number. Each SIGHUP meanwhile reopens the log file
/// (`--log-file`, after logrotate renamed it).
int wait_for_termination(const sigset_t& set);

/// Starts a thread that _exit(1)s if the process is still alive after `limit` (a hung shutdown must not
/// leave a daemon behind: caf-notes pitfall 10). The thread is detached.
void start_shutdown_watchdog(std::chrono::seconds limit = std::chrono::seconds(15));

/// Sends `user_shutdown` to `root` and waits (from this thread) until it is down; kills it after `grace`.
/// Returns true if it went down within `grace`.
bool terminate_actor(caf::actor_system& sys, const caf::actor& root, std::chrono::milliseconds grace);

} // namespace mesoscaf
