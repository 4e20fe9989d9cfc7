#define CAF_SUITE actors_agent_recovery
#include "config/support/files.hpp"
#include "deterministic_fixture.hpp"

#include "actors/agent/agent.hpp"
#include "actors/agent/agent_checkpoint.hpp"
#include "actors/agent/agent_resources.hpp"
#include "agent_test_mocks.hpp"
#include "child_process.hpp"
#include "containerizer/launcher.hpp"
#include "test_helpers.hpp"

#include <caf/all.hpp>

#include <fstream>
#include <memory>
#include <set>

#include <sys/stat.h>

// Agent checkpointing and recovery (issue 4), deterministically: a mock master, a mock containerizer whose
// `recover` says which pids still run, a mock executor, the disk worker on the test scheduler, a temp work dir.
// The checkpoint is either written by an agent of the test, which is then killed (as by kill -9: no orderly
// shutdown), or written directly with agent_checkpoint.hpp.

using namespace mesoscaf;
using namespace std::chrono_literals;
using namespace mesoscaf::test;

namespace {

framework_info checkpointing_framework(bool partition_aware = false) {
  framework_info fi;
  fi.id = framework_id{"fw-1"};
  fi.name = "test framework";
  fi.checkpoint = true;
  if (partition_aware)
    fi.capabilities.push_back("PARTITION_AWARE");
  return fi;
}

task_info command_task(const std::string& id) {
  task_info t;
  t.id = task_id{id};
  t.name = "task " + id;
  t.agent = agent_id{"agent-7"};
  t.resources = resource_set::scalar("cpus", 1);
  command_info c;
  c.value = "sleep 1000";
  t.command = c;
  return t;
}

task_info custom_task(const std::string& id, const std::string& exec) {
  task_info t;
  t.id = task_id{id};
  t.name = "task " + id;
  t.agent = agent_id{"agent-7"};
  executor_info e;
  e.id = executor_id{exec};
  e.framework = framework_id{"fw-1"};
  e.command.value = "/bin/my-executor";
  t.executor = e;
  return t;
}

status_update make_update(const std::string& task, task_state st, const std::string& uuid) {
  status_update u;
  u.framework = framework_id{"fw-1"};
  u.status.task = task_id{task};
  u.status.state = st;
  u.status.uuid = uuid;
  u.status.source = status_source::executor;
  return u;
}

const framework_id fw1{"fw-1"};

struct fixture : mesoscaf::test::deterministic_fixture {
  mesoscaf::test::temp_dir work{"mesoscaf-agent-recovery-test"};
  recorder_ptr rec = [] {
    auto r = std::make_shared<agent_recorder>();
    r->agent_id_to_assign = "agent-new";   // a fresh registration is told apart from a recovered "agent-7"
    return r;
  }();
  master_actor master;
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
    opts.registration_backoff_min = 100ms;
    opts.update_retry_min = 2s;
    opts.update_retry_max = 60s;
    opts.tick_interval = 100ms;
    opts.executor_reregistration_timeout = 5s;
    opts.recovery_timeout = 90s;
    opts.detached_disk_worker = false;
    opts.make_containerizer = [this](caf::actor_system& sys, agent_actor) {
      return caf::actor_cast<containerizer_actor>(sys.spawn(mock_containerizer, rec));
    };
    return opts;
  }

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

  // As kill -9: the agent actor is gone at once, nothing orderly happens (its executors live on).
  void crash() {
    caf::anon_send_exit(agent, caf::exit_reason::kill);
    sched.run();
    agent = nullptr;
  }

  void spawn_executor() {
    if (exec)
      caf::anon_send_exit(exec, caf::exit_reason::kill);
    rec->registration = caf::none;
    rec->registration_error = caf::error{};
    exec = sys.spawn(mock_executor, rec, agent);
  }

  void reregister_executor(const std::string& eid, std::vector<task_info> tasks,
                           std::vector<status_update> updates = {}) {
    spawn_executor();
    caf::anon_send(exec, atom::rereg_exec_v, fw1, executor_id{eid}, std::move(tasks), std::move(updates));
    sched.run();
  }

