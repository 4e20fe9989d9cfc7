#define CAF_SUITE messages_mesos_v1
#include "test.hpp"

#include "messages/mesos_v1/convert.hpp"
#include "messages/mesos_v1/recordio.hpp"
#include "messages/mesos_v1/master.pb.h"
#include "messages/mesos_v1/scheduler.pb.h"
#include "messages/mesos_v1/wire_codec.hpp"

#include <nlohmann/json.hpp>

#include <limits>

// The tests set FrameworkInfo.role, deprecated in Mesos' schema, on purpose: older frameworks still send it.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

using namespace mesoscaf;
using namespace mesoscaf::mesos_v1;
using json = nlohmann::json;
namespace sched = ::mesos::v1::scheduler;

namespace {

bool mentions(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

std::string decode_call(const std::string& body, sched::Call& call) {
  return decode(codec::json, body, call);
}

} // namespace

TEST(json uses proto field names enum names numbers for 64 bit integers and base64 for bytes) {
  sched::Event e;
  e.set_type(sched::Event::UPDATE);
  auto* s = e.mutable_update()->mutable_status();
  s->mutable_task_id()->set_value("t1");
  s->set_state(::mesos::v1::TASK_RUNNING);
  s->set_uuid(std::string("\x00\x01\xfe\xff", 4));
  auto j = json::parse(to_json(e));
  CHECK_EQUAL(j["type"], "UPDATE");
  CHECK_EQUAL(j["update"]["status"]["task_id"]["value"], "t1");
  CHECK_EQUAL(j["update"]["status"]["state"], "TASK_RUNNING");
  CHECK_EQUAL(j["update"]["status"]["uuid"], "AAH+/w==");
  ::mesos::v1::Offer o;
  auto* r = o.add_resources();
  r->set_name("ports");
  r->set_type(::mesos::v1::Value::RANGES);
  auto* range = r->mutable_ranges()->add_range();
  range->set_begin(31000);
  range->set_end(uint64_t{1} << 40);
  j = json::parse(to_json(o));
  auto& out = j["resources"][0]["ranges"]["range"][0];
  CHECK(out["begin"].is_number_unsigned());
  CHECK_EQUAL(out["end"].get<uint64_t>(), uint64_t{1} << 40);
  // A deprecated default (Resource.role "*") is not written; an explicit one (Filters.refuse_seconds) is.
  CHECK(!j["resources"][0].contains("role"));
  ::mesos::v1::Filters f;
  auto fj = json::parse(to_json(f));
  CHECK_EQUAL(fj["refuse_seconds"].get<double>(), 5.0);
}

TEST(json stays valid with invalid utf8 and numbers json cannot hold) {
  ::mesos::v1::TaskStatus s;
  s.mutable_task_id()->set_value("t");
  s.set_state(::mesos::v1::TASK_FAILED);
  s.set_message(std::string("bad \xff byte \xc3\xa9", 13));
  s.set_timestamp(std::numeric_limits<double>::quiet_NaN());
  auto j = json::parse(to_json(s), nullptr, false);
  REQUIRE(!j.is_discarded());
  CHECK_EQUAL(j["message"], "bad \xef\xbf\xbd byte \xc3\xa9");
  CHECK(j["timestamp"].is_null());
}

TEST(json calls are read as mesos reads them) {
  sched::Call call;
  // Unknown keys ignored, null as unset, a number as a string, a bool as a string.
  auto err = decode_call(R"({"type": "DECLINE", "framework_id": {"value": "f"}, "future_field": [1, 2],
                              "decline": {"offer_ids": null, "filters": {"refuse_seconds": "2.5"}},
                              "kill": null})",
                         call);
  CHECK_EQUAL(err, "");
  CHECK_EQUAL(call.type(), sched::Call::DECLINE);
  CHECK_EQUAL(call.decline().offer_ids_size(), 0);
  CHECK_EQUAL(call.decline().filters().refuse_seconds(), 2.5);
  CHECK(!call.has_kill());
  // An optional enum with a name we do not know stays unset: the call type is then UNKNOWN.
  CHECK_EQUAL(decode_call(R"({"type": "TELEPORT"})", call), "");
  CHECK(!call.has_type());
  // A required enum with an unknown name is an error, as is a missing required field.
  err = decode_call(R"({"type": "KILL", "kill": {"task_id": {"value": "t"}}, "subscribe": {"framework_info":
                       {"user": "u", "name": "n", "capabilities": [{"type": "MULTI_ROLE"}]}},
                       "accept": {"operations": [{"type": "LAUNCH", "launch": {"task_infos": [
                        {"name": "x", "task_id": {"value": "t"}, "agent_id": {"value": "a"},
                         "resources": [{"name": "cpus", "type": "QUBITS"}]}]}}]}})",
                    call);
  CHECK(mentions(err, "accept.operations[0].launch.task_infos[0].resources[0].type: unknown value 'QUBITS'"));
  err = decode_call(R"({"type": "KILL", "kill": {"agent_id": {"value": "a"}}})", call);
  CHECK(mentions(err, "missing required fields"));
  CHECK(mentions(err, "kill.task_id"));
}

