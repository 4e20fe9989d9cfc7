#include "actors/sdk/framework_config.hpp"
#include "actors/tls.hpp"

#include "actors/process_defaults.hpp"

#include <chrono>

namespace mesoscaf {

framework_config::framework_config() {
  set_process_defaults(*this, 1);
  // A framework program reaches TLS clusters with MESOSCAF_TLS_CERT, MESOSCAF_TLS_KEY and MESOSCAF_TLS_CA.
  if (auto files = tls_files_from_environment(); files.complete())
    use_tls(*this, files);
  // Drop a master that stops sending heartbeats, as the daemons do (docs/CAF_PITFALLS.md §4).
  set("middleman.connection-timeout", caf::timespan{std::chrono::seconds(5)});
  config_file_path.clear();
}

} // namespace mesoscaf
