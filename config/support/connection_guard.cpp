// How the guard sees the middleman's connections without changing CAF: the middleman accepts them with accept(2)
// through libc's PLT, and a program linking mesoscaf defines `accept` itself (config/support/connection_handles.cpp),
// which hands every accepted connection to `admit_accepted_connection`. Connections accepted on a guarded port are
// noted (descriptor and socket inode). A thread looks at them once a second: the kernel's TCP_INFO says how long
// ago each last received data; one silent past the timeout is shut down, and the middleman then sees it end and
// closes it as any other.
// Entries whose descriptor now names another socket (the middleman closed it, the number was reused) are dropped.
// Nothing runs per message.
#include "config/support/connection_guard.hpp"

#include "config/support/logging.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace mesoscaf {

namespace {

struct tracked {
  int fd;
  ino_t inode;
  uint16_t port;
};

struct guard_state {
  std::atomic<bool> any{false};   // a port is guarded: until then accept costs nothing more
  std::mutex mtx;
  connection_limits defaults;
  std::map<uint16_t, connection_limits> ports;
  std::vector<tracked> open;
  std::map<uint16_t, std::size_t> open_per_port;
  uint64_t refused = 0;   // counted for the log lines
  bool sweeping = false;
};

// Never destroyed: accept may run while the process exits.
guard_state& state() {
  static auto* s = new guard_state;
  return *s;
}

uint16_t local_port(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    return 0;
  if (addr.ss_family == AF_INET)
    return ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  if (addr.ss_family == AF_INET6)
    return ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
  return 0;
}

ino_t inode_of(int fd) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode) ? st.st_ino : 0;
}

void sweep() {
  auto& g = state();
  std::size_t closed = 0;
  {
    std::lock_guard<std::mutex> guard{g.mtx};
    std::vector<tracked> still;
    still.reserve(g.open.size());
    for (auto& t : g.open) {
      if (inode_of(t.fd) != t.inode) {
        --g.open_per_port[t.port];   // closed by its owner
        continue;
      }
      tcp_info info{};
      socklen_t len = sizeof info;
      auto& limits = g.ports[t.port];
      if (::getsockopt(t.fd, IPPROTO_TCP, TCP_INFO, &info, &len) == 0
          && info.tcpi_last_data_recv > static_cast<uint32_t>(limits.idle_timeout.count())) {
        ::shutdown(t.fd, SHUT_RDWR);   // its owner sees it end and closes it
        --g.open_per_port[t.port];
        ++closed;
        continue;
      }
      still.push_back(t);
    }
    g.open.swap(still);
  }
  if (closed > 0)
    LOG_WARN("connections", "closed " << closed << " connection(s) that sent nothing for the handshake timeout "
                                      << "(--handshake-timeout)");
}

} // namespace

void set_connection_limits(connection_limits limits) {
  auto& g = state();
  std::lock_guard<std::mutex> guard{g.mtx};
  g.defaults = limits;
}

connection_limits current_connection_limits() {
  auto& g = state();
  std::lock_guard<std::mutex> guard{g.mtx};
  return g.defaults;
}

void guard_connections(uint16_t port, connection_limits limits) {
  auto& g = state();
  std::lock_guard<std::mutex> guard{g.mtx};
  g.ports[port] = limits;
  g.any = true;
  if (g.sweeping)
    return;
  g.sweeping = true;
  std::thread{[] {
    for (;;) {
      std::this_thread::sleep_for(std::chrono::seconds(1));
      sweep();
    }
  }}.detach();
}

int admit_accepted_connection(int listener, int fd) {
  if (fd < 0)
    return fd;
  auto& g = state();
  if (!g.any.load(std::memory_order_relaxed))
    return fd;
  auto port = local_port(listener);
  bool refused = false;
  uint64_t refused_total = 0;
  std::size_t limit = 0;
  {
    std::lock_guard<std::mutex> guard{g.mtx};
    auto p = g.ports.find(port);
    if (p == g.ports.end())
      return fd;
    auto& n = g.open_per_port[port];
    if (n >= p->second.max_connections) {
      refused = true;
      refused_total = ++g.refused;
      limit = p->second.max_connections;
    } else {
      ++n;
      g.open.push_back({fd, inode_of(fd), port});
    }
  }
  if (!refused)
    return fd;
  ::close(fd);
  // One line for the first refusals, then one in a thousand: a flood must not flood the log.
  if (refused_total <= 10 || refused_total % 1000 == 0)
    LOG_WARN("connections", "refused a connection on port " << port << ": " << limit
                                                            << " are open (--max-connections); " << refused_total
                                                            << " refused so far");
  // The middleman takes this as "nothing to accept now" and keeps listening.
  errno = EAGAIN;
  return -1;
}

} // namespace mesoscaf
