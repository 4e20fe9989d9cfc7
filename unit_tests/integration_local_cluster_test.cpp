// Integration: a master and two agents in one actor system (local_cluster), a callback framework through the
// scheduler driver with an in-process master handle, real command-executor processes, ordered bounded stop.
#define CAF_SUITE integration_local_cluster
#include "actors/sdk/framework_config.hpp"
#include "test.hpp"

#include "child_process.hpp"
#include "process_scan.hpp"
#include "test_helpers.hpp"

#include <unistd.h>

#include "actors/sdk/local_cluster.hpp"
#include "actors/sdk/scheduler_driver.hpp"
#include "config/daemon_config.hpp"

#include <caf/actor_system.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

using namespace mesoscaf;
using namespace std::chrono_literals;

namespace {

/// Launches the given commands (one task each, as offers allow) and stops when all are terminal.
struct batch_scheduler : scheduler {
  std::vector<std::string> commands;
  size_t next = 0;
  std::mutex mtx;
  std::map<std::string, task_state> final_states;
  std::map<std::string, std::string> agents;
  std::map<std::string, task_status> terminal;  // by task ID

  explicit batch_scheduler(std::vector<std::string> cmds) : commands(std::move(cmds)) {}

  void resource_offers(scheduler_driver* d, const std::vector<offer>& offers) override {
    auto need = *resource_set::parse("cpus:0.5;mem:32");
    for (auto& o : offers) {
      if (next >= commands.size() || !o.resources.contains(need)) {
        d->decline_offer(o.id, filters{next >= commands.size() ? 60.0 : 0.2});
        continue;
      }
      task_info t;
      t.id = task_id{"task-" + std::to_string(next)};
      t.name = t.id.value;
      t.resources = need;   // agent left empty: the driver fills it in from the offer
      command_info c;
      c.value = commands[next++];
      t.command = c;
      d->launch_tasks({o.id}, {t}, filters{0});
    }
  }

  void status_update(scheduler_driver* d, const task_status& s) override {
    if (!is_terminal(s.state))
      return;
    std::lock_guard<std::mutex> guard{mtx};
    final_states[s.task.value] = s.state;
    agents[s.task.value] = s.agent.value;
    terminal[s.task.value] = s;
    if (final_states.size() == commands.size())
      d->stop();
  }
};

/// Launches one task (ID `id`, running `command`) on the first offer and keeps every status it gets.
struct single_task_scheduler : scheduler {
  std::string id;
  std::string command;
  bool launched = false;
  std::mutex mtx;
  std::vector<task_status> updates;

  single_task_scheduler(std::string task, std::string cmd) : id(std::move(task)), command(std::move(cmd)) {}

  void resource_offers(scheduler_driver* d, const std::vector<offer>& offers) override {
    for (auto& o : offers) {
      if (launched) {
        d->decline_offer(o.id, filters{60});
        continue;
      }
      launched = true;
      auto t = mesoscaf::test::shell_task(id, command);
      t.resources = *resource_set::parse("cpus:0.1;mem:16");
      d->launch_tasks({o.id}, {t});
    }
  }

  void status_update(scheduler_driver*, const task_status& s) override {
    std::lock_guard<std::mutex> guard{mtx};
    updates.push_back(s);
  }

  std::optional<task_status> last() {
    std::lock_guard<std::mutex> guard{mtx};
    if (updates.empty())
      return std::nullopt;
    return updates.back();
  }

  bool in_state(task_state st) {
    auto s = last();
    return s && s->state == st;
  }
};

/// A framework with checkpoint=true running one long task (`marker`: a unique sleep) on the cluster; stopped
/// (torn down) at the end of the test.
struct checkpointing_run {
  single_task_scheduler sched;
  scheduler_driver driver;

  checkpointing_run(caf::actor_system& sys, local_cluster& c, const std::string& task, const std::string& marker)
    : sched{task, marker}, driver{sys, &sched, checkpointing_framework(), c.master()} {
    driver.start();
  }

  ~checkpointing_run() {
    driver.stop();
    driver.join();
  }

  static framework_info checkpointing_framework() {
    framework_info fw;
    fw.name = "checkpointing";
    fw.checkpoint = true;
    return fw;
  }
};

/// The agent summary with this ID, if the master lists it.
std::optional<agent_summary> find_agent(local_cluster& c, const agent_id& id) {
  for (auto& a : c.state().agents)
    if (a.id == id)
      return a;
  return std::nullopt;
}

struct fixture {
  framework_config cfg;
  caf::actor_system sys{init(cfg)};

