#pragma once
// Requests a daemon sent to one of its component actors and has not seen answered, in the order sent. A component
// that dies drops the response promises it holds without a word (docs/CAF_PITFALLS.md), so its restarted
// successor must get every unconfirmed request again; an answer that then comes twice (from the old and the new
// component) is taken once. Used for the master's registry writes and the agent's disk jobs. Pure, no actors.
#include <cstdint>
#include <map>
#include <optional>
#include <utility>

namespace mesoscaf {

template <class Request>
class unconfirmed_requests {
public:
  /// Keeps `r` until taken; returns its sequence number (increasing).
  uint64_t add(Request r) {
    auto seq = next_++;
    pending_.emplace(seq, std::move(r));
    return seq;
  }

  /// The request, while unconfirmed.
  const Request* find(uint64_t seq) const {
    auto i = pending_.find(seq);
    return i == pending_.end() ? nullptr : &i->second;
  }

  /// The request, removed; nothing if it was taken already.
  std::optional<Request> take(uint64_t seq) {
    auto i = pending_.find(seq);
    if (i == pending_.end())
      return std::nullopt;
    auto r = std::move(i->second);
    pending_.erase(i);
    return r;
  }

  /// Calls `f(seq, request)` for every unconfirmed request, oldest first (`f` must not add or take).
  template <class F>
  void for_each(F f) const {
    for (const auto& [seq, r] : pending_)
      f(seq, r);
  }

  size_t size() const { return pending_.size(); }

private:
  std::map<uint64_t, Request> pending_;
  uint64_t next_ = 1;
};

} // namespace mesoscaf
