#include "actors/master/reconciliation.hpp"

namespace mesoscaf {

namespace {

task_status answer(const task_id& task, const agent_id& agent, task_state state, double now, std::string message) {
  task_status s;
  s.task = task;
  s.agent = agent;
  s.state = state;
  s.reason = task_reason::reconciliation;
  s.source = status_source::master;
  s.message = std::move(message);
  s.timestamp = now;
  return s;
}

task_status of_task(const task_entry& t, double now) {
  auto s = answer(t.info.id, t.info.agent, t.state, now, "reconciliation: latest state");
  if (t.info.executor)
    s.executor = t.info.executor->id;
  return s;
}

} // namespace

std::vector<task_status> reconcile_tasks(const cluster_state& reg, const framework_id& fw,
                                         const std::vector<task_status>& asked, double now) {
  std::vector<task_status> result;
  const auto* f = reg.framework(fw);
  if (f == nullptr)
    return result;
  if (asked.empty()) {
    for (const auto& [tid, t] : f->tasks)
      result.push_back(of_task(t, now));
    for (const auto& [tid, t] : f->unreachable_tasks)
      result.push_back(of_task(t, now));
    for (const auto& [tid, t] : f->unacknowledged)
      result.push_back(of_task(t, now));
    return result;
  }
  bool pa = is_partition_aware(f->info);
  auto lost_or = [pa](task_state s) { return pa ? s : task_state::lost; };
  for (const auto& q : asked) {
    if (auto i = f->tasks.find(q.task); i != f->tasks.end()) {
      result.push_back(of_task(i->second, now));
      continue;
    }
    if (auto i = f->unreachable_tasks.find(q.task); i != f->unreachable_tasks.end()) {
      result.push_back(of_task(i->second, now));
      continue;
    }
    if (auto i = f->unacknowledged.find(q.task); i != f->unacknowledged.end()) {
      result.push_back(of_task(i->second, now));   // its real end, still unacknowledged
      continue;
    }
    if (const auto* done = reg.completed_task(fw, q.task)) {
      // Ended and acknowledged, still in the history: its end again (a question asked before the end and answered
      // after it must not name another state; Mesos would say TASK_GONE here).
      result.push_back(of_task(*done, now));
      continue;
    }
    const auto& aid = q.agent;
    if (!aid.empty() && reg.is_recovered(aid) && reg.agent(aid) == nullptr)
      continue; // its agent may still come back with it: no answer yet
    if (aid.empty() && !reg.recovering().empty())
      continue; // any agent still coming back after a failover may bring it: no answer yet
    if (!aid.empty() && reg.agent(aid) != nullptr)
      result.push_back(answer(q.task, aid, lost_or(task_state::gone), now, "reconciliation: task unknown to the "
                                                                           "master on a registered agent"));
    else if (!aid.empty() && reg.is_gone(aid))
      result.push_back(answer(q.task, aid, lost_or(task_state::gone_by_operator), now,
                              "reconciliation: the task's agent was marked gone by the operator"));
    else if (!aid.empty() && reg.is_unreachable(aid))
      result.push_back(answer(q.task, aid, lost_or(task_state::unreachable), now,
                              "reconciliation: the task's agent is unreachable"));
    else
      result.push_back(answer(q.task, aid, lost_or(task_state::unknown), now,
                              "reconciliation: task and agent unknown to the master"));
  }
  return result;
}

} // namespace mesoscaf
