// Integration: Mesos' v1 operator API (POST /api/v1) of a real master process, with a real agent and a task of
// `mesoscaf execute` running. A client nobody on this project wrote the library of (a Go program on Debian's
// mesos-go) reads the state with each codec; the calls, writes and bad input are checked from here.
#define CAF_SUITE integration_v1_operator_api
#include "test.hpp"

#include "child_process.hpp"
#include "http_test_client.hpp"
#include "process_scan.hpp"
#include "v1_daemons.hpp"
#include "v1_event_reader.hpp"

#include "messages/mesos_v1/master.pb.h"
#include "messages/mesos_v1/wire_codec.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <map>
#include <csignal>
#include <memory>
#include <string>
#include <vector>

using namespace mesoscaf;
using namespace mesoscaf::test;
using namespace std::chrono;
using json = nlohmann::json;
namespace v1 = mesoscaf::mesos_v1;
using Call = ::mesos::v1::master::Call;
using Response = ::mesos::v1::master::Response;
using Event = ::mesos::v1::master::Event;

namespace {

const std::string bin = MESOSCAF_BINARY;
const std::string go_operator = std::string{MESOSCAF_V1_CLIENTS_DIR} + "/operator";
const std::string go_agent_operator = std::string{MESOSCAF_V1_CLIENTS_DIR} + "/agent_operator";
const std::string npm_operator = std::string{MESOSCAF_V1_CLIENTS_DIR} + "/npm_operator/follow.js";

bool mentions(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

struct fixture : v1_daemons {
  std::unique_ptr<child_process> task;
  std::string task_id, framework_id;

  fixture() : v1_daemons("mesoscaf-v1-operator") {
    start(bin, "cpus:2;mem:1024;disk:1000;ports:[31000-31100]");
    task = std::make_unique<child_process>(
      std::vector<std::string>{bin, "execute", "--master=" + master_addr, "--name=op-task", "--command=sleep 300",
                               "--resources=cpus:0.5;mem:64"},
      dir / "execute.log");
    bool running = eventually(
      [&] {
        auto r = call(R"({"type": "GET_TASKS"})");
        if (r.get_tasks().tasks_size() != 1 || r.get_tasks().tasks(0).state() != ::mesos::v1::TASK_RUNNING)
          return false;
        task_id = r.get_tasks().tasks(0).task_id().value();
        framework_id = r.get_tasks().tasks(0).framework_id().value();
        return true;
      },
      seconds(60));
    REQUIRE(running);
  }

  /// Runs a short task through `mesoscaf execute`; `client` (following SUBSCRIBE, printing one line per event)
  /// must see its framework come and go and the task added, running and finished, in order.
  void check_task_life(child_process& client, const std::string& name) {
    run_result run = run_to_completion({bin, "execute", "--master=" + master_addr, "--name=" + name,
                                        "--command=sleep 1", "--resources=cpus:0.1;mem:32"},
                                       dir / ("execute-" + name + ".log"), seconds(120));
    CHECK_EQUAL(run.exit_code, 0);
    CHECK(client.wait_for_line("event FRAMEWORK_ADDED mesoscaf-execute", seconds(30)));
    auto added = client.wait_for_line("event TASK_ADDED (" + name + "-[0-9a-f-]+)", seconds(30));
    REQUIRE(added);
    std::string tid = (*added)[1];
    CHECK(client.wait_for_line("event TASK_UPDATED " + tid + " TASK_RUNNING", seconds(30)));
    CHECK(client.wait_for_line("event TASK_UPDATED " + tid + " TASK_FINISHED", seconds(30)));
    CHECK(client.wait_for_line("event FRAMEWORK_REMOVED", seconds(30)));
    MESSAGE(client.output());
    client.signal(SIGTERM);
  }

  http_reply post(const std::string& body, const std::string& type = "application/json",
                  const std::map<std::string, std::string>& headers = {}) {
    return http_request("POST", master_http, "/api/v1", body, type, seconds(15), headers);
  }

  std::string the_agent_id() {
    auto r = call(R"({"type": "GET_AGENTS"})");
    REQUIRE_EQUAL(r.get_agents().agents_size(), 1);
    return r.get_agents().agents(0).agent_info().id().value();
  }

  /// The master's /state: what the agent has reserved to `role`, per resource name ("{}" if nothing).
  json reserved(const std::string& role) {
    auto st = json::parse(http_get(master_http, "/state").body, nullptr, false);
    if (st.is_discarded() || st["slaves"].empty())
      return json::object();
    auto r = st["slaves"][0]["reserved_resources"];
    return r.contains(role) ? r[role] : json::object();
  }

  /// mesos-go's operator client doing one operation; returns its exit code and output.
  std::pair<int, std::string> go_operation(const std::vector<std::string>& args, const std::string& log) {
    std::vector<std::string> argv{go_operator, "--url=http://" + master_http + "/api/v1", "--codec=protobuf"};
    argv.insert(argv.end(), args.begin(), args.end());
    child_process go(argv, dir / log);
    auto code = go.wait_exit(seconds(60));
    MESSAGE(go.output());
    return {code ? *code : -1, go.output()};
  }

  /// A JSON call answered 200 in protobuf (Accept), decoded.
  Response call(const std::string& json_call) {
    auto r = post(json_call, "application/json", {{"Accept", "application/x-protobuf"}});
    Response out;
    if (r.status != 200) {
      MESSAGE(json_call << " answered " << r.status << " " << r.body << r.error);
      return out;
    }
    if (r.headers["content-type"] != "application/x-protobuf")
      MESSAGE("content type " << r.headers["content-type"]);
    auto err = v1::decode(v1::codec::protobuf, r.body, out);
    if (!err.empty())
      MESSAGE("undecodable: " << err);
    return out;
  }
};

} // namespace

FIXTURE_SCOPE(v1_operator_api_tests, fixture)

TEST(a mesos-go operator client reads health version and state with each codec) {
  for (std::string codec : {"json", "protobuf"}) {
    child_process go({go_operator, "--url=http://" + master_http + "/api/v1", "--codec=" + codec},
                     dir / ("go-operator-" + codec + ".log"));
    auto code = go.wait_exit(seconds(60));
    MESSAGE(go.output());
    REQUIRE(code);
    CHECK_EQUAL(*code, 0);
    auto out = go.output();
    CHECK(mentions(out, "healthy true"));
    CHECK(mentions(out, "agents 1"));
    CHECK(mentions(out, "frameworks 1"));
    CHECK(mentions(out, "framework " + framework_id));
    CHECK(mentions(out, "task " + task_id + " TASK_RUNNING"));
  }
}

TEST(the state calls describe the agent the framework and the running task) {
  auto state = call(R"({"type": "GET_STATE"})");
  CHECK_EQUAL(state.type(), Response::GET_STATE);
  const auto& s = state.get_state();
  REQUIRE_EQUAL(s.get_agents().agents_size(), 1);
  const auto& agent = s.get_agents().agents(0);
  CHECK(agent.active());
  double cpus = 0, used = 0;
  for (const auto& r : agent.total_resources())
    if (r.name() == "cpus")
      cpus += r.scalar().value();
  for (const auto& r : agent.allocated_resources())
    if (r.name() == "cpus")
      used += r.scalar().value();
  CHECK_EQUAL(cpus, 2.0);
  CHECK_EQUAL(used, 0.5);
  REQUIRE_EQUAL(s.get_frameworks().frameworks_size(), 1);
  CHECK_EQUAL(s.get_frameworks().frameworks(0).framework_info().id().value(), framework_id);
  CHECK(s.get_frameworks().frameworks(0).connected());
  REQUIRE_EQUAL(s.get_tasks().tasks_size(), 1);
  const auto& t = s.get_tasks().tasks(0);
  CHECK_EQUAL(t.task_id().value(), task_id);
  CHECK_EQUAL(t.agent_id().value(), agent.agent_info().id().value());
  CHECK_EQUAL(t.name(), "op-task");
  REQUIRE_EQUAL(t.statuses_size(), 1);
  CHECK_EQUAL(t.statuses(0).state(), ::mesos::v1::TASK_RUNNING);
  // The same through the single calls.
  CHECK_EQUAL(call(R"({"type": "GET_AGENTS"})").get_agents().agents_size(), 1);
  CHECK_EQUAL(call(R"({"type": "GET_FRAMEWORKS"})").get_frameworks().frameworks_size(), 1);
  CHECK_EQUAL(call(R"({"type": "GET_TASKS"})").get_tasks().tasks_size(), 1);
  CHECK_EQUAL(call(R"({"type": "GET_EXECUTORS"})").type(), Response::GET_EXECUTORS);
  auto master_info = call(R"({"type": "GET_MASTER"})").get_master().master_info();
  CHECK_EQUAL(master_info.address().ip() + ":" + std::to_string(master_info.address().port()), master_http);
  auto metrics = call(R"({"type": "GET_METRICS", "get_metrics": {}})").get_metrics();
  bool running_metric = false;
  for (const auto& m : metrics.metrics())
    if (m.name() == "master/tasks_running")
      running_metric = m.value() == 1.0;
  CHECK(running_metric);
  CHECK(call(R"({"type": "GET_FLAGS"})").get_flags().flags_size() > 0);
  CHECK(call(R"({"type": "GET_HEALTH"})").get_health().healthy());
  CHECK_EQUAL(call(R"({"type": "GET_LOGGING_LEVEL"})").get_logging_level().level(), 0u);
  CHECK(!call(R"({"type": "GET_VERSION"})").get_version().version_info().version().empty());
  auto roles = call(R"({"type": "GET_ROLES"})").get_roles();
  REQUIRE(roles.roles_size() >= 1);
  CHECK_EQUAL(roles.roles(0).name(), "*");
  // JSON answers in JSON, as Mesos maps it.
  auto j = json::parse(post(R"({"type": "GET_TASKS"})").body, nullptr, false);
  REQUIRE(!j.is_discarded());
  CHECK_EQUAL(j["type"], "GET_TASKS");
  CHECK_EQUAL(j["get_tasks"]["tasks"][0]["state"], "TASK_RUNNING");
}

TEST(weights change and a framework is torn down through the operator api) {
  CHECK_EQUAL(post(R"({"type": "UPDATE_WEIGHTS", "update_weights": {"weight_infos": [{"role": "eng", "weight": 2.5}]}})").status,
              200);
  auto weights = call(R"({"type": "GET_WEIGHTS"})").get_weights();
  bool found = false;
  for (const auto& w : weights.weight_infos())
    if (w.role() == "eng")
      found = w.weight() == 2.5;
  CHECK(found);
  // Bad weights change nothing: all are checked before any is applied.
  auto bad = post(R"({"type": "UPDATE_WEIGHTS", "update_weights": {"weight_infos": [{"role": "eng", "weight": 9},
                  {"role": "ops", "weight": "NaN"}]}})");
  CHECK_EQUAL(bad.status, 400);
  CHECK_EQUAL(post(R"({"type": "UPDATE_WEIGHTS", "update_weights": {"weight_infos": [{"role": "../x", "weight": 1}]}})").status,
              400);
  CHECK_EQUAL(post(R"({"type": "UPDATE_WEIGHTS", "update_weights": {"weight_infos": [{"role": "eng", "weight": -1}]}})").status,
              400);
  auto after = call(R"({"type": "GET_WEIGHTS"})");
  bool unchanged = false;
  for (const auto& w : after.get_weights().weight_infos())
    if (w.role() == "eng")
      unchanged = w.weight() == 2.5;
  CHECK(unchanged);
  CHECK_EQUAL(post(R"({"type": "TEARDOWN", "teardown": {"framework_id": {"value": "no-such"}}})").status, 400);
  CHECK_EQUAL(post(R"({"type": "TEARDOWN", "teardown": {"framework_id": {"value": ")" + framework_id + R"("}}})").status,
              200);
  CHECK(eventually([&] { return call(R"({"type": "GET_FRAMEWORKS"})").get_frameworks().frameworks_size() == 0; },
                   seconds(30)));
  CHECK(task->wait_exit(seconds(60)));
}

