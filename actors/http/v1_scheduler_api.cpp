// POST /api/v1/scheduler on the master (docs/HTTP.md "Mesos v1 scheduler API"): Mesos' v1 framework protocol. A
// SUBSCRIBE spawns a session actor (actors/http/v1_scheduler_session.hpp) that is the framework's scheduler to the
// master and answers with a stream of events; every other call names that stream (Mesos-Stream-Id) and is
// checked here, then handed to its session. Errors are plain text, as Mesos writes them.
#include "actors/http/daemon_http.hpp"

#include "actors/http/endpoint_support.hpp"
#include "actors/http/event_stream.hpp"
#include "actors/http/v1_http_support.hpp"
#include "actors/http/v1_scheduler_session.hpp"
#include "actors/tls.hpp"
#include "messages/mesos_v1/recordio.hpp"
#include "messages/mesos_v1/scheduler.pb.h"
#include "messages/mesos_v1/wire_codec.hpp"
#include "messages/mesos_v1/convert.hpp"

#include <caf/actor_system.hpp>
#include <caf/send.hpp>

#include <map>
#include <variant>
#include <mutex>

namespace mesoscaf::http {

namespace {

namespace sched = ::mesos::v1::scheduler;
using mesos_v1::codec;

/// The sub-message each call type needs (Mesos' validation): its name if absent.
const char* missing_part(const sched::Call& call) {
  switch (call.type()) {
    case sched::Call::ACCEPT:
      return call.has_accept() ? nullptr : "accept";
    case sched::Call::DECLINE:
      return call.has_decline() ? nullptr : "decline";
    case sched::Call::KILL:
      return call.has_kill() ? nullptr : "kill";
    case sched::Call::ACKNOWLEDGE:
      return call.has_acknowledge() ? nullptr : "acknowledge";
    case sched::Call::MESSAGE:
      return call.has_message() ? nullptr : "message";
    case sched::Call::SHUTDOWN:
      return call.has_shutdown() ? nullptr : "shutdown";
    case sched::Call::UPDATE_FRAMEWORK:
      return call.has_update_framework() ? nullptr : "update_framework";
    default:
      return nullptr;
  }
}

struct stream_entry {
  framework_id framework;
  v1_scheduler_session_actor session;
  std::optional<std::string> principal;
};

/// Open SUBSCRIBE streams by their Mesos-Stream-Id.
struct stream_table {
  std::mutex mtx;
  std::map<std::string, stream_entry> by_id;

