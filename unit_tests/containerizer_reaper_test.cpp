#define CAF_SUITE containerizer_reaper
#include "test.hpp"

#include "containerizer/launcher.hpp"
#include "containerizer/reaper.hpp"

#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <map>
#include <mutex>
#include <thread>

#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace mesoscaf;
using namespace std::chrono_literals;

namespace {

struct fixture {
  std::string dir;
  std::mutex mtx;
  std::condition_variable cv;
  std::map<pid_t, int> statuses;  // filled by callbacks on the reaper thread
  std::map<pid_t, std::thread::id> threads;

  fixture() {
    char tmpl[] = "/tmp/mesoscaf-reaper-XXXXXX";
    char* d = ::mkdtemp(tmpl);
    REQUIRE(d != nullptr);
    dir = d;
  }

  ~fixture() {
    std::string cmd = "rm -rf '" + dir + "'";
    [[maybe_unused]] int rc = std::system(cmd.c_str());
  }

  pid_t start(const std::string& cmd) {
    launch_spec spec;
    spec.id = container_id{"c"};
    spec.command.value = cmd;
    spec.sandbox = dir;
    auto r = spawn_process(spec);
    REQUIRE(r.ok());
    return r.pid;
  }

  process_reaper::exit_callback recorder(pid_t pid) {
    return [this, pid](int status) {
      std::lock_guard<std::mutex> guard{mtx};
      statuses[pid] = status;
      threads[pid] = std::this_thread::get_id();
      cv.notify_all();
    };
  }

  bool wait_for_count(size_t n, std::chrono::milliseconds limit = 20s) {
    std::unique_lock<std::mutex> guard{mtx};
    return cv.wait_for(guard, limit, [&] { return statuses.size() >= n; });
  }
};

} // namespace

FIXTURE_SCOPE(reaper_tests, fixture)

TEST(reports the wait status of one child) {
  process_reaper reaper;
  auto pid = start("exit 7");
  CHECK(reaper.watch(pid, recorder(pid)));
  REQUIRE(wait_for_count(1));
  std::lock_guard<std::mutex> guard{mtx};
  CHECK(WIFEXITED(statuses[pid]));
  CHECK_EQUAL(WEXITSTATUS(statuses[pid]), 7);
  CHECK_NOT_EQUAL(threads[pid], std::this_thread::get_id());
  CHECK_EQUAL(reaper.size(), 0u);
  CHECK(!reaper.watching(pid));
}

TEST(many concurrent children get their own statuses) {
  process_reaper reaper;
  std::map<pid_t, int> expected;
  for (int i = 0; i < 60; ++i) {
    // Mixed exit codes and short sleeps so exits interleave with watch() calls.
    std::string cmd = (i % 3 == 0 ? "sleep 0.0" + std::to_string(i % 10) + "; " : std::string{}) + "exit "
                      + std::to_string(i);
    auto pid = start(cmd);
    expected[pid] = i;
    CHECK(reaper.watch(pid, recorder(pid)));
  }
  REQUIRE(wait_for_count(expected.size()));
  std::lock_guard<std::mutex> guard{mtx};
  CHECK_EQUAL(statuses.size(), expected.size());
  size_t right = 0;
  for (auto& [pid, code] : expected)
    if (WIFEXITED(statuses[pid]) && WEXITSTATUS(statuses[pid]) == code)
      ++right;
  CHECK_EQUAL(right, expected.size());
  CHECK_EQUAL(reaper.size(), 0u);
}

TEST(a child that already exited before watch is reported) {
  process_reaper reaper;
  auto pid = start("exit 2");
  // Wait until it has exited, without reaping it: it stays a zombie for the reaper to collect.
  siginfo_t info{};
  REQUIRE_EQUAL(::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT), 0);
  REQUIRE_EQUAL(info.si_pid, pid);
  CHECK(reaper.watch(pid, recorder(pid)));
  REQUIRE(wait_for_count(1));
  std::lock_guard<std::mutex> guard{mtx};
  CHECK_EQUAL(WEXITSTATUS(statuses[pid]), 2);
}

