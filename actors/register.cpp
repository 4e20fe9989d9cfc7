#include "actors/interfaces.hpp"

#include <caf/actor_system_config.hpp>

namespace mesoscaf {

void add_message_types(caf::actor_system_config& cfg) {
  cfg.add_message_types<caf::id_block::mesoscaf_messages>();
  cfg.add_message_types<caf::id_block::mesoscaf_actors>();
  cfg.set("middleman.app-identifiers", std::vector<std::string>{protocol_version});
}

} // namespace mesoscaf
