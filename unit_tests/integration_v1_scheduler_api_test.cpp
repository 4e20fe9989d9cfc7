// Integration: Mesos' v1 scheduler API (POST /api/v1/scheduler) of a real master process with a real agent.
// A scheduler nobody on this project wrote the library of (a Go program on Debian's mesos-go) runs a task with
// each codec; the stream, the calls and every kind of bad input are checked from here. Bounded waits throughout.
#define CAF_SUITE integration_v1_scheduler_api
#include "test.hpp"

#include "child_process.hpp"
#include "http_test_client.hpp"
#include "process_scan.hpp"
#include "v1_daemons.hpp"
#include "v1_event_reader.hpp"
#include "zookeeper_server.hpp"

#include "messages/mesos_v1/recordio.hpp"
#include "messages/mesos_v1/scheduler.pb.h"
#include "messages/mesos_v1/wire_codec.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

using namespace mesoscaf;
using namespace mesoscaf::test;
using namespace std::chrono;
using json = nlohmann::json;
namespace sched = ::mesos::v1::scheduler;
namespace v1 = mesoscaf::mesos_v1;

namespace {

const std::string bin = MESOSCAF_BINARY;
const std::string go_scheduler = std::string{MESOSCAF_V1_CLIENTS_DIR} + "/scheduler";
const std::string go_ha_scheduler = std::string{MESOSCAF_V1_CLIENTS_DIR} + "/ha_scheduler";
const std::string api = "/api/v1/scheduler";

bool mentions(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

using event_reader = v1_event_reader<sched::Event>;

std::string subscribe_json(const std::string& name, const std::string& extra = "") {
  return R"({"type": "SUBSCRIBE", "subscribe": {"framework_info": {"user": "root", "name": ")" + name
         + R"(", "roles": ["*"], "capabilities": [{"type": "MULTI_ROLE"}])" + extra + "}}}";
}

struct fixture : v1_daemons {
  fixture() : v1_daemons("mesoscaf-v1") {
    start(bin, "cpus:2;mem:1024;disk:1000;ports:[31000-31100]");
  }

  /// SUBSCRIBE over JSON (or protobuf); the reader has the SUBSCRIBED event already consumed into `fid`.
  event_reader subscribe(v1::codec codec, const std::string& name, std::string& fid, std::string& stream_id,
                         const std::string& extra = "") {
    event_reader r;
    r.codec = codec;
    std::string body = subscribe_json(name, extra);
    if (codec == v1::codec::protobuf) {
      sched::Call call;
      REQUIRE_EQUAL(v1::decode(v1::codec::json, body, call), "");
      body = call.SerializeAsString();
    }
    r.http = std::make_unique<http_stream>(master_http, api, body, v1::content_type(codec));
    REQUIRE_EQUAL(r.http->status(), 200);
    stream_id = r.http->headers().count("mesos-stream-id") ? r.http->headers().at("mesos-stream-id") : "";
    auto e = r.next();
    REQUIRE(e);
    REQUIRE_EQUAL(e->type(), sched::Event::SUBSCRIBED);
    fid = e->subscribed().framework_id().value();
    return r;
  }

  http_reply call(const std::string& body, const std::string& stream_id,
                  const std::string& content_type = "application/json") {
    std::map<std::string, std::string> headers;
    if (!stream_id.empty())
      headers["Mesos-Stream-Id"] = stream_id;
    return http_request("POST", master_http, api, body, content_type, seconds(15), headers);
  }

  json frameworks() {
    auto r = http_get(master_http, "/frameworks");
    auto j = json::parse(r.body, nullptr, false);
    return j.is_discarded() ? json{} : j;
  }
};

} // namespace

FIXTURE_SCOPE(v1_scheduler_api_tests, fixture)

