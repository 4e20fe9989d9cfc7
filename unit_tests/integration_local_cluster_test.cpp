// Integration: a master and two agents in one actor system (local_cluster), a callback framework through the
// scheduler driver with an in-process master handle, real command-executor processes, ordered bounded stop.
#define CAF_SUITE integration_local_cluster
#include "actors/sdk/framework_config.hpp"
#include "test.hpp"

#include "child_process.hpp"

#include <unistd.h>

#include "actors/sdk/local_cluster.hpp"
#include "actors/sdk/scheduler_driver.hpp"
#include "config/daemon_config.hpp"

#include <caf/actor_system.hpp>

#include <atomic>
#include <map>
#include <mutex>

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
    if (final_states.size() == commands.size())
      d->stop();
  }
};

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
  struct sleeper : scheduler {
    std::atomic<bool> running{false};
    bool launched = false;
    void resource_offers(scheduler_driver* d, const std::vector<offer>& offers) override {
      for (auto& o : offers) {
        if (launched) {
          d->decline_offer(o.id, filters{60});
          continue;
        }
        launched = true;
        task_info t;
        t.id = task_id{"sleeper"};
        t.name = "sleeper";
        t.resources = *resource_set::parse("cpus:0.1;mem:16");
        command_info c;
        c.value = marker;
        t.command = c;
        d->launch_tasks({o.id}, {t});
      }
    }
    void status_update(scheduler_driver*, const task_status& s) override {
      if (s.state == task_state::running)
        running = true;
    }
  } sched;
  framework_info fw;
  fw.name = "sleeper";
  scheduler_driver driver{sys, &sched, fw, cluster.master()};
  driver.start();
  for (int i = 0; i < 300 && !sched.running; ++i)
    std::this_thread::sleep_for(50ms);
  REQUIRE(sched.running);
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

FIXTURE_SCOPE_END()