TEST(bad input on the operator endpoint gets 4xx and changes nothing) {
  CHECK_EQUAL(http_request("GET", master_http, "/api/v1").status, 405);
  CHECK_EQUAL(post(R"({"type": "GET_STATE"})", "text/plain").status, 415);
  CHECK_EQUAL(post(R"({"type": "GET_STATE"})", "").status, 400);
  CHECK_EQUAL(post(R"({"type": "GET_STATE")").status, 400);
  CHECK_EQUAL(post(R"({"type": 9})").status, 400);
  CHECK_EQUAL(post(R"({"type": "GET_EVERYTHING"})").status, 400);
  CHECK_EQUAL(post(R"({"type": "TEARDOWN"})").status, 400);
  CHECK_EQUAL(post(R"({"type": "TEARDOWN", "teardown": {}})").status, 400);
  CHECK_EQUAL(post(R"({"type": "GET_STATE"})", "application/json", {{"Accept", "text/html"}}).status, 406);
  CHECK_EQUAL(post(std::string("\x08\xff\xff\xff\xff\xff", 6), "application/x-protobuf").status, 400);
  CHECK_EQUAL(post(std::string(2 << 20, '{')).status, 413);
  // Nothing changed: the task still runs under its framework.
  auto tasks = call(R"({"type": "GET_TASKS"})").get_tasks();
  REQUIRE_EQUAL(tasks.tasks_size(), 1);
  CHECK_EQUAL(tasks.tasks(0).state(), ::mesos::v1::TASK_RUNNING);
}

