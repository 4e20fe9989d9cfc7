#pragma once
// Task reconciliation at the master as a pure function (Mesos' answer matrix), for partition-aware and other
// frameworks. Answers are status updates from the master with reason REASON_RECONCILIATION and no uuid (they
// need no acknowledgement).
#include "actors/master/cluster_state.hpp"

#include <vector>

namespace mesoscaf {

/// Implicit (`asked` empty): the latest state of every live task of the framework, TASK_UNREACHABLE for each
/// of its unreachable tasks, and the terminal state of each task whose end it has not acknowledged yet.
/// Explicit, per asked task (task ID and, if known, agent ID):
/// - live task: its latest state; unreachable task: TASK_UNREACHABLE; ended (unacknowledged, or acknowledged and
///   still in the bounded completed history): that end;
/// - otherwise by the agent: registered -> TASK_GONE, unreachable -> TASK_UNREACHABLE, unknown or empty ->
///   TASK_UNKNOWN, recovered but not yet re-registered -> no answer; no agent given while agents of a recovered
///   registry are still coming back -> no answer (Mesos answers nothing for transitioning agents);
/// - frameworks that are not partition-aware get TASK_LOST instead of GONE / UNREACHABLE / UNKNOWN.
/// An unknown framework gets no answers. `now`: timestamp of the answers (seconds since the epoch).
std::vector<task_status> reconcile_tasks(const cluster_state& reg, const framework_id& fw,
                                         const std::vector<task_status>& asked, double now);

} // namespace mesoscaf
