#pragma once
// The master's completed-task history as the HTTP side last fetched it. The history only grows at its end and
// loses its oldest entries, and an entry never changes, so a /state fetch asks the master only for the tasks that
// ended since the previous fetch (actors/master/state_pages.cpp numbers them by sequence). Pure logic, no actors.
#include "messages/state_view.hpp"

#include <cstdint>
#include <deque>
#include <vector>

namespace mesoscaf::http {

class completed_history_cache {
public:
  /// Forgets what the master's history no longer holds (it now starts at `master_first`) and answers where the
  /// next completed page should start: at the last cached entry, which that page must repeat as the very same
  /// view (so a history the master rebuilt meanwhile, after a failover, is not mistaken for this one), or at
  /// `master_first` when nothing is cached.
  uint64_t resume_from(uint64_t master_first);

  /// A completed page starting at sequence number `start`. False if it does not continue the cache (another
  /// history, or entries dropped before they were sent): the caller clears the cache and starts over.
  bool add(uint64_t start, const std::vector<task_ref>& tasks);

  void clear();
  /// The cached history, oldest first.
  std::vector<task_ref> entries() const { return {entries_.begin(), entries_.end()}; }
  uint64_t first_seq() const { return first_; }
  uint64_t end_seq() const { return first_ + entries_.size(); }

private:
  uint64_t first_ = 0;
  std::deque<task_ref> entries_;
  bool overlap_pending_ = false;   // the next page must start with the last cached entry
};

} // namespace mesoscaf::http
