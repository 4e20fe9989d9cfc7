#define CAF_SUITE actors_command_executor_process
#include "test.hpp"

#include "test_helpers.hpp"

#include "actors/sdk/executor_driver.hpp"
#include "containerizer/launcher.hpp"
#include "fake_agent.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <algorithm>
#include <memory>
#include <map>
#include <thread>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

// The real `mesoscaf command-executor` process against a fake agent published on loopback in this process:
// the environment contract, registration over BASP, task updates, shutdown, SIGTERM, agent loss, and (with
// MESOSCAF_CHECKPOINT=1) an agent "restart": a new fake agent published on the same port.

using namespace mesoscaf;
using namespace std::chrono_literals;

using mesoscaf::test::shell_task;

namespace {

struct config : test::threaded_config {
  config() : test::threaded_config(true) {}
};


// A fake agent in an actor system of its own: destroying it closes every connection, as the death of a real
// agent process does (the executor sees remote_link_unreachable, not an exit of the actor).
struct agent_node {
  config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  agent_actor agent;
  uint16_t port = 0;

  // Publishes on `want` (0: any port); retries while the previous acceptor on that port is still closing.
  bool start(uint16_t want, int drop_acks) {
    executor_registration reply;
    reply.agent = agent_id{"agent-p"};
    agent = sys.spawn(test::fake_agent, caf::actor_cast<caf::actor>(self), reply, drop_acks);
    auto deadline = std::chrono::steady_clock::now() + 15s;
    for (;;) {
      auto res = sys.middleman().publish(agent, want, "127.0.0.1", true);
      if (res) {
        port = *res;
        return true;
      }
      if (std::chrono::steady_clock::now() >= deadline)
        return false;
      std::this_thread::sleep_for(20ms);
    }
  }

  ~agent_node() {
    if (agent)
      self->send_exit(agent, caf::exit_reason::kill);
  }
};

struct fixture {
  config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  std::string dir;
  agent_actor agent;
  executor_actor exec;
  pid_t pid = -1;
  uint16_t port = 0;
  std::vector<pid_t> task_pids;  // killed at the end in any case (tasks run in their own sessions)
  std::map<std::string, task_status> latest;
  std::vector<status_update> updates;

  fixture() {
    char tmpl[] = "/tmp/mesoscaf-cmdproc-XXXXXX";
    char* d = ::mkdtemp(tmpl);
    REQUIRE(d != nullptr);
    dir = d;
  }

  // Publishes a fake agent, starts the executor process with the MESOSCAF_* environment (plus `extra`), waits
  // for its registration.
  void start(std::map<std::string, std::string> extra = {}, int drop_acks = 0) {
    executor_registration reply;
    reply.agent = agent_id{"agent-p"};
    agent = sys.spawn(test::fake_agent, caf::actor_cast<caf::actor>(self), reply, drop_acks);
    auto published = sys.middleman().publish(agent, 0, "127.0.0.1", true);
    REQUIRE(published);
    port = *published;
    launch_spec spec;
    spec.id = container_id{"executor"};
    spec.command.shell = false;
    spec.command.value = MESOSCAF_BINARY;
    spec.command.arguments = {MESOSCAF_BINARY, "command-executor"};
    spec.sandbox = dir;
    spec.environment = {{env_agent_endpoint, "127.0.0.1:" + std::to_string(port)},
                        {env_framework_id, "fw-p"},
                        {env_executor_id, "exec-p"},
                        {env_agent_id, "agent-p"},
                        {env_sandbox, dir}};
    for (auto& [k, v] : extra)
      spec.environment[k] = v;
    auto res = spawn_process(spec);
    REQUIRE(res.ok());
    pid = res.pid;
    bool registered = false;
    self->receive([&](atom::reg_exec, const framework_id& fw, const executor_id& ex, const executor_actor& h, const std::string&) {
      registered = fw.value == "fw-p" && ex.value == "exec-p";
      exec = h;
    },
                  caf::after(30s) >> [] {});
    REQUIRE(registered);
  }

