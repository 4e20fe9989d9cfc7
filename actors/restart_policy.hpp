#pragma once
// How a daemon restarts a component actor that died unexpectedly (the agent's containerizer and disk worker; the
// master's may use it too): a budget of restarts within a sliding window, each later one after a longer backoff.
// Once the budget is spent the daemon gives up and exits, as a crash loop must not hide behind restarts.
// A plain class: the caller supplies the clock (an actor's clock, or a test's).
#include <chrono>
#include <cstddef>
#include <deque>
#include <optional>

namespace mesoscaf {

class restart_policy {
public:
  using clock = std::chrono::steady_clock;
  using time_point = clock::time_point;
  using duration = clock::duration;

  struct limits {
    /// Restarts allowed within `window`; 0: never restart (the first failure is fatal).
    size_t max_restarts = 5;
    duration window = std::chrono::minutes(1);
    /// Delay before the first restart in a window; it doubles for each further one, up to `backoff_max`.
    duration backoff_min = std::chrono::milliseconds(0);
    duration backoff_max = std::chrono::seconds(5);
  };

  restart_policy() = default;
  explicit restart_policy(limits l) : limits_(l) {}

  /// A failure at `now`. Returns the delay before the restart, or nothing: the budget is spent, give up.
  std::optional<duration> on_failure(time_point now);

  /// Restarts granted within the window ending at `now`.
  size_t recent(time_point now) const;

  const limits& settings() const { return limits_; }

private:
  limits limits_;
  std::deque<time_point> restarts_;  // granted restarts, oldest first
};

} // namespace mesoscaf
