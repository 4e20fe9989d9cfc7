#define CAF_SUITE containerizer_actor
#include "config/support/files.hpp"
#include "test.hpp"

#include "test_helpers.hpp"

#include "containerizer/containerizer_actor.hpp"
#include "containerizer/launcher.hpp"

#include <caf/all.hpp>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

// Real actor system and real processes (the deterministic coordinator cannot wait for a process).

using namespace mesoscaf;
using namespace std::chrono_literals;

using mesoscaf::test::read_file;

namespace {

struct mock_agent_state {
  static inline const char* name = "mock_agent";
  caf::actor listener;  // gets every (exited, id, status)
};

// Full agent interface; only `exited` matters here: it is forwarded to the test's scoped actor.
agent_actor::behavior_type mock_agent(agent_actor::stateful_pointer<mock_agent_state> self, caf::actor listener) {
  self->state.listener = listener;
  return {
    [](atom::run_task, const framework_info&, const task_info&) {},
    [](atom::run_task, const framework_info&, const executor_info&, const task_group_info&) {},
    [](atom::kill_task, const framework_id&, const task_id&) {},
    [](atom::kill_task, const framework_id&, const task_id&, const kill_policy&) {},
    [](atom::ack, const framework_id&, const task_id&, const std::string&) {},
    [](atom::fw_msg, const framework_id&, const executor_id&, const std::string&) {},
    [](atom::apply_op, const framework_id&, const offer_operation&) {},
    [](atom::shutdown_fw, const framework_id&) {},
    [](atom::shutdown, const std::string&) {},
    [](atom::shutdown, const framework_id&, const executor_id&) {},
    [](atom::ping) { return agent_id{}; },
    [](atom::resend, const framework_id&) {},
    [](atom::rereg_agent) {},
    [](atom::leader, const master_location&) {},
    [](atom::rereg_exec, const framework_id&, const executor_id&, const executor_actor&, const std::vector<task_info>&,
       const std::vector<status_update>&, const std::string&) { return executor_registration{}; },
    [](atom::reg_exec, const framework_id&, const executor_id&, const executor_actor&, const std::string&) {
      return executor_registration{};
    },
    [](atom::update, const status_update&) {},
    [](atom::exec_msg, const framework_id&, const executor_id&, const std::string&) {},
    [self](atom::exited, const container_id& id, int32_t status) {
      caf::anon_send(self->state.listener, atom::exited_v, id, status);
    },
    [](atom::tick) {},
    [](atom::state) { return agent_snapshot{}; },
    [](atom::usage) { return std::vector<container_usage>{}; },
    [](atom::state_page) { return agent_state_view{}; },
    [](atom::metrics) { return std::vector<metric_sample>{}; },
  };
}

struct config : test::threaded_config {};


struct fixture {
  config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  std::string dir;
  agent_actor owner;
  containerizer_actor aut;

  fixture() {
    char tmpl[] = "/tmp/mesoscaf-cont-XXXXXX";
    char* d = ::mkdtemp(tmpl);
    REQUIRE(d != nullptr);
    dir = d;
    owner = sys.spawn(mock_agent, caf::actor_cast<caf::actor>(self));
    containerizer_options opts;
    opts.kill_grace_period = 400ms;
    aut = spawn_containerizer(sys, owner, opts);
  }

  ~fixture() {
    self->send_exit(aut, caf::exit_reason::user_shutdown);
    self->send_exit(owner, caf::exit_reason::user_shutdown);
    std::string cmd = "rm -rf '" + dir + "'";
    [[maybe_unused]] int rc = std::system(cmd.c_str());
  }

  launch_spec spec(const std::string& id, const std::string& cmd) {
    launch_spec s;
    s.id = container_id{id};
    s.command.value = cmd;
    s.sandbox = dir + "/" + id;
    s.environment["MESOSCAF_CONTAINER"] = id;
    return s;
  }

  // Launch and return the pid, or -1 with the error in `err`.
  int32_t launch(const launch_spec& s, std::string* err = nullptr) {
    int32_t pid = -1;
    self->request(aut, 30s, atom::launch_v, s)
      .receive([&](int32_t p) { pid = p; },
               [&](const caf::error& e) {
                 if (err)
                   *err = sys.render(e);
               });
    return pid;
  }

  // Waits for the owner to be told about an exit; returns false on timeout.
  bool next_exit(container_id& id, int32_t& status, std::chrono::milliseconds limit = 30s) {
    bool got = false;
    self->receive(
      [&](atom::exited, const container_id& i, int32_t s) {
        id = i;
        status = s;
        got = true;
      },
      caf::after(limit) >> [] {});
    return got;
  }

