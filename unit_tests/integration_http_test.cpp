// Integration: the HTTP endpoints of a real master and a real agent process (docs/HTTP.md), with a task of
// `mesoscaf execute` running. Values are checked, not only status codes. Bounded waits throughout.
#define CAF_SUITE integration_http
#include "test.hpp"

#include "child_process.hpp"
#include "http_test_client.hpp"
#include "process_scan.hpp"

#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

using namespace mesoscaf::test;
using namespace std::chrono;
using json = nlohmann::json;

namespace {

const std::string bin = MESOSCAF_BINARY;

json parse(const http_reply& r) {
  auto j = json::parse(r.body, nullptr, false);
  if (j.is_discarded())
    MESSAGE("not JSON (" << r.status << "): " << r.body.substr(0, 300) << r.error);
  return j;
}

struct fixture {
  temp_dir dir{"mesoscaf-http"};
  std::unique_ptr<child_process> master;
  std::unique_ptr<child_process> agent;
  std::unique_ptr<child_process> task;
  std::string master_addr, master_http, agent_http, task_id, framework_id;

  fixture() {
    master = std::make_unique<child_process>(
      std::vector<std::string>{bin, "master", "--port=0", "--http-port=0", "--work-dir=" + dir / "master"},
      dir / "master.log");
    auto m = master->wait_for_line("master listening on (127\\.0\\.0\\.1:[0-9]+)", seconds(60));
    REQUIRE(m);
    master_addr = (*m)[1];
    auto mh = master->wait_for_line("master http listening on (127\\.0\\.0\\.1:[0-9]+)", seconds(60));
    REQUIRE(mh);
    master_http = (*mh)[1];
    agent = std::make_unique<child_process>(
      std::vector<std::string>{bin, "agent", "--master=" + master_addr, "--port=0", "--http-port=0",
                               "--work-dir=" + dir / "agent", "--resources=cpus:2;mem:1024;disk:1000;ports:[31000-31100]"},
      dir / "agent.log");
    auto ah = agent->wait_for_line("agent http listening on (127\\.0\\.0\\.1:[0-9]+)", seconds(60));
    REQUIRE(ah);
    agent_http = (*ah)[1];
    REQUIRE(agent->wait_for_line("agent registered with id", seconds(60)));
    task = std::make_unique<child_process>(
      std::vector<std::string>{bin, "execute", "--master=" + master_addr, "--name=http-task",
                               "--command=echo http-stdout-line; echo http-stderr-line >&2; sleep 300",
                               "--resources=cpus:0.5;mem:64"},
      dir / "execute.log");
    // Running, as the master's /tasks says.
    bool running = eventually(
      [&] {
        auto j = parse(http_get(master_http, "/tasks"));
        if (!j.is_object() || j["tasks"].empty() || j["tasks"][0]["state"] != "TASK_RUNNING")
          return false;
        task_id = j["tasks"][0]["id"];
        framework_id = j["tasks"][0]["framework_id"];
        return true;
      },
      seconds(60), milliseconds(200));
    if (!running)
      MESSAGE("execute output:\n" << task->output());
    REQUIRE(running);
  }

  ~fixture() {
    task->signal(SIGTERM);
    task->wait_exit(seconds(20));
    agent->signal(SIGTERM);
    master->signal(SIGTERM);
    agent->wait_exit(seconds(30));
    master->wait_exit(seconds(30));
  }

  /// The agent's /state entry of our task's executor, and the task's own directory.
  std::string task_directory() {
    auto st = parse(http_get(agent_http, "/state"));
    for (auto& f : st["frameworks"])
      for (auto& e : f["executors"])
        for (auto& t : e["tasks"])
          if (t["id"] == task_id)
            return t["directory"];
    return {};
  }
};

int connect_to(const std::string& endpoint) {
  auto colon = endpoint.rfind(':');
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(std::stoi(endpoint.substr(colon + 1))));
  ::inet_pton(AF_INET, endpoint.substr(0, colon).c_str(), &sa.sin_addr);
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

} // namespace

FIXTURE_SCOPE(http_tests, fixture)