TEST(a mesos-go scheduler runs a command task to TASK_FINISHED with each codec) {
  for (std::string codec : {"json", "protobuf"}) {
    MESSAGE("codec " << codec);
    auto marker = dir / ("ran-" + codec);
    child_process go({go_scheduler, "--url=http://" + master_http + api, "--codec=" + codec,
                      "--task-id=go-" + codec, "--command=echo ran > " + marker + "; echo hello-from-go"},
                     dir / ("go-" + codec + ".log"));
    auto code = go.wait_exit(seconds(120));
    MESSAGE(go.output());
    REQUIRE(code);
    CHECK_EQUAL(*code, 0);
    auto out = go.output();
    CHECK(mentions(out, "subscribed "));
    CHECK(mentions(out, "heartbeat 15"));
    CHECK(mentions(out, "update go-" + codec + " TASK_RUNNING"));
    CHECK(mentions(out, "update go-" + codec + " TASK_FINISHED"));
    CHECK(std::ifstream{marker}.good());
    // Its TEARDOWN removed the framework; the task is in the master's completed history.
    CHECK(eventually([&] {
      auto j = frameworks();
      for (auto& f : j["frameworks"])
        if (f["name"] == "mesos-go scheduler (" + codec + ")")
          return false;
      return true;
    }, seconds(30)));
  }
}

TEST(subscribe answers in the request codec with a stream id then sends offers) {
  std::string fid, stream_id;
  auto events = subscribe(v1::codec::protobuf, "cpp-proto", fid, stream_id, R"(, "failover_timeout": 300)");
  CHECK_EQUAL(events.http->headers().at("content-type"), "application/x-protobuf");
  CHECK_EQUAL(stream_id.size(), 36u);
  CHECK(!fid.empty());
  auto offers = events.next_of(sched::Event::OFFERS);
  REQUIRE(offers);
  REQUIRE(offers->offers().offers_size() >= 1);
  const auto& o = offers->offers().offers(0);
  CHECK_EQUAL(o.framework_id().value(), fid);
  CHECK_EQUAL(o.allocation_info().role(), "*");
  double cpus = 0;
  for (const auto& r : o.resources())
    if (r.name() == "cpus")
      cpus += r.scalar().value();
  CHECK_EQUAL(cpus, 2.0);
  // Declined for an hour, then revived: the offer comes back at once.
  auto decline = R"({"type": "DECLINE", "framework_id": {"value": ")" + fid + R"("}, "decline": {"offer_ids": [{"value": ")"
                 + o.id().value() + R"("}], "filters": {"refuse_seconds": 3600}}})";
  CHECK_EQUAL(call(decline, stream_id).status, 202);
  auto revive = R"({"type": "REVIVE", "framework_id": {"value": ")" + fid + R"("}})";
  CHECK_EQUAL(call(revive, stream_id).status, 202);
  auto again = events.next_of(sched::Event::OFFERS);
  REQUIRE(again);
  CHECK_NOT_EQUAL(again->offers().offers(0).id().value(), o.id().value());
  // The framework is connected; closing its stream disconnects it (the master sees its scheduler go), and its
  // failover timeout keeps it registered.
  auto connected = [&](bool want) {
    auto j = frameworks();
    for (auto& f : j["frameworks"])
      if (f["id"] == fid)
        return f["connected"] == want;
    MESSAGE("framework " << fid << " not in " << j.dump());
    return false;
  };
  CHECK(eventually([&] { return connected(true); }, seconds(10)));
  events.http->close();
  CHECK(eventually([&] { return connected(false); }, seconds(30)));
  // Its stream ID is gone with it.
  CHECK_EQUAL(call(revive, stream_id).status, 400);
}