  void tick(caf::timespan d) {
    advance_time(d);
    sched.run();
  }

  agent_snapshot snapshot() {
    agent_snapshot result;
    auto h = self->request(agent, caf::infinite, atom::state_v);
    sched.run();
    h.receive([&](agent_snapshot& s) { result = std::move(s); },
              [&](caf::error& err) { FAIL("state request failed: " << sys.render(err)); });
    return result;
  }

  recovered_state on_disk() {
    recovered_state rs;
    auto err = read_checkpoint(work.path(), rs);
    if (!err.empty())
      FAIL("cannot read the checkpoint: " << err);
    return rs;
  }

  // -- writing a checkpoint as an earlier agent process would have --
  void put(const std::string& rel, const std::string& bytes) {
    REQUIRE_EQUAL(write_checkpoint_file(work.path(), rel, bytes), "");
  }

  void log(const std::string& task, const update_record& r) {
    REQUIRE_EQUAL(append_checkpoint_file(work.path(), task_updates_path(fw1, task_id{task}), encode_frame(r), true),
                  "");
  }

  void log_update(const std::string& task, task_state st, const std::string& uuid) {
    update_record r;
    r.update = make_update(task, st, uuid);
    log(task, r);
  }

  void log_ack(const std::string& task, const std::string& uuid) {
    update_record r;
    r.is_ack = true;
    r.uuid = uuid;
    log(task, r);
  }

  void put_agent(const std::string& boot = "boot-1") {
    agent_record a;
    a.id = agent_id{"agent-7"};
    a.boot_id = boot;
    a.port = 5051;
    put(agent_record_path(), encode_frame(a));
  }

  // agent-7 ran fw-1 (checkpointing) with `eid` (the command executor unless a custom ID is given) as `pid`
  // in container c-1.
  void put_executor(const std::string& eid, int32_t pid, bool partition_aware = false) {
    put(framework_record_path(fw1), encode_frame(checkpointing_framework(partition_aware)));
    executor_record e;
    e.framework = fw1;
    e.info.id = executor_id{eid};
    e.info.framework = fw1;
    e.command = eid == command_executor_id;
    e.container = container_id{"c-" + eid};
    e.sandbox = work.path() + "/sandbox-" + eid;
    e.pid = pid;
    e.start_time = 77;
    // The secret the earlier agent gave it; the (mock) executor re-registers with it.
    e.secret = "secret-of-" + eid;
    rec->executor_secrets[eid] = e.secret;
    put(executor_record_path(fw1, executor_id{eid}), encode_frame(e));
  }

  void put_task(const task_info& ti, const std::string& eid) {
    task_record t;
    t.framework = fw1;
    t.info = ti;
    t.executor = executor_id{eid};
    put(task_record_path(fw1, ti.id), encode_frame(t));
  }

  std::vector<status_update> updates_for(const std::string& task) {
    std::vector<status_update> result;
    for (auto& u : rec->master_updates)
      if (u.status.task == task_id{task})
        result.push_back(u);
    return result;
  }

  ~fixture() override {
    if (agent)
      caf::anon_send_exit(agent, caf::exit_reason::kill);
    if (exec)
      caf::anon_send_exit(exec, caf::exit_reason::kill);
    sched.run();
  }
};

bool exists(const std::string& path) {
  struct stat sb;
  return ::lstat(path.c_str(), &sb) == 0;
}

} // namespace

FIXTURE_SCOPE(agent_recovery_tests, fixture)

