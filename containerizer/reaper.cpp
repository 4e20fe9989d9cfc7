#include "containerizer/reaper.hpp"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace mesoscaf {

namespace {

int open_pidfd(pid_t pid) {
#ifdef SYS_pidfd_open
  // The fd is close-on-exec by default (pidfds always are).
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
#else
  errno = ENOSYS;
  return -1;
#endif
}

// True if the pidfd reports its process ended (readable). A pidfd never blocks this check.
bool pidfd_exited(int fd) {
  pollfd p{};
  p.fd = fd;
  p.events = POLLIN;
  int r;
  do {
    r = ::poll(&p, 1, 0);
  } while (r < 0 && errno == EINTR);
  return r > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR)) != 0;
}

// True if `pid` is a child of this process not reaped yet (running or a zombie).
bool unreaped_child(pid_t pid) {
  siginfo_t info{};
  int r;
  do {
    r = ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT);
  } while (r < 0 && errno == EINTR);
  return r == 0;
}

uint64_t read_start_time(pid_t pid, bool ended_too);

// How often pids without a pidfd (pidfd_open failed, e.g. out of fds) are polled with waitpid(WNOHANG).
constexpr int fallback_poll_ms = 20;

} // namespace

struct process_reaper::impl {
  struct entry {
    int pidfd = -1;  // -1: polled with waitpid (or, if foreign, by its start time) instead
    exit_callback on_exit;
    bool foreign = false;     // not our child: never waited for, its end is seen through the pidfd
    uint64_t start_time = 0;  // foreign only: process_start_time when adopted
  };

  // True while a watched foreign process still is the one adopted. The caller holds `mtx`.
  static bool foreign_alive(const entry& e, pid_t pid) {
    if (e.pidfd >= 0 && pidfd_exited(e.pidfd))
      return false;
    // Also covers the polled fallback: a different start time means the pid now names another process.
    return process_start_time(pid) == e.start_time;
  }

  mutable std::mutex mtx;
  std::unordered_map<pid_t, entry> entries;  // watched and not yet reaped
  size_t polled = 0;                         // entries without a pidfd
  int epfd = -1;
  int evfd = -1;
  std::atomic<bool> stopping{false};
  std::thread thread;
  std::once_flag stop_once;

  ~impl() {
    for (auto& [pid, e] : entries)
      if (e.pidfd >= 0)
        ::close(e.pidfd);
    if (epfd >= 0)
      ::close(epfd);
    if (evfd >= 0)
      ::close(evfd);
  }

  // Reaps `pid` if it ended; the caller holds `mtx`. Returns true and fills `out` if the entry is done.
  bool try_reap_locked(pid_t pid, int& status, exit_callback& out) {
    auto i = entries.find(pid);
    if (i == entries.end())
      return false;
    if (i->second.foreign) {
      // Not ours to reap (its parent does that); its exit status is unknown to us.
      if (foreign_alive(i->second, pid))
        return false;
      status = -1;
    } else {
      int st = 0;
      pid_t r;
      do {
        r = ::waitpid(pid, &st, WNOHANG);
      } while (r < 0 && errno == EINTR);
      if (r == 0)
        return false;  // still running
      status = r == pid ? st : -1;  // -1: not waitable (ECHILD: reaped elsewhere)
    }
    if (i->second.pidfd >= 0) {
      ::epoll_ctl(epfd, EPOLL_CTL_DEL, i->second.pidfd, nullptr);
      ::close(i->second.pidfd);
    } else {
      --polled;
    }
    out = std::move(i->second.on_exit);
    entries.erase(i);
    return true;
  }

