// POST /api/v1/scheduler on the master (docs/HTTP.md "Mesos v1 scheduler API"): Mesos' v1 framework protocol. A
// SUBSCRIBE spawns a session actor (actors/http/v1_scheduler_session.hpp) that is the framework's scheduler to the
// master and answers with a stream of events; every other call names that stream (Mesos-Stream-Id) and is
// checked here, then handed to its session. Errors are plain text, as Mesos writes them.
#include "actors/http/daemon_http.hpp"

#include "actors/http/endpoint_support.hpp"
#include "actors/http/event_stream.hpp"
#include "actors/http/v1_scheduler_session.hpp"
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

response plain(int status, const std::string& message) {
  return response::text(message, status);
}

std::string header(const request& req, const std::string& name) {
  auto i = req.headers.find(name);
  return i == req.headers.end() ? std::string{} : i->second;
}

/// The codec the client accepts for the answer: the request's own if allowed, else the one it lists. None: 406.
std::optional<codec> accepted_codec(const request& req, codec body) {
  auto accept = header(req, "accept");
  if (accept.empty())
    return body;
  bool json = false, proto = false, any = false;
  std::size_t start = 0;
  while (start <= accept.size()) {
    auto comma = accept.find(',', start);
    auto item = accept.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    auto c = mesos_v1::codec_of(item);
    auto base = item.substr(0, item.find(';'));
    base.erase(0, base.find_first_not_of(' '));
    base.erase(base.find_last_not_of(' ') + 1);
    if (c == codec::json)
      json = true;
    else if (c == codec::protobuf)
      proto = true;
    else if (base == "*/*" || base == "application/*")
      any = true;
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
  if ((body == codec::json && (json || any)) || (body == codec::protobuf && (proto || any)))
    return body;
  if (json)
    return codec::json;
  if (proto)
    return codec::protobuf;
  return std::nullopt;
}

/// The call's bytes in its codec: the body, or the one record of an application/recordio body
/// (Message-Content-Type names the codec). A refusal otherwise.
std::variant<std::pair<codec, std::string>, response> call_body(const request& req, std::size_t max_record) {
  auto type = header(req, "content-type");
  if (type.empty())
    return plain(400, "Expecting 'Content-Type' to be present");
  if (auto c = mesos_v1::codec_of(type))
    return std::make_pair(*c, req.body);
  if (type.substr(0, type.find(';')) != "application/recordio")
    return plain(415, "Expecting 'Content-Type' of application/json or application/x-protobuf (or "
                      "application/recordio with a Message-Content-Type of either), not '" + type.substr(0, 100) + "'");
  auto inner = mesos_v1::codec_of(header(req, "message-content-type"));
  if (!inner)
    return plain(415, "Expecting 'Message-Content-Type' of application/json or application/x-protobuf");
  mesos_v1::recordio_reader reader{max_record};
  std::vector<std::string> records;
  if (!reader.feed(req.body, records))
    return plain(400, "Failed to read the RecordIO body: " + reader.error());
  if (records.size() != 1 || reader.pending() != 0)
    return plain(400, "Expecting exactly one RecordIO record in the body, found "
                        + std::to_string(records.size()) + (reader.pending() ? " and an incomplete one" : ""));
  return std::make_pair(*inner, std::move(records[0]));
}

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
    }
    auto answer = accepted_codec(req, c);
    if (!answer)
      return plain(406, "Expecting 'Accept' to allow application/json or application/x-protobuf");
    auto stream = std::make_shared<event_stream>();
    auto stream_id = new_uuid();
    v1_session_options o;
    o.master = master;
    o.stream = stream;
    o.codec = *answer;
    o.timeout = me->timeout;
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
      return plain(err.find("not authorized") != std::string::npos ? 403 : 400, err);
    }
    {
      std::lock_guard<std::mutex> guard{streams->mtx};
      streams->by_id[stream_id] = stream_entry{fid, session, req.principal};
    }
    if (stream->closed())   // the session ended already (its client left): forget it again
      streams->erase(stream_id);
    response res;
    res.content_type = mesos_v1::content_type(*answer);
    res.headers.emplace_back("Mesos-Stream-Id", stream_id);
    res.stream = stream;
    return res;
  };

  srv.route("*", "/api/v1/scheduler", [=](const request& req) -> response {
    if (req.method != "POST")
      return plain(405, "Expecting 'POST', not '" + req.method + "'");
    auto body = call_body(req, me->max_call_bytes);
    if (auto* refusal = std::get_if<response>(&body))
      return std::move(*refusal);
    auto& [c, bytes] = std::get<std::pair<codec, std::string>>(body);
    sched::Call call;
    if (auto err = mesos_v1::decode(c, bytes, call); !err.empty())
      return plain(400, "Failed to parse the body into a scheduler Call: " + err);
    if (!call.has_type() || call.type() == sched::Call::UNKNOWN)
      return plain(400, "Expecting 'type' to be present and a known call type");
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
      case sched::Call::SHUTDOWN:
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
