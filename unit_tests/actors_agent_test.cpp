#define CAF_SUITE actors_agent
#include "config/support/files.hpp"
#include "deterministic_fixture.hpp"

#include "actors/agent/agent.hpp"
#include "actors/agent/agent_resources.hpp"
#include "agent_test_mocks.hpp"
#include "actors/sdk/command_executor.hpp"
#include "child_process.hpp"
#include "containerizer/launcher.hpp"
#include "containerizer/volumes.hpp"
#include "test_helpers.hpp"
#include "containerizer/cgroups.hpp"
#include "containerizer/containerizer_actor.hpp"

#include <caf/all.hpp>

#include <filesystem>
#include <fstream>
#include <memory>
#include <set>

#include <sys/stat.h>
#include <unistd.h>

using namespace mesoscaf;
using namespace std::chrono_literals;
using namespace mesoscaf::test;

namespace {

// A detector the test drives: `set` names a leader to every watcher at once (on the test's thread, like a
// callback from ZooKeeper's); nothing after close().
class test_detector : public master_detector {
public:
  void watch(std::function<void(const master_location&)> f) override {
    if (closed)
      return;
    watchers.push_back(f);
    f(current);
  }
  void close() override {
    closed = true;
    watchers.clear();
  }
  std::string describe() const override { return "test detector"; }
  void set(master_location loc) {
    current = std::move(loc);
    for (auto& w : watchers)
      w(current);
  }
  bool closed = false;
  master_location current;
  std::vector<std::function<void(const master_location&)>> watchers;
};

master_location in_process(const std::string& id, const master_actor& m) {
  master_location loc;
  loc.id = id;
  loc.handle = caf::actor_cast<caf::actor>(m);
  return loc;
}

framework_info make_framework(const std::string& id = "fw-1") {
  framework_info fi;
  fi.id = framework_id{id};
  fi.name = "test framework";
  return fi;
}

task_info command_task(const std::string& id, const std::string& cmd = "echo hi") {
  task_info t;
  t.id = task_id{id};
  t.name = "task " + id;
  t.agent = agent_id{"agent-1"};
  t.resources = resource_set::scalar("cpus", 1);
  command_info c;
  c.value = cmd;
  t.command = c;
  return t;
}

task_info custom_task(const std::string& id, const std::string& exec) {
  task_info t;
  t.id = task_id{id};
  t.name = "task " + id;
  executor_info e;
  e.id = executor_id{exec};
  e.command.value = "/bin/my-executor";
  t.executor = e;
  return t;
}

status_update executor_update(const std::string& fw, const std::string& task, task_state st,
                              const std::string& uuid) {
  status_update u;
  u.framework = framework_id{fw};
  u.status.task = task_id{task};
  u.status.state = st;
  u.status.uuid = uuid;
  u.status.source = status_source::executor;
  return u;
}

struct fixture : mesoscaf::test::deterministic_fixture {
  // The agent always checkpoints its ID (meta/agent) and reads the checkpoint when it starts: a fresh dir per test.
  mesoscaf::test::temp_dir work{"mesoscaf-agent-test"};
  recorder_ptr rec = std::make_shared<agent_recorder>();
  master_actor master;
  containerizer_actor cont;
  caf::actor disk;  // the agent's disk worker (the latest, after restarts)
  agent_actor agent;
  mock_executor_actor exec;

  fixture() {
    master = sys.spawn(mock_master, rec);
  }

  agent_options options() {
    agent_options opts;
    opts.master = master;
    opts.hostname = "host-1";
    opts.port = 5051;
    opts.work_dir = work.path();
    opts.boot_id = "boot-1";
    opts.executor_binary = "/usr/bin/mesoscaf";
    opts.resources = resource_set::scalar("cpus", 4);
    // The tests' tick() steps are written against these timings: pinned here (and in the tests that depend on
    // them) so that changing a production default cannot silently change what a test proves.
    opts.registration_backoff_min = 100ms;
    opts.registration_backoff_max = 5s;
    opts.update_retry_min = 2s;
    opts.update_retry_max = 60s;
    opts.tick_interval = 100ms;
    opts.executor_shutdown_grace = 3s;
    opts.executor_registration_timeout = 60s;
    opts.exit_timeout = 10s;
    // The disk worker on the test scheduler: deterministic (it touches the disk only for operations and volumes).
    opts.detached_disk_worker = false;
    opts.make_containerizer = [this](caf::actor_system& sys, agent_actor) {
      cont = sys.spawn(mock_containerizer, rec);
      return cont;
    };
    opts.on_component_start = [this](const std::string& name, const caf::actor& hdl) {
      if (name == "disk worker")
        disk = hdl;
    };
    // Component restarts at once (tests of the backoff set their own).
    opts.component_restarts.max_restarts = 5;
    opts.component_restarts.window = 1min;
    opts.component_restarts.backoff_min = 0ms;
    opts.component_restarts.backoff_max = 0ms;
    return opts;
  }

  bool agent_alive() {
    bool alive = false;
    auto h = self->request(agent, caf::infinite, atom::state_v);
    sched.run();
    h.receive([&](agent_snapshot&) { alive = true; }, [&](caf::error&) {});
    return alive;
  }

  // Orders to the agent come from the master it registers with (the agent ignores anyone else).
  template <class... Ts>
  void from_master(Ts&&... xs) {
    caf::send_as(master, agent, std::forward<Ts>(xs)...);
  }

  void start(agent_options opts) {
    agent = spawn_agent(sys, std::move(opts));
    sched.run();
  }

  void start() {
    start(options());
  }

  // Registered agent with one executor that ran `fw-1`'s command executor and received task t1.
  void start_with_running_task(agent_options opts) {
    start(std::move(opts));
    from_master(atom::run_task_v, make_framework(), command_task("t1"));
    sched.run();
    REQUIRE_EQUAL(rec->launches.size(), 1u);
    register_executor("fw-1", command_executor_id);
    REQUIRE_EQUAL(rec->executor_launches.size(), 1u);
  }

  void start_with_running_task() {
    start_with_running_task(options());
  }

  void register_executor(const std::string& fw, const std::string& eid) {
    exec = sys.spawn(mock_executor, rec, agent);
    caf::anon_send(exec, atom::connect_v, framework_id{fw}, executor_id{eid});
    sched.run();
  }

  void tick(caf::timespan d) {
    advance_time(d);
    sched.run();
  }

  // Three pings 10 s apart (the agent learns the gap), then 20 s without one: short of the re-registration limit.
  void pings_every_10s() {
    auto ping = [&] {
      auto h = self->request(agent, caf::infinite, atom::ping_v);
      sched.run();
      h.receive([](const agent_id&) {}, [&](const caf::error& e) { FAIL(sys.render(e)); });
    };
    ping();
    tick(10s);
    ping();
    tick(10s);
    ping();
    tick(20s);
  }

  agent_snapshot snapshot() {
    agent_snapshot result;
    auto h = self->request(agent, caf::infinite, atom::state_v);
    sched.run();
    h.receive([&](agent_snapshot& s) { result = std::move(s); },
              [&](caf::error& err) { FAIL("state request failed: " << sys.render(err)); });
    return result;
  }

  // The periodic tick would make the fixture's final run() loop forever (docs/CAF_PITFALLS.md §9).
  ~fixture() override {
    if (agent)
      caf::anon_send_exit(agent, caf::exit_reason::kill);
    sched.run();
  }
};

} // namespace

FIXTURE_SCOPE(agent_tests, fixture)

TEST(registers with the master) {
  start();
  REQUIRE_EQUAL(rec->registrations.size(), 1u);
  auto& info = rec->registrations.front();
  CHECK_EQUAL(info.hostname, "host-1");
  CHECK_EQUAL(info.port, 5051u);
  CHECK(info.total == resource_set::scalar("cpus", 4));
  CHECK_EQUAL(snapshot().id, agent_id{"agent-1"});
}

TEST(registration retries with backoff) {
  rec->refuse_registrations = 2;
  auto opts = options();
  opts.registration_backoff_min = 100ms;
  opts.registration_backoff_max = 5s;
  opts.tick_interval = 100ms;
  start(opts);
  CHECK_EQUAL(rec->registrations.size(), 1u);
  CHECK(snapshot().id.empty());
  // First retry after 100 ms, second after another 200 ms.
  tick(100ms);
  CHECK_EQUAL(rec->registrations.size(), 2u);
  tick(100ms);
  CHECK_EQUAL(rec->registrations.size(), 2u);
  tick(100ms);
  CHECK_EQUAL(rec->registrations.size(), 3u);
  CHECK_EQUAL(snapshot().id, agent_id{"agent-1"});
  // Registered: no more attempts.
  tick(5s);
  CHECK_EQUAL(rec->registrations.size(), 3u);
}

TEST(registers again when the master goes down) {
  start_with_running_task();
  REQUIRE_EQUAL(rec->registrations.size(), 1u);
  // The connection to the master breaks (what the middleman reports for a lost node). The mock master stays
  // alive, so the agent's retries reach it.
  caf::anon_send(caf::actor_cast<caf::actor>(agent),
                 caf::down_msg{master.address(), caf::make_error(caf::exit_reason::remote_link_unreachable)});
  sched.run();
  // Updates recorded while unregistered wait for the next master.
  caf::anon_send(exec, atom::update_v, executor_update("fw-1", "t1", task_state::running, "u1"));
  sched.run();
  CHECK(rec->master_updates.empty());
  CHECK_EQUAL(rec->registrations.size(), 1u);
  CHECK(rec->reregistrations.empty());
  tick(100ms);
  // An agent with an ID re-registers with everything it runs, so that the master can reconcile.
  CHECK_EQUAL(rec->registrations.size(), 1u);
  REQUIRE_EQUAL(rec->reregistrations.size(), 1u);
  auto& rr = rec->reregistrations[0];
  CHECK_EQUAL(rr.info.id, agent_id{"agent-1"});
  CHECK_EQUAL(rr.info.hostname, "host-1");
  REQUIRE_EQUAL(rr.tasks.size(), 1u);
  CHECK_EQUAL(rr.tasks[0].info.id, task_id{"t1"});
  CHECK_EQUAL(rr.tasks[0].state, task_state::running);
  REQUIRE_EQUAL(rr.frameworks.size(), 1u);
  CHECK_EQUAL(rr.frameworks[0].id, framework_id{"fw-1"});
  CHECK(rr.executors.empty());  // only custom executors are reported
  REQUIRE_EQUAL(rec->master_updates.size(), 1u);
  CHECK_EQUAL(rec->master_updates[0].status.uuid, "u1");
  CHECK_EQUAL(snapshot().id, agent_id{"agent-1"});
}

