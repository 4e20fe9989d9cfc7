// POST /api/v1/executor on the agent (docs/HTTP.md "Mesos v1 executor API"): Mesos' v1 executor protocol for custom
// executors this agent started. A SUBSCRIBE spawns a session actor (actors/http/v1_executor_session.hpp) that is the
// executor to the agent and answers with a stream of events; UPDATE and MESSAGE name the executor (framework and
// executor ID) and are handed to its session. Every call carries the executor's token as `Authorization: Bearer`:
// the agent put it in the executor's environment (MESOS_EXECUTOR_AUTHENTICATION_TOKEN), so no other process that
// reaches this port can take the executor's place or report on its tasks.
#include "actors/http/daemon_http.hpp"

#include "actors/http/endpoint_support.hpp"
#include "actors/http/event_stream.hpp"
#include "actors/http/v1_executor_session.hpp"
#include "actors/http/v1_http_support.hpp"
#include "messages/mesos_v1/convert.hpp"
#include "messages/mesos_v1/executor.pb.h"
#include "messages/mesos_v1/wire_codec.hpp"

#include <caf/actor_system.hpp>
#include <caf/send.hpp>

#include <openssl/crypto.h>

#include <map>
#include <mutex>
#include <utility>

namespace mesoscaf::http {

namespace {

namespace exec = ::mesos::v1::executor;
using mesos_v1::codec;

struct session_entry {
  v1_executor_session_actor session;
  std::string token;
  uint64_t serial = 0;
};

/// The subscribed executors by (framework, executor).
struct session_table {
  std::mutex mtx;
  uint64_t next_serial = 1;
  std::map<std::pair<std::string, std::string>, session_entry> by_key;

