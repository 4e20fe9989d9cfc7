#pragma once
// What an agent tells the master when it registers.
#include "messages/ids.hpp"
#include "messages/resources.hpp"

#include <caf/meta/type_name.hpp>

#include <map>
#include <string>

namespace mesoscaf {

struct agent_info {
  agent_id id;                        // empty on first registration; the master assigns one
  std::string hostname;
  uint16_t port = 0;                  // where the agent publishes its actor (executors connect there)
  resource_set total;
  std::map<std::string, std::string> attributes;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, agent_info& x) {
    return f(caf::meta::type_name("agent_info"), x.id, x.hostname, x.port, x.total, x.attributes);
  }
};

} // namespace mesoscaf
