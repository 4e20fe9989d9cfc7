#pragma once
// The master's metrics under Mesos' names (/metrics/snapshot, /metrics), without actor code: cumulative counters
// the master bumps as messages arrive, and gauges read off the cluster state when asked.
#include "actors/master/cluster_state.hpp"
#include "messages/quota.hpp"
#include "messages/state_view.hpp"

#include <cstdint>
#include <vector>

namespace mesoscaf {

struct master_counters {
  uint64_t slave_registrations = 0;
  uint64_t slave_reregistrations = 0;
  uint64_t slave_removals = 0;
  uint64_t valid_status_updates = 0;
  uint64_t invalid_status_updates = 0;
  uint64_t tasks_finished = 0;
  uint64_t tasks_failed = 0;
  uint64_t tasks_killed = 0;
  uint64_t tasks_lost = 0;
  uint64_t tasks_error = 0;
  uint64_t tasks_dropped = 0;
  uint64_t tasks_gone = 0;
  uint64_t messages_register_framework = 0;
  uint64_t messages_teardown_framework = 0;
  uint64_t messages_launch_tasks = 0;        // ACCEPT calls
  uint64_t messages_decline_offers = 0;
  uint64_t messages_kill_task = 0;
  uint64_t messages_status_update_acknowledgement = 0;
  uint64_t messages_reconcile_tasks = 0;
  uint64_t messages_revive_offers = 0;
  uint64_t messages_suppress_offers = 0;
  uint64_t messages_framework_to_executor = 0;
  uint64_t messages_executor_to_framework = 0;
  uint64_t offers_sent = 0;
  uint64_t offers_rescinded = 0;
  uint64_t allocation_runs = 0;              // batches of allocations received from the allocator

  /// Counts a task reaching the terminal state `s` (once per task).
  void count_terminal(task_state s);
};

struct master_gauge_inputs {
  bool elected = false;
  double uptime_secs = 0;
  std::vector<role_summary> roles;           // from the allocator (may be empty if it did not answer)
};

/// Every metric, sorted by name.
std::vector<metric_sample> master_metrics(const cluster_state& reg, const master_counters& c,
                                          const master_gauge_inputs& in);

} // namespace mesoscaf
