#pragma once
// Writing an executor: a program that the agent starts (with MESOSCAF_* environment variables) and that runs
// tasks of one framework. Two styles.
//
// 1. Callbacks (Mesos style). Derive from `executor`, override what you need, run an `executor_driver`:
//
//      struct my_executor : mesoscaf::executor {
//        void launch_task(executor_driver& d, const task_info& t) override {
//          task_status s; s.task = t.id; s.state = task_state::running;
//          d.send_status_update(s);
//          // ... start the work on a thread of your own; when done:
//          s.state = task_state::finished; d.send_status_update(s);
//        }
//        void shutdown(executor_driver& d) override { /* kill tasks */ d.stop(); }
//      };
//      int main() {
//        my_executor e;
//        mesoscaf::executor_driver driver{e};
//        return driver.run() == mesoscaf::driver_status::stopped ? 0 : 1;
//      }
//
//    Callbacks run one at a time on the driver's internal actor and must not block for long (they hold one of
//    the driver's scheduler threads): run long work on your own threads. Every driver method is thread-safe and
//    may be called from callbacks or any thread: it only sends a message to the internal actor.
//    Status updates: the driver fills framework/agent/executor IDs, source, a fresh uuid and the timestamp, and
//    resends each update every second until the agent acknowledges it. `stop()` waits (up to a drain timeout)
//    for those acknowledgements before the driver ends. The agent sends launches only to registered executors,
//    so the first launch counts as registered if it overtakes the agent's answer (updates go out at once;
//    `registered` still follows the answer).
//    Losing the agent: without checkpointing (MESOSCAF_CHECKPOINT=0) the driver aborts (error callback). With
//    checkpointing the driver calls `disconnected`, keeps the tasks and queues status updates, and reconnects to
//    the same endpoint (the restarted agent publishes there again; backoff 100 ms doubling to 1 s). Once
//    connected it re-registers (`rereg_exec`) with the tasks launched and not yet reported terminal and the
//    unacknowledged updates, resends those updates and calls `reregistered`. If the agent refuses the
//    re-registration or MESOSCAF_RECOVERY_TIMEOUT passes first, it calls `shutdown` (kill your tasks) and
//    `error`, then aborts.
//
// 2. A typed actor implementing `executor_actor` (actors/interfaces.hpp). Connect with
//    `connect_to_agent_from_env(sys)` (blocking: call it from main, not from an actor), register with
//    `request(agent, 10s, atom::reg_exec_v, env.framework, env.executor, self, env.secret)`, then handle launch / kill_task /
//    ack / fw_msg / shutdown, and send `(atom::update, status_update)` with source executor and a fresh uuid,
//    resending until the agent's `ack`. With MESOSCAF_CHECKPOINT=1, reconnect after a loss (connect_atom through
//    the middleman, never the blocking call inside the actor) and send `rereg_exec` (actors/interfaces.hpp).
//
// The environment contract (the agent sets these when it starts an executor):
//   MESOSCAF_AGENT_ENDPOINT=host:port  the agent's published actor (loopback)
//   MESOSCAF_FRAMEWORK_ID, MESOSCAF_EXECUTOR_ID, MESOSCAF_AGENT_ID
//   MESOSCAF_SANDBOX                   the executor's sandbox directory
//   MESOSCAF_CHECKPOINT=1|0            the framework checkpoints: survive agent restarts (missing: 0)
//   MESOSCAF_RECOVERY_TIMEOUT=<ms>     how long to try to reach a lost agent before giving up (missing: 900000)
//   MESOSCAF_EXECUTOR_SECRET           sent with every (re-)registration; the agent refuses any other. Reading the
//                                      environment removes it from the process's own, so children never see it.
//
// Heavy CAF headers stay out of this header: users include it. The driver is a pimpl.
#include "actors/interfaces.hpp"
#include "actors/sdk/scheduler_driver.hpp"  // driver_status

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace caf {
class actor_system;
class error;
template <class T>
class expected;
} // namespace caf