TEST(json with values of the wrong type is refused with the path) {
  sched::Call call;
  CHECK(mentions(decode_call(R"({"type": 3})", call), "type: expected an enum name"));
  CHECK(mentions(decode_call(R"({"type": "KILL", "kill": {"task_id": {"value": 7}}})", call),
                 "kill.task_id.value: expected a string"));
  CHECK(mentions(decode_call(R"({"type": "DECLINE", "decline": {"offer_ids": {"value": "o"}}})", call),
                 "decline.offer_ids: expected an array"));
  CHECK(mentions(decode_call(R"({"type": "ACKNOWLEDGE", "acknowledge": {"agent_id": {"value": "a"},
                  "task_id": {"value": "t"}, "uuid": "not base64!"}})", call), "acknowledge.uuid: expected base64"));
  CHECK(mentions(decode_call(R"([1, 2])", call), "the body: expected an object"));
  CHECK(mentions(decode_call(R"({"type": "SUBS)", call), "not JSON"));
  ::mesos::v1::Value v;
  CHECK(mentions(decode(codec::json, R"({"type": "RANGES", "ranges": {"range": [{"begin": -1, "end": 2}]}})", v),
                 "ranges.range[0].begin: expected an unsigned 64-bit integer"));
  CHECK(mentions(decode(codec::json, R"({"type": "RANGES", "ranges": {"range": [{"begin": "18446744073709551616",
                  "end": 2}]}})", v), "begin: expected an unsigned 64-bit integer"));
}

TEST(protobuf bodies are checked for shape and required fields) {
  sched::Call call;
  call.set_type(sched::Call::KILL);
  call.mutable_kill()->mutable_agent_id()->set_value("a");   // task_id missing
  auto partial = call.SerializePartialAsString();
  CHECK(mentions(decode(codec::protobuf, partial, call), "kill.task_id"));
  CHECK(mentions(decode(codec::protobuf, "\xff\xff\xff garbage", call), "not a protobuf"));
  sched::Call good;
  good.set_type(sched::Call::REVIVE);
  good.mutable_framework_id()->set_value("f");
  CHECK_EQUAL(decode(codec::protobuf, encode(codec::protobuf, good), call), "");
  CHECK_EQUAL(call.framework_id().value(), "f");
}

TEST(content types name the codec) {
  CHECK(codec_of("application/json") == codec::json);
  CHECK(codec_of("application/json; charset=utf-8") == codec::json);
  CHECK(codec_of("application/x-protobuf") == codec::protobuf);
  CHECK(!codec_of("text/plain"));
  CHECK(!codec_of("application/recordio"));
}

TEST(base64 round trips and refuses other text) {
  std::string bytes("\x00\x10\x83\x10\x51\x87\x20\x92\x8b\x30\xd3\x8f", 12);
  auto text = base64_encode(bytes);
  auto back = base64_decode(text);
  REQUIRE(back);
  CHECK_EQUAL(*back, bytes);
  auto unpadded = base64_decode("YWI");
  REQUIRE(unpadded);
  CHECK_EQUAL(*unpadded, "ab");
  CHECK(!base64_decode("a"));
  CHECK(!base64_decode("ab c"));
}