TEST(an agent the master stops pinging re-registers by itself) {
  start_with_running_task();
  // Pings every 10 s: nothing happens while they keep coming.
  pings_every_10s();
  CHECK(rec->reregistrations.empty());
  // The master stops pinging (it marked the agent unreachable, the connection still up): after 4 gaps + 1 s the
  // agent re-registers with everything it runs.
  tick(22s);
  REQUIRE_EQUAL(rec->reregistrations.size(), 1u);
  REQUIRE_EQUAL(rec->reregistrations[0].tasks.size(), 1u);
  CHECK_EQUAL(rec->reregistrations[0].tasks[0].info.id, task_id{"t1"});
  // Registered again, it waits to learn the ping gap anew: no further re-registration without pings.
  tick(120s);
  CHECK_EQUAL(rec->reregistrations.size(), 1u);
}

// Issue 21 (found by the chaos test): a launch the master sent before the agent gave up on its registration (no
// pings) arrives after the agent sent its re-registration, which did not list the task; the master then ends the
// task as not known there. The agent must not run it (it would run a task already reported gone).
TEST(a launch arriving while the agent re-registers is dropped and never runs) {
  start_with_running_task();
  pings_every_10s();
  auto handed_over = rec->executor_launches.size();
  // The tick that makes the agent re-register is queued before the master's late launch.
  advance_time(22s);
  from_master(atom::run_task_v, make_framework(), command_task("late"));
  sched.run();
  REQUIRE_EQUAL(rec->reregistrations.size(), 1u);
  for (const auto& t : rec->reregistrations[0].tasks)
    CHECK_NOT_EQUAL(t.info.id, task_id{"late"});
  CHECK_EQUAL(rec->executor_launches.size(), handed_over);
  auto dropped = std::find_if(rec->master_updates.begin(), rec->master_updates.end(), [](const status_update& u) {
    return u.status.task == task_id{"late"} && u.status.state == task_state::dropped;
  });
  CHECK(dropped != rec->master_updates.end());
  auto snap = snapshot();
  CHECK(std::none_of(snap.tasks.begin(), snap.tasks.end(), [](const task_summary& s) {
    return s.id == task_id{"late"} && !is_terminal(s.state);
  }));
}

// Issue 22: an executor whose registration answer was slow (many executors starting at once) asks again; the
// agent answers the same executor alike instead of refusing it, and sends nothing twice.
TEST(an executor asking again after a slow registration answer gets the same answer) {
  start_with_running_task();
  REQUIRE(rec->registration);
  rec->registration = caf::none;
  caf::anon_send(exec, atom::connect_v, framework_id{"fw-1"}, executor_id{command_executor_id});
  sched.run();
  CHECK(rec->registration);
  CHECK(!rec->registration_error);
  CHECK_EQUAL(rec->executor_launches.size(), 1u);
  CHECK(rec->kills.empty());
}

TEST(run task launches the command executor and hands over the task once it registers) {
  start();
  from_master(atom::run_task_v, make_framework(), command_task("t1"));
  sched.run();
  REQUIRE_EQUAL(rec->launches.size(), 1u);
  auto& spec = rec->launches.front();
  CHECK(!spec.command.shell);
  CHECK_EQUAL(spec.command.value, "/usr/bin/mesoscaf");
  CHECK_EQUAL(spec.command.arguments, (std::vector<std::string>{"/usr/bin/mesoscaf", "command-executor"}));
  CHECK_EQUAL(spec.sandbox, work.path() + "/agents/agent-1/frameworks/fw-1/executors/command-executor/runs/"
                              + spec.id.str());
  CHECK_EQUAL(spec.environment["MESOSCAF_AGENT_ENDPOINT"], "127.0.0.1:5051");
  CHECK_EQUAL(spec.environment["MESOSCAF_FRAMEWORK_ID"], "fw-1");
  CHECK_EQUAL(spec.environment["MESOSCAF_EXECUTOR_ID"], "command-executor");
  CHECK_EQUAL(spec.environment["MESOSCAF_AGENT_ID"], "agent-1");
  CHECK_EQUAL(spec.environment["MESOSCAF_SANDBOX"], spec.sandbox);
  // The task waits for the executor.
  CHECK(rec->executor_launches.empty());
  // A second task reuses the same (still starting) executor.
  from_master(atom::run_task_v, make_framework(), command_task("t2"));
  sched.run();
  CHECK_EQUAL(rec->launches.size(), 1u);
  register_executor("fw-1", command_executor_id);
  REQUIRE(rec->registration);
  CHECK_EQUAL(rec->registration->framework, framework_id{"fw-1"});
  CHECK_EQUAL(rec->registration->framework_name, "test framework");
  CHECK_EQUAL(rec->registration->agent, agent_id{"agent-1"});
  CHECK_EQUAL(rec->registration->sandbox, spec.sandbox);
  CHECK_EQUAL(rec->registration->executor.id, executor_id{command_executor_id});
  REQUIRE_EQUAL(rec->executor_launches.size(), 2u);
  CHECK_EQUAL(rec->executor_launches[0].id, task_id{"t1"});
  CHECK_EQUAL(rec->executor_launches[1].id, task_id{"t2"});
  // Now tasks go straight to the registered executor.
  from_master(atom::run_task_v, make_framework(), command_task("t3"));
  sched.run();
  CHECK_EQUAL(rec->launches.size(), 1u);
  REQUIRE_EQUAL(rec->executor_launches.size(), 3u);
  CHECK_EQUAL(rec->executor_launches[2].id, task_id{"t3"});
  auto snap = snapshot();
  CHECK_EQUAL(snap.tasks.size(), 3u);
  CHECK_EQUAL(snap.executors, 1u);
}

TEST(only the process given the executor secret can register as that executor) {
  start();
  from_master(atom::run_task_v, make_framework(), command_task("t1"));
  sched.run();
  REQUIRE_EQUAL(rec->launches.size(), 1u);
  // The agent gives each executor a secret of its own, in its environment only.
  auto secret = rec->launches.front().environment[env_executor_secret];
  CHECK_GREATER_OR_EQUAL(secret.size(), 64u);
  // An impostor that knows the IDs (anyone can read them in the state) races the real executor: refused, with
  // no secret and with a wrong one, and it gets no task.
  auto impostor = sys.spawn(mock_executor, std::make_shared<agent_recorder>(), agent);
  for (std::string guess : {std::string{}, std::string(secret.size(), '0')}) {
    auto h = self->request(agent, caf::infinite, atom::reg_exec_v, framework_id{"fw-1"},
                           executor_id{command_executor_id}, caf::actor_cast<executor_actor>(impostor), guess);
    sched.run();
    bool refused = false;
    h.receive([](const executor_registration&) {}, [&](const caf::error&) { refused = true; });
    CHECK(refused);
  }
  CHECK(rec->executor_launches.empty());
  // Nor can it take over a re-registration.
  auto h = self->request(agent, caf::infinite, atom::rereg_exec_v, framework_id{"fw-1"},
                         executor_id{command_executor_id}, caf::actor_cast<executor_actor>(impostor),
                         std::vector<task_info>{}, std::vector<status_update>{}, std::string{"guess"});
  sched.run();
  bool refused = false;
  h.receive([](const executor_registration&) {}, [&](const caf::error&) { refused = true; });
  CHECK(refused);
  // The real executor, with its secret, still registers and gets its task.
  register_executor("fw-1", command_executor_id);
  CHECK(rec->registration);
  REQUIRE_EQUAL(rec->executor_launches.size(), 1u);
  CHECK_EQUAL(rec->executor_launches[0].id, task_id{"t1"});
  caf::anon_send_exit(impostor, caf::exit_reason::kill);
}

TEST(launch specs carry the isolation settings and the user of the task) {
  start();
  auto fw = make_framework();
  fw.user = "alice";
  from_master(atom::run_task_v, fw, command_task("t1"));
  auto custom = custom_task("t2", "e1");
  custom.executor->command.user = "bob";
  from_master(atom::run_task_v, fw, custom);
  sched.run();
  REQUIRE_EQUAL(rec->launches.size(), 2u);
  // The command executor runs as the agent's user and gets the framework's user for its tasks.
  auto& cmd = rec->launches[0];
  CHECK_EQUAL(cmd.environment["MESOSCAF_ISOLATION"], "posix/cpu,posix/mem");
  CHECK_EQUAL(cmd.environment["MESOSCAF_FRAMEWORK_USER"], "alice");
  CHECK_EQUAL(cmd.user, "");
  CHECK_EQUAL(cmd.environment.count("MESOSCAF_CGROUP"), 0u);
  // A custom executor runs as its command's user.
  CHECK_EQUAL(rec->launches[1].user, "bob");
}

TEST(a custom executor gets the environment of a mesos executor with its token) {
  auto opts = options();
  opts.http_port = 5151;
  opts.publish_address = "127.0.0.1";
  start(opts);
  from_master(atom::run_task_v, make_framework(), command_task("t1"));
  from_master(atom::run_task_v, make_framework(), custom_task("t2", "e1"));
  sched.run();
  REQUIRE_EQUAL(rec->launches.size(), 2u);
  auto& env = rec->launches[1].environment;
  CHECK_EQUAL(env["MESOS_AGENT_ENDPOINT"], "127.0.0.1:5151");
  CHECK_EQUAL(env["MESOS_FRAMEWORK_ID"], "fw-1");
  CHECK_EQUAL(env["MESOS_EXECUTOR_ID"], "e1");
  CHECK_EQUAL(env["MESOS_SANDBOX"], rec->launches[1].sandbox);
  CHECK_EQUAL(env["MESOS_DIRECTORY"], rec->launches[1].sandbox);
  CHECK_EQUAL(env["MESOS_CHECKPOINT"], "0");
  CHECK_EQUAL(env.count("MESOS_RECOVERY_TIMEOUT"), 0u);
  CHECK_EQUAL(env["MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD"], std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(opts.executor_shutdown_grace).count()) + "ms");
  // Its token is its secret: the one the agent checks when the executor registers.
  CHECK(env["MESOS_EXECUTOR_AUTHENTICATION_TOKEN"].size() >= 32u);
  CHECK_EQUAL(env["MESOS_EXECUTOR_AUTHENTICATION_TOKEN"], env[env_executor_secret]);
  // The command executor is ours: no Mesos environment, no second copy of its secret.
  CHECK_EQUAL(rec->launches[0].environment.count("MESOS_EXECUTOR_AUTHENTICATION_TOKEN"), 0u);
}

