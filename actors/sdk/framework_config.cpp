#include "actors/sdk/framework_config.hpp"

#include "actors/process_defaults.hpp"

#include <chrono>

namespace mesoscaf {

framework_config::framework_config() {
  set_process_defaults(*this, 1);
  // Drop a master that stops sending heartbeats, as the daemons do (docs/CAF_PITFALLS.md §4).
  set("middleman.connection-timeout", caf::timespan{std::chrono::seconds(5)});
  config_file_path.clear();
}

} // namespace mesoscaf
