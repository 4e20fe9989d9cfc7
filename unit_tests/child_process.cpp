#include "child_process.hpp"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <spawn.h>
#include <sstream>
#include <stdexcept>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace mesoscaf::test {

namespace {

int decode(int status) {
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  if (WIFSIGNALED(status))
    return 128 + WTERMSIG(status);
  return -1;
}

} // namespace

child_process::child_process(std::vector<std::string> argv, std::string log_path)
  : log_path_(std::move(log_path)) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t empty;
  sigemptyset(&empty);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  std::vector<char*> args;
  for (auto& a : argv)
    args.push_back(a.data());
  args.push_back(nullptr);
  int rc = posix_spawn(&pid_, args[0], &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0)
    throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
}

child_process::~child_process() {
  if (running()) {
    ::kill(pid_, SIGKILL);
    wait_exit(std::chrono::seconds(10));
  }
}

std::string child_process::output() const {
  std::ifstream in{log_path_};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::optional<std::smatch> child_process::wait_for_line(const std::string& pattern,
                                                        std::chrono::milliseconds timeout) {
  std::regex re{pattern};
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    // Check whether it still runs before reading, so that a line printed just before exiting is still seen.
    bool alive = running();
    last_output_ = output();
    std::smatch m;
    if (std::regex_search(last_output_, m, re))
      return m;
    if (std::chrono::steady_clock::now() > deadline || !alive)
      return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void child_process::signal(int sig) {
  if (running())
    ::kill(pid_, sig);
}

bool child_process::running() {
  if (exit_code_)
    return false;
  int status = 0;
  auto rc = ::waitpid(pid_, &status, WNOHANG);
  if (rc == pid_) {
    exit_code_ = decode(status);
    return false;
  }
  return rc == 0;
}

std::optional<int> child_process::wait_exit(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (running()) {
    if (std::chrono::steady_clock::now() > deadline)
      return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return exit_code_;
}

temp_dir::temp_dir(const std::string& prefix) {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base ? base : "/tmp") + "/" + prefix + "-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr)
    throw std::runtime_error("mkdtemp failed: " + std::string(std::strerror(errno)));
  path_ = tmpl;
}

temp_dir::~temp_dir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

run_result run_to_completion(std::vector<std::string> argv, const std::string& log_path,
                             std::chrono::milliseconds timeout) {
  child_process p{std::move(argv), log_path};
  run_result r;
  auto code = p.wait_exit(timeout);
  r.exit_code = code ? *code : -1;
  r.output = p.output();
  return r;
}

std::string shell_quote(const std::string& s) {
  std::string r = "'";
  for (char c : s)
    r += c == '\'' ? std::string{"'\\''"} : std::string(1, c);
  return r + "'";
}

int run_shell(const std::string& cmd, std::string& out) {
  out.clear();
  FILE* f = ::popen((cmd + " 2>&1").c_str(), "r");
  if (f == nullptr)
    return -1;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0)
    out.append(buf, n);
  int status = ::pclose(f);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

} // namespace mesoscaf::test