TEST(the master endpoints report the running task and the agent) {
  CHECK_EQUAL(http_get(master_http, "/health").status, 200);
  auto version = parse(http_get(master_http, "/version"));
  CHECK(version["version"].is_string() && !version["version"].get<std::string>().empty());
  auto flags = parse(http_get(master_http, "/flags"));
  CHECK_EQUAL(flags["flags"]["http-port"], "0");
  CHECK_EQUAL(flags["flags"]["work-dir"], dir / "master");
  auto state = parse(http_get(master_http, "/state"));
  REQUIRE(state.is_object());
  CHECK_EQUAL(state["activated_slaves"], 1);
  CHECK_EQUAL(state["leader"], "master@" + master_addr);
  REQUIRE_EQUAL(state["slaves"].size(), 1u);
  auto& slave = state["slaves"][0];
  CHECK_EQUAL(slave["resources"]["cpus"], 2.0);
  CHECK_EQUAL(slave["resources"]["ports"], "[31000-31100]");
  CHECK_EQUAL(slave["used_resources"]["cpus"], 0.5);
  CHECK_EQUAL(slave["address"].get<std::string>() + ":" + std::to_string(slave["http_port"].get<int>()), agent_http);
  REQUIRE_EQUAL(state["frameworks"].size(), 1u);
  auto& fw = state["frameworks"][0];
  CHECK_EQUAL(fw["id"], framework_id);
  CHECK_EQUAL(fw["used_resources"]["mem"], 64.0);
  REQUIRE_EQUAL(fw["tasks"].size(), 1u);
  CHECK_EQUAL(fw["tasks"][0]["name"], "http-task");
  CHECK_EQUAL(fw["tasks"][0]["state"], "TASK_RUNNING");
  CHECK_EQUAL(fw["tasks"][0]["slave_id"], slave["id"]);
  auto summary = parse(http_get(master_http, "/state-summary"));
  CHECK_EQUAL(summary["slaves"][0]["TASK_RUNNING"], 1);
  CHECK_EQUAL(summary["frameworks"][0]["TASK_RUNNING"], 1);
  auto frameworks = parse(http_get(master_http, "/frameworks"));
  CHECK_EQUAL(frameworks["frameworks"][0]["id"], framework_id);
  auto slaves = parse(http_get(master_http, "/slaves"));
  auto agents = parse(http_get(master_http, "/agents"));
  CHECK_EQUAL(slaves["slaves"][0]["id"], slave["id"]);
  CHECK_EQUAL(agents["slaves"][0]["id"], slave["id"]);
  auto tasks = parse(http_get(master_http, "/tasks?limit=10&offset=0&order=asc"));
  CHECK_EQUAL(tasks["tasks"].size(), 1u);
  CHECK_EQUAL(parse(http_get(master_http, "/tasks?offset=1"))["tasks"].size(), 0u);
  CHECK_EQUAL(parse(http_get(master_http, "/tasks?limit=0"))["tasks"].size(), 0u);
  auto roles = parse(http_get(master_http, "/roles"));
  REQUIRE(roles["roles"].is_array());
  auto metrics = parse(http_get(master_http, "/metrics/snapshot"));
  CHECK(metrics.size() >= 30u);
  CHECK_EQUAL(metrics["master/elected"], 1.0);
  CHECK_EQUAL(metrics["master/tasks_running"], 1.0);
  CHECK_EQUAL(metrics["master/slaves_active"], 1.0);
  CHECK_EQUAL(metrics["master/frameworks_active"], 1.0);
  CHECK_EQUAL(metrics["master/cpus_used"], 0.5);
  CHECK_EQUAL(metrics["master/cpus_total"], 2.0);
  CHECK(metrics["master/uptime_secs"].get<double>() > 0);
  CHECK(metrics["master/valid_status_updates"].get<double>() >= 1);
  auto toggled = http_request("POST", master_http, "/logging/toggle?level=debug&duration=2secs", "");
  CHECK_EQUAL(toggled.status, 200);
  CHECK(eventually([&] { return master->output().find("log level DEBUG for 2secs") != std::string::npos
                                || master->output().find("log level debug for 2secs") != std::string::npos; },
                   seconds(10)));
  CHECK_EQUAL(http_request("POST", master_http, "/logging/toggle?level=loud&duration=2secs", "").status, 400);
  CHECK_EQUAL(http_request("POST", master_http, "/logging/toggle?level=1&duration=forever", "").status, 400);
  auto prom = http_get(master_http, "/metrics");
  CHECK_EQUAL(prom.status, 200);
  CHECK(prom.body.find("\nmaster_tasks_running 1\n") != std::string::npos);
  CHECK(prom.body.find("master/") == std::string::npos);
}