  static framework_config& init(framework_config& c) {
    c.set("scheduler.max-threads", 2);
    return c;
  }
};

} // namespace

FIXTURE_SCOPE(local_cluster_tests, fixture)

TEST(agents register and tasks run to their real end states) {
  local_cluster_options opts;
  opts.agents = 2;
  opts.agent_resources = *resource_set::parse("cpus:1;mem:256");
  opts.allocation_interval = 100ms;
  local_cluster cluster{sys, opts};
  CHECK_NOT_EQUAL(cluster.master_port(), 0);
  REQUIRE(cluster.wait_for_agents(2, 30s));
  auto snap = cluster.state();
  REQUIRE_EQUAL(snap.agents.size(), 2u);
  CHECK_EQUAL(snap.agents[0].total.scalar_value("cpus"), 1.0);

  // Four tasks of 0.5 CPU on 2 x 1 CPU: both agents are used.
  batch_scheduler sched{{"true", "exit 3", "echo hi", "true"}};
  framework_info fw;
  fw.name = "local-cluster-test";
  scheduler_driver driver{sys, &sched, fw, cluster.master()};
  CHECK(driver.run() == driver_status::stopped);
  std::lock_guard<std::mutex> guard{sched.mtx};
  REQUIRE_EQUAL(sched.final_states.size(), 4u);
  CHECK(sched.final_states["task-0"] == task_state::finished);
  CHECK(sched.final_states["task-1"] == task_state::failed);
  CHECK(sched.final_states["task-2"] == task_state::finished);
  CHECK(sched.final_states["task-3"] == task_state::finished);
  std::set<std::string> used;
  for (auto& [t, a] : sched.agents)
    used.insert(a);
  CHECK_EQUAL(used.size(), 2u);

  auto before = std::chrono::steady_clock::now();
  cluster.stop();
  CHECK_LESS(std::chrono::steady_clock::now() - before, std::chrono::seconds(15));
  CHECK(!cluster.master());
  CHECK(cluster.state().agents.empty());
}

TEST(stop kills running tasks and is bounded) {
  local_cluster_options opts;
  opts.agents = 1;
  opts.allocation_interval = 100ms;
  local_cluster cluster{sys, opts};
  REQUIRE(cluster.wait_for_agents(1, 30s));
  // A unique sleep duration marks the task's processes (the shell and the sleep it starts).
  static const std::string marker = "sleep 8" + std::to_string(::getpid());
  single_task_scheduler sched{"sleeper", marker};
  framework_info fw;
  fw.name = "sleeper";
  scheduler_driver driver{sys, &sched, fw, cluster.master()};
  driver.start();
  REQUIRE(mesoscaf::test::eventually([&] { return sched.in_state(task_state::running); }, 15s));
  auto before = std::chrono::steady_clock::now();
  cluster.stop();
  CHECK_LESS(std::chrono::steady_clock::now() - before, std::chrono::seconds(15));
  driver.stop();
  driver.join();
  // The task's processes are gone (pgrep exits 1 when nothing matches).
  mesoscaf::test::temp_dir dir{"mesoscaf-lc"};
  bool gone = false;
  for (int i = 0; i < 300 && !gone; ++i) {
    auto r = mesoscaf::test::run_to_completion({"/usr/bin/pgrep", "-f", marker}, dir / "pgrep.log", 10s);
    gone = r.exit_code == 1;
    if (!gone)
      std::this_thread::sleep_for(100ms);
  }
  CHECK(gone);
}

TEST(wait_for_agents times out when agents cannot be there) {
  local_cluster_options opts;
  opts.agents = 1;
  local_cluster cluster{sys, opts};
  CHECK(!cluster.wait_for_agents(5, 300ms));
}