TEST(a checkpointing framework gets its framework executor task and updates written before they are forwarded) {
  start();
  REQUIRE_EQUAL(rec->registrations.size(), 1u);
  auto rs = on_disk();
  REQUIRE(rs.found);
  CHECK_EQUAL(rs.agent.id, agent_id{"agent-new"});
  CHECK_EQUAL(rs.agent.boot_id, "boot-1");
  CHECK_EQUAL(rs.agent.port, 5051u);
  from_master(atom::run_task_v, checkpointing_framework(), command_task("t1"));
  sched.run();
  REQUIRE_EQUAL(rec->launches.size(), 1u);
  CHECK_EQUAL(rec->launches[0].environment["MESOSCAF_CHECKPOINT"], "1");
  CHECK_EQUAL(rec->launches[0].environment["MESOSCAF_RECOVERY_TIMEOUT"], "90000");
  rs = on_disk();
  REQUIRE_EQUAL(rs.frameworks.count(fw1), 1u);
  auto& f = rs.frameworks[fw1];
  CHECK(f.info.checkpoint);
  REQUIRE_EQUAL(f.executors.size(), 1u);
  auto& e = f.executors.begin()->second.record;
  CHECK_EQUAL(e.pid, 4242);  // rewritten once the containerizer reported it
  CHECK_EQUAL(e.container, rec->launches[0].id);
  CHECK(e.command);
  REQUIRE_EQUAL(f.tasks.count(task_id{"t1"}), 1u);
  CHECK_EQUAL(f.tasks[task_id{"t1"}].record.executor, executor_id{command_executor_id});
  spawn_executor();
  caf::anon_send(exec, atom::connect_v, fw1, executor_id{command_executor_id});
  sched.run();
  REQUIRE_EQUAL(rec->executor_launches.size(), 1u);
  caf::anon_send(exec, atom::update_v, make_update("t1", task_state::running, "u1"));
  sched.run();
  REQUIRE_EQUAL(rec->master_updates.size(), 1u);
  REQUIRE_EQUAL(rec->executor_acks.size(), 1u);
  auto log = on_disk().frameworks[fw1].tasks[task_id{"t1"}].updates;
  REQUIRE_EQUAL(log.size(), 1u);
  CHECK(!log[0].is_ack);
  CHECK_EQUAL(log[0].update.status.uuid, "u1");
  // The master's ack is logged too.
  from_master(atom::ack_v, fw1, task_id{"t1"}, std::string{"u1"});
  sched.run();
  log = on_disk().frameworks[fw1].tasks[task_id{"t1"}].updates;
  REQUIRE_EQUAL(log.size(), 2u);
  CHECK(log[1].is_ack);
  CHECK_EQUAL(log[1].uuid, "u1");
  // A terminal task whose update is acknowledged is forgotten, on disk too.
  caf::anon_send(exec, atom::update_v, make_update("t1", task_state::finished, "u2"));
  sched.run();
  from_master(atom::ack_v, fw1, task_id{"t1"}, std::string{"u2"});
  sched.run();
  CHECK(snapshot().tasks.empty());
  CHECK_EQUAL(on_disk().frameworks[fw1].tasks.count(task_id{"t1"}), 0u);
  // The executor's exit removes its record; the framework's shutdown the rest.
  caf::anon_send(agent, atom::exited_v, rec->launches[0].id, int32_t{0});
  sched.run();
  CHECK(on_disk().frameworks[fw1].executors.empty());
  from_master(atom::shutdown_fw_v, fw1);
  sched.run();
  CHECK(!exists(work.path() + "/" + framework_dir(fw1)));
}

TEST(frameworks without checkpoint are not written and their executors are told so) {
  start();
  auto fi = checkpointing_framework();
  fi.checkpoint = false;
  from_master(atom::run_task_v, fi, command_task("t1"));
  sched.run();
  REQUIRE_EQUAL(rec->launches.size(), 1u);
  CHECK_EQUAL(rec->launches[0].environment["MESOSCAF_CHECKPOINT"], "0");
  CHECK(on_disk().frameworks.empty());
}

