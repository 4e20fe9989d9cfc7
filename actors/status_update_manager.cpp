#include "actors/status_update_manager.hpp"

#include <algorithm>

namespace mesoscaf {

status_update_manager::status_update_manager(duration initial_retry, duration max_retry)
  : initial_retry_(initial_retry > duration::zero() ? initial_retry : std::chrono::seconds(1)),
    max_retry_(std::max(max_retry, initial_retry_)) {
}

status_update_manager::add_result status_update_manager::add(const status_update& u, time_point now) {
  if (u.framework.empty() || u.status.task.empty() || u.status.uuid.empty())
    return add_result::invalid;
  auto& s = streams_[key{u.framework, u.status.task}];
  if (!s.seen.insert(u.status.uuid).second)
    return add_result::duplicate;
  if (s.pending.empty()) {
    s.next_retry = now + initial_retry_;
    s.interval = initial_retry_;
  }
  s.pending.push_back(u);
  // A reused task ID starts a new incarnation after a terminal update: the stream is live again.
  s.terminal = is_terminal(u.status.state);
  return add_result::added;
}

std::optional<status_update> status_update_manager::acknowledge(const framework_id& fw, const task_id& task,
                                                                const std::string& uuid) {
  auto i = streams_.find(key{fw, task});
  if (i == streams_.end())
    return std::nullopt;
  auto& pending = i->second.pending;
  auto j = std::find_if(pending.begin(), pending.end(),
                        [&](const status_update& u) { return u.status.uuid == uuid; });
  if (j == pending.end())
    return std::nullopt;
  auto result = std::move(*j);
  pending.erase(j);
  // A task whose terminal update is acknowledged produces no further updates worth tracking, whichever of
  // its updates the master acknowledged last.
  if (pending.empty() && i->second.terminal)
    streams_.erase(i);
  return result;
}

std::vector<status_update> status_update_manager::due(time_point now) {
  std::vector<status_update> result;
  for (auto& [k, s] : streams_) {
    if (s.pending.empty() || s.next_retry > now)
      continue;
    result.insert(result.end(), s.pending.begin(), s.pending.end());
    s.interval = std::min(s.interval * 2, max_retry_);
    s.next_retry = now + s.interval;
  }
  return result;
}

std::vector<status_update> status_update_manager::all_pending(time_point now) {
  std::vector<status_update> result;
  for (auto& [k, s] : streams_) {
    if (s.pending.empty())
      continue;
    result.insert(result.end(), s.pending.begin(), s.pending.end());
    s.interval = initial_retry_;
    s.next_retry = now + initial_retry_;
  }
  return result;
}

void status_update_manager::remove_framework(const framework_id& fw) {
  for (auto i = streams_.begin(); i != streams_.end();) {
    if (i->first.first == fw)
      i = streams_.erase(i);
    else
      ++i;
  }
}

size_t status_update_manager::pending() const {
  size_t n = 0;
  for (auto& [k, s] : streams_)
    n += s.pending.size();
  return n;
}

size_t status_update_manager::pending(const framework_id& fw, const task_id& task) const {
  auto i = streams_.find(key{fw, task});
  return i == streams_.end() ? 0 : i->second.pending.size();
}

std::vector<status_update> status_update_manager::pending_updates(const framework_id& fw,
                                                                  const task_id& task) const {
  auto i = streams_.find(key{fw, task});
  return i == streams_.end() ? std::vector<status_update>{} : i->second.pending;
}

std::optional<status_update_manager::time_point> status_update_manager::next_retry() const {
  std::optional<time_point> result;
  for (auto& [k, s] : streams_)
    if (!s.pending.empty() && (!result || s.next_retry < *result))
      result = s.next_retry;
  return result;
}

} // namespace mesoscaf