TEST(an executor that re-registers cannot report on the task of another executor) {
  start(options());
  auto fi = make_framework();
  fi.checkpoint = true;
  from_master(atom::run_task_v, fi, command_task("t1"));
  from_master(atom::run_task_v, fi, custom_task("t2", "e1"));
  sched.run();
  register_executor("fw-1", command_executor_id);
  register_executor("fw-1", "e1");
  // e1's connection breaks; it comes back claiming that t1 (the command executor's) finished.
  caf::anon_send_exit(exec, caf::exit_reason::remote_link_unreachable);
  sched.run();
  auto before = rec->master_updates.size();
  exec = sys.spawn(mock_executor, rec, agent);
  caf::anon_send(exec, atom::rereg_exec_v, framework_id{"fw-1"}, executor_id{"e1"}, std::vector<task_info>{},
                 std::vector<status_update>{executor_update("fw-1", "t1", task_state::finished, "forged")});
  sched.run();
  CHECK(!rec->registration_error);
  for (auto i = before; i < rec->master_updates.size(); ++i)
    CHECK_NOT_EQUAL(rec->master_updates[i].status.task, task_id{"t1"});
  for (const auto& t : snapshot().tasks)
    if (t.id == task_id{"t1"})
      CHECK(!is_terminal(t.state));
}

TEST(a custom executor container follows the resources of its live tasks) {
  // A directory laid out like cgroup2: the agent itself only names groups, the containerizer (mocked) sets them.
  mesoscaf::test::temp_dir cg_dir{"mesoscaf-fake-cg"};
  std::ofstream{cg_dir / "cgroup.controllers"} << "cpu memory pids\n";
  auto opts = options();
  opts.control_groups = make_cgroups_v2(cg_dir.path());
  opts.isolation.isolators = {"cgroups/cpu", "cgroups/mem"};
  start(std::move(opts));
  auto t = custom_task("t1", "e1");
  t.resources = *resource_set::parse("cpus:1;mem:100");
  t.executor->resources = *resource_set::parse("cpus:0.5;mem:50");
  from_master(atom::run_task_v, make_framework(), t);
  sched.run();
  REQUIRE_EQUAL(rec->launches.size(), 1u);
  auto cid = rec->launches[0].id;
  CHECK_EQUAL(rec->launches[0].environment["MESOSCAF_CGROUP"], "mesoscaf/" + cid.str());
  auto executor_own = *resource_set::parse("cpus:0.5;mem:50");
  auto with_task = *resource_set::parse("cpus:1.5;mem:150");
  CHECK_EQUAL(rec->launches[0].resources, executor_own);
  CHECK(rec->container_updates.empty());
  // Handed to the executor: the container grows by the task before it starts.
  register_executor("fw-1", "e1");
  REQUIRE_EQUAL(rec->container_updates.size(), 1u);
  CHECK_EQUAL(rec->container_updates[0].first, cid);
  CHECK_EQUAL(rec->container_updates[0].second, with_task);
  // The task ends: back to the executor's own.
  caf::anon_send(exec, atom::update_v, executor_update("fw-1", "t1", task_state::finished, "u1"));
  sched.run();
  REQUIRE_EQUAL(rec->container_updates.size(), 2u);
  CHECK_EQUAL(rec->container_updates[1].second, executor_own);
}

// A DEFAULT executor "pod", and a group of command tasks on it.
executor_info pod_executor() {
  executor_info pod;
  pod.id = executor_id{"pod"};
  pod.type = executor_type::default_executor;
  pod.resources = *resource_set::parse("cpus:0.1;mem:32");
  return pod;
}

task_group_info pod_group(const executor_info& pod, std::initializer_list<const char*> ids) {
  task_group_info group;
  for (auto* id : ids) {
    auto t = command_task(id);
    t.executor = pod;
    group.tasks.push_back(t);
  }
  return group;
}

TEST(a task group goes to its default executor in one message and a bad one runs nothing) {
  start();
  auto pod = pod_executor();
  auto group = pod_group(pod, {"web", "sidecar"});
  from_master(atom::run_task_v, make_framework(), pod, group);
  sched.run();
  // Our own binary, started once for the group, as the command executor is.
  REQUIRE_EQUAL(rec->launches.size(), 1u);
  CHECK_EQUAL(rec->launches[0].environment["MESOSCAF_EXECUTOR_ID"], "pod");
  CHECK_EQUAL(rec->launches[0].command.arguments.back(), "command-executor");
  register_executor("fw-1", "pod");
  CHECK(rec->executor_launches.empty());
  REQUIRE_EQUAL(rec->executor_groups.size(), 1u);
  REQUIRE_EQUAL(rec->executor_groups[0].tasks.size(), 2u);
  CHECK_EQUAL(rec->executor_groups[0].tasks[0].id, task_id{"web"});
  CHECK_EQUAL(rec->executor_groups[0].tasks[1].id, task_id{"sidecar"});
  // After a master failover the agent reports the DEFAULT executor as the master knew it (no command of ours), so
  // the next group for it matches.
  caf::anon_send(caf::actor_cast<caf::actor>(agent),
                 caf::down_msg{master.address(), caf::make_error(caf::exit_reason::remote_link_unreachable)});
  sched.run();
  tick(100ms);
  REQUIRE_EQUAL(rec->reregistrations.size(), 1u);
  REQUIRE_EQUAL(rec->reregistrations[0].executors.size(), 1u);
  const auto& reported = rec->reregistrations[0].executors[0];
  CHECK_EQUAL(reported.id, executor_id{"pod"});
  CHECK(reported.type == executor_type::default_executor);
  CHECK(reported.command.value.empty());
  CHECK(reported.command.arguments.empty());
  CHECK_EQUAL(reported.resources, pod.resources);
  // A group naming another executor for one task: every task gets TASK_ERROR, nothing starts.
  auto bad = pod_group(pod, {"a", "b"});
  bad.tasks[1].executor->id = executor_id{"elsewhere"};
  auto pod2 = pod;
  pod2.id = executor_id{"pod2"};
  from_master(atom::run_task_v, make_framework(), pod2, bad);
  sched.run();
  CHECK_EQUAL(rec->launches.size(), 1u);
  size_t errors = 0;
  for (const auto& u : rec->master_updates)
    if (u.status.state == task_state::error && u.status.reason == task_reason::task_group_invalid
        && u.status.message.find("does not name the group's executor") != std::string::npos)
      ++errors;
  CHECK_EQUAL(errors, 2u);
}

TEST(killing a queued task of a group kills the whole group before it starts) {
  start();
  auto pod = pod_executor();
  from_master(atom::run_task_v, make_framework(), pod, pod_group(pod, {"web", "sidecar"}));
  from_master(atom::kill_task_v, framework_id{"fw-1"}, task_id{"sidecar"});
  sched.run();
  std::map<std::string, task_state> last;
  for (const auto& u : rec->master_updates)
    last[u.status.task.value] = u.status.state;
  CHECK(last["sidecar"] == task_state::killed);
  CHECK(last["web"] == task_state::killed);
  register_executor("fw-1", "pod");
  CHECK(rec->executor_groups.empty());
}

TEST(the usage query names the framework and executor of each container) {
  start();
  from_master(atom::run_task_v, make_framework(), command_task("t1"));
  from_master(atom::run_task_v, make_framework("fw-2"), custom_task("t2", "e1"));
  sched.run();
  REQUIRE_EQUAL(rec->launches.size(), 2u);
  std::vector<container_usage> usage;
  auto h = self->request(agent, caf::infinite, atom::usage_v);
  sched.run();
  h.receive([&](std::vector<container_usage>& xs) { usage = std::move(xs); },
            [&](caf::error& err) { FAIL("usage request failed: " << sys.render(err)); });
  REQUIRE_EQUAL(usage.size(), 2u);
  std::map<std::string, std::string> owner;
  for (auto& u : usage)
    owner[u.container.str()] = u.framework.str() + "/" + u.executor.str();
  CHECK_EQUAL(owner[rec->launches[0].id.str()], std::string{"fw-1/"} + command_executor_id);
  CHECK_EQUAL(owner[rec->launches[1].id.str()], "fw-2/e1");
}

TEST(custom executors are started per executor ID with their own command) {
  start();
  from_master(atom::run_task_v, make_framework(), custom_task("t1", "e1"));
  from_master(atom::run_task_v, make_framework(), custom_task("t2", "e2"));
  from_master(atom::run_task_v, make_framework(), custom_task("t3", "e1"));
  sched.run();
  REQUIRE_EQUAL(rec->launches.size(), 2u);
  CHECK_EQUAL(rec->launches[0].command.value, "/bin/my-executor");
  CHECK_EQUAL(rec->launches[0].environment["MESOSCAF_EXECUTOR_ID"], "e1");
  CHECK_EQUAL(rec->launches[1].environment["MESOSCAF_EXECUTOR_ID"], "e2");
  register_executor("fw-1", "e1");
  REQUIRE_EQUAL(rec->executor_launches.size(), 2u);
  CHECK_EQUAL(rec->executor_launches[0].id, task_id{"t1"});
  CHECK_EQUAL(rec->executor_launches[1].id, task_id{"t3"});
}

TEST(bad tasks are refused with updates) {
  start();
  auto unsafe = command_task("../escape");
  auto both = command_task("both");
  both.executor = custom_task("x", "e1").executor;
  auto neither = command_task("neither");
  neither.command = caf::none;
  auto bad_exec = custom_task("badexec", "..");
  from_master(atom::run_task_v, make_framework(), unsafe);
  from_master(atom::run_task_v, make_framework(), both);
  from_master(atom::run_task_v, make_framework(), neither);
  from_master(atom::run_task_v, make_framework(), bad_exec);
  sched.run();
  CHECK(rec->launches.empty());
  REQUIRE_EQUAL(rec->master_updates.size(), 4u);
  for (auto& u : rec->master_updates) {
    CHECK_EQUAL(u.status.state, task_state::error);
    CHECK_EQUAL(u.status.reason, task_reason::task_invalid);
    CHECK_EQUAL(u.status.source, status_source::agent);
    CHECK(!u.status.uuid.empty());
    CHECK_EQUAL(u.status.agent, agent_id{"agent-1"});
  }
  CHECK_EQUAL(rec->master_updates[0].status.task, task_id{"../escape"});
  CHECK(snapshot().tasks.empty());
}

