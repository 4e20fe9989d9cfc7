#pragma once
// The agent's checkpoint writes that failed (typically a full disk), kept per path and retried with backoff until
// they succeed. Pure bookkeeping, no actor code: the agent sends the jobs (agent_state.cpp) and drives the retries
// from its tick. Jobs of one path keep their order (an update log is append-only: a later frame must never land
// before an earlier one), so a write to a failing path waits behind it.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mesoscaf {

class checkpoint_retries {
public:
  using time_point = std::chrono::steady_clock::time_point;
  using duration = std::chrono::nanoseconds;

  struct job {
    std::string bytes;
    bool append = false;
    bool sync = false;
    std::function<void(const std::string&)> then;  // gets "" once the job is written
  };

  /// One retry to send: the path's oldest job. `attempt` identifies it for retry_done.
  struct retry {
    std::string rel;
    uint64_t attempt = 0;
    job work;
  };

  explicit checkpoint_retries(duration min_backoff = std::chrono::milliseconds(500),
                              duration max_backoff = std::chrono::seconds(10));

  /// Order of writes: every write takes a number when it is first sent; a path's queue is sorted by it.
  uint64_t next_seq() {
    return ++seq_;
  }
  /// Whether writes of `rel` are failing (queued or retrying): a new write of it must queue (enqueue).
  bool pending(const std::string& rel) const {
    return paths_.count(rel) != 0;
  }
  size_t failing_paths() const {
    return paths_.size();
  }
  /// A first attempt (write number `seq`) failed with `err`. True if the path just started failing (the caller
  /// logs that, once).
  bool failed(const std::string& rel, uint64_t seq, job j, const std::string& err, time_point now);
  /// Queues a write of a failing path behind the writes already waiting.
  void enqueue(const std::string& rel, job j);
  /// The paths whose retry is due: their oldest job, marked in flight (one per path at a time).
  std::vector<retry> due(time_point now);
  /// The answer to a retry. Success: the job leaves the queue and is returned (its `then` is the caller's to
  /// run), `*recovered` tells whether the path has nothing left (the caller logs that, once), and the next job of
  /// the path is due at once. Failure: the path backs off (doubling). An answer for a path forgotten meanwhile, or
  /// a stale attempt, returns nothing.
  std::optional<job> retry_done(const std::string& rel, uint64_t attempt, const std::string& err, time_point now,
                                bool* recovered);
  /// Runs `fn` once `rel` has nothing waiting: false (caller runs it now) if it has nothing waiting already.
  bool when_written(const std::string& rel, std::function<void()> fn);
  /// `rel` (a file or a directory) was removed: its writes, and those below it, are dropped. Returns the
  /// when_written callbacks of those paths (the caller runs them: nothing is left to wait for).
  std::vector<std::function<void()>> forget(const std::string& rel);
  /// The last error of a failing path ("" if none).
  std::string last_error(const std::string& rel) const;

private:
  struct path_state {
    std::map<uint64_t, job> jobs;  // by write number: the smallest goes first
    uint64_t attempt = 0;          // the retry in flight (0: none)
    duration backoff{0};
    time_point next{};
    std::string error;
    size_t retries = 0;
    std::vector<std::function<void()>> waiting;  // when_written
  };

  duration min_backoff_;
  duration max_backoff_;
  uint64_t seq_ = 0;
  uint64_t attempts_ = 0;
  std::map<std::string, path_state> paths_;
};

} // namespace mesoscaf
