#define CAF_SUITE containerizer_isolation
#include "test.hpp"

#include "test_helpers.hpp"

#include "containerizer/cgroups.hpp"
#include "containerizer/launcher.hpp"

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <thread>

#include <pthread.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace mesoscaf;

using mesoscaf::test::read_file;

namespace {

// A fresh directory under /tmp, removed at the end of each test. The isolated starts need root (namespaces,
// mounts, user switch): not being root fails the suite rather than skipping it.
struct fixture {
  std::string dir;

  fixture() {
    if (::geteuid() != 0)
      FAIL("the isolation tests must run as root (namespaces, mounts and user switches need it)");
    char tmpl[] = "/tmp/mesoscaf-isolation-XXXXXX";
    char* d = ::mkdtemp(tmpl);
    REQUIRE(d != nullptr);
    dir = d;
  }

  ~fixture() {
    if (dir.empty())
      return;
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

  static uid_t owner(const std::string& path) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0)
      return static_cast<uid_t>(-1);
    return st.st_uid;
  }

  static bool no_child_left() {
    return ::waitpid(-1, nullptr, WNOHANG) == -1 && errno == ECHILD;
  }
};

} // namespace

FIXTURE_SCOPE(isolation_tests, fixture)

TEST(a command runs as another user who owns its sandbox) {
  process_isolation iso;
  REQUIRE_EQUAL(resolve_user("nobody", iso), "");
  REQUIRE(iso.uid.has_value());
  CHECK_EQUAL(*iso.uid, 65534u);
  CHECK(!iso.empty());
  // argv form: the executable is searched in PATH by the parent.
  auto spec = shell("");
  spec.command.shell = false;
  spec.command.value = "id";
  spec.command.arguments = {"id", "-u"};
  auto r = spawn_process(spec, iso);
  REQUIRE(r.ok());
  auto st = wait_for(r.pid);
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  CHECK_EQUAL(read_file(spec.sandbox + "/stdout"), "65534\n");
  CHECK_EQUAL(owner(spec.sandbox), 65534u);
  CHECK_EQUAL(owner(spec.sandbox + "/stdout"), 65534u);
  CHECK_EQUAL(owner(spec.sandbox + "/stderr"), 65534u);
  // Group ids too, and the supplementary groups are the user's, not ours.
  auto spec2 = shell("id -g; id -G", "sb2");
  auto r2 = spawn_process(spec2, iso);
  REQUIRE(r2.ok());
  CHECK_EQUAL(WEXITSTATUS(wait_for(r2.pid)), 0);
  auto ids = read_file(spec2.sandbox + "/stdout");
  CHECK_EQUAL(ids.substr(0, ids.find('\n')), std::to_string(iso.gid));
  CHECK(ids.find(" 0") == std::string::npos);
  MESSAGE("ids: " << ids);
}

TEST(an unknown user is an error and changes nothing) {
  process_isolation iso;
  CHECK_EQUAL(resolve_user("no-such-user-mesoscaf", iso), "unknown user 'no-such-user-mesoscaf'");
  CHECK(!iso.uid.has_value());
  CHECK(iso.empty());
  CHECK_EQUAL(resolve_user("", iso), "unknown user ''");
}

TEST(in a pid namespace the command is pid 1 and sees only its processes) {
  process_isolation iso;
  iso.pid_namespace = true;
  auto spec = shell("echo $$; ls /proc | grep -c '^[0-9]'");
  auto r = spawn_process(spec, iso);
  REQUIRE(r.ok());
  auto st = wait_for(r.pid);
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  auto out = read_file(spec.sandbox + "/stdout");
  CHECK_EQUAL(out.substr(0, out.find('\n')), "1");
  // sh, ls and grep at most: the host's processes are not visible.
  auto count = std::atoi(out.substr(out.find('\n') + 1).c_str());
  CHECK_GREATER(count, 0);
  CHECK_LESS_OR_EQUAL(count, 3);
  // The host's /proc was not touched.
  CHECK(::access(("/proc/" + std::to_string(::getpid())).c_str(), F_OK) == 0);
  // The returned pid is ours to signal: it leads its session and process group.
  auto spec2 = shell("sleep 100", "sb2");
  auto r2 = spawn_process(spec2, iso);
  REQUIRE(r2.ok());
  CHECK_EQUAL(::getpgid(r2.pid), r2.pid);
  CHECK(kill_process_group(r2.pid, SIGKILL));
  auto st2 = wait_for(r2.pid);
  CHECK(WIFSIGNALED(st2) && WTERMSIG(st2) == SIGKILL);
}

