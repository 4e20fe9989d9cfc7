#pragma once
// Task states, reasons and status updates, with Mesos' full set of states.
#include "messages/boxed_optional.hpp"
#include "messages/ids.hpp"
#include "messages/resource_statistics.hpp"

#include <caf/meta/type_name.hpp>
#include <caf/optional.hpp>

#include <cstdint>
#include <string>

namespace mesoscaf {

enum class task_state : uint8_t {
  staging = 0,
  starting,
  running,
  killing,
  finished,          // terminal
  failed,            // terminal
  killed,            // terminal
  error,             // terminal: the task description was invalid
  lost,              // terminal
  dropped,           // terminal: never launched, safe to retry
  unreachable,       // not terminal: its agent is partitioned
  gone,              // terminal: its agent is gone for good
  gone_by_operator,  // terminal
  unknown,           // the master knows nothing of it
};

enum class task_reason : uint16_t {
  none = 0,
  command_executor_failed,
  container_launch_failed,
  executor_registration_timeout,
  executor_terminated,
  framework_removed,
  invalid_offers,
  invalid_resources,
  task_invalid,
  task_killed_during_launch,
  agent_removed,
  agent_disconnected,
  agent_unknown,
  agent_restarted,
  reconciliation,
  master_disconnected,
  executor_unregistered,
  container_limitation_memory,
  gc_error,
  container_limitation_disk,
  task_unauthorized,   // an ACL (run_tasks) refused the task's user
  task_health_check_status_updated,  // TASK_RUNNING: its health changed; TASK_KILLED: killed for failing checks
  task_group_invalid,  // a task group is malformed (LAUNCH_GROUP)
  agent_removed_by_operator,  // the operator marked the task's agent gone (MARK_AGENT_GONE)
};

enum class status_source : uint8_t { master = 0, agent = 1, executor = 2 };

/// "TASK_RUNNING" etc., as Mesos prints them.
const char* to_string(task_state s);
/// "REASON_INVALID_OFFERS" etc.
const char* to_string(task_reason r);
const char* to_string(status_source s);
bool is_terminal(task_state s);

struct task_status {
  task_id task;
  task_state state = task_state::staging;
  task_reason reason = task_reason::none;
  std::string message;
  status_source source = status_source::agent;
  std::string uuid;        // identifies this update for acknowledgement; empty = needs no ack
  double timestamp = 0;    // seconds since the epoch
  agent_id agent;
  executor_id executor;
  std::string data;
  /// A task's terminal update from the command executor: what the task used (see messages/resource_statistics.hpp).
  boxed_optional<resource_statistics> usage;
  /// Set once a task with a health check has been checked: the result of its checks (Mesos' `healthy`).
  caf::optional<bool> healthy;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, task_status& x) {
    return f(caf::meta::type_name("task_status"), x.task, x.state, x.reason, x.message, x.source, x.uuid,
             x.timestamp, x.agent, x.executor, x.data, x.usage, x.healthy);
  }
};

/// A status update on its way from an executor or agent to the master (and from there to the framework).
struct status_update {
  framework_id framework;
  task_status status;
  /// The newest state of the task the agent knows when it (re)sends this update. The agent forwards only the
  /// oldest unacknowledged update of a task, so this may be ahead of `status.state` (e.g. TASK_FINISHED behind
  /// an unacknowledged TASK_RUNNING): the master keeps its books by it (Mesos' latest_state).
  task_state latest_state = task_state::staging;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, status_update& x) {
    return f(caf::meta::type_name("status_update"), x.framework, x.status, x.latest_state);
  }
};

/// Seconds since the epoch, for timestamps.
double now_seconds();

/// The end of a launch that reached no agent, so nothing ran: TASK_DROPPED (by the scheduler driver while it was
/// not subscribed, or by an agent that was re-registering), or the master not knowing the task (TASK_LOST / GONE /
/// UNKNOWN from reconciliation or from the driver). Only meaningful while no agent or executor reported on the
/// task: a framework may then launch it again under a new ID (`mesoscaf execute` does).
bool is_never_launched(const task_status& s);

} // namespace mesoscaf
