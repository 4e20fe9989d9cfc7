#pragma once
// `mesoscaf execute --group=FILE.json`: a task group in Mesos' TaskGroupInfo JSON (as `mesos-execute
// --task_group` reads it), with a few shorthands:
//   {"tasks": [{"name": "web", "task_id": {"value": "web"},
//               "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}}, ...],
//               "command": {"value": "sleep 100"}}, ...],
//    "failure_policy": "KILL_GROUP"}
// Per task: name, task_id ({"value": ...} or a string; default: the name), resources (Mesos' SCALAR and RANGES
// resources, or our text form "cpus:0.1;mem:32"), command (value, shell, arguments, user, environment.variables,
// uris), kill_policy.grace_period.nanoseconds, labels.labels. Top level: failure_policy KILL_GROUP (default, as
// Mesos) or KEEP_RUNNING (ours). Unknown keys are errors (a typo must not silently drop a setting).
#include "messages/task_info.hpp"

#include <string>
#include <string_view>

namespace mesoscaf {

/// Most tasks a group file may hold.
constexpr std::size_t max_group_tasks = 256;

/// Parses a group file's text into `out` (tasks without agent, executor or role). "" or the error, naming the
/// JSON path (e.g. "tasks[1].resources[0].scalar.value: not a number"). Also refused: no tasks, a task ID twice,
/// tasks failing check_task_life (messages/task_checks.hpp).
std::string parse_task_group_json(std::string_view text, task_group_info& out);

} // namespace mesoscaf
