// Integration: the task's life with real processes on loopback. A master and two agents (racks r1 and r2) run as
// separate `mesoscaf` processes and `mesoscaf execute` is the framework: health checks, kill policies, the
// fetcher (a local HTTP server in this test counts the downloads), attributes and constraints, task groups
// (`execute --group`), and the bad input of each. UPDATE_FRAMEWORK runs against an in-process cluster with the C++ driver. Bounded waits throughout.
#define CAF_SUITE integration_task_life
#include "actors/sdk/framework_config.hpp"
#include "test.hpp"

#include "child_process.hpp"
#include "process_scan.hpp"
#include "test_helpers.hpp"

#include "file_server.hpp"
#include "http_test_client.hpp"
#include "actors/sdk/local_cluster.hpp"
#include "actors/sdk/scheduler_driver.hpp"

#include <caf/actor_system.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

using namespace mesoscaf;
using namespace mesoscaf::test;
using namespace std::chrono;

namespace {

const std::string bin = MESOSCAF_BINARY;

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out{path};
  out << text;
  REQUIRE(out.good());
}

std::string sh(const std::string& command) {
  auto rc = std::system(command.c_str());
  REQUIRE_EQUAL(rc, 0);
  return command;
}

struct cluster_fixture {
  temp_dir dir{"mesoscaf-life"};
  std::unique_ptr<child_process> master;
  std::vector<std::unique_ptr<child_process>> agents;
  std::vector<std::string> agent_ids;
  std::string master_addr;
  std::string master_http;

  cluster_fixture() {
    master = std::make_unique<child_process>(
      std::vector<std::string>{bin, "master", "--port=0", "--http-port=0", "--work-dir=" + dir / "master"},
      dir / "master.log");
    auto m = master->wait_for_line("master listening on (127\\.0\\.0\\.1:[0-9]+)", seconds(60));
    REQUIRE(m);
    master_addr = (*m)[1];
    auto mh = master->wait_for_line("master http listening on (127\\.0\\.0\\.1:[0-9]+)", seconds(60));
    REQUIRE(mh);
    master_http = (*mh)[1];
    for (int i = 0; i < 2; ++i) {
      auto name = "agent" + std::to_string(i);
      agents.push_back(std::make_unique<child_process>(
        std::vector<std::string>{bin, "agent", "--master=" + master_addr, "--port=0", "--http-port=0",
                                 "--work-dir=" + dir / name,
                                 "--attributes=rack:r" + std::to_string(i + 1) + ";slots:[1-4]",
                                 "--resources=cpus:2;mem:1024;disk:1000;ports:[31000-31100]"},
        dir / (name + ".log")));
    }
    for (auto& a : agents) {
      auto r = a->wait_for_line("agent registered with id ([-0-9a-f]+)", seconds(60));
      if (!r)
        MESSAGE("agent output:\n" << a->output());
      REQUIRE(r);
      agent_ids.push_back((*r)[1]);
    }
  }

  ~cluster_fixture() {
    for (auto& a : agents)
      a->signal(SIGTERM);
    master->signal(SIGTERM);
    for (auto& a : agents)
      CHECK(a->wait_exit(seconds(30)));
    CHECK(master->wait_exit(seconds(30)));
  }

  run_result execute(std::vector<std::string> extra, const std::string& log) {
    std::vector<std::string> argv{bin, "execute", "--master=" + master_addr, "--no-checkpoint"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return run_to_completion(argv, dir / log, seconds(120));
  }
};

} // namespace

FIXTURE_SCOPE(task_life_tests, cluster_fixture)

TEST(a task starts with TASK_STARTING and a failing health check kills it with the reason) {
  auto r = execute({"--command=sleep 60", "--health-check-command=exit 3", "--health-check-delay=0s",
                    "--health-check-interval=200ms", "--health-check-grace-period=0s",
                    "--health-check-consecutive-failures=2", "--quiet"},
                   "unhealthy.log");
  MESSAGE(r.output);
  CHECK_EQUAL(r.exit_code, 1);
  CHECK(contains(r.output, "TASK_STARTING task="));
  CHECK(contains(r.output, "reason=REASON_TASK_HEALTH_CHECK_STATUS_UPDATED healthy=false"));
  CHECK(contains(r.output, "TASK_KILLING task="));  // execute has TASK_KILLING_STATE
  CHECK(contains(r.output, "ended TASK_KILLED reason=REASON_TASK_HEALTH_CHECK_STATUS_UPDATED message=Task killed "
                           "after 2 consecutive failed health check(s): command exited with status 3"));
}