  // True once `text` shows up in the file; false after `limit` (generous: CI machines are loaded).
  bool wait_for_text(const std::string& path, const std::string& text, std::chrono::milliseconds limit = 20s) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (read_file(path).find(text) == std::string::npos) {
      if (std::chrono::steady_clock::now() >= deadline)
        return false;
      std::this_thread::sleep_for(5ms);
    }
    return true;
  }

  // Recover (adopt) a container; the reply, or nothing with the error in `err`.
  std::optional<bool> recover(containerizer_actor& c, const std::string& id, int32_t pid, uint64_t start_time,
                              std::string* err = nullptr) {
    std::optional<bool> result;
    self->request(c, 30s, atom::recover_v, container_id{id}, pid, start_time)
      .receive([&](bool ok) { result = ok; },
               [&](const caf::error& e) {
                 if (err)
                   *err = sys.render(e);
               });
    return result;
  }

  // A process of ours that the containerizer did not launch, like an executor a containerizer that died left
  // behind: a child of this process, so an adopting containerizer reaps it. Its own process group (setsid).
  pid_t start_foreign(const std::string& id, const std::string& cmd) {
    auto s = spec(id, cmd);
    auto r = spawn_process(s);
    REQUIRE(r.ok());
    return r.pid;
  }

  // Reaps our child `pid` (waiting up to `limit`); -1 on timeout.
  static int reap(pid_t pid, std::chrono::milliseconds limit = 20s) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      int st = 0;
      if (::waitpid(pid, &st, WNOHANG) == pid)
        return st;
      if (std::chrono::steady_clock::now() >= deadline)
        return -1;
      std::this_thread::sleep_for(5ms);
    }
  }

  // Our child `pid` still runs: waitpid(WNOHANG) returns 0 only for a live child, whereas kill(pid, 0) also
  // succeeds for an exited but unreaped zombie. WNOHANG reaps nothing that is still running.
  static bool child_running(pid_t pid) {
    int st = 0;
    return ::waitpid(pid, &st, WNOHANG) == 0;
  }
};

} // namespace

FIXTURE_SCOPE(containerizer_actor_tests, fixture)

TEST(launch reports the exit to the owner) {
  auto s = spec("c1", "echo \"hello $MESOSCAF_CONTAINER\"; exit 5");
  auto pid = launch(s);
  CHECK_GREATER(pid, 0);
  container_id id;
  int32_t status = 0;
  REQUIRE(next_exit(id, status));
  CHECK_EQUAL(id.value, "c1");
  CHECK(WIFEXITED(status));
  CHECK_EQUAL(WEXITSTATUS(status), 5);
  CHECK_EQUAL(read_file(s.sandbox + "/stdout"), "hello c1\n");
}

TEST(many containers at once each report their own status) {
  constexpr int n = 20;
  for (int i = 0; i < n; ++i)
    CHECK_GREATER(launch(spec("m" + std::to_string(i), "exit " + std::to_string(i))), 0);
  int right = 0;
  for (int k = 0; k < n; ++k) {
    container_id id;
    int32_t status = 0;
    REQUIRE(next_exit(id, status));
    if (WIFEXITED(status) && "m" + std::to_string(WEXITSTATUS(status)) == id.value)
      ++right;
  }
  CHECK_EQUAL(right, n);
}

TEST(launch errors are replied and leave nothing behind) {
  std::string err;
  CHECK_EQUAL(launch(spec("", "true"), &err), -1);
  CHECK(err.find("empty container ID") != std::string::npos);
  auto bad = spec("b1", "true");
  bad.command.shell = false;
  bad.command.value = "/nonexistent/xyz";
  err.clear();
  CHECK_EQUAL(launch(bad, &err), -1);
  CHECK(err.find("failed") != std::string::npos);
  MESSAGE("error: " << err);
  // Duplicate ID while the first still runs.
  CHECK_GREATER(launch(spec("d1", "exec sleep 30")), 0);
  err.clear();
  CHECK_EQUAL(launch(spec("d1", "true"), &err), -1);
  CHECK(err.find("already running") != std::string::npos);
  self->send(aut, atom::kill_v, container_id{"d1"});
  container_id id;
  int32_t status = 0;
  REQUIRE(next_exit(id, status));
  CHECK_EQUAL(id.value, "d1");
  CHECK(WIFSIGNALED(status));
  CHECK_EQUAL(WTERMSIG(status), SIGTERM);
}