TEST(private tmp is the sandbox tmp) {
  process_isolation iso;
  iso.private_tmp = true;
  auto name = "x-mesoscaf-" + std::to_string(::getpid()) + "-" + std::to_string(::time(nullptr));
  auto spec = shell("touch /tmp/" + name);
  auto r = spawn_process(spec, iso);
  REQUIRE(r.ok());
  auto st = wait_for(r.pid);
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  MESSAGE("stderr: " << read_file(spec.sandbox + "/stderr"));
  CHECK(::access((spec.sandbox + "/tmp/" + name).c_str(), F_OK) == 0);
  CHECK(::access(("/tmp/" + name).c_str(), F_OK) != 0);
  struct stat tmp;
  REQUIRE(::stat((spec.sandbox + "/tmp").c_str(), &tmp) == 0);
  CHECK_EQUAL(tmp.st_mode & 07777, 01777u);
  // With a user, the private tmp is theirs.
  REQUIRE_EQUAL(resolve_user("nobody", iso), "");
  auto spec2 = shell("touch /tmp/mine", "sb2");
  auto r2 = spawn_process(spec2, iso);
  REQUIRE(r2.ok());
  CHECK_EQUAL(WEXITSTATUS(wait_for(r2.pid)), 0);
  CHECK_EQUAL(owner(spec2.sandbox + "/tmp"), 65534u);
  CHECK_EQUAL(owner(spec2.sandbox + "/tmp/mine"), 65534u);
}

TEST(a cgroup that cannot be joined fails the start and leaves nothing running) {
  // Opened in the parent: a missing group fails before anything is started.
  process_isolation iso;
  auto missing = "/sys/fs/cgroup/memory/mesoscaf-missing-" + std::to_string(::getpid()) + "/cgroup.procs";
  iso.cgroup_procs = {missing};
  auto spec = shell("echo ran");
  auto r = spawn_process(spec, iso);
  CHECK(!r.ok());
  CHECK_EQUAL(r.error, "cannot join cgroup " + missing + ": No such file or directory");
  CHECK(no_child_left());
  // A write that fails in the child (/dev/full: ENOSPC) is reported through the pipe and the child is reaped.
  iso.cgroup_procs = {"/dev/full"};
  r = spawn_process(spec, iso);
  CHECK(!r.ok());
  CHECK_EQUAL(r.error, "cannot join cgroup /dev/full: No space left on device");
  CHECK(no_child_left());
  CHECK_EQUAL(read_file(spec.sandbox + "/stdout"), "");
}

TEST(a failed exec after fork is reported and reaped) {
  process_isolation iso;
  iso.pid_namespace = true;
  auto spec = shell("");
  spec.command.shell = false;
  spec.command.value = "/nonexistent/program-xyz";
  auto r = spawn_process(spec, iso);
  CHECK(!r.ok());
  CHECK_EQUAL(r.error, "cannot start '/nonexistent/program-xyz': No such file or directory");
  CHECK(no_child_left());
  // Not found in PATH: refused in the parent.
  spec.command.value = "no-such-program-xyz";
  r = spawn_process(spec, iso);
  CHECK_EQUAL(r.error, "cannot start 'no-such-program-xyz': No such file or directory");
  CHECK(no_child_left());
}

TEST(isolated children get a clean signal state and their own session) {
  sigset_t set, old;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, &old);
  auto old_pipe = std::signal(SIGPIPE, SIG_IGN);
  process_isolation iso;
  iso.private_tmp = true;
  auto spec = shell("grep -E '^Sig(Blk|Ign)' /proc/self/status; ps -o sid= -p $$; echo $$");
  auto r = spawn_process(spec, iso);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  std::signal(SIGPIPE, old_pipe);
  REQUIRE(r.ok());
  CHECK_EQUAL(WEXITSTATUS(wait_for(r.pid)), 0);
  auto out = read_file(spec.sandbox + "/stdout");
  CHECK(out.find("SigBlk:\t0000000000000000") != std::string::npos);
  auto ign = out.find("SigIgn:\t");
  REQUIRE(ign != std::string::npos);
  auto ignored = std::stoull(out.substr(ign + 8, 16), nullptr, 16);
  CHECK_EQUAL(ignored & (1ull << (SIGPIPE - 1)), 0u);
  auto pid_text = std::to_string(r.pid);
  CHECK(out.find(pid_text + "\n" + pid_text + "\n") != std::string::npos);  // sid == pid
  MESSAGE("out: " << out);
}

TEST(environment and argv reach an isolated command) {
  process_isolation iso;
  iso.private_tmp = true;
  auto spec = shell("");
  spec.command.shell = false;
  spec.command.value = "printf";
  spec.command.arguments = {"printf", "%s-%s", "a b", "$X"};
  spec.environment = {{"X", "x"}};
  auto r = spawn_process(spec, iso);
  REQUIRE(r.ok());
  CHECK_EQUAL(WEXITSTATUS(wait_for(r.pid)), 0);
  CHECK_EQUAL(read_file(spec.sandbox + "/stdout"), "a b-$X");
  auto spec2 = shell("echo $X", "sb2");
  spec2.environment = {{"X", "from-spec"}};
  auto r2 = spawn_process(spec2, iso);
  REQUIRE(r2.ok());
  CHECK_EQUAL(WEXITSTATUS(wait_for(r2.pid)), 0);
  CHECK_EQUAL(read_file(spec2.sandbox + "/stdout"), "from-spec\n");
}

FIXTURE_SCOPE_END()
