#include "containerizer/launcher.hpp"

#include "config/support/files.hpp"
#include "containerizer/reaper.hpp"

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <grp.h>
#include <map>
#include <memory>
#include <pwd.h>
#include <sched.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <linux/close_range.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/statvfs.h>
#include <unistd.h>

extern char** environ;

namespace mesoscaf {

namespace {


// Owns the posix_spawn attribute objects and the fds we open for the child; releases them on every path.
struct spawn_resources {
  posix_spawnattr_t attr;
  posix_spawn_file_actions_t actions;
  bool attr_ok = false;
  bool actions_ok = false;
  int out_fd = -1;
  int err_fd = -1;

  ~spawn_resources() {
    if (attr_ok)
      posix_spawnattr_destroy(&attr);
    if (actions_ok)
      posix_spawn_file_actions_destroy(&actions);
    if (out_fd >= 0)
      ::close(out_fd);
    if (err_fd >= 0)
      ::close(err_fd);
  }
};

std::vector<std::string> build_environment(const launch_spec& spec) {
  std::map<std::string, std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const char* eq = std::strchr(*e, '=');
    if (eq == nullptr)
      continue;
    std::string name(*e, static_cast<size_t>(eq - *e));
    // An executor's own secret and its agent's TLS files: never inherited by what it starts (the agent sets them
    // explicitly for the executors it launches).
    if (name == env_executor_secret || name == "MESOSCAF_TLS_CERT" || name == "MESOSCAF_TLS_KEY"
        || name == "MESOSCAF_TLS_CA")
      continue;
    env[std::move(name)] = eq + 1;
  }
  for (auto& [k, v] : spec.command.environment)
    env[k] = v;
  for (auto& [k, v] : spec.environment)
    env[k] = v;
  std::vector<std::string> result;
  result.reserve(env.size());
  for (auto& [k, v] : env)
    if (!k.empty() && k.find('=') == std::string::npos)
      result.push_back(k + "=" + v);
  return result;
}

std::vector<char*> to_c_array(std::vector<std::string>& xs) {
  std::vector<char*> result;
  result.reserve(xs.size() + 1);
  for (auto& x : xs)
    result.push_back(x.data());
  result.push_back(nullptr);
  return result;
}

// Creating a directory and empty files works on a (nearly) full file system; writing does not. A process started
// there could not even write its output: it fails at once, with the reason. 64 KiB: a few pages of output.
bool sandbox_full(int fd) {
  struct statvfs fs;
  return ::fstatvfs(fd, &fs) == 0 && fs.f_blocks > 0
         && static_cast<unsigned long long>(::geteuid() == 0 ? fs.f_bfree : fs.f_bavail) * fs.f_frsize < 64 * 1024;
}

bool contains_nul(const std::string& s) {
  return s.find('\0') != std::string::npos;
}

// Why `spec` cannot be started ("" if it can): checked before anything is touched.
std::string invalid_spec(const launch_spec& spec) {
  if (spec.sandbox.empty())
    return "no sandbox directory given";
  if (contains_nul(spec.sandbox) || contains_nul(spec.command.value))
    return "sandbox or command contains a NUL character";
  if (spec.command.value.empty())
    return "empty command";
  for (auto& a : spec.command.arguments)
    if (contains_nul(a))
      return "command argument contains a NUL character";
  return {};
}

} // namespace


bool is_safe_path_component(const std::string& name) {
  if (name.empty() || name.size() > 200 || name == "." || name == "..")
    return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.'
              || c == '_' || c == '-';
    if (!ok)
      return false;
  }
  return true;
}

std::string sandbox_path(const std::string& base, const std::vector<std::string>& components) {
  if (base.empty() || contains_nul(base))
    return {};
  std::string result = base;
  for (auto& c : components) {
    if (!is_safe_path_component(c))
      return {};
    if (result.back() != '/')
      result += '/';
    result += c;
  }
  return result;
}

std::string describe_wait_status(int status) {
  if (WIFEXITED(status))
    return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status))
    return "killed by signal " + std::to_string(WTERMSIG(status));
  return "ended with unknown wait status " + std::to_string(status);
}

bool kill_process_group(pid_t pid, int sig) {
  if (pid <= 0)
    return false;
  if (::kill(-pid, sig) == 0)
    return true;
  return ::kill(pid, sig) == 0;
}

