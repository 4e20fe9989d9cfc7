#define CAF_SUITE actors_command_executor
#include "test.hpp"

#include "test_helpers.hpp"

#include "actors/sdk/command_executor.hpp"
#include "fake_agent.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <mutex>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include <csignal>
#include <unistd.h>

// The command executor (driven by an executor_driver) against a fake agent in the same (real) actor system, with
// real processes. Registration, acknowledgements, resending and re-registration are the driver's: these tests show
// that the command executor gets them.

using namespace mesoscaf;
using namespace std::chrono_literals;

using mesoscaf::test::read_file;
using mesoscaf::test::shell_task;

namespace {

struct config : test::threaded_config {};

// Stands in for "connect to the agent's endpoint again": counts the attempts and hands over `next` once set.
// Shared with the executor's actor (it calls `get` from its thread and may outlive the fixture's members).
struct reconnect_ctl {
  std::atomic<int> calls{0};
  std::mutex mtx;
  agent_actor next;

  void offer(agent_actor hdl) {
    std::lock_guard<std::mutex> guard{mtx};
    next = std::move(hdl);
  }

  agent_actor get() {
    ++calls;
    std::lock_guard<std::mutex> guard{mtx};
    return next;
  }
};


struct fixture {
  config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  std::string dir;
  agent_actor agent;
  executor_actor aut;  // the driver's actor, as the agent sees it
  std::unique_ptr<command_executor> cmd;
  std::unique_ptr<executor_driver> driver;
  // Latest state per task, and every update in arrival order.
  std::map<std::string, task_status> latest;
  std::vector<status_update> updates;

  fixture() {
    char tmpl[] = "/tmp/mesoscaf-cmdexec-XXXXXX";
    char* d = ::mkdtemp(tmpl);
    REQUIRE(d != nullptr);
    dir = d;
  }

  ~fixture() {
    if (driver) {
      driver->abort();
      driver->join();
    }
    cmd.reset();  // kills what is left; before the driver, which its task actor calls
    driver.reset();
    if (agent)
      self->send_exit(agent, caf::exit_reason::kill);
    if (agent2)
      self->send_exit(agent2, caf::exit_reason::kill);
    std::string cmd = "rm -rf '" + dir + "'";
    [[maybe_unused]] int rc = std::system(cmd.c_str());
  }

  std::shared_ptr<reconnect_ctl> ctl = std::make_shared<reconnect_ctl>();
  agent_actor agent2;

  // Checkpointing executors: a lost agent is replaced by what `ctl` offers.
  void start_checkpointing(int drop_acks, std::chrono::milliseconds recovery_timeout) {
    start(drop_acks, 300ms, true, recovery_timeout);
  }

  void start(int drop_acks = 0, std::chrono::milliseconds grace = 300ms, bool checkpoint = false,
             std::chrono::milliseconds recovery_timeout = 60s) {
    executor_registration reply;
    reply.agent = agent_id{"agent-1"};
    agent = sys.spawn(test::fake_agent, caf::actor_cast<caf::actor>(self), reply, drop_acks);
    executor_environment env;
    env.framework = framework_id{"fw-1"};
    env.executor = executor_id{"exec-1"};
    env.agent = agent_id{"agent-1"};
    env.sandbox = dir;
    env.checkpoint = checkpoint;
    env.recovery_timeout = recovery_timeout;
    command_executor_options opts;
    opts.kill_grace_period = grace;
    opts.resend_interval = 100ms;
    opts.drain_timeout = 500ms;
    if (checkpoint) {
      // The functor holds the control block: the executor may call it until it is gone.
      auto keep = ctl;
      opts.reconnect = [keep] { return keep->get(); };
    }
    cmd = std::make_unique<command_executor>(opts);
    driver = std::make_unique<executor_driver>(sys, *cmd, env, agent, cmd->driver_options());
    cmd->attach(*driver);
    REQUIRE_EQUAL(driver->start(), driver_status::running);
    bool registered = false;
    self->receive([&](atom::reg_exec, const framework_id& fw, const executor_id& ex, const executor_actor& hdl, const std::string&) {
      registered = fw.value == "fw-1" && ex.value == "exec-1";
      aut = hdl;
    },
                  caf::after(30s) >> [] {});
    REQUIRE(registered);
  }

