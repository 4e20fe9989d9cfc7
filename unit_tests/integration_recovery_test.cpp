// Integration: "nothing is lost" with real processes on loopback. A master and agents run as `mesoscaf` daemons;
// frameworks are scheduler_drivers in this process (connected over loopback), plus `mesoscaf execute` once.
// Covered: scheduler failover within and after the failover timeout, agent kill -9 and restart with running
// tasks, an executor that dies while its agent is down, a frozen (SIGSTOPped) agent for partition-aware and other
// frameworks, the reconciliation matrix against the real master, and a soak of 2,000 short tasks through three
// agent crashes. Task processes write their pid to a file (`echo $$ > F; exec sleep ...`), so the test can check
// that exactly those processes survive or end. Bounded waits throughout; leftovers are killed by the fixture.
#define CAF_SUITE integration_recovery
#include "test.hpp"

#include "child_process.hpp"
#include "process_cluster.hpp"
#include "process_scan.hpp"
#include "test_helpers.hpp"

#include "actors/sdk/scheduler_driver.hpp"

#include <caf/actor_system.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <deque>
#include <dirent.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace mesoscaf;
using namespace mesoscaf::test;
using namespace std::chrono;

namespace {

const std::string bin = MESOSCAF_BINARY;
constexpr auto wait_limit = process_wait_limit;

// -- processes (/proc helpers, eventually, terminal_problem: process_scan.hpp) -----------------------------------

/// Command executors started by an agent with this work dir.
std::vector<pid_t> command_executors(const std::string& agent_work_dir) {
  std::vector<pid_t> result;
  for (auto pid : processes_mentioning(agent_work_dir))
    if (read_proc(pid, "cmdline").find("command-executor") != std::string::npos)
      result.push_back(pid);
  return result;
}


// -- frameworks (recorder, framework, fw_options, tasks: process_cluster.hpp) ------------------------------

/// Non-reconciliation updates of one state must all carry the same uuid (at-least-once repeats of one update).
std::string duplicate_problem(const std::vector<task_status>& history) {
  std::map<task_state, std::set<std::string>> uuids;
  for (auto& s : history)
    if (s.reason != task_reason::reconciliation && s.source != status_source::master)
      uuids[s.state].insert(s.uuid);
  for (auto& [state, set] : uuids)
    if (set.size() > 1)
      return std::string{"state "} + to_string(state) + " delivered with " + std::to_string(set.size())
             + " different uuids";
  return "";
}

struct fixture : process_fixture_base {
  threaded_config cfg{true};  // with middleman heartbeats: the daemons drop a peer silent past their timeout
  caf::actor_system sys{cfg};
  std::unique_ptr<child_process> master_proc;
  std::string master_addr;
  uint16_t master_port = 0;
  master_actor master;

  fixture() : process_fixture_base("mesoscaf-recovery") {
  }

  ~fixture() {
    // Frameworks first (teardown kills their tasks), then the daemons (SIGTERM: the agent shuts its executors
    // down), then whatever a failed test left behind.
    stop_frameworks_and_agents();
    master = nullptr;
    if (master_proc) {
      master_proc->signal(SIGTERM);
      master_proc->wait_exit(seconds(20));
    }
    kill_leftovers_and_keep_logs();
  }