TEST(a mesos-go operator follows the subscribe stream through a framework and its task) {
  // Protobuf: Debian's mesos-go predates the operator HEARTBEAT event, which its JSON decoder refuses.
  child_process go({go_operator, "--url=http://" + master_http + "/api/v1", "--codec=protobuf", "--subscribe"},
                   dir / "go-operator-subscribe.log");
  REQUIRE(go.wait_for_line("event SUBSCRIBED tasks 1", seconds(60)));
  check_task_life(go, "sub-task");
}

TEST(subscribe streams recordio in the codec message accept names with agents joining and heartbeats) {
  v1_event_reader<Event> events;
  events.http = std::make_unique<http_stream>(
    master_http, "/api/v1", R"({"type": "SUBSCRIBE"})", "application/json",
    std::map<std::string, std::string>{{"Accept", "application/recordio"}, {"Message-Accept", "application/json"}});
  REQUIRE_EQUAL(events.http->status(), 200);
  CHECK_EQUAL(events.http->headers().at("content-type"), "application/recordio");
  CHECK_EQUAL(events.http->headers().at("message-content-type"), "application/json");
  auto subscribed = events.next();
  REQUIRE(subscribed);
  REQUIRE_EQUAL(subscribed->type(), Event::SUBSCRIBED);
  CHECK_EQUAL(subscribed->subscribed().heartbeat_interval_seconds(), 15.0);
  const auto& state = subscribed->subscribed().get_state();
  REQUIRE_EQUAL(state.get_tasks().tasks_size(), 1);
  CHECK_EQUAL(state.get_tasks().tasks(0).task_id().value(), task_id);
  CHECK_EQUAL(state.get_agents().agents_size(), 1);
  // A second agent joins: AGENT_ADDED with its resources.
  child_process second({bin, "agent", "--master=" + master_addr, "--port=0", "--http-port=0",
                        "--work-dir=" + dir / "agent2", "--resources=cpus:3;mem:512"},
                       dir / "agent2.log");
  auto registered = second.wait_for_line("agent registered with id ([^ \\n]+)", seconds(60));
  REQUIRE(registered);
  auto added = events.next_of(Event::AGENT_ADDED, seconds(30));
  REQUIRE(added);
  CHECK_EQUAL(added->agent_added().agent().agent_info().id().value(), std::string{(*registered)[1]});
  double cpus = 0;
  for (const auto& r : added->agent_added().agent().total_resources())
    if (r.name() == "cpus")
      cpus += r.scalar().value();
  CHECK_EQUAL(cpus, 3.0);
  // The stream stays alive between changes.
  CHECK(events.next_of(Event::HEARTBEAT, seconds(30)));
  // A framework torn down through the API: FRAMEWORK_REMOVED, and its task's end.
  CHECK_EQUAL(post(R"({"type": "TEARDOWN", "teardown": {"framework_id": {"value": ")" + framework_id + R"("}}})").status,
              200);
  auto removed = events.next_of(Event::FRAMEWORK_REMOVED, seconds(30));
  REQUIRE(removed);
  CHECK_EQUAL(removed->framework_removed().framework_info().id().value(), framework_id);
  // Under ACLs an operator without view_state sees nothing: covered by the same viewed objects as GET_STATE.
  CHECK_EQUAL(post(R"({"type": "SUBSCRIBE"})", "application/json", {{"Accept", "text/html"}}).status, 406);
}

