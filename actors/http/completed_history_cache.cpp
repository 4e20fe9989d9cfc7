#include "actors/http/completed_history_cache.hpp"

namespace mesoscaf::http {

void completed_history_cache::clear() {
  entries_.clear();
  first_ = 0;
  overlap_pending_ = false;
}

uint64_t completed_history_cache::resume_from(uint64_t master_first) {
  if (master_first >= end_seq() || first_ > master_first) {
    // Everything cached left the master's history, nothing is cached, or the history is not this one.
    clear();
    first_ = master_first;
    return master_first;
  }
  while (first_ < master_first) {
    entries_.pop_front();
    ++first_;
  }
  overlap_pending_ = true;
  return end_seq() - 1;
}

bool completed_history_cache::add(uint64_t start, const std::vector<task_ref>& tasks) {
  auto from = tasks.begin();
  if (overlap_pending_) {
    overlap_pending_ = false;
    if (start != end_seq() - 1 || tasks.empty() || !tasks.front().same(entries_.back()))
      return false;
    ++from;
  } else if (entries_.empty()) {
    first_ = start;
  } else if (start != end_seq()) {
    return false;
  }
  entries_.insert(entries_.end(), from, tasks.end());
  return true;
}

} // namespace mesoscaf::http
