#define CAF_SUITE containerizer_launcher
#include "test.hpp"

#include "test_helpers.hpp"

#include "containerizer/launcher.hpp"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include <pthread.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace mesoscaf;

using mesoscaf::test::read_file;

namespace {


// A fresh directory under /tmp, removed at the end of each test.
struct fixture {
  std::string dir;

  fixture() {
    char tmpl[] = "/tmp/mesoscaf-launcher-XXXXXX";
    char* d = ::mkdtemp(tmpl);
    REQUIRE(d != nullptr);
    dir = d;
  }

  ~fixture() {
    std::string cmd = "rm -rf '" + dir + "'";
    [[maybe_unused]] int rc = std::system(cmd.c_str());
  }

  launch_spec shell(const std::string& cmd, const std::string& sub = "sb") {
    launch_spec spec;
    spec.id = container_id{"c1"};
    spec.command.shell = true;
    spec.command.value = cmd;
    spec.sandbox = dir + "/" + sub;
    return spec;
  }

  static int wait_for(pid_t pid, std::chrono::milliseconds limit = std::chrono::seconds(30)) {
    return mesoscaf::test::wait_for_child(pid, limit);
  }

  // Polls `pred` until it holds or `limit` passes (generous: CI machines are loaded).
  template <class Pred>
  static bool eventually(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds(20)) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
      if (std::chrono::steady_clock::now() >= deadline)
        return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
  }
};

} // namespace

FIXTURE_SCOPE(launcher_tests, fixture)

TEST(true exits with status 0) {
  auto r = spawn_process(shell("true"));
  REQUIRE(r.ok());
  CHECK(r.error.empty());
  auto st = wait_for(r.pid);
  CHECK(WIFEXITED(st));
  CHECK_EQUAL(WEXITSTATUS(st), 0);
  CHECK_EQUAL(describe_wait_status(st), "exited with status 0");
}

TEST(exit 3 is reported) {
  auto r = spawn_process(shell("exit 3"));
  REQUIRE(r.ok());
  auto st = wait_for(r.pid);
  CHECK(WIFEXITED(st));
  CHECK_EQUAL(WEXITSTATUS(st), 3);
  CHECK_EQUAL(describe_wait_status(st), "exited with status 3");
}

TEST(argv form runs without a shell) {
  launch_spec spec = shell("");
  spec.command.shell = false;
  spec.command.value = "printf";  // searched in PATH
  spec.command.arguments = {"printf", "%s-%s", "a b", "$HOME"};
  auto r = spawn_process(spec);
  REQUIRE(r.ok());
  auto st = wait_for(r.pid);
  CHECK_EQUAL(WEXITSTATUS(st), 0);
  // No shell: the space stays inside one argument and $HOME is not expanded.
  CHECK_EQUAL(read_file(spec.sandbox + "/stdout"), "a b-$HOME");
}

TEST(argv form with a missing program fails cleanly) {
  launch_spec spec = shell("");
  spec.command.shell = false;
  spec.command.value = "/nonexistent/program-xyz";
  auto r = spawn_process(spec);
  CHECK(!r.ok());
  CHECK(r.error.find("cannot start") != std::string::npos);
  MESSAGE("error: " << r.error);
}

TEST(stdout and stderr go to sandbox files and cwd is the sandbox) {
  auto spec = shell("echo out; echo err >&2; pwd; echo more", "a/b/c");
  auto r = spawn_process(spec);
  REQUIRE(r.ok());
  CHECK_EQUAL(WEXITSTATUS(wait_for(r.pid)), 0);
  CHECK_EQUAL(read_file(spec.sandbox + "/stdout"), "out\n" + spec.sandbox + "\nmore\n");
  CHECK_EQUAL(read_file(spec.sandbox + "/stderr"), "err\n");
  // Appended, not truncated, by a second process in the same sandbox.
  auto r2 = spawn_process(shell("echo again", "a/b/c"));
  REQUIRE(r2.ok());
  wait_for(r2.pid);
  CHECK_EQUAL(read_file(spec.sandbox + "/stdout"), "out\n" + spec.sandbox + "\nmore\nagain\n");
}

TEST(stdin is dev null) {
  auto spec = shell("cat; echo done");
  auto r = spawn_process(spec);
  REQUIRE(r.ok());
  CHECK_EQUAL(WEXITSTATUS(wait_for(r.pid)), 0);
  CHECK_EQUAL(read_file(spec.sandbox + "/stdout"), "done\n");
}