TEST(weights and quota are set and read back and bad values change nothing) {
  auto put = http_request("PUT", master_http, "/weights", R"([{"role": "eng", "weight": 2.5}])");
  CHECK_EQUAL(put.status, 200);
  auto weight_of = [&](const std::string& role) {
    for (auto& w : parse(http_get(master_http, "/weights")))
      if (w["role"] == role)
        return w["weight"].get<double>();
    return -1.0;
  };
  CHECK_EQUAL(weight_of("eng"), 2.5);
  CHECK_EQUAL(http_request("PUT", master_http, "/weights", R"([{"role": "eng", "weight": -1}])").status, 400);
  CHECK_EQUAL(http_request("PUT", master_http, "/weights", "not json").status, 400);
  CHECK_EQUAL(http_request("PUT", master_http, "/weights", R"([{"role": "../x", "weight": 1}])").status, 400);
  CHECK_EQUAL(weight_of("eng"), 2.5);
  auto post = http_request("POST", master_http, "/quota", R"({"role": "eng", "guarantee": {"cpus": 1, "mem": 128}})");
  CHECK_EQUAL(post.status, 200);
  auto quota = parse(http_get(master_http, "/quota"));
  REQUIRE_EQUAL(quota["infos"].size(), 1u);
  CHECK_EQUAL(quota["infos"][0]["role"], "eng");
  CHECK_EQUAL(quota["infos"][0]["guarantee"]["cpus"], 1.0);
  CHECK_EQUAL(quota["infos"][0]["guarantee"]["mem"], 128.0);
  // The list form of Mesos.
  auto mesos_form = http_request(
    "POST", master_http, "/quota",
    R"({"role": "ops", "guarantee": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.5}}]})");
  CHECK_EQUAL(mesos_form.status, 200);
  CHECK_EQUAL(http_request("POST", master_http, "/quota", R"({"role": "eng", "guarantee": {"cpus": "lots"}})").status,
              400);
  CHECK_EQUAL(http_request("DELETE", master_http, "/quota/eng").status, 200);
  quota = parse(http_get(master_http, "/quota"));
  REQUIRE_EQUAL(quota["infos"].size(), 1u);
  CHECK_EQUAL(quota["infos"][0]["role"], "ops");
  auto metrics = parse(http_get(master_http, "/metrics/snapshot"));
  CHECK_EQUAL(metrics["allocator/mesos/quota/roles/ops/resources/cpus/guarantee"], 0.5);
}

TEST(the agent endpoints serve its state metrics usage and the task sandbox) {
  CHECK_EQUAL(http_get(agent_http, "/health").status, 200);
  auto dir_of_task = task_directory();
  REQUIRE(!dir_of_task.empty());
  auto stdout_path = dir_of_task + "/stdout";
  // The task may not have flushed yet when the fixture saw TASK_RUNNING.
  json read;
  CHECK(eventually([&] {
    read = parse(http_get(agent_http, "/files/read?path=" + stdout_path + "&offset=0&length=4096"));
    return read.is_object() && read["data"].get<std::string>().find("http-stdout-line") != std::string::npos;
  }, seconds(30)));
  CHECK_EQUAL(read["offset"], 0);
  auto size = parse(http_get(agent_http, "/files/read?path=" + stdout_path + "&offset=-1"));
  CHECK_EQUAL(size["offset"], std::string{"http-stdout-line\n"}.size());
  CHECK_EQUAL(size["data"], "");
  auto tail = parse(http_get(agent_http, "/files/read?path=" + stdout_path + "&offset=5&length=6"));
  CHECK_EQUAL(tail["data"], "stdout");
  auto err = parse(http_get(agent_http, "/files/read?path=" + dir_of_task + "/stderr"));
  CHECK(err["data"].get<std::string>().find("http-stderr-line") != std::string::npos);
  auto listing = parse(http_get(agent_http, "/files/browse?path=" + dir_of_task));
  bool listed = false;
  for (auto& e : listing)
    listed = listed || e["path"] == stdout_path;
  CHECK(listed);
  auto download = http_get(agent_http, "/files/download?path=" + stdout_path);
  CHECK_EQUAL(download.status, 200);
  CHECK_EQUAL(download.body, "http-stdout-line\n");
  // Nothing outside the sandboxes: .., absolute paths, the agent's own checkpoints, symlinks out.
  CHECK_EQUAL(http_get(agent_http, "/files/read?path=" + dir_of_task + "/../../../../../../../../../etc/passwd").status,
              403);
  CHECK_EQUAL(http_get(agent_http, "/files/read?path=/etc/passwd").status, 403);
  CHECK_EQUAL(http_get(agent_http, "/files/browse?path=" + dir / "agent").status, 403);
  CHECK_EQUAL(http_get(agent_http, "/files/download?path=" + dir / "agent/meta/agent").status, 403);
  std::filesystem::create_symlink("/etc/passwd", dir_of_task + "/escape");
  CHECK_EQUAL(http_get(agent_http, "/files/read?path=" + dir_of_task + "/escape").status, 403);
  CHECK_EQUAL(http_get(agent_http, "/files/read?path=" + dir_of_task + "/missing").status, 404);
  CHECK_EQUAL(http_get(agent_http, "/files/read?path=" + stdout_path + "&offset=abc").status, 400);
  // State, metrics, usage.
  auto state = parse(http_get(agent_http, "/state"));
  CHECK_EQUAL(state["resources"]["cpus"], 2.0);
  CHECK_EQUAL(state["frameworks"][0]["id"], framework_id);
  auto metrics = parse(http_get(agent_http, "/metrics/snapshot"));
  CHECK_EQUAL(metrics["slave/registered"], 1.0);
  CHECK_EQUAL(metrics["slave/tasks_running"], 1.0);
  CHECK_EQUAL(metrics["slave/cpus_total"], 2.0);
  CHECK(http_get(agent_http, "/metrics").body.find("\nslave_tasks_running 1\n") != std::string::npos);
  json usage;
  CHECK(eventually([&] {
    usage = parse(http_get(agent_http, "/monitor/statistics"));
    return usage.is_array() && !usage.empty() && usage[0]["statistics"]["mem_rss_bytes"].get<double>() > 0;
  }, seconds(30)));
  CHECK_EQUAL(usage[0]["framework_id"], framework_id);
}