TEST(bad input on the scheduler endpoint gets 4xx and changes nothing) {
  std::string fid, stream_id;
  auto events = subscribe(v1::codec::json, "target", fid, stream_id);
  auto revive = R"({"type": "REVIVE", "framework_id": {"value": ")" + fid + R"("}})";
  struct bad_case {
    std::string what;
    int status;
    http_reply reply;
  };
  std::vector<bad_case> cases;
  auto add = [&](std::string what, int status, http_reply r) { cases.push_back({std::move(what), status, std::move(r)}); };
  add("GET", 405, http_request("GET", master_http, api));
  add("no content type", 400, call(revive, stream_id, ""));
  add("text/plain", 415, call(revive, stream_id, "text/plain"));
  add("not JSON", 400, call("{\"type\": ", stream_id));
  add("JSON of the wrong shape", 400, call(R"({"type": ["REVIVE"]})", stream_id));
  add("an enum as a number", 400, call(R"({"type": 5, "framework_id": {"value": "x"}})", stream_id));
  add("an unknown call type", 400, call(R"({"type": "TELEPORT", "framework_id": {"value": "x"}})", stream_id));
  add("a protobuf body of garbage", 400, call(std::string("\xff\xfe\x01\x02", 4), stream_id, "application/x-protobuf"));
  add("a RecordIO length of 2^63", 400,
      http_request("POST", master_http, api, "9223372036854775808\n{}", "application/recordio", seconds(15),
                   {{"Message-Content-Type", "application/json"}, {"Mesos-Stream-Id", stream_id}}));
  add("a non-numeric RecordIO length", 400,
      http_request("POST", master_http, api, "abc\n{}", "application/recordio", seconds(15),
                   {{"Message-Content-Type", "application/json"}, {"Mesos-Stream-Id", stream_id}}));
  add("a body over the limit", 413, call(std::string(2 << 20, ' '), stream_id));
  add("a call without Mesos-Stream-Id", 400, call(revive, ""));
  add("a call with two Mesos-Stream-Ids", 400,
      http_request("POST", master_http, api, revive, "application/json", seconds(15),
                   {{"Mesos-Stream-Id", stream_id + ", " + stream_id}}));
  add("a call on an unknown stream", 400, call(revive, "00000000-0000-0000-0000-000000000000"));
  add("a call for another framework on this stream", 403,
      call(R"({"type": "REVIVE", "framework_id": {"value": "someone-else"}})", stream_id));
  add("a call without its framework", 400, call(R"({"type": "REVIVE"})", stream_id));
  add("an ACCEPT without accept", 400, call(R"({"type": "ACCEPT", "framework_id": {"value": ")" + fid + R"("}})", stream_id));
  add("a KILL without its task", 400,
      call(R"({"type": "KILL", "framework_id": {"value": ")" + fid + R"("}, "kill": {}})", stream_id));
  add("a SUBSCRIBE that names a stream", 400, call(subscribe_json("again"), stream_id));
  add("a SUBSCRIBE without framework_info", 400, call(R"({"type": "SUBSCRIBE", "subscribe": {}})", ""));
  add("a SUBSCRIBE whose IDs differ", 400,
      call(R"({"type": "SUBSCRIBE", "framework_id": {"value": "a"}, "subscribe": {"framework_info": {"user": "u",
           "name": "n", "id": {"value": "b"}}}})", ""));
  add("a SUBSCRIBE with roles but no MULTI_ROLE", 400,
      call(R"({"type": "SUBSCRIBE", "subscribe": {"framework_info": {"user": "u", "name": "n", "roles": ["a"]}}})", ""));
  add("a SUBSCRIBE with an invalid role", 400,
      call(R"({"type": "SUBSCRIBE", "subscribe": {"framework_info": {"user": "u", "name": "n", "role": "../x"}}})", ""));
  add("a SUBSCRIBE accepting neither codec", 406,
      http_request("POST", master_http, api, subscribe_json("picky"), "application/json", seconds(15),
                   {{"Accept", "text/html"}}));
  add("an ACCEPT with a negative scalar", 400,
      call(R"({"type": "ACCEPT", "framework_id": {"value": ")" + fid + R"("}, "accept": {"offer_ids": [],
           "operations": [{"type": "LAUNCH", "launch": {"task_infos": [{"name": "t", "task_id": {"value": "t"},
           "agent_id": {"value": "a"}, "command": {"value": "true"}, "resources": [{"name": "cpus",
           "type": "SCALAR", "scalar": {"value": -1}}]}]}}]}})", stream_id));
  for (auto& c : cases) {
    if (c.reply.status != c.status)
      CAF_FAIL(c.what << ": expected " << c.status << ", got " << c.reply.status << " " << c.reply.body
                      << c.reply.error);
    CHECK(!c.reply.body.empty() || c.reply.status == 413);
  }
  // Nothing changed: the master serves, the one framework is still subscribed on its stream, and a good call works.
  CHECK_EQUAL(http_get(master_http, "/health").status, 200);
  CHECK_EQUAL(frameworks()["frameworks"].size(), 1u);
  CHECK_EQUAL(call(revive, stream_id).status, 202);
  CHECK(events.next_of(sched::Event::OFFERS));
}

