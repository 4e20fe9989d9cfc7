#include "actors/master/agent_health.hpp"

#include <algorithm>

namespace mesoscaf {

agent_health::agent_health(int64_t max_misses, int64_t limit_count, duration limit_period)
  : max_misses_(std::max<int64_t>(1, max_misses)),
    limit_count_(limit_period > duration::zero() ? std::max<int64_t>(0, limit_count) : 0),
    limit_period_(limit_period) {
  // nop
}

void agent_health::track(const agent_id& id) {
  misses_[id] = 0;
  dequeue(id);
}

void agent_health::forget(const agent_id& id) {
  misses_.erase(id);
  dequeue(id);
}

void agent_health::reset(const agent_id& id) {
  auto i = misses_.find(id);
  if (i == misses_.end())
    return;
  i->second = 0;
  dequeue(id);
}

bool agent_health::miss(const agent_id& id) {
  auto i = misses_.find(id);
  if (i == misses_.end())
    return false;
  ++i->second;
  if (i->second < max_misses_ || queued(id))
    return false;
  queue_.push_back(id);
  return true;
}

bool agent_health::enqueue(const agent_id& id) {
  auto& m = misses_[id];
  m = std::max(m, max_misses_);
  if (queued(id))
    return false;
  queue_.push_back(id);
  return true;
}

int64_t agent_health::misses(const agent_id& id) const {
  auto i = misses_.find(id);
  return i == misses_.end() ? 0 : i->second;
}

bool agent_health::queued(const agent_id& id) const {
  return std::find(queue_.begin(), queue_.end(), id) != queue_.end();
}

void agent_health::dequeue(const agent_id& id) {
  queue_.erase(std::remove(queue_.begin(), queue_.end(), id), queue_.end());
}

std::optional<agent_health::time_point> agent_health::next_removal_time(time_point now) const {
  if (queue_.empty())
    return std::nullopt;
  if (limit_count_ == 0 || static_cast<int64_t>(recent_.size()) < limit_count_)
    return now;
  // The window is full: the oldest removal in it must leave the window first.
  return std::max(now, recent_.front() + limit_period_);
}

std::optional<agent_id> agent_health::next_removal(time_point now) {
  if (queue_.empty())
    return std::nullopt;
  if (limit_count_ > 0) {
    while (!recent_.empty() && recent_.front() + limit_period_ <= now)
      recent_.pop_front();
    if (static_cast<int64_t>(recent_.size()) >= limit_count_)
      return std::nullopt;
    recent_.push_back(now);
  }
  auto id = queue_.front();
  queue_.pop_front();
  return id;
}

} // namespace mesoscaf