TEST(an operator teardown ends the framework and its task) {
  auto r = http_request("POST", master_http, "/teardown", "frameworkId=" + framework_id,
                        "application/x-www-form-urlencoded");
  CHECK_EQUAL(r.status, 200);
  CHECK(task->wait_exit(seconds(60)).has_value());
  CHECK(eventually([&] {
    auto s = parse(http_get(master_http, "/state"));
    return s["frameworks"].empty() && s["completed_frameworks"].size() == 1u
           && s["completed_frameworks"][0]["id"] == framework_id;
  }, seconds(30)));
  auto again = http_request("POST", master_http, "/teardown", "frameworkId=" + framework_id,
                            "application/x-www-form-urlencoded");
  CHECK_EQUAL(again.status, 404);
  CHECK_EQUAL(http_request("POST", master_http, "/teardown", "", "application/x-www-form-urlencoded").status, 400);
}

TEST(bad requests get a 4xx answer and change nothing) {
  CHECK_EQUAL(http_get(master_http, "/no/such/endpoint").status, 404);
  CHECK_EQUAL(http_request("POST", master_http, "/state", "{}").status, 405);
  CHECK_EQUAL(http_request("DELETE", master_http, "/weights").status, 405);
  CHECK_EQUAL(http_get(master_http, "/tasks?limit=-3").status, 400);
  CHECK_EQUAL(http_get(master_http, "/tasks?order=sideways").status, 400);
  CHECK_EQUAL(http_request("POST", master_http, "/quota", std::string(2 << 20, 'x')).status, 413);
  CHECK_EQUAL(http_get(agent_http, "/files/read").status, 400);
  // The daemons still serve.
  CHECK_EQUAL(http_get(master_http, "/health").status, 200);
  auto metrics = parse(http_get(master_http, "/metrics/snapshot"));  // a local: CHECK_EQUAL keeps a reference
  CHECK_EQUAL(metrics["master/tasks_running"], 1.0);
}

TEST(thousands of idle connections and a slow client do not stop offers and updates) {
  rlimit lim{};
  ::getrlimit(RLIMIT_NOFILE, &lim);
  lim.rlim_cur = lim.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &lim);
  REQUIRE(lim.rlim_cur >= 2200);
  std::vector<int> fds;
  for (int i = 0; i < 2000; ++i) {
    int fd = connect_to(master_http);
    if (fd >= 0)
      fds.push_back(fd);
  }
  CHECK_EQUAL(fds.size(), 2000u);
  // A slow client: half a request header, then nothing.
  int slow = connect_to(master_http);
  REQUIRE(slow >= 0);
  std::string partial = "GET /state HTTP/1.1\r\nHost: x\r\n";
  CHECK_EQUAL(::write(slow, partial.data(), partial.size()), static_cast<ssize_t>(partial.size()));
  // Offers and status updates still flow: a new framework gets an offer, launches, and its task finishes.
  auto done = run_to_completion({bin, "execute", "--master=" + master_addr, "--name=while-busy",
                                 "--command=echo ok", "--resources=cpus:0.1;mem:32"},
                                dir / "busy.log", seconds(120));
  CHECK_EQUAL(done.exit_code, 0);
  CHECK_EQUAL(http_get(master_http, "/health").status, 200);
  auto metrics = parse(http_get(master_http, "/metrics/snapshot"));
  CHECK_EQUAL(metrics["master/tasks_finished"], 1.0);
  for (int fd : fds)
    ::close(fd);
  ::close(slow);
}

FIXTURE_SCOPE_END()
