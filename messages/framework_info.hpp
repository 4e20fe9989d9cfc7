#pragma once
// What a framework tells the master when it subscribes.
#include "messages/ids.hpp"
#include "messages/labels.hpp"

#include <caf/meta/type_name.hpp>

#include <algorithm>
#include <string>
#include <vector>

namespace mesoscaf {

struct framework_info {
  framework_id id;                    // empty on first subscription; the master assigns one
  std::string name;
  std::string user;
  std::vector<std::string> roles;     // empty = the default role "*"
  double failover_timeout = 0;        // seconds
  std::vector<std::string> capabilities;  // e.g. "GPU_RESOURCES", "PARTITION_AWARE"
  std::string principal;
  bool checkpoint = false;
  mesoscaf::labels labels;            // carried and shown in state

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, framework_info& x) {
    return f(caf::meta::type_name("framework_info"), x.id, x.name, x.user, x.roles, x.failover_timeout,
             x.capabilities, x.principal, x.checkpoint, x.labels);
  }
};


/// True if the framework asked for TASK_UNREACHABLE / TASK_GONE / TASK_UNKNOWN / TASK_DROPPED (capability
/// PARTITION_AWARE) instead of TASK_LOST.
inline bool is_partition_aware(const framework_info& info) {
  return std::find(info.capabilities.begin(), info.capabilities.end(), "PARTITION_AWARE") != info.capabilities.end();
}

} // namespace mesoscaf
