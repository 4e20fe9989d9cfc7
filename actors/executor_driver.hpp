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
//    for those acknowledgements before the driver ends. Losing the agent aborts the driver (error callback).
//
// 2. A typed actor implementing `executor_actor` (actors/interfaces.hpp). Connect with
//    `connect_to_agent_from_env(sys)` (blocking: call it from main, not from an actor), register with
//    `request(agent, 10s, atom::reg_exec_v, env.framework, env.executor, self)`, then handle launch / kill_task /
//    ack / fw_msg / shutdown, and send `(atom::update, status_update)` with source executor and a fresh uuid,
//    resending until the agent's `ack`.
//
// The environment contract (the agent sets these when it starts an executor):
//   MESOSCAF_AGENT_ENDPOINT=host:port  the agent's published actor (loopback)
//   MESOSCAF_FRAMEWORK_ID, MESOSCAF_EXECUTOR_ID, MESOSCAF_AGENT_ID
//   MESOSCAF_SANDBOX                   the executor's sandbox directory
//
// Heavy CAF headers stay out of this header: users include it. The driver is a pimpl.
#include "actors/interfaces.hpp"
#include "actors/scheduler_driver.hpp"  // driver_status

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace caf {
class actor_system;
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
  /// Kill this task; report TASK_KILLED when it is gone.
  virtual void kill_task(executor_driver& driver, const task_id& task);
  /// A message from the framework's scheduler.
  virtual void framework_message(executor_driver& driver, const std::string& data);
  /// Kill all tasks and stop the driver. If the executor does not call stop(), the driver stops itself after
  /// `executor_driver_options::shutdown_grace`.
  virtual void shutdown(executor_driver& driver);
  /// Something went wrong: registration failed, the agent connection was lost (the driver then aborts).
  virtual void error(executor_driver& driver, const std::string& message);
};

/// The MESOSCAF_* environment of an executor.
struct executor_environment {
  std::string agent_host;
  uint16_t agent_port = 0;
  framework_id framework;
  executor_id executor;
  agent_id agent;
  std::string sandbox;
};

/// Environment variable names.
constexpr const char* env_agent_endpoint = "MESOSCAF_AGENT_ENDPOINT";
constexpr const char* env_framework_id = "MESOSCAF_FRAMEWORK_ID";
constexpr const char* env_executor_id = "MESOSCAF_EXECUTOR_ID";
constexpr const char* env_agent_id = "MESOSCAF_AGENT_ID";
constexpr const char* env_sandbox = "MESOSCAF_SANDBOX";
constexpr const char* env_task_id = "MESOSCAF_TASK_ID";

/// Parses "host:port" (also "[v6addr]:port"). Returns an error text, empty on success.
std::string parse_endpoint(const std::string& text, std::string& host, uint16_t& port);

/// Reads the environment through `get` (default: getenv). Returns an error text naming the missing or bad
/// variable, empty on success. MESOSCAF_AGENT_ID and MESOSCAF_SANDBOX may be empty.
std::string read_executor_environment(executor_environment& out,
                                      const std::function<const char*(const char*)>& get = {});

/// Connects to the agent named by the environment (blocking; call from main, never inside an actor).
/// `sys` must have the middleman loaded and our types registered (add_message_types).
caf::expected<agent_actor> connect_to_agent_from_env(caf::actor_system& sys);

/// The unacknowledged status updates of one executor, in sending order (pure; used by the driver and by the
/// command executor).
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

struct executor_driver_options {
  /// Resend unacknowledged status updates this often.
  std::chrono::milliseconds resend_interval{1000};
  /// Timeout of the registration request (and of connecting, in the environment constructor).
  std::chrono::milliseconds registration_timeout{10000};
  /// After the `shutdown` callback, the driver stops itself after this long if the executor did not.
  std::chrono::milliseconds shutdown_grace{3000};
  /// stop() waits at most this long for acknowledgements of pending status updates.
  std::chrono::milliseconds drain_timeout{5000};
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

  struct impl;

private:
  std::unique_ptr<impl> impl_;
};

} // namespace mesoscaf