TEST(an http health check on a port of the task reports it healthy) {
  // The task is a mesoscaf master whose HTTP port (one of the task's ports) answers /health.
  auto cmd = bin + " master --port=0 --http-port=31050 --work-dir=./m & pid=$!; sleep 6; kill $pid; wait $pid; "
                   "exit 0";
  auto r = execute({"--command=" + cmd, "--resources=cpus:0.2;mem:64;ports:[31050-31050]",
                    "--health-check-http=31050/health", "--health-check-delay=0s", "--health-check-interval=500ms",
                    "--health-check-grace-period=60s", "--quiet"},
                   "http-health.log");
  MESSAGE(r.output);
  CHECK_EQUAL(r.exit_code, 0);
  CHECK(contains(r.output, "reason=REASON_TASK_HEALTH_CHECK_STATUS_UPDATED healthy=true"));
  CHECK(!contains(r.output, "healthy=false"));
}

TEST(a task that ignores TERM is killed after its grace period) {
  auto started = steady_clock::now();
  auto r = execute({"--command=trap 'echo got-term' TERM; while true; do sleep 0.1; done", "--kill-after=1s",
                    "--kill-grace-period=3s"},
                   "stubborn.log");
  auto took = steady_clock::now() - started;
  MESSAGE(r.output);
  CHECK(contains(r.output, "got-term"));
  CHECK(contains(r.output, "ended TASK_KILLED reason=REASON_NONE message=Command terminated by signal 9"));
  // SIGKILL never comes before the grace period (a lower bound: a slow machine cannot break it).
  CHECK_GREATER_OR_EQUAL(duration_cast<milliseconds>(took).count(), 4000);
}

TEST(a task that exits on TERM ends without waiting for its long grace period) {
  auto started = steady_clock::now();
  auto r = execute({"--command=trap 'echo bye; exit 0' TERM; while true; do sleep 0.1; done", "--kill-after=1s",
                    "--kill-grace-period=60s"},
                   "polite.log");
  auto took = steady_clock::now() - started;
  MESSAGE(r.output);
  CHECK(contains(r.output, "bye"));
  CHECK(contains(r.output, "ended TASK_KILLED reason=REASON_NONE message=Command exited with status 0"));
  CHECK_LESS(duration_cast<seconds>(took).count(), 50);
}

TEST(a fetched archive is extracted and executable and a cache hit downloads nothing) {
  file_server http;
  sh("mkdir -p " + dir / "art/pkg" + " && printf '#!/bin/sh\\necho hello-from-artifact\\n' > " + dir
     / "art/pkg/run.sh" + " && chmod +x " + dir / "art/pkg/run.sh" + " && tar -C " + dir / "art" + " -czf "
     + dir / "app.tar.gz" + " pkg");
  http.put_file("/files/app.tar.gz", dir / "app.tar.gz");
  auto uri = "--uri=" + http.url("/files/app.tar.gz") + ",extract,cache";
  auto first = execute({"--command=./pkg/run.sh", uri, "--constraint=rack:r1"}, "fetch1.log");
  MESSAGE(first.output);
  CHECK_EQUAL(first.exit_code, 0);
  CHECK(contains(first.output, "hello-from-artifact"));
  CHECK_EQUAL(http.count("/files/app.tar.gz"), 1);
  // Same agent (the cache is per agent), same user: no second request.
  auto second = execute({"--command=./pkg/run.sh", uri, "--constraint=rack:r1"}, "fetch2.log");
  CHECK_EQUAL(second.exit_code, 0);
  CHECK(contains(second.output, "hello-from-artifact"));
  CHECK(contains(second.output, "Using cached"));
  CHECK_EQUAL(http.count("/files/app.tar.gz"), 1);
  // A plain file with `executable`, no extraction.
  http.put_file("/files/tool.sh", dir / "art/pkg/run.sh");
  auto tool = execute({"--command=./tool.sh", "--uri=" + http.url("/files/tool.sh") + ",executable"}, "tool.log");
  CHECK_EQUAL(tool.exit_code, 0);
  CHECK(contains(tool.output, "hello-from-artifact"));
}

