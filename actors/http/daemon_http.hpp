#pragma once
// The master's and the agent's HTTP endpoints (docs/HTTP.md) on an http::server. Handlers run on the server's
// pool: each asks its daemon's actor for plain data with a timeout (never blocking an actor) and turns it into
// JSON on that thread.
#include "actors/http/http_server.hpp"
#include "actors/http/state_json.hpp"
#include "actors/interfaces.hpp"
#include "config/support/acls.hpp"

#include <caf/fwd.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace mesoscaf::http {

struct endpoint_options {
  daemon_identity identity;
  std::chrono::milliseconds timeout{10000};   // per request to the actor (a page, a query)
  std::string work_dir;                        // agent: the sandboxes' root (/files)
  /// --acls: view_state, update_weights, update_quotas, teardown_frameworks for HTTP requests (by
  /// request::principal). Null: everything allowed.
  std::shared_ptr<const acl_set> acls;
  /// The v1 APIs: the largest call in a RecordIO body (the server's body limit bounds the others).
  std::size_t max_call_bytes = 1 << 20;
};

/// A 403 if `acls` does not let the request's principal do `action` on `object`; nullopt if it may.
std::optional<response> forbidden(const endpoint_options& opts, const request& req, acl_action action,
                                  const std::string& object);

void add_master_routes(server& srv, caf::actor_system& sys, master_actor master, endpoint_options opts);
/// POST /api/v1/scheduler (actors/http/v1_scheduler_api.cpp): the Mesos v1 scheduler API. Part of
/// add_master_routes; `identity` is read at each SUBSCRIBE (the HTTP port is known once the server listens).
void add_v1_scheduler_routes(server& srv, caf::actor_system& sys, master_actor master,
                             std::shared_ptr<const endpoint_options> opts, std::function<daemon_identity()> identity);

/// The master's whole state, fetched (or joined, when a fetch is under way); null and `error` on failure.
using state_fetcher = std::function<std::shared_ptr<const master_state>(std::string& error)>;

/// POST /api/v1 on the master (actors/http/v1_operator_api.cpp): Mesos' v1 operator API. Part of
/// add_master_routes.
void add_v1_operator_master_routes(server& srv, caf::actor_system& sys, master_actor master,
                                   std::shared_ptr<const endpoint_options> opts,
                                   std::function<daemon_identity()> identity, state_fetcher fetch);

/// POST /api/v1/executor on the agent (actors/http/v1_executor_api.cpp): the Mesos v1 executor API. Part of
/// add_agent_routes; `agent` and `identity` are read at each SUBSCRIBE.
void add_v1_executor_routes(server& srv, caf::actor_system& sys, std::function<agent_actor()> agent,
                            std::shared_ptr<const endpoint_options> opts, std::function<daemon_identity()> identity);

/// POST /api/v1 on the agent (actors/http/v1_agent_operator_api.cpp): Mesos' agent operator API. Part of
/// add_agent_routes.
void add_v1_operator_agent_routes(server& srv, caf::actor_system& sys, std::function<agent_actor()> agent,
                                  std::shared_ptr<const endpoint_options> opts,
                                  std::function<daemon_identity()> identity);

/// `agent` names the agent at each request: a daemon starts serving (and learns its HTTP port, which the agent
/// advertises) before the agent exists.
void add_agent_routes(server& srv, caf::actor_system& sys, std::function<agent_actor()> agent,
                      endpoint_options opts);

/// /logging/toggle?level=L&duration=D (both daemons): the log level for a while.
response toggle_logging(const request& req);

class completed_history_cache;

/// A master's whole state, page by page (tests and benchmarks use it too). Empty on timeout, with `error` set.
/// With a `cache` of the completed history kept from the previous fetch, only the tasks that ended since are
/// asked for.
std::optional<master_state> fetch_master_state(caf::actor_system& sys, const master_actor& master,
                                               std::chrono::milliseconds timeout, std::string& error,
                                               completed_history_cache* cache = nullptr);

} // namespace mesoscaf::http