TEST(recordio frames and reads records across any chunking) {
  auto stream = recordio_frame("{\"type\":\"HEARTBEAT\"}") + recordio_frame("") + recordio_frame("xyz");
  CHECK_EQUAL(stream.substr(0, 3), "20\n");
  recordio_reader reader;
  std::vector<std::string> records;
  for (char c : stream)
    REQUIRE(reader.feed(std::string_view{&c, 1}, records));
  REQUIRE_EQUAL(records.size(), 3u);
  CHECK_EQUAL(records[0], "{\"type\":\"HEARTBEAT\"}");
  CHECK_EQUAL(records[1], "");
  CHECK_EQUAL(records[2], "xyz");
  CHECK_EQUAL(reader.pending(), 0u);
}

TEST(recordio takes no more records than asked for) {
  std::string many;
  for (int i = 0; i < 1000; ++i)
    many += recordio_frame("x");
  recordio_reader reader;
  std::vector<std::string> records;
  REQUIRE(reader.feed(many, records, 2));
  CHECK_EQUAL(records.size(), 2u);
  CHECK_EQUAL(reader.pending(), many.size() - 2 * 3);
}

TEST(recordio refuses huge and non numeric lengths) {
  std::vector<std::string> records;
  recordio_reader huge;
  CHECK(!huge.feed("9223372036854775808\n{}", records));
  CHECK(mentions(huge.error(), "larger than the limit"));
  CHECK(!huge.feed("2\n{}", records));   // stays failed
  recordio_reader overflow;
  CHECK(!overflow.feed("99999999999999999999\n", records));
  recordio_reader text;
  CHECK(!text.feed("1e3\n", records));
  CHECK(mentions(text.error(), "not a decimal number"));
  recordio_reader endless;
  CHECK(!endless.feed(std::string(30, '7'), records));
  CHECK(records.empty());
}

TEST(framework info takes role or roles as mesos does) {
  ::mesos::v1::FrameworkInfo in;
  in.set_user("u");
  in.set_name("n");
  framework_info out;
  CHECK_EQUAL(from_v1(in, out), "");
  REQUIRE_EQUAL(out.roles.size(), 1u);
  CHECK_EQUAL(out.roles[0], "*");
  in.set_role("web");
  CHECK_EQUAL(from_v1(in, out), "");
  CHECK_EQUAL(out.roles[0], "web");
  in.add_roles("a");
  CHECK(mentions(from_v1(in, out), "needs the MULTI_ROLE capability"));
  in.add_capabilities()->set_type(::mesos::v1::FrameworkInfo::Capability::MULTI_ROLE);
  CHECK(mentions(from_v1(in, out), "'role' cannot be used"));
  in.clear_role();
  in.add_roles("b");
  in.mutable_id()->set_value("fw-1");
  in.set_failover_timeout(30);
  CHECK_EQUAL(from_v1(in, out), "");
  CHECK_EQUAL(out.roles.size(), 2u);
  CHECK_EQUAL(out.id.value, "fw-1");
  CHECK_EQUAL(out.failover_timeout, 30.0);
  CHECK_EQUAL(out.capabilities.size(), 1u);
  in.set_failover_timeout(-1);
  CHECK(mentions(from_v1(in, out), "failover_timeout"));
}

