// bench=trust: what the defences against hostile peers cost, each against the same work without it, measured in
// the same run.
//  - size check: the BASP broker checks every message header with caf::io::basp::valid. This process, like every
//    program linking mesoscaf, answers that call with ours (actors/message_size_limit.cpp); CAF's own is found
//    with RTLD_NEXT. valid_ns / caf_valid_ns: ns per call; both called on the same headers.
//  - round trip: a request and its answer between two actor systems over the middleman on loopback (each message
//    checked once on arrival): rtt_us, and size_check_share = the check's extra cost per round trip over rtt.
//  - TLS: the same round trip between two actor systems on mutual TLS (CAF's openssl module, actors/tls.hpp),
//    in rounds alternating with the plaintext pair: rtt_tls_us, tls_rtt_ratio.
//  - accept: connections accepted on a port the connection guard watches (config/support/connection_guard.hpp)
//    against a port it does not watch, both through this process's accept (accept_guarded_us, accept_plain_us),
//    and libc's accept4 called directly as the floor (accept_libc_us).
// Usage: bench_trust [--calls=N] [--round-trips=N] [--connections=N]
// Output: bench=trust valid_ns=... caf_valid_ns=... valid_ratio=... rtt_us=... size_check_share=... ...
#include "actors/interfaces.hpp"
#include "actors/message_size_limit.hpp"
#include "actors/process_defaults.hpp"
#include "actors/tls.hpp"
#include "config/support/certificates.hpp"
#include "config/support/connection_guard.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/basp/header.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

using namespace std::chrono;

namespace {

using check_fn = bool (*)(const caf::io::basp::header&);

/// ns per call of `check` over `headers`, repeated to `calls` calls.
double ns_per_call(check_fn check, const std::vector<caf::io::basp::header>& headers, long calls) {
  volatile long accepted = 0;
  auto t0 = steady_clock::now();
  for (long i = 0; i < calls; ++i)
    accepted = accepted + (check(headers[static_cast<size_t>(i) % headers.size()]) ? 1 : 0);
  return duration<double, std::nano>(steady_clock::now() - t0).count() / static_cast<double>(calls);
}

using echo_actor = caf::typed_actor<caf::replies_to<int32_t>::with<int32_t>>;

echo_actor::behavior_type echo() {
  return {[](int32_t x) { return x + 1; }};
}

struct bench_config : caf::actor_system_config {
  bench_config() {
    mesoscaf::set_process_defaults(*this, 1);
  }
};

int listen_on_loopback(uint16_t& port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 128) != 0)
    return -1;
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  port = ntohs(addr.sin_port);
  return fd;
}

/// Microseconds per connection: connect, accept (through this process's accept, or libc's accept4 directly for
/// the floor), close both.
double us_per_accept(int listener, uint16_t port, int n, bool libc = false) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  auto t0 = steady_clock::now();
  for (int i = 0; i < n; ++i) {
    int c = ::socket(AF_INET, SOCK_STREAM, 0);
    if (::connect(c, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      std::perror("connect");
      std::exit(1);
    }
    int s = libc ? ::accept4(listener, nullptr, nullptr, 0) : ::accept(listener, nullptr, nullptr);
    if (s < 0) {
      std::perror("accept");
      std::exit(1);
    }
    ::close(s);
    ::close(c);
  }
  return duration<double, std::micro>(steady_clock::now() - t0).count() / n;
}

} // namespace