TEST(the npm mesos client follows the subscribe stream as the dcos ui does) {
  // @dcos/mesos-client under Node and jsdom: JSON, RecordIO records parsed by its own reader.
  child_process node({MESOSCAF_NODE, npm_operator, "--url=http://" + master_http, "--timeout=120"}, dir / "npm-operator.log");
  REQUIRE(node.wait_for_line("subscribed tasks 1", seconds(60)));
  check_task_life(node, "npm-task");
}

TEST(quota is set and read through the operator api and bad quota changes nothing) {
  auto update = [&](const std::string& configs) {
    return post(R"({"type": "UPDATE_QUOTA", "update_quota": {"quota_configs": )" + configs + "}}");
  };
  CHECK_EQUAL(update(R"([{"role": "dev", "guarantees": {"cpus": {"value": 1}}, "limits": {"cpus": {"value": 1.5},
                         "mem": {"value": 256}}}])").status,
              200);
  auto q = call(R"({"type": "GET_QUOTA"})");
  CHECK_EQUAL(q.type(), Response::GET_QUOTA);
  REQUIRE_EQUAL(q.get_quota().status().configs_size(), 1);
  const auto& c = q.get_quota().status().configs(0);
  CHECK_EQUAL(c.role(), "dev");
  CHECK_EQUAL(c.guarantees().at("cpus").value(), 1.0);
  CHECK_EQUAL(c.limits().at("cpus").value(), 1.5);
  CHECK_EQUAL(c.limits().at("mem").value(), 256.0);
  REQUIRE_EQUAL(q.get_quota().status().infos_size(), 1);
  CHECK_EQUAL(q.get_quota().status().infos(0).role(), "dev");
  // In JSON, maps are objects keyed by resource name (Mesos' mapping).
  auto j = json::parse(post(R"({"type": "GET_QUOTA"})").body, nullptr, false);
  CHECK_EQUAL(j["get_quota"]["status"]["configs"][0]["limits"]["mem"]["value"], 256.0);
  // Bad quota: nothing changes (all checked before any is applied).
  CHECK_EQUAL(update(R"([{"role": "ok", "limits": {"cpus": {"value": 1}}}, {"role": "*", "limits": {"cpus": {"value": 1}}}])").status, 400);
  CHECK_EQUAL(update(R"([{"role": "dev", "guarantees": {"cpus": {"value": -1}}}])").status, 400);
  CHECK_EQUAL(update(R"([{"role": "dev", "guarantees": {"cpus": {"value": 2}}, "limits": {"cpus": {"value": 1}}}])").status, 400);
  CHECK_EQUAL(update(R"([{"role": "dev", "limits": {"cpus": 3}}])").status, 400);
  CHECK_EQUAL(update(R"([{"role": "dev"}, {"role": "dev"}])").status, 400);
  CHECK_EQUAL(post(R"({"type": "UPDATE_QUOTA"})").status, 400);
  auto after = call(R"({"type": "GET_QUOTA"})").get_quota().status();
  REQUIRE_EQUAL(after.configs_size(), 1);
  CHECK_EQUAL(after.configs(0).limits().at("cpus").value(), 1.5);
  // A config with neither guarantees nor limits removes the role's quota.
  CHECK_EQUAL(update(R"([{"role": "dev"}])").status, 200);
  CHECK_EQUAL(call(R"({"type": "GET_QUOTA"})").get_quota().status().configs_size(), 0);
}

