#pragma once
// The settings every mesoscaf process starts from (daemons, drivers, executors); flags and INI files override them.
#include <cstdint>

namespace caf {
class actor_system_config;
}

namespace mesoscaf {

/// Registers our types, loads the middleman, picks `threads` workers with the `sharing` policy (docs/CAF_PITFALLS.md §10:
/// ~23 us per cross-process hop instead of ~206 us with CAF's defaults) and turns middleman heartbeats on (1 s),
/// without which a peer with a connection timeout drops us and a frozen peer is never noticed. Also gives accepted
/// connections fresh numbers (config/support/connection_handles.hpp).
void set_process_defaults(caf::actor_system_config& cfg, int64_t threads);

} // namespace mesoscaf