  ~fixture() {
    if (pid > 0) {
      ::kill(-pid, SIGKILL);
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    for (auto p : task_pids)
      if (p > 0)
        ::kill(-p, SIGKILL);
    exec = nullptr;
    if (agent)
      self->send_exit(agent, caf::exit_reason::kill);
    std::string cmd = "rm -rf '" + dir + "'";
    [[maybe_unused]] int rc = std::system(cmd.c_str());
  }

  template <class Pred>
  bool collect(Pred done, std::chrono::milliseconds limit = 30s) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0)
        return false;
      self->receive([&](atom::update, const status_update& u) {
        latest[u.status.task.value] = u.status;
        updates.push_back(u);
      },
                    caf::after(left) >> [] {});
    }
    return true;
  }

  bool has(const std::string& id, task_state s) {
    auto i = latest.find(id);
    return i != latest.end() && i->second.state == s;
  }

  // The pid a task wrote to <sandbox>/tasks/<id>/pid ("echo $$ > pid" at its start), or -1.
  pid_t task_pid(const std::string& id, std::chrono::milliseconds limit = 20s) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      auto text = test::read_file(dir + "/tasks/" + id + "/pid");
      if (text.find('\n') != std::string::npos) {  // the whole line is written
        auto p = static_cast<pid_t>(std::atol(text.c_str()));
        task_pids.push_back(p);
        return p;
      }
      if (std::chrono::steady_clock::now() >= deadline)
        return -1;
      std::this_thread::sleep_for(5ms);
    }
  }

  // The executor's exit status, or -1 on timeout.
  int wait_exit(std::chrono::milliseconds limit = 30s) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    int status = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        pid = -1;
        return status;
      }
      std::this_thread::sleep_for(10ms);
    }
    return -1;
  }
};

} // namespace

FIXTURE_SCOPE(command_executor_process_tests, fixture)

TEST(runs tasks and exits cleanly on shutdown) {
  start();
  self->send(exec, atom::launch_v, shell_task("quick", "echo hi"));
  self->send(exec, atom::launch_v, shell_task("long", "exec sleep 30"));
  REQUIRE(collect([&] { return has("quick", task_state::finished) && has("long", task_state::running); }));
  self->send(exec, atom::shutdown_v);
  REQUIRE(collect([&] { return has("long", task_state::killed); }));
  auto st = wait_exit();
  CHECK(WIFEXITED(st));
  CHECK_EQUAL(WEXITSTATUS(st), 0);
}

TEST(a TERM signal kills the tasks and exits cleanly) {
  start();
  self->send(exec, atom::launch_v, shell_task("long", "exec sleep 30"));
  REQUIRE(collect([&] { return has("long", task_state::running); }));
  ::kill(pid, SIGTERM);
  REQUIRE(collect([&] { return has("long", task_state::killed); }));
  auto st = wait_exit();
  CHECK(WIFEXITED(st));
  CHECK_EQUAL(WEXITSTATUS(st), 0);
}

TEST(losing the agent ends the executor with an error) {
  start();
  self->send(exec, atom::launch_v, shell_task("long", "exec sleep 30"));
  REQUIRE(collect([&] { return has("long", task_state::running); }));
  exec = nullptr;
  self->send_exit(agent, caf::exit_reason::kill);
  agent = nullptr;
  auto st = wait_exit();
  CHECK(WIFEXITED(st));
  CHECK_EQUAL(WEXITSTATUS(st), 1);
}