// [testing-sample-test] (docs/TESTING.md quotes this test)
TEST(the scheduler of a user runs its tasks on a local cluster) {
  local_cluster_options opts;
  opts.allocation_interval = 100ms;  // offers come quickly
  // opts.keep_work_dir = true;      // uncomment to look at the sandboxes after the test
  local_cluster cluster{sys, opts};
  REQUIRE(cluster.wait_for_agents(1, 30s));

  batch_scheduler sched{{"echo hello from my scheduler", "exit 3"}};  // the scheduler under test
  framework_info fw;
  fw.name = "my-framework";
  scheduler_driver driver{sys, &sched, fw, cluster.master()};
  driver.start();
  // Bounded: a scheduler that never finishes fails the test instead of hanging it.
  auto ended = mesoscaf::test::eventually([&] { return driver.status() != driver_status::running; }, 60s);
  driver.stop();
  driver.join();  // the callbacks are over: the scheduler's members can be read without its lock
  REQUIRE(ended);
  REQUIRE_EQUAL(sched.terminal.size(), 2u);
  auto& hello = sched.terminal["task-0"];
  CHECK(hello.state == task_state::finished);
  CHECK(sched.terminal["task-1"].state == task_state::failed);

  // The task's output, from its sandbox on the agent.
  auto out = cluster.read_sandbox_file(cluster.sandbox_of(driver.id(), hello), "stdout");
  CHECK_EQUAL(out.error, "");
  CHECK_EQUAL(out.content, "hello from my scheduler\n");
}
// [testing-sample-test-end]

TEST(run_command returns the final status and the sandbox holds the output) {
  local_cluster_options opts;
  opts.allocation_interval = 100ms;
  local_cluster cluster{sys, opts};
  REQUIRE(cluster.wait_for_agents(1, 30s));
  auto r = cluster.run_command("echo hello from a test; echo oops >&2", *resource_set::parse("cpus:0.1;mem:16"),
                               60s);
  CHECK_EQUAL(r.error, "");
  CHECK(!r.timed_out);
  CHECK(r.finished());
  CHECK_EQUAL(r.status.task.value, "run-command-1");
  CHECK(!r.agent().value.empty());
  auto snap = cluster.state();  // a local: CHECK_EQUAL keeps references to its operands
  REQUIRE_EQUAL(snap.agents.size(), 1u);
  CHECK_EQUAL(r.agent(), snap.agents[0].id);
  REQUIRE(!r.sandbox.empty());
  CHECK_EQUAL(r.sandbox.rfind(cluster.work_dir() + "/agent0/", 0), 0u);
  auto out = cluster.read_stdout(r);
  CHECK(out.ok());
  CHECK_EQUAL(out.content, "hello from a test\n");
  CHECK(!out.truncated);
  CHECK_EQUAL(cluster.read_stderr(r).content, "oops\n");
  // Bounded: a limit below the size gives the head and says it was cut.
  auto head = cluster.read_sandbox_file(r.sandbox, "stdout", 5);
  CHECK(head.ok());
  CHECK_EQUAL(head.content, "hello");
  CHECK(head.truncated);
  auto missing = cluster.read_sandbox_file(r.sandbox, "no-such-file");
  CHECK(!missing.ok());
  // A second run is another task of another framework.
  auto r2 = cluster.run_command("true");
  CHECK(r2.finished());
  CHECK_EQUAL(r2.status.task.value, "run-command-2");
  CHECK_NOT_EQUAL(r2.framework, r.framework);
}

TEST(run_command reports a failing command as TASK_FAILED) {
  local_cluster_options opts;
  opts.allocation_interval = 100ms;
  local_cluster cluster{sys, opts};
  REQUIRE(cluster.wait_for_agents(1, 30s));
  auto r = cluster.run_command("echo about to fail >&2; exit 3");
  CHECK_EQUAL(r.error, "");
  CHECK(r.status.state == task_state::failed);
  CHECK_NOT_EQUAL(r.status.message.find("3"), std::string::npos);
  MESSAGE("failed task message: " << r.status.message);
  CHECK_EQUAL(cluster.read_stderr(r).content, "about to fail\n");
}

TEST(run_command gives up after its timeout and kills the task) {
  local_cluster_options opts;
  opts.allocation_interval = 100ms;
  local_cluster cluster{sys, opts};
  REQUIRE(cluster.wait_for_agents(1, 30s));
  static const std::string marker = "sleep 30" + std::to_string(::getpid());
  auto before = std::chrono::steady_clock::now();
  auto r = cluster.run_command(marker, *resource_set::parse("cpus:0.1;mem:16"), 2s);
  CHECK(r.timed_out);
  CHECK_NOT_EQUAL(r.error.find("no terminal status within 2000 ms"), std::string::npos);
  CHECK(!is_terminal(r.status.state));
  CHECK_LESS(std::chrono::steady_clock::now() - before, 20s);
  // Its framework was torn down with it, which killed the task.
  CHECK(mesoscaf::test::eventually([&] { return mesoscaf::test::processes_mentioning(marker).empty(); }, 30s));
  // Resources nobody has can never be offered: a timeout too, with the task never launched.
  auto big = cluster.run_command("true", *resource_set::parse("cpus:64;mem:16"), 1s);
  CHECK(big.timed_out);
  CHECK(big.status.state == task_state::staging);
  CHECK_EQUAL(big.sandbox, "");
}