TEST(signal group reaches a watched child and is refused after reaping) {
  process_reaper reaper;
  auto pid = start("exec sleep 30");
  CHECK(reaper.watch(pid, recorder(pid)));
  CHECK(reaper.watching(pid));
  CHECK(reaper.signal_group(pid, SIGKILL));
  REQUIRE(wait_for_count(1));
  {
    std::lock_guard<std::mutex> guard{mtx};
    CHECK(WIFSIGNALED(statuses[pid]));
    CHECK_EQUAL(WTERMSIG(statuses[pid]), SIGKILL);
  }
  CHECK(!reaper.signal_group(pid, SIGKILL));  // reaped: the pid may belong to someone else now
}

TEST(watch refuses bad pids and duplicates) {
  process_reaper reaper;
  CHECK(!reaper.watch(0, recorder(0)));
  CHECK(!reaper.watch(-5, recorder(-5)));
  auto pid = start("exec sleep 30");
  CHECK(reaper.watch(pid, recorder(pid)));
  CHECK(!reaper.watch(pid, recorder(pid)));
  CHECK(reaper.signal_group(pid, SIGKILL));
  REQUIRE(wait_for_count(1));
}

TEST(only watched pids are reaped) {
  process_reaper reaper;
  auto mine = start("exit 1");
  auto other = start("exit 4");  // not watched: the reaper must leave it to us
  CHECK(reaper.watch(mine, recorder(mine)));
  REQUIRE(wait_for_count(1));
  int st = 0;
  CHECK_EQUAL(::waitpid(other, &st, 0), other);
  CHECK_EQUAL(WEXITSTATUS(st), 4);
}

TEST(two reapers in one process) {
  process_reaper a;
  process_reaper b;
  auto p1 = start("exit 11");
  auto p2 = start("exit 22");
  CHECK(a.watch(p1, recorder(p1)));
  CHECK(b.watch(p2, recorder(p2)));
  REQUIRE(wait_for_count(2));
  std::lock_guard<std::mutex> guard{mtx};
  CHECK_EQUAL(WEXITSTATUS(statuses[p1]), 11);
  CHECK_EQUAL(WEXITSTATUS(statuses[p2]), 22);
}

TEST(stop returns promptly while a child still runs) {
  pid_t pid;
  int st = 0;
  auto t0 = std::chrono::steady_clock::now();
  {
    process_reaper reaper;
    pid = start("exec sleep 30");
    CHECK(reaper.watch(pid, recorder(pid)));
    reaper.stop();
    CHECK(!reaper.watch(start("true"), recorder(1)));  // refused after stop
    reaper.stop();                                      // idempotent
  }                                                     // destructor after stop
  auto took = std::chrono::steady_clock::now() - t0;
  CHECK_LESS(took, 10s);  // far below the child's 30 s: stop() does not wait for it
  {
    std::lock_guard<std::mutex> guard{mtx};
    CHECK(statuses.empty());
  }
  // Still running: stop() does not kill. waitpid(WNOHANG) is 0 only for a live child; kill(pid, 0) would also
  // succeed for an unreaped zombie.
  CHECK_EQUAL(::waitpid(pid, &st, WNOHANG), 0);
  ::kill(pid, SIGKILL);
  CHECK_EQUAL(::waitpid(pid, &st, 0), pid);
  while (::waitpid(-1, &st, 0) > 0) // the refused `true`
    ;
}

