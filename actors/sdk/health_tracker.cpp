#include "actors/sdk/health_tracker.hpp"

namespace mesoscaf {

health_tracker::health_tracker(const health_check& check, clock::time_point started)
  : check_(check), started_(started) {
}

health_tracker::verdict health_tracker::on_result(bool ok, const std::string& why, clock::time_point now) {
  verdict v;
  if (ok) {
    failures_ = 0;
    ever_healthy_ = true;
    v.changed = healthy_ != true;
    healthy_ = true;
    v.message = "health check passed";
    return v;
  }
  auto grace = std::chrono::duration<double>(check_.grace_period);
  if (!ever_healthy_ && now - started_ < grace) {
    v.ignored = true;
    v.message = "health check failed within the grace period: " + why;
    return v;
  }
  ++failures_;
  v.changed = healthy_ != false;
  healthy_ = false;
  v.message = "health check failed: " + why;
  if (check_.consecutive_failures > 0 && failures_ >= check_.consecutive_failures) {
    v.kill = true;
    v.message = "Task killed after " + std::to_string(failures_) + " consecutive failed health check(s): " + why;
  }
  return v;
}

} // namespace mesoscaf
