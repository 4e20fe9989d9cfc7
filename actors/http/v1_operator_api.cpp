// POST /api/v1 on the master (docs/HTTP.md "Mesos v1 operator API"): Mesos' operator calls, each answered with
// one mesos.v1.master.Response in the codec the client accepts. The state calls read the same paged state as
// /state (one fetch shared by concurrent readers); writes go through the same master messages, ACLs included.
#include "actors/http/daemon_http.hpp"

#include "actors/http/endpoint_support.hpp"
#include "actors/http/v1_http_support.hpp"
#include "actors/http/v1_master_state.hpp"
#include "config/support/logging.hpp"
#include "config/support/version.hpp"

#include <caf/actor_system.hpp>

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
      return {"roles"};
    default:
      return {};
  }
}

/// Mesos' logging level is glog's verbosity: 0 normally, more for debugging.
uint32_t mesos_logging_level() {
  switch (log::current_level()) {
    case log::level::debug:
      return 1;
    case log::level::trace:
      return 2;
    default:
      return 0;
  }
}

} // namespace

void add_v1_operator_master_routes(server& srv, caf::actor_system& sys, master_actor master,
                                   std::shared_ptr<const endpoint_options> me,
                                   std::function<daemon_identity()> identity, state_fetcher fetch) {
  auto sysp = &sys;
  srv.route("*", "/api/v1", [=](const request& req) -> response {
    Call call;
    codec c = codec::json;
    if (auto refusal = read_call(req, me->max_call_bytes, "master", call, c))
      return *refusal;
    auto answer_codec = accepted_codec(req, c);
    if (!answer_codec)
      return plain(406, "Expecting 'Accept' to allow application/json or application/x-protobuf");
    for (auto object : viewed_objects(call.type()))
      if (auto no = forbidden(*me, req, acl_action::view_state, object))
        return plain(403, no->body);
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
    Response r;
    std::shared_ptr<const master_state> s;
    switch (call.type()) {
      case Call::GET_HEALTH:
        r.set_type(Response::GET_HEALTH);
        r.mutable_get_health()->set_healthy(true);
        return answer(r);
      case Call::GET_VERSION: {
        r.set_type(Response::GET_VERSION);
        auto* v = r.mutable_get_version()->mutable_version_info();
        v->set_version(product_version());
        v->set_build_date(__DATE__);
        return answer(r);
      }
      case Call::GET_FLAGS:
        r.set_type(Response::GET_FLAGS);
        for (const auto& [name, value] : identity().flags) {
          auto* f = r.mutable_get_flags()->add_flags();
          f->set_name(name);
          f->set_value(value);
        }
        return answer(r);
      case Call::GET_METRICS: {
        std::vector<metric_sample> samples;
        if (auto err = ask(*sysp, master, me->timeout, samples, atom::metrics_v); !err.empty())
          return plain(503, "the master did not answer: " + err);
        r.set_type(Response::GET_METRICS);
        for (const auto& m : samples) {
          auto* x = r.mutable_get_metrics()->add_metrics();
          x->set_name(m.name);
          x->set_value(m.value);
        }
        return answer(r);
      }
      case Call::GET_LOGGING_LEVEL:
        r.set_type(Response::GET_LOGGING_LEVEL);
        r.mutable_get_logging_level()->set_level(mesos_logging_level());
        return answer(r);
      case Call::GET_STATE:
      case Call::GET_AGENTS:
      case Call::GET_FRAMEWORKS:
      case Call::GET_EXECUTORS:
      case Call::GET_TASKS:
      case Call::GET_ROLES:
      case Call::GET_WEIGHTS:
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
      default:
        return plain(501, "Call " + Call::Type_Name(call.type()) + " is not implemented by mesoscaf yet");
    }
  });
}

} // namespace mesoscaf::http
