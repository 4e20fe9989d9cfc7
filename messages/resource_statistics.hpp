#pragma once
// What a container (or one task in it) used, as the agent's `usage` query and a task's final status report it
// (Mesos' ResourceStatistics, /monitor/statistics).
#include "messages/ids.hpp"

#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <string>

namespace mesoscaf {

struct resource_statistics {
  double timestamp = 0;             // seconds since the epoch, when it was measured
  double cpus_user_time_secs = 0;
  double cpus_system_time_secs = 0;
  double cpus_limit = 0;            // the cpus it was given (0: unknown)
  uint64_t mem_rss_bytes = 0;
  uint64_t mem_peak_bytes = 0;      // the most it used at once (0: the kernel does not say)
  uint64_t mem_limit_bytes = 0;     // 0: not limited
  uint64_t processes = 0;
  uint64_t disk_used_bytes = 0;     // its sandbox
  uint64_t disk_limit_bytes = 0;    // 0: not limited

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, resource_statistics& x) {
    return f(caf::meta::type_name("resource_statistics"), x.timestamp, x.cpus_user_time_secs,
             x.cpus_system_time_secs, x.cpus_limit, x.mem_rss_bytes, x.mem_peak_bytes, x.mem_limit_bytes,
             x.processes, x.disk_used_bytes, x.disk_limit_bytes);
  }
};

/// One line: "cpu_user=0.12s cpu_system=0.03s mem_rss=1.2MB mem_peak=30.1MB processes=1 disk_used=4.0KB".
std::string to_string(const resource_statistics& x);

/// One container's usage, as the agent's `usage` query answers it.
struct container_usage {
  container_id container;
  framework_id framework;
  executor_id executor;
  resource_statistics statistics;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, container_usage& x) {
    return f(caf::meta::type_name("container_usage"), x.container, x.framework, x.executor, x.statistics);
  }
};

} // namespace mesoscaf
