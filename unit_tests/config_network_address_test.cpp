// Which address a node listens on, advertises, and has its executors dial (config/support/network_address.hpp), and how
// a reconnecting executor walks this host's addresses to find its restarted agent (agent_dialer).
#define CAF_SUITE config_network_address
#include "test.hpp"

#include "actors/sdk/executor_driver.hpp"
#include "config/support/network_address.hpp"

#include <algorithm>
#include <string>
#include <vector>

using namespace mesoscaf;

TEST(numeric addresses only) {
  for (auto good : {"127.0.0.1", "10.77.0.2", "0.0.0.0", "::1", "fd00::7", "::"})
    CHECK_EQUAL(check_ip_address(good), "");
  for (auto bad : {"", "localhost", "node1", "1.2.3", "10.0.0.1:80", "256.1.1.1", " 10.0.0.1"})
    CHECK_NOT_EQUAL(check_ip_address(bad), "");
}

TEST(wildcards and loopback) {
  for (auto w : {"", "0.0.0.0", "::"})
    CHECK(is_wildcard_ip(w));
  for (auto w : {"127.0.0.1", "10.0.0.1", "::1"})
    CHECK(!is_wildcard_ip(w));
  for (auto l : {"127.0.0.1", "127.1.2.3", "::1", "localhost"})
    CHECK(is_loopback_ip(l));
  for (auto l : {"10.0.0.1", "0.0.0.0", "128.0.0.1"})
    CHECK(!is_loopback_ip(l));
}

TEST(executors dial an address the agent listens on) {
  // Every interface or loopback: loopback reaches it.
  CHECK_EQUAL(executor_dial_host("0.0.0.0"), "127.0.0.1");
  CHECK_EQUAL(executor_dial_host(""), "127.0.0.1");
  CHECK_EQUAL(executor_dial_host("127.0.0.1"), "127.0.0.1");
  CHECK_EQUAL(executor_dial_host("127.0.0.5"), "127.0.0.1");
  CHECK_EQUAL(executor_dial_host("::"), "::1");
  // Bound to one address: only that address reaches it (loopback is refused there).
  CHECK_EQUAL(executor_dial_host("10.77.0.2"), "10.77.0.2");
  CHECK_EQUAL(executor_dial_host("fd00::7"), "fd00::7");
}

TEST(a node advertises its listen address unless that is a wildcard) {
  CHECK_EQUAL(default_advertise_ip("10.77.0.2"), "10.77.0.2");
  CHECK_EQUAL(default_advertise_ip("127.0.0.1"), "127.0.0.1");
  auto w = default_advertise_ip("0.0.0.0");
  CHECK(!is_wildcard_ip(w));
  CHECK_EQUAL(check_ip_address(w), "");
  auto first = first_interface_ipv4();
  CHECK_EQUAL(w, first.empty() ? std::string{"127.0.0.1"} : first);
  if (!first.empty())
    CHECK(!is_loopback_ip(first));
  auto all = local_interface_addresses();
  CHECK(std::find(all.begin(), all.end(), "127.0.0.1") != all.end());
}

TEST(host and port join with brackets for IPv6) {
  CHECK_EQUAL(join_host_port("10.0.0.1", 5050), "10.0.0.1:5050");
  CHECK_EQUAL(join_host_port("fd00::7", 5050), "[fd00::7]:5050");
  CHECK_EQUAL(join_host_port("[::1]", 1), "[::1]:1");
}

TEST(a reconnecting executor tries its endpoint first then every other address of the host) {
  std::vector<std::string> addresses{"127.0.0.1", "10.0.0.2"};
  int reads = 0;
  agent_dialer d{"10.0.0.2", [&] {
                   ++reads;
                   return addresses;
                 }};
  CHECK_EQUAL(d.next(), "10.0.0.2");
  CHECK_EQUAL(d.next(), "127.0.0.1");
  CHECK_EQUAL(reads, 1);
  // The host was renumbered meanwhile: the next round reads the addresses again.
  addresses = {"127.0.0.1", "10.0.0.9"};
  CHECK_EQUAL(d.next(), "10.0.0.2");
  CHECK_EQUAL(reads, 2);
  CHECK_EQUAL(d.next(), "127.0.0.1");
  CHECK_EQUAL(d.next(), "10.0.0.9");
  // Found there: from now on that address comes first.
  d.reached("10.0.0.9");
  CHECK_EQUAL(d.home(), "10.0.0.9");
  CHECK_EQUAL(d.next(), "10.0.0.9");
  CHECK_EQUAL(d.next(), "127.0.0.1");
}