TEST(under acls a subscribe may not claim a principal it did not authenticate) {
  {
    std::ofstream acls{dir / "acls.json"};
    acls << R"({"permissive": false,
                "register_frameworks": [{"principals": {"values": ["etl"]}, "roles": {"type": "ANY"}}],
                "view_state": [{"principals": {"type": "ANY"}, "objects": {"type": "ANY"}}]})";
  }
  child_process guarded({bin, "master", "--port=0", "--http-port=0", "--work-dir=" + dir / "guarded",
                         "--acls=" + dir / "acls.json"},
                        dir / "guarded.log");
  auto mh = guarded.wait_for_line("master http listening on (127\\.0\\.0\\.1:[0-9]+)", seconds(60));
  REQUIRE(mh);
  std::string http = (*mh)[1];
  auto claims = http_request("POST", http, api, subscribe_json("claimer", R"(, "principal": "etl")"));
  CHECK_EQUAL(claims.status, 403);
  CHECK(mentions(claims.body, "not authenticated"));
  auto anonymous = http_request("POST", http, api, subscribe_json("anonymous"));
  CHECK_EQUAL(anonymous.status, 403);
  CHECK(mentions(anonymous.body, "not authorized"));
  auto j = json::parse(http_get(http, "/frameworks").body, nullptr, false);
  REQUIRE(!j.is_discarded());
  CHECK(j["frameworks"].empty());
}

TEST(a second subscribe with the framework id takes over and the first stream ends with an error) {
  std::string fid, first_id;
  auto first = subscribe(v1::codec::json, "failover", fid, first_id);
  std::string body = R"({"type": "SUBSCRIBE", "framework_id": {"value": ")" + fid
                     + R"("}, "subscribe": {"framework_info": {"user": "root", "name": "failover", "id": {"value": ")"
                     + fid + R"("}, "failover_timeout": 60}}})";
  event_reader second;
  second.codec = v1::codec::json;
  second.http = std::make_unique<http_stream>(master_http, api, body, "application/json");
  REQUIRE_EQUAL(second.http->status(), 200);
  auto subscribed = second.next();
  REQUIRE(subscribed);
  CHECK_EQUAL(subscribed->subscribed().framework_id().value(), fid);
  auto error = first.next_of(sched::Event::ERROR);
  REQUIRE(error);
  CHECK(mentions(error->error().message(), "failed over"));
  // The old stream ID no longer carries calls.
  auto revive = R"({"type": "REVIVE", "framework_id": {"value": ")" + fid + R"("}})";
  CHECK_EQUAL(call(revive, first_id).status, 400);
  CHECK_EQUAL(call(revive, second.http->headers().at("mesos-stream-id")).status, 202);
}

FIXTURE_SCOPE_END()

namespace {

/// Two masters electing through a real ZooKeeper, one agent following the leader.
struct ha_fixture {
  temp_dir dir{"mesoscaf-v1-ha"};
  std::unique_ptr<zookeeper_server> zk;
  std::vector<std::unique_ptr<child_process>> masters;
  std::unique_ptr<child_process> agent;
  std::string zk_url;