TEST(kill sends a TERM signal and the process ends before the grace period) {
  auto pid = launch(spec("k1", "sleep 30 & wait"));
  CHECK_GREATER(pid, 0);
  self->send(aut, atom::kill_v, container_id{"k1"});
  self->send(aut, atom::kill_v, container_id{"unknown"});  // ignored
  container_id id;
  int32_t status = 0;
  REQUIRE(next_exit(id, status));
  CHECK_EQUAL(id.value, "k1");
  CHECK(WIFSIGNALED(status));
  // The signal proves TERM ended it (a hard kill would say SIGKILL); no wall-clock bound, CI is too loaded.
  CHECK_EQUAL(WTERMSIG(status), SIGTERM);
}

TEST(a process trapping the TERM signal is killed hard after the grace period) {
  auto s = spec("t1", "trap '' TERM; echo ready; exec sleep 30");
  auto pid = launch(s);
  CHECK_GREATER(pid, 0);
  // The trap must be set before the kill, or TERM would end the shell.
  REQUIRE(wait_for_text(s.sandbox + "/stdout", "ready"));
  auto t0 = std::chrono::steady_clock::now();
  self->send(aut, atom::kill_v, container_id{"t1"});
  container_id id;
  int32_t status = 0;
  REQUIRE(next_exit(id, status));
  auto took = std::chrono::steady_clock::now() - t0;
  CHECK_EQUAL(id.value, "t1");
  CHECK(WIFSIGNALED(status));
  CHECK_EQUAL(WTERMSIG(status), SIGKILL);
  CHECK_GREATER_OR_EQUAL(took, 350ms);
  CHECK_LESS(took, 20s);  // well under the 30 s sleep: the hard kill, not the command, ended it
}

TEST(the containerizer quits when its owner is gone and leaves containers running) {
  auto pid = launch(spec("o1", "exec sleep 30"));
  CHECK_GREATER(pid, 0);
  self->monitor(aut);
  self->send_exit(owner, caf::exit_reason::user_shutdown);
  bool down = false;
  self->receive([&](const caf::down_msg&) { down = true; }, caf::after(30s) >> [] {});
  CHECK(down);
  CHECK(child_running(pid));  // executors survive their agent
  ::kill(-pid, SIGKILL);
  int st;
  CHECK_EQUAL(::waitpid(pid, &st, 0), pid);
}

TEST(recover adopts a running child and reaps it with its real status) {
  auto pid = start_foreign("r1", "sleep 30 & wait");
  auto t = process_start_time(pid);
  CAF_REQUIRE_GREATER(t, 0u);
  // A reused pid (other start time) is not adopted.
  CHECK(recover(aut, "r1", pid, t + 1) == std::optional<bool>{false});
  CHECK(recover(aut, "r1", pid, t) == std::optional<bool>{true});
  std::string err;
  CHECK(!recover(aut, "r1", pid, t, &err).has_value());  // already running
  CHECK_NOT_EQUAL(err.find("already"), std::string::npos);
  CHECK(!recover(aut, "", pid, t).has_value());
  CHECK(!recover(aut, "r2", 0, t).has_value());
  // kill works on adopted containers: TERM to the group.
  self->send(aut, atom::kill_v, container_id{"r1"});
  container_id id;
  int32_t status = 0;
  REQUIRE(next_exit(id, status));
  CHECK_EQUAL(id.value, "r1");
  // A child of this process: the containerizer reaps it, so the status is known.
  CHECK(WIFSIGNALED(status));
  CHECK_EQUAL(WTERMSIG(status), SIGTERM);
  CHECK(!child_running(pid));
  // Gone: the ID can be recovered/launched again, a dead pid is refused.
  CHECK(recover(aut, "r1", pid, t) == std::optional<bool>{false});
}

TEST(an adopted process trapping TERM is killed hard after the grace period) {
  auto s = spec("r3", "trap '' TERM; echo ready; exec sleep 30");
  auto r = spawn_process(s);
  REQUIRE(r.ok());
  REQUIRE(wait_for_text(s.sandbox + "/stdout", "ready"));
  CHECK(recover(aut, "r3", r.pid, process_start_time(r.pid)) == std::optional<bool>{true});
  self->send(aut, atom::kill_v, container_id{"r3"});
  container_id id;
  int32_t status = 0;
  REQUIRE(next_exit(id, status));
  CHECK_EQUAL(id.value, "r3");
  CHECK(WIFSIGNALED(status));
  CHECK_EQUAL(WTERMSIG(status), SIGKILL);
}