namespace mesoscaf {

class executor_driver;

/// Mesos-style executor callbacks. Defaults do nothing (error() logs).
class executor {
public:
  virtual ~executor();
  /// The agent accepted this executor.
  virtual void registered(executor_driver& driver, const executor_registration& info);
  /// Run this task; report its progress with send_status_update.
  virtual void launch_task(executor_driver& driver, const task_info& task);
  /// A task group (LAUNCH_GROUP): its tasks start together or not at all. The default hands each task to
  /// launch_task; the built-in executor starts them as one.
  virtual void launch_task_group(executor_driver& driver, const task_group_info& group);
  /// Kill this task; report TASK_KILLED when it is gone.
  virtual void kill_task(executor_driver& driver, const task_id& task);
  /// Kill this task with this grace period (the kill call's; overrides the task's kill policy). The default
  /// calls kill_task(driver, task).
  virtual void kill_task(executor_driver& driver, const task_id& task, const kill_policy& policy);
  /// A message from the framework's scheduler.
  virtual void framework_message(executor_driver& driver, const std::string& data);
  /// Kill all tasks and stop the driver. If the executor does not call stop(), the driver stops itself after
  /// `executor_driver_options::shutdown_grace`.
  virtual void shutdown(executor_driver& driver);
  /// Something went wrong: registration failed, the agent connection was lost (the driver then aborts).
  virtual void error(executor_driver& driver, const std::string& message);
  /// Checkpointing only: the connection to the agent was lost; the driver is reconnecting (tasks keep running,
  /// status updates are queued).
  virtual void disconnected(executor_driver& driver);
  /// Checkpointing only: the (restarted) agent accepted the re-registration; queued updates are being resent.
  virtual void reregistered(executor_driver& driver, const executor_registration& info);
};

/// The MESOSCAF_* environment of an executor.
struct executor_environment {
  std::string agent_host;
  uint16_t agent_port = 0;
  framework_id framework;
  executor_id executor;
  agent_id agent;
  std::string sandbox;
  /// The framework checkpoints: on agent loss, keep the tasks and reconnect instead of exiting.
  bool checkpoint = false;
  /// With checkpoint: give up (kill tasks, exit) if the agent is not back within this long after the loss.
  std::chrono::milliseconds recovery_timeout{900000};
  /// Sent with every (re-)registration: the agent accepts no other (MESOSCAF_EXECUTOR_SECRET).
  std::string secret;
};

/// Environment variable names.
constexpr const char* env_agent_endpoint = "MESOSCAF_AGENT_ENDPOINT";
constexpr const char* env_framework_id = "MESOSCAF_FRAMEWORK_ID";
constexpr const char* env_executor_id = "MESOSCAF_EXECUTOR_ID";
constexpr const char* env_agent_id = "MESOSCAF_AGENT_ID";
constexpr const char* env_sandbox = "MESOSCAF_SANDBOX";
constexpr const char* env_task_id = "MESOSCAF_TASK_ID";
constexpr const char* env_checkpoint = "MESOSCAF_CHECKPOINT";
constexpr const char* env_recovery_timeout = "MESOSCAF_RECOVERY_TIMEOUT";

/// Parses "host:port" (also "[v6addr]:port"). Returns an error text, empty on success.
std::string parse_endpoint(const std::string& text, std::string& host, uint16_t& port);

/// Reads the environment through `get` (default: getenv, and then MESOSCAF_EXECUTOR_SECRET is removed from the
/// process environment, so that no child inherits it; later reads still find it). Returns an error text naming
/// the missing or bad variable, empty on success. MESOSCAF_AGENT_ID and MESOSCAF_SANDBOX may be empty; MESOSCAF_CHECKPOINT must be
/// "1" or "0" and MESOSCAF_RECOVERY_TIMEOUT a number of milliseconds when set.
std::string read_executor_environment(executor_environment& out,
                                      const std::function<const char*(const char*)>& get = {});

/// Connects to the agent named by the environment (blocking; call from main, never inside an actor).
/// `sys` must have the middleman loaded and our types registered (add_message_types).
caf::expected<agent_actor> connect_to_agent_from_env(caf::actor_system& sys);

/// The unacknowledged status updates of one executor, in sending order (pure; used by the driver).
class status_update_outbox {
public:
  status_update_outbox() = default;
  status_update_outbox(framework_id framework, agent_id agent, executor_id executor);

