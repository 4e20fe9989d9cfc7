#pragma once
// One framework on the Mesos v1 scheduler API: the actor behind a SUBSCRIBE stream (interface in
// actors/interfaces.hpp). The master sees an ordinary scheduler; the subscriber sees Mesos' v1 events. Only the
// HTTP layer (actors/http/v1_scheduler_api.cpp) spawns and talks to it.
#include "actors/interfaces.hpp"
#include "actors/http/state_json.hpp"

#include <caf/fwd.hpp>

#include <chrono>
#include <functional>
#include <memory>

namespace mesoscaf::mesos_v1 {
enum class codec;
}

namespace mesoscaf::http {

class event_stream;

struct v1_session_options {
  master_actor master;
  std::shared_ptr<event_stream> stream;
  mesos_v1::codec codec;
  std::chrono::milliseconds heartbeat{std::chrono::seconds(15)};   // Mesos' interval
  std::chrono::milliseconds timeout{std::chrono::seconds(10)};     // for the master's answer to SUBSCRIBE
  daemon_identity master_identity;                                 // SUBSCRIBED's master_info
  /// Runs when the session ends (the HTTP layer forgets its stream ID).
  std::function<void()> on_exit;
};

v1_scheduler_session_actor spawn_v1_scheduler_session(caf::actor_system& sys, v1_session_options opts);

} // namespace mesoscaf::http