TEST(failed container launch fails the queued tasks) {
  rec->fail_launch = true;
  start();
  from_master(atom::run_task_v, make_framework(), command_task("t1"));
  sched.run();
  REQUIRE_EQUAL(rec->master_updates.size(), 1u);
  CHECK_EQUAL(rec->master_updates[0].status.state, task_state::failed);
  CHECK_EQUAL(rec->master_updates[0].status.reason, task_reason::container_launch_failed);
  CHECK_EQUAL(snapshot().executors, 0u);
}

TEST(status updates are acked to the executor and forwarded to the master) {
  start_with_running_task();
  caf::anon_send(exec, atom::update_v, executor_update("fw-1", "t1", task_state::running, "u1"));
  sched.run();
  REQUIRE_EQUAL(rec->executor_acks.size(), 1u);
  CHECK_EQUAL(rec->executor_acks[0].first, task_id{"t1"});
  CHECK_EQUAL(rec->executor_acks[0].second, "u1");
  REQUIRE_EQUAL(rec->master_updates.size(), 1u);
  auto& fwd = rec->master_updates[0];
  CHECK_EQUAL(fwd.status.state, task_state::running);
  CHECK_EQUAL(fwd.status.uuid, "u1");
  CHECK_EQUAL(fwd.status.agent, agent_id{"agent-1"});
  CHECK_EQUAL(fwd.status.executor, executor_id{command_executor_id});
  auto snap = snapshot();
  REQUIRE_EQUAL(snap.tasks.size(), 1u);
  CHECK_EQUAL(snap.tasks[0].state, task_state::running);
  CHECK_EQUAL(snap.pending_updates, 1u);
  // A duplicate from the executor is acked again but not forwarded again.
  caf::anon_send(exec, atom::update_v, executor_update("fw-1", "t1", task_state::running, "u1"));
  sched.run();
  CHECK_EQUAL(rec->executor_acks.size(), 2u);
  CHECK_EQUAL(rec->master_updates.size(), 1u);
}

TEST(unacknowledged updates are resent on the tick until the master acks) {
  start_with_running_task();
  caf::anon_send(exec, atom::update_v, executor_update("fw-1", "t1", task_state::running, "u1"));
  sched.run();
  REQUIRE_EQUAL(rec->master_updates.size(), 1u);
  tick(1s);
  CHECK_EQUAL(rec->master_updates.size(), 1u);
  tick(1s);  // 2 s: first retry
  REQUIRE_EQUAL(rec->master_updates.size(), 2u);
  CHECK_EQUAL(rec->master_updates[1].status.uuid, "u1");
  tick(2s);  // next retry only after 4 s
  CHECK_EQUAL(rec->master_updates.size(), 2u);
  tick(2s);
  CHECK_EQUAL(rec->master_updates.size(), 3u);
  // Unknown and wrong acks change nothing.
  from_master(atom::ack_v, framework_id{"fw-1"}, task_id{"t1"}, std::string{"nope"});
  from_master(atom::ack_v, framework_id{"fw-2"}, task_id{"t1"}, std::string{"u1"});
  sched.run();
  CHECK_EQUAL(snapshot().pending_updates, 1u);
  // The master's ack stops the retries.
  from_master(atom::ack_v, framework_id{"fw-1"}, task_id{"t1"}, std::string{"u1"});
  sched.run();
  CHECK_EQUAL(snapshot().pending_updates, 0u);
  tick(60s);
  tick(60s);
  CHECK_EQUAL(rec->master_updates.size(), 3u);
  // A duplicate ack is ignored.
  from_master(atom::ack_v, framework_id{"fw-1"}, task_id{"t1"}, std::string{"u1"});
  sched.run();
  CHECK_EQUAL(snapshot().tasks.size(), 1u);
}

TEST(terminal task is forgotten once its update is acknowledged) {
  start_with_running_task();
  caf::anon_send(exec, atom::update_v, executor_update("fw-1", "t1", task_state::finished, "u1"));
  sched.run();
  CHECK_EQUAL(snapshot().tasks.size(), 1u);
  from_master(atom::ack_v, framework_id{"fw-1"}, task_id{"t1"}, std::string{"u1"});
  sched.run();
  CHECK(snapshot().tasks.empty());
}

TEST(executor exit fails its tasks) {
  start_with_running_task();
  from_master(atom::run_task_v, make_framework(), command_task("t2"));
  sched.run();
  caf::anon_send(exec, atom::update_v, executor_update("fw-1", "t2", task_state::finished, "u2"));
  sched.run();
  rec->master_updates.clear();
  auto cid = rec->launches.front().id;
  int32_t status = 9;  // killed by SIGKILL
  caf::anon_send(agent, atom::exited_v, cid, status);
  sched.run();
  // Only t1 was still running.
  REQUIRE_EQUAL(rec->master_updates.size(), 1u);
  auto& u = rec->master_updates[0].status;
  CHECK_EQUAL(u.task, task_id{"t1"});
  CHECK_EQUAL(u.state, task_state::failed);
  CHECK_EQUAL(u.reason, task_reason::executor_terminated);
  CHECK(u.message.find("killed by signal 9") != std::string::npos);
  CHECK(rec->exec_lost.empty());  // the command executor is the agent's business
  CHECK_EQUAL(snapshot().executors, 0u);
  // The next task starts a new executor.
  from_master(atom::run_task_v, make_framework(), command_task("t3"));
  sched.run();
  REQUIRE_EQUAL(rec->launches.size(), 2u);
  CHECK_NOT_EQUAL(rec->launches[1].id, cid);
}

TEST(custom executor exit is reported to the master) {
  start();
  from_master(atom::run_task_v, make_framework(), custom_task("t1", "e1"));
  sched.run();
  register_executor("fw-1", "e1");
  REQUIRE_EQUAL(rec->executor_launches.size(), 1u);
  caf::anon_send(agent, atom::exited_v, rec->launches.front().id, int32_t{3 << 8});
  sched.run();
  REQUIRE_EQUAL(rec->exec_lost.size(), 1u);
  CHECK_EQUAL(std::get<0>(rec->exec_lost[0]), framework_id{"fw-1"});
  CHECK_EQUAL(std::get<1>(rec->exec_lost[0]), agent_id{"agent-1"});
  CHECK_EQUAL(std::get<2>(rec->exec_lost[0]), executor_id{"e1"});
  CHECK_EQUAL(std::get<3>(rec->exec_lost[0]), 3 << 8);
  REQUIRE_EQUAL(rec->master_updates.size(), 1u);
  CHECK_EQUAL(rec->master_updates[0].status.state, task_state::failed);
  CHECK(rec->master_updates[0].status.message.find("exited with status 3") != std::string::npos);
}

TEST(executor actor going down fails its tasks and kills its container) {
  start_with_running_task();
  caf::anon_send_exit(exec, caf::exit_reason::user_shutdown);
  sched.run();
  REQUIRE_EQUAL(rec->master_updates.size(), 1u);
  CHECK_EQUAL(rec->master_updates[0].status.state, task_state::failed);
  CHECK_EQUAL(rec->master_updates[0].status.reason, task_reason::executor_terminated);
  REQUIRE_EQUAL(rec->kills.size(), 1u);
  CHECK_EQUAL(rec->kills[0], rec->launches[0].id);
  // A late update from the dead executor's task does not resurrect it.
  caf::send_as(exec, agent, atom::update_v, executor_update("fw-1", "t1", task_state::running, "late"));
  sched.run();
  CHECK_EQUAL(rec->master_updates.size(), 1u);
}

TEST(an executor of a checkpointing framework whose connection breaks reconnects and gets what waited) {
  start(options());
  auto fi = make_framework();
  fi.checkpoint = true;
  from_master(atom::run_task_v, fi, command_task("t1"));
  sched.run();
  register_executor("fw-1", command_executor_id);
  REQUIRE_EQUAL(rec->executor_launches.size(), 1u);
  auto launched = rec->executor_launches[0];
  // Its connection breaks (as when this agent was frozen past the connection timeout): its process may live.
  caf::anon_send_exit(exec, caf::exit_reason::remote_link_unreachable);
  sched.run();
  CHECK(rec->master_updates.empty());
  CHECK(rec->kills.empty());
  // A kill meanwhile waits for it.
  from_master(atom::kill_task_v, framework_id{"fw-1"}, task_id{"t1"});
  sched.run();
  CHECK(rec->executor_kills.empty());
  // Its driver reconnects and re-registers with its task: it carries on and gets the kill.
  exec = sys.spawn(mock_executor, rec, agent);
  caf::anon_send(exec, atom::rereg_exec_v, framework_id{"fw-1"}, executor_id{command_executor_id},
                 std::vector<task_info>{launched}, std::vector<status_update>{});
  sched.run();
  CHECK(!rec->registration_error);
  REQUIRE_EQUAL(rec->executor_kills.size(), 1u);
  CHECK_EQUAL(rec->executor_kills[0], task_id{"t1"});
  CHECK(rec->master_updates.empty());
  CHECK(rec->kills.empty());
}

TEST(an executor that does not reconnect in time fails its tasks and is killed) {
  auto opts = options();
  opts.executor_reregistration_timeout = 5s;
  start(opts);
  auto fi = make_framework();
  fi.checkpoint = true;
  from_master(atom::run_task_v, fi, command_task("t1"));
  sched.run();
  register_executor("fw-1", command_executor_id);
  caf::anon_send_exit(exec, caf::exit_reason::remote_link_unreachable);
  sched.run();
  tick(4s);
  CHECK(rec->master_updates.empty());
  tick(2s);
  REQUIRE_EQUAL(rec->master_updates.size(), 1u);
  CHECK_EQUAL(rec->master_updates[0].status.state, task_state::failed);
  CHECK_EQUAL(rec->master_updates[0].status.reason, task_reason::executor_terminated);
  CHECK_NOT_EQUAL(rec->master_updates[0].status.message.find("did not reconnect"), std::string::npos);
  REQUIRE_EQUAL(rec->kills.size(), 1u);
}

TEST(executor that never registers is killed and its tasks fail) {
  auto opts = options();
  opts.executor_registration_timeout = 60s;
  start(opts);
  from_master(atom::run_task_v, make_framework(), command_task("t1"));
  sched.run();
  tick(30s);
  CHECK(rec->kills.empty());
  tick(30s);
  REQUIRE_EQUAL(rec->kills.size(), 1u);
  REQUIRE_EQUAL(rec->master_updates.size(), 1u);
  CHECK_EQUAL(rec->master_updates[0].status.reason, task_reason::executor_registration_timeout);
  // Registering now is refused.
  register_executor("fw-1", command_executor_id);
  CHECK(!rec->registration);
  CHECK(rec->registration_error);
}

