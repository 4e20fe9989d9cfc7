#pragma once
// The default executor's book of task groups (LAUNCH_GROUP), as a plain class: the command executor starts and
// kills processes, this says which tasks go together.
//  - A group starts once every task of it is ready (its URIs fetched): all at once, or none.
//  - A task that ends before its group started takes the others with it, whatever the policy.
//  - Once started, a task that ends other than FINISHED (failed, killed, lost its health) takes the others with
//    it under group_failure_policy::kill_group (Mesos' behaviour, the default); under keep_running they run on.
//  - A kill call for one task kills its whole group under kill_group, as Mesos' default executor does.
#include "messages/ids.hpp"
#include "messages/task_info.hpp"
#include "messages/task_status.hpp"

#include <cstdint>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace mesoscaf {

class task_group_tracker {
public:
  /// Records a group (its tasks in launch order). False, and nothing recorded, if it is empty, lists a task twice
  /// or a task of it is in a group already.
  bool add(const std::vector<task_id>& members, group_failure_policy policy);

  /// True iff the task is in a group.
  bool contains(const task_id& id) const;

  /// The task is ready to start. True iff that made every task of its not yet started group ready: the group
  /// counts as started from now on, and the caller starts all of members(id).
  bool ready(const task_id& id);

  /// True iff the task's group has started.
  bool started(const task_id& id) const;

  /// The tasks of the task's group that have not ended, in launch order (empty if it is in none).
  std::vector<task_id> members(const task_id& id) const;

  /// The task ended in `state`: it leaves its group. Returns the tasks to kill with it (see the rules above).
  std::vector<task_id> ended(const task_id& id, task_state state);

  /// A kill call for the task: the other tasks to kill with it (kill_group), else none.
  std::vector<task_id> killed(const task_id& id) const;

  /// The number of groups with tasks that have not ended.
  std::size_t size() const { return groups_.size(); }

private:
  struct group {
    std::vector<task_id> members;  // not ended, in launch order
    std::unordered_set<task_id> ready;
    group_failure_policy policy = group_failure_policy::kill_group;
    bool started = false;
  };
  std::vector<task_id> others(const group& g, const task_id& id) const;

  std::unordered_map<task_id, uint64_t> group_of_;
  std::unordered_map<uint64_t, group> groups_;
  uint64_t next_ = 0;
};

} // namespace mesoscaf