TEST(a dropped acknowledgement is retried with backoff and the next update waits for it) {
  start();
  from_master(atom::run_task_v, checkpointing_framework(), command_task("t1"));
  sched.run();
  spawn_executor();
  caf::anon_send(exec, atom::connect_v, fw1, executor_id{command_executor_id});
  sched.run();
  caf::anon_send(exec, atom::update_v, make_update("t1", task_state::running, "u1"));
  caf::anon_send(exec, atom::update_v, make_update("t1", task_state::finished, "u2"));
  sched.run();
  // Both taken over (acked to the executor, logged), only the head is in flight; it tells the newest state.
  CHECK_EQUAL(rec->executor_acks.size(), 2u);
  CHECK_EQUAL(on_disk().frameworks[fw1].tasks[task_id{"t1"}].updates.size(), 2u);
  REQUIRE_EQUAL(rec->master_updates.size(), 1u);
  CHECK_EQUAL(rec->master_updates[0].status.uuid, "u1");
  CHECK_EQUAL(rec->master_updates[0].status.state, task_state::running);
  CHECK_EQUAL(rec->master_updates[0].latest_state, task_state::finished);
  // No ack: the same update again after 2 s, 4 s, 8 s.
  tick(1900ms);
  CHECK_EQUAL(rec->master_updates.size(), 1u);
  tick(100ms);
  CHECK_EQUAL(rec->master_updates.size(), 2u);
  tick(3900ms);
  CHECK_EQUAL(rec->master_updates.size(), 2u);
  tick(100ms);
  CHECK_EQUAL(rec->master_updates.size(), 3u);
  tick(7900ms);
  CHECK_EQUAL(rec->master_updates.size(), 3u);
  tick(100ms);
  REQUIRE_EQUAL(rec->master_updates.size(), 4u);
  for (auto& u : rec->master_updates)
    CHECK_EQUAL(u.status.uuid, "u1");
  // An ack of the update not in flight is ignored.
  from_master(atom::ack_v, fw1, task_id{"t1"}, std::string{"u2"});
  sched.run();
  CHECK_EQUAL(rec->master_updates.size(), 4u);
  CHECK_EQUAL(snapshot().pending_updates, 2u);
  // The ack of u1 releases u2 at once.
  from_master(atom::ack_v, fw1, task_id{"t1"}, std::string{"u1"});
  sched.run();
  REQUIRE_EQUAL(rec->master_updates.size(), 5u);
  CHECK_EQUAL(rec->master_updates[4].status.uuid, "u2");
  CHECK_EQUAL(rec->master_updates[4].status.state, task_state::finished);
  // A duplicate ack of u1 changes nothing.
  from_master(atom::ack_v, fw1, task_id{"t1"}, std::string{"u1"});
  sched.run();
  CHECK_EQUAL(snapshot().pending_updates, 1u);
  CHECK_EQUAL(rec->master_updates.size(), 5u);
  // u2 is retried from the initial interval.
  tick(2s);
  CHECK_EQUAL(rec->master_updates.size(), 6u);
  CHECK_EQUAL(rec->master_updates[5].status.uuid, "u2");
  from_master(atom::ack_v, fw1, task_id{"t1"}, std::string{"u2"});
  sched.run();
  CHECK_EQUAL(snapshot().pending_updates, 0u);
  tick(60s);
  CHECK_EQUAL(rec->master_updates.size(), 6u);
}

