#pragma once
// The agent's bookkeeping of status updates that the master has not acknowledged yet. One stream per task
// (framework ID + task ID), resent with exponential backoff until acknowledged.
// Only the oldest unacknowledged update of a task is in flight (Mesos' rule): the next one is forwarded when it is
// acknowledged, so a framework sees a task's updates in order. Every forwarded update carries the newest state
// (latest_state). The agent checkpoints each update before forwarding it (actors/agent/agent_checkpoint.hpp) and
// rebuilds the streams from the log after a restart (recover).
// Plain class, no actor code, time passed in: unit-tested directly.
#include "actors/agent/agent_checkpoint.hpp"
#include "messages/ids.hpp"
#include "messages/task_status.hpp"

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace mesoscaf {

class status_update_manager {
public:
  using clock = std::chrono::steady_clock;
  using time_point = clock::time_point;
  using duration = clock::duration;

  enum class add_result {
    added,      // new: recorded (checkpoint it; forward it if it became the stream's head)
    duplicate,  // this uuid is pending or was acknowledged already for the task: nothing changes
    invalid,    // empty framework ID, task ID or uuid: nothing recorded
  };

  /// Retries start `initial_retry` after an update was forwarded and double up to `max_retry`.
  explicit status_update_manager(duration initial_retry = std::chrono::seconds(10),
                                 duration max_retry = std::chrono::minutes(10));

  /// Records `u` at the end of its stream. If the stream had nothing pending, `u` is now its head: `*forward`
  /// (if given) gets it, stamped with the stream's latest_state, and its retry is due `initial_retry` after
  /// `now`. Otherwise it waits until the updates before it are acknowledged (Mesos: one in flight per task).
  add_result add(const status_update& u, time_point now, std::optional<status_update>* forward = nullptr);

  struct ack_result {
    bool matched = false;                    // the uuid was the head of the stream: it is acknowledged
    std::optional<status_update> next;       // the new head, to forward now (stamped), if any
    bool stream_done = false;                // the terminal update is acknowledged: the stream is forgotten
  };
  /// The master acknowledged (framework, task, uuid). Only the head can be acknowledged; anything else (unknown
  /// task, a uuid not at the head, a duplicate) is ignored and changes nothing.
  ack_result acknowledge(const framework_id& fw, const task_id& task, const std::string& uuid, time_point now);

  /// Heads to resend at `now`: of each stream whose retry is due, stamped; those streams' retry intervals
  /// double (up to the maximum).
  std::vector<status_update> due(time_point now);

  /// The head of every stream (after (re-)registering with a master), stamped, in key order; retry timers
  /// restart from `now` with the initial interval. With `fw` set: only that framework's streams (its scheduler
  /// failed over).
  std::vector<status_update> heads(time_point now);
  std::vector<status_update> heads(const framework_id& fw, time_point now);

  /// Rebuilds a task's stream from its checkpointed log (agent recovery): updates in order, minus the
  /// acknowledged ones; duplicates and acks of unknown uuids ignored. The head's retry is due at `now`.
  /// Returns false (nothing recorded) for an empty framework or task ID.
  bool recover(const framework_id& fw, const task_id& task, const std::vector<update_record>& log, time_point now);

  /// Forgets everything about a framework (it was shut down) / a task.
  void remove_framework(const framework_id& fw);
  void remove_task(const framework_id& fw, const task_id& task);

  /// Number of pending (unacknowledged) updates, in total or for one task.
  size_t pending() const;
  size_t pending(const framework_id& fw, const task_id& task) const;

  /// The pending updates of one task, oldest first.
  std::vector<status_update> pending_updates(const framework_id& fw, const task_id& task) const;

  /// The state of the newest update recorded for the task (nothing if the task has no stream).
  std::optional<task_state> latest_state(const framework_id& fw, const task_id& task) const;

  /// Number of tasks whose updates are tracked (a stream is forgotten once its terminal update and every
  /// earlier one are acknowledged).
  size_t streams() const { return streams_.size(); }

  /// When the next retry is due; nothing if no update is pending.
  std::optional<time_point> next_retry() const;

private:
  using key = std::pair<framework_id, task_id>;

  struct stream {
    std::vector<status_update> pending;   // oldest first; pending.front() is in flight
    std::set<std::string> seen;           // uuids ever added (for duplicate detection)
    task_state latest = task_state::staging;
    bool terminal = false;                // the newest update added is terminal: nothing follows it
    time_point next_retry;
    duration interval;
  };

  status_update stamped(const stream& s) const;

  duration initial_retry_;
  duration max_retry_;
  std::map<key, stream> streams_;
};

} // namespace mesoscaf
