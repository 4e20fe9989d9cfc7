#pragma once
// The master's agent health bookkeeping without any actor code: missed pings per agent (a reply or a
// re-registration resets them), the queue of agents that missed too many in a row, and the rate limit on
// marking them unreachable (--agent-removal-rate-limit=N/DURATION: at most N in any window of DURATION).
// Time is passed in, so tests control it.
#include "messages/ids.hpp"

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <unordered_map>

namespace mesoscaf {

class agent_health {
public:
  using clock_type = std::chrono::steady_clock;
  using time_point = clock_type::time_point;
  using duration = clock_type::duration;

  /// `max_misses` < 1 counts as 1. `limit_count` 0 (or a period <= 0) = no rate limit.
  explicit agent_health(int64_t max_misses = 5, int64_t limit_count = 0, duration limit_period = duration::zero());

  /// The agent is registered (again): no misses, not queued.
  void track(const agent_id& id);
  /// The agent is no longer registered (unreachable or removed): forgotten, not queued.
  void forget(const agent_id& id);
  /// A ping reply: misses back to 0 and, if it was queued, no longer queued (it is reachable after all).
  void reset(const agent_id& id);
  /// One more missed ping (timeout, error, or disconnected during a round). Returns true if this miss reached
  /// the maximum and queued the agent (once; a queued agent stays queued). Unknown agents are ignored.
  bool miss(const agent_id& id);
  /// Queues the agent for removal now (tracked if it was not; e.g. after a failover, an agent of the registry that
  /// did not re-register in time). Returns false if it was queued already.
  bool enqueue(const agent_id& id);

  bool tracked(const agent_id& id) const { return misses_.count(id) > 0; }
  int64_t misses(const agent_id& id) const;
  bool queued(const agent_id& id) const;
  size_t queue_size() const { return queue_.size(); }

  /// The next queued agent, if the rate limit allows a removal at `now`; it leaves the queue and the removal
  /// counts against the limit (the caller marks it unreachable and calls forget).
  std::optional<agent_id> next_removal(time_point now);
  /// When next_removal will give an agent: `now` if allowed now, nullopt if the queue is empty.
  std::optional<time_point> next_removal_time(time_point now) const;

private:
  void dequeue(const agent_id& id);

  int64_t max_misses_;
  int64_t limit_count_;
  duration limit_period_;
  std::unordered_map<agent_id, int64_t> misses_;   // never iterated
  std::deque<agent_id> queue_;
  std::deque<time_point> recent_;   // times of the latest removals, at most limit_count_
};

} // namespace mesoscaf