  std::optional<stream_entry> find(const std::string& id) {
    std::lock_guard<std::mutex> guard{mtx};
    auto i = by_id.find(id);
    if (i == by_id.end())
      return std::nullopt;
    return i->second;
  }
  void erase(const std::string& id) {
    std::lock_guard<std::mutex> guard{mtx};
    by_id.erase(id);
  }
};

} // namespace

void add_v1_scheduler_routes(server& srv, caf::actor_system& sys, master_actor master,
                             std::shared_ptr<const endpoint_options> me, std::function<daemon_identity()> identity) {
  auto streams = std::make_shared<stream_table>();
  auto sysp = &sys;
  // A standby answers 307 with the leader's endpoint (Mesos' redirect), or 503 if it knows none.
  auto not_leading = [=](const request& req) -> std::optional<response> {
    master_state_view page;
    if (auto err = ask(*sysp, master, me->timeout, page, atom::state_page_v, state_cursor{}); !err.empty())
      return plain(503, "the master did not answer: " + err);
    auto& h = page.header;
    if (h.leading)
      return std::nullopt;
    if (h.leader.empty() || h.leader.http_port == 0)
      return plain(503, "no leading master is known");
    auto res = plain(307, "");
    res.headers.emplace_back("Location", "//" + h.leader.host + ":" + std::to_string(h.leader.http_port) + req.path);
    return res;
  };

  auto subscribe = [=](const request& req, const sched::Call& call, codec c) -> response {
    if (req.headers.count("mesos-stream-id"))
      return plain(400, "Subscribe calls should not include the 'Mesos-Stream-Id' header");
    if (!call.has_subscribe())
      return plain(400, "Expecting 'subscribe' to be present");
    const auto& fi = call.subscribe().framework_info();
    if (call.has_framework_id() != fi.has_id()
        || (call.has_framework_id() && call.framework_id().value() != fi.id().value()))
      return plain(400, "'framework_id' differs from 'subscribe.framework_info.id'");
    framework_info info;
    if (auto err = mesos_v1::from_v1(fi, info); !err.empty())
      return plain(400, "Invalid framework: " + err);
    if (req.principal) {
      if (!info.principal.empty() && info.principal != *req.principal)
        return plain(403, "the framework's principal '" + info.principal + "' is not the authenticated principal '"
                            + *req.principal + "'");
      info.principal = *req.principal;
    } else if (!info.principal.empty() && (tls_in_use() || (me->acls && me->acls->configured()))) {
      // Where principals mean something (TLS binds them, ACLs judge them), one is never taken on its word: the
      // master trusts what this layer passes on.
      return plain(403, "the framework declares principal '" + info.principal
                          + "' but the request is not authenticated (--credentials or a client certificate)");
    }
    auto answer = accepted_stream_format(req, c);
    if (!answer)
      return plain(406, "Expecting 'Accept' to allow application/json or application/x-protobuf");
    auto stream = std::make_shared<event_stream>();
    auto stream_id = new_uuid();
    v1_session_options o;
    o.master = master;
    o.stream = stream;
    o.codec = answer->codec;
    // The session's own wait is the shorter: it gives up (and the master's answer is dropped) before this layer.
    o.timeout = me->timeout / 2;
    o.master_identity = identity();
    o.on_exit = [streams, stream_id] { streams->erase(stream_id); };
    auto session = spawn_v1_scheduler_session(*sysp, std::move(o));
    framework_id fid;
    std::vector<std::string> suppressed(call.subscribe().suppressed_roles().begin(),
                                        call.subscribe().suppressed_roles().end());
    if (auto err = ask(*sysp, session, me->timeout, fid, atom::subscribe_v, info, suppressed); !err.empty()) {
      caf::anon_send_exit(session, caf::exit_reason::user_shutdown);
      if (err.find("not the leading master") != std::string::npos)
        if (auto redirect = not_leading(req))
          return *redirect;
      // A master still recovering its registry, or slow to answer: the client tries again (Mesos' 503).
      if (err.find("timeout") != std::string::npos || err.find("unavailable_or_would_block") != std::string::npos)
        return plain(503, "the master cannot subscribe frameworks now: " + err);
      return plain(err.find("not authorized") != std::string::npos ? 403 : 400, err);
    }
    {
      std::lock_guard<std::mutex> guard{streams->mtx};
      streams->by_id[stream_id] = stream_entry{fid, session, req.principal};
    }
    if (stream->closed())   // the session ended already (its client left): forget it again
      streams->erase(stream_id);
    response res;
    set_stream_type(res, *answer);
    res.headers.emplace_back("Mesos-Stream-Id", stream_id);
    res.stream = stream;
    return res;
  };

  srv.route("*", "/api/v1/scheduler", [=](const request& req) -> response {
    sched::Call call;
    codec c = codec::json;
    if (auto refusal = read_call(req, me->max_call_bytes, "scheduler", call, c))
      return *refusal;
    if (call.type() == sched::Call::SUBSCRIBE)
      return subscribe(req, call, c);
    auto stream_id = header(req, "mesos-stream-id");
    if (stream_id.empty())
      return plain(400, "All non-subscribe calls should include the 'Mesos-Stream-Id' header");
    if (stream_id.find(',') != std::string::npos)
      return plain(400, "Expecting one 'Mesos-Stream-Id' header, got several");
    if (!call.has_framework_id())
      return plain(400, "Expecting 'framework_id' to be present");
    if (auto part = missing_part(call))
      return plain(400, std::string{"Expecting '"} + part + "' to be present");
    auto entry = streams->find(stream_id);
    if (!entry) {
      if (auto redirect = not_leading(req))
        return *redirect;
      return plain(400, "The stream ID '" + stream_id.substr(0, 64) + "' names no subscribed framework");
    }
    if (entry->framework.value != call.framework_id().value())
      return plain(403, "The stream of framework " + entry->framework.value + " cannot carry calls of framework '"
                          + call.framework_id().value() + "'");
    if (entry->principal != req.principal)
      return plain(403, "The call's principal is not the one that subscribed the framework");
    switch (call.type()) {
      case sched::Call::REQUEST:                  // deprecated: Mesos' allocator ignores it too
      case sched::Call::ACCEPT_INVERSE_OFFERS:    // we make no inverse offers: nothing to accept or decline
      case sched::Call::DECLINE_INVERSE_OFFERS:
        return plain(202, "");
      case sched::Call::ACKNOWLEDGE_OPERATION_STATUS:
      case sched::Call::RECONCILE_OPERATIONS:
        return plain(501, "Call " + sched::Call::Type_Name(call.type()) + " is not implemented by mesoscaf yet");
      default:
        break;
    }
    std::string refusal;
    if (auto err = ask(*sysp, entry->session, me->timeout, refusal, atom::v1_call_v, call.SerializeAsString());
        !err.empty())
      return plain(400, "The stream has ended: " + err);
    if (!refusal.empty())
      return plain(400, refusal);
    return plain(call.type() == sched::Call::UPDATE_FRAMEWORK ? 200 : 202, "");
  });
}

} // namespace mesoscaf::http