TEST(with checkpointing the executor keeps its task and re-registers with the restarted agent) {
  // The first agent acknowledges nothing: RUNNING is still unacknowledged when it dies.
  start({{env_checkpoint, "1"}, {env_recovery_timeout, "60000"}}, /*drop_acks=*/1000000);
  self->send(exec, atom::launch_v, shell_task("long", "echo $$ > pid; exec sleep 30"));
  REQUIRE(collect([&] { return has("long", task_state::running); }));
  auto running_uuid = latest["long"].uuid;
  auto task = task_pid("long");
  REQUIRE(task > 0);
  // "Restart" the agent: the old one exits (and is unpublished), a new one is published on the same port.
  exec = nullptr;
  auto closed = sys.middleman().unpublish(agent, port);  // close the acceptor (blocking: fine in a test)
  REQUIRE(closed);
  self->send_exit(agent, caf::exit_reason::kill);
  agent = nullptr;
  executor_registration reply;
  reply.agent = agent_id{"agent-p"};
  agent = sys.spawn(test::fake_agent, caf::actor_cast<caf::actor>(self), reply, 0);
  auto deadline = std::chrono::steady_clock::now() + 15s;
  caf::expected<uint16_t> republished{caf::sec::cannot_open_port};
  while (std::chrono::steady_clock::now() < deadline) {
    republished = sys.middleman().publish(agent, port, "127.0.0.1", true);
    if (republished)
      break;
    std::this_thread::sleep_for(20ms);  // the old acceptor closes asynchronously
  }
  if (!republished)
    MESSAGE("publish: " << sys.render(republished.error()));
  REQUIRE(republished);
  REQUIRE_EQUAL(*republished, port);
  std::vector<task_info> tasks;
  std::vector<status_update> pending;
  bool reregistered = false;
  self->receive(
    [&](atom::rereg_exec, const framework_id& fw, const executor_id& ex, const executor_actor& hdl,
        const std::vector<task_info>& ts, const std::vector<status_update>& us, const std::string&) {
      reregistered = fw.value == "fw-p" && ex.value == "exec-p";
      exec = hdl;
      tasks = ts;
      pending = us;
    },
    caf::after(30s) >> [] {});
  REQUIRE(reregistered);
  REQUIRE_EQUAL(tasks.size(), 1u);
  CHECK_EQUAL(tasks[0].id.value, "long");
  CHECK(std::any_of(pending.begin(), pending.end(), [&](const status_update& u) {
    return u.status.uuid == running_uuid && u.status.state == task_state::running;
  }));
  // The unacknowledged RUNNING is resent to the new agent; the task never stopped.
  updates.clear();
  REQUIRE(collect([&] {
    return std::any_of(updates.begin(), updates.end(),
                       [&](const status_update& u) { return u.status.uuid == running_uuid; });
  }));
  CHECK_EQUAL(::kill(task, 0), 0);
  // The new agent is fully in charge: shutdown kills the task and ends the executor cleanly.
  self->send(exec, atom::shutdown_v);
  REQUIRE(collect([&] { return has("long", task_state::killed); }));
  auto st = wait_exit();
  CHECK(WIFEXITED(st));
  CHECK_EQUAL(WEXITSTATUS(st), 0);
}

TEST(with checkpointing the executor survives the death of the whole agent node) {
  auto node = std::make_unique<agent_node>();
  REQUIRE(node->start(0, /*drop_acks=*/1000000));
  auto agent_port = node->port;
  launch_spec spec;
  spec.id = container_id{"executor"};
  spec.command.shell = false;
  spec.command.value = MESOSCAF_BINARY;
  spec.command.arguments = {MESOSCAF_BINARY, "command-executor"};
  spec.sandbox = dir;
  spec.environment = {{env_agent_endpoint, "127.0.0.1:" + std::to_string(agent_port)},
                      {env_framework_id, "fw-p"},
                      {env_executor_id, "exec-p"},
                      {env_agent_id, "agent-p"},
                      {env_sandbox, dir},
                      {env_checkpoint, "1"},
                      {env_recovery_timeout, "60000"}};
  auto res = spawn_process(spec);
  REQUIRE(res.ok());
  pid = res.pid;
  executor_actor hdl;
  node->self->receive([&](atom::reg_exec, const framework_id&, const executor_id&, const executor_actor& h, const std::string&) { hdl = h; },
                      caf::after(30s) >> [] {});
  REQUIRE(hdl);
  node->self->send(hdl, atom::launch_v, shell_task("long", "echo $$ > pid; exec sleep 30"));
  std::string running_uuid;
  node->self->receive([&](atom::update, const status_update& u) { running_uuid = u.status.uuid; },
                      caf::after(30s) >> [] {});
  REQUIRE(!running_uuid.empty());
  auto task = task_pid("long");
  REQUIRE(task > 0);
  // The agent node dies; a new one comes up on the same port.
  hdl = nullptr;
  node.reset();
  node = std::make_unique<agent_node>();
  REQUIRE(node->start(agent_port, 0));
  std::vector<task_info> tasks;
  std::vector<status_update> pending;
  node->self->receive(
    [&](atom::rereg_exec, const framework_id&, const executor_id&, const executor_actor& h,
        const std::vector<task_info>& ts, const std::vector<status_update>& us, const std::string&) {
      hdl = h;
      tasks = ts;
      pending = us;
    },
    caf::after(30s) >> [] {});
  REQUIRE(hdl);
  REQUIRE_EQUAL(tasks.size(), 1u);
  CHECK_EQUAL(tasks[0].id.value, "long");
  CHECK(std::any_of(pending.begin(), pending.end(),
                    [&](const status_update& u) { return u.status.uuid == running_uuid; }));
  CHECK_EQUAL(::kill(task, 0), 0);
  node->self->send(hdl, atom::shutdown_v);
  auto st = wait_exit();
  CHECK(WIFEXITED(st));
  CHECK_EQUAL(WEXITSTATUS(st), 0);
  CHECK(::kill(task, 0) != 0);  // killed and reaped by the executor before it exited
}

FIXTURE_SCOPE_END()
