// Accepted connections get fresh descriptor numbers (config/support/connection_handles.hpp): CAF 0.17.6 names connections
// by descriptor and cleans a closed one up late, so a number handed out again at once lets that late clean-up
// tear down the new peer's route. Real sockets on loopback.
#define CAF_SUITE config_connection_handles
#include "test.hpp"

#include "config/support/connection_handles.hpp"

#include <cerrno>
#include <set>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace mesoscaf;

namespace {

struct loopback_listener {
  int fd = -1;
  sockaddr_in addr{};

  loopback_listener() {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    REQUIRE_EQUAL(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    socklen_t len = sizeof(addr);
    REQUIRE_EQUAL(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    REQUIRE_EQUAL(::listen(fd, 16), 0);
  }
  ~loopback_listener() { ::close(fd); }

  int dial() {
    int c = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(c >= 0);
    REQUIRE_EQUAL(::connect(c, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    return c;
  }

  // Through libc's symbol, as CAF's doorman calls it.
  int take() { return ::accept(fd, nullptr, nullptr); }
};

} // namespace

TEST(the number of a closed connection is not handed to the next accepted one) {
  use_fresh_connection_handles();
  auto [first, last] = connection_handle_window();
  REQUIRE(first < last);
  loopback_listener listener;
  std::vector<int> numbers;
  // Connect, accept, close, again: the kernel alone would give the same (lowest free) number every time.
  for (int i = 0; i < 20; ++i) {
    int client = listener.dial();
    int accepted = listener.take();
    REQUIRE(accepted >= 0);
    numbers.push_back(accepted);
    ::close(accepted);
    ::close(client);
  }
  std::set<int> distinct(numbers.begin(), numbers.end());
  CHECK_EQUAL(distinct.size(), numbers.size());
  for (int n : numbers) {
    CHECK_GREATER_OR_EQUAL(n, first);
    CHECK_LESS(n, last);
  }
}

TEST(a moved connection carries data both ways and is not inherited by started programs) {
  use_fresh_connection_handles();
  loopback_listener listener;
  int client = listener.dial();
  int accepted = listener.take();
  REQUIRE(accepted >= 0);
  CHECK_NOT_EQUAL(::fcntl(accepted, F_GETFD) & FD_CLOEXEC, 0);
  std::string ping = "ping";
  REQUIRE_EQUAL(::write(client, ping.data(), ping.size()), static_cast<ssize_t>(ping.size()));
  char buf[8] = {};
  CHECK_EQUAL(::read(accepted, buf, sizeof(buf)), 4);
  CHECK_EQUAL(std::string(buf, 4), "ping");
  REQUIRE_EQUAL(::write(accepted, "pong", 4), 4);
  CHECK_EQUAL(::read(client, buf, sizeof(buf)), 4);
  CHECK_EQUAL(std::string(buf, 4), "pong");
  ::close(accepted);
  ::close(client);
}

TEST(the open file limit is raised to what the system allows) {
  rlimit lim{};
  REQUIRE_EQUAL(::getrlimit(RLIMIT_NOFILE, &lim), 0);
  // Start from a low soft limit (as a fresh shell has), so that the raise is what this test sees.
  rlimit low = lim;
  low.rlim_cur = lim.rlim_max < 512 ? lim.rlim_max : 512;
  REQUIRE_EQUAL(::setrlimit(RLIMIT_NOFILE, &low), 0);
  use_fresh_connection_handles();
  REQUIRE_EQUAL(::getrlimit(RLIMIT_NOFILE, &lim), 0);
  rlim_t cap = rlim_t{1} << 20;
  CHECK_EQUAL(lim.rlim_cur, lim.rlim_max < cap ? lim.rlim_max : cap);
}

TEST(a failed accept reports its error unchanged) {
  use_fresh_connection_handles();
  int not_a_socket = ::open("/dev/null", O_RDONLY);
  REQUIRE(not_a_socket >= 0);
  errno = 0;
  int res = ::accept(not_a_socket, nullptr, nullptr);
  int err = errno;   // read before any check can touch errno
  CHECK_EQUAL(res, -1);
  CHECK_EQUAL(err, ENOTSOCK);
  ::close(not_a_socket);
}