TEST(an agent restarted after a crash keeps its ID and adopts its re-registering executor and tasks) {
  // Agent 1 runs t1 and t2; t1's RUNNING is acknowledged, t2's is not.
  start();
  from_master(atom::run_task_v, checkpointing_framework(), command_task("t1"));
  from_master(atom::run_task_v, checkpointing_framework(), command_task("t2"));
  sched.run();
  spawn_executor();
  caf::anon_send(exec, atom::connect_v, fw1, executor_id{command_executor_id});
  sched.run();
  caf::anon_send(exec, atom::update_v, make_update("t1", task_state::running, "u1"));
  caf::anon_send(exec, atom::update_v, make_update("t2", task_state::running, "u2"));
  sched.run();
  from_master(atom::ack_v, fw1, task_id{"t1"}, std::string{"u1"});
  sched.run();
  auto cid = rec->launches.at(0).id;
  crash();
  rec->master_updates.clear();
  rec->alive_pids.insert(4242);
  // Agent 2 on the same work dir.
  start();
  REQUIRE_EQUAL(rec->recovers.size(), 1u);
  CHECK_EQUAL(std::get<0>(rec->recovers[0]), cid);
  CHECK_EQUAL(std::get<1>(rec->recovers[0]), 4242);
  // Waiting for the executor: no registration yet, nothing sent.
  CHECK_EQUAL(rec->registrations.size(), 1u);
  CHECK(rec->reregistrations.empty());
  CHECK(rec->master_updates.empty());
  CHECK(snapshot().id.empty());
  reregister_executor(command_executor_id, {command_task("t1"), command_task("t2")});
  REQUIRE(rec->registration);
  CHECK_EQUAL(rec->registration->agent, agent_id{"agent-new"});
  CHECK_EQUAL(rec->registration->framework, fw1);
  // Every recovered executor is back: the agent re-registers with its ID and its tasks.
  CHECK_EQUAL(rec->registrations.size(), 1u);
  REQUIRE_EQUAL(rec->reregistrations.size(), 1u);
  auto& rr = rec->reregistrations[0];
  CHECK_EQUAL(rr.info.id, agent_id{"agent-new"});
  REQUIRE_EQUAL(rr.tasks.size(), 2u);
  CHECK_EQUAL(rr.tasks[0].info.id, task_id{"t1"});
  CHECK_EQUAL(rr.tasks[0].state, task_state::running);
  CHECK_EQUAL(rr.tasks[1].state, task_state::running);
  REQUIRE_EQUAL(rr.frameworks.size(), 1u);
  CHECK(rr.frameworks[0].checkpoint);
  // The unacknowledged update is resent (same uuid), the acknowledged one not.
  REQUIRE_EQUAL(rec->master_updates.size(), 1u);
  CHECK_EQUAL(rec->master_updates[0].status.uuid, "u2");
  CHECK_EQUAL(rec->master_updates[0].status.agent, agent_id{"agent-new"});
  auto snap = snapshot();
  CHECK_EQUAL(snap.id, agent_id{"agent-new"});
  CHECK_EQUAL(snap.tasks.size(), 2u);
  CHECK_EQUAL(snap.executors, 1u);
  // The re-registered executor is the tasks' executor now: its updates count.
  caf::anon_send(exec, atom::update_v, make_update("t1", task_state::finished, "u3"));
  sched.run();
  REQUIRE_EQUAL(rec->master_updates.size(), 2u);
  CHECK_EQUAL(rec->master_updates[1].status.uuid, "u3");
  // A second re-registration is refused.
  reregister_executor(command_executor_id, {});
  CHECK(!rec->registration);
  CHECK(rec->registration_error);
}

TEST(updates an executor could not deliver are taken over when it re-registers) {
  put_agent();
  put_executor("e1", 100);
  put_task(custom_task("t1", "e1"), "e1");
  log_update("t1", task_state::running, "u1");
  log_ack("t1", "u1");
  rec->alive_pids.insert(100);
  start();
  REQUIRE_EQUAL(rec->recovers.size(), 1u);
  CHECK_EQUAL(std::get<2>(rec->recovers[0]), 77u);
  // t1 finished while the agent was down; the executor still holds the update.
  reregister_executor("e1", {}, {make_update("t1", task_state::finished, "u2")});
  REQUIRE(rec->registration);
  REQUIRE_EQUAL(rec->reregistrations.size(), 1u);
  CHECK_EQUAL(rec->reregistrations[0].info.id, agent_id{"agent-7"});
  REQUIRE_EQUAL(rec->reregistrations[0].executors.size(), 1u);
  CHECK_EQUAL(rec->reregistrations[0].executors[0].id, executor_id{"e1"});
  auto t1 = updates_for("t1");
  REQUIRE_EQUAL(t1.size(), 1u);
  CHECK_EQUAL(t1[0].status.uuid, "u2");
  CHECK_EQUAL(t1[0].status.state, task_state::finished);
  REQUIRE(!rec->executor_acks.empty());
  CHECK_EQUAL(rec->executor_acks.back().second, "u2");
}

