#define CAF_SUITE actors_command_executor_process
#include "test.hpp"

#include "test_helpers.hpp"

#include "actors/executor_driver.hpp"
#include "containerizer/launcher.hpp"
#include "fake_agent.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <map>
#include <thread>

#include <sys/wait.h>
#include <unistd.h>

// The real `mesoscaf command-executor` process against a fake agent published on loopback in this process:
// the environment contract, registration over BASP, task updates, shutdown, SIGTERM and agent loss.

using namespace mesoscaf;
using namespace std::chrono_literals;

using mesoscaf::test::shell_task;

namespace {

struct config : test::threaded_config {
  config() : test::threaded_config(true) {}
};


struct fixture {
  config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  std::string dir;
  agent_actor agent;
  executor_actor exec;
  pid_t pid = -1;
  std::map<std::string, task_status> latest;

  fixture() {
    char tmpl[] = "/tmp/mesoscaf-cmdproc-XXXXXX";
    char* d = ::mkdtemp(tmpl);
    REQUIRE(d != nullptr);
    dir = d;
    executor_registration reply;
    reply.agent = agent_id{"agent-p"};
    agent = sys.spawn(test::fake_agent, caf::actor_cast<caf::actor>(self), reply, 0);
    auto port = sys.middleman().publish(agent, 0, "127.0.0.1", true);
    REQUIRE(port);
    launch_spec spec;
    spec.id = container_id{"executor"};
    spec.command.shell = false;
    spec.command.value = MESOSCAF_BINARY;
    spec.command.arguments = {MESOSCAF_BINARY, "command-executor"};
    spec.sandbox = dir;
    spec.environment = {{env_agent_endpoint, "127.0.0.1:" + std::to_string(*port)},
                        {env_framework_id, "fw-p"},
                        {env_executor_id, "exec-p"},
                        {env_agent_id, "agent-p"},
                        {env_sandbox, dir}};
    auto res = spawn_process(spec);
    REQUIRE(res.ok());
    pid = res.pid;
    bool registered = false;
    self->receive([&](atom::reg_exec, const framework_id& fw, const executor_id& ex, const executor_actor& h) {
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
      self->receive([&](atom::update, const status_update& u) { latest[u.status.task.value] = u.status; },
                    caf::after(left) >> [] {});
    }
    return true;
  }

  bool has(const std::string& id, task_state s) {
    auto i = latest.find(id);
    return i != latest.end() && i->second.state == s;
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
  self->send(exec, atom::launch_v, shell_task("long", "exec sleep 30"));
  REQUIRE(collect([&] { return has("long", task_state::running); }));
  ::kill(pid, SIGTERM);
  REQUIRE(collect([&] { return has("long", task_state::killed); }));
  auto st = wait_exit();
  CHECK(WIFEXITED(st));
  CHECK_EQUAL(WEXITSTATUS(st), 0);
}

TEST(losing the agent ends the executor with an error) {
  self->send(exec, atom::launch_v, shell_task("long", "exec sleep 30"));
  REQUIRE(collect([&] { return has("long", task_state::running); }));
  exec = nullptr;
  self->send_exit(agent, caf::exit_reason::kill);
  agent = nullptr;
  auto st = wait_exit();
  CHECK(WIFEXITED(st));
  CHECK_EQUAL(WEXITSTATUS(st), 1);
}

FIXTURE_SCOPE_END()
