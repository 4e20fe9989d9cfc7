#pragma once
// Read-only views of a daemon's state, for tests, demos, the CLI and (later) HTTP /state.
#include "messages/ids.hpp"
#include "messages/quota.hpp"
#include "messages/resources.hpp"
#include "messages/task_status.hpp"

#include <caf/meta/type_name.hpp>

#include <string>
#include <vector>

namespace mesoscaf {

struct task_summary {
  task_id id;
  framework_id framework;
  agent_id agent;
  std::string name;
  task_state state = task_state::staging;
  resource_set resources;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, task_summary& x) {
    return f(caf::meta::type_name("task_summary"), x.id, x.framework, x.agent, x.name, x.state, x.resources);
  }
};

struct framework_summary {
  framework_id id;
  std::string name;
  bool active = true;
  resource_set used;       // by launched, non-terminal tasks
  resource_set offered;    // in outstanding offers
  double dominant_share = 0;  // of `used` against the cluster total

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, framework_summary& x) {
    return f(caf::meta::type_name("framework_summary"), x.id, x.name, x.active, x.used, x.offered,
             x.dominant_share);
  }
};

struct agent_summary {
  agent_id id;
  std::string hostname;
  uint16_t port = 0;
  resource_set total;
  resource_set used;
  bool connected = true;   // false: registered but disconnected (nothing of it is offered; pings count as missed)
  std::string address;     // the IP it advertises (with `port`: where it can be reached)

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, agent_summary& x) {
    return f(caf::meta::type_name("agent_summary"), x.id, x.hostname, x.port, x.total, x.used, x.connected,
             x.address);
  }
};

struct master_snapshot {
  std::vector<agent_summary> agents;
  std::vector<framework_summary> frameworks;
  std::vector<task_summary> tasks;   // non-terminal and recently terminal tasks
  uint64_t outstanding_offers = 0;
  std::vector<role_summary> roles;   // from the allocator: weights, quota, allocation per role
  uint64_t unreachable_agents = 0;   // agents marked unreachable (not in `agents`) that may still come back
  std::vector<agent_id> unreachable; // their IDs
  bool leading = false;              // this master is the elected leader and has recovered the registry
  std::string leader;                // the leader's endpoint as this master knows it ("" = none known)
  /// Agents of the registry that have not re-registered with this leader yet (after a failover).
  std::vector<agent_id> recovering;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, master_snapshot& x) {
    return f(caf::meta::type_name("master_snapshot"), x.agents, x.frameworks, x.tasks, x.outstanding_offers,
             x.roles, x.unreachable_agents, x.unreachable, x.leading, x.leader, x.recovering);
  }
};

struct agent_snapshot {
  agent_id id;             // empty until registered
  resource_set total;
  std::vector<task_summary> tasks;
  uint64_t executors = 0;
  uint64_t pending_updates = 0;   // status updates not yet acknowledged

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, agent_snapshot& x) {
    return f(caf::meta::type_name("agent_snapshot"), x.id, x.total, x.tasks, x.executors, x.pending_updates);
  }
};

} // namespace mesoscaf
