#pragma once
// Which sandboxes of finished executors are due for deletion, as Mesos' agent decides it: a sandbox may stay for
// `delay` after its executor ended, less as the disk fills: allowed age = delay * max(0, 1 - headroom - usage),
// usage being the used fraction of the work dir's file system. Pure bookkeeping, no actor code and no disk
// access: the agent schedules, asks the disk worker for the usage, and has it delete what `due` returns.
#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace mesoscaf {

class sandbox_gc {
public:
  using clock = std::chrono::system_clock;  // wall clock: run directories found at start come with their mtime
  using time_point = clock::time_point;
  using duration = std::chrono::nanoseconds;

  explicit sandbox_gc(duration delay = std::chrono::hours(24 * 7), double headroom = 0.1);

  /// How long a sandbox may stay at this disk usage (0..1, clamped).
  static duration allowed_age(duration delay, double headroom, double usage);

  /// `path` became garbage at `since` (a path scheduled again keeps the later time).
  void schedule(const std::string& path, time_point since);
  /// Whether `path` was scheduled (a live container took it back, e.g. a recovered executor).
  bool unschedule(const std::string& path);
  bool scheduled(const std::string& path) const {
    return paths_.count(path) != 0;
  }
  size_t size() const {
    return paths_.size();
  }
  /// The paths whose allowed age has passed at `now`, oldest first; they leave the schedule.
  std::vector<std::string> due(time_point now, double usage);

private:
  duration delay_;
  double headroom_;
  std::map<std::string, time_point> paths_;
};

} // namespace mesoscaf