TEST(environment layers are visible) {
  ::setenv("MESOSCAF_LAUNCHER_PARENT", "from-parent", 1);
  auto spec = shell("echo \"$MESOSCAF_LAUNCHER_PARENT $A $B\"");
  spec.command.environment = {{"A", "cmd-a"}, {"B", "cmd-b"}};
  spec.environment = {{"B", "spec-b"}};
  auto r = spawn_process(spec);
  REQUIRE(r.ok());
  CHECK_EQUAL(WEXITSTATUS(wait_for(r.pid)), 0);
  CHECK_EQUAL(read_file(spec.sandbox + "/stdout"), "from-parent cmd-a spec-b\n");
  ::unsetenv("MESOSCAF_LAUNCHER_PARENT");
}

TEST(an inherited executor secret never reaches a child) {
  // An executor's tasks must not learn its secret (they could register in its place); only a spec that names
  // it (the agent launching that executor) passes it on.
  ::setenv(env_executor_secret, "the-executors-own", 1);
  auto spec = shell("echo \"${MESOSCAF_EXECUTOR_SECRET:-none}\"");
  auto r = spawn_process(spec);
  REQUIRE(r.ok());
  CHECK_EQUAL(WEXITSTATUS(wait_for(r.pid)), 0);
  CHECK_EQUAL(read_file(spec.sandbox + "/stdout"), "none\n");
  auto given = shell("echo \"${MESOSCAF_EXECUTOR_SECRET:-none}\"", "given");
  given.environment = {{env_executor_secret, "for-this-executor"}};
  auto g = spawn_process(given);
  REQUIRE(g.ok());
  CHECK_EQUAL(WEXITSTATUS(wait_for(g.pid)), 0);
  CHECK_EQUAL(read_file(given.sandbox + "/stdout"), "for-this-executor\n");
  ::unsetenv(env_executor_secret);
}

TEST(child runs in its own session) {
  auto spec = shell("ps -o sid= -p $$ ; echo $$");
  auto r = spawn_process(spec);
  REQUIRE(r.ok());
  CHECK_EQUAL(WEXITSTATUS(wait_for(r.pid)), 0);
  std::istringstream in{read_file(spec.sandbox + "/stdout")};
  long sid = 0, pid = 0;
  in >> sid >> pid;
  CHECK_EQUAL(pid, r.pid);
  CHECK_EQUAL(sid, r.pid);
}

TEST(signal mask is reset in the child) {
  // Block SIGTERM (and ignore SIGPIPE) in this thread, as daemons do for sigwait; the child must not inherit.
  sigset_t set, old;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, &old);
  auto old_pipe = std::signal(SIGPIPE, SIG_IGN);
  auto spec = shell("grep -E '^Sig(Blk|Ign)' /proc/self/status; exec sleep 30");
  auto r = spawn_process(spec);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  std::signal(SIGPIPE, old_pipe);
  REQUIRE(r.ok());
  // sh must have printed its status before the kill, or the checks below read an empty file.
  REQUIRE(eventually([&] { return read_file(spec.sandbox + "/stdout").find("SigIgn") != std::string::npos; }));
  CHECK_EQUAL(::kill(r.pid, SIGTERM), 0);
  auto st = wait_for(r.pid);
  CHECK(WIFSIGNALED(st));
  CHECK_EQUAL(WTERMSIG(st), SIGTERM);
  CHECK_EQUAL(describe_wait_status(st), "killed by signal 15");
  auto out = read_file(spec.sandbox + "/stdout");
  CHECK(out.find("SigBlk:\t0000000000000000") != std::string::npos);
  auto ign = out.find("SigIgn:\t");
  REQUIRE(ign != std::string::npos);
  auto ignored = std::stoull(out.substr(ign + 8, 16), nullptr, 16);
  CHECK_EQUAL(ignored & (1ull << (SIGPIPE - 1)), 0u);  // SIGPIPE back to its default
  MESSAGE("child status lines: " << out);
}