TEST(sandbox reads refuse paths that escape the sandbox) {
  local_cluster_options opts;
  opts.allocation_interval = 100ms;
  local_cluster cluster{sys, opts};
  REQUIRE(cluster.wait_for_agents(1, 30s));
  auto r = cluster.run_command("mkdir sub && echo inside > sub/f && ln -s /etc/hostname leak && ln -s sub/f ok");
  REQUIRE(r.finished());
  auto escapes = [&](const std::string& path) {
    auto f = cluster.read_sandbox_file(r.sandbox, path);
    MESSAGE(path << ": " << f.error);
    return !f.ok() && f.content.empty() && f.error == "path escapes the sandbox: " + path;
  };
  CHECK(escapes("../../../../../../etc/hostname"));
  CHECK(escapes("sub/../../stdout"));
  CHECK(escapes("/etc/hostname"));
  CHECK(escapes(""));
  CHECK(escapes("leak"));  // a symlink the task left, pointing out
  // Inside is fine, also through a symlink that stays inside.
  CHECK_EQUAL(cluster.read_sandbox_file(r.sandbox, "sub/f").content, "inside\n");
  CHECK_EQUAL(cluster.read_sandbox_file(r.sandbox, "ok").content, "inside\n");
  CHECK(!cluster.read_sandbox_file("", "stdout").ok());
}

TEST(the work dir is removed on stop unless keep_work_dir) {
  namespace fs = std::filesystem;
  std::string dir;
  {
    local_cluster cluster{sys};
    dir = cluster.work_dir();
    REQUIRE(fs::is_directory(dir + "/agent0"));
    REQUIRE(cluster.wait_for_agents(1, 30s));
    CHECK(cluster.run_command("echo x").finished());
    cluster.stop();
    CHECK(!fs::exists(dir));
  }
  {
    local_cluster_options opts;
    opts.keep_work_dir = true;
    local_cluster cluster{sys, opts};
    dir = cluster.work_dir();
    REQUIRE(cluster.wait_for_agents(1, 30s));
    auto r = cluster.run_command("echo kept");
    CHECK(r.finished());
    cluster.stop();
    CHECK(fs::is_directory(dir + "/agent0"));
    CHECK_EQUAL(mesoscaf::test::read_file(r.sandbox + "/stdout"), "kept\n");
    fs::remove_all(dir);
  }
  {
    // A directory that was there before is the caller's: never removed.
    mesoscaf::test::temp_dir mine{"mesoscaf-lc-mine"};
    local_cluster_options opts;
    opts.work_dir = mine.path();
    local_cluster cluster{sys, opts};
    cluster.stop();
    CHECK(fs::is_directory(mine / "agent0"));
  }
}

TEST(a restarted agent keeps its ID and the running task of a checkpointing framework) {
  local_cluster_options opts;
  opts.allocation_interval = 100ms;
  local_cluster cluster{sys, opts};
  REQUIRE(cluster.wait_for_agents(1, 30s));
  auto id = cluster.state().agents.at(0).id;
  CHECK(!cluster.stop_agent(7));
  CHECK(!cluster.restart_agent(7));

  // A unique sleep duration marks the task's processes.
  static const std::string marker = "sleep 7" + std::to_string(::getpid());
  checkpointing_run run{sys, cluster, "long", marker};
  auto& sched = run.sched;
  REQUIRE(mesoscaf::test::eventually([&] { return sched.in_state(task_state::running); }, 60s));
  auto pids = mesoscaf::test::processes_mentioning(marker);
  CHECK(!pids.empty());

  // Killed like a crashed process: the master sees it disconnect, the task's processes live on.
  CHECK(cluster.stop_agent(0));
  CHECK(!cluster.agents()[0]);
  CHECK(mesoscaf::test::eventually([&] { auto a = find_agent(cluster, id); return a && !a->connected; }, 30s));
  CHECK_EQUAL(mesoscaf::test::processes_mentioning(marker), pids);

  // Restarted on its work dir: same agent ID, the executor re-registers, the task is still running.
  CHECK(cluster.restart_agent(0));
  CHECK(mesoscaf::test::eventually([&] { auto a = find_agent(cluster, id); return a && a->connected; }, 30s));
  CHECK_EQUAL(cluster.state().agents.size(), 1u);
  std::this_thread::sleep_for(1s);
  CHECK(sched.in_state(task_state::running));
  CHECK_EQUAL(mesoscaf::test::processes_mentioning(marker), pids);

  // The adopted executor still serves the task: a kill reaches it and the end state comes back.
  run.driver.kill_task(task_id{"long"});
  CHECK(mesoscaf::test::eventually([&] { return sched.in_state(task_state::killed); }, 60s));
  CHECK(mesoscaf::test::eventually([&] { return mesoscaf::test::processes_mentioning(marker).empty(); }, 30s));
  auto sandbox = cluster.sandbox_of(run.driver.id(), *sched.last());
  CHECK(!sandbox.empty());
}