TEST(unknown executors cannot register) {
  start();
  register_executor("fw-1", "nobody");
  CHECK(!rec->registration);
  CHECK(rec->registration_error);
}

TEST(kill of a queued task answers killed directly) {
  start();
  from_master(atom::run_task_v, make_framework(), command_task("t1"));
  from_master(atom::run_task_v, make_framework(), command_task("t2"));
  sched.run();
  from_master(atom::kill_task_v, framework_id{"fw-1"}, task_id{"t1"});
  sched.run();
  REQUIRE_EQUAL(rec->master_updates.size(), 1u);
  CHECK_EQUAL(rec->master_updates[0].status.task, task_id{"t1"});
  CHECK_EQUAL(rec->master_updates[0].status.state, task_state::killed);
  register_executor("fw-1", command_executor_id);
  // Only t2 reaches the executor.
  REQUIRE_EQUAL(rec->executor_launches.size(), 1u);
  CHECK_EQUAL(rec->executor_launches[0].id, task_id{"t2"});
}

TEST(kill of a launched task goes to the executor and unknown tasks are reported lost) {
  start_with_running_task();
  from_master(atom::kill_task_v, framework_id{"fw-1"}, task_id{"t1"});
  sched.run();
  REQUIRE_EQUAL(rec->executor_kills.size(), 1u);
  CHECK_EQUAL(rec->executor_kills[0], task_id{"t1"});
  CHECK(rec->master_updates.empty());
  from_master(atom::kill_task_v, framework_id{"fw-1"}, task_id{"ghost"});
  sched.run();
  REQUIRE_EQUAL(rec->master_updates.size(), 1u);
  CHECK_EQUAL(rec->master_updates[0].status.task, task_id{"ghost"});
  CHECK_EQUAL(rec->master_updates[0].status.state, task_state::lost);
}

TEST(messages are relayed both ways) {
  start_with_running_task();
  from_master(atom::fw_msg_v, framework_id{"fw-1"}, executor_id{command_executor_id},
                 std::string{"to executor"});
  caf::anon_send(exec, atom::exec_msg_v, framework_id{"fw-1"}, executor_id{command_executor_id},
                 std::string{"to scheduler"});
  from_master(atom::fw_msg_v, framework_id{"fw-1"}, executor_id{"nobody"}, std::string{"lost"});
  sched.run();
  CHECK_EQUAL(rec->executor_fw_msgs, std::vector<std::string>{"to executor"});
  CHECK_EQUAL(rec->exec_msgs, std::vector<std::string>{"to scheduler"});
}

TEST(a framework shuts down one executor which is killed after the grace period) {
  auto opts = options();
  opts.executor_shutdown_grace = 2s;
  start(opts);
  from_master(atom::run_task_v, make_framework(), command_task("t1"));
  sched.run();
  register_executor("fw-1", command_executor_id);
  caf::anon_send(exec, atom::update_v, executor_update("fw-1", "t1", task_state::running, "u1"));
  sched.run();
  // An executor the agent does not run: nothing happens.
  from_master(atom::shutdown_v, framework_id{"fw-1"}, executor_id{"nobody"});
  sched.run();
  CHECK_EQUAL(rec->executor_shutdowns, 0);
  from_master(atom::shutdown_v, framework_id{"fw-1"}, executor_id{command_executor_id});
  sched.run();
  CHECK_EQUAL(rec->executor_shutdowns, 1);
  // Unlike a framework's removal, the task stays known until its executor reports or its container ends.
  CHECK_EQUAL(snapshot().tasks.size(), 1u);
  tick(3s);
  REQUIRE_EQUAL(rec->kills.size(), 1u);
  caf::anon_send(agent, atom::exited_v, rec->launches[0].id, int32_t{9});
  sched.run();
  CHECK(snapshot().tasks.empty() || is_terminal(snapshot().tasks[0].state));
}

TEST(shutdown framework stops its executors and kills them after the grace period) {
  auto opts = options();
  opts.executor_shutdown_grace = 2s;
  start(opts);
  from_master(atom::run_task_v, make_framework(), command_task("t1"));
  sched.run();
  register_executor("fw-1", command_executor_id);
  caf::anon_send(exec, atom::update_v, executor_update("fw-1", "t1", task_state::running, "u1"));
  sched.run();
  from_master(atom::shutdown_fw_v, framework_id{"fw-1"});
  sched.run();
  CHECK_EQUAL(rec->executor_shutdowns, 1);
  CHECK(rec->kills.empty());
  auto snap = snapshot();
  CHECK(snap.tasks.empty());
  CHECK_EQUAL(snap.pending_updates, 0u);
  tick(1s);
  CHECK(rec->kills.empty());
  tick(1s);
  CHECK(rec->kills.empty());  // the grace, plus one second for the executor to drain its updates
  tick(1s);
  REQUIRE_EQUAL(rec->kills.size(), 1u);
  // Its exit produces no updates: the framework is gone.
  auto before = rec->master_updates.size();
  caf::anon_send(agent, atom::exited_v, rec->launches[0].id, int32_t{0});
  sched.run();
  CHECK_EQUAL(rec->master_updates.size(), before);
  CHECK_EQUAL(snapshot().executors, 0u);
}

TEST(exit shuts executors down and the agent quits once they are gone) {
  auto opts = options();
  opts.executor_shutdown_grace = 3s;
  opts.exit_timeout = 10s;  // far beyond the ticks below: the executor's exit, not this, ends the agent
  start_with_running_task(opts);
  caf::anon_send_exit(agent, caf::exit_reason::user_shutdown);
  sched.run();
  CHECK_EQUAL(rec->executor_shutdowns, 1);
  // Still alive: waiting for the executor.
  CHECK_EQUAL(snapshot().executors, 1u);
  tick(2s);
  CHECK(rec->kills.empty());  // not before the grace period
  tick(1s);
  CHECK(rec->kills.empty());  // nor before the executor had a second to drain its updates
  tick(1s);
  REQUIRE_EQUAL(rec->kills.size(), 1u);
  // Killing the container does not end the agent: it still waits for the exit to arrive.
  CHECK_EQUAL(snapshot().executors, 1u);
  caf::anon_send(agent, atom::exited_v, rec->launches[0].id, int32_t{9});
  sched.run();
  // The agent is gone: requests to it fail.
  bool failed = false;
  auto h = self->request(agent, caf::infinite, atom::state_v);
  sched.run();
  h.receive([&](agent_snapshot&) {}, [&](caf::error&) { failed = true; });
  CHECK(failed);
}

TEST(updates recorded before registering carry the agent ID they are sent with) {
  rec->refuse_registrations = 1;
  start();
  from_master(atom::run_task_v, make_framework(), command_task("t1"));
  sched.run();
  CHECK(rec->master_updates.empty());  // not registered yet: the refusal waits
  tick(100ms);
  REQUIRE_EQUAL(rec->master_updates.size(), 1u);
  CHECK_EQUAL(rec->master_updates[0].status.state, task_state::dropped);
  CHECK_EQUAL(rec->master_updates[0].status.agent, agent_id{"agent-1"});
}

TEST(a new agent ID after re-registering ends the old incarnation) {
  auto opts = options();
  opts.registration_backoff_min = 100ms;
  opts.executor_shutdown_grace = 3s;  // the shutdown below is at 100 ms, the kill at 100 ms + 3 s + 1 s
  opts.update_retry_min = 2s;
  start_with_running_task(opts);
  caf::anon_send(exec, atom::update_v, executor_update("fw-1", "t1", task_state::running, "u1"));
  sched.run();
  REQUIRE_EQUAL(rec->master_updates.size(), 1u);
  CHECK_EQUAL(rec->master_updates[0].status.agent, agent_id{"agent-1"});
  // A new master (it removed agent-1 and reported t1 lost) refuses the re-registration: the agent registers as a
  // new agent and gets a new ID.
  rec->agent_id_to_assign = "agent-2";
  rec->refuse_reregistrations = 1;
  caf::anon_send(caf::actor_cast<caf::actor>(agent),
                 caf::down_msg{master.address(), caf::make_error(caf::exit_reason::remote_link_unreachable)});
  sched.run();
  tick(100ms);
  REQUIRE_EQUAL(rec->reregistrations.size(), 1u);
  REQUIRE_EQUAL(rec->registrations.size(), 2u);
  auto snap = snapshot();
  CHECK_EQUAL(snap.id, agent_id{"agent-2"});
  CHECK(snap.tasks.empty());
  CHECK_EQUAL(snap.pending_updates, 0u);
  CHECK_EQUAL(rec->executor_shutdowns, 1);
  // u1 is not resent under the old ID (the master would drop it unacknowledged, forever).
  tick(2s);
  CHECK_EQUAL(rec->master_updates.size(), 1u);
  // The executor's report on the old task is taken over (acked) but not forwarded.
  caf::anon_send(exec, atom::update_v, executor_update("fw-1", "t1", task_state::killed, "u2"));
  sched.run();
  CHECK_EQUAL(rec->executor_acks.back().second, "u2");
  CHECK_EQUAL(rec->master_updates.size(), 1u);
  // The container goes after the shutdown grace (and a second to drain); its exit tells the new master nothing.
  tick(2s);
  REQUIRE_EQUAL(rec->kills.size(), 1u);
  caf::anon_send(agent, atom::exited_v, rec->launches[0].id, int32_t{9});
  sched.run();
  CHECK_EQUAL(rec->master_updates.size(), 1u);
  CHECK(rec->exec_lost.empty());
  CHECK_EQUAL(snapshot().executors, 0u);
  // New tasks run under the new ID.
  from_master(atom::run_task_v, make_framework(), command_task("t2"));
  sched.run();
  REQUIRE_EQUAL(rec->launches.size(), 2u);
  CHECK_EQUAL(rec->launches[1].environment["MESOSCAF_AGENT_ID"], "agent-2");
}

