#include "actors/agent/checkpoint_retries.hpp"

#include <algorithm>

namespace mesoscaf {

checkpoint_retries::checkpoint_retries(duration min_backoff, duration max_backoff)
  : min_backoff_(min_backoff > duration::zero() ? min_backoff : std::chrono::milliseconds(500)),
    max_backoff_(std::max(max_backoff, min_backoff_)) {
}

bool checkpoint_retries::failed(const std::string& rel, uint64_t seq, job j, const std::string& err,
                                time_point now) {
  auto [i, fresh] = paths_.try_emplace(rel);
  auto& p = i->second;
  p.jobs.emplace(seq, std::move(j));
  p.error = err;
  if (fresh) {
    p.backoff = min_backoff_;
    p.next = now + p.backoff;
  }
  return fresh;
}

void checkpoint_retries::enqueue(const std::string& rel, job j) {
  auto& p = paths_[rel];
  p.jobs.emplace(next_seq(), std::move(j));
}

std::vector<checkpoint_retries::retry> checkpoint_retries::due(time_point now) {
  std::vector<retry> result;
  for (auto& [rel, p] : paths_) {
    if (p.attempt != 0 || p.jobs.empty() || now < p.next)
      continue;
    p.attempt = ++attempts_;
    result.push_back(retry{rel, p.attempt, p.jobs.begin()->second});
  }
  return result;
}

std::optional<checkpoint_retries::job> checkpoint_retries::retry_done(const std::string& rel, uint64_t attempt,
                                                                      const std::string& err, time_point now,
                                                                      bool* recovered) {
  if (recovered)
    *recovered = false;
  auto i = paths_.find(rel);
  if (i == paths_.end() || i->second.attempt != attempt)
    return std::nullopt;
  auto& p = i->second;
  p.attempt = 0;
  if (!err.empty()) {
    p.error = err;
    ++p.retries;
    p.backoff = std::min(p.backoff * 2, max_backoff_);
    p.next = now + p.backoff;
    return std::nullopt;
  }
  auto j = std::move(p.jobs.begin()->second);
  p.jobs.erase(p.jobs.begin());
  if (p.jobs.empty()) {
    // Run by the caller after the job's own `then`: whoever waited for this path waited for it to be written.
    auto waiting = std::move(p.waiting);
    paths_.erase(i);
    if (recovered)
      *recovered = true;
    auto then = std::move(j.then);
    j.then = [then = std::move(then), waiting = std::move(waiting)](const std::string& e) {
      if (then)
        then(e);
      for (auto& fn : waiting)
        fn();
    };
  } else {
    p.backoff = min_backoff_;
    p.next = now;  // the rest of the queue follows at once
  }
  return j;
}

bool checkpoint_retries::when_written(const std::string& rel, std::function<void()> fn) {
  auto i = paths_.find(rel);
  if (i == paths_.end())
    return false;
  i->second.waiting.push_back(std::move(fn));
  return true;
}

std::vector<std::function<void()>> checkpoint_retries::forget(const std::string& rel) {
  std::vector<std::function<void()>> result;
  for (auto i = paths_.begin(); i != paths_.end();) {
    const auto& path = i->first;
    bool below = path == rel || (path.size() > rel.size() && path.compare(0, rel.size(), rel) == 0
                                 && path[rel.size()] == '/');
    if (!below) {
      ++i;
      continue;
    }
    for (auto& fn : i->second.waiting)
      result.push_back(std::move(fn));
    i = paths_.erase(i);
  }
  return result;
}

std::string checkpoint_retries::last_error(const std::string& rel) const {
  auto i = paths_.find(rel);
  return i == paths_.end() ? std::string{} : i->second.error;
}

} // namespace mesoscaf