TEST(resources read both reservation forms and refuse what we cannot represent) {
  ::mesos::v1::Offer::Operation op;
  auto err = decode(codec::json, R"({"type": "RESERVE", "reserve": {"resources": [
      {"name": "cpus", "type": "SCALAR", "scalar": {"value": 1.5}, "reservations": [{"type": "DYNAMIC", "role": "web"}]},
      {"name": "mem", "type": "SCALAR", "scalar": {"value": 64}, "role": "web", "reservation": {}},
      {"name": "ports", "type": "RANGES", "ranges": {"range": [{"begin": 31000, "end": 31009}]}, "role": "web"}]}})",
                    op);
  REQUIRE_EQUAL(err, "");
  offer_operation out;
  REQUIRE_EQUAL(from_v1(op, out), "");
  CHECK(out.type == operation_type::reserve);
  auto* cpus = out.resources.find("cpus", "web");
  REQUIRE(cpus != nullptr);
  CHECK(cpus->dynamic);
  CHECK_EQUAL(cpus->scalar, 1500);
  auto* mem = out.resources.find("mem", "web");
  REQUIRE(mem != nullptr);
  CHECK(mem->dynamic);
  auto* ports = out.resources.find("ports", "web");
  REQUIRE(ports != nullptr);
  CHECK(!ports->dynamic);
  auto bad = [&](const std::string& resource_json, const std::string& why) {
    ::mesos::v1::Offer::Operation o;
    auto text = R"({"type": "UNRESERVE", "unreserve": {"resources": [)" + resource_json + "]}}";
    REQUIRE_EQUAL(decode(codec::json, text, o), "");
    offer_operation x;
    auto e = from_v1(o, x);
    if (!mentions(e, why))
      CAF_FAIL("for " << resource_json << " expected '" << why << "', got '" << e << "'");
  };
  bad(R"({"name": "cpus", "type": "SCALAR", "scalar": {"value": -1}})", "not a finite non-negative number");
  bad(R"({"name": "cpus", "type": "SCALAR", "scalar": {"value": "Infinity"}})", "not a finite");
  bad(R"({"name": "cpus", "type": "SCALAR"})", "without a scalar");
  bad(R"({"name": "cpus", "type": "TEXT"})", "is not a resource type");
  bad(R"({"name": "ports", "type": "RANGES", "ranges": {"range": [{"begin": 5, "end": 2}]}})", "inverted");
  bad(R"({"name": "cpus", "type": "SCALAR", "scalar": {"value": 1}, "revocable": {}})", "revocable");
  bad(R"({"name": "cpus", "type": "SCALAR", "scalar": {"value": 1}, "reservations": [{"role": "a", "type": "STATIC"}, {"role": "a/b", "type": "DYNAMIC"}]})",
      "refinement");
  bad(R"({"name": "cpus", "type": "SCALAR", "scalar": {"value": 1}, "reservations": [{"role": "a"}]})",
      "needs its type");
  bad(R"({"name": "cpus", "type": "SCALAR", "scalar": {"value": 1}, "reservations": [{"role": "a", "type": "DYNAMIC",
      "labels": {"labels": [{"key": "owner", "value": "me"}]}}]})", "labels are not supported");
  bad(R"({"name": "disk", "type": "SCALAR", "scalar": {"value": 1}, "disk": {"volume": {"container_path": "x",
      "mode": "RW"}}})", "without persistence");
  bad(R"({"name": "cpus", "type": "SCALAR", "scalar": {"value": 1}, "reservations": [{"type": "STATIC"}]})",
      "needs a role");
  bad(R"({"name": "cpus", "type": "RANGES", "ranges": {"range": [{"begin": 1, "end": 2}]}})", "cpus");
}

