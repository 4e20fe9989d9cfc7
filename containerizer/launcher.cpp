#include "containerizer/launcher.hpp"

#include "config/support/files.hpp"
#include "containerizer/reaper.hpp"

#include <cerrno>
#include <fstream>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <spawn.h>
#include <sys/stat.h>
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
    env[std::string(*e, static_cast<size_t>(eq - *e))] = eq + 1;
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

bool contains_nul(const std::string& s) {
  return s.find('\0') != std::string::npos;
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
  if (spec.sandbox.empty())
    return fail("no sandbox directory given");
  if (contains_nul(spec.sandbox) || contains_nul(spec.command.value))
    return fail("sandbox or command contains a NUL character");
  if (spec.command.value.empty())
    return fail("empty command");
  for (auto& a : spec.command.arguments)
    if (contains_nul(a))
      return fail("command argument contains a NUL character");
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
  // Creating a directory and empty files works on a (nearly) full file system; writing does not. A process
  // started there could not even write its output: it fails now, with the reason. 64 KiB: a few pages of output.
  struct statvfs fs;
  if (::fstatvfs(res.out_fd, &fs) == 0 && fs.f_blocks > 0
      && static_cast<unsigned long long>(::geteuid() == 0 ? fs.f_bfree : fs.f_bavail) * fs.f_frsize < 64 * 1024)
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