TEST(a failed fetch fails the task with the uri and cause and runs nothing) {
  file_server http;
  auto r = execute({"--command=touch ran", "--uri=" + http.url("/files/missing.tar.gz"), "--quiet"}, "404.log");
  MESSAGE(r.output);
  CHECK_EQUAL(r.exit_code, 1);
  CHECK(contains(r.output, "ended TASK_FAILED reason=REASON_CONTAINER_LAUNCH_FAILED message=Failed to fetch '"
                             + http.url("/files/missing.tar.gz") + "'"));
  CHECK(contains(r.output, "404"));
  // An archive with a ../ entry: refused whole, nothing of it written.
  sh("mkdir -p " + dir / "evil/in" + " && echo bad > " + dir / "evil/evil" + " && echo good > " + dir
     / "evil/in/good" + " && cd " + dir / "evil/in" + " && tar -P -czf " + dir / "evil.tar.gz" + " good ../evil");
  http.put_file("/files/evil.tar.gz", dir / "evil.tar.gz");
  auto evil = execute({"--command=touch ran", "--uri=" + http.url("/files/evil.tar.gz") + ",extract"}, "evil.log");
  MESSAGE(evil.output);
  CHECK_EQUAL(evil.exit_code, 1);
  CHECK(contains(evil.output, "REASON_CONTAINER_LAUNCH_FAILED"));
  CHECK(contains(evil.output, "'../evil'"));
  for (auto& entry : std::filesystem::recursive_directory_iterator(dir.path())) {
    auto name = entry.path().filename().string();
    CHECK(!(name == "good" && !contains(entry.path().string(), "/evil/in/")));
    CHECK(!(name == "ran"));
    CHECK(!(name == "evil" && entry.path().parent_path().filename() == "tasks"));
  }
}

TEST(bad task life flags are refused before anything is launched) {
  auto bad_uri = execute({"--command=true", "--uri=ftp://example.org/x"}, "bad-uri.log");
  CHECK_EQUAL(bad_uri.exit_code, 2);
  CHECK(contains(bad_uri.output, "expected an absolute path, file:///..., http://... or https://..."));
  auto escape = execute({"--command=true", "--uri=/etc/hosts,extract,nope"}, "bad-opt.log");
  CHECK_EQUAL(escape.exit_code, 2);
  CHECK(contains(escape.output, "unknown option 'nope'"));
  auto port = execute({"--command=true", "--health-check-tcp=8080"}, "bad-port.log");
  CHECK_EQUAL(port.exit_code, 2);
  CHECK(contains(port.output, "health check port 8080 is not one of the task's ports"));
  auto grace = execute({"--command=true", "--kill-grace-period=10000h"}, "bad-grace.log");
  CHECK_EQUAL(grace.exit_code, 2);
  CHECK(contains(grace.output, "grace period"));
  auto constraint = execute({"--command=true", "--constraint=rack"}, "bad-constraint.log");
  CHECK_EQUAL(constraint.exit_code, 2);
  CHECK(contains(constraint.output, "expected ATTR:VALUE"));
}

// -- task groups (mesoscaf execute --group=FILE.json) --

namespace {

// A group file with these tasks (ID and shell command each) in Mesos' TaskGroupInfo JSON.
std::string group_json(const std::vector<std::pair<std::string, std::string>>& tasks,
                       const std::string& extra = "") {
  std::string out = "{\"tasks\": [";
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    if (i > 0)
      out += ", ";
    out += "{\"name\": \"" + tasks[i].first + "\", \"task_id\": {\"value\": \"" + tasks[i].first
           + "\"}, \"resources\": [{\"name\": \"cpus\", \"type\": \"SCALAR\", \"scalar\": {\"value\": 0.1}}, "
             "{\"name\": \"mem\", \"type\": \"SCALAR\", \"scalar\": {\"value\": 32}}], \"command\": {\"value\": \""
           + tasks[i].second + "\"}}";
  }
  return out + "]" + extra + "}";
}

} // namespace

