#pragma once
// The actor system settings of a framework program (a scheduler, an executor, a test): our message types, the
// middleman, and the liveness settings the daemons use. It reads no config file: framework programs have command
// lines of their own.
#include <caf/actor_system_config.hpp>

namespace mesoscaf {

class framework_config : public caf::actor_system_config {
public:
  framework_config();
};

} // namespace mesoscaf
