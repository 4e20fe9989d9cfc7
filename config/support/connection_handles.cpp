#include "config/support/connection_handles.hpp"

#include "config/support/connection_guard.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {

std::atomic<int> window_first{0};
std::atomic<int> window_last{0};   // exclusive; 0 while disabled
std::atomic<unsigned> next_slot{0};

// The socket moved to the next free descriptor at or after the rotating hint (the kernel searches upwards), or
// left where it is if the table has no room there.
int move_to_fresh_number(int fd) {
  int first = window_first.load(std::memory_order_relaxed);
  int last = window_last.load(std::memory_order_relaxed);
  if (last <= first || fd < 0)
    return fd;
  int hint = first + static_cast<int>(next_slot.fetch_add(1, std::memory_order_relaxed) %
                                      static_cast<unsigned>(last - first));
  int saved = errno;
  int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, hint);
  if (moved < 0) {
    errno = saved;
    return fd;
  }
  ::close(fd);
  errno = saved;
  return moved;
}

} // namespace

// Interposes libc's accept for the whole process: libcaf_io's doorman resolves `accept` to this definition (the
// executable exports it because a shared library it links refers to it). accept4 with no flags is accept.
// Connections on a guarded port are then counted and watched (config/support/connection_guard.hpp).
extern "C" int accept(int fd, sockaddr* __restrict addr, socklen_t* __restrict len) {
  return mesoscaf::admit_accepted_connection(fd, move_to_fresh_number(::accept4(fd, addr, len, 0)));
}

namespace mesoscaf {

void use_fresh_connection_handles() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0) {
    rlim_t want = std::min<rlim_t>(lim.rlim_max, rlim_t{1} << 20);
    if (lim.rlim_cur < want) {
      rlimit raised = lim;
      raised.rlim_cur = want;
      if (::setrlimit(RLIMIT_NOFILE, &raised) == 0)
        lim = raised;
    }
  }
  // The window sits above the descriptors a process opens at start-up and stays well inside the limit, so the
  // rest of the table remains for files, pipes and outgoing connections.
  long limit = static_cast<long>(std::min<rlim_t>(lim.rlim_cur, 1 << 20));
  int last = static_cast<int>(std::min<long>(limit - limit / 8, 16384));
  int first = std::min(256, last / 4);
  if (last - first < 64)
    return;   // too few descriptors to rotate through; keep the kernel's choice
  window_first.store(first, std::memory_order_relaxed);
  window_last.store(last, std::memory_order_relaxed);
}

std::pair<int, int> connection_handle_window() {
  return {window_first.load(std::memory_order_relaxed), window_last.load(std::memory_order_relaxed)};
}

} // namespace mesoscaf
