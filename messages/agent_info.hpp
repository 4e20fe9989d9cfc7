#pragma once
// What an agent tells the master when it registers.
#include "messages/framework_info.hpp"
#include "messages/ids.hpp"
#include "messages/task_info.hpp"
#include "messages/task_status.hpp"
#include "messages/resources.hpp"

#include <caf/fwd.hpp>
#include <caf/meta/type_name.hpp>

#include <map>
#include <string>
#include <vector>

namespace mesoscaf {

struct agent_info {
  agent_id id;                        // empty on first registration; the master assigns one
  std::string hostname;
  uint16_t port = 0;                  // the port the agent advertises (--advertise-port, else where it listens)
  resource_set total;
  std::map<std::string, std::string> attributes;
  /// The IP the agent advertises (--advertise-ip, else its --ip, else its host's first address): where others
  /// reach it. A property of the running agent, learnt at each (re-)registration: the durable registry record
  /// leaves it out (actors/ha/registry_records.hpp).
  std::string address;
  /// The agent's HTTP port (/state, /files/*) on `address`; 0: none.
  uint16_t http_port = 0;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, agent_info& x) {
    return f(caf::meta::type_name("agent_info"), x.id, x.hostname, x.port, x.total, x.attributes, x.address, x.http_port);
  }
};

/// A task an agent runs (or ran, and whose end the framework has not acknowledged yet), as reported when the agent
/// re-registers with the master (after an agent restart, a partition, or a master failover).
struct reregistered_task {
  framework_id framework;
  task_info info;                     // as launched (agent ID and role set)
  task_state state = task_state::staging;   // the newest state the agent knows

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, reregistered_task& x) {
    return f(caf::meta::type_name("reregistered_task"), x.framework, x.info, x.state);
  }
};

/// What an agent that has an ID already sends to (re-)register: itself and everything it runs.
struct agent_reregistration {
  agent_info info;                        // id set
  std::vector<framework_info> frameworks; // of the tasks and executors below
  std::vector<executor_info> executors;   // custom executors running (framework and role set)
  std::vector<reregistered_task> tasks;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, agent_reregistration& x) {
    return f(caf::meta::type_name("agent_reregistration"), x.info, x.frameworks, x.executors, x.tasks);
  }
};

/// CAF's binary form of a re-registration (it carries every task an agent runs): the compact encoding of
/// messages/compact_codec.hpp as one field, about ten times cheaper than CAF's own field by field.
caf::error inspect(caf::serializer& f, agent_reregistration& x);
caf::error inspect(caf::deserializer& f, agent_reregistration& x);

} // namespace mesoscaf
