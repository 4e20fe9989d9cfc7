#include "actors/process_defaults.hpp"

#include "actors/interfaces.hpp"
#include "actors/message_size_limit.hpp"
#include "messages/finite_doubles.hpp"
#include "config/support/connection_handles.hpp"

#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/io/middleman.hpp>

#include <chrono>

namespace mesoscaf {

void set_process_defaults(caf::actor_system_config& cfg, int64_t threads) {
  use_fresh_connection_handles();   // before the middleman accepts anything
  // Also links the bound on message sizes into every program (actors/message_size_limit.cpp); flags may change it.
  set_max_message_size(default_max_message_size);
  use_finite_doubles();   // no infinite double gets in (messages/finite_doubles.cpp)
  add_message_types(cfg);
  cfg.load<caf::io::middleman>();
  cfg.set("scheduler.max-threads", threads);
  cfg.set("scheduler.policy", caf::atom("sharing"));
  cfg.set("middleman.heartbeat-interval", caf::timespan{std::chrono::seconds(1)});
}

} // namespace mesoscaf
