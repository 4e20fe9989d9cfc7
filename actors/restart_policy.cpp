#include "actors/restart_policy.hpp"

#include <algorithm>

namespace mesoscaf {

std::optional<restart_policy::duration> restart_policy::on_failure(time_point now) {
  while (!restarts_.empty() && now - restarts_.front() >= limits_.window)
    restarts_.pop_front();
  if (restarts_.size() >= limits_.max_restarts)
    return std::nullopt;
  auto delay = limits_.backoff_min;
  // Doubling per restart already in the window: a component that keeps dying is retried ever more slowly.
  for (size_t i = 0; i < restarts_.size() && delay < limits_.backoff_max; ++i)
    delay = delay * 2;
  delay = std::min(delay, limits_.backoff_max);
  restarts_.push_back(now);
  return delay;
}

size_t restart_policy::recent(time_point now) const {
  return static_cast<size_t>(std::count_if(restarts_.begin(), restarts_.end(),
                                           [&](time_point t) { return now - t < limits_.window; }));
}

} // namespace mesoscaf