  // Collects updates until `done()` holds or the time is up.
  template <class Pred>
  bool collect(Pred done, std::chrono::milliseconds limit = 30s) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0)
        return false;
      self->receive([&](atom::update, const status_update& u) {
        updates.push_back(u);
        latest[u.status.task.value] = u.status;
      },
                    [&](atom::exec_msg, const framework_id&, const executor_id&, const std::string&) {},
                    caf::after(left) >> [] {});
    }
    return true;
  }

  // Polls `pred` until it holds or `limit` passes (generous: CI machines are loaded).
  template <class Pred>
  static bool eventually(Pred pred, std::chrono::milliseconds limit = 20s) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
      if (std::chrono::steady_clock::now() >= deadline)
        return false;
      std::this_thread::sleep_for(5ms);
    }
    return true;
  }

  bool terminal(const std::string& id) {
    auto i = latest.find(id);
    return i != latest.end() && is_terminal(i->second.state);
  }

  // The pid a task wrote to <sandbox>/pid ("echo $$ > pid" at its start), or -1.
  pid_t task_pid(const std::string& id) {
    std::string text;
    if (!eventually([&] {
          text = read_file(dir + "/tasks/" + id + "/pid");
          return text.find('\n') != std::string::npos;  // the whole line is written
        }))
      return -1;
    return static_cast<pid_t>(std::atol(text.c_str()));
  }

  // Waits for the executor (its driver) to end; how it ended.
  bool wait_end(driver_status& status, std::chrono::milliseconds limit = 30s) {
    if (!eventually([&] { return driver->status() != driver_status::running; }, limit))
      return false;
    status = driver->status();
    return true;
  }

  bool running(const std::string& id) {
    auto i = latest.find(id);
    return i != latest.end() && i->second.state == task_state::running;
  }
};

} // namespace

FIXTURE_SCOPE(command_executor_tests, fixture)

TEST(tasks run and report running then their outcome) {
  start();
  self->send(aut, atom::launch_v, shell_task("ok", "echo \"$MESOSCAF_TASK_ID $MESOSCAF_FRAMEWORK_ID "
                                                   "$MESOSCAF_EXECUTOR_ID $MESOSCAF_AGENT_ID\"; pwd"));
  self->send(aut, atom::launch_v, shell_task("three", "exit 3"));
  self->send(aut, atom::launch_v, shell_task("sig", "kill -9 $$"));
  REQUIRE(collect([&] { return terminal("ok") && terminal("three") && terminal("sig"); }));
  CHECK_EQUAL(latest["ok"].state, task_state::finished);
  CHECK_EQUAL(latest["three"].state, task_state::failed);
  CHECK_EQUAL(latest["three"].message, "Command exited with status 3");
  CHECK_EQUAL(latest["three"].reason, task_reason::command_executor_failed);
  CHECK_EQUAL(latest["sig"].state, task_state::failed);
  CHECK_EQUAL(latest["sig"].message, "Command terminated by signal 9");
  // STARTING came first for every task, then RUNNING, and every update is complete.
  std::map<std::string, int> first_state;
  std::map<std::string, int> second_state;
  for (auto& u : updates) {
    if (first_state.count(u.status.task.value) > 0)
      second_state.emplace(u.status.task.value, static_cast<int>(u.status.state));
    first_state.emplace(u.status.task.value, static_cast<int>(u.status.state));
    CHECK_EQUAL(u.framework.value, "fw-1");
    CHECK_EQUAL(u.status.executor.value, "exec-1");
    CHECK_EQUAL(u.status.agent.value, "agent-1");
    CHECK_EQUAL(u.status.source, status_source::executor);
    CHECK(!u.status.uuid.empty());
    CHECK_GREATER(u.status.timestamp, 0.0);
  }
  for (auto& [id, s] : first_state)
    CHECK_EQUAL(s, static_cast<int>(task_state::starting));
  for (auto& [id, s] : second_state)
    CHECK_EQUAL(s, static_cast<int>(task_state::running));
  CHECK_EQUAL(second_state.size(), 3u);
  auto sandbox = dir + "/tasks/ok";
  CHECK_EQUAL(read_file(sandbox + "/stdout"), "ok fw-1 exec-1 agent-1\n" + sandbox + "\n");
}

