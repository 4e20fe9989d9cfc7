#pragma once
// The verdicts of one task's health checks (Mesos 1.x semantics), as a plain class: the command executor runs the
// checks and acts on what this says.
//  - A success resets the failure count and makes the task healthy.
//  - A failure within `grace_period` of the task's start, before its first success, does not count.
//  - Any other failure counts; the task is unhealthy from the first one.
//  - `consecutive_failures` counted failures in a row (0: never) mean the task is to be killed.
// Only a change of health is reported (one TASK_RUNNING update each), plus the kill.
#include "messages/task_info.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace mesoscaf {

class health_tracker {
public:
  using clock = std::chrono::steady_clock;

  health_tracker(const health_check& check, clock::time_point started);

  struct verdict {
    bool changed = false;          // health changed: send TASK_RUNNING with `healthy`
    bool kill = false;             // too many failures: kill the task
    bool ignored = false;          // a failure within the grace period
    std::string message;           // for the update / the kill
  };

  verdict on_result(bool ok, const std::string& why, clock::time_point now);

  /// Unset until the first counted result.
  std::optional<bool> healthy() const { return healthy_; }
  uint32_t failures() const { return failures_; }

private:
  health_check check_;
  clock::time_point started_;
  std::optional<bool> healthy_;
  bool ever_healthy_ = false;
  uint32_t failures_ = 0;
};

} // namespace mesoscaf