  bool start_master(std::vector<std::string> flags = {}) {
    std::vector<std::string> argv{bin, "master", "--port=0", "--work-dir=" + dir / "master"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    master_proc = std::make_unique<child_process>(argv, dir / "master.log");
    auto m = master_proc->wait_for_line("master listening on (127\\.0\\.0\\.1:([0-9]+))", seconds(60));
    if (!m) {
      MESSAGE("master output:\n" << master_proc->output());
      return false;
    }
    master_addr = (*m)[1];
    master_port = static_cast<uint16_t>(std::stoi((*m)[2]));
    auto h = sys.middleman().remote_actor<master_actor>("127.0.0.1", master_port);
    if (!h) {
      MESSAGE("cannot reach the master: " << sys.render(h.error()));
      return false;
    }
    master = *h;
    return true;
  }

  std::optional<master_snapshot> master_state() {
    caf::scoped_actor self{sys};
    std::optional<master_snapshot> result;
    self->request(master, seconds(10), atom::state_v)
      .receive([&](const master_snapshot& s) { result = s; }, [](const caf::error&) {});
    return result;
  }

  /// Whether the master lists the agent as registered and connected.
  bool agent_connected(const std::string& id) {
    auto s = master_state();
    if (!s)
      return false;
    for (auto& a : s->agents)
      if (a.id.value == id)
        return a.connected;
    return false;
  }

  bool agent_unreachable(const std::string& id) {
    auto s = master_state();
    if (!s)
      return false;
    return std::any_of(s->unreachable.begin(), s->unreachable.end(), [&](auto& a) { return a.value == id; });
  }

  /// Starts agent `i` (a new one, or again on its work dir); returns the ID it prints ("" on failure).
  std::string start_agent(size_t i, std::vector<std::string> flags = {},
                          const std::string& resources = "cpus:4;mem:4096;disk:1000") {
    auto fresh = agents.size() <= i || agents[i]->runs == 0;
    auto& a = agent_slot(i);
    if (fresh) {
      a.flags = std::move(flags);
      a.flags.push_back("--resources=" + resources);
    }
    std::vector<std::string> argv{bin, "agent", "--master=" + master_addr, "--port=0", "--work-dir=" + a.work_dir};
    argv.insert(argv.end(), a.flags.begin(), a.flags.end());
    return start_agent_process(i, std::move(argv));
  }

  bool kill_agent(size_t i) {
    auto& a = *agents.at(i);
    a.proc->signal(SIGKILL);
    return a.proc->wait_exit(seconds(20)).has_value();
  }

  /// Restarts agent `i` after a crash and waits until the master has it connected again (its re-registration).
  /// Returns its ID ("" on failure).
  std::string restart_agent(size_t i) {
    auto old_id = agents.at(i)->id;
    auto id = start_agent(i);
    if (id.empty())
      return id;
    if (!eventually([&] { return agent_connected(id); }, wait_limit, milliseconds(100))) {
      MESSAGE("the master does not list agent " << id << " as connected after the restart; agent output:\n"
                                                << agents[i]->proc->output());
      return "";
    }
    MESSAGE("agent " << i << " restarted: id " << old_id << " -> " << id);
    return id;
  }

  /// Subscribes a framework (nullptr on failure).
  framework* add_framework(const fw_options& o) {
    return process_fixture_base::add_framework(sys, master_addr, o);
  }
};

} // namespace

FIXTURE_SCOPE(integration_recovery_tests, fixture)

// 1. A scheduler fails over within the failover timeout: the new scheduler takes the framework over with its
//    running task, gets the update the old one never acknowledged, and an old scheduler still connected is told
//    it was replaced.
TEST(scheduler failover within the timeout keeps the task and hands its updates to the new scheduler) {
  ENSURE(start_master());
  ENSURE(!start_agent(0).empty());
  fw_options o;
  o.name = "failover";
  o.failover_timeout = 60;
  o.implicit_acks = false; // the first scheduler never acknowledges: its updates must reach the next one
  auto first = add_framework(o);
  ENSURE(first);
  launch(*first, {sleeper("sleeper")});
  // Unacknowledged, TASK_STARTING holds the task's later updates back (one ordered stream per task, as Mesos);
  // the task runs meanwhile.
  auto starting = first->rec->wait_state("sleeper", task_state::starting);
  ENSURE(starting);
  auto starting_update = *starting;
  ENSURE(!starting_update.uuid.empty());
  auto pid = task_pid("sleeper");
  ENSURE(alive(pid));
  CHECK_EQUAL(first->driver->abort(), driver_status::aborted);
  CHECK_EQUAL(first->driver->join(), driver_status::aborted);

  // The framework stays registered (inactive) with its task.
  CHECK(eventually(
    [&] {
      auto s = master_state();
      if (!s)
        return false;
      for (auto& f : s->frameworks)
        if (f.id == first->id)
          return !f.active;
      return false;
    },
    seconds(15)));
  CHECK(alive(pid));

  o.id = first->id;
  o.implicit_acks = true;
  auto second = add_framework(o);
  ENSURE(second);
  CHECK_EQUAL(second->id, first->id);
  // The unacknowledged TASK_STARTING is resent to the new scheduler, with the same uuid, and TASK_RUNNING follows.
  auto resent = second->rec->wait_state("sleeper", task_state::starting);
  if (!resent)
    MESSAGE("second scheduler saw: " << second->rec->history("sleeper"));
  ENSURE(resent);
  CHECK_EQUAL(resent->uuid, starting_update.uuid);
  ENSURE(running(*second, "sleeper"));
  // And the master reports it running, explicitly and implicitly.
  CHECK(reconcile_until(*second, {"sleeper"}, agents[0]->id, task_state::running));
  auto mark = second->rec->update_count();
  second->driver->reconcile_tasks({});
  auto implicit = second->rec->wait_answer("sleeper", mark);
  ENSURE(implicit);
  CHECK_EQUAL(implicit->state, task_state::running);
  CHECK(alive(pid));

  // A third scheduler takes over while the second is still connected: the second is told and aborts.
  auto third = add_framework(o);
  ENSURE(third);
  CHECK_EQUAL(third->id, first->id);
  CHECK(eventually([&] { return second->driver->status() == driver_status::aborted; }, wait_limit));
  CHECK(second->rec->all_errors().find("framework failed over to another scheduler") != std::string::npos);
  CHECK(reconcile_until(*third, {"sleeper"}, agents[0]->id, task_state::running));
  CHECK(alive(pid));

  // Ending the framework (no failover) kills the task.
  third->driver->stop();
  CHECK(eventually([&] { return !alive(pid); }, wait_limit));
}

// 2. After the failover timeout the framework is removed: its task is killed and its ID refused.
TEST(scheduler failover after the timeout removes the framework and kills its tasks) {
  ENSURE(start_master());
  ENSURE(!start_agent(0).empty());
  fw_options o;
  o.name = "short-failover";
  o.failover_timeout = 2;
  auto first = add_framework(o);
  ENSURE(first);
  launch(*first, {sleeper("doomed")});
  ENSURE(running(*first, "doomed"));
  auto pid = task_pid("doomed");
  ENSURE(alive(pid));
  auto aborted_at = steady_clock::now();
  first->driver->abort();
  first->driver->join();
  // Still running within the timeout.
  std::this_thread::sleep_for(milliseconds(1000));
  CHECK(alive(pid));
  CHECK(eventually([&] { return !alive(pid); }, wait_limit));
  MESSAGE("task killed " << duration_cast<milliseconds>(steady_clock::now() - aborted_at).count()
                         << " ms after the scheduler went away");
  CHECK(eventually(
    [&] {
      auto s = master_state();
      return s && std::none_of(s->frameworks.begin(), s->frameworks.end(),
                               [&](const framework_summary& f) { return f.id == first->id; });
    },
    wait_limit));

  // A scheduler subscribing with the removed ID is refused.
  recorder late;
  framework_info fi;
  fi.name = "short-failover";
  fi.id = first->id;
  fi.failover_timeout = 2;
  fi.checkpoint = true;
  scheduler_driver driver{sys, &late, fi, master_addr};
  driver.start();
  CHECK(eventually([&] { return driver.status() == driver_status::aborted; }, wait_limit));
  CHECK(late.wait([&] { return !late.errors.empty(); }, seconds(5)));
  std::lock_guard<std::mutex> g{late.mtx};
  CHECK(late.registrations.empty());
  MESSAGE("refusal: " << (late.errors.empty() ? std::string{"none"} : late.errors[0]));
}

// 3. kill -9 of the agent while tasks run: the tasks keep running (same processes), the agent comes back with the
//    same ID, an update produced while it was down is delivered, and nothing is delivered twice except repeats of
//    one update (same uuid).
TEST(agent kill -9 and restart keeps tasks running and loses no update) {
  ENSURE(start_master());
  auto id = start_agent(0);
  ENSURE(!id.empty());
  fw_options o;
  o.name = "agent-restart";
  o.failover_timeout = 60;
  auto f = add_framework(o);
  ENSURE(f);
  std::vector<std::string> names;
  std::vector<task_info> tasks;
  for (int i = 0; i < 5; ++i) {
    names.push_back("s" + std::to_string(i));
    tasks.push_back(sleeper(names.back()));
  }
  launch(*f, tasks);
  std::map<std::string, pid_t> pids;
  for (auto& n : names) {
    ENSURE(running(*f, n));
    pids[n] = task_pid(n);
    ENSURE(alive(pids[n]));
  }
  auto executors = command_executors(agents[0]->work_dir);
  MESSAGE("executors before: " << describe(executors));
  CHECK_EQUAL(executors.size(), 1u);

  ENSURE(kill_agent(0));
  CHECK(eventually([&] { return !agent_connected(id); }, wait_limit, milliseconds(100)));
  // While the agent is down: the tasks run on; one of them ends (its TASK_FAILED waits in the executor).
  for (auto& n : names)
    CHECK(alive(pids[n]));
  ::kill(pids["s4"], SIGKILL);
  CHECK(eventually([&] { return !alive(pids["s4"]); }, seconds(10)));
  std::this_thread::sleep_for(milliseconds(500));

  auto id2 = restart_agent(0);
  ENSURE(!id2.empty());
  CHECK_EQUAL(id2, id);
  // The update produced while the agent was down arrives.
  auto failed = f->rec->wait_state("s4", task_state::failed);
  if (!failed)
    MESSAGE("s4: " << f->rec->history("s4"));
  CHECK(failed);
  // The others still run, as the same processes, under the same executor.
  std::vector<std::string> live{"s0", "s1", "s2", "s3"};
  CHECK(reconcile_until(*f, live, id, task_state::running));
  for (auto& n : live)
    CHECK(alive(pids[n]));
  auto executors_after = command_executors(agents[0]->work_dir);
  CHECK(executors_after == executors);

  // The recovered executor still takes orders: kill the tasks, each ends exactly once.
  for (auto& n : live)
    f->driver->kill_task(task_id{n});
  for (auto& n : live) {
    auto killed = f->rec->wait_state(n, task_state::killed);
    if (!killed)
      MESSAGE(n << ": " << f->rec->history(n));
    CHECK(killed);
  }
  CHECK(eventually([&] { return std::none_of(live.begin(), live.end(), [&](auto& n) { return alive(pids[n]); }); },
                   wait_limit));
  // Late repeats would show up here.
  std::this_thread::sleep_for(milliseconds(1000));
  for (auto& n : names) {
    auto h = f->rec->updates_of(n);
    auto t = terminal_problem(h);
    auto d = duplicate_problem(h);
    if (!t.empty() || !d.empty())
      MESSAGE(n << ": " << t << " " << d << " history: " << f->rec->history(n));
    CHECK(t.empty());
    CHECK(d.empty());
    CHECK(std::any_of(h.begin(), h.end(), [](const task_status& s) {
      return s.state == task_state::running && !s.uuid.empty();
    }));
  }
}

// 4. The command executor dies while its agent is down: after the restart its tasks are TASK_FAILED and no task
//    process is left.
TEST(an executor that dies while the agent is down fails its tasks) {
  ENSURE(start_master());
  auto id = start_agent(0);
  ENSURE(!id.empty());
  fw_options o;
  o.name = "executor-dies";
  auto f = add_framework(o);
  ENSURE(f);
  std::vector<std::string> names{"e0", "e1", "e2"};
  std::vector<task_info> tasks;
  for (auto& n : names)
    tasks.push_back(sleeper(n));
  launch(*f, tasks);
  std::vector<pid_t> pids;
  for (auto& n : names) {
    ENSURE(running(*f, n));
    pids.push_back(task_pid(n));
  }
  auto executors = command_executors(agents[0]->work_dir);
  ENSURE(executors.size() == 1u);
  ENSURE(kill_agent(0));
  ::kill(executors[0], SIGKILL);
  CHECK(eventually([&] { return !alive(executors[0]); }, seconds(10)));
  auto id2 = restart_agent(0);
  ENSURE(!id2.empty());
  CHECK_EQUAL(id2, id);
  for (auto& n : names) {
    auto failed = f->rec->wait_state(n, task_state::failed);
    if (!failed)
      MESSAGE(n << ": " << f->rec->history(n));
    CHECK(failed);
    if (failed)
      CHECK_EQUAL(failed->reason, task_reason::executor_terminated);
  }
  // The tasks' processes do not outlive their executor's container (Mesos destroys the whole container).
  bool gone = eventually([&] { return std::none_of(pids.begin(), pids.end(), alive); }, seconds(15));
  if (!gone) {
    std::vector<pid_t> left;
    std::copy_if(pids.begin(), pids.end(), std::back_inserter(left), alive);
    MESSAGE("task processes outlived their executor: " << describe(left));
  }
  CHECK(gone);
  for (auto& n : names)
    CHECK_EQUAL(terminal_problem(f->rec->updates_of(n)), "");
}

// 5. A frozen agent (SIGSTOP) past the ping timeout: a partition-aware framework sees TASK_UNREACHABLE and, after
//    SIGCONT, finds its task running again; the other framework sees TASK_LOST and its task is killed on the agent.
//    `mesoscaf execute --partition-aware` follows its task through the same partition.
TEST(a frozen agent is unreachable for partition aware frameworks and lost for the others) {
  ENSURE(start_master({"--agent-ping-timeout=500ms", "--max-agent-ping-timeouts=2"}));
  auto id = start_agent(0);
  ENSURE(!id.empty());
  partition_frameworks p;
  ENSURE(start_partition_frameworks(sys, master_addr, p));
  auto aware = p.aware;
  auto pa_pid = p.aware_pid;
  // mesoscaf execute as a third, partition-aware framework.
  child_process exec{{bin, "execute", "--master=" + master_addr, "--name=exec-pa", "--partition-aware",
                      "--resources=cpus:0.1;mem:16", "--timeout=120s", "--command=sleep 600"},
                     dir / "execute.log"};
  CHECK(exec.wait_for_line("TASK_RUNNING task=exec-pa", wait_limit));

  auto& agent = *agents[0];
  agent.proc->signal(SIGSTOP);
  agent.stopped = true;
  ENSURE(partitioned(p));
  CHECK(exec.wait_for_line("TASK_UNREACHABLE task=exec-pa", wait_limit));
  CHECK(agent_unreachable(id));
  // While it is frozen the partition-aware framework is told the task is unreachable.
  auto mark = aware->rec->update_count();
  aware->driver->reconcile_tasks({});
  auto answer = aware->rec->wait_answer("pa-task", mark);
  ENSURE(answer);
  CHECK_EQUAL(answer->state, task_state::unreachable);

  agent.proc->signal(SIGCONT);
  agent.stopped = false;
  bool reconnected = eventually([&] { return agent_connected(id); }, wait_limit, milliseconds(100));
  if (!reconnected)
    MESSAGE("agent output:\n" << agent.proc->output());
  ENSURE(reconnected);
  // Partition-aware: the task continues.
  CHECK(reconcile_until(*aware, {"pa-task"}, id, task_state::running));
  CHECK(alive(pa_pid));
  // `execute` reconciles every 2 s while its task is unreachable and prints the answer.
  auto back = exec.wait_for_line("TASK_UNREACHABLE task=exec-pa[^\\n]*\\n(.*\\n)*TASK_RUNNING task=exec-pa",
                                 seconds(15));
  if (!back)
    MESSAGE("execute output:\n" << exec.output());
  CHECK(back);
  CHECK(exec.running());
  // Not partition-aware: the task is killed on the agent, and the framework hears of it only once (TASK_LOST).
  check_lost_task_killed(p);
  exec.signal(SIGKILL);
  exec.wait_exit(seconds(10));
}

// 6. An agent frozen (SIGSTOP) past the daemons' 5 s connection timeout but not past the ping timeout: the
//    connection to its master breaks (and, depending on which side's timer fires first after SIGCONT, the one to
//    its command executor: the executor then reconnects, see actors_agent "an executor of a checkpointing
//    framework whose connection breaks ..."). The task runs on (same process) and can still be killed.
TEST(an agent frozen past the connection timeout keeps its tasks) {
  ENSURE(start_master());
  auto id = start_agent(0);
  ENSURE(!id.empty());
  fw_options o;
  o.name = "frozen-agent";
  auto f = add_framework(o);
  ENSURE(f);
  launch(*f, {sleeper("kept")});
  ENSURE(running(*f, "kept"));
  auto pid = task_pid("kept");
  ENSURE(alive(pid));
  auto& agent = *agents[0];
  agent.proc->signal(SIGSTOP);
  agent.stopped = true;
  std::this_thread::sleep_for(seconds(7));
  agent.proc->signal(SIGCONT);
  agent.stopped = false;
  CHECK(eventually([&] { return agent_connected(id); }, wait_limit, milliseconds(100)));
  CHECK(reconcile_until(*f, {"kept"}, id, task_state::running));
  CHECK(alive(pid));
  auto h = f->rec->updates_of("kept");
  CHECK(std::none_of(h.begin(), h.end(), [](const task_status& s) { return is_terminal(s.state); }));
  MESSAGE("the executor's connection " << (agent.proc->output().find("reconnected with") != std::string::npos
                                             ? "broke and it reconnected"
                                             : "held"));
  f->driver->kill_task(task_id{"kept"});
  CHECK(f->rec->wait_state("kept", task_state::killed));
  CHECK(eventually([&] { return !alive(pid); }, wait_limit));
}

// 7. The reconciliation matrix against the real master, for a partition-aware and a non-aware framework: known
//    task (on a registered and on an unreachable agent), unknown task on a registered agent, on an unreachable
//    agent, on an unknown agent, without agent; and implicit reconciliation.
TEST(reconciliation answers per the matrix for partition aware and other frameworks) {
  ENSURE(start_master({"--agent-ping-timeout=500ms", "--max-agent-ping-timeouts=2"}));
  auto a = start_agent(0);
  ENSURE(!a.empty());
  auto b = start_agent(1);
  ENSURE(!b.empty());
  fw_options pa;
  pa.name = "matrix-pa";
  pa.partition_aware = true;
  auto aware = add_framework(pa);
  ENSURE(aware);
  fw_options npa;
  npa.name = "matrix-npa";
  auto other = add_framework(npa);
  ENSURE(other);
  launch(*aware, {sleeper("pa-on-a", a), sleeper("pa-on-b", b)});
  launch(*other, {sleeper("npa-on-a", a), sleeper("npa-on-b", b)});
  ENSURE(running(*aware, "pa-on-a"));
  ENSURE(running(*aware, "pa-on-b"));
  ENSURE(running(*other, "npa-on-a"));
  ENSURE(running(*other, "npa-on-b"));
  // Agent b becomes unreachable.
  agents[1]->proc->signal(SIGSTOP);
  agents[1]->stopped = true;
  ENSURE(aware->rec->wait_state("pa-on-b", task_state::unreachable));
  ENSURE(other->rec->wait_state("npa-on-b", task_state::lost));
  ENSURE(eventually([&] { return agent_unreachable(b); }, wait_limit));

  struct query {
    std::string task;
    std::string agent;
    task_state pa;   // answer for the partition-aware framework
    task_state npa;  // for the other one
  };
  // "on-a" / "on-b": each framework asks about its own task there; "ghost-*": tasks nobody launched.
  std::vector<query> queries{
    {"on-a", a, task_state::running, task_state::running},
    {"on-b", b, task_state::unreachable, task_state::lost},
    {"ghost-registered", a, task_state::gone, task_state::lost},
    {"ghost-unreachable", b, task_state::unreachable, task_state::lost},
    {"ghost-unknown-agent", "no-such-agent", task_state::unknown, task_state::lost},
    {"ghost-no-agent", "", task_state::unknown, task_state::lost},
  };
  for (int aware_fw = 0; aware_fw < 2; ++aware_fw) {
    auto& f = aware_fw ? *aware : *other;
    std::string prefix = aware_fw ? "pa-" : "npa-";
    std::vector<task_status> ask;
    for (auto& q : queries) {
      task_status s;
      s.task = task_id{q.task.rfind("ghost", 0) == 0 ? q.task : prefix + q.task};
      s.agent = agent_id{q.agent};
      ask.push_back(s);
    }
    auto mark = f.rec->update_count();
    f.driver->reconcile_tasks(ask);
    for (size_t i = 0; i < queries.size(); ++i) {
      auto& task = ask[i].task.value;
      auto expected = aware_fw ? queries[i].pa : queries[i].npa;
      auto answer = f.rec->wait_answer(task, mark, seconds(10));
      if (!answer) {
        MESSAGE("no answer about " << task << " for the " << prefix << " framework");
        CHECK(answer);
        continue;
      }
      MESSAGE(prefix << " " << task << " -> " << to_string(answer->state));
      CHECK_EQUAL(std::string{to_string(answer->state)}, std::string{to_string(expected)});
      CHECK_EQUAL(answer->source, status_source::master);
      CHECK(answer->uuid.empty());
    }
    // Implicit: every task the master knows of the framework, with its latest state.
    mark = f.rec->update_count();
    f.driver->reconcile_tasks({});
    auto on_a = f.rec->wait_answer(prefix + "on-a", mark, seconds(10));
    CHECK(on_a);
    if (on_a)
      CHECK_EQUAL(on_a->state, task_state::running);
    if (aware_fw) {
      auto on_b = f.rec->wait_answer("pa-on-b", mark, seconds(10));
      CHECK(on_b);
      if (on_b)
        CHECK_EQUAL(on_b->state, task_state::unreachable);
    }
    // Only its own tasks (give stray answers a moment to arrive).
    std::this_thread::sleep_for(milliseconds(300));
    std::lock_guard<std::mutex> g{f.rec->mtx};
    for (size_t i = mark; i < f.rec->updates.size(); ++i) {
      auto& t = f.rec->updates[i].task.value;
      CHECK(t.rfind(prefix, 0) == 0);
      if (!aware_fw)
        CHECK_NOT_EQUAL(t, "npa-on-b"); // a non-aware framework's task on the lost agent is over
    }
  }
}

// 8. Soak: 2,000 short tasks while the agent is killed (-9) and restarted three times. Every task reaches exactly
//    one terminal state at the framework and nothing is left running.
TEST(soak with three agent crashes ends every task exactly once and leaves nothing running) {
  ENSURE(start_master({"--allocation-interval=100ms"}));
  auto id = start_agent(0, {}, "cpus:8;mem:8192;disk:1000");
  ENSURE(!id.empty());
  fw_options o;
  o.name = "soak";
  o.failover_timeout = 60;
  auto f = add_framework(o);
  ENSURE(f);
  constexpr int total = 2000;
  std::vector<task_info> tasks;
  for (int i = 0; i < total; ++i)
    tasks.push_back(make_task("soak-" + std::to_string(i), "true", "cpus:0.05;mem:8"));
  auto terminal_tasks = [&] { return f->rec->ended.size(); }; // under the recorder's mutex
  auto started = steady_clock::now();
  launch(*f, tasks);
  for (int crash = 1; crash <= 3; ++crash) {
    size_t threshold = static_cast<size_t>(total) * crash / 4;
    if (!f->rec->wait([&] { return terminal_tasks() >= threshold; }, seconds(40))) {
      std::lock_guard<std::mutex> g{f->rec->mtx};
      MESSAGE("stuck before crash " << crash << ": " << terminal_tasks() << " of " << total << " tasks ended, "
                                    << f->rec->launched_on.size() << " launched");
      CHECK(false);
      return;
    }
    ENSURE(kill_agent(0));
    {
      std::lock_guard<std::mutex> g{f->rec->mtx};
      MESSAGE("crash " << crash << " after " << terminal_tasks() << " tasks ended, " << f->rec->launched_on.size()
                       << " launched");
    }
    auto id2 = restart_agent(0);
    ENSURE(!id2.empty());
    CHECK_EQUAL(id2, id);
  }
  bool all_ended = f->rec->wait([&] { return terminal_tasks() >= static_cast<size_t>(total); }, seconds(45));
  if (!all_ended) {
    std::lock_guard<std::mutex> g{f->rec->mtx};
    auto& done = f->rec->ended;
    std::string missing;
    int shown = 0;
    for (int i = 0; i < total && shown < 10; ++i)
      if (!done.count("soak-" + std::to_string(i))) {
        missing += "soak-" + std::to_string(i) + " ";
        ++shown;
      }
    MESSAGE(done.size() << " of " << total << " tasks ended (" << f->rec->launched_on.size() << " launched, "
                        << f->rec->pending.size() << " pending); e.g. missing: " << missing);
  }
  CHECK(all_ended);
  MESSAGE("tasks ended after " << duration_cast<milliseconds>(steady_clock::now() - started).count() << " ms");
  // Repeats arrive late if at all; give them a moment before counting.
  std::this_thread::sleep_for(milliseconds(1500));
  std::map<std::string, std::vector<task_status>> by_task;
  {
    std::lock_guard<std::mutex> g{f->rec->mtx};
    for (auto& s : f->rec->updates)
      by_task[s.task.value].push_back(s);
  }
  std::map<std::string, int> outcome;
  int problems = 0;
  for (int i = 0; i < total; ++i) {
    auto name = "soak-" + std::to_string(i);
    auto& h = by_task[name];
    auto p = terminal_problem(h);
    if (p.empty())
      p = duplicate_problem(h);
    if (!p.empty()) {
      if (++problems <= 10)
        MESSAGE(name << ": " << p << " history: " << f->rec->history(name));
      continue;
    }
    for (auto& s : h)
      if (is_terminal(s.state)) {
        ++outcome[std::string{to_string(s.state)} + "/" + to_string(s.reason)];
        break;
      }
  }
  CHECK_EQUAL(problems, 0);
  for (auto& [what, n] : outcome)
    MESSAGE("outcome " << what << ": " << n);
  CHECK_GREATER(outcome["TASK_FINISHED/REASON_NONE"], total / 2);
  // Nothing left running: no task, and once the framework is gone, no executor either.
  auto exclude = std::set<pid_t>{master_proc->pid(), agents[0]->proc->pid()};
  f->driver->stop();
  f->driver->join();
  if (!eventually([&] { return processes_mentioning(dir.path(), exclude).empty(); }, wait_limit, milliseconds(200))) {
    MESSAGE("left running: " << describe(processes_mentioning(dir.path(), exclude)));
    CHECK(false);
  }
}

FIXTURE_SCOPE_END()