TEST(a task ID whose old task ended unacknowledged can be reused) {
  start_with_running_task();
  caf::anon_send(exec, atom::update_v, executor_update("fw-1", "t1", task_state::finished, "u1"));
  sched.run();
  REQUIRE_EQUAL(rec->master_updates.size(), 1u);
  from_master(atom::run_task_v, make_framework(), command_task("t1", "echo again"));
  sched.run();
  REQUIRE_EQUAL(rec->executor_launches.size(), 2u);
  CHECK_EQUAL(rec->executor_launches[1].command->value, "echo again");
  auto snap = snapshot();
  REQUIRE_EQUAL(snap.tasks.size(), 1u);
  CHECK_EQUAL(snap.tasks[0].state, task_state::staging);
  CHECK_EQUAL(snap.pending_updates, 1u);  // the old terminal update is still retried
  // Its ack does not end the new task.
  from_master(atom::ack_v, framework_id{"fw-1"}, task_id{"t1"}, std::string{"u1"});
  sched.run();
  snap = snapshot();
  REQUIRE_EQUAL(snap.tasks.size(), 1u);
  CHECK_EQUAL(snap.tasks[0].state, task_state::staging);
  CHECK_EQUAL(snap.pending_updates, 0u);
  // A duplicate of the live task gets no answer (it would read as the live task's state) and no launch.
  from_master(atom::run_task_v, make_framework(), command_task("t1"));
  sched.run();
  CHECK_EQUAL(rec->executor_launches.size(), 2u);
  CHECK_EQUAL(rec->master_updates.size(), 1u);
}

TEST(kill of an ended task resends its unacknowledged terminal update) {
  start_with_running_task();
  caf::anon_send(exec, atom::update_v, executor_update("fw-1", "t1", task_state::finished, "u1"));
  sched.run();
  REQUIRE_EQUAL(rec->master_updates.size(), 1u);
  from_master(atom::kill_task_v, framework_id{"fw-1"}, task_id{"t1"});
  sched.run();
  CHECK(rec->executor_kills.empty());
  REQUIRE_EQUAL(rec->master_updates.size(), 2u);
  CHECK_EQUAL(rec->master_updates[1].status.uuid, "u1");
  CHECK_EQUAL(rec->master_updates[1].status.state, task_state::finished);
}

TEST(orders from anyone but the master and reports from anyone but the executor are ignored) {
  start_with_running_task();
  caf::anon_send(exec, atom::update_v, executor_update("fw-1", "t1", task_state::running, "u1"));
  sched.run();
  REQUIRE_EQUAL(rec->master_updates.size(), 1u);
  auto rogue = sys.spawn(mock_master, rec);
  auto fw = framework_id{"fw-1"};
  auto eid = executor_id{command_executor_id};
  caf::anon_send(agent, atom::run_task_v, make_framework(), command_task("t2"));
  caf::send_as(rogue, agent, atom::run_task_v, make_framework(), command_task("t3"));
  caf::send_as(rogue, agent, atom::kill_task_v, fw, task_id{"t1"});
  caf::send_as(rogue, agent, atom::ack_v, fw, task_id{"t1"}, std::string{"u1"});
  caf::send_as(rogue, agent, atom::fw_msg_v, fw, eid, std::string{"forged"});
  caf::send_as(rogue, agent, atom::shutdown_fw_v, fw);
  caf::send_as(rogue, agent, atom::shutdown_v, fw, eid);
  sched.run();
  CHECK_EQUAL(rec->executor_launches.size(), 1u);
  CHECK(rec->executor_kills.empty());
  CHECK(rec->executor_fw_msgs.empty());
  CHECK_EQUAL(rec->executor_shutdowns, 0);
  auto snap = snapshot();
  REQUIRE_EQUAL(snap.tasks.size(), 1u);
  CHECK_EQUAL(snap.pending_updates, 1u);
  // An actor that is not t1's registered executor cannot report on it or talk for the executor.
  auto impostor = sys.spawn(mock_executor, rec, agent);
  caf::anon_send(impostor, atom::update_v, executor_update("fw-1", "t1", task_state::failed, "forged"));
  caf::anon_send(impostor, atom::exec_msg_v, fw, eid, std::string{"forged"});
  caf::anon_send(agent, atom::update_v, executor_update("fw-1", "t1", task_state::failed, "anon"));
  sched.run();
  CHECK_EQUAL(rec->master_updates.size(), 1u);
  CHECK_EQUAL(rec->executor_acks.size(), 1u);
  CHECK(rec->exec_msgs.empty());
  snap = snapshot();
  REQUIRE_EQUAL(snap.tasks.size(), 1u);
  CHECK_EQUAL(snap.tasks[0].state, task_state::running);
  caf::anon_send_exit(rogue, caf::exit_reason::kill);
  caf::anon_send_exit(impostor, caf::exit_reason::kill);
}

TEST(the container kill grace outlasts the command executor killing its tasks) {
  // Tasks run in their own sessions: the executor must get to SIGKILL them (and drain) before the
  // containerizer SIGKILLs the executor.
  agent_options aopts;
  command_executor_options eopts;
  containerizer_options copts;
  auto executor_needs = eopts.kill_grace_period + eopts.drain_timeout + 500ms;
  CHECK(aopts.container_kill_grace > executor_needs);
  CHECK(copts.kill_grace_period > executor_needs);
}

// -- operations, checkpoint, volumes ------------------------------------------------------------------------

namespace {

resource_set rs(const std::string& text) {
  auto r = resource_set::parse(text);
  if (!r)
    CAF_FAIL("bad test resources " << text);
  return *r;
}

offer_operation make_op(operation_type t, const std::string& text) {
  offer_operation o;
  o.type = t;
  o.resources = rs(text);
  return o;
}

bool path_exists(const std::string& p) {
  struct stat sb;
  return ::lstat(p.c_str(), &sb) == 0;
}

bool is_link(const std::string& p) {
  struct stat sb;
  return ::lstat(p.c_str(), &sb) == 0 && S_ISLNK(sb.st_mode);
}

const char* const base_resources = "cpus:4;mem:1024;disk:1000";

// Agent options for the volume tests: a work dir of their own and the base resources.
agent_options in_work_dir(agent_options opts, const std::string& work_dir) {
  opts.work_dir = work_dir;
  opts.resources = rs(base_resources);
  return opts;
}
const char* const reserve_text = "cpus(eng,dynamic):1;mem(eng,dynamic):128;disk(eng,dynamic):100";
const char* const volume_text = "disk(eng,dynamic)[vol1:data]:64";

} // namespace

TEST(apply_op changes the total and checkpoints it before creating and deleting the volume directory) {
  mesoscaf::test::temp_dir dir{"mesoscaf-agent-test"};
  start(in_work_dir(options(), dir.path()));
  auto fw = framework_id{"fw-1"};
  from_master(atom::apply_op_v, fw, make_op(operation_type::reserve, reserve_text));
  sched.run();
  auto reserved = rs("cpus:3;mem:896;disk:900;" + std::string{reserve_text});
  CHECK_EQUAL(snapshot().total, reserved);
  CHECK_EQUAL(mesoscaf::test::read_file(resources_checkpoint_path(dir.path())), reserved.to_string() + "\n");
  from_master(atom::apply_op_v, fw, make_op(operation_type::create, volume_text));
  sched.run();
  auto with_volume = rs("cpus:3;mem:896;disk:900;cpus(eng,dynamic):1;mem(eng,dynamic):128;disk(eng,dynamic):36;"
                        + std::string{volume_text});
  CHECK_EQUAL(snapshot().total, with_volume);
  CHECK_EQUAL(mesoscaf::test::read_file(resources_checkpoint_path(dir.path())), with_volume.to_string() + "\n");
  auto vdir = volume_directory(dir.path(), "eng", "vol1");
  CHECK_EQUAL(vdir, dir.path() + "/volumes/roles/eng/vol1");
  CHECK(path_exists(vdir));
  { std::ofstream{vdir + "/f"} << "hello"; }
  from_master(atom::apply_op_v, fw, make_op(operation_type::destroy, volume_text));
  sched.run();
  CHECK_EQUAL(snapshot().total, reserved);
  CHECK_EQUAL(mesoscaf::test::read_file(resources_checkpoint_path(dir.path())), reserved.to_string() + "\n");
  CHECK(!path_exists(vdir));
  // The quantities the agent registered with never change.
  REQUIRE_EQUAL(rec->registrations.size(), 1u);
  CHECK_EQUAL(rec->registrations[0].total, rs(base_resources));
}

TEST(operations the agent cannot apply or that do not come from the master change nothing) {
  mesoscaf::test::temp_dir dir{"mesoscaf-agent-test"};
  start(in_work_dir(options(), dir.path()));
  auto fw = framework_id{"fw-1"};
  from_master(atom::apply_op_v, fw, make_op(operation_type::reserve, "cpus(eng,dynamic):5"));
  from_master(atom::apply_op_v, fw, make_op(operation_type::create, volume_text));  // no reserved disk
  from_master(atom::apply_op_v, fw, make_op(operation_type::unreserve, "cpus(eng,dynamic):1"));
  offer_operation launch;
  from_master(atom::apply_op_v, fw, launch);
  caf::anon_send(agent, atom::apply_op_v, fw, make_op(operation_type::reserve, reserve_text));
  sched.run();
  CHECK_EQUAL(snapshot().total, rs(base_resources));
  CHECK(!path_exists(resources_checkpoint_path(dir.path())));
  CHECK(!path_exists(dir.path() + "/volumes/roles/eng/vol1"));
}

TEST(a task using a volume gets it linked into its sandbox before it reaches the executor) {
  mesoscaf::test::temp_dir dir{"mesoscaf-agent-test"};
  start(in_work_dir(options(), dir.path()));
  auto fw = framework_id{"fw-1"};
  from_master(atom::apply_op_v, fw, make_op(operation_type::reserve, reserve_text));
  from_master(atom::apply_op_v, fw, make_op(operation_type::create, volume_text));
  auto t = command_task("t1", "echo hello > data/f");
  t.resources = rs("cpus(eng,dynamic):1;" + std::string{volume_text});
  from_master(atom::run_task_v, make_framework(), t);
  sched.run();
  REQUIRE_EQUAL(rec->launches.size(), 1u);
  auto link = rec->launches[0].sandbox + "/tasks/t1/data";
  auto vdir = volume_directory(dir.path(), "eng", "vol1");
  CHECK(is_link(link));
  { std::ofstream{link + "/f"} << "hello"; }
  CHECK_EQUAL(mesoscaf::test::read_file(vdir + "/f"), "hello");
  register_executor("fw-1", command_executor_id);
  REQUIRE_EQUAL(rec->executor_launches.size(), 1u);
  CHECK_EQUAL(rec->executor_launches[0].id, task_id{"t1"});
  // While t1 runs, its volume cannot be destroyed.
  from_master(atom::apply_op_v, fw, make_op(operation_type::destroy, volume_text));
  sched.run();
  CHECK(snapshot().total.has_volume("vol1"));
  CHECK_EQUAL(mesoscaf::test::read_file(vdir + "/f"), "hello");
  // A second task on the running executor sees the same data.
  auto t2 = command_task("t2", "cat data/f");
  t2.resources = rs(volume_text);
  caf::anon_send(exec, atom::update_v, executor_update("fw-1", "t1", task_state::finished, "u1"));
  sched.run();
  from_master(atom::run_task_v, make_framework(), t2);
  sched.run();
  REQUIRE_EQUAL(rec->executor_launches.size(), 2u);
  CHECK_EQUAL(mesoscaf::test::read_file(rec->launches[0].sandbox + "/tasks/t2/data/f"), "hello");
}

