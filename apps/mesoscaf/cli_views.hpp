#pragma once
// What the CLI makes of the master's JSON (docs/HTTP.md): tables and summaries for people, and the request bodies
// it sends. Pure functions of their arguments; unexpected shapes (a missing field, a wrong type) show as empty
// cells rather than failing, so a newer master still prints.
#include "apps/mesoscaf/text_table.hpp"
#include "messages/resources.hpp"

#include <nlohmann/json.hpp>

#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace mesoscaf {

using json = nlohmann::json;

/// 2, 0.5, 1024, 0.125 (at most three decimals, as resources are kept).
std::string format_number(double value);

/// `cpus:1;mem:512;ports:[31000-31009]` from a resources object (zero scalars left out; "" when all are zero).
std::string resources_text(const json& resources);

/// `/slaves` answer -> ID, HOSTNAME, ADDRESS (its HTTP address), ACTIVE, CPUS, MEM, DISK (used/total each).
text_table agents_table(const json& slaves_answer);

/// `/frameworks` answer -> ID, NAME, USER, ROLE, ACTIVE, TASKS (live), CPUS, MEM (used); completed frameworks
/// follow with ACTIVE "completed".
text_table frameworks_table(const json& frameworks_answer);

/// The tasks of a `/state` answer: every framework's `tasks` and `unreachable_tasks` and the orphans; with
/// `completed` also the `completed_tasks` of frameworks and completed frameworks. A JSON array.
json select_tasks(const json& state, bool completed);

/// Tasks (as select_tasks returns them) -> TASK ID, NAME, STATE, FRAMEWORK, AGENT, CPUS, MEM.
text_table tasks_table(const json& tasks);

/// `/quota` answer -> ROLE, GUARANTEE, LIMIT.
text_table quota_table(const json& quota_answer);

/// `/weights` answer -> ROLE, WEIGHT.
text_table weights_table(const json& weights_answer);

/// A few lines about the cluster from `/state`: leader, version, agents, frameworks, tasks by state, resources.
void write_state_summary(std::ostream& os, const json& state);

/// The body of `POST /quota` setting `guarantee` (scalars) for `role`.
json quota_request(const std::string& role, const resource_set& guarantee);

/// The body of `PUT /weights`.
json weights_request(const std::vector<std::pair<std::string, double>>& weights);

/// True for Mesos' terminal task states (TASK_FINISHED, TASK_FAILED, TASK_KILLED, TASK_LOST, TASK_ERROR,
/// TASK_DROPPED, TASK_GONE, TASK_GONE_BY_OPERATOR).
bool is_terminal_task_state(const std::string& state);

/// A string field of a JSON object; "" when absent or not a string.
std::string text_field(const json& object, const char* name);

} // namespace mesoscaf