TEST(a group whose second task fails ends with both killed) {
  auto file = dir / "failing-group.json";
  write_file(file, group_json({{"web", "sleep 60"}, {"sidecar", "sleep 1; exit 3"}}));
  auto started = steady_clock::now();
  auto r = execute({"--group=" + file, "--quiet"}, "failing-group.log");
  auto took = steady_clock::now() - started;
  MESSAGE(r.output);
  CHECK_EQUAL(r.exit_code, 1);
  CHECK(contains(r.output, "launching group tasks=web,sidecar agent="));
  CHECK(contains(r.output, "TASK_STARTING task=web"));
  CHECK(contains(r.output, "TASK_RUNNING task=web"));
  CHECK(contains(r.output, "TASK_RUNNING task=sidecar"));
  CHECK(contains(r.output, "task sidecar ended TASK_FAILED reason=REASON_COMMAND_EXECUTOR_FAILED message=Command "
                           "exited with status 3"));
  CHECK(contains(r.output, "TASK_KILLING task=web"));
  CHECK(contains(r.output, "task web ended TASK_KILLED reason=REASON_NONE message=Killed because task sidecar of "
                           "its group is TASK_FAILED"));
  CHECK(took < seconds(40));  // web's `sleep 60` did not run to its end
}

TEST(a group runs its tasks together and with KEEP_RUNNING a failure leaves the others alone) {
  auto ok_file = dir / "ok-group.json";
  write_file(ok_file, group_json({{"a", "echo from-a"}, {"b", "echo from-b"}}));
  auto ok = execute({"--group=" + ok_file}, "ok-group.log");
  MESSAGE(ok.output);
  CHECK_EQUAL(ok.exit_code, 0);
  CHECK(contains(ok.output, "task a ended TASK_FINISHED"));
  CHECK(contains(ok.output, "task b ended TASK_FINISHED"));
  // Each task has a sandbox of its own, whose output execute shows.
  CHECK(contains(ok.output, "from-a"));
  CHECK(contains(ok.output, "from-b"));
  auto keep_file = dir / "keep-group.json";
  write_file(keep_file, group_json({{"steady", "sleep 2"}, {"flaky", "exit 4"}}, ", \"failure_policy\": \"KEEP_RUNNING\""));
  auto keep = execute({"--group=" + keep_file, "--quiet"}, "keep-group.log");
  MESSAGE(keep.output);
  CHECK_EQUAL(keep.exit_code, 1);
  CHECK(contains(keep.output, "task flaky ended TASK_FAILED"));
  CHECK(contains(keep.output, "task steady ended TASK_FINISHED"));
}

TEST(a group one of whose tasks cannot fetch runs none of them) {
  file_server http;
  auto file = dir / "fetch-group.json";
  auto marker = dir / "group-ran";
  write_file(file, "{\"tasks\": [{\"name\": \"first\", \"resources\": \"cpus:0.1;mem:32\", "
                   "\"command\": {\"value\": \"touch " + marker + "\"}}, "
                   "{\"name\": \"second\", \"resources\": \"cpus:0.1;mem:32\", \"command\": {\"value\": \"true\", "
                   "\"uris\": [{\"value\": \"" + http.url("/files/missing.tar.gz") + "\"}]}}]}");
  auto r = execute({"--group=" + file, "--quiet"}, "fetch-group.log");
  MESSAGE(r.output);
  CHECK_EQUAL(r.exit_code, 1);
  CHECK(contains(r.output, "task second ended TASK_FAILED reason=REASON_CONTAINER_LAUNCH_FAILED message=Failed to "
                           "fetch '" + http.url("/files/missing.tar.gz") + "'"));
  CHECK(contains(r.output, "task first ended TASK_KILLED"));
  CHECK(!contains(r.output, "TASK_RUNNING"));
  CHECK(!std::filesystem::exists(marker));
}