TEST(a group whose task cannot get its volume never starts and its other task ends too) {
  mesoscaf::test::temp_dir dir{"mesoscaf-agent-test"};
  start(in_work_dir(options(), dir.path()));
  auto fw = framework_id{"fw-1"};
  from_master(atom::apply_op_v, fw, make_op(operation_type::reserve, reserve_text));
  from_master(atom::apply_op_v, fw, make_op(operation_type::create, volume_text));
  auto pod = pod_executor();
  from_master(atom::run_task_v, make_framework(), pod, pod_group(pod, {"first"}));
  sched.run();
  register_executor("fw-1", "pod");
  REQUIRE_EQUAL(rec->executor_groups.size(), 1u);
  // The second group's b cannot get its volume: its task directory is a file.
  REQUIRE_EQUAL(rec->launches.size(), 1u);
  std::filesystem::create_directories(rec->launches[0].sandbox + "/tasks");
  { std::ofstream{rec->launches[0].sandbox + "/tasks/b"} << "in the way"; }
  auto group = pod_group(pod, {"a", "b"});
  group.tasks[1].resources = rs("cpus(eng,dynamic):1;" + std::string{volume_text});
  from_master(atom::run_task_v, make_framework(), pod, group);
  sched.run();
  CHECK_EQUAL(rec->executor_groups.size(), 1u);  // the second group never went out
  std::map<std::string, task_status> last;
  for (const auto& u : rec->master_updates)
    last[u.status.task.value] = u.status;
  CHECK(last["b"].state == task_state::failed);
  CHECK(last["a"].state == task_state::killed);
  CHECK(last["a"].message.find("task b of its group ended before the group started") != std::string::npos);
}

TEST(a task naming a volume the agent does not have is refused with TASK_ERROR) {
  mesoscaf::test::temp_dir dir{"mesoscaf-agent-test"};
  auto opts = options();
  opts.work_dir = dir.path();
  start(opts);
  auto t = command_task("t1");
  t.resources = rs("disk(eng,dynamic)[ghost:data]:10");
  from_master(atom::run_task_v, make_framework(), t);
  sched.run();
  CHECK(rec->launches.empty());
  REQUIRE_EQUAL(rec->master_updates.size(), 1u);
  CHECK_EQUAL(rec->master_updates[0].status.state, task_state::error);
  CHECK(rec->master_updates[0].status.message.find("ghost") != std::string::npos);
}

TEST(a restarted agent registers with its checkpointed reservations and volumes) {
  mesoscaf::test::temp_dir dir{"mesoscaf-agent-test"};
  auto opts = in_work_dir(options(), dir.path());
  start(opts);
  auto fw = framework_id{"fw-1"};
  from_master(atom::apply_op_v, fw, make_op(operation_type::reserve, reserve_text));
  from_master(atom::apply_op_v, fw, make_op(operation_type::create, volume_text));
  sched.run();
  auto total = snapshot().total;
  auto vdir = volume_directory(dir.path(), "eng", "vol1");
  { std::ofstream{vdir + "/f"} << "kept"; }
  // A leftover of a volume this agent no longer has (a crash between a DESTROY's checkpoint and its deletion).
  auto stale = volume_directory(dir.path(), "eng", "old");
  REQUIRE_EQUAL(make_directories(stale), "");
  caf::anon_send_exit(agent, caf::exit_reason::kill);
  sched.run();
  start(opts);
  // It kept its ID (meta/agent): it re-registers.
  REQUIRE_EQUAL(rec->registrations.size(), 1u);
  REQUIRE_EQUAL(rec->reregistrations.size(), 1u);
  CHECK_EQUAL(rec->reregistrations[0].info.id, agent_id{"agent-1"});
  CHECK_EQUAL(rec->reregistrations[0].info.total, total);
  CHECK(rec->reregistrations[0].info.total.has_volume("vol1"));
  CHECK_EQUAL(snapshot().total, total);
  CHECK_EQUAL(mesoscaf::test::read_file(vdir + "/f"), "kept");
  CHECK(!path_exists(stale));
}

TEST(an agent whose resources differ from its checkpoint does not start) {
  mesoscaf::test::temp_dir dir{"mesoscaf-agent-test"};
  REQUIRE_EQUAL(save_resources_checkpoint(dir.path(), rs("cpus:3;cpus(eng,dynamic):1;mem:1024;disk:1000")), "");
  auto opts = options();
  opts.work_dir = dir.path();
  opts.resources = rs("cpus:8;mem:1024;disk:1000");
  start(opts);
  CHECK(rec->registrations.empty());
  bool failed = false;
  self->request(agent, caf::infinite, atom::state_v);
  sched.run();
  self->receive([&](agent_snapshot&) {}, [&](caf::error&) { failed = true; },
                caf::after(std::chrono::seconds(0)) >> [&] { failed = true; });
  CHECK(failed);
  agent = nullptr;
}

// -- following the leading master ---------------------------------------------------------------------------

TEST(the agent waits for a leader and registers with the one its detector names) {
  auto det = std::make_shared<test_detector>();
  auto opts = options();
  opts.master = nullptr;
  opts.detector = det;
  start(opts);
  REQUIRE_EQUAL(det->watchers.size(), 1u);
  tick(2s);
  CHECK(rec->registrations.empty());  // no leader known: nobody to register with
  CHECK(snapshot().id.empty());
  det->set(in_process("m1", master));
  sched.run();
  REQUIRE_EQUAL(rec->registrations.size(), 1u);
  CHECK_EQUAL(snapshot().id, agent_id{"agent-1"});
  // The same leader again changes nothing.
  det->set(in_process("m1", master));
  sched.run();
  tick(1s);
  CHECK_EQUAL(rec->registrations.size(), 1u);
  CHECK(rec->reregistrations.empty());
  // The detector is closed when the agent exits (no callback into a dead agent).
  caf::anon_send_exit(agent, caf::exit_reason::kill);
  sched.run();
  CHECK(det->closed);
  agent = nullptr;
}

TEST(a leader change makes the agent re-register with the new master with its tasks and resend updates) {
  auto det = std::make_shared<test_detector>();
  det->current = in_process("m1", master);
  auto opts = options();
  opts.master = nullptr;
  opts.detector = det;
  start_with_running_task(opts);
  REQUIRE_EQUAL(rec->registrations.size(), 1u);
  caf::anon_send(exec, atom::update_v, executor_update("fw-1", "t1", task_state::running, "u1"));
  sched.run();
  REQUIRE_EQUAL(rec->master_updates.size(), 1u);  // to the old master, never acknowledged
  // Another master is elected.
  auto rec2 = std::make_shared<agent_recorder>();
  auto master2 = sys.spawn(mock_master, rec2);
  det->set(in_process("m2", master2));
  sched.run();
  CHECK(rec2->registrations.empty());
  REQUIRE_EQUAL(rec2->reregistrations.size(), 1u);
  auto& rr = rec2->reregistrations[0];
  CHECK_EQUAL(rr.info.id, agent_id{"agent-1"});
  REQUIRE_EQUAL(rr.tasks.size(), 1u);
  CHECK_EQUAL(rr.tasks[0].info.id, task_id{"t1"});
  CHECK_EQUAL(rr.tasks[0].state, task_state::running);
  REQUIRE_EQUAL(rr.frameworks.size(), 1u);
  CHECK_EQUAL(rr.frameworks[0].id, framework_id{"fw-1"});
  // The unacknowledged update goes to the new master after its answer.
  REQUIRE_EQUAL(rec2->master_updates.size(), 1u);
  CHECK_EQUAL(rec2->master_updates[0].status.uuid, "u1");
  CHECK_EQUAL(rec2->master_updates[0].status.agent, agent_id{"agent-1"});
  CHECK_EQUAL(rec->master_updates.size(), 1u);
  // The old master gives no orders any more; the new one does.
  from_master(atom::run_task_v, make_framework(), command_task("t2"));
  sched.run();
  CHECK_EQUAL(snapshot().tasks.size(), 1u);
  caf::send_as(master2, agent, atom::ack_v, framework_id{"fw-1"}, task_id{"t1"}, std::string{"u1"});
  sched.run();
  tick(2s);
  CHECK_EQUAL(rec2->master_updates.size(), 1u);  // acknowledged by the new master: not resent
  CHECK_EQUAL(snapshot().pending_updates, 0u);
  CHECK_EQUAL(rec->executor_shutdowns, 0);
  CHECK_EQUAL(snapshot().id, agent_id{"agent-1"});
  caf::anon_send_exit(master2, caf::exit_reason::kill);
}

TEST(a standby master refusing the re-registration is retried and the agent keeps its tasks) {
  auto det = std::make_shared<test_detector>();
  det->current = in_process("m1", master);
  auto opts = options();
  opts.master = nullptr;
  opts.detector = det;
  opts.registration_backoff_min = 100ms;
  start_with_running_task(opts);
  caf::anon_send(exec, atom::update_v, executor_update("fw-1", "t1", task_state::running, "u1"));
  sched.run();
  auto rec2 = std::make_shared<agent_recorder>();
  rec2->standby_refusals = 2;  // named leader before it finished taking over
  auto master2 = sys.spawn(mock_master, rec2);
  det->set(in_process("m2", master2));
  sched.run();
  REQUIRE_EQUAL(rec2->reregistrations.size(), 1u);
  auto snap = snapshot();
  CHECK(snap.id.empty());  // not registered with anyone meanwhile
  CHECK_EQUAL(snap.tasks.size(), 1u);
  CHECK_EQUAL(snap.pending_updates, 1u);
  CHECK(rec2->master_updates.empty());
  tick(100ms);
  CHECK_EQUAL(rec2->reregistrations.size(), 2u);
  tick(100ms);
  CHECK_EQUAL(rec2->reregistrations.size(), 2u);  // backing off: 200 ms now
  tick(100ms);
  REQUIRE_EQUAL(rec2->reregistrations.size(), 3u);
  for (auto& rr : rec2->reregistrations) {
    CHECK_EQUAL(rr.info.id, agent_id{"agent-1"});
    CHECK_EQUAL(rr.tasks.size(), 1u);
  }
  CHECK(rec2->registrations.empty());  // never started over as a new agent
  CHECK_EQUAL(snapshot().id, agent_id{"agent-1"});
  REQUIRE_EQUAL(rec2->master_updates.size(), 1u);
  CHECK_EQUAL(rec2->master_updates[0].status.uuid, "u1");
  CHECK_EQUAL(rec->executor_shutdowns, 0);
  caf::anon_send_exit(master2, caf::exit_reason::kill);
}