  void run() {
    std::vector<epoll_event> events(64);
    std::vector<std::pair<exit_callback, int>> done;
    while (!stopping.load()) {
      int timeout;
      {
        std::lock_guard<std::mutex> guard{mtx};
        timeout = polled > 0 ? fallback_poll_ms : -1;
      }
      int n = ::epoll_wait(epfd, events.data(), static_cast<int>(events.size()), timeout);
      if (n < 0 && errno != EINTR)
        break;  // cannot happen with valid fds; leave rather than spin
      if (stopping.load())
        break;
      done.clear();
      {
        std::lock_guard<std::mutex> guard{mtx};
        for (int k = 0; k < n; ++k) {
          auto pid = static_cast<pid_t>(events[k].data.u64);
          if (pid == 0) {  // the eventfd: drain it; the loop re-reads `polled` and `stopping`
            uint64_t value;
            [[maybe_unused]] auto rd = ::read(evfd, &value, sizeof(value));
            continue;
          }
          int st;
          exit_callback cb;
          if (try_reap_locked(pid, st, cb))
            done.emplace_back(std::move(cb), st);
        }
        if (polled > 0) {
          std::vector<pid_t> candidates;
          for (auto& [pid, e] : entries)
            if (e.pidfd < 0)
              candidates.push_back(pid);
          for (auto pid : candidates) {
            int st;
            exit_callback cb;
            if (try_reap_locked(pid, st, cb))
              done.emplace_back(std::move(cb), st);
          }
        }
      }
      // Callbacks run without the lock, so they may call watch() or signal_group().
      for (auto& [cb, st] : done)
        if (cb)
          cb(st);
    }
  }

  void wake() {
    uint64_t one = 1;
    [[maybe_unused]] auto wr = ::write(evfd, &one, sizeof(one));
  }
};

