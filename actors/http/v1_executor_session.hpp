#pragma once
// One custom executor on the Mesos v1 executor API: the actor behind a SUBSCRIBE stream (interface in
// actors/interfaces.hpp). The agent sees an ordinary executor; the executor sees Mesos' v1 events. Only the HTTP
// layer (actors/http/v1_executor_api.cpp) spawns and talks to it.
#include "actors/interfaces.hpp"
#include "actors/http/state_json.hpp"

#include <caf/fwd.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace mesoscaf::mesos_v1 {
enum class codec;
}

namespace mesoscaf::http {

class event_stream;

struct v1_executor_session_options {
  agent_actor agent;
  std::shared_ptr<event_stream> stream;
  mesos_v1::codec codec;
  framework_id framework;
  executor_id executor;
  std::string token;                                            // the executor's secret (its Bearer token)
  std::chrono::milliseconds timeout{std::chrono::seconds(10)};  // for the agent's answer to the registration
  daemon_identity agent_identity;                               // SUBSCRIBED's agent_info
  /// Runs when the session ends (the HTTP layer forgets it).
  std::function<void()> on_exit;
};

v1_executor_session_actor spawn_v1_executor_session(caf::actor_system& sys, v1_executor_session_options opts);

} // namespace mesoscaf::http
