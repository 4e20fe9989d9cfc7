// POST /api/v1 on the master (docs/HTTP.md "Mesos v1 operator API"): Mesos' operator calls, each answered with
// one mesos.v1.master.Response in the codec the client accepts. The state calls read the same paged state as
// /state (one fetch shared by concurrent readers); writes go through the same master messages, ACLs included.
#include "actors/http/daemon_http.hpp"

#include "actors/http/endpoint_support.hpp"
#include "actors/http/v1_http_support.hpp"
#include "actors/http/event_stream.hpp"
#include "actors/http/v1_daemon_calls.hpp"
#include "actors/http/v1_master_state.hpp"
#include "actors/http/v1_operator_session.hpp"
#include "actors/http/v1_session_support.hpp"
#include "messages/state_view.hpp"
#include "messages/mesos_v1/convert.hpp"
#include "config/support/logging.hpp"
#include "config/support/version.hpp"

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>

#include <set>

namespace mesoscaf::http {

namespace {

using mesos_v1::codec;
using Call = v1_master::Call;
using Response = v1_master::Response;

/// The object of view_state (--acls) each read call shows.
std::vector<const char*> viewed_objects(Call::Type t) {
  switch (t) {
    case Call::GET_FLAGS:
      return {"flags"};
    case Call::GET_STATE:
    case Call::SUBSCRIBE:
      return {"frameworks", "tasks", "agents"};
    case Call::GET_AGENTS:
      return {"agents"};
    case Call::GET_FRAMEWORKS:
      return {"frameworks"};
    case Call::GET_EXECUTORS:
    case Call::GET_TASKS:
      return {"frameworks", "tasks"};
    case Call::GET_ROLES:
    case Call::GET_WEIGHTS:
    case Call::GET_QUOTA:
      return {"roles"};
    default:
      return {};
  }
}

/// UPDATE_QUOTA's configs in our terms, all checked before any is applied. A role with neither guarantees nor
/// limits goes back to no quota (Mesos' default).
std::string quotas_of(const Call::UpdateQuota& u, std::vector<std::pair<std::string, quota_info>>& out) {
  std::set<std::string> seen;
  for (const auto& c : u.quota_configs()) {
    const auto& role = c.role();
    if (!valid_role_name(role) || role == "*")
      return "invalid role '" + role.substr(0, 100) + "'";
    if (!seen.insert(role).second)
      return "role '" + role + "' is configured twice";
    quota_info q;
    auto read = [&](const auto& map, resource_set& into, const char* what) -> std::string {
      for (const auto& [name, scalar] : map) {
        auto one = resource_set::scalar(name, scalar.value());
        if (one.empty() && scalar.value() != 0)
          return std::string{what} + " of '" + name.substr(0, 100) + "' for role '" + role
                 + "' must be a finite number >= 0 with a valid name";
        into += one;
      }
      return {};
    };
    if (auto err = read(c.guarantees(), q.guarantee, "the guarantee"); !err.empty())
      return err;
    if (auto err = read(c.limits(), q.limit, "the limit"); !err.empty())
      return err;
    for (const auto& [name, g] : c.guarantees())
      if (auto l = c.limits().find(name); l != c.limits().end() && l->second.value() < g.value())
        return "the guarantee of '" + name + "' for role '" + role + "' is above its limit";
    out.emplace_back(role, std::move(q));
  }
  return {};
}

/// RESERVE_RESOURCES, UNRESERVE_RESOURCES, CREATE_VOLUMES, DESTROY_VOLUMES as one operation on an agent.
std::string operation_of(const Call& call, agent_id& agent, offer_operation& op) {
  auto read = [&](operation_type t, const auto& id, const auto& resources, const char* field) -> std::string {
    op.type = t;
    agent = agent_id{id.value()};
    if (agent.empty())
      return std::string{"Expecting 'agent_id' in '"} + field + "'";
    if (auto err = mesos_v1::from_v1(resources, op.resources); !err.empty())
      return std::string{field} + ": " + err;
    if (op.resources.empty())
      return std::string{field} + ": no resources";
    return {};
  };
  switch (call.type()) {
    case Call::RESERVE_RESOURCES: {
      if (!call.has_reserve_resources())
        return "Expecting 'reserve_resources' to be present";
      const auto& c = call.reserve_resources();
      if (c.source_size() > 0)
        return "reserve_resources.source (re-reserving resources of one role for another) is not supported";
      return read(operation_type::reserve, c.agent_id(), c.resources(), "reserve_resources.resources");
    }
    case Call::UNRESERVE_RESOURCES:
      if (!call.has_unreserve_resources())
        return "Expecting 'unreserve_resources' to be present";
      return read(operation_type::unreserve, call.unreserve_resources().agent_id(),
                  call.unreserve_resources().resources(), "unreserve_resources.resources");
    case Call::CREATE_VOLUMES:
      if (!call.has_create_volumes())
        return "Expecting 'create_volumes' to be present";
      return read(operation_type::create, call.create_volumes().agent_id(), call.create_volumes().volumes(),
                  "create_volumes.volumes");
    default:
      if (!call.has_destroy_volumes())
        return "Expecting 'destroy_volumes' to be present";
      return read(operation_type::destroy, call.destroy_volumes().agent_id(), call.destroy_volumes().volumes(),
                  "destroy_volumes.volumes");
  }
}

acl_action acl_of(operation_type t) {
  switch (t) {
    case operation_type::reserve: return acl_action::reserve_resources;
    case operation_type::unreserve: return acl_action::unreserve_resources;
    case operation_type::create: return acl_action::create_volumes;
    default: return acl_action::destroy_volumes;
  }
}

/// The master's answer to an operator's write: true, false, or its refusal with the HTTP status it means.
struct write_outcome {
  bool ok = false;
  int status = 200;
  std::string message;
};

template <class... Ts>
write_outcome ask_write(caf::actor_system& sys, const master_actor& master, std::chrono::milliseconds timeout,
                        Ts&&... xs) {
  write_outcome out;
  caf::scoped_actor self{sys};
  self->request(master, timeout, std::forward<Ts>(xs)...)
    .receive([&](bool ok) { out.ok = ok; },
             [&](const caf::error& e) {
               out.message = refusal_text(sys, e);
               if (e == caf::sec::invalid_argument)
                 out.status = out.message.rfind("not authorized", 0) == 0 ? 403 : 400;
               else if (e == caf::sec::runtime_error)
                 out.status = 409;
               else
                 out.status = 503;
             });
  return out;
}

std::string requester(const request& req) {
  return "operator (v1 API from " + req.peer + (req.principal ? ", principal " + *req.principal : std::string{}) + ")";
}

} // namespace

void add_v1_operator_master_routes(server& srv, caf::actor_system& sys, master_actor master,
                                   std::shared_ptr<const endpoint_options> me,
                                   std::function<daemon_identity()> identity, state_fetcher fetch) {
  auto sysp = &sys;
  // SUBSCRIBE: the session follows the master first, then the state is read and sent as SUBSCRIBED, then the
  // changes the session held meanwhile follow (one may repeat what the state shows already; none is missed).
  auto subscribe = [=](const request& req, codec c) -> response {
    auto format = accepted_stream_format(req, c);
    if (!format)
      return plain(406, "Expecting 'Accept' to allow application/json or application/x-protobuf");
    auto stream = std::make_shared<event_stream>();
    v1_operator_session_options o;
    o.master = master;
    o.stream = stream;
    o.codec = format->codec;
    o.timeout = me->timeout / 2;
    auto session = spawn_v1_operator_session(*sysp, std::move(o));
    bool ok = false;
    std::string err;
    if (err = ask(*sysp, session, me->timeout, ok, atom::subscribe_v); !err.empty()) {
      caf::anon_send_exit(session, caf::exit_reason::user_shutdown);
      return plain(503, "the master cannot take the subscription now: " + err);
    }
    auto state = fetch(err);
    if (!state || !state->first.header.leading) {
      caf::anon_send_exit(session, caf::exit_reason::user_shutdown);
      if (!state)
        return plain(503, "the master did not answer: " + err);
      const auto& h = state->first.header;
      if (h.leader.empty() || h.leader.http_port == 0)
        return plain(503, "no leading master is known");
      auto res = plain(307, "");
      res.headers.emplace_back("Location", "//" + h.leader.host + ":" + std::to_string(h.leader.http_port) + req.path);
      return res;
    }
    v1_master::Event e;
    e.set_type(v1_master::Event::SUBSCRIBED);
    to_v1_state(*state, e.mutable_subscribed()->mutable_get_state());
    e.mutable_subscribed()->set_heartbeat_interval_seconds(15);
    // The whole state may be larger than the stream's bound for a client that lags: it is allowed once.
    auto first = mesos_v1::recordio_frame(mesos_v1::encode(format->codec, e));
    stream->raise_limit(first.size());
    if (!stream->push(std::move(first))) {
      caf::anon_send_exit(session, caf::exit_reason::user_shutdown);
      return plain(503, "the subscription ended before its state was sent");
    }
    caf::anon_send(session, atom::resume_v);
    response res;
    set_stream_type(res, *format);
    res.stream = stream;
    return res;
  };
  srv.route("*", "/api/v1", [=](const request& req) -> response {
    Call call;
    codec c = codec::json;
    if (auto refusal = read_call(req, me->max_call_bytes, "master", call, c))
      return *refusal;
    for (auto object : viewed_objects(call.type()))
      if (auto no = forbidden(*me, req, acl_action::view_state, object))
        return plain(403, no->body);
    if (call.type() == Call::SUBSCRIBE)
      return subscribe(req, c);
    auto answer_codec = accepted_codec(req, c);
    if (!answer_codec)
      return plain(406, "Expecting 'Accept' to allow application/json or application/x-protobuf");
    auto answer = [&](const Response& r) {
      response res;
      res.content_type = mesos_v1::content_type(*answer_codec);
      res.body = mesos_v1::encode(*answer_codec, r);
      return res;
    };
    // The state: a standby has none to give and sends the client to the leader.
    auto state = [&](std::shared_ptr<const master_state>& out) -> std::optional<response> {
      std::string err;
      out = fetch(err);
      if (!out)
        return plain(503, "the master did not answer: " + err);
      const auto& h = out->first.header;
      if (h.leading)
        return std::nullopt;
      if (h.leader.empty() || h.leader.http_port == 0)
        return plain(503, "no leading master is known");
      auto res = plain(307, "");
      res.headers.emplace_back("Location", "//" + h.leader.host + ":" + std::to_string(h.leader.http_port) + req.path);
      return res;
    };
    // A write refused as "not leading": the client is sent to the leader, as for the state calls (one page).
    auto refused_write = [&](const write_outcome& out) -> response {
      if (out.status != 503)
        return plain(out.status, out.message);
      master_state_view page;
      if (ask(*sysp, master, me->timeout, page, atom::state_page_v, state_cursor{}).empty() && !page.header.leading
          && !page.header.leader.empty() && page.header.leader.http_port != 0) {
        auto res = plain(307, "");
        res.headers.emplace_back("Location", "//" + page.header.leader.host + ":"
                                               + std::to_string(page.header.leader.http_port) + req.path);
        return res;
      }
      return plain(503, out.message);
    };
    Response r;
    std::optional<response> refusal;
    if (answer_daemon_call(call, identity(), *sysp, master, me->timeout, r, refusal))
      return refusal ? *refusal : answer(r);
    std::shared_ptr<const master_state> s;
    switch (call.type()) {
      case Call::GET_STATE:
      case Call::GET_AGENTS:
      case Call::GET_FRAMEWORKS:
      case Call::GET_EXECUTORS:
      case Call::GET_TASKS:
      case Call::GET_ROLES:
      case Call::GET_WEIGHTS:
      case Call::GET_QUOTA:
      case Call::GET_MASTER: {
        if (auto refusal = state(s))
          return *refusal;
        switch (call.type()) {
          case Call::GET_STATE:
            r.set_type(Response::GET_STATE);
            to_v1_state(*s, r.mutable_get_state());
            break;
          case Call::GET_AGENTS:
            r.set_type(Response::GET_AGENTS);
            to_v1_agents(*s, r.mutable_get_agents());
            break;
          case Call::GET_FRAMEWORKS:
            r.set_type(Response::GET_FRAMEWORKS);
            to_v1_frameworks(*s, r.mutable_get_frameworks());
            break;
          case Call::GET_EXECUTORS:
            r.set_type(Response::GET_EXECUTORS);
            to_v1_executors(*s, r.mutable_get_executors());
            break;
          case Call::GET_TASKS:
            r.set_type(Response::GET_TASKS);
            to_v1_tasks(*s, r.mutable_get_tasks());
            break;
          case Call::GET_ROLES:
            r.set_type(Response::GET_ROLES);
            to_v1_roles(s->first.roles, r.mutable_get_roles());
            break;
          case Call::GET_QUOTA:
            r.set_type(Response::GET_QUOTA);
            to_v1_quota(s->first.roles, r.mutable_get_quota());
            break;
          case Call::GET_WEIGHTS:
            r.set_type(Response::GET_WEIGHTS);
            for (const auto& role : s->first.roles) {
              auto* w = r.mutable_get_weights()->add_weight_infos();
              w->set_role(role.name);
              w->set_weight(role.weight);
            }
            break;
          default:
            r.set_type(Response::GET_MASTER);
            to_v1_master(s->first.header, identity(), r.mutable_get_master());
            break;
        }
        return answer(r);
      }
      case Call::UPDATE_WEIGHTS: {
        if (!call.has_update_weights())
          return plain(400, "Expecting 'update_weights' to be present");
        // All checked before any is applied: a bad entry changes nothing.
        for (const auto& w : call.update_weights().weight_infos()) {
          if (!w.has_role() || !valid_role_name(w.role()) || w.role() == "*")
            return plain(400, "invalid role '" + w.role() + "'");
          if (!std::isfinite(w.weight()) || w.weight() <= 0)
            return plain(400, "the weight of role '" + w.role() + "' must be a finite number > 0");
          if (auto no = forbidden(*me, req, acl_action::update_weights, w.role()))
            return plain(403, no->body);
        }
        for (const auto& w : call.update_weights().weight_infos()) {
          bool ok = false;
          if (auto err = ask(*sysp, master, me->timeout, ok, atom::set_weight_v, w.role(), w.weight()); !err.empty())
            return plain(400, err);
        }
        return plain(200, "");
      }
      case Call::UPDATE_QUOTA: {
        if (!call.has_update_quota())
          return plain(400, "Expecting 'update_quota' to be present");
        std::vector<std::pair<std::string, quota_info>> quotas;
        if (auto err = quotas_of(call.update_quota(), quotas); !err.empty())
          return plain(400, err);
        for (const auto& [role, q] : quotas)
          if (auto no = forbidden(*me, req, acl_action::update_quotas, role))
            return plain(403, no->body);
        for (const auto& [role, q] : quotas) {
          bool ok = false;
          if (auto err = ask(*sysp, master, me->timeout, ok, atom::set_quota_v, role, q); !err.empty())
            return plain(400, "quota of role " + role + ": " + err);
          LOG_INFO("http", "quota of role " << role << " set through the v1 operator API by " << req.peer);
        }
        return plain(200, "");
      }
      case Call::TEARDOWN: {
        if (!call.has_teardown())
          return plain(400, "Expecting 'teardown' to be present");
        const auto& id = call.teardown().framework_id().value();
        if (me->acls && me->acls->configured()) {
          if (auto refusal = state(s))
            return *refusal;
          const auto& fws = s->first.frameworks;
          auto fw = std::find_if(fws.begin(), fws.end(), [&](const framework_view& f) { return f.info.id.value == id; });
          if (fw == fws.end())
            return plain(400, "no such framework: " + id);
          if (auto no = forbidden(*me, req, acl_action::teardown_frameworks, fw->info.principal))
            return plain(403, no->body);
        }
        bool known = false;
        if (auto err = ask(*sysp, master, me->timeout, known, atom::teardown_v, framework_id{id},
                           "operator (v1 API from " + req.peer
                             + (req.principal ? ", principal " + *req.principal : std::string{}) + ")");
            !err.empty())
          return plain(400, err);
        if (!known)
          return plain(400, "no such framework: " + id);
        return plain(200, "");
      }
      case Call::RESERVE_RESOURCES:
      case Call::UNRESERVE_RESOURCES:
      case Call::CREATE_VOLUMES:
      case Call::DESTROY_VOLUMES: {
        agent_id agent;
        offer_operation op;
        if (auto err = operation_of(call, agent, op); !err.empty())
          return plain(400, err);
        for (const auto& r : op.resources.items())
          if (auto no = forbidden(*me, req, acl_of(op.type), r.role))
            return plain(403, no->body);
        auto out = ask_write(*sysp, master, me->timeout, atom::apply_op_v, agent, op, requester(req));
        if (!out.ok)
          return refused_write(out.status == 200 ? write_outcome{false, 503, "no answer"} : out);
        // Mesos answers 202: the agent applies the operation after this answer.
        return plain(202, "");
      }
      case Call::MARK_AGENT_GONE: {
        if (!call.has_mark_agent_gone() || call.mark_agent_gone().agent_id().value().empty())
          return plain(400, "Expecting 'mark_agent_gone.agent_id' to be present");
        agent_id agent{call.mark_agent_gone().agent_id().value()};
        if (auto no = forbidden(*me, req, acl_action::mark_agents_gone, agent.value))
          return plain(403, no->body);
        auto out = ask_write(*sysp, master, me->timeout, atom::remove_agent_v, agent, requester(req));
        if (out.status != 200)
          return refused_write(out);
        if (!out.ok)
          return plain(404, "Agent '" + agent.value + "' not found");
        LOG_WARN("http", "agent " << agent << " marked gone through the v1 operator API by " << req.peer);
        return plain(200, "");
      }
      default:
        return plain(501, "Call " + Call::Type_Name(call.type()) + " is not implemented by mesoscaf yet");
    }
  });
}

} // namespace mesoscaf::http