  /// Completes `status` (IDs, source = executor, fresh uuid, timestamp), keeps it until acked, returns it.
  status_update add(task_status status);
  /// Drops the update with this uuid; false if unknown.
  bool ack(const task_id& task, const std::string& uuid);
  const std::vector<status_update>& pending() const { return pending_; }
  bool empty() const { return pending_.empty(); }
  void set_agent(agent_id agent) { agent_ = std::move(agent); }

private:
  framework_id framework_;
  agent_id agent_;
  executor_id executor_;
  std::vector<status_update> pending_;
};

/// The delays between reconnection attempts of an executor that lost its agent (pure): `first`, doubling up
/// to `max`.
class reconnect_backoff {
public:
  explicit reconnect_backoff(std::chrono::milliseconds first = std::chrono::milliseconds(100),
                             std::chrono::milliseconds max = std::chrono::milliseconds(1000));
  /// The delay before the next attempt (and doubles the one after).
  std::chrono::milliseconds next();
  /// Starts over at `first` (after a successful reconnection).
  void reset();

private:
  std::chrono::milliseconds first_;
  std::chrono::milliseconds max_;
  std::chrono::milliseconds current_;
};

/// Which host a reconnecting executor dials next. First the one it was started with (or last reached its agent
/// at), then each other address of this host in turn, on the same port: a restarted agent keeps its port (it is
/// checkpointed) but may be bound to a new address (a renumbered host, a new container IP), and it still runs on
/// this host, so one of the host's addresses reaches it. The agent checks the framework and executor ID of a
/// re-registration, so reaching another listener costs one refused attempt. The address list is read again at
/// every round (the new address may appear after the agent was lost).
class agent_dialer {
public:
  /// `addresses` lists this host's addresses (tests pass their own); default: local_interface_addresses().
  explicit agent_dialer(std::string home = {}, std::function<std::vector<std::string>()> addresses = {});
  /// The host to dial next.
  std::string next();
  /// The agent was reached at `host`: dial it first from now on, and start a new round.
  void reached(const std::string& host);
  const std::string& home() const { return home_; }

private:
  std::string home_;
  std::function<std::vector<std::string>()> addresses_;
  std::vector<std::string> round_;
  size_t pos_ = 0;
};

/// True for errors that mean "the agent is out of reach (for now)" (timeouts, lost connections), as opposed to
/// an answer of the agent (e.g. a refused re-registration).
bool is_connection_error(const caf::error& err);

/// How an executor reaches its agent again after losing it (checkpointing frameworks). Called inside the
/// executor's actor: it must not block. An invalid handle means "not yet" (tried again after the backoff).
/// Unset (the default): an asynchronous connect to MESOSCAF_AGENT_ENDPOINT through the middleman. Tests set it
/// to hand over a second in-process agent.
using agent_reconnector = std::function<agent_actor()>;

struct executor_driver_options {
  /// Resend unacknowledged status updates this often.
  std::chrono::milliseconds resend_interval{1000};
  /// Timeout of the registration request (and of connecting, in the environment constructor).
  std::chrono::milliseconds registration_timeout{10000};
  /// After the `shutdown` callback, the driver stops itself after this long if the executor did not.
  std::chrono::milliseconds shutdown_grace{3000};
  /// stop() waits at most this long for acknowledgements of pending status updates.
  std::chrono::milliseconds drain_timeout{5000};
  /// Checkpointing: how the agent is reached again after a loss (see agent_reconnector).
  agent_reconnector reconnect;
  /// Scheduler threads of the driver's own actor system (environment constructor only). Two by default, so a
  /// slow callback does not stall the connection; one suffices when no callback blocks.
  int scheduler_threads = 2;
  /// Component name of the driver's log lines.
  std::string log_component = "executor";
};

class executor_driver {
public:
  /// Reads the MESOSCAF_* environment and connects to the agent; owns an actor system of its own
  /// (middleman loaded, latency-tuned scheduler). A bad environment makes start()/run() return `aborted`.
  explicit executor_driver(executor& exec, executor_driver_options opts = {});
  /// Uses `sys` and an agent handle already at hand (tests, in-process agents).
  executor_driver(caf::actor_system& sys, executor& exec, executor_environment env, agent_actor agent,
                  executor_driver_options opts = {});
  /// abort()s if still running, then joins.
  ~executor_driver();

  executor_driver(const executor_driver&) = delete;
  executor_driver& operator=(const executor_driver&) = delete;

  /// Connects (environment constructor) and registers asynchronously; returns `running` or `aborted`.
  driver_status start();
  /// Ends the driver after pending status updates are acknowledged (or the drain timeout passed).
  driver_status stop();
  /// Ends the driver at once.
  driver_status abort();
  /// Blocks until the driver is stopped or aborted. Never call from a callback.
  driver_status join();
  /// start() + join().
  driver_status run();

  /// Sends a status update (see the top of this file); returns `running` if it was queued.
  driver_status send_status_update(task_status status);
  /// Sends a message to the framework's scheduler.
  driver_status send_framework_message(std::string data);

  driver_status status() const;
  /// Why the driver aborted; empty otherwise.
  std::string abort_reason() const;
  const executor_environment& environment() const;
  /// The actor system the driver runs in (its own, or the one given), e.g. to spawn the executor's own actors.
  caf::actor_system& system();

  struct impl;

private:
  std::unique_ptr<impl> impl_;
};

} // namespace mesoscaf
