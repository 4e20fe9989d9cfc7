#pragma once
// The registry: the master's only durable state (docs/ARCHITECTURE.md). Which agents are admitted, unreachable or gone,
// and the operator's weights and quota. Frameworks and tasks are NOT in it: a new leader rebuilds them from the
// re-registrations of agents and schedulers. Changed only through the registrar (actors/ha/registrar.hpp), one
// registry_operation at a time; `apply_registry_operation` is the single rule book every store and the
// registrar share.
#include "messages/agent_info.hpp"
#include "messages/ids.hpp"
#include "messages/quota.hpp"

#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace mesoscaf {

struct registry_unreachable_agent {
  agent_info info;
  double time = 0;  // seconds since the epoch, when it was marked unreachable

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, registry_unreachable_agent& x) {
    return f(caf::meta::type_name("registry_unreachable_agent"), x.info, x.time);
  }
};

struct registry_data {
  std::map<agent_id, agent_info> admitted;
  std::map<agent_id, registry_unreachable_agent> unreachable;
  /// Agents removed for good (e.g. their machine rebooted, or operator action): never readmitted with that ID.
  std::map<agent_id, double> gone;
  std::map<std::string, double> weights;
  std::map<std::string, quota_info> quota;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, registry_data& x) {
    return f(caf::meta::type_name("registry_data"), x.admitted, x.unreachable, x.gone, x.weights, x.quota);
  }
};

enum class registry_op_kind : uint8_t {
  admit,             // a new agent (agent): not admitted, unreachable or gone yet
  mark_unreachable,  // an admitted agent (id, time) becomes unreachable
  mark_reachable,    // an unreachable agent (agent, with its possibly new info) is admitted again
  remove,            // an admitted or unreachable agent (id, time) is gone for good
  update_agent,      // an admitted agent's info (agent) changed (e.g. its port or total after a re-registration)
  set_weight,        // role, weight (1.0 removes the entry)
  set_quota,         // role, quota (both sides empty removes the entry)
};

const char* to_string(registry_op_kind k);

struct registry_operation {
  registry_op_kind kind = registry_op_kind::admit;
  agent_info agent;   // admit, mark_reachable, update_agent
  agent_id id;        // mark_unreachable, remove
  double time = 0;    // mark_unreachable, remove
  std::string role;   // set_weight, set_quota
  double weight = 1.0;
  quota_info quota;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, registry_operation& x) {
    return f(caf::meta::type_name("registry_operation"), x.kind, x.agent, x.id, x.time, x.role, x.weight, x.quota);
  }
};

/// Applies `op` to `reg`. Returns "" and changes `reg`, or returns why the operation does not apply (unknown or
/// already admitted agent, gone agent, bad weight, ...) and changes nothing.
std::string apply_registry_operation(registry_data& reg, const registry_operation& op);

// Shorthands.
registry_operation admit_agent_op(const agent_info& info);
registry_operation mark_unreachable_op(const agent_id& id, double time);
registry_operation mark_reachable_op(const agent_info& info);
registry_operation remove_agent_op(const agent_id& id, double time);
registry_operation update_agent_op(const agent_info& info);
registry_operation set_weight_op(const std::string& role, double weight);
registry_operation set_quota_op(const std::string& role, const quota_info& quota);

} // namespace mesoscaf