TEST(bad tasks are refused) {
  start();
  self->send(aut, atom::launch_v, shell_task("../escape", "true"));
  auto no_command = shell_task("nocmd", "true");
  no_command.command = caf::none;
  self->send(aut, atom::launch_v, no_command);
  auto missing = shell_task("missing", "");
  missing.command->shell = false;
  missing.command->value = "/nonexistent/program";
  self->send(aut, atom::launch_v, missing);
  REQUIRE(collect([&] { return terminal("../escape") && terminal("nocmd") && terminal("missing"); }));
  CHECK_EQUAL(latest["../escape"].state, task_state::error);
  CHECK_EQUAL(latest["nocmd"].state, task_state::error);
  CHECK_EQUAL(latest["missing"].state, task_state::failed);
  CHECK_EQUAL(latest["missing"].reason, task_reason::container_launch_failed);
  MESSAGE("unsafe ID: " << latest["../escape"].message);
  MESSAGE("launch failure: " << latest["missing"].message);
}

TEST(kill task sends TERM and then KILL to a task that ignores it) {
  start();
  self->send(aut, atom::launch_v, shell_task("stubborn", "trap '' TERM; echo ready; exec sleep 30"));
  self->send(aut, atom::launch_v, shell_task("polite", "exec sleep 30"));
  REQUIRE(collect([&] { return running("stubborn") && running("polite"); }));
  // The shell must have installed its trap before the kill ("ready" comes after the trap).
  REQUIRE(eventually([&] { return read_file(dir + "/tasks/stubborn/stdout").find("ready") != std::string::npos; }));
  self->send(aut, atom::kill_task_v, task_id{"stubborn"});
  self->send(aut, atom::kill_task_v, task_id{"polite"});
  self->send(aut, atom::kill_task_v, task_id{"unknown"});  // ignored
  REQUIRE(collect([&] { return terminal("stubborn") && terminal("polite"); }));
  CHECK_EQUAL(latest["polite"].state, task_state::killed);
  CHECK_EQUAL(latest["polite"].message, "Command terminated by signal 15");
  CHECK_EQUAL(latest["stubborn"].state, task_state::killed);
  CHECK_EQUAL(latest["stubborn"].message, "Command terminated by signal 9");
}

TEST(a kill with its own grace period overrides the default and a bad one falls back to it) {
  start();  // default grace: 300 ms
  self->send(aut, atom::launch_v, shell_task("quick", "trap '' TERM; echo ready; exec sleep 30"));
  self->send(aut, atom::launch_v, shell_task("odd", "echo ready; exec sleep 30"));
  REQUIRE(collect([&] { return running("quick") && running("odd"); }));
  REQUIRE(eventually([&] {
    return read_file(dir + "/tasks/quick/stdout").find("ready") != std::string::npos
           && read_file(dir + "/tasks/odd/stdout").find("ready") != std::string::npos;
  }));
  // Grace 0: SIGKILL at once, although the task ignores TERM. NaN: refused, so the task's own grace applies and
  // it gets TERM first (a NaN taken as a grace would be SIGKILL at once).
  self->send(aut, atom::kill_task_v, task_id{"quick"}, kill_policy{0});
  self->send(aut, atom::kill_task_v, task_id{"odd"}, kill_policy{std::nan("")});
  REQUIRE(collect([&] { return terminal("quick") && terminal("odd"); }));
  CHECK_EQUAL(latest["quick"].state, task_state::killed);
  CHECK_EQUAL(latest["quick"].message, "Command terminated by signal 9");
  CHECK_EQUAL(latest["odd"].state, task_state::killed);
  CHECK_EQUAL(latest["odd"].message, "Command terminated by signal 15");
}

