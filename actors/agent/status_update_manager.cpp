#include "actors/agent/status_update_manager.hpp"

#include <algorithm>

namespace mesoscaf {

status_update_manager::status_update_manager(duration initial_retry, duration max_retry)
  : initial_retry_(initial_retry > duration::zero() ? initial_retry : std::chrono::seconds(1)),
    max_retry_(std::max(max_retry, initial_retry_)) {
}

status_update status_update_manager::stamped(const stream& s) const {
  auto result = s.pending.front();
  result.latest_state = s.latest;
  return result;
}

status_update_manager::add_result status_update_manager::add(const status_update& u, time_point now,
                                                             std::optional<status_update>* forward) {
  if (forward)
    forward->reset();
  if (u.framework.empty() || u.status.task.empty() || u.status.uuid.empty())
    return add_result::invalid;
  auto& s = streams_[key{u.framework, u.status.task}];
  if (!s.seen.insert(u.status.uuid).second)
    return add_result::duplicate;
  s.pending.push_back(u);
  s.latest = u.status.state;
  // A reused task ID starts a new incarnation after a terminal update: the stream is live again.
  s.terminal = is_terminal(u.status.state);
  if (s.pending.size() == 1) {
    // Nothing was in flight: this update goes out now.
    s.interval = initial_retry_;
    s.next_retry = now + initial_retry_;
    if (forward)
      *forward = stamped(s);
  }
  return add_result::added;
}

status_update_manager::ack_result status_update_manager::acknowledge(const framework_id& fw, const task_id& task,
                                                                     const std::string& uuid, time_point now) {
  ack_result result;
  auto i = streams_.find(key{fw, task});
  if (i == streams_.end())
    return result;
  auto& s = i->second;
  // Only the update in flight can have been acknowledged by the master; anything else is stale or bogus.
  if (s.pending.empty() || s.pending.front().status.uuid != uuid)
    return result;
  result.matched = true;
  s.pending.erase(s.pending.begin());
  if (!s.pending.empty()) {
    s.interval = initial_retry_;
    s.next_retry = now + initial_retry_;
    result.next = stamped(s);
  } else if (s.terminal) {
    // Nothing can follow an acknowledged terminal update: forget the task's updates.
    streams_.erase(i);
    result.stream_done = true;
  }
  return result;
}

std::vector<status_update> status_update_manager::due(time_point now) {
  std::vector<status_update> result;
  for (auto& [k, s] : streams_) {
    if (s.pending.empty() || s.next_retry > now)
      continue;
    result.push_back(stamped(s));
    s.interval = std::min(s.interval * 2, max_retry_);
    s.next_retry = now + s.interval;
  }
  return result;
}

std::vector<status_update> status_update_manager::heads(time_point now) {
  std::vector<status_update> result;
  for (auto& [k, s] : streams_) {
    if (s.pending.empty())
      continue;
    result.push_back(stamped(s));
    s.interval = initial_retry_;
    s.next_retry = now + initial_retry_;
  }
  return result;
}

std::vector<status_update> status_update_manager::heads(const framework_id& fw, time_point now) {
  std::vector<status_update> result;
  // Keys are ordered by framework first: the framework's streams are one contiguous range.
  for (auto i = streams_.lower_bound(key{fw, task_id{}}); i != streams_.end() && i->first.first == fw; ++i) {
    auto& s = i->second;
    if (s.pending.empty())
      continue;
    result.push_back(stamped(s));
    s.interval = initial_retry_;
    s.next_retry = now + initial_retry_;
  }
  return result;
}

bool status_update_manager::recover(const framework_id& fw, const task_id& task,
                                    const std::vector<update_record>& log, time_point now) {
  if (fw.empty() || task.empty())
    return false;
  stream s;
  bool any = false;
  for (auto& r : log) {
    if (r.is_ack) {
      // The log holds acks only for the head, but a log is data from disk: drop the acked uuid wherever it is
      // and ignore acks of updates the log does not hold (yet).
      auto j = std::find_if(s.pending.begin(), s.pending.end(),
                            [&](const status_update& u) { return u.status.uuid == r.uuid; });
      if (j != s.pending.end())
        s.pending.erase(j);
      continue;
    }
    auto& u = r.update;
    if (u.framework != fw || u.status.task != task || u.status.uuid.empty())
      continue;
    // The executor may have resent an update the agent had already logged (even acknowledged).
    if (!s.seen.insert(u.status.uuid).second)
      continue;
    s.pending.push_back(u);
    s.latest = u.status.state;
    s.terminal = is_terminal(u.status.state);
    any = true;
  }
  streams_.erase(key{fw, task});
  if (!any || (s.pending.empty() && s.terminal))
    return true; // nothing to track: no updates, or the task's updates all went through
  s.interval = initial_retry_;
  s.next_retry = now;
  streams_.emplace(key{fw, task}, std::move(s));
  return true;
}

void status_update_manager::remove_framework(const framework_id& fw) {
  for (auto i = streams_.begin(); i != streams_.end();) {
    if (i->first.first == fw)
      i = streams_.erase(i);
    else
      ++i;
  }
}

void status_update_manager::remove_task(const framework_id& fw, const task_id& task) {
  streams_.erase(key{fw, task});
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

std::optional<task_state> status_update_manager::latest_state(const framework_id& fw, const task_id& task) const {
  auto i = streams_.find(key{fw, task});
  if (i == streams_.end())
    return std::nullopt;
  return i->second.latest;
}

std::optional<status_update_manager::time_point> status_update_manager::next_retry() const {
  std::optional<time_point> result;
  for (auto& [k, s] : streams_)
    if (!s.pending.empty() && (!result || s.next_retry < *result))
      result = s.next_retry;
  return result;
}

} // namespace mesoscaf
