#pragma once
// One operator following the master on the Mesos v1 operator API's SUBSCRIBE stream: the actor behind the stream
// (interface in actors/interfaces.hpp). The master sends it each change; it holds them until the HTTP layer has
// sent SUBSCRIBED with the full state, then streams them as v1 events with a HEARTBEAT every 15 s. Only the HTTP
// layer (actors/http/v1_operator_api.cpp) spawns and talks to it.
#include "actors/interfaces.hpp"

#include <caf/fwd.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>

namespace mesoscaf::mesos_v1 {
enum class codec;
}

namespace mesoscaf::http {

class event_stream;

struct v1_operator_session_options {
  master_actor master;
  std::shared_ptr<event_stream> stream;
  mesos_v1::codec codec;
  std::chrono::milliseconds heartbeat{std::chrono::seconds(15)};   // Mesos' interval
  std::chrono::milliseconds timeout{std::chrono::seconds(10)};     // for the master's answer to `watch`
  /// Events held while the state is fetched; beyond this the operator could not catch up and the stream ends.
  std::size_t max_held = 100000;
  std::function<void()> on_exit;
};

v1_operator_session_actor spawn_v1_operator_session(caf::actor_system& sys, v1_operator_session_options opts);

} // namespace mesoscaf::http
