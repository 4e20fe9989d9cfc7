#include "process_scan.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <thread>

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

namespace mesoscaf::test {

std::string read_proc(pid_t pid, const char* name) {
  // read(2), not a stream: a process that exits while its /proc file is read makes read fail (ESRCH), which
  // std::istreambuf_iterator turns into an exception that ended a test run.
  std::string s;
  auto path = "/proc/" + std::to_string(pid) + "/" + name;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return s;
  char buf[4096];
  for (;;) {
    auto n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    s.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  std::replace(s.begin(), s.end(), '\0', ' ');
  return s;
}

char proc_state(pid_t pid) {
  auto stat = read_proc(pid, "stat");
  auto close = stat.rfind(')');
  if (close == std::string::npos || close + 2 >= stat.size())
    return 0;
  return stat[close + 2];
}

bool alive(pid_t pid) {
  auto s = proc_state(pid);
  return pid > 0 && s != 0 && s != 'Z' && s != 'X';
}

std::vector<pid_t> all_pids() {
  std::vector<pid_t> result;
  if (auto dir = ::opendir("/proc")) {
    while (auto e = ::readdir(dir)) {
      pid_t pid = std::atoi(e->d_name);
      if (pid > 0)
        result.push_back(pid);
    }
    ::closedir(dir);
  }
  return result;
}

std::vector<pid_t> processes_mentioning(const std::string& needle, const std::set<pid_t>& exclude) {
  std::vector<pid_t> result;
  for (auto pid : all_pids()) {
    if (pid == ::getpid() || exclude.count(pid) > 0 || !alive(pid))
      continue;
    if (read_proc(pid, "cmdline").find(needle) != std::string::npos
        || read_proc(pid, "environ").find(needle) != std::string::npos)
      result.push_back(pid);
  }
  return result;
}

std::string describe(const std::vector<pid_t>& pids) {
  std::string result;
  for (auto pid : pids)
    result += std::to_string(pid) + ": " + read_proc(pid, "cmdline") + "; ";
  return result;
}

bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds limit,
                std::chrono::milliseconds step) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    if (pred())
      return true;
    if (std::chrono::steady_clock::now() >= deadline)
      return false;
    std::this_thread::sleep_for(step);
  }
}

std::string terminal_problem(const std::vector<task_status>& history) {
  std::vector<const task_status*> terminal;   // updates of the task's stream (and master decisions)
  std::vector<const task_status*> answers;    // reconciliation answers (no uuid: nothing to acknowledge)
  for (auto& s : history)
    if (is_terminal(s.state))
      (s.reason == task_reason::reconciliation && s.source == status_source::master ? answers : terminal)
        .push_back(&s);
  if (terminal.empty() && answers.empty())
    return "no terminal state";
  const auto* first = terminal.empty() ? answers[0] : terminal[0];
  for (auto* s : terminal)
    if (s->state != first->state || s->uuid != first->uuid || (terminal.size() > 1 && s->uuid.empty()))
      return std::string{"two different terminal updates: "} + to_string(first->state) + " " + first->uuid
             + " and " + to_string(s->state) + " " + s->uuid;
  // Answers may repeat the end (an end not yet acknowledged is answered as such), never name another.
  for (auto* s : answers)
    if (s->state != first->state)
      return std::string{"two different terminal states: "} + to_string(first->state) + " and "
             + to_string(s->state) + " (reconciliation)";
  return "";
}

} // namespace mesoscaf::test