int main(int argc, char** argv) {
  long calls = 20000000;
  int round_trips = 20000;
  int connections = 2000;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--calls=", 0) == 0)
      calls = std::stol(a.substr(8));
    else if (a.rfind("--round-trips=", 0) == 0)
      round_trips = std::stoi(a.substr(14));
    else if (a.rfind("--connections=", 0) == 0)
      connections = std::stoi(a.substr(14));
    else {
      std::cerr << "usage: bench_trust [--calls=N] [--round-trips=N] [--connections=N]\n";
      return 2;
    }
  }
  // Size check: the headers a busy connection carries (messages of a few hundred bytes, heartbeats).
  auto cafs = reinterpret_cast<check_fn>(dlsym(RTLD_NEXT, "_ZN3caf2io4basp5validERKNS1_6headerE"));
  if (cafs == nullptr) {
    std::cerr << "bench_trust: CAF's own header check not found\n";
    return 1;
  }
  using caf::io::basp::message_type;
  std::vector<caf::io::basp::header> headers{{message_type::direct_message, 0, 312, 0, 7, 9},
                                             {message_type::direct_message, 0, 4096, 0, 7, 11},
                                             {message_type::heartbeat, 0, 0, 0, 0, 0},
                                             {message_type::routed_message, 0, 180, 0, 0, 9}};
  check_fn ours = &caf::io::basp::valid;
  // Warm both, then alternate to share the machine's state fairly.
  ns_per_call(ours, headers, calls / 10);
  ns_per_call(cafs, headers, calls / 10);
  double ours_ns = 0, cafs_ns = 0;
  for (int round = 0; round < 3; ++round) {
    ours_ns += ns_per_call(ours, headers, calls / 3);
    cafs_ns += ns_per_call(cafs, headers, calls / 3);
  }
  ours_ns /= 3;
  cafs_ns /= 3;
  // Round trips between two actor systems over loopback.
  bench_config server_cfg, client_cfg;
  caf::actor_system server{server_cfg}, client{client_cfg};
  auto target = server.spawn(echo);
  auto port = server.middleman().publish(target, 0, "127.0.0.1");
  if (!port) {
    std::cerr << "bench_trust: cannot publish\n";
    return 1;
  }
  auto remote = client.middleman().remote_actor<echo_actor>("127.0.0.1", *port);
  if (!remote) {
    std::cerr << "bench_trust: cannot connect\n";
    return 1;
  }
  caf::scoped_actor self{client};
  auto ask = [&](int n) {
    auto t0 = steady_clock::now();
    for (int i = 0; i < n; ++i)
      self->request(*remote, seconds(10), int32_t{i}).receive([](int32_t) {}, [](const caf::error&) {
        std::cerr << "bench_trust: round trip failed\n";
        std::exit(1);
      });
    return duration<double, std::micro>(steady_clock::now() - t0).count() / n;
  };
  // The same round trip between two actor systems on mutual TLS (certificates made here, as `mesoscaf certs`
  // does), measured in alternating rounds with the plaintext one.
  char tmpl[] = "/tmp/mesoscaf-bench-trust-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  std::string certs = tmpl;
  for (auto err : {mesoscaf::create_ca(certs, "bench CA", 1),
                   mesoscaf::create_certificate(certs, certs + "/ca.pem", certs + "/ca-key.pem", {"server", "", {}, 1}),
                   mesoscaf::create_certificate(certs, certs + "/ca.pem", certs + "/ca-key.pem", {"client", "", {}, 1})})
    if (!err.empty()) {
      std::cerr << "bench_trust: " << err << "\n";
      return 1;
    }
  bench_config tls_server_cfg, tls_client_cfg;
  mesoscaf::use_tls(tls_server_cfg, {certs + "/server.pem", certs + "/server-key.pem", certs + "/ca.pem"});
  mesoscaf::use_tls(tls_client_cfg, {certs + "/client.pem", certs + "/client-key.pem", certs + "/ca.pem"});
  caf::actor_system tls_server{tls_server_cfg}, tls_client{tls_client_cfg};
  auto tls_target = tls_server.spawn(echo);
  auto tls_port = mesoscaf::publish_actor(tls_server, tls_target, 0, "127.0.0.1", true);
  if (!tls_port) {
    std::cerr << "bench_trust: cannot publish over TLS: " << tls_server.render(tls_port.error()) << "\n";
    return 1;
  }
  auto tls_remote = mesoscaf::connect_actor<echo_actor>(tls_client, "127.0.0.1", *tls_port);
  if (!tls_remote) {
    std::cerr << "bench_trust: cannot connect over TLS: " << tls_client.render(tls_remote.error()) << "\n";
    return 1;
  }
  caf::scoped_actor tls_self{tls_client};
  auto ask_tls = [&](int n) {
    auto t0 = steady_clock::now();
    for (int i = 0; i < n; ++i)
      tls_self->request(*tls_remote, seconds(10), int32_t{i}).receive([](int32_t) {}, [](const caf::error&) {
        std::cerr << "bench_trust: TLS round trip failed\n";
        std::exit(1);
      });
    return duration<double, std::micro>(steady_clock::now() - t0).count() / n;
  };
  ask(round_trips / 10);
  ask_tls(round_trips / 10);
  double rtt_us = 0, rtt_tls_us = 0;
  for (int round = 0; round < 3; ++round) {
    rtt_us += ask(round_trips / 3);
    rtt_tls_us += ask_tls(round_trips / 3);
  }
  rtt_us /= 3;
  rtt_tls_us /= 3;
  std::printf("bench=trust rtt_plain_us=%.1f rtt_tls_us=%.1f tls_rtt_ratio=%.2f\n", rtt_us, rtt_tls_us,
              rtt_tls_us / rtt_us);
  std::error_code ec;
  std::filesystem::remove_all(certs, ec);
  // Each round trip is two messages, each checked once where it arrives.
  double share = 2 * (ours_ns - cafs_ns) / 1000.0 / rtt_us;
  // Accept: a guarded port against a plain one.
  uint16_t guarded_port = 0, plain_port = 0;
  int guarded = listen_on_loopback(guarded_port);
  int plain = listen_on_loopback(plain_port);
  if (guarded < 0 || plain < 0) {
    std::cerr << "bench_trust: cannot listen\n";
    return 1;
  }
  mesoscaf::guard_connections(guarded_port, {std::chrono::seconds(5), static_cast<size_t>(connections) * 2});
  us_per_accept(plain, plain_port, connections / 10);
  us_per_accept(guarded, guarded_port, connections / 10);
  double plain_us = 0, guarded_us = 0, floor_us = 0;
  for (int round = 0; round < 3; ++round) {
    floor_us += us_per_accept(plain, plain_port, connections / 3, true);
    plain_us += us_per_accept(plain, plain_port, connections / 3);
    guarded_us += us_per_accept(guarded, guarded_port, connections / 3);
  }
  floor_us /= 3;
  plain_us /= 3;
  guarded_us /= 3;
  std::printf("bench=trust valid_ns=%.2f caf_valid_ns=%.2f valid_ratio=%.2f rtt_us=%.1f size_check_share=%.5f "
              "accept_guarded_us=%.1f accept_plain_us=%.1f accept_libc_us=%.1f accept_ratio=%.2f accept_floor_ratio=%.2f "
              "max_message_size=%u\n",
              ours_ns, cafs_ns, ours_ns / cafs_ns, rtt_us, share, guarded_us, plain_us, floor_us,
              guarded_us / plain_us, guarded_us / floor_us, mesoscaf::max_message_size());
  ::close(guarded);
  ::close(plain);
  caf::anon_send_exit(target, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(tls_target, caf::exit_reason::user_shutdown);
  return 0;
}
