#pragma once
// What the master's and the agent's endpoints share (internal to actors/http/; not for widely included headers:
// it brings in caf/scoped_actor.hpp).
#include "actors/http/http_types.hpp"
#include "actors/http/prometheus.hpp"
#include "actors/http/state_json.hpp"

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace mesoscaf::http {

/// Asks an actor from an HTTP thread (blocking, bounded by `timeout`); returns "" or why there is no answer.
template <class Handle, class Result, class... Ts>
std::string ask(caf::actor_system& sys, const Handle& hdl, std::chrono::milliseconds timeout, Result& out,
                Ts&&... xs) {
  if (!hdl)
    return "not running yet";
  std::string err;
  caf::scoped_actor self{sys};
  self->request(hdl, timeout, std::forward<Ts>(xs)...)
    .receive([&](Result& r) { out = std::move(r); }, [&](const caf::error& e) { err = sys.render(e); });
  return err;
}

/// /metrics/snapshot (JSON) or /metrics (Prometheus text) of `samples`.
inline response metrics_response(const std::vector<metric_sample>& samples, bool prometheus) {
  if (!prometheus)
    return response::json(metrics_json(samples));
  auto res = response::text(prometheus_text(samples));
  res.content_type = "text/plain; version=0.0.4; charset=utf-8";
  return res;
}

} // namespace mesoscaf::http
