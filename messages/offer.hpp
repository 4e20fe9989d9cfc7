#pragma once
// Offers, filters, the operations of ACCEPT, and allocations (allocator -> master).
#include "messages/ids.hpp"
#include "messages/resources.hpp"
#include "messages/task_info.hpp"

#include <caf/meta/type_name.hpp>

#include <map>
#include <string>
#include <vector>

namespace mesoscaf {

struct offer {
  offer_id id;
  framework_id framework;
  agent_id agent;
  std::string hostname;
  std::string role;          // the allocation role: one offer per (agent, role)
  resource_set resources;
  /// Where the agent's HTTP API (/state, /files/*) is, as in Mesos' Offer.url: its advertised IP and HTTP port
  /// (0: it serves none). A framework reads its tasks' sandboxes there.
  std::string agent_address;
  uint16_t agent_http_port = 0;
  /// The agent's attributes (--attributes; messages/attributes.hpp), to place tasks by rack, zone, ...
  std::map<std::string, std::string> attributes;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, offer& x) {
    return f(caf::meta::type_name("offer"), x.id, x.framework, x.agent, x.hostname, x.role, x.resources,
             x.agent_address, x.agent_http_port, x.attributes);
  }
};

/// Sent with DECLINE and ACCEPT: how long the unused resources should not be offered to this framework again.
struct filters {
  double refuse_seconds = 5.0;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, filters& x) {
    return f(caf::meta::type_name("filters"), x.refuse_seconds);
  }
};

enum class operation_type : uint8_t { launch = 0, reserve, unreserve, create, destroy, launch_group };

/// LAUNCH and LAUNCH_GROUP carry tasks.
constexpr bool launches_tasks(operation_type t) {
  return t == operation_type::launch || t == operation_type::launch_group;
}

/// One operation of an ACCEPT call, applied in order: RESERVE / UNRESERVE / CREATE / DESTROY convert the offer's
/// resources (messages/resource_operations.hpp), a later LAUNCH may use what they produced.
struct offer_operation {
  operation_type type = operation_type::launch;
  std::vector<task_info> tasks;   // launch, launch_group (the group's tasks: all start or none)
  resource_set resources;            // reserve / unreserve / create / destroy
  boxed_optional<executor_info> executor;  // launch_group: the group's DEFAULT executor
  group_failure_policy on_failure = group_failure_policy::kill_group;  // launch_group

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, offer_operation& x) {
    return f(caf::meta::type_name("offer_operation"), x.type, x.tasks, x.resources, x.executor, x.on_failure);
  }
};

/// The allocator's decision: these resources of this agent go to this framework.
struct allocation {
  framework_id framework;
  agent_id agent;
  std::string role;          // which of the framework's roles the resources are allocated to
  resource_set resources;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, allocation& x) {
    return f(caf::meta::type_name("allocation"), x.framework, x.agent, x.role, x.resources);
  }
};

} // namespace mesoscaf