process_reaper::process_reaper() : impl_(std::make_shared<impl>()) {
  impl_->epfd = ::epoll_create1(EPOLL_CLOEXEC);
  impl_->evfd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (impl_->epfd < 0 || impl_->evfd < 0) {
    impl_->stopping = true;  // watch() refuses everything; no thread
    return;
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = 0;
  ::epoll_ctl(impl_->epfd, EPOLL_CTL_ADD, impl_->evfd, &ev);
  // The thread keeps the impl alive, so stop() from inside a callback can detach safely.
  auto self = impl_;
  impl_->thread = std::thread([self] { self->run(); });
}

process_reaper::~process_reaper() {
  stop();
}

bool process_reaper::watch(pid_t pid, exit_callback on_exit) {
  if (pid <= 0 || impl_->stopping.load())
    return false;
  std::lock_guard<std::mutex> guard{impl_->mtx};
  if (impl_->entries.count(pid) > 0)
    return false;
  impl::entry e;
  e.on_exit = std::move(on_exit);
  e.pidfd = open_pidfd(pid);
  if (e.pidfd < 0) {
    if (errno == ESRCH)
      return false;  // no such process (already reaped)
    // ENOSYS / EMFILE / ENFILE: fall back to polling this pid.
    ++impl_->polled;
    impl_->entries.emplace(pid, std::move(e));
    impl_->wake();  // the thread may be blocked without a timeout
    return true;
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = static_cast<uint64_t>(pid);
  int fd = e.pidfd;
  impl_->entries.emplace(pid, std::move(e));
  if (::epoll_ctl(impl_->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
    ::close(fd);
    impl_->entries[pid].pidfd = -1;
    ++impl_->polled;
    impl_->wake();
  }
  return true;
}

bool process_reaper::watch_foreign(pid_t pid, uint64_t start_time, exit_callback on_exit) {
  if (pid <= 0 || start_time == 0 || impl_->stopping.load())
    return false;
  std::lock_guard<std::mutex> guard{impl_->mtx};
  if (impl_->entries.count(pid) > 0)
    return false;
  impl::entry e;
  e.on_exit = std::move(on_exit);
  e.foreign = true;
  e.start_time = start_time;
  // The pidfd first, the start time check second: if the check passes, the pidfd is known to refer to the
  // adopted process (the pid cannot have been reused while it was alive at the check).
  e.pidfd = open_pidfd(pid);
  if (e.pidfd < 0 && errno == ESRCH)
    return false;
  if (!impl::foreign_alive(e, pid)) {
    if (e.pidfd >= 0)
      ::close(e.pidfd);
    return false;
  }
  if (e.pidfd >= 0) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = static_cast<uint64_t>(pid);
    if (::epoll_ctl(impl_->epfd, EPOLL_CTL_ADD, e.pidfd, &ev) != 0) {
      ::close(e.pidfd);
      e.pidfd = -1;
    }
  }
  if (e.pidfd < 0) {
    // No pidfd (old kernel, out of fds): poll its start time.
    ++impl_->polled;
    impl_->entries.emplace(pid, std::move(e));
    impl_->wake();
    return true;
  }
  impl_->entries.emplace(pid, std::move(e));
  return true;
}

bool process_reaper::adopt(pid_t pid, uint64_t start_time, exit_callback on_exit) {
  if (pid <= 0 || start_time == 0)
    return false;
  // Reaped here, with its real status (a foreign watch would leave a zombie behind).
  if (unreaped_child(pid))
    return read_start_time(pid, true) == start_time && watch(pid, std::move(on_exit));
  return watch_foreign(pid, start_time, std::move(on_exit));
}

bool process_reaper::signal_group(pid_t pid, int sig) {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  auto i = impl_->entries.find(pid);
  if (i == impl_->entries.end())
    return false;
  // A foreign process is reaped by someone else at any time: signal only while it is still the adopted one.
  if (i->second.foreign && !impl::foreign_alive(i->second, pid))
    return false;
  // Not reaped yet (we hold the lock the reaper reaps under), so pid and its group ID cannot be reused.
  if (::kill(-pid, sig) == 0)
    return true;
  return ::kill(pid, sig) == 0;
}

bool process_reaper::watching(pid_t pid) const {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  return impl_->entries.count(pid) > 0;
}

size_t process_reaper::size() const {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  return impl_->entries.size();
}

void process_reaper::stop() {
  auto& d = *impl_;
  std::call_once(d.stop_once, [&d] {
    d.stopping = true;
    if (d.evfd >= 0)
      d.wake();
    if (d.thread.joinable()) {
      if (d.thread.get_id() == std::this_thread::get_id())
        d.thread.detach();
      else
        d.thread.join();
    }
  });
}

uint64_t process_start_time(pid_t pid) {
  return read_start_time(pid, false);
}

namespace {

uint64_t read_start_time(pid_t pid, bool ended_too) {
  if (pid <= 0)
    return 0;
  auto path = "/proc/" + std::to_string(pid) + "/stat";
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 0;
  // One read: the kernel produces the whole line at once (it is far shorter than the buffer).
  char buf[4096];
  ssize_t n;
  do {
    n = ::read(fd, buf, sizeof(buf) - 1);
  } while (n < 0 && errno == EINTR);
  ::close(fd);
  if (n <= 0)
    return 0;
  std::string line{buf, static_cast<size_t>(n)};
  // Field 2 is the command name in parentheses and may itself hold spaces and ')': the fields after it start
  // after the LAST ')'.
  auto close = line.rfind(')');
  if (close == std::string::npos)
    return 0;
  // Fields from 3 (state) on, separated by single spaces.
  std::vector<std::string> fields;
  size_t pos = close + 1;
  while (pos < line.size()) {
    while (pos < line.size() && line[pos] == ' ')
      ++pos;
    auto end = line.find_first_of(" \n", pos);
    if (end == std::string::npos)
      end = line.size();
    if (end > pos)
      fields.emplace_back(line.substr(pos, end - pos));
    if (end < line.size() && line[end] == '\n')
      break;
    pos = end;
  }
  // fields[0] is field 3 (state), so field 22 (starttime) is fields[19].
  if (fields.size() < 20 || fields[0].empty())
    return 0;
  // A zombie (or dead) process has ended: it is not the running process anyone wants to adopt or signal (only a
  // child about to be reaped is identified as it ends).
  if (!ended_too && (fields[0][0] == 'Z' || fields[0][0] == 'X' || fields[0][0] == 'x'))
    return 0;
  errno = 0;
  char* end = nullptr;
  auto value = std::strtoull(fields[19].c_str(), &end, 10);
  if (errno != 0 || end == fields[19].c_str() || *end != '\0')
    return 0;
  return static_cast<uint64_t>(value);
}

} // namespace

} // namespace mesoscaf