TEST(a launch reads commands of both forms health checks and kill policies) {
  ::mesos::v1::Offer::Operation op;
  auto err = decode(codec::json, R"({"type": "LAUNCH", "launch": {"task_infos": [
      {"name": "a", "task_id": {"value": "t1"}, "agent_id": {"value": "ag"},
       "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}, "allocation_info": {"role": "*"}}],
       "command": {"value": "echo hi", "environment": {"variables": [{"name": "K", "value": "V"}]},
                   "uris": [{"value": "http://x/y.tgz"}]},
       "kill_policy": {"grace_period": {"nanoseconds": 2500000000}},
       "health_check": {"type": "TCP", "tcp": {"port": 8080}, "interval_seconds": 3},
       "data": "aGk=", "labels": {"labels": [{"key": "k", "value": "v"}]}},
      {"name": "b", "task_id": {"value": "t2"}, "agent_id": {"value": "ag"},
       "command": {"shell": false, "value": "/bin/echo", "arguments": ["echo", "x"]}}]}})",
                    op);
  REQUIRE_EQUAL(err, "");
  offer_operation out;
  REQUIRE_EQUAL(from_v1(op, out), "");
  REQUIRE_EQUAL(out.tasks.size(), 2u);
  auto& a = out.tasks[0];
  CHECK_EQUAL(a.id.value, "t1");
  CHECK_EQUAL(a.agent.value, "ag");
  REQUIRE(a.command);
  CHECK(a.command->shell);
  CHECK_EQUAL(a.command->environment["K"], "V");
  REQUIRE_EQUAL(a.command->uris.size(), 1u);
  CHECK(a.command->uris[0].extract);   // Mesos' default
  REQUIRE(a.kill_policy);
  CHECK_EQUAL(a.kill_policy->grace_period, 2.5);
  REQUIRE(a.health_check);
  CHECK(a.health_check->type == health_check::kind::tcp);
  CHECK_EQUAL(a.health_check->port, 8080);
  CHECK_EQUAL(a.health_check->interval, 3.0);
  CHECK_EQUAL(a.health_check->delay, 15.0);
  CHECK_EQUAL(a.data, "hi");
  CHECK_EQUAL(a.labels.size(), 1u);
  auto& b = out.tasks[1];
  REQUIRE(b.command);
  CHECK(!b.command->shell);
  CHECK_EQUAL(b.command->arguments.size(), 2u);
  // Refused: a secret, a negative grace period, a health check port out of range, an unsupported operation.
  auto refused = [&](const std::string& task_json, const std::string& why) {
    ::mesos::v1::Offer::Operation o;
    REQUIRE_EQUAL(decode(codec::json, R"({"type": "LAUNCH", "launch": {"task_infos": [)" + task_json + "]}}", o), "");
    offer_operation x;
    auto e = from_v1(o, x);
    if (!mentions(e, why))
      CAF_FAIL("expected '" << why << "', got '" << e << "'");
  };
  const std::string head = R"({"name": "c", "task_id": {"value": "t3"}, "agent_id": {"value": "ag"}, )";
  refused(head + R"("command": {"value": "x", "environment": {"variables": [{"name": "S", "type": "SECRET"}]}}})",
          "secret");
  refused(head + R"("command": {"value": "x"}, "kill_policy": {"grace_period": {"nanoseconds": -1}}})", "negative");
  refused(head + R"("command": {"value": "x"}, "health_check": {"type": "HTTP", "http": {"port": 70000}}})",
          "not a port");
  refused(head + R"("command": {"value": "x"}, "container": {"type": "DOCKER", "docker": {"image": "nginx"}}})",
          "Docker containers are not supported");
  refused(head + R"("command": {"value": "x"}, "container": {"type": "MESOS", "mesos": {"image": {"type": "DOCKER"}}}})",
          "images are not supported");
  refused(head + R"("executor": {"executor_id": {"value": "e"}, "data": "eA=="}})", "executor.data");
  ::mesos::v1::Offer::Operation grow;
  grow.set_type(::mesos::v1::Offer::Operation::GROW_VOLUME);
  offer_operation x;
  CHECK(mentions(from_v1(grow, x), "GROW_VOLUME is not supported"));
}

TEST(offers show allocation roles only to multi role frameworks) {
  offer o;
  o.id = offer_id{"o1"};
  o.framework = framework_id{"f1"};
  o.agent = agent_id{"a1"};
  o.hostname = "h";
  o.role = "web";
  o.agent_address = "10.0.0.2";
  o.agent_http_port = 5051;
  o.attributes = {{"rack", "r1"}, {"slots", "[1-8]"}, {"gpus", "4"}};
  o.resources = *resource_set::parse("cpus:2;mem(web,dynamic):64;ports:[31000-31001]");
  ::mesos::v1::Offer multi;
  to_v1(o, {true, true}, &multi);
  CHECK_EQUAL(multi.allocation_info().role(), "web");
  REQUIRE_EQUAL(multi.resources_size(), 3);
  for (const auto& r : multi.resources())
    CHECK_EQUAL(r.allocation_info().role(), "web");
  auto mem = std::find_if(multi.resources().begin(), multi.resources().end(), [](auto& r) { return r.name() == "mem"; });
  REQUIRE(mem != multi.resources().end());
  REQUIRE_EQUAL(mem->reservations_size(), 1);
  CHECK_EQUAL(mem->reservations(0).role(), "web");
  CHECK_EQUAL(mem->reservations(0).type(), ::mesos::v1::Resource::ReservationInfo::DYNAMIC);
  CHECK_EQUAL(multi.url().address().port(), 5051);
  CHECK_EQUAL(multi.attributes_size(), 3);
  ::mesos::v1::Offer single;
  to_v1(o, {false, false}, &single);
  CHECK(!single.has_allocation_info());
  auto mem1 = std::find_if(single.resources().begin(), single.resources().end(), [](auto& r) { return r.name() == "mem"; });
  REQUIRE(mem1 != single.resources().end());
  CHECK(!mem1->has_allocation_info());
  CHECK_EQUAL(mem1->reservations_size(), 0);
  CHECK(mem1->has_reservation());
  // The offer's resources read back as what was offered.
  resource_set back;
  REQUIRE_EQUAL(from_v1(single.resources(), back), "");
  CHECK_EQUAL(back, o.resources);
  resource_set back_multi;
  REQUIRE_EQUAL(from_v1(multi.resources(), back_multi), "");
  CHECK_EQUAL(back_multi, o.resources);
  auto j = json::parse(to_json(single));
  CHECK_EQUAL(j["attributes"][0]["name"], "gpus");
  CHECK_EQUAL(j["attributes"][0]["type"], "SCALAR");
}