spawn_result spawn_process(const launch_spec& spec) {
  spawn_result result;
  auto fail = [&](std::string text) {
    result.pid = -1;
    result.error = std::move(text);
    return result;
  };
  // -- validate before touching anything --
  if (auto err = invalid_spec(spec); !err.empty())
    return fail(err);
  // -- sandbox and output files --
  if (auto err = make_directories(spec.sandbox); !err.empty())
    return fail(err);
  spawn_resources res;
  auto out_path = spec.sandbox + "/stdout";
  auto err_path = spec.sandbox + "/stderr";
  // O_CLOEXEC: other threads may spawn concurrently; only this child gets the files (via dup2 below).
  res.out_fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (res.out_fd < 0)
    return fail(errno_text("cannot open " + out_path, errno));
  res.err_fd = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (res.err_fd < 0)
    return fail(errno_text("cannot open " + err_path, errno));
  if (sandbox_full(res.out_fd))
    return fail(errno_text("cannot write to the sandbox " + spec.sandbox, ENOSPC));
  // -- attributes: clean signal state, own session --
  if (int rc = posix_spawnattr_init(&res.attr); rc != 0)
    return fail(errno_text("posix_spawnattr_init", rc));
  res.attr_ok = true;
  sigset_t empty;
  sigemptyset(&empty);
  posix_spawnattr_setsigmask(&res.attr, &empty);
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int sig : {SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGPIPE, SIGCHLD, SIGUSR1, SIGUSR2, SIGALRM, SIGXFSZ,
                  SIGTSTP, SIGTTIN, SIGTTOU})
    sigaddset(&defaults, sig);
  posix_spawnattr_setsigdefault(&res.attr, &defaults);
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSID;
  if (int rc = posix_spawnattr_setflags(&res.attr, flags); rc != 0)
    return fail(errno_text("posix_spawnattr_setflags", rc));
  // -- file actions: stdin, stdout, stderr, cwd --
  if (int rc = posix_spawn_file_actions_init(&res.actions); rc != 0)
    return fail(errno_text("posix_spawn_file_actions_init", rc));
  res.actions_ok = true;
  int rc = posix_spawn_file_actions_addopen(&res.actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  if (rc == 0)
    rc = posix_spawn_file_actions_adddup2(&res.actions, res.out_fd, STDOUT_FILENO);
  if (rc == 0)
    rc = posix_spawn_file_actions_adddup2(&res.actions, res.err_fd, STDERR_FILENO);
  if (rc == 0)
    rc = posix_spawn_file_actions_addchdir_np(&res.actions, spec.sandbox.c_str());
  // Nothing else of the agent's: a listening socket inherited by an executor that outlives the agent would keep
  // the restarted agent from binding its port.
  if (rc == 0)
    rc = posix_spawn_file_actions_addclosefrom_np(&res.actions, STDERR_FILENO + 1);
  if (rc != 0)
    return fail(errno_text("posix_spawn file actions", rc));
  // -- argv and environment --
  std::vector<std::string> args;
  if (spec.command.shell) {
    args = {"sh", "-c", spec.command.value};
  } else if (spec.command.arguments.empty()) {
    args = {spec.command.value};
  } else {
    args = spec.command.arguments;
  }
  auto argv = to_c_array(args);
  auto env_strings = build_environment(spec);
  auto envp = to_c_array(env_strings);
  pid_t pid = -1;
  if (spec.command.shell)
    rc = posix_spawn(&pid, "/bin/sh", &res.actions, &res.attr, argv.data(), envp.data());
  else
    rc = posix_spawnp(&pid, spec.command.value.c_str(), &res.actions, &res.attr, argv.data(), envp.data());
  if (rc != 0)
    return fail(errno_text("cannot start '" + spec.command.value + "'", rc));
  result.pid = pid;
  return result;
}

// -- isolated start: fork/clone + exec ---------------------------------------------------------------------------