TEST(stop from inside a callback does not deadlock) {
  auto reaper = std::make_unique<process_reaper>();
  auto pid = start("exit 0");
  std::mutex m;
  std::condition_variable c;
  bool called = false;
  CHECK(reaper->watch(pid, [&](int) {
    reaper->stop();
    std::lock_guard<std::mutex> guard{m};
    called = true;
    c.notify_all();
  }));
  std::unique_lock<std::mutex> guard{m};
  CHECK(c.wait_for(guard, 10s, [&] { return called; }));
  guard.unlock();
  reaper.reset();  // destructor after an in-callback stop
}

TEST(process start time of live zombie and missing processes) {
  auto own = process_start_time(::getpid());
  CHECK_GREATER(own, 0u);
  CHECK_EQUAL(process_start_time(::getpid()), own);
  auto pid = start("exec sleep 30");
  auto child = process_start_time(pid);
  CHECK_GREATER_OR_EQUAL(child, own);
  CHECK_EQUAL(process_start_time(pid), child);
  ::kill(pid, SIGKILL);
  // Exited but not reaped: a zombie has no start time worth adopting.
  siginfo_t info{};
  REQUIRE_EQUAL(::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT), 0);
  CHECK_EQUAL(process_start_time(pid), 0u);
  int st = 0;
  CHECK_EQUAL(::waitpid(pid, &st, 0), pid);
  CHECK_EQUAL(process_start_time(0), 0u);
  CHECK_EQUAL(process_start_time(-1), 0u);
  CHECK_EQUAL(process_start_time(99999999), 0u); // above any pid_max
}

TEST(process start time survives spaces and parentheses in the command name) {
  auto own = process_start_time(::getpid());
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    // comm as a hostile program could name itself (at most 15 characters).
    ::prctl(PR_SET_NAME, "x) 1 2 (Z) 3", 0, 0, 0);
    ::pause();
    ::_exit(0);
  }
  // Wait until the child has renamed itself.
  std::string comm;
  for (int i = 0; i < 200 && comm.find(')') == std::string::npos; ++i) {
    std::this_thread::sleep_for(10ms);
    char buf[64] = {};
    auto path = "/proc/" + std::to_string(pid) + "/comm";
    if (auto* f = std::fopen(path.c_str(), "r")) {
      if (std::fgets(buf, sizeof(buf), f))
        comm = buf;
      std::fclose(f);
    }
  }
  CHECK_NOT_EQUAL(comm.find("x) 1 2 (Z) 3"), std::string::npos);
  auto t = process_start_time(pid);
  CHECK_GREATER_OR_EQUAL(t, own);
  CHECK_LESS(t, own + 100000u); // a plausible tick count, not a field misread from the name
  ::kill(pid, SIGKILL);
  int st = 0;
  CHECK_EQUAL(::waitpid(pid, &st, 0), pid);
}

TEST(watch foreign checks the start time and reports exit with minus one) {
  process_reaper reaper;
  auto pid = start("exec sleep 30");
  auto t = process_start_time(pid);
  CAF_REQUIRE_GREATER(t, 0u);
  CHECK(!reaper.watch_foreign(pid, t + 1, recorder(pid)));  // another process behind a reused pid
  CHECK(!reaper.watch_foreign(pid, 0, recorder(pid)));
  CHECK(!reaper.watch_foreign(0, t, recorder(0)));
  CHECK(!reaper.watch_foreign(-3, t, recorder(-3)));
  CHECK(!reaper.watching(pid));
  CHECK(reaper.watch_foreign(pid, t, recorder(pid)));
  CHECK(reaper.watching(pid));
  CHECK(!reaper.watch_foreign(pid, t, recorder(pid)));  // duplicate
  CHECK(!reaper.watch(pid, recorder(pid)));
  CHECK_EQUAL(reaper.size(), 1u);
  ::kill(pid, SIGKILL);
  REQUIRE(wait_for_count(1));
  {
    std::lock_guard<std::mutex> guard{mtx};
    CHECK_EQUAL(statuses[pid], -1);
  }
  CHECK_EQUAL(reaper.size(), 0u);
  CHECK(!reaper.signal_group(pid, SIGKILL));
  // The reaper did not reap it (not its business for a foreign process): we still can, with its real status.
  int st = 0;
  CHECK_EQUAL(::waitpid(pid, &st, 0), pid);
  CHECK(WIFSIGNALED(st));
}