TEST(an executor whose re-registration reply was lost may re-register again and keeps its tasks) {
  put_agent();
  put_executor("e1", 100);
  put_task(custom_task("t1", "e1"), "e1");
  log_update("t1", task_state::running, "u1");
  log_ack("t1", "u1");
  rec->alive_pids.insert(100);
  start();
  reregister_executor("e1", {custom_task("t1", "e1")});
  REQUIRE(rec->registration);
  // The executor did not see the reply (timeout) and tries again with the same handle: before the fix the agent
  // refused, and the executor killed its healthy tasks.
  rec->registration = caf::none;
  caf::anon_send(exec, atom::rereg_exec_v, fw1, executor_id{"e1"}, std::vector<task_info>{custom_task("t1", "e1")},
                 std::vector<status_update>{});
  sched.run();
  REQUIRE(rec->registration);
  CHECK_EQUAL(rec->registration->executor.id, executor_id{"e1"});
  auto snap = snapshot();
  REQUIRE_EQUAL(snap.tasks.size(), 1u);
  CHECK_EQUAL(snap.tasks[0].state, task_state::running);
  CHECK(updates_for("t1").empty());
  CHECK(rec->kills.empty());
}

TEST(tasks of an executor that died while the agent was down fail) {
  put_agent();
  put_executor(command_executor_id, 100);
  put_task(command_task("t1"), command_executor_id);
  log_update("t1", task_state::running, "u1");
  log_ack("t1", "u1");
  start();  // pid 100 is not alive
  REQUIRE_EQUAL(rec->recovers.size(), 1u);
  // Nothing to wait for: the agent re-registers at once and reports t1's end.
  REQUIRE_EQUAL(rec->reregistrations.size(), 1u);
  REQUIRE_EQUAL(rec->reregistrations[0].tasks.size(), 1u);
  CHECK_EQUAL(rec->reregistrations[0].tasks[0].state, task_state::failed);
  auto t1 = updates_for("t1");
  REQUIRE_EQUAL(t1.size(), 1u);
  CHECK_EQUAL(t1[0].status.state, task_state::failed);
  CHECK_EQUAL(t1[0].status.reason, task_reason::executor_terminated);
  CHECK_EQUAL(t1[0].status.source, status_source::agent);
  CHECK_EQUAL(t1[0].status.agent, agent_id{"agent-7"});
  // The failure is checkpointed like any update.
  auto log = on_disk().frameworks[fw1].tasks[task_id{"t1"}].updates;
  REQUIRE_EQUAL(log.size(), 3u);
  CHECK_EQUAL(log[2].update.status.state, task_state::failed);
  CHECK(on_disk().frameworks[fw1].executors.empty());
}

TEST(tasks of a dead custom executor are lost or gone and never launched ones dropped) {
  for (bool pa : {false, true}) {
    rec->master_updates.clear();
    mesoscaf::test::temp_dir dir{"mesoscaf-agent-recovery-test"};
    auto opts = options();
    opts.work_dir = dir.path();
    auto put_in = [&](const std::string& rel, const std::string& bytes) {
      REQUIRE_EQUAL(write_checkpoint_file(dir.path(), rel, bytes), "");
    };
    agent_record a;
    a.id = agent_id{"agent-7"};
    a.boot_id = "boot-1";
    put_in(agent_record_path(), encode_frame(a));
    put_in(framework_record_path(fw1), encode_frame(checkpointing_framework(pa)));
    executor_record e;
    e.framework = fw1;
    e.info.id = executor_id{"e1"};
    e.container = container_id{"c-e1"};
    e.pid = 100;
    e.start_time = 77;
    put_in(executor_record_path(fw1, e.info.id), encode_frame(e));
    for (auto id : {"ran", "queued"}) {
      task_record t;
      t.framework = fw1;
      t.info = custom_task(id, "e1");
      t.executor = executor_id{"e1"};
      put_in(task_record_path(fw1, t.info.id), encode_frame(t));
    }
    update_record r;
    r.update = make_update("ran", task_state::running, "u1");
    REQUIRE_EQUAL(append_checkpoint_file(dir.path(), task_updates_path(fw1, task_id{"ran"}), encode_frame(r), true),
                  "");
    start(opts);
    auto ran = updates_for("ran");
    auto queued = updates_for("queued");
    // "ran" still has its RUNNING pending: that goes first, the terminal state waits for its ack.
    REQUIRE_EQUAL(ran.size(), 1u);
    CHECK_EQUAL(ran[0].status.uuid, "u1");
    CHECK_EQUAL(ran[0].latest_state, pa ? task_state::gone : task_state::lost);
    REQUIRE_EQUAL(queued.size(), 1u);
    CHECK_EQUAL(queued[0].status.state, pa ? task_state::dropped : task_state::lost);
    CHECK_EQUAL(queued[0].status.reason, task_reason::agent_restarted);
    crash();
  }
}