TEST(an operator reserves resources creates and destroys a volume and unreserves them with mesos-go) {
  auto aid = the_agent_id();
  auto volume_dir = dir / "agent/volumes/roles/eng/vol1";
  auto [code, out] = go_operation({"--operation=reserve", "--agent=" + aid, "--role=eng", "--cpus=1", "--disk=200"},
                                  "go-reserve.log");
  CHECK_EQUAL(code, 0);
  CHECK(mentions(out, "operation RESERVE_RESOURCES accepted"));
  auto r = reserved("eng");
  CHECK_EQUAL(r.value("cpus", 0.0), 1.0);
  CHECK_EQUAL(r.value("disk", 0.0), 200.0);
  std::tie(code, out) = go_operation({"--operation=create", "--agent=" + aid, "--role=eng", "--disk=100",
                                      "--volume=vol1:data"},
                                     "go-create.log");
  CHECK_EQUAL(code, 0);
  CHECK(mentions(out, "operation CREATE_VOLUMES accepted"));
  // The agent applies it after the answer: its volume directory appears.
  CHECK(eventually([&] { return std::filesystem::is_directory(volume_dir); }, seconds(30)));
  // Bad input changes nothing: 400 for what can never work, 409 for what is not free now.
  auto op = [&](const std::string& type, const std::string& field, const std::string& body) {
    return post(R"({"type": ")" + type + R"(", ")" + field + R"(": )" + body + "}").status;
  };
  auto cpus = [](const std::string& amount, const std::string& role) {
    return R"({"name": "cpus", "type": "SCALAR", "scalar": {"value": )" + amount + R"(}, "role": ")" + role
           + R"(", "reservation": {"principal": "ops"}})";
  };
  auto agent = R"({"value": ")" + aid + R"("})";
  CHECK_EQUAL(op("RESERVE_RESOURCES", "reserve_resources",
                 R"({"agent_id": )" + agent + R"(, "resources": [)" + cpus("100", "eng") + "]}"),
              400);   // more than the agent has
  CHECK_EQUAL(op("RESERVE_RESOURCES", "reserve_resources",
                 R"({"agent_id": {"value": "no-such-agent"}, "resources": [)" + cpus("0.1", "eng") + "]}"),
              400);
  CHECK_EQUAL(op("RESERVE_RESOURCES", "reserve_resources", R"({"resources": [)" + cpus("0.1", "eng") + "]}"), 400);
  CHECK_EQUAL(op("RESERVE_RESOURCES", "reserve_resources", R"({"agent_id": )" + agent + R"(, "resources": []})"),
              400);
  CHECK_EQUAL(op("RESERVE_RESOURCES", "reserve_resources",
                 R"({"agent_id": )" + agent + R"(, "resources": [)" + cpus("0.1", "eng") + R"(], "source": [)"
                   + cpus("0.1", "eng") + "]}"),
              400);
  CHECK_EQUAL(op("RESERVE_RESOURCES", "reserve_resources",
                 R"({"agent_id": )" + agent + R"(, "resources": [)" + cpus("NaN", "eng") + "]}"),
              400);
  CHECK_EQUAL(op("RESERVE_RESOURCES", "reserve_resources",
                 R"({"agent_id": )" + agent + R"(, "resources": [)" + cpus("0.1", "*") + "]}"),
              400);   // no role to reserve for
  CHECK_EQUAL(op("UNRESERVE_RESOURCES", "unreserve_resources",
                 R"({"agent_id": )" + agent + R"(, "resources": [)" + cpus("1", "ops") + "]}"),
              400);   // nothing reserved to ops
  CHECK_EQUAL(op("DESTROY_VOLUMES", "destroy_volumes",
                 R"({"agent_id": )" + agent + R"(, "volumes": [{"name": "disk", "type": "SCALAR", "scalar": {"value": 100},
                     "role": "eng", "reservation": {"principal": "ops"},
                     "disk": {"persistence": {"id": "other"}, "volume": {"container_path": "x", "mode": "RW"}}}]})"),
              400);   // no such volume
  // The task uses 0.5 of the 1 unreserved cpu left: 1 more cpu is not free.
  CHECK_EQUAL(op("RESERVE_RESOURCES", "reserve_resources",
                 R"({"agent_id": )" + agent + R"(, "resources": [)" + cpus("1", "eng") + "]}"),
              409);
  r = reserved("eng");
  CHECK_EQUAL(r.value("cpus", 0.0), 1.0);
  CHECK_EQUAL(r.value("disk", 0.0), 200.0);
  std::tie(code, out) = go_operation({"--operation=destroy", "--agent=" + aid, "--role=eng", "--disk=100",
                                      "--volume=vol1:data"},
                                     "go-destroy.log");
  CHECK_EQUAL(code, 0);
  CHECK(mentions(out, "operation DESTROY_VOLUMES accepted"));
  CHECK(eventually([&] { return !std::filesystem::exists(volume_dir); }, seconds(30)));
  std::tie(code, out) = go_operation({"--operation=unreserve", "--agent=" + aid, "--role=eng", "--cpus=1",
                                      "--disk=200"},
                                     "go-unreserve.log");
  CHECK_EQUAL(code, 0);
  CHECK(mentions(out, "operation UNRESERVE_RESOURCES accepted"));
  CHECK(reserved("eng").empty());
  // mesos-go sees a refusal as an error.
  std::tie(code, out) = go_operation({"--operation=unreserve", "--agent=" + aid, "--role=eng", "--cpus=1"},
                                     "go-unreserve-again.log");
  CHECK_EQUAL(code, 6);
  CHECK(mentions(out, "operation UNRESERVE_RESOURCES refused"));
}