TEST(watch foreign refuses a zombie) {
  process_reaper reaper;
  auto pid = start("exit 3");
  siginfo_t info{};
  REQUIRE_EQUAL(::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT), 0);
  CHECK(!reaper.watch_foreign(pid, 12345, recorder(pid)));
  CHECK_EQUAL(reaper.size(), 0u);
  int st = 0;
  CHECK_EQUAL(::waitpid(pid, &st, 0), pid);
  CHECK_EQUAL(WEXITSTATUS(st), 3);
}

TEST(adopt takes over an unreaped child and reaps it with its real status) {
  process_reaper reaper;
  auto pid = start("exec sleep 30");
  auto t = process_start_time(pid);
  CAF_REQUIRE_GREATER(t, 0u);
  CHECK(!reaper.adopt(pid, t + 1, recorder(pid)));  // not the process it was
  CHECK(reaper.adopt(pid, t, recorder(pid)));
  ::kill(pid, SIGKILL);
  REQUIRE(wait_for_count(1));
  {
    std::lock_guard<std::mutex> guard{mtx};
    CHECK(WIFSIGNALED(statuses[pid]));
    CHECK_EQUAL(WTERMSIG(statuses[pid]), SIGKILL);
  }
  int st = 0;
  CHECK_EQUAL(::waitpid(pid, &st, WNOHANG), -1);  // reaped already
}

TEST(adopt takes over a child that ended unwatched and reports how it ended) {
  process_reaper reaper;
  auto pid = start("sleep 0.3; exit 4");
  auto t = process_start_time(pid);
  CAF_REQUIRE_GREATER(t, 0u);
  siginfo_t info{};
  REQUIRE_EQUAL(::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT), 0);  // a zombie now
  CHECK(!reaper.adopt(pid, t + 1, recorder(pid)));
  CHECK(reaper.adopt(pid, t, recorder(pid)));
  REQUIRE(wait_for_count(1));
  std::lock_guard<std::mutex> guard{mtx};
  CHECK(WIFEXITED(statuses[pid]));
  CHECK_EQUAL(WEXITSTATUS(statuses[pid]), 4);
}

TEST(signal group reaches an adopted process group) {
  process_reaper reaper;
  // The leader and a member of its group: both must get the signal.
  auto marker = dir + "/member";
  auto pid = start("sleep 30 & echo $! > " + marker + "; wait");
  auto t = process_start_time(pid);
  CAF_REQUIRE_GREATER(t, 0u);
  pid_t member = 0;
  for (int i = 0; i < 500 && member <= 0; ++i) {
    std::this_thread::sleep_for(10ms);
    if (auto* f = std::fopen(marker.c_str(), "r")) {
      int m = 0;
      if (std::fscanf(f, "%d", &m) == 1)
        member = m;
      std::fclose(f);
    }
  }
  CAF_REQUIRE_GREATER(member, 0);
  CHECK(reaper.watch_foreign(pid, t, recorder(pid)));
  CHECK(reaper.signal_group(pid, SIGKILL));
  REQUIRE(wait_for_count(1));
  int st = 0;
  CHECK_EQUAL(::waitpid(pid, &st, 0), pid);
  CHECK(WIFSIGNALED(st));
  // The member (a child of the shell, reparented) is gone too.
  bool gone = false;
  for (int i = 0; i < 500 && !gone; ++i) {
    gone = ::kill(member, 0) != 0 || process_start_time(member) == 0;
    if (!gone)
      std::this_thread::sleep_for(10ms);
  }
  CHECK(gone);
  CHECK(!reaper.signal_group(pid, SIGKILL));
}

FIXTURE_SCOPE_END()