  ha_fixture() {
    zk = std::make_unique<zookeeper_server>(1, dir / "zk");
    zk_url = zk->url("/mesoscaf");
    for (int i = 0; i < 2; ++i) {
      auto name = "master" + std::to_string(i);
      masters.push_back(std::make_unique<child_process>(
        std::vector<std::string>{bin, "master", "--port=0", "--http-port=0", "--work-dir=" + dir / name,
                                 "--zk=" + zk_url, "--zk-session-timeout=2s"},
        dir / (name + ".log")));
      REQUIRE(masters.back()->wait_for_line("master (elected leader at|standing by)", seconds(60)));
    }
    agent = std::make_unique<child_process>(
      std::vector<std::string>{bin, "agent", "--master=" + zk_url, "--zk-session-timeout=2s", "--port=0",
                               "--http-port=0", "--work-dir=" + dir / "agent", "--resources=cpus:2;mem:1024"},
      dir / "agent.log");
    REQUIRE(agent->wait_for_line("agent registered with id", seconds(60)));
  }

  /// The index of the master that leads now (its log says so and it still runs).
  std::optional<size_t> leader() {
    for (size_t i = 0; i < masters.size(); ++i)
      if (masters[i]->running() && mentions(masters[i]->output(), "master elected leader at"))
        return i;
    return std::nullopt;
  }
};

} // namespace

FIXTURE_SCOPE(v1_scheduler_ha_tests, ha_fixture)

TEST(a standby sends the operator writes on agents to the leader) {
  auto lead = leader();
  REQUIRE(lead);
  auto http_of = [&](size_t i) {
    auto m = masters[i]->wait_for_line("master http listening on (127\\.0\\.0\\.1:[0-9]+)", seconds(30));
    REQUIRE(m);
    return std::string{(*m)[1]};
  };
  auto leader_http = http_of(*lead);
  auto standby_http = http_of(1 - *lead);
  for (std::string body : {R"({"type": "MARK_AGENT_GONE", "mark_agent_gone": {"agent_id": {"value": "a1"}}})",
                           R"({"type": "RESERVE_RESOURCES", "reserve_resources": {"agent_id": {"value": "a1"},
                               "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 1},
                                              "role": "eng", "reservation": {}}]}})"}) {
    auto r = http_request("POST", standby_http, "/api/v1", body, "application/json");
    CHECK_EQUAL(r.status, 307);
    CHECK_EQUAL(r.headers["location"], "//" + leader_http + "/api/v1");
  }
  // The leader itself answers (the agent ID is unknown there).
  CHECK_EQUAL(http_request("POST", leader_http, "/api/v1",
                           R"({"type": "MARK_AGENT_GONE", "mark_agent_gone": {"agent_id": {"value": "a1"}}})",
                           "application/json").status,
              404);
}

TEST(mesos-go finds the leader through zookeeper and its scheduler survives a leader kill) {
  auto first = leader();
  REQUIRE(first);
  child_process go({go_ha_scheduler, "--zk=" + zk_url}, dir / "go-ha.log");
  auto subscribed = go.wait_for_line("subscribed ([-0-9a-f]+)", seconds(90));
  REQUIRE(subscribed);
  std::string fid = (*subscribed)[1];
  if (!go.wait_for_line("\\nrunning\\n", seconds(90)))
    CAF_FAIL("the task did not run: " << go.output());
  masters[*first]->signal(SIGKILL);
  masters[*first]->wait_exit(seconds(20));
  // The other master takes over; the detector names it, the scheduler subscribes there with its framework ID,
  // finds its task still running, kills it and tears down.
  auto code = go.wait_exit(seconds(180));
  MESSAGE(go.output());
  REQUIRE(code);
  CHECK_EQUAL(*code, 0);
  CHECK(mentions(go.output(), "resubscribed " + fid));
  CHECK(mentions(go.output(), "reconciled running"));
  CHECK(mentions(go.output(), "update ha-task TASK_KILLED"));
  auto now = leader();
  REQUIRE(now);
  CHECK_NOT_EQUAL(*now, *first);
}

FIXTURE_SCOPE_END()