TEST(bad group files are refused before anything is launched) {
  auto dup = dir / "dup-group.json";
  write_file(dup, group_json({{"same", "true"}, {"same", "true"}}));
  auto r = execute({"--group=" + dup}, "dup-group.log");
  CHECK_EQUAL(r.exit_code, 2);
  CHECK(contains(r.output, "tasks[1].task_id: task ID 'same' appears twice in the group"));
  CHECK(!contains(r.output, "subscribed"));
  auto junk = dir / "junk-group.json";
  write_file(junk, "{\"tasks\": [");
  auto j = execute({"--group=" + junk}, "junk-group.log");
  CHECK_EQUAL(j.exit_code, 2);
  CHECK(contains(j.output, "not valid JSON"));
  auto both = execute({"--group=" + dup, "--command=true"}, "both-group.log");
  CHECK_EQUAL(both.exit_code, 2);
  CHECK(contains(both.output, "--group and --command exclude each other"));
  auto missing = execute({"--group=" + dir / "nope.json"}, "missing-group.log");
  CHECK_EQUAL(missing.exit_code, 2);
  CHECK(contains(missing.output, "no such file"));
}

TEST(offers carry the attributes and a constraint picks the right agent) {
  auto r = execute({"--command=true", "--constraint=rack:r2", "--constraint=slots:3", "--label=tier=web", "--quiet"},
                   "rack2.log");
  MESSAGE(r.output);
  CHECK_EQUAL(r.exit_code, 0);
  CHECK(contains(r.output, "agent=" + agent_ids[1] + " resources="));
  // The master's state shows the agents' attributes and the task's label.
  auto state = http_get(master_http, "/state");
  CHECK(contains(state.body, "\"rack\":\"r2\""));
  CHECK(contains(state.body, "{\"key\":\"tier\",\"value\":\"web\"}"));
  auto none = execute({"--command=true", "--constraint=rack:r9", "--timeout=3s", "--quiet"}, "rack9.log");
  CHECK_EQUAL(none.exit_code, 1);
  CHECK(!contains(none.output, "launching task="));
  CHECK(contains(none.output, "timed out"));
}

TEST(a restarted agent keeps its attributes unless its policy allows adding) {
  auto work = dir / "agent-reconf";
  auto start = [&](const std::string& attributes, const std::string& policy, const std::string& log) {
    return std::make_unique<child_process>(
      std::vector<std::string>{bin, "agent", "--master=" + master_addr, "--port=0", "--http-port=0",
                               "--work-dir=" + work, "--attributes=" + attributes,
                               "--reconfiguration-policy=" + policy, "--resources=cpus:1;mem:128"},
      dir / log);
  };
  auto first = start("rack:r3", "equal", "reconf1.log");
  auto id = first->wait_for_line("agent registered with id ([-0-9a-f]+)", seconds(60));
  REQUIRE(id);
  std::string agent = (*id)[1];
  REQUIRE(eventually([&] { return std::filesystem::exists(work + "/meta/agent"); }, seconds(30)));
  first->signal(SIGKILL);
  REQUIRE(first->wait_exit(seconds(30)));
  // A changed attribute: refused, whatever the policy; nothing registers.
  auto changed = start("rack:r4", "additive", "reconf2.log");
  auto code = changed->wait_exit(seconds(60));
  REQUIRE(code);
  CHECK_EQUAL(*code, 1);
  CHECK(contains(changed->output(), "agent " + agent + ": the attributes changed from rack:r3 to rack:r4: "
                                    "attribute 'rack' changed"));
  CHECK(contains(changed->output(), "--recover=cleanup"));
  // An added one: refused under equal, accepted under additive (same agent ID).
  auto equal = start("rack:r3;zone:z1", "equal", "reconf3.log");
  code = equal->wait_exit(seconds(60));
  REQUIRE(code);
  CHECK_EQUAL(*code, 1);
  CHECK(contains(equal->output(), "allows no change"));
  auto additive = start("rack:r3;zone:z1", "additive", "reconf4.log");
  auto again = additive->wait_for_line("agent registered with id ([-0-9a-f]+)", seconds(60));
  REQUIRE(again);
  CHECK_EQUAL((*again)[1], agent);
  additive->signal(SIGTERM);
  CHECK(additive->wait_exit(seconds(30)));
}