TEST(an executor that does not re-register in time is killed and its tasks fail) {
  put_agent();
  put_executor(command_executor_id, 100);
  put_task(command_task("t1"), command_executor_id);
  log_update("t1", task_state::running, "u1");
  rec->alive_pids.insert(100);
  start();
  tick(4900ms);
  CHECK(rec->kills.empty());
  CHECK(rec->reregistrations.empty());
  tick(100ms);
  REQUIRE_EQUAL(rec->kills.size(), 1u);
  CHECK_EQUAL(rec->kills[0], container_id{"c-" + std::string{command_executor_id}});
  REQUIRE_EQUAL(rec->reregistrations.size(), 1u);
  auto t1 = updates_for("t1");
  // u1 (RUNNING, never acknowledged) is the head; it carries the newest state.
  REQUIRE_EQUAL(t1.size(), 1u);
  CHECK_EQUAL(t1[0].status.uuid, "u1");
  CHECK_EQUAL(t1[0].latest_state, task_state::failed);
  from_master(atom::ack_v, fw1, task_id{"t1"}, std::string{"u1"});
  sched.run();
  t1 = updates_for("t1");
  REQUIRE_EQUAL(t1.size(), 2u);
  CHECK_EQUAL(t1[1].status.state, task_state::failed);
  // Too late now.
  reregister_executor(command_executor_id, {command_task("t1")});
  CHECK(!rec->registration);
  CHECK(rec->registration_error);
}

TEST(a task the re-registering executor does not know is dropped) {
  put_agent();
  put_executor(command_executor_id, 100, true);
  put_task(command_task("t1"), command_executor_id);
  put_task(command_task("t2"), command_executor_id);
  log_update("t1", task_state::running, "u1");
  log_ack("t1", "u1");
  rec->alive_pids.insert(100);
  start();
  reregister_executor(command_executor_id, {command_task("t1")});
  REQUIRE(rec->registration);
  CHECK(updates_for("t1").empty());
  auto t2 = updates_for("t2");
  REQUIRE_EQUAL(t2.size(), 1u);
  CHECK_EQUAL(t2[0].status.state, task_state::dropped);  // partition-aware framework
  CHECK_EQUAL(snapshot().tasks.size(), 2u);
}

TEST(unknown executors cannot re-register) {
  put_agent();
  start();
  REQUIRE_EQUAL(rec->reregistrations.size(), 1u);  // nothing to recover: registers at once
  reregister_executor("nobody", {command_task("t1")});
  CHECK(!rec->registration);
  CHECK(rec->registration_error);
  CHECK(snapshot().tasks.empty());
}

TEST(a refused re-registration starts a new agent) {
  put_agent();
  put_executor(command_executor_id, 100);
  put_task(command_task("t1"), command_executor_id);
  rec->alive_pids.insert(100);
  rec->refuse_reregistrations = 1;
  start();
  reregister_executor(command_executor_id, {command_task("t1")});
  REQUIRE_EQUAL(rec->reregistrations.size(), 1u);
  REQUIRE_EQUAL(rec->registrations.size(), 1u);
  auto snap = snapshot();
  CHECK_EQUAL(snap.id, agent_id{"agent-new"});
  CHECK(snap.tasks.empty());
  auto rs = on_disk();
  CHECK_EQUAL(rs.agent.id, agent_id{"agent-new"});
  CHECK(rs.frameworks.empty());
}