TEST(unacknowledged updates are resent) {
  start(/*drop_acks=*/2);
  self->send(aut, atom::launch_v, shell_task("t", "true"));
  // STARTING and RUNNING are dropped once each, then resent with the same uuid; FINISHED goes through.
  std::map<std::string, int> seen;
  REQUIRE(collect([&] {
    seen.clear();
    for (auto& u : updates)
      ++seen[u.status.uuid];
    int twice = 0;
    for (auto& [uuid, n] : seen)
      if (n >= 2)
        ++twice;
    return twice == 2 && seen.size() == 3;
  }));
  CHECK_EQUAL(seen.size(), 3u);
}

TEST(shutdown kills running tasks and ends the executor) {
  start();
  self->send(aut, atom::launch_v, shell_task("long", "exec sleep 30"));
  REQUIRE(collect([&] { return running("long"); }));
  self->send(aut, atom::shutdown_v);
  REQUIRE(collect([&] { return terminal("long"); }));
  CHECK_EQUAL(latest["long"].state, task_state::killed);
  driver_status status;
  CHECK(wait_end(status));
  CHECK_EQUAL(status, driver_status::stopped);
  CHECK_EQUAL(driver->abort_reason(), "");
  cmd->join();  // its task actor ended too
}

TEST(losing the agent kills the tasks and ends the executor with an error) {
  start();
  self->send(aut, atom::launch_v, shell_task("orphan", "echo $$ > pid; exec sleep 30"));
  REQUIRE(collect([&] { return running("orphan"); }));
  std::string pid_text;
  REQUIRE(eventually([&] {
    pid_text = read_file(dir + "/tasks/orphan/pid");
    return pid_text.find('\n') != std::string::npos;  // the whole line is written
  }));
  auto pid = static_cast<pid_t>(std::atol(pid_text.c_str()));
  REQUIRE(pid > 0);
  self->send_exit(agent, caf::exit_reason::kill);
  driver_status status;
  CHECK(wait_end(status));
  CHECK_EQUAL(status, driver_status::aborted);
  CHECK(!driver->abort_reason().empty());
  // The task was reaped by the executor (no zombie, no process).
  CHECK(eventually([&] { return ::kill(pid, 0) != 0; }, 30s));
}

