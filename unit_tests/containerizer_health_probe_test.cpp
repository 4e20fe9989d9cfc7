#define CAF_SUITE containerizer_health_probe
#include "test.hpp"

#include "child_process.hpp"

#include "actors/http/http_server.hpp"
#include "containerizer/health_probe.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

using namespace mesoscaf;
using namespace std::chrono;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// A TCP socket listening on 127.0.0.1 that never accepts: the kernel completes connections, nobody answers.
struct silent_listener {
  int fd = -1;
  uint16_t port = 0;

  silent_listener() {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE_EQUAL(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
    REQUIRE_EQUAL(::listen(fd, 16), 0);
    socklen_t len = sizeof sa;
    REQUIRE_EQUAL(::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len), 0);
    port = ntohs(sa.sin_port);
  }
  ~silent_listener() {
    ::close(fd);
  }
};

/// A port nothing listens on: bound once to learn a free one, then closed.
uint16_t closed_port() {
  silent_listener l;
  return l.port;
}

std::unique_ptr<http::server> start_server(http::server_options opts = {}) {
  opts.address = "127.0.0.1";
  opts.handler_threads = 2;
  auto srv = std::make_unique<http::server>(opts);
  srv->route("GET", "/ok", [](const http::request&) { return http::response::text("fine"); });
  srv->route("GET", "/sick", [](const http::request&) { return http::response::text("down", 503); });
  srv->route("GET", "/moved", [](const http::request&) {
    auto r = http::response::text("elsewhere", 302);
    r.headers.emplace_back("Location", "/sick");
    return r;
  });
  srv->route("GET", "/large", [](const http::request&) { return http::response::text(std::string(1 << 20, 'x')); });
  REQUIRE_EQUAL(srv->start(), "");
  return srv;
}

} // namespace

TEST(tcp probe succeeds on a listening port and fails on a closed one) {
  silent_listener l;
  auto r = probe_tcp(l.port, seconds(5));
  CHECK(r.ok);
  CHECK_EQUAL(r.message, "");
  r = probe_tcp(closed_port(), seconds(5));
  CHECK(!r.ok);
  CHECK_EQUAL(r.message, "connection refused");
}

TEST(http probe is healthy for 2xx and 3xx and names any other status) {
  auto srv = start_server();
  auto r = probe_http("http", srv->port(), "/ok", seconds(5));
  CHECK(r.ok);
  r = probe_http("http", srv->port(), "/sick", seconds(5));
  CHECK(!r.ok);
  CHECK_EQUAL(r.message, "HTTP status 503");
  // The redirect is not followed (it leads to /sick).
  CHECK(probe_http("http", srv->port(), "/moved", seconds(5)).ok);
  CHECK_EQUAL(probe_http("http", srv->port(), "/nothing", seconds(5)).message, "HTTP status 404");
  // A large healthy page is not read to its end.
  CHECK(probe_http("http", srv->port(), "/large", seconds(5)).ok);
}

TEST(http probe fails on a closed port and times out on a server that never answers) {
  auto r = probe_http("http", closed_port(), "/", seconds(5));
  CHECK(!r.ok);
  CHECK_EQUAL(r.message, "connection refused");
  silent_listener l;
  auto start = steady_clock::now();
  r = probe_http("http", l.port, "/ok", milliseconds(300));
  CHECK(!r.ok);
  CHECK_EQUAL(r.message, "timed out after 300ms");
  CHECK(steady_clock::now() - start < seconds(10));
  r = probe_http("http", l.port, "/ok", seconds(1));
  CHECK_EQUAL(r.message, "timed out after 1s");
}

TEST(http probe refuses schemes other than http and https) {
  auto r = probe_http("ftp", 21, "/", seconds(1));
  CHECK(!r.ok);
  CHECK(contains(r.message, "scheme"));
}

TEST(https probe does not verify the certificate) {
  mesoscaf::test::temp_dir dir{"mesoscaf-probe"};
  std::string out;
  auto cmd = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=probe"
             " -keyout "
             + mesoscaf::test::shell_quote(dir / "key.pem") + " -out " + mesoscaf::test::shell_quote(dir / "cert.pem");
  REQUIRE_EQUAL(mesoscaf::test::run_shell(cmd, out), 0);
  http::server_options opts;
  opts.tls_cert = dir / "cert.pem";
  opts.tls_key = dir / "key.pem";
  opts.tls_ca = dir / "cert.pem"; // the server asks for client certificates of some CA; self-signed is its own
  auto srv = start_server(opts);
  auto r = probe_http("https", srv->port(), "/ok", seconds(5));
  CHECK_EQUAL(r.message, "");
  CHECK(r.ok);
  CHECK_EQUAL(probe_http("https", srv->port(), "/sick", seconds(5)).message, "HTTP status 503");
}

TEST(probes run concurrently from many threads) {
  auto srv = start_server(); // its port serves the TCP probes too: it accepts, a silent listener's queue fills
  std::atomic<int> healthy{0};
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&, i] {
      for (int j = 0; j < 10; ++j) {
        bool ok = i % 2 == 0 ? probe_http("http", srv->port(), "/ok", seconds(10)).ok
                             : probe_tcp(srv->port(), seconds(10)).ok;
        ++(ok ? healthy : wrong);
      }
    });
  for (auto& t : threads)
    t.join();
  CHECK_EQUAL(healthy.load(), 80);
  CHECK_EQUAL(wrong.load(), 0);
}