TEST(a reboot starts a fresh agent and keeps the resources checkpoint) {
  put_agent("boot-0");
  put_executor(command_executor_id, 100);
  put_task(command_task("t1"), command_executor_id);
  REQUIRE_EQUAL(save_resources_checkpoint(work.path(), resource_set::scalar("cpus", 4)), "");
  rec->alive_pids.insert(100);
  start();
  CHECK(rec->recovers.empty());
  CHECK(rec->reregistrations.empty());
  REQUIRE_EQUAL(rec->registrations.size(), 1u);
  CHECK(rec->registrations[0].id.empty());
  CHECK_EQUAL(snapshot().id, agent_id{"agent-new"});
  CHECK(snapshot().tasks.empty());
  auto rs = on_disk();
  CHECK_EQUAL(rs.agent.id, agent_id{"agent-new"});
  CHECK_EQUAL(rs.agent.boot_id, "boot-1");
  CHECK(rs.frameworks.empty());
  CHECK(exists(resources_checkpoint_path(work.path())));
}

TEST(a corrupt checkpoint stops the agent) {
  REQUIRE_EQUAL(make_directories(work.path() + "/meta"), "");
  { std::ofstream{work.path() + "/meta/agent"} << "garbage"; }
  start();
  CHECK(rec->registrations.empty());
  CHECK(rec->reregistrations.empty());
  bool failed = false;
  self->request(agent, caf::infinite, atom::state_v);
  sched.run();
  self->receive([&](agent_snapshot&) {}, [&](caf::error&) { failed = true; },
                caf::after(std::chrono::seconds(0)) >> [&] { failed = true; });
  CHECK(failed);
  agent = nullptr;
}

TEST(the master can ask for a re-registration a ping and a resend) {
  start();
  from_master(atom::run_task_v, checkpointing_framework(), command_task("t1"));
  sched.run();
  spawn_executor();
  caf::anon_send(exec, atom::connect_v, fw1, executor_id{command_executor_id});
  sched.run();
  caf::anon_send(exec, atom::update_v, make_update("t1", task_state::running, "u1"));
  sched.run();
  REQUIRE_EQUAL(rec->master_updates.size(), 1u);
  // ping -> the agent's ID
  agent_id pinged;
  auto h = self->request(agent, caf::infinite, atom::ping_v);
  sched.run();
  h.receive([&](agent_id& id) { pinged = id; }, [&](caf::error& err) { FAIL(sys.render(err)); });
  CHECK_EQUAL(pinged, agent_id{"agent-new"});
  // resend (framework failover) -> the head at once
  from_master(atom::resend_v, fw1);
  sched.run();
  REQUIRE_EQUAL(rec->master_updates.size(), 2u);
  CHECK_EQUAL(rec->master_updates[1].status.uuid, "u1");
  from_master(atom::resend_v, framework_id{"fw-other"});
  sched.run();
  CHECK_EQUAL(rec->master_updates.size(), 2u);
  // rereg_agent (e.g. after the master marked it unreachable) -> rereg_agent with its tasks, then the heads
  from_master(atom::rereg_agent_v);
  sched.run();
  REQUIRE_EQUAL(rec->reregistrations.size(), 1u);
  CHECK_EQUAL(rec->reregistrations[0].info.id, agent_id{"agent-new"});
  REQUIRE_EQUAL(rec->reregistrations[0].tasks.size(), 1u);
  CHECK_EQUAL(rec->master_updates.size(), 3u);
  // ... but not from anyone else.
  caf::anon_send(agent, atom::rereg_agent_v);
  sched.run();
  CHECK_EQUAL(rec->reregistrations.size(), 1u);
}

FIXTURE_SCOPE_END()
