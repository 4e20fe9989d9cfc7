// Integration: Mesos' v1 executor API (POST /api/v1/executor) of a real agent process. A custom executor nobody
// on this project wrote the library of (a Go program on Debian's mesos-go) runs a task for a mesos-go scheduler,
// with each codec; the test then plays the executor itself to check the events, the token and bad input.
#define CAF_SUITE integration_v1_executor_api
#include "test.hpp"

#include "child_process.hpp"
#include "http_test_client.hpp"
#include "process_scan.hpp"
#include "v1_daemons.hpp"
#include "v1_event_reader.hpp"

#include "messages/mesos_v1/executor.pb.h"
#include "messages/mesos_v1/wire_codec.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

using namespace mesoscaf;
using namespace mesoscaf::test;
using namespace std::chrono;
namespace exec = ::mesos::v1::executor;
namespace v1 = mesoscaf::mesos_v1;
namespace fs = std::filesystem;

namespace {

const std::string bin = MESOSCAF_BINARY;
const std::string go_scheduler = std::string{MESOSCAF_V1_CLIENTS_DIR} + "/scheduler";
const std::string go_executor = std::string{MESOSCAF_V1_CLIENTS_DIR} + "/executor";
const std::string api = "/api/v1/executor";

bool mentions(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

std::string slurp(const fs::path& p) {
  std::ifstream in{p};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// The first file called `name` under `root` whose text contains `needle` ("" if none yet).
fs::path find_file(const std::string& root, const std::string& name, const std::string& needle) {
  std::error_code ec;
  for (fs::recursive_directory_iterator i{root, ec}, end; !ec && i != end; i.increment(ec))
    if (i->path().filename() == name && mentions(slurp(i->path()), needle))
      return i->path();
  return {};
}

/// A TCP port of 127.0.0.1 that was free a moment ago (0 if none).
uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  uint16_t port = 0;
  if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0
      && ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    port = ntohs(addr.sin_port);
  if (fd >= 0)
    ::close(fd);
  return port;
}

/// KEY=VALUE lines of `env` output.
std::map<std::string, std::string> environment_of(const std::string& text) {
  std::map<std::string, std::string> env;
  std::istringstream in{text};
  for (std::string line; std::getline(in, line);)
    if (auto eq = line.find('='); eq != std::string::npos)
      env[line.substr(0, eq)] = line.substr(eq + 1);
  return env;
}

std::string call_json(const std::string& fid, const std::string& eid, const std::string& rest) {
  return R"({"framework_id": {"value": ")" + fid + R"("}, "executor_id": {"value": ")" + eid + R"("}, )" + rest + "}";
}

struct fixture : v1_daemons {
  fixture() : v1_daemons("mesoscaf-v1-exec") {
    start(bin, "cpus:2;mem:1024;disk:1000;ports:[31000-31100]");
  }

  /// What the agent gave a stand-in executor (its command: `env > env.txt; exec sleep 300`), once it ran; its
  /// file in `where`.
  std::map<std::string, std::string> stand_in_environment(fs::path& where) {
    bool found = eventually([&] {
      where = find_file(dir / "agent", "env.txt", "MESOS_EXECUTOR_AUTHENTICATION_TOKEN=");
      return !where.empty();
    }, seconds(60));
    REQUIRE(found);
    return environment_of(slurp(where));
  }

  http_reply call(const std::string& body, const std::string& token,
                  const std::string& content_type = "application/json") {
    std::map<std::string, std::string> headers;
    if (!token.empty())
      headers["Authorization"] = "Bearer " + token;
    return http_request("POST", agent_http, api, body, content_type, seconds(15), headers);
  }
};

} // namespace

FIXTURE_SCOPE(v1_executor_api_tests, fixture)

TEST(a mesos-go custom executor runs its task through the agent with each codec) {
  for (std::string codec : {"json", "protobuf"}) {
    MESSAGE("codec " << codec);
    auto task = "go-exec-" + codec;
    child_process go({go_scheduler, "--url=http://" + master_http + "/api/v1/scheduler", "--codec=" + codec,
                      "--task-id=" + task, "--executor=" + go_executor + " --codec=" + codec},
                     dir / ("go-" + codec + ".log"));
    auto code = go.wait_exit(seconds(120));
    auto out = go.output();
    MESSAGE(out);
    REQUIRE(code);
    CHECK_EQUAL(*code, 0);
    // The executor's TASK_RUNNING and its message reached the scheduler; the scheduler's answer made it finish.
    CHECK(mentions(out, "update " + task + " TASK_RUNNING running in a mesos-go executor"));
    CHECK(mentions(out, "message from go-executor-" + task + " on "));
    CHECK(mentions(out, ": hello from go-executor-" + task + " running " + task));
    CHECK(mentions(out, "update " + task + " TASK_FINISHED finished on the scheduler's word"));
    // The executor's own log (its sandbox's stdout): what the agent sent it, in order. The scheduler's TEARDOWN
    // shut it down.
    fs::path log;
    CHECK(eventually([&] {
      log = find_file(dir / "agent", "stdout", "subscribed executor=go-executor-" + task);
      return !log.empty() && mentions(slurp(log), "\nshutdown\n");
    }, seconds(30)));
    auto text = slurp(log);
    MESSAGE(text);
    CHECK(mentions(text, "environment agent=" + agent_http + " checkpoint=false grace=5s"));
    CHECK(mentions(text, "launch " + task + " data=payload of " + task));
    CHECK(mentions(text, "acknowledged " + task));
    CHECK(mentions(text, "message finish " + task));
  }
}

TEST(a scheduler shuts down its custom executor with SHUTDOWN) {
  child_process go({go_scheduler, "--url=http://" + master_http + "/api/v1/scheduler", "--codec=protobuf",
                    "--task-id=stopped", "--shutdown-executor", "--executor=" + go_executor},
                   dir / "go.log");
  auto code = go.wait_exit(seconds(120));
  auto out = go.output();
  MESSAGE(out);
  REQUIRE(code);
  CHECK_EQUAL(*code, 0);
  CHECK(mentions(out, "update stopped TASK_RUNNING"));
  CHECK(mentions(out, "shutdown sent"));
  // The agent told the executor to shut down; the executor killed its task on the way out.
  CHECK(mentions(out, "update stopped TASK_KILLED killed at the executor's shutdown"));
  auto log = find_file(dir / "agent", "stdout", "subscribed executor=go-executor-stopped");
  REQUIRE(!log.empty());
  CHECK(mentions(slurp(log), "\nshutdown\n"));
  CHECK(mentions(agent->output(), "shutting down executor go-executor-stopped"));
}

TEST(the executor api checks the token and refuses bad input while the executor works on) {
  // The executor is this test: the agent starts a stand-in that leaves its environment for us and sleeps.
  auto task = "hand-exec";
  child_process go({go_scheduler, "--url=http://" + master_http + "/api/v1/scheduler", "--codec=json",
                    "--task-id=" + std::string{task}, "--executor=env > env.txt; exec sleep 300"},
                   dir / "go.log");
  fs::path env_file;
  auto env = stand_in_environment(env_file);
  auto fid = env["MESOS_FRAMEWORK_ID"], eid = env["MESOS_EXECUTOR_ID"];
  auto token = env["MESOS_EXECUTOR_AUTHENTICATION_TOKEN"];
  CHECK_EQUAL(env["MESOS_AGENT_ENDPOINT"], agent_http);
  CHECK_EQUAL(eid, "go-executor-hand-exec");
  CHECK_EQUAL(env["MESOS_SANDBOX"], env["MESOS_DIRECTORY"]);
  CHECK_EQUAL(env_file.parent_path(), fs::path{env["MESOS_SANDBOX"]});
  CHECK_EQUAL(env["MESOS_CHECKPOINT"], "0");
  CHECK_EQUAL(env["MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD"], "5000ms");
  REQUIRE(token.size() >= 32u);
  auto subscribe = call_json(fid, eid, R"("type": "SUBSCRIBE", "subscribe": {})");

  // Before it subscribes: no token, a wrong token, calls of an executor that is not subscribed, an executor the
  // agent does not know.
  struct bad_case {
    std::string what;
    int expected;
    http_reply reply;
  };
  std::vector<bad_case> cases;
  auto add = [&](std::string what, int expected, http_reply r) { cases.push_back({what, expected, std::move(r)}); };
  add("no token", 401, call(subscribe, ""));
  add("a wrong token", 403, call(subscribe, std::string(token.size(), 'x')));
  add("an unknown executor", 400, call(call_json(fid, "nobody", R"("type": "SUBSCRIBE", "subscribe": {})"), token));
  add("an update before subscribing", 400,
      call(call_json(fid, eid, R"("type": "UPDATE", "update": {"status": {"task_id": {"value": "hand-exec"},
           "state": "TASK_RUNNING", "uuid": "AAAAAAAAAAAAAAAAAAAAAA=="}})"), token));
  add("GET", 405, http_request("GET", agent_http, api));
  add("no content type", 400, call(subscribe, token, ""));
  add("another content type", 415, call(subscribe, token, "text/plain"));
  add("bad JSON", 400, call("{", token));
  add("no executor_id", 400, call(R"({"type": "SUBSCRIBE", "framework_id": {"value": "x"}, "subscribe": {}})", token));
  add("an unknown type", 400, call(call_json(fid, eid, R"("type": "LAUNCH")"), token));
  add("a type as a number", 400, call(call_json(fid, eid, R"("type": 1, "subscribe": {})"), token));
  add("subscribe without its part", 400, call(call_json(fid, eid, R"("type": "SUBSCRIBE")"), token));
  add("a RecordIO length of 2^63", 400,
      http_request("POST", agent_http, api, "9223372036854775808\n{}", "application/recordio", seconds(15),
                   {{"Message-Content-Type", "application/json"}, {"Authorization", "Bearer " + token}}));
  for (auto& c : cases) {
    MESSAGE(c.what << ": " << c.reply.status << " " << c.reply.body);
    CHECK_EQUAL(c.reply.status, c.expected);
  }

  // Subscribed in protobuf: SUBSCRIBED, then the task.
  exec::Call sub;
  REQUIRE_EQUAL(v1::decode(v1::codec::json, subscribe, sub), "");
  v1_event_reader<exec::Event> events;
  events.codec = v1::codec::protobuf;
  events.http = std::make_unique<http_stream>(agent_http, api, sub.SerializeAsString(), "application/x-protobuf",
                                              std::map<std::string, std::string>{{"Authorization", "Bearer " + token}});
  REQUIRE_EQUAL(events.http->status(), 200);
  CHECK_EQUAL(events.http->headers().at("content-type"), "application/x-protobuf");
  auto subscribed = events.next();
  REQUIRE(subscribed);
  REQUIRE_EQUAL(subscribed->type(), exec::Event::SUBSCRIBED);
  CHECK_EQUAL(subscribed->subscribed().executor_info().executor_id().value(), eid);
  CHECK_EQUAL(subscribed->subscribed().framework_info().id().value(), fid);
  CHECK(!subscribed->subscribed().agent_info().id().value().empty());
  auto launch = events.next_of(exec::Event::LAUNCH);
  REQUIRE(launch);
  CHECK_EQUAL(launch->launch().task().task_id().value(), task);
  CHECK_EQUAL(launch->launch().task().data(), "payload of hand-exec");
  CHECK_EQUAL(launch->launch().task().executor().executor_id().value(), eid);
  // Bad updates of a subscribed executor: the wrong token, a missing or short uuid, a state an executor does
  // not report, another executor's status, too many bytes.
  auto update = [&](const std::string& status) {
    return call_json(fid, eid, R"("type": "UPDATE", "update": {"status": )" + status + "}");
  };
  const std::string uuid1 = R"("uuid": "EREREREREREREREREREREQ==")";   // 16 bytes
  auto running = update(R"({"task_id": {"value": "hand-exec"}, "state": "TASK_RUNNING", )" + uuid1 + "}");
  cases.clear();
  add("an update with a wrong token", 403, call(running, std::string(token.size(), 'y')));
  add("an update without uuid", 400, call(update(R"({"task_id": {"value": "hand-exec"}, "state": "TASK_RUNNING"})"), token));
  add("an update with a short uuid", 400,
      call(update(R"({"task_id": {"value": "hand-exec"}, "state": "TASK_RUNNING", "uuid": "AAA="})"), token));
  add("an update to TASK_STAGING", 400,
      call(update(R"({"task_id": {"value": "hand-exec"}, "state": "TASK_STAGING", )" + uuid1 + "}"), token));
  add("an update to TASK_GONE", 400,
      call(update(R"({"task_id": {"value": "hand-exec"}, "state": "TASK_GONE", )" + uuid1 + "}"), token));
  add("another executor's status", 400,
      call(update(R"({"task_id": {"value": "hand-exec"}, "state": "TASK_RUNNING", "executor_id": {"value": "x"}, )"
                  + uuid1 + "}"),
           token));
  add("an update of another framework", 400,
      call(call_json("other-framework", eid, R"("type": "UPDATE", "update": {"status": {"task_id": {"value": "t"},
           "state": "TASK_RUNNING", )" + uuid1 + "}}"), token));
  add("a body over the limit", 413, call(std::string(3 << 20, ' '), token));
  for (auto& c : cases) {
    MESSAGE(c.what << ": " << c.reply.status << " " << c.reply.body);
    CHECK_EQUAL(c.reply.status, c.expected);
  }

  // The real update: 202, the agent acknowledges it on the stream, the scheduler sees it.
  auto ok = call(running, token);
  CHECK_EQUAL(ok.status, 202);
  auto ack = events.next_of(exec::Event::ACKNOWLEDGED);
  REQUIRE(ack);
  CHECK_EQUAL(ack->acknowledged().task_id().value(), task);
  CHECK_EQUAL(ack->acknowledged().uuid(), std::string(16, '\x11'));
  CHECK(go.wait_for_line("update hand-exec TASK_RUNNING", seconds(30)));
  // A message to the scheduler; its answer comes back as MESSAGE.
  auto msg = call(call_json(fid, eid, R"("type": "MESSAGE", "message": {"data": "aGk="})"), token);
  CHECK_EQUAL(msg.status, 202);
  CHECK(go.wait_for_line("message from go-executor-hand-exec on [^:]+: hi", seconds(30)));
  auto answer = events.next_of(exec::Event::MESSAGE);
  REQUIRE(answer);
  CHECK_EQUAL(answer->message().data(), "finish hand-exec");
  // The executor subscribes again (Mesos' executors do after a broken connection), here in JSON: the new stream
  // takes over and the old one ends.
  v1_event_reader<exec::Event> again;
  again.http = std::make_unique<http_stream>(agent_http, api, subscribe, "application/json",
                                             std::map<std::string, std::string>{{"Authorization", "Bearer " + token}});
  REQUIRE_EQUAL(again.http->status(), 200);
  auto resubscribed = again.next();
  REQUIRE(resubscribed);
  CHECK_EQUAL(resubscribed->type(), exec::Event::SUBSCRIBED);
  CHECK(!events.next(seconds(30)));
  // The end: TASK_FINISHED, the scheduler tears down, the agent sends SHUTDOWN on the new stream.
  auto finished = update(R"({"task_id": {"value": "hand-exec"}, "state": "TASK_FINISHED", "uuid": "IiIiIiIiIiIiIiIiIiIiIg=="})");
  CHECK_EQUAL(call(finished, token).status, 202);
  auto code = go.wait_exit(seconds(60));
  MESSAGE(go.output());
  REQUIRE(code);
  CHECK_EQUAL(*code, 0);
  CHECK(again.next_of(exec::Event::SHUTDOWN, seconds(30)));
}

TEST(an executor that closes its stream is gone and its task fails) {
  auto task = "leaver";
  child_process go({go_scheduler, "--url=http://" + master_http + "/api/v1/scheduler", "--codec=json",
                    "--task-id=" + std::string{task}, "--executor=env > env.txt; exec sleep 300"},
                   dir / "go.log");
  fs::path env_file;
  auto env = stand_in_environment(env_file);
  auto token = env["MESOS_EXECUTOR_AUTHENTICATION_TOKEN"];
  v1_event_reader<exec::Event> events;
  events.http = std::make_unique<http_stream>(
    agent_http, api, call_json(env["MESOS_FRAMEWORK_ID"], env["MESOS_EXECUTOR_ID"], R"("type": "SUBSCRIBE", "subscribe": {})"),
    "application/json", std::map<std::string, std::string>{{"Authorization", "Bearer " + token}});
  REQUIRE_EQUAL(events.http->status(), 200);
  REQUIRE(events.next_of(exec::Event::LAUNCH));
  // A framework that does not checkpoint: its executor's disconnection is its end (Mesos' behaviour).
  events.http->close();
  auto code = go.wait_exit(seconds(60));
  auto out = go.output();
  MESSAGE(out);
  CHECK(mentions(out, "update leaver TASK_FAILED"));
  REQUIRE(code);
  CHECK_EQUAL(*code, 1);
}

TEST(the mesos-go executor of a checkpointing framework survives an agent restart with its task) {
  // An agent of its own on a fixed HTTP port: the executor finds the restarted agent where its environment says.
  agent->signal(SIGKILL);
  REQUIRE(agent->wait_exit(seconds(20)));
  auto port = free_port();
  REQUIRE(port != 0);
  std::vector<std::string> argv{bin, "agent", "--master=" + master_addr, "--ip=127.0.0.1", "--port=0",
                                "--http-port=" + std::to_string(port), "--work-dir=" + dir / "agent-cp",
                                "--resources=cpus:2;mem:1024;disk:1000"};
  auto own = std::make_unique<child_process>(argv, dir / "agent-cp.log");
  REQUIRE(own->wait_for_line("agent registered with id", seconds(60)));
  // The scheduler finishes the task on the executor's second message: the one it sends after the restart.
  child_process go({go_scheduler, "--url=http://" + master_http + "/api/v1/scheduler", "--codec=protobuf",
                    "--task-id=survivor", "--checkpoint", "--finish-after=2", "--executor=" + go_executor},
                   dir / "go-cp.log");
  REQUIRE(go.wait_for_line("message from go-executor-survivor on [^:]+: hello from", seconds(60)));
  REQUIRE(go.wait_for_line("update survivor TASK_RUNNING", seconds(30)));
  auto log = find_file(dir / "agent-cp", "stdout", "subscribed executor=go-executor-survivor");
  REQUIRE(!log.empty());
  REQUIRE(eventually([&] { return mentions(slurp(log), "acknowledged survivor"); }, seconds(30)));
  own->signal(SIGKILL);
  REQUIRE(own->wait_exit(seconds(20)));
  own = std::make_unique<child_process>(argv, dir / "agent-cp-2.log");
  auto code = go.wait_exit(seconds(120));
  auto out = go.output();
  MESSAGE(out);
  MESSAGE(slurp(log));
  MESSAGE(own->output());
  REQUIRE(code);
  CHECK_EQUAL(*code, 0);
  CHECK(mentions(out, ": hello again from go-executor-survivor running survivor"));
  CHECK(mentions(out, "update survivor TASK_FINISHED finished on the scheduler's word"));
  CHECK(!mentions(out, "TASK_FAILED"));
  CHECK(!mentions(out, "TASK_LOST"));
  CHECK(mentions(slurp(log), "resubscribed"));
}

TEST(executors reach an agent that requires credentials with their own token) {
  agent->signal(SIGKILL);
  REQUIRE(agent->wait_exit(seconds(20)));
  std::ofstream{dir / "credentials.json"} << R"({"credentials": [{"principal": "ops", "secret": "ops-secret"}]})";
  child_process guarded({bin, "agent", "--master=" + master_addr, "--ip=127.0.0.1", "--port=0", "--http-port=0",
                         "--work-dir=" + dir / "agent-creds", "--credentials=" + dir / "credentials.json",
                         "--resources=cpus:2;mem:1024;disk:1000"},
                        dir / "agent-creds.log");
  auto ah = guarded.wait_for_line("agent http listening on (127\\.0\\.0\\.1:[0-9]+)", seconds(60));
  REQUIRE(ah);
  std::string http = (*ah)[1];
  REQUIRE(guarded.wait_for_line("agent registered with id", seconds(60)));
  // The agent's other endpoints still want the operator's credentials.
  CHECK_EQUAL(http_get(http, "/state").status, 401);
  child_process go({go_scheduler, "--url=http://" + master_http + "/api/v1/scheduler", "--codec=json",
                    "--task-id=guarded", "--executor=" + go_executor},
                   dir / "go-creds.log");
  auto code = go.wait_exit(seconds(120));
  MESSAGE(go.output());
  REQUIRE(code);
  CHECK_EQUAL(*code, 0);
  CHECK(mentions(go.output(), "update guarded TASK_FINISHED"));
  // An operator's credentials are not an executor's token.
  auto as_ops = http_request("POST", http, api, R"({"type": "SUBSCRIBE", "framework_id": {"value": "f"},
                             "executor_id": {"value": "e"}, "subscribe": {}})", "application/json", seconds(15),
                             {{"Authorization", "Basic b3BzOm9wcy1zZWNyZXQ="}});
  CHECK_EQUAL(as_ops.status, 401);
}

FIXTURE_SCOPE_END()