TEST(an agent marked gone stops with its task lost and cannot come back with its id) {
  auto aid = the_agent_id();
  CHECK_EQUAL(post(R"({"type": "MARK_AGENT_GONE", "mark_agent_gone": {"agent_id": {"value": "no-such-agent"}}})").status,
              404);
  CHECK_EQUAL(post(R"({"type": "MARK_AGENT_GONE"})").status, 400);
  CHECK_EQUAL(post(R"({"type": "MARK_AGENT_GONE", "mark_agent_gone": {}})").status, 400);
  CHECK_EQUAL(call(R"({"type": "GET_AGENTS"})").get_agents().agents_size(), 1);
  // An operator following the master sees it go.
  v1_event_reader<Event> events;
  events.http = std::make_unique<http_stream>(master_http, "/api/v1", R"({"type": "SUBSCRIBE"})", "application/json");
  REQUIRE_EQUAL(events.http->status(), 200);
  REQUIRE(events.next_of(Event::SUBSCRIBED));
  const std::string gone = R"({"type": "MARK_AGENT_GONE", "mark_agent_gone": {"agent_id": {"value": ")" + aid
                           + R"("}}})";
  CHECK_EQUAL(post(gone).status, 200);
  auto lost = events.next_of(Event::TASK_UPDATED);
  REQUIRE(lost);
  CHECK_EQUAL(lost->task_updated().state(), ::mesos::v1::TASK_LOST);
  CHECK_EQUAL(lost->task_updated().status().reason(), ::mesos::v1::TaskStatus::REASON_AGENT_REMOVED_BY_OPERATOR);
  auto removed = events.next_of(Event::AGENT_REMOVED);
  REQUIRE(removed);
  CHECK_EQUAL(removed->agent_removed().agent_id().value(), aid);
  // The agent is told to shut down: it kills the task's executor and exits.
  auto code = agent->wait_exit(seconds(60));
  REQUIRE(code);
  CHECK_EQUAL(*code, 0);
  CHECK(mentions(agent->output(), "the master shut this agent down"));
  CHECK(mentions(agent->output(), "marked gone") || mentions(agent->output(), "removed by the operator"));
  // The framework (not partition-aware) learns TASK_LOST with the operator as reason; mesoscaf execute ends.
  CHECK(task->wait_exit(seconds(60)));
  CHECK(mentions(task->output(), "TASK_LOST"));
  CHECK_EQUAL(call(R"({"type": "GET_AGENTS"})").get_agents().agents_size(), 0);
  auto tasks = call(R"({"type": "GET_TASKS"})").get_tasks();
  REQUIRE_EQUAL(tasks.completed_tasks_size(), 1);
  CHECK_EQUAL(tasks.completed_tasks(0).state(), ::mesos::v1::TASK_LOST);
  // Again: still fine.
  CHECK_EQUAL(post(gone).status, 200);
  // Restarted with the same work directory, it recovers its ID, is refused and stops again.
  child_process again({bin, "agent", "--master=" + master_addr, "--ip=127.0.0.1", "--port=0", "--http-port=0",
                       "--work-dir=" + dir / "agent", "--resources=cpus:2;mem:1024;disk:1000;ports:[31000-31100]"},
                      dir / "agent-again.log");
  auto again_code = again.wait_exit(seconds(90));
  MESSAGE(again.output());
  REQUIRE(again_code);
  CHECK_EQUAL(*again_code, 0);
  CHECK(mentions(again.output(), "marked gone"));
  CHECK_EQUAL(call(R"({"type": "GET_AGENTS"})").get_agents().agents_size(), 0);
}

