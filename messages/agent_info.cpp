#include "messages/agent_info.hpp"

#include "messages/compact_codec.hpp"

namespace mesoscaf {

caf::error inspect(caf::serializer& f, agent_reregistration& x) {
  return compact_inspect(f, x, "agent re-registration");
}

caf::error inspect(caf::deserializer& f, agent_reregistration& x) {
  return compact_inspect(f, x, "agent re-registration");
}

} // namespace mesoscaf