FIXTURE_SCOPE_END()

// -- UPDATE_FRAMEWORK (in-process cluster, C++ driver) ---------------------------------------------------------

namespace {

/// Holds every offer (never declines) and records offers and rescinds per role.
struct holding_scheduler : scheduler {
  std::mutex mtx;
  std::map<std::string, int> offers_by_role;
  std::map<offer_id, std::string> held;  // outstanding: role
  int rescinded = 0;
  std::vector<std::string> errors;

  void resource_offers(scheduler_driver*, const std::vector<offer>& offers) override {
    std::lock_guard<std::mutex> guard{mtx};
    for (auto& o : offers) {
      ++offers_by_role[o.role];
      held[o.id] = o.role;
    }
  }
  void offer_rescinded(scheduler_driver*, const offer_id& id) override {
    std::lock_guard<std::mutex> guard{mtx};
    if (held.erase(id) > 0)
      ++rescinded;
  }
  void error(scheduler_driver*, const std::string& message) override {
    std::lock_guard<std::mutex> guard{mtx};
    errors.push_back(message);
  }
  int offers_in(const std::string& role) {
    std::lock_guard<std::mutex> guard{mtx};
    return offers_by_role[role];
  }
};

struct sys_fixture {
  framework_config cfg;
  caf::actor_system sys{init(cfg)};

  static framework_config& init(framework_config& c) {
    c.set("scheduler.max-threads", 2);
    return c;
  }
};

} // namespace

FIXTURE_SCOPE(update_framework_tests, sys_fixture)

TEST(update_framework adding a role brings offers for it and leaving it rescinds them) {
  local_cluster_options opts;
  opts.agents = 1;
  opts.agent_resources = *resource_set::parse("cpus(analytics):1;mem(analytics):128");
  opts.allocation_interval = milliseconds(100);
  local_cluster cluster{sys, opts};
  REQUIRE(cluster.wait_for_agents(1, seconds(30)));
  holding_scheduler sched;
  framework_info fw;
  fw.name = "updater";
  fw.roles = {"web"};
  scheduler_driver driver{sys, &sched, fw, cluster.master()};
  REQUIRE(driver.start() == driver_status::running);
  // Nothing is unreserved: role web gets no offers (the reservation is analytics').
  CHECK(!eventually([&] { return sched.offers_in("analytics") + sched.offers_in("web") > 0; }, seconds(1)));
  fw.roles = {"web", "analytics"};
  fw.labels = {{"team", "data"}};
  CHECK(driver.update_framework(fw) == driver_status::running);
  CHECK(eventually([&] { return sched.offers_in("analytics") > 0; }, seconds(30)));
  // The allocator has the framework in the new role.
  auto in_role = [&](const std::string& role) {
    for (auto& r : cluster.state().roles)
      if (r.name == role)
        return std::find(r.frameworks.begin(), r.frameworks.end(), driver.id()) != r.frameworks.end();
    return false;
  };
  CHECK(in_role("analytics"));
  // Leaving analytics takes its outstanding offer back.
  fw.roles = {"web"};
  driver.update_framework(fw);
  CHECK(eventually([&] {
    std::lock_guard<std::mutex> guard{sched.mtx};
    return sched.rescinded > 0;
  }, seconds(30)));
  // What may not change is refused and changes nothing.
  fw.user = "someone-else";
  driver.update_framework(fw);
  CHECK(eventually([&] {
    std::lock_guard<std::mutex> guard{sched.mtx};
    return !sched.errors.empty() && contains(sched.errors.back(), "its user cannot change");
  }, seconds(30)));
  CHECK(!in_role("analytics"));
  CHECK(in_role("web"));
  driver.stop();
  driver.join();
}

FIXTURE_SCOPE_END()
