#include "actors/agent/sandbox_gc.hpp"

#include <algorithm>
#include <utility>

namespace mesoscaf {

sandbox_gc::sandbox_gc(duration delay, double headroom)
  : delay_(std::max(delay, duration::zero())), headroom_(std::clamp(headroom, 0.0, 1.0)) {
}

sandbox_gc::duration sandbox_gc::allowed_age(duration delay, double headroom, double usage) {
  auto factor = std::max(0.0, 1.0 - std::clamp(headroom, 0.0, 1.0) - std::clamp(usage, 0.0, 1.0));
  return std::chrono::duration_cast<duration>(std::chrono::duration<double, duration::period>(
    static_cast<double>(delay.count()) * factor));
}

void sandbox_gc::schedule(const std::string& path, time_point since) {
  if (path.empty())
    return;
  auto [i, fresh] = paths_.emplace(path, since);
  if (!fresh)
    i->second = std::max(i->second, since);
}

bool sandbox_gc::unschedule(const std::string& path) {
  return paths_.erase(path) != 0;
}

std::vector<std::string> sandbox_gc::due(time_point now, double usage) {
  auto age = allowed_age(delay_, headroom_, usage);
  std::vector<std::pair<time_point, std::string>> expired;
  for (auto& [path, since] : paths_)
    if (now - since >= age)
      expired.emplace_back(since, path);
  std::sort(expired.begin(), expired.end());
  std::vector<std::string> result;
  for (auto& [since, path] : expired) {
    paths_.erase(path);
    result.push_back(std::move(path));
  }
  return result;
}

} // namespace mesoscaf
