#pragma once
// The operator calls that the master's and the agent's v1 APIs answer alike (internal to actors/http/): health,
// version, flags, metrics and logging level of the daemon, filled into either API's Response.
#include "actors/http/endpoint_support.hpp"
#include "actors/http/state_json.hpp"
#include "actors/http/v1_http_support.hpp"
#include "config/support/version.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace mesoscaf::http {

/// True if `call` is one of these, with `r` filled or `refusal` set (503: the daemon did not answer its metrics).
template <class Call, class Response, class Handle>
bool answer_daemon_call(const Call& call, const daemon_identity& me, caf::actor_system& sys, const Handle& daemon,
                        std::chrono::milliseconds timeout, Response& r, std::optional<response>& refusal) {
  switch (call.type()) {
    case Call::GET_HEALTH:
      r.set_type(Response::GET_HEALTH);
      r.mutable_get_health()->set_healthy(true);
      return true;
    case Call::GET_VERSION:
      r.set_type(Response::GET_VERSION);
      r.mutable_get_version()->mutable_version_info()->set_version(product_version());
      r.mutable_get_version()->mutable_version_info()->set_build_date(__DATE__);
      return true;
    case Call::GET_FLAGS:
      r.set_type(Response::GET_FLAGS);
      for (const auto& [name, value] : me.flags) {
        auto* f = r.mutable_get_flags()->add_flags();
        f->set_name(name);
        f->set_value(value);
      }
      return true;
    case Call::GET_LOGGING_LEVEL:
      r.set_type(Response::GET_LOGGING_LEVEL);
      r.mutable_get_logging_level()->set_level(mesos_logging_level());
      return true;
    case Call::GET_METRICS: {
      std::vector<metric_sample> samples;
      if (auto err = ask(sys, daemon, timeout, samples, atom::metrics_v); !err.empty()) {
        refusal = plain(503, "the daemon did not answer: " + err);
        return true;
      }
      r.set_type(Response::GET_METRICS);
      for (const auto& m : samples) {
        auto* x = r.mutable_get_metrics()->add_metrics();
        x->set_name(m.name);
        x->set_value(m.value);
      }
      return true;
    }
    default:
      return false;
  }
}

} // namespace mesoscaf::http