TEST(stop ends the tasks an agent killed by stop_agent left running) {
  local_cluster_options opts;
  opts.allocation_interval = 100ms;
  local_cluster cluster{sys, opts};
  REQUIRE(cluster.wait_for_agents(1, 30s));
  static const std::string marker = "sleep 6" + std::to_string(::getpid());
  checkpointing_run run{sys, cluster, "orphan", marker};
  REQUIRE(mesoscaf::test::eventually([&] { return run.sched.in_state(task_state::running); }, 60s));
  CHECK(cluster.stop_agent(0));
  CHECK(!mesoscaf::test::processes_mentioning(marker).empty());  // waiting for a restart that will not come
  cluster.stop();
  CHECK(mesoscaf::test::eventually([&] { return mesoscaf::test::processes_mentioning(marker).empty(); }, 30s));
}

TEST(an agent whose containerizer and disk worker die keeps serving and loses no task) {
  std::mutex mtx;
  std::map<std::string, std::vector<caf::actor>> started;  // by component name, in start order
  local_cluster_options opts;
  opts.allocation_interval = 100ms;
  opts.on_agent_component = [&](size_t, const std::string& name, const caf::actor& hdl) {
    std::lock_guard<std::mutex> guard{mtx};
    started[name].push_back(hdl);
  };
  auto count = [&](const std::string& name) {
    std::lock_guard<std::mutex> guard{mtx};
    return started[name].size();
  };
  auto latest = [&](const std::string& name) {
    std::lock_guard<std::mutex> guard{mtx};
    return started[name].back();
  };
  mesoscaf::test::temp_dir dir{"mesoscaf-supervision"};
  local_cluster cluster{sys, opts};
  REQUIRE(cluster.wait_for_agents(1, 30s));
  REQUIRE_EQUAL(count("containerizer"), 1u);
  REQUIRE_EQUAL(count("disk worker"), 1u);
  // A task that runs until the test lets it finish.
  single_task_scheduler sched{"waits", "while [ ! -e " + dir.path() + "/go ]; do sleep 0.05; done"};
  framework_info fw;
  fw.name = "supervision";
  scheduler_driver driver{sys, &sched, fw, cluster.master()};
  driver.start();
  REQUIRE(mesoscaf::test::eventually([&] { return sched.in_state(task_state::running); }, 60s));

  // The containerizer crashes: the agent restarts it, the new one adopts the executor's process.
  caf::anon_send_exit(latest("containerizer"), caf::exit_reason::kill);
  REQUIRE(mesoscaf::test::eventually([&] { return count("containerizer") == 2; }, 30s));
  // The disk worker crashes too.
  caf::anon_send_exit(latest("disk worker"), caf::exit_reason::kill);
  REQUIRE(mesoscaf::test::eventually([&] { return count("disk worker") == 2; }, 30s));
  std::this_thread::sleep_for(300ms);
  CHECK(sched.in_state(task_state::running));
  CHECK(cluster.agents()[0]);
  CHECK(cluster.state().agents.at(0).connected);

  // The running task finishes and its end reaches the scheduler.
  { std::ofstream{dir.path() + "/go"}; }
  CHECK(mesoscaf::test::eventually([&] { return sched.in_state(task_state::finished); }, 60s));
  driver.stop();
  driver.join();
  // A new task launches afterwards (a new executor, through the new containerizer).
  auto r = cluster.run_command("echo after the restarts");
  CHECK(r.finished());
  CHECK_EQUAL(cluster.read_stdout(r).content, "after the restarts\n");
}

FIXTURE_SCOPE_END()