TEST(an adopted process ending by itself is reported) {
  auto s = spec("r4", "read x < fifo; exit 0");
  REQUIRE_EQUAL(make_directories(s.sandbox), "");
  auto fifo = s.sandbox + "/fifo";
  REQUIRE_EQUAL(::mkfifo(fifo.c_str(), 0600), 0);
  auto r = spawn_process(s);
  REQUIRE(r.ok());
  CHECK(recover(aut, "r4", r.pid, process_start_time(r.pid)) == std::optional<bool>{true});
  {
    std::ofstream out{fifo};
    out << "go\n";
  }
  container_id id;
  int32_t status = 0;
  REQUIRE(next_exit(id, status));
  CHECK_EQUAL(id.value, "r4");
  CHECK(WIFEXITED(status));
}

TEST(kill on exit applies to adopted containers) {
  containerizer_options opts;
  opts.kill_on_exit = true;
  auto c = spawn_containerizer(sys, owner, opts);
  auto pid = start_foreign("k9", "exec sleep 30");
  CHECK(recover(c, "k9", pid, process_start_time(pid)) == std::optional<bool>{true});
  self->send_exit(c, caf::exit_reason::user_shutdown);
  auto st = reap(pid);
  CAF_REQUIRE_NOT_EQUAL(st, -1);
  CHECK(WIFSIGNALED(st));
  CHECK_EQUAL(WTERMSIG(st), SIGKILL);
}

TEST(recover of a process that is not our child reports its exit with status minus one) {
  // The shell leaves a grandchild behind: it is reparented away from this process, like an executor of an
  // earlier agent process.
  auto s = spec("f1", "sleep 30 < /dev/null > /dev/null 2>&1 & echo $! > pid; echo started");
  auto r = spawn_process(s);
  REQUIRE(r.ok());
  REQUIRE(wait_for_text(s.sandbox + "/stdout", "started"));
  CHECK_NOT_EQUAL(reap(r.pid), -1);
  auto pid = std::atoi(read_file(s.sandbox + "/pid").c_str());
  CAF_REQUIRE_GREATER(pid, 0);
  CHECK(recover(aut, "f1", pid, process_start_time(pid)) == std::optional<bool>{true});
  self->send(aut, atom::kill_v, container_id{"f1"});
  container_id id;
  int32_t status = 0;
  REQUIRE(next_exit(id, status));
  CHECK_EQUAL(id.value, "f1");
  CHECK_EQUAL(status, -1);
}

TEST(a containerizer that crashes leaves its containers to a successor that adopts and reaps them) {
  containerizer_options opts;
  opts.kill_on_exit = true;  // applies to an orderly stop only
  opts.kill_grace_period = 400ms;
  auto first = spawn_containerizer(sys, owner, opts);
  auto running = spec("c1", "exec sleep 30");
  auto ending = spec("c2", "read x < fifo; exit 3");
  REQUIRE_EQUAL(make_directories(ending.sandbox), "");
  auto fifo = ending.sandbox + "/fifo";
  REQUIRE_EQUAL(::mkfifo(fifo.c_str(), 0600), 0);
  int32_t pid1 = -1;
  int32_t pid2 = -1;
  self->request(first, 30s, atom::launch_v, running).receive([&](int32_t p) { pid1 = p; }, [](caf::error&) {});
  self->request(first, 30s, atom::launch_v, ending).receive([&](int32_t p) { pid2 = p; }, [](caf::error&) {});
  CAF_REQUIRE_GREATER(pid1, 0);
  CAF_REQUIRE_GREATER(pid2, 0);
  auto start1 = process_start_time(pid1);
  auto start2 = process_start_time(pid2);
  self->monitor(first);
  self->send_exit(first, caf::exit_reason::kill);
  bool down = false;
  self->receive([&](const caf::down_msg&) { down = true; }, caf::after(30s) >> [] {});
  REQUIRE(down);
  CHECK(child_running(pid1));
  // One ends while no containerizer watches it: a zombie until its successor reaps it.
  {
    std::ofstream out{fifo};
    out << "go\n";
  }
  auto second = spawn_containerizer(sys, owner, opts);
  CHECK(recover(second, "c1", pid1, start1) == std::optional<bool>{true});
  CHECK(recover(second, "c2", pid2, start2) == std::optional<bool>{true});
  container_id id;
  int32_t status = 0;
  REQUIRE(next_exit(id, status));
  CHECK_EQUAL(id.value, "c2");
  CHECK(WIFEXITED(status));
  CHECK_EQUAL(WEXITSTATUS(status), 3);
  self->send(second, atom::kill_v, container_id{"c1"});
  REQUIRE(next_exit(id, status));
  CHECK_EQUAL(id.value, "c1");
  CHECK(WIFSIGNALED(status));
  CHECK_EQUAL(WTERMSIG(status), SIGTERM);
  self->send_exit(second, caf::exit_reason::user_shutdown);
}

FIXTURE_SCOPE_END()
