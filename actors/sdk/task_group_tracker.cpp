#include "actors/sdk/task_group_tracker.hpp"

#include <algorithm>

namespace mesoscaf {

bool task_group_tracker::add(const std::vector<task_id>& members, group_failure_policy policy) {
  if (members.empty())
    return false;
  std::unordered_set<task_id> seen;
  for (const auto& id : members)
    if (!seen.insert(id).second || group_of_.count(id) > 0)
      return false;
  auto key = ++next_;
  auto& g = groups_[key];
  g.members = members;
  g.policy = policy;
  for (const auto& id : members)
    group_of_[id] = key;
  return true;
}

bool task_group_tracker::contains(const task_id& id) const {
  return group_of_.count(id) > 0;
}

bool task_group_tracker::ready(const task_id& id) {
  auto i = group_of_.find(id);
  if (i == group_of_.end())
    return false;
  auto& g = groups_[i->second];
  if (g.started)
    return false;
  g.ready.insert(id);
  if (g.ready.size() < g.members.size())
    return false;
  g.started = true;
  return true;
}

bool task_group_tracker::started(const task_id& id) const {
  auto i = group_of_.find(id);
  return i != group_of_.end() && groups_.at(i->second).started;
}

std::vector<task_id> task_group_tracker::members(const task_id& id) const {
  auto i = group_of_.find(id);
  return i == group_of_.end() ? std::vector<task_id>{} : groups_.at(i->second).members;
}

std::vector<task_id> task_group_tracker::others(const group& g, const task_id& id) const {
  std::vector<task_id> result;
  for (const auto& m : g.members)
    if (m != id)
      result.push_back(m);
  return result;
}

std::vector<task_id> task_group_tracker::ended(const task_id& id, task_state state) {
  auto i = group_of_.find(id);
  if (i == group_of_.end())
    return {};
  auto key = i->second;
  group_of_.erase(i);
  auto& g = groups_[key];
  g.members.erase(std::remove(g.members.begin(), g.members.end(), id), g.members.end());
  g.ready.erase(id);
  std::vector<task_id> result;
  if (!g.started || (state != task_state::finished && g.policy == group_failure_policy::kill_group))
    result = g.members;
  if (g.members.empty())
    groups_.erase(key);
  return result;
}

std::vector<task_id> task_group_tracker::killed(const task_id& id) const {
  auto i = group_of_.find(id);
  if (i == group_of_.end())
    return {};
  const auto& g = groups_.at(i->second);
  return g.policy == group_failure_policy::kill_group ? others(g, id) : std::vector<task_id>{};
}

} // namespace mesoscaf