  std::optional<session_entry> find(const std::pair<std::string, std::string>& key) {
    std::lock_guard<std::mutex> guard{mtx};
    auto i = by_key.find(key);
    if (i == by_key.end())
      return std::nullopt;
    return i->second;
  }
  /// Forgets the session if it is still this one (a newer subscription may have taken its place).
  void erase(const std::pair<std::string, std::string>& key, uint64_t serial) {
    std::lock_guard<std::mutex> guard{mtx};
    if (auto i = by_key.find(key); i != by_key.end() && i->second.serial == serial)
      by_key.erase(i);
  }
};

/// The Bearer token of the request ("" if none).
std::string bearer(const request& req) {
  auto value = header(req, "authorization");
  const std::string prefix = "Bearer ";
  return value.compare(0, prefix.size(), prefix) == 0 ? value.substr(prefix.size()) : std::string{};
}

bool same_token(const std::string& a, const std::string& b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

const char* missing_part(const exec::Call& call) {
  switch (call.type()) {
    case exec::Call::SUBSCRIBE:
      return call.has_subscribe() ? nullptr : "subscribe";
    case exec::Call::UPDATE:
      return call.has_update() ? nullptr : "update";
    case exec::Call::MESSAGE:
      return call.has_message() ? nullptr : "message";
    default:
      return nullptr;
  }
}

/// The unacknowledged tasks and updates a re-subscribing executor reports, in our form; "" or why not.
std::string reported(const exec::Call& call, std::vector<task_info>& tasks, std::vector<status_update>& updates) {
  const auto& s = call.subscribe();
  for (int i = 0; i < s.unacknowledged_tasks_size(); ++i) {
    task_info t;
    if (auto err = mesos_v1::from_v1(s.unacknowledged_tasks(i), t); !err.empty())
      return "subscribe.unacknowledged_tasks[" + std::to_string(i) + "]: " + err;
    tasks.push_back(std::move(t));
  }
  for (int i = 0; i < s.unacknowledged_updates_size(); ++i) {
    status_update u;
    u.framework = framework_id{call.framework_id().value()};
    if (auto err = mesos_v1::from_v1(s.unacknowledged_updates(i).status(), executor_id{call.executor_id().value()},
                                     u.status);
        !err.empty())
      return "subscribe.unacknowledged_updates[" + std::to_string(i) + "]: " + err;
    u.latest_state = u.status.state;
    updates.push_back(std::move(u));
  }
  return {};
}

} // namespace

void add_v1_executor_routes(server& srv, caf::actor_system& sys, std::function<agent_actor()> agent_of,
                            std::shared_ptr<const endpoint_options> me, std::function<daemon_identity()> identity) {
  auto sessions = std::make_shared<session_table>();
  auto sysp = &sys;

  auto subscribe = [=](const request& req, const exec::Call& call, codec c, const std::string& token) -> response {
    std::vector<task_info> tasks;
    std::vector<status_update> updates;
    if (auto err = reported(call, tasks, updates); !err.empty())
      return plain(400, err);
    auto answer = accepted_stream_format(req, c);
    if (!answer)
      return plain(406, "Expecting 'Accept' to allow application/json or application/x-protobuf");
    auto agent = agent_of();
    if (!agent)
      return plain(503, "the agent is not running yet");
    auto key = std::make_pair(call.framework_id().value(), call.executor_id().value());
    uint64_t serial;
    {
      std::lock_guard<std::mutex> guard{sessions->mtx};
      serial = sessions->next_serial++;
    }
    auto stream = std::make_shared<event_stream>();
    v1_executor_session_options o;
    o.agent = agent;
    o.stream = stream;
    o.codec = answer->codec;
    o.framework = framework_id{key.first};
    o.executor = executor_id{key.second};
    o.token = token;
    o.timeout = me->timeout / 3;   // the session asks the agent twice (its state, then the registration)
    o.agent_identity = identity();
    o.on_exit = [sessions, key, serial] { sessions->erase(key, serial); };
    auto session = spawn_v1_executor_session(*sysp, std::move(o));
    std::string refusal;
    auto err = ask(*sysp, session, me->timeout, refusal, atom::subscribe_v, std::move(tasks), std::move(updates));
    if (err.empty())
      err = refusal;
    if (!err.empty()) {
      caf::anon_send_exit(session, caf::exit_reason::remote_link_unreachable);   // to the agent: a lost connection
      // The session's refusals are the agent's own reasons (their text starts with what happened).
      if (err.rfind("wrong secret", 0) == 0)
        return plain(403, "The token is not the one the agent gave executor '" + key.second + "'");
      if (err.rfind("unknown executor ", 0) == 0)
        return plain(400, "The agent runs no executor '" + key.second.substr(0, 200) + "' of framework '"
                            + key.first.substr(0, 200) + "'");
      if (err.find("request_timeout") != std::string::npos || err.find("timeout") == 0)
        return plain(503, "the agent did not answer: " + err);
      return plain(400, err);
    }
    std::optional<session_entry> replaced;
    {
      std::lock_guard<std::mutex> guard{sessions->mtx};
      auto& slot = sessions->by_key[key];
      if (slot.session)
        replaced = slot;
      slot = session_entry{session, token, serial};
    }
    // The executor subscribed again (its old connection may look alive to us): the old stream ends.
    if (replaced)
      caf::anon_send_exit(replaced->session, caf::exit_reason::remote_link_unreachable);
    if (stream->closed())
      sessions->erase(key, serial);
    response res;
    set_stream_type(res, *answer);
    res.stream = stream;
    return res;
  };

  srv.route("*", "/api/v1/executor", [=](const request& req) -> response {
    exec::Call call;
    codec c = codec::json;
    if (auto refusal = read_call(req, me->max_call_bytes, "executor", call, c))
      return *refusal;
    if (auto part = missing_part(call))
      return plain(400, std::string{"Expecting '"} + part + "' to be present");
    if (call.framework_id().value().empty() || call.executor_id().value().empty())
      return plain(400, "Expecting 'framework_id' and 'executor_id' to be non-empty");
    auto token = bearer(req);
    if (token.empty()) {
      auto res = plain(401, "Expecting 'Authorization: Bearer <token>' with the executor's "
                            "MESOS_EXECUTOR_AUTHENTICATION_TOKEN");
      res.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"mesoscaf-executor\"");
      return res;
    }
    if (call.type() == exec::Call::SUBSCRIBE)
      return subscribe(req, call, c, token);
    auto entry = sessions->find({call.framework_id().value(), call.executor_id().value()});
    if (!entry)
      return plain(400, "Executor '" + call.executor_id().value().substr(0, 200) + "' of framework '"
                          + call.framework_id().value().substr(0, 200) + "' is not subscribed");
    if (!same_token(entry->token, token))
      return plain(403, "The token is not the one of executor '" + call.executor_id().value().substr(0, 200) + "'");
    std::string refusal;
    if (auto err = ask(*sysp, entry->session, me->timeout, refusal, atom::v1_call_v, call.SerializeAsString());
        !err.empty())
      return plain(400, "The executor's stream has ended: " + err);
    if (!refusal.empty())
      return plain(400, refusal);
    return plain(202, "");
  });
}

} // namespace mesoscaf::http