namespace {

// The signals the child gets back to their default disposition (the same set as posix_spawn's above).
constexpr int default_signals[] = {SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGPIPE, SIGCHLD, SIGUSR1, SIGUSR2, SIGALRM,
                                   SIGXFSZ, SIGTSTP, SIGTTIN, SIGTTOU};

// What failed in the child, sent through the error pipe.
enum class child_step : int {
  join_cgroup = 1,
  setsid,
  private_mounts,
  bind_tmp,
  mount_proc,
  redirect,
  chdir,
  setgroups,
  setgid,
  setuid,
  exec,
};

struct child_failure {
  int step = 0;
  int index = 0;  // which cgroup file, for join_cgroup
  int err = 0;
};

// Everything the child needs, prepared by the parent: the child only reads it and makes async-signal-safe calls.
struct child_plan {
  const char* path = nullptr;
  char* const* argv = nullptr;
  char* const* envp = nullptr;
  int null_fd = -1;
  int out_fd = -1;
  int err_fd = -1;
  int pipe_fd = -1;
  const int* cgroup_fds = nullptr;
  size_t cgroup_count = 0;
  int sandbox_fd = -1;            // fchdir: the sandbox path may lie below the /tmp we cover
  const char* tmp_dir = nullptr;  // set for private_tmp
  bool new_mounts = false;        // private_tmp or pid_namespace
  bool mount_proc = false;        // pid_namespace
  bool switch_user = false;
  uid_t uid = 0;
  gid_t gid = 0;
  const gid_t* groups = nullptr;
  size_t group_count = 0;
};

[[noreturn]] void child_fail(const child_plan& plan, child_step step, int index = 0) {
  child_failure f;
  f.step = static_cast<int>(step);
  f.index = index;
  f.err = errno;
  // A pipe write of a few bytes is atomic; nothing to do if it fails.
  [[maybe_unused]] auto n = ::write(plan.pipe_fd, &f, sizeof f);
  ::_exit(127);
}

// The decimal text of `value` into `buf` (no snprintf: not async-signal-safe). Returns the length.
size_t format_decimal(long value, char* buf) {
  char tmp[24];
  size_t n = 0;
  do {
    tmp[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value > 0 && n < sizeof tmp);
  for (size_t i = 0; i < n; ++i)
    buf[i] = tmp[n - 1 - i];
  return n;
}

// Runs in the child, between fork/clone and exec.
int child_main(void* arg) {
  const auto& plan = *static_cast<const child_plan*>(arg);
  struct sigaction dfl;
  std::memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  for (int sig : default_signals)
    ::sigaction(sig, &dfl, nullptr);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  if (::setsid() < 0)
    child_fail(plan, child_step::setsid);
  // Join the cgroups first, so every process the command forks is counted. In a PID namespace getpid() is 1,
  // which the kernel resolves in the writer's namespace: still us.
  char pid_text[24];
  size_t pid_len = format_decimal(static_cast<long>(::syscall(SYS_getpid)), pid_text);
  for (size_t i = 0; i < plan.cgroup_count; ++i)
    if (::write(plan.cgroup_fds[i], pid_text, pid_len) < 0)
      child_fail(plan, child_step::join_cgroup, static_cast<int>(i));
  if (plan.new_mounts) {
    // Our mount namespace starts as a copy of the host's; without this, mounts below would propagate back.
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
      child_fail(plan, child_step::private_mounts);
    if (plan.tmp_dir != nullptr && ::mount(plan.tmp_dir, "/tmp", nullptr, MS_BIND, nullptr) != 0)
      child_fail(plan, child_step::bind_tmp);
    // ps and friends read /proc: show this namespace's processes.
    if (plan.mount_proc && ::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
      child_fail(plan, child_step::mount_proc);
  }
  if (::dup2(plan.null_fd, STDIN_FILENO) < 0 || ::dup2(plan.out_fd, STDOUT_FILENO) < 0
      || ::dup2(plan.err_fd, STDERR_FILENO) < 0)
    child_fail(plan, child_step::redirect);
  if (::fchdir(plan.sandbox_fd) != 0)
    child_fail(plan, child_step::chdir);
  if (plan.switch_user) {
    // Raw system calls: glibc's wrappers would signal the (non-existent here) other threads to switch too, which
    // is not async-signal-safe after fork. Groups and gid while still privileged, the uid last.
    if (::syscall(SYS_setgroups, plan.group_count, plan.groups) != 0)
      child_fail(plan, child_step::setgroups);
    if (::syscall(SYS_setresgid, plan.gid, plan.gid, plan.gid) != 0)
      child_fail(plan, child_step::setgid);
    if (::syscall(SYS_setresuid, plan.uid, plan.uid, plan.uid) != 0)
      child_fail(plan, child_step::setuid);
  }
  // Nothing else of the agent's crosses the exec (see above; the report pipe is closed by the exec, as it is meant
  // to be). Kernels before 5.11 lack the flag: the fds that are not close-on-exec then stay.
  ::syscall(SYS_close_range, STDERR_FILENO + 1, ~0U, CLOSE_RANGE_CLOEXEC);
  ::execve(plan.path, plan.argv, plan.envp);
  child_fail(plan, child_step::exec);
}

std::string describe_child_failure(const child_failure& f, const launch_spec& spec,
                                   const process_isolation& isolation, const std::string& tmp_dir) {
  auto uid = isolation.uid ? std::to_string(*isolation.uid) : std::string{};
  switch (static_cast<child_step>(f.step)) {
    case child_step::join_cgroup: {
      auto file = f.index >= 0 && static_cast<size_t>(f.index) < isolation.cgroup_procs.size()
                    ? isolation.cgroup_procs[static_cast<size_t>(f.index)]
                    : std::string{"?"};
      return errno_text("cannot join cgroup " + file, f.err);
    }
    case child_step::setsid:
      return errno_text("cannot start a session", f.err);
    case child_step::private_mounts:
      return errno_text("cannot make the mounts of the new mount namespace private", f.err);
    case child_step::bind_tmp:
      return errno_text("cannot mount " + tmp_dir + " on /tmp", f.err);
    case child_step::mount_proc:
      return errno_text("cannot mount /proc in the new PID namespace", f.err);
    case child_step::redirect:
      return errno_text("cannot redirect stdin/stdout/stderr", f.err);
    case child_step::chdir:
      return errno_text("cannot enter the sandbox " + spec.sandbox, f.err);
    case child_step::setgroups:
      return errno_text("cannot set the supplementary groups for uid " + uid, f.err);
    case child_step::setgid:
      return errno_text("cannot switch to gid " + std::to_string(isolation.gid), f.err);
    case child_step::setuid:
      return errno_text("cannot switch to uid " + uid, f.err);
    case child_step::exec:
      return errno_text("cannot start '" + spec.command.value + "'", f.err);
  }
  return "the child failed before exec (step " + std::to_string(f.step) + ", " + std::strerror(f.err) + ")";
}

// `name` as posix_spawnp would find it: in this process's PATH (not the child's environment). Returns the path,
// or "" with `err` set.
std::string find_executable(const std::string& name, int& err) {
  if (name.find('/') != std::string::npos)
    return name;
  const char* env_path = std::getenv("PATH");
  std::string path = env_path != nullptr ? env_path : "/bin:/usr/bin";
  err = ENOENT;
  size_t pos = 0;
  while (pos <= path.size()) {
    auto next = path.find(':', pos);
    if (next == std::string::npos)
      next = path.size();
    auto dir = path.substr(pos, next - pos);
    pos = next + 1;
    auto candidate = (dir.empty() ? std::string{"."} : dir) + "/" + name;
    struct stat st;
    if (::stat(candidate.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
      continue;
    if (::access(candidate.c_str(), X_OK) == 0)
      return candidate;
    err = EACCES;
  }
  return {};
}

// The fds the isolated start opens; closed on every path.
struct isolation_fds {
  std::vector<int> fds;
  ~isolation_fds() {
    for (int fd : fds)
      if (fd >= 0)
        ::close(fd);
  }
  int add(int fd) {
    fds.push_back(fd);
    return fd;
  }
};

} // namespace

std::string current_user_name() {
  long hint = ::sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buf(static_cast<size_t>(hint > 0 ? hint : 16384));
  struct passwd pw;
  struct passwd* found = nullptr;
  if (::getpwuid_r(::geteuid(), &pw, buf.data(), buf.size(), &found) == 0 && found != nullptr)
    return found->pw_name;
  auto env = std::getenv("USER");
  return env != nullptr ? env : "";
}

std::string resolve_user(const std::string& name, process_isolation& out) {
  if (name.empty() || contains_nul(name))
    return "unknown user '" + name + "'";
  long hint = ::sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buf(static_cast<size_t>(hint > 0 ? hint : 16384));
  struct passwd pw;
  struct passwd* found = nullptr;
  int rc = 0;
  while ((rc = ::getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found)) == ERANGE && buf.size() < (1u << 20))
    buf.resize(buf.size() * 2);
  if (rc != 0 && rc != ENOENT && rc != ESRCH)
    return errno_text("cannot look up user '" + name + "'", rc);
  if (found == nullptr)
    return "unknown user '" + name + "'";
  std::vector<gid_t> groups(32);
  for (;;) {
    int n = static_cast<int>(groups.size());
    if (::getgrouplist(name.c_str(), pw.pw_gid, groups.data(), &n) >= 0) {
      groups.resize(static_cast<size_t>(n));
      break;
    }
    // -1: too small, and n now holds the number needed.
    groups.resize(std::max(static_cast<size_t>(n), groups.size() * 2));
    if (groups.size() > 65536)
      return "user '" + name + "' is in too many groups";
  }
  out.uid = pw.pw_uid;
  out.gid = pw.pw_gid;
  out.groups = std::move(groups);
  return {};
}

spawn_result spawn_process(const launch_spec& spec, const process_isolation& isolation) {
  if (isolation.empty())
    return spawn_process(spec);
  spawn_result result;
  auto fail = [&](std::string text) {
    result.pid = -1;
    result.error = std::move(text);
    return result;
  };
  // -- validate before touching anything (as spawn_process(spec)) --
  if (auto err = invalid_spec(spec); !err.empty())
    return fail(err);
  for (auto& f : isolation.cgroup_procs)
    if (contains_nul(f))
      return fail("cgroup file name contains a NUL character");
  // -- executable, argv and environment --
  std::string exe = "/bin/sh";
  if (!spec.command.shell) {
    int err = 0;
    exe = find_executable(spec.command.value, err);
    if (exe.empty())
      return fail(errno_text("cannot start '" + spec.command.value + "'", err));
  }
  std::vector<std::string> args;
  if (spec.command.shell)
    args = {"sh", "-c", spec.command.value};
  else if (spec.command.arguments.empty())
    args = {spec.command.value};
  else
    args = spec.command.arguments;
  auto argv = to_c_array(args);
  auto env_strings = build_environment(spec);
  auto envp = to_c_array(env_strings);
  // -- sandbox, files, ownership --
  bool switch_user = isolation.uid.has_value();
  uid_t uid = switch_user ? *isolation.uid : 0;
  gid_t gid = isolation.gid;
  if (auto err = make_directories(spec.sandbox); !err.empty())
    return fail(err);
  if (switch_user && ::chown(spec.sandbox.c_str(), uid, gid) != 0)
    return fail(errno_text("cannot give " + spec.sandbox + " to uid " + std::to_string(uid), errno));
  std::string tmp_dir;
  if (isolation.private_tmp) {
    tmp_dir = spec.sandbox + "/tmp";
    if (::mkdir(tmp_dir.c_str(), 01777) != 0 && errno != EEXIST)
      return fail(errno_text("cannot create directory " + tmp_dir, errno));
    // Like /tmp: everyone may create files (mkdir applies the umask, hence chmod).
    if (::chmod(tmp_dir.c_str(), 01777) != 0)
      return fail(errno_text("cannot chmod " + tmp_dir, errno));
    if (switch_user && ::chown(tmp_dir.c_str(), uid, gid) != 0)
      return fail(errno_text("cannot give " + tmp_dir + " to uid " + std::to_string(uid), errno));
  }
  isolation_fds fds;
  auto out_path = spec.sandbox + "/stdout";
  auto err_path = spec.sandbox + "/stderr";
  // O_CLOEXEC everywhere: other threads may start processes concurrently; only this child gets the files.
  int out_fd = fds.add(::open(out_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (out_fd < 0)
    return fail(errno_text("cannot open " + out_path, errno));
  int err_fd = fds.add(::open(err_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (err_fd < 0)
    return fail(errno_text("cannot open " + err_path, errno));
  if (sandbox_full(out_fd))
    return fail(errno_text("cannot write to the sandbox " + spec.sandbox, ENOSPC));
  if (switch_user && (::fchown(out_fd, uid, gid) != 0 || ::fchown(err_fd, uid, gid) != 0))
    return fail(errno_text("cannot give the output files in " + spec.sandbox + " to uid " + std::to_string(uid),
                           errno));
  int sandbox_fd = fds.add(::open(spec.sandbox.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (sandbox_fd < 0)
    return fail(errno_text("cannot open " + spec.sandbox, errno));
  int null_fd = fds.add(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (null_fd < 0)
    return fail(errno_text("cannot open /dev/null", errno));
  std::vector<int> cgroup_fds;
  for (auto& file : isolation.cgroup_procs) {
    int fd = fds.add(::open(file.c_str(), O_WRONLY | O_CLOEXEC));
    if (fd < 0)
      return fail(errno_text("cannot join cgroup " + file, errno));
    cgroup_fds.push_back(fd);
  }
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0)
    return fail(errno_text("cannot create a pipe", errno));
  fds.add(pipe_fds[0]);
  int& pipe_write = fds.fds.emplace_back(pipe_fds[1]);
  // -- the plan --
  child_plan plan;
  plan.path = exe.c_str();
  plan.argv = argv.data();
  plan.envp = envp.data();
  plan.null_fd = null_fd;
  plan.out_fd = out_fd;
  plan.err_fd = err_fd;
  plan.pipe_fd = pipe_fds[1];
  plan.cgroup_fds = cgroup_fds.data();
  plan.cgroup_count = cgroup_fds.size();
  plan.sandbox_fd = sandbox_fd;
  plan.tmp_dir = isolation.private_tmp ? tmp_dir.c_str() : nullptr;
  plan.new_mounts = isolation.private_tmp || isolation.pid_namespace;
  plan.mount_proc = isolation.pid_namespace;
  plan.switch_user = switch_user;
  plan.uid = uid;
  plan.gid = gid;
  plan.groups = isolation.groups.data();
  plan.group_count = isolation.groups.size();
  int clone_flags = 0;
  if (isolation.pid_namespace)
    clone_flags = CLONE_NEWPID | CLONE_NEWNS;
  else if (isolation.private_tmp)
    clone_flags = CLONE_NEWNS;
  constexpr size_t stack_size = 64 * 1024;
  std::unique_ptr<char[]> stack;
  if (clone_flags != 0)
    stack.reset(new char[stack_size]);
  // -- start --
  // All signals blocked across fork/clone: no handler of ours may run in the child before it resets them.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pid_t pid = clone_flags != 0 ? ::clone(child_main, stack.get() + stack_size, clone_flags | SIGCHLD, &plan)
                               : ::fork();
  if (pid == 0)
    child_main(&plan);  // fork only; never returns
  int start_errno = errno;
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  // Without CLONE_VM the child has its own copy of the stack.
  stack.reset();
  if (pid < 0)
    return fail(errno_text("cannot start '" + spec.command.value + "'", start_errno));
  ::close(pipe_write);
  pipe_write = -1;
  // EOF: exec succeeded (the pipe closed on exec). Otherwise the child reports what failed and exits.
  child_failure failure;
  ssize_t n;
  do
    n = ::read(pipe_fds[0], &failure, sizeof failure);
  while (n < 0 && errno == EINTR);
  if (n == 0) {
    result.pid = pid;
    return result;
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (n != static_cast<ssize_t>(sizeof failure))
    return fail("cannot start '" + spec.command.value + "': the child failed before exec ("
                + describe_wait_status(status) + ")");
  return fail(describe_child_failure(failure, spec, isolation, tmp_dir));
}

std::string record_task_process(const std::string& dir, pid_t pid) {
  auto start = process_start_time(pid);
  if (start == 0)
    return "process " + std::to_string(pid) + " is gone";
  auto path = dir + "/" + task_pid_file;
  std::ofstream out{path, std::ios::trunc};
  out << pid << ' ' << start << '\n';
  out.close();
  if (!out)
    return "cannot write " + path;
  return {};
}

bool kill_recorded_task_process(const std::string& dir) {
  std::ifstream in{dir + "/" + task_pid_file};
  long long pid = 0;
  unsigned long long start = 0;
  if (!(in >> pid >> start) || pid <= 1 || start == 0)
    return false;
  // Same pid AND same start time: the very process the executor started (its group has its pid).
  if (process_start_time(static_cast<pid_t>(pid)) != start)
    return false;
  return kill_process_group(static_cast<pid_t>(pid), SIGKILL);
}

} // namespace mesoscaf