TEST(the agent operator api lists its task executor container and sandbox with each codec) {
  // The executor's sandbox, as the agent's /state shows it.
  auto state = json::parse(http_get(agent_http, "/state").body, nullptr, false);
  REQUIRE(!state.is_discarded());
  std::string sandbox = state["frameworks"][0]["executors"][0]["directory"];
  std::string agent_id = state["id"];
  for (std::string codec : {"json", "protobuf"}) {
    child_process go({go_agent_operator, "--url=http://" + agent_http + "/api/v1", "--codec=" + codec,
                      "--sandbox=" + sandbox},
                     dir / ("go-agent-operator-" + codec + ".log"));
    auto code = go.wait_exit(seconds(60));
    auto out = go.output();
    MESSAGE(out);
    REQUIRE(code);
    CHECK_EQUAL(*code, 0);
    CHECK(mentions(out, "healthy true"));
    CHECK(mentions(out, "agent " + agent_id));
    CHECK(mentions(out, "launched " + task_id + " TASK_RUNNING"));
    CHECK(mentions(out, "executors 1"));
    CHECK(mentions(out, "frameworks 1"));
    CHECK(mentions(out, "container "));
    CHECK(mentions(out, "file " + sandbox + "/stdout"));
    CHECK(mentions(out, "read "));
  }
  // Files outside every sandbox are refused, as /files refuses them; a read is bounded.
  auto agent_call = [&](const std::string& body) {
    return http_request("POST", agent_http, "/api/v1", body, "application/json", seconds(15));
  };
  CHECK_EQUAL(agent_call(R"({"type": "LIST_FILES", "list_files": {"path": "/etc"}})").status, 403);
  CHECK_EQUAL(agent_call(R"({"type": "READ_FILE", "read_file": {"path": "/etc/passwd", "offset": 0}})").status, 403);
  CHECK_EQUAL(agent_call(R"({"type": "READ_FILE", "read_file": {"path": ")" + sandbox
                         + R"(/../../../../../../../../etc/passwd", "offset": 0}})").status,
              403);
  CHECK_EQUAL(agent_call(R"({"type": "READ_FILE", "read_file": {"path": ")" + sandbox + R"(/nothing", "offset": 0}})").status,
              404);
  CHECK_EQUAL(agent_call(R"({"type": "READ_FILE"})").status, 400);
  auto tail = agent_call(R"({"type": "READ_FILE", "read_file": {"path": ")" + sandbox
                         + R"(/stdout", "offset": 0, "length": 18446744073709551615}})");
  CHECK_EQUAL(tail.status, 200);
  auto j = json::parse(tail.body, nullptr, false);
  CHECK(j["read_file"].contains("size"));
  CHECK_EQUAL(agent_call(R"({"type": "LAUNCH_CONTAINER"})").status, 501);
  CHECK_EQUAL(http_request("GET", agent_http, "/api/v1").status, 405);
}

