#include "actors/http/body_buffers.hpp"

#include <algorithm>
#include <mutex>
#include <vector>

namespace mesoscaf::http {

namespace {

// As many as answers can be written and sent at once without waiting: the handler threads and a client each.
constexpr std::size_t max_kept = 4;
constexpr std::size_t min_kept_bytes = 1 << 20;

std::mutex mtx;
std::vector<std::string> kept;

} // namespace

std::string take_body_buffer(std::size_t expected) {
  std::string out;
  if (expected >= min_kept_bytes) {
    std::lock_guard<std::mutex> guard{mtx};
    // The smallest that is large enough, else the largest (it grows once, and is kept larger).
    auto fits = [expected](const std::string& b) { return b.capacity() >= expected; };
    auto better = [&](const std::string& a, const std::string& b) {  // a is a better choice than b
      if (fits(a) != fits(b))
        return fits(a);
      return fits(a) ? a.capacity() < b.capacity() : a.capacity() > b.capacity();
    };
    auto best = kept.end();
    for (auto i = kept.begin(); i != kept.end(); ++i)
      if (best == kept.end() || better(*i, *best))
        best = i;
    if (best != kept.end()) {
      out = std::move(*best);
      kept.erase(best);
    }
  }
  out.clear();
  out.reserve(expected);
  return out;
}

void return_body_buffer(std::string&& body) {
  if (body.capacity() < min_kept_bytes)
    return;
  std::string gone;  // freed outside the lock
  std::lock_guard<std::mutex> guard{mtx};
  if (kept.size() < max_kept) {
    kept.push_back(std::move(body));
    return;
  }
  auto i = std::min_element(kept.begin(), kept.end(),
                            [](const std::string& a, const std::string& b) { return a.capacity() < b.capacity(); });
  if (i->capacity() < body.capacity()) {
    gone = std::move(*i);
    *i = std::move(body);
  }
}

} // namespace mesoscaf::http
