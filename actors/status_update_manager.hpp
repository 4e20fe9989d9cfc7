#pragma once
// The agent's bookkeeping of status updates that the master has not acknowledged yet. One stream per task
// (framework ID + task ID); every update in it was forwarded to the master and is resent, oldest first,
// until the master's acknowledgement for its uuid arrives. Resending the whole stream in order means the
// last update the master sees for a task is always the newest one, even after retries.
// Plain class, no actor code, time passed in: unit-tested directly. (Checkpointing to disk comes later.)
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
    added,      // new: forward it to the master now
    duplicate,  // this uuid is pending or was acknowledged already for the task: do not forward again
    invalid,    // empty framework ID, task ID or uuid: nothing recorded
  };

  /// Retries start `initial_retry` after an update was added and double up to `max_retry`.
  explicit status_update_manager(duration initial_retry = std::chrono::seconds(2),
                                 duration max_retry = std::chrono::seconds(60));

  /// Records `u` as pending. The first retry of its stream is due `initial_retry` after `now` unless the
  /// stream already had a retry scheduled.
  add_result add(const status_update& u, time_point now);

  /// The master acknowledged (framework, task, uuid). Returns the acknowledged update, or nothing if no
  /// such update is pending (unknown or duplicate acks are ignored and change nothing).
  std::optional<status_update> acknowledge(const framework_id& fw, const task_id& task,
                                           const std::string& uuid);

  /// Updates to resend at `now`: every pending update of each stream whose retry is due, in the order they
  /// were added. Those streams' retry interval doubles (up to the maximum).
  std::vector<status_update> due(time_point now);

  /// Every pending update (e.g. after (re-)registering with a master), streams in key order, updates in
  /// the order they were added. Retry timers restart from `now` with the initial interval.
  std::vector<status_update> all_pending(time_point now);

  /// Forgets everything about a framework (it was shut down).
  void remove_framework(const framework_id& fw);

  /// Number of pending (unacknowledged) updates, in total or for one task.
  size_t pending() const;
  size_t pending(const framework_id& fw, const task_id& task) const;

  /// The pending updates of one task, oldest first (e.g. to resend them at once).
  std::vector<status_update> pending_updates(const framework_id& fw, const task_id& task) const;

  /// Number of tasks whose updates are tracked (a stream is forgotten once its terminal update and every
  /// earlier one are acknowledged).
  size_t streams() const { return streams_.size(); }

  /// When the next retry is due; nothing if no update is pending.
  std::optional<time_point> next_retry() const;

private:
  using key = std::pair<framework_id, task_id>;

  struct stream {
    std::vector<status_update> pending;   // oldest first
    std::set<std::string> seen;           // uuids ever added (for duplicate detection)
    bool terminal = false;                // the newest update added is terminal: nothing follows it
    time_point next_retry;
    duration interval;
  };

  duration initial_retry_;
  duration max_retry_;
  std::map<key, stream> streams_;
};

} // namespace mesoscaf