FIXTURE_SCOPE_END()

TEST(under acls only permitted operators reserve resources and mark agents gone) {
  temp_dir dir{"mesoscaf-v1-operator-acls"};
  std::ofstream{dir / "credentials.json"} << R"({"credentials": [{"principal": "ops", "secret": "secret-1"},
                                                                   {"principal": "dev", "secret": "secret-2"}]})";
  std::ofstream{dir / "acls.json"} << R"({"permissive": false,
    "register_agents": [{"principals": {"type": "ANY"}, "agents": {"type": "ANY"}}],
    "view_state": [{"principals": {"type": "ANY"}, "objects": {"type": "ANY"}}],
    "reserve_resources": [{"principals": {"values": ["ops"]}, "roles": {"values": ["eng"]}}],
    "mark_agents_gone": [{"principals": {"values": ["ops"]}, "agents": {"type": "ANY"}}]})";
  child_process master({bin, "master", "--port=0", "--http-port=0", "--work-dir=" + dir / "master",
                        "--credentials=" + dir / "credentials.json", "--acls=" + dir / "acls.json"},
                       dir / "master.log");
  auto m = master.wait_for_line("master listening on (127\\.0\\.0\\.1:[0-9]+)", seconds(60));
  REQUIRE(m);
  std::string master_addr = (*m)[1];
  auto mh = master.wait_for_line("master http listening on (127\\.0\\.0\\.1:[0-9]+)", seconds(60));
  REQUIRE(mh);
  std::string http = (*mh)[1];
  child_process agent({bin, "agent", "--master=" + master_addr, "--ip=127.0.0.1", "--port=0",
                       "--http-port=0", "--work-dir=" + dir / "agent", "--resources=cpus:2;mem:512"},
                      dir / "agent.log");
  auto registered = agent.wait_for_line("agent registered with id ([0-9a-f-]+)", seconds(60));
  REQUIRE(registered);
  std::string aid = (*registered)[1];
  const std::map<std::string, std::string> ops{{"Authorization", "Basic b3BzOnNlY3JldC0x"}};   // ops:secret-1
  const std::map<std::string, std::string> dev{{"Authorization", "Basic ZGV2OnNlY3JldC0y"}};   // dev:secret-2
  auto post = [&](const std::string& body, const std::map<std::string, std::string>& who) {
    return http_request("POST", http, "/api/v1", body, "application/json", seconds(15), who).status;
  };
  auto reserve = [&](const std::string& role) {
    return R"({"type": "RESERVE_RESOURCES", "reserve_resources": {"agent_id": {"value": ")" + aid
           + R"("}, "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.5}, "role": ")" + role
           + R"(", "reservation": {}}]}})";
  };
  const std::string gone = R"({"type": "MARK_AGENT_GONE", "mark_agent_gone": {"agent_id": {"value": ")" + aid
                           + R"("}}})";
  CHECK_EQUAL(post(reserve("eng"), {}), 401);
  CHECK_EQUAL(post(reserve("eng"), dev), 403);
  CHECK_EQUAL(post(reserve("ops"), ops), 403);
  CHECK_EQUAL(post(gone, dev), 403);
  auto state = json::parse(http_request("GET", http, "/state", "", "", seconds(15), ops).body, nullptr, false);
  REQUIRE(!state.is_discarded());
  REQUIRE_EQUAL(state["slaves"].size(), 1u);
  CHECK(state["slaves"][0]["reserved_resources"].empty());
  CHECK_EQUAL(post(reserve("eng"), ops), 202);
  CHECK_EQUAL(post(gone, ops), 200);
  CHECK(agent.wait_exit(seconds(60)));
}