TEST(status updates carry state reason source and a uuid of sixteen bytes) {
  task_status s;
  s.task = task_id{"t"};
  s.state = task_state::failed;
  s.reason = task_reason::container_limitation_memory;
  s.source = status_source::executor;
  s.message = "oom";
  s.uuid = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
  s.agent = agent_id{"a"};
  s.healthy = false;
  ::mesos::v1::TaskStatus out;
  to_v1(s, &out);
  CHECK_EQUAL(out.state(), ::mesos::v1::TASK_FAILED);
  CHECK_EQUAL(out.reason(), ::mesos::v1::TaskStatus::REASON_CONTAINER_LIMITATION_MEMORY);
  CHECK_EQUAL(out.source(), ::mesos::v1::TaskStatus::SOURCE_EXECUTOR);
  CHECK_EQUAL(out.uuid().size(), 16u);
  CHECK_EQUAL(uuid_from_wire(out.uuid()), s.uuid);
  CHECK(out.has_healthy());
  CHECK(!out.healthy());
  s.state = task_state::killing;
  s.reason = task_reason::none;
  s.uuid.clear();
  ::mesos::v1::TaskStatus killing;
  to_v1(s, &killing);
  CHECK_EQUAL(killing.state(), ::mesos::v1::TASK_KILLING);
  CHECK(!killing.has_reason());
  CHECK(!killing.has_uuid());
  CHECK_EQUAL(uuid_to_wire("not-a-uuid"), "not-a-uuid");
}