TEST(kill of the process group reaches grandchildren) {
  auto spec = shell("sleep 30 & echo $! > grandchild.pid; wait");
  auto r = spawn_process(spec);
  REQUIRE(r.ok());
  std::string pid_text;
  REQUIRE(eventually([&] {
    pid_text = read_file(spec.sandbox + "/grandchild.pid");
    return pid_text.find('\n') != std::string::npos;
  }));
  pid_t grandchild = static_cast<pid_t>(std::atol(pid_text.c_str()));
  REQUIRE(grandchild > 0);
  CHECK(::kill(grandchild, 0) == 0);
  CHECK(kill_process_group(r.pid, SIGKILL));
  auto st = wait_for(r.pid);
  CHECK(WIFSIGNALED(st));
  // The grandchild is reparented (to init or a subreaper); poll until it is gone.
  bool gone = eventually([&] {
    std::string stat = read_file("/proc/" + std::to_string(grandchild) + "/stat");
    return stat.empty() || stat.find(") Z") != std::string::npos;
  });
  CHECK(gone);  // (a zombie counts: in containers PID 1 may not reap orphans)
}

TEST(a recorded task process is killed through its record and only while it is the same process) {
  auto spec = shell("sleep 30");
  auto r = spawn_process(spec);
  REQUIRE(r.ok());
  CHECK_EQUAL(record_task_process(spec.sandbox, r.pid), "");
  auto record = read_file(spec.sandbox + "/" + task_pid_file);
  CHECK(record.rfind(std::to_string(r.pid) + " ", 0) == 0);
  // A record whose start time does not match (a reused pid) is left alone.
  {
    std::ofstream out{spec.sandbox + "/" + task_pid_file, std::ios::trunc};
    out << r.pid << " 1\n";
  }
  CHECK(!kill_recorded_task_process(spec.sandbox));
  CHECK(::kill(r.pid, 0) == 0);
  // The real record kills the task's whole group.
  {
    std::ofstream out{spec.sandbox + "/" + task_pid_file, std::ios::trunc};
    out << record;
  }
  CHECK(kill_recorded_task_process(spec.sandbox));
  auto st = wait_for(r.pid);
  CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
  // Nothing recorded, garbage, or a process that is gone: nothing happens.
  CHECK(!kill_recorded_task_process(spec.sandbox));
  CHECK(!kill_recorded_task_process(dir + "/nowhere"));
  {
    std::ofstream out{spec.sandbox + "/" + task_pid_file, std::ios::trunc};
    out << "1 x\n";
  }
  CHECK(!kill_recorded_task_process(spec.sandbox));
}

TEST(bad specs are refused and start nothing) {
  launch_spec spec = shell("true");
  spec.sandbox.clear();
  CHECK(!spawn_process(spec).ok());
  spec = shell("");
  CHECK(!spawn_process(spec).ok());
  spec = shell("true");
  spec.sandbox = dir + "/file";
  { std::ofstream f{spec.sandbox}; f << "x"; }
  auto r = spawn_process(spec);
  CHECK(!r.ok());
  MESSAGE("error: " << r.error);
  CHECK_EQUAL(::waitpid(-1, nullptr, WNOHANG), -1);  // no child left behind
}

TEST(unsafe path components are refused) {
  CHECK(is_safe_path_component("task-1_a.b"));
  CHECK(is_safe_path_component("0123456789abcdef-ABC"));
  CHECK(!is_safe_path_component(""));
  CHECK(!is_safe_path_component("."));
  CHECK(!is_safe_path_component(".."));
  CHECK(!is_safe_path_component("a/b"));
  CHECK(!is_safe_path_component("../x"));
  CHECK(!is_safe_path_component(std::string("a\0b", 3)));
  CHECK(!is_safe_path_component("a b"));
  CHECK(!is_safe_path_component("a\\b"));
  CHECK(!is_safe_path_component("tâche"));
  CHECK(is_safe_path_component(std::string(200, 'x')));
  CHECK(!is_safe_path_component(std::string(201, 'x')));
  CHECK_EQUAL(sandbox_path("/w", {"tasks", "t1"}), "/w/tasks/t1");
  CHECK_EQUAL(sandbox_path("/w/", {"t1"}), "/w/t1");
  CHECK_EQUAL(sandbox_path("/w", {"tasks", ".."}), "");
  CHECK_EQUAL(sandbox_path("", {"t1"}), "");
}

TEST(describe wait status) {
  CHECK_EQUAL(describe_wait_status(3 << 8), "exited with status 3");
  CHECK_EQUAL(describe_wait_status(9), "killed by signal 9");
  CHECK_EQUAL(describe_wait_status(-1), "ended with unknown wait status -1");
}

FIXTURE_SCOPE_END()