TEST(with checkpointing a lost agent leaves the tasks running and the executor re-registers) {
  // The first agent acknowledges nothing: RUNNING stays unacknowledged and must travel with the re-registration.
  start_checkpointing(/*drop_acks=*/1000000, 60s);
  self->send(aut, atom::launch_v, shell_task("long", "echo $$ > pid; exec sleep 30"));
  self->send(aut, atom::launch_v, shell_task("later", "echo $$ > pid; while [ ! -e go ]; do sleep 0.05; done"));
  REQUIRE(collect([&] { return running("long") && running("later"); }));
  auto long_running_uuid = latest["long"].uuid;
  auto long_pid = task_pid("long");
  auto later_pid = task_pid("later");
  REQUIRE(long_pid > 0);
  REQUIRE(later_pid > 0);
  self->send_exit(agent, caf::exit_reason::kill);
  agent = nullptr;
  // Reconnection attempts prove the executor is alive and waiting for its agent.
  REQUIRE(eventually([&] { return ctl->calls.load() >= 2; }));
  CHECK_EQUAL(::kill(long_pid, 0), 0);
  // A task ends while the agent is away: the reaper still reports it (into the queue).
  { std::ofstream{dir + "/tasks/later/go"}; }
  REQUIRE(eventually([&] { return ::kill(later_pid, 0) != 0; }, 30s));
  executor_registration reply;
  reply.agent = agent_id{"agent-1"};
  agent2 = sys.spawn(test::fake_agent, caf::actor_cast<caf::actor>(self), reply, 0);
  ctl->offer(agent2);
  std::vector<task_info> rereg_tasks;
  std::vector<status_update> rereg_updates;
  bool reregistered = false;
  self->receive(
    [&](atom::rereg_exec, const framework_id& fw, const executor_id& ex, const executor_actor& hdl,
        const std::vector<task_info>& tasks, const std::vector<status_update>& updates, const std::string&) {
      reregistered = fw.value == "fw-1" && ex.value == "exec-1" && hdl == aut;
      rereg_tasks = tasks;
      rereg_updates = updates;
    },
    caf::after(30s) >> [] {});
  REQUIRE(reregistered);
  auto has_task = [&](const std::string& id) {
    return std::any_of(rereg_tasks.begin(), rereg_tasks.end(), [&](const task_info& t) { return t.id.value == id; });
  };
  auto has_update = [&](const std::string& id, task_state state) {
    return std::any_of(rereg_updates.begin(), rereg_updates.end(), [&](const status_update& u) {
      return u.status.task.value == id && u.status.state == state;
    });
  };
  CHECK(has_task("long"));
  CHECK_EQUAL(rereg_tasks.size() + (has_update("later", task_state::finished) ? 1u : 0u), 2u);
  CHECK(has_update("long", task_state::running));
  CHECK(has_update("later", task_state::running));
  for (auto& t : rereg_tasks)
    if (t.id.value == "long")
      CHECK(t.command && t.command->value.find("sleep 30") != std::string::npos);
  // After the reply: the queue is resent to the new agent (same uuids), "later" finishes there, and the new
  // agent is the one the executor now serves.
  updates.clear();
  latest.clear();
  REQUIRE(collect([&] {
    return terminal("later") && std::any_of(updates.begin(), updates.end(), [&](const status_update& u) {
             return u.status.uuid == long_running_uuid;
           });
  }));
  CHECK_EQUAL(latest["later"].state, task_state::finished);
  CHECK_EQUAL(::kill(long_pid, 0), 0);
  self->send(aut, atom::kill_task_v, task_id{"long"});
  REQUIRE(collect([&] { return terminal("long"); }));
  CHECK_EQUAL(latest["long"].state, task_state::killed);
}

TEST(with checkpointing a refused re-registration kills the tasks and ends the executor) {
  start_checkpointing(0, 60s);
  self->send(aut, atom::launch_v, shell_task("long", "echo $$ > pid; exec sleep 30"));
  REQUIRE(collect([&] { return running("long"); }));
  auto pid = task_pid("long");
  REQUIRE(pid > 0);
  executor_registration reply;
  agent2 = sys.spawn(test::fake_agent_ex, caf::actor_cast<caf::actor>(self), reply, 0, true);
  ctl->offer(agent2);
  self->send_exit(agent, caf::exit_reason::kill);
  agent = nullptr;
  driver_status status;
  REQUIRE(wait_end(status));
  CHECK_EQUAL(status, driver_status::aborted);
  MESSAGE("abort reason: " << driver->abort_reason());
  CHECK(eventually([&] { return ::kill(pid, 0) != 0; }, 30s));
}

TEST(with checkpointing the recovery timeout kills the tasks and ends the executor) {
  start_checkpointing(0, 500ms);
  self->send(aut, atom::launch_v, shell_task("long", "echo $$ > pid; exec sleep 30"));
  REQUIRE(collect([&] { return running("long"); }));
  auto pid = task_pid("long");
  REQUIRE(pid > 0);
  self->send_exit(agent, caf::exit_reason::kill);
  agent = nullptr;
  driver_status status;
  REQUIRE(wait_end(status));
  CHECK_EQUAL(status, driver_status::aborted);
  CHECK(driver->abort_reason().find("recovery timeout") != std::string::npos);
  CHECK_GREATER_OR_EQUAL(ctl->calls.load(), 1);
  CHECK(eventually([&] { return ::kill(pid, 0) != 0; }, 30s));
}

FIXTURE_SCOPE_END()