TEST(an executor is given its task as it was launched and its own updates are checked) {
  // A task converted for a custom executor (LAUNCH) reads back as the same task.
  ::mesos::v1::TaskInfo in;
  REQUIRE_EQUAL(decode(codec::json, R"({"name": "a", "task_id": {"value": "t1"}, "agent_id": {"value": "ag"},
       "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.5}}],
       "executor": {"executor_id": {"value": "e1"}, "type": "CUSTOM",
                    "command": {"shell": false, "value": "/bin/exec", "arguments": ["exec", "-v"],
                                "uris": [{"value": "http://x/e.tgz", "cache": true}]}},
       "kill_policy": {"grace_period": {"nanoseconds": 2500000000}},
       "health_check": {"type": "HTTP", "http": {"port": 8080, "path": "/ok"}},
       "data": "aGk=", "labels": {"labels": [{"key": "k", "value": "v"}]}})", in), "");
  task_info ours;
  REQUIRE_EQUAL(from_v1(in, ours), "");
  ours.role = "web";
  ::mesos::v1::TaskInfo out;
  to_v1(ours, resource_format{true, false}, &out);
  CHECK_EQUAL(out.task_id().value(), "t1");
  CHECK_EQUAL(out.data(), "hi");
  CHECK_EQUAL(out.resources(0).allocation_info().role(), "web");
  CHECK_EQUAL(out.executor().command().arguments_size(), 2);
  CHECK(!out.executor().command().shell());
  CHECK(out.executor().command().uris(0).cache());
  CHECK_EQUAL(out.kill_policy().grace_period().nanoseconds(), 2500000000);
  CHECK_EQUAL(out.health_check().http().path(), "/ok");
  task_info again;
  REQUIRE_EQUAL(from_v1(out, again), "");
  CHECK_EQUAL(again.id, ours.id);
  CHECK_EQUAL(again.data, ours.data);
  CHECK_EQUAL(again.resources, ours.resources);
  REQUIRE(again.executor);
  CHECK_EQUAL(again.executor->command.arguments, ours.executor->command.arguments);
  REQUIRE(again.health_check);
  CHECK_EQUAL(again.health_check->port, 8080);

  // An executor's UPDATE: its uuid of 16 bytes becomes our text form; the status is the executor's.
  executor_id eid{"e1"};
  auto status = [](const std::string& j) {
    ::mesos::v1::TaskStatus s;
    if (auto err = decode(codec::json, j, s); !err.empty())
      CAF_FAIL("undecodable status: " << err);
    return s;
  };
  task_status st;
  REQUIRE_EQUAL(from_v1(status(R"({"task_id": {"value": "t1"}, "state": "TASK_RUNNING", "message": "up",
                                   "uuid": "EREREREREREREREREREREQ==", "healthy": true})"),
                        eid, st),
                "");
  CHECK_EQUAL(st.uuid, "11111111-1111-1111-1111-111111111111");
  CHECK(st.state == task_state::running);
  CHECK(st.source == status_source::executor);
  CHECK_EQUAL(st.executor, eid);
  CHECK(st.timestamp > 0);
  REQUIRE(st.healthy);
  CHECK(*st.healthy);
  auto refused = [&](const std::string& j, const std::string& why) {
    task_status x;
    auto e = from_v1(status(j), eid, x);
    if (!mentions(e, why))
      CAF_FAIL("expected '" << why << "', got '" << e << "'");
  };
  refused(R"({"task_id": {"value": "t1"}, "state": "TASK_RUNNING"})", "16-byte UUID");
  refused(R"({"task_id": {"value": "t1"}, "state": "TASK_RUNNING", "uuid": "AAA="})", "16-byte UUID");
  refused(R"({"task_id": {"value": ""}, "state": "TASK_RUNNING", "uuid": "EREREREREREREREREREREQ=="})", "empty");
  refused(R"({"task_id": {"value": "t1"}, "state": "TASK_STAGING", "uuid": "EREREREREREREREREREREQ=="})",
          "not a state an executor reports");
  refused(R"({"task_id": {"value": "t1"}, "state": "TASK_UNREACHABLE", "uuid": "EREREREREREREREREREREQ=="})",
          "not a state an executor reports");
  refused(R"({"task_id": {"value": "t1"}, "state": "TASK_RUNNING", "executor_id": {"value": "e2"},
              "uuid": "EREREREREREREREREREREQ=="})",
          "not this executor");
}

TEST(json maps are objects keyed by name both ways) {
  ::mesos::v1::master::Call call;
  REQUIRE_EQUAL(decode(codec::json, R"({"type": "UPDATE_QUOTA", "update_quota": {"quota_configs": [
      {"role": "dev", "guarantees": {"cpus": {"value": 1.5}}, "limits": {"cpus": {"value": 2}, "mem": {"value": 64}}}]}})",
                       call),
                "");
  REQUIRE_EQUAL(call.update_quota().quota_configs_size(), 1);
  const auto& c = call.update_quota().quota_configs(0);
  CHECK_EQUAL(c.guarantees().at("cpus").value(), 1.5);
  CHECK_EQUAL(c.limits().size(), 2u);
  auto j = json::parse(to_json(call));
  CHECK_EQUAL(j["update_quota"]["quota_configs"][0]["limits"]["mem"]["value"], 64.0);
  // A map given as anything but an object, or with a value of the wrong shape, is refused with its path.
  ::mesos::v1::master::Call bad;
  CHECK(mentions(decode(codec::json, R"({"type": "UPDATE_QUOTA", "update_quota": {"quota_configs": [
      {"role": "dev", "limits": [1, 2]}]}})", bad), "limits: expected an object"));
  CHECK(mentions(decode(codec::json, R"({"type": "UPDATE_QUOTA", "update_quota": {"quota_configs": [
      {"role": "dev", "limits": {"cpus": 3}}]}})", bad), "limits.cpus: expected an object"));
}