TEST(a standby master refusing a new agent is retried) {
  rec->standby_refusals = 1;
  start();
  REQUIRE_EQUAL(rec->registrations.size(), 1u);
  CHECK(snapshot().id.empty());
  tick(100ms);
  CHECK_EQUAL(rec->registrations.size(), 2u);
  CHECK_EQUAL(snapshot().id, agent_id{"agent-1"});
}

TEST(no leader named leaves the agent unregistered until one is) {
  auto det = std::make_shared<test_detector>();
  det->current = in_process("m1", master);
  auto opts = options();
  opts.master = nullptr;
  opts.detector = det;
  start_with_running_task(opts);
  det->set(master_location{});
  sched.run();
  caf::anon_send(exec, atom::update_v, executor_update("fw-1", "t1", task_state::running, "u1"));
  sched.run();
  tick(5s);
  CHECK(rec->master_updates.empty());
  CHECK(rec->reregistrations.empty());
  CHECK(snapshot().id.empty());
  CHECK_EQUAL(snapshot().tasks.size(), 1u);
  // The same master leads again (a new run would have a new ID; the same ID counts as a new report after none).
  det->set(in_process("m1", master));
  sched.run();
  REQUIRE_EQUAL(rec->reregistrations.size(), 1u);
  REQUIRE_EQUAL(rec->master_updates.size(), 1u);
  CHECK_EQUAL(rec->master_updates[0].status.uuid, "u1");
}

TEST(with an in-process election the agent follows the next leader when the leader expires) {
  auto election = in_process_election::make();
  auto rec2 = std::make_shared<agent_recorder>();
  auto master2 = sys.spawn(mock_master, rec2);
  auto c1 = election->contender();
  auto c2 = election->contender();
  c1->contend(in_process("m1", master), [](contender_event, const std::string&) {});
  c2->contend(in_process("m2", master2), [](contender_event, const std::string&) {});
  auto opts = options();
  opts.master = nullptr;
  opts.detector = election->detector();
  start_with_running_task(opts);
  CHECK_EQUAL(rec->registrations.size(), 1u);
  CHECK(rec2->registrations.empty());
  election->expire_leader();  // m1 loses its session: m2 leads
  sched.run();
  REQUIRE_EQUAL(rec2->reregistrations.size(), 1u);
  CHECK_EQUAL(rec2->reregistrations[0].info.id, agent_id{"agent-1"});
  CHECK_EQUAL(rec2->reregistrations[0].tasks.size(), 1u);
  CHECK_EQUAL(snapshot().id, agent_id{"agent-1"});
  c2->withdraw();  // nobody leads: the agent waits, unregistered
  sched.run();
  tick(1s);
  CHECK(snapshot().id.empty());
  CHECK_EQUAL(rec2->reregistrations.size(), 1u);
  caf::anon_send_exit(master2, caf::exit_reason::kill);
}

// -- supervision: the agent restarts its component actors ------------------------------------------------------

TEST(a containerizer that dies is restarted and re-adopts the running executor without losing its task) {
  start_with_running_task();
  rec->alive_pids = {4242};
  auto cid = rec->launches[0].id;
  auto old = cont;
  caf::anon_send_exit(cont, caf::exit_reason::kill);
  sched.run();
  REQUIRE(agent_alive());
  CHECK(cont.address() != old.address());
  // The new containerizer watches the executor's process again.
  REQUIRE_EQUAL(rec->recovers.size(), 1u);
  CHECK_EQUAL(std::get<0>(rec->recovers[0]), cid);
  CHECK_EQUAL(std::get<1>(rec->recovers[0]), 4242);
  CHECK(rec->master_updates.empty());
  CHECK(rec->kills.empty());
  // The running task finishes and its update reaches the master.
  caf::anon_send(exec, atom::update_v, executor_update("fw-1", "t1", task_state::finished, "u1"));
  sched.run();
  REQUIRE_EQUAL(rec->master_updates.size(), 1u);
  CHECK_EQUAL(rec->master_updates[0].status.state, task_state::finished);
  // New tasks launch afterwards: on the running executor, and a new executor through the new containerizer.
  from_master(atom::run_task_v, make_framework(), command_task("t2"));
  from_master(atom::run_task_v, make_framework(), custom_task("t3", "e3"));
  sched.run();
  REQUIRE_EQUAL(rec->executor_launches.size(), 2u);
  CHECK_EQUAL(rec->executor_launches[1].id, task_id{"t2"});
  REQUIRE_EQUAL(rec->launches.size(), 2u);
  CHECK_EQUAL(rec->launches[1].environment["MESOSCAF_EXECUTOR_ID"], "e3");
  // Exits still reach the agent's table.
  caf::anon_send(agent, atom::exited_v, cid, int32_t{0});
  sched.run();
  CHECK_EQUAL(snapshot().executors, 1u);
}

TEST(an executor that ended while the containerizer was down fails its tasks once the new one finds it gone) {
  start_with_running_task();
  rec->alive_pids.clear();
  caf::anon_send_exit(cont, caf::exit_reason::kill);
  sched.run();
  REQUIRE(agent_alive());
  REQUIRE_EQUAL(rec->recovers.size(), 1u);
  REQUIRE_EQUAL(rec->master_updates.size(), 1u);
  CHECK_EQUAL(rec->master_updates[0].status.task, task_id{"t1"});
  CHECK_EQUAL(rec->master_updates[0].status.state, task_state::failed);
  CHECK_EQUAL(rec->master_updates[0].status.reason, task_reason::executor_terminated);
  CHECK_EQUAL(snapshot().executors, 0u);
}

TEST(a launch the dead containerizer never answered goes to its successor) {
  start();
  from_master(atom::run_task_v, make_framework(), command_task("t1"));
  caf::anon_send_exit(cont, caf::exit_reason::kill);  // dies before it gets to the launch
  sched.run();
  REQUIRE(agent_alive());
  REQUIRE_EQUAL(rec->launches.size(), 1u);  // only the new containerizer saw it
  CHECK(rec->master_updates.empty());
  register_executor("fw-1", command_executor_id);
  REQUIRE_EQUAL(rec->executor_launches.size(), 1u);
  CHECK_EQUAL(rec->executor_launches[0].id, task_id{"t1"});
}

TEST(a disk worker that dies is restarted and does the checkpoint writes it had not done) {
  start(options());
  auto fi = make_framework();
  fi.checkpoint = true;
  from_master(atom::run_task_v, fi, command_task("t1"));
  caf::anon_send_exit(disk, caf::exit_reason::kill);  // dies before it writes the task's records
  sched.run();
  REQUIRE(agent_alive());
  register_executor("fw-1", command_executor_id);
  // The task is handed over only once its record is on disk: the new worker wrote it.
  REQUIRE_EQUAL(rec->executor_launches.size(), 1u);
  // An update whose checkpoint write the next worker death takes along still reaches the master.
  caf::anon_send(exec, atom::update_v, executor_update("fw-1", "t1", task_state::running, "u1"));
  caf::anon_send_exit(disk, caf::exit_reason::kill);
  sched.run();
  REQUIRE(agent_alive());
  REQUIRE_EQUAL(rec->master_updates.size(), 1u);
  CHECK_EQUAL(rec->master_updates[0].status.uuid, "u1");
  // The running task finishes, its end reaches the master, and a new task launches.
  from_master(atom::ack_v, framework_id{"fw-1"}, task_id{"t1"}, std::string{"u1"});
  caf::anon_send(exec, atom::update_v, executor_update("fw-1", "t1", task_state::finished, "u2"));
  sched.run();
  REQUIRE_EQUAL(rec->master_updates.size(), 2u);
  CHECK_EQUAL(rec->master_updates[1].status.state, task_state::finished);
  from_master(atom::run_task_v, fi, command_task("t2"));
  sched.run();
  REQUIRE_EQUAL(rec->executor_launches.size(), 2u);
  // Everything is on disk, in order: the records and both updates of t1.
  recovered_state rs;
  REQUIRE_EQUAL(read_checkpoint(work.path(), rs), "");
  auto& tasks = rs.frameworks[framework_id{"fw-1"}].tasks;
  REQUIRE_EQUAL(tasks.count(task_id{"t1"}), 1u);
  REQUIRE_EQUAL(tasks.count(task_id{"t2"}), 1u);
  std::vector<std::string> log;
  for (auto& u : tasks[task_id{"t1"}].updates)
    log.push_back(u.is_ack ? "ack" : u.update.status.uuid);
  CHECK_EQUAL(log, (std::vector<std::string>{"u1", "ack", "u2"}));
}

TEST(a component that keeps dying is restarted with backoff until the budget is spent and the agent exits) {
  auto opts = options();
  opts.component_restarts.max_restarts = 2;
  opts.component_restarts.backoff_min = 100ms;
  opts.component_restarts.backoff_max = 1s;
  start_with_running_task(opts);
  rec->alive_pids = {4242};
  auto old = cont;
  caf::anon_send_exit(cont, caf::exit_reason::kill);
  sched.run();
  CHECK(cont.address() == old.address());  // waits for its backoff
  tick(100ms);
  REQUIRE(cont.address() != old.address());
  old = cont;
  caf::anon_send_exit(cont, caf::exit_reason::kill);
  sched.run();
  tick(100ms);
  CHECK(cont.address() == old.address());  // the second restart waits twice as long
  tick(100ms);
  REQUIRE(cont.address() != old.address());
  REQUIRE(agent_alive());
  CHECK(rec->master_updates.empty());
  // A third death within the window: the agent gives up.
  caf::anon_send_exit(cont, caf::exit_reason::kill);
  sched.run();
  CHECK(!agent_alive());
}

FIXTURE_SCOPE_END()
