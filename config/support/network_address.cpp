#include "config/support/network_address.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <unistd.h>

#include <string>

namespace mesoscaf {

std::string check_ip_address(std::string_view ip) {
  std::string text{ip};
  in_addr v4{};
  in6_addr v6{};
  if (!text.empty() && (::inet_pton(AF_INET, text.c_str(), &v4) == 1 || ::inet_pton(AF_INET6, text.c_str(), &v6) == 1))
    return {};
  return "expected a numeric IPv4 or IPv6 address, got \"" + text + "\"";
}

bool is_wildcard_ip(std::string_view ip) {
  return ip.empty() || ip == "0.0.0.0" || ip == "::" || ip == "[::]";
}

bool is_loopback_ip(std::string_view ip) {
  if (ip == "localhost" || ip == "::1" || ip == "[::1]")
    return true;
  std::string text{ip};
  in_addr v4{};
  return ::inet_pton(AF_INET, text.c_str(), &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127;
}

std::string executor_dial_host(std::string_view listen_ip) {
  if (listen_ip == "::" || listen_ip == "[::]" || listen_ip == "::1" || listen_ip == "[::1]")
    return "::1";
  if (is_wildcard_ip(listen_ip) || is_loopback_ip(listen_ip))
    return "127.0.0.1";
  return std::string{listen_ip};
}

namespace {

/// IPv4 addresses of the interfaces that are up (loopback too if asked), in the kernel's order.
std::vector<std::string> interface_ipv4s(bool with_loopback) {
  std::vector<std::string> result;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0)
    return result;
  for (auto* i = list; i != nullptr; i = i->ifa_next) {
    if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET || (i->ifa_flags & IFF_UP) == 0)
      continue;
    if (!with_loopback && (i->ifa_flags & IFF_LOOPBACK) != 0)
      continue;
    char buf[INET_ADDRSTRLEN] = {};
    auto* sin = reinterpret_cast<sockaddr_in*>(i->ifa_addr);
    if (::inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof(buf)) != nullptr)
      result.emplace_back(buf);
  }
  ::freeifaddrs(list);
  return result;
}

} // namespace

std::string first_interface_ipv4() {
  auto all = interface_ipv4s(false);
  return all.empty() ? std::string{} : all.front();
}

std::vector<std::string> local_interface_addresses() {
  return interface_ipv4s(true);
}

std::string default_advertise_ip(std::string_view listen_ip) {
  if (!is_wildcard_ip(listen_ip))
    return std::string{listen_ip};
  auto ip = first_interface_ipv4();
  return ip.empty() ? "127.0.0.1" : ip;
}

std::string join_host_port(std::string_view host, unsigned port) {
  auto p = std::to_string(port);
  if (host.find(':') != std::string_view::npos && host.front() != '[')
    return "[" + std::string{host} + "]:" + p;
  return std::string{host} + ":" + p;
}

bool parse_host_port(std::string_view text, std::string& host, uint16_t& port, std::string* error) {
  auto fail = [&](std::string msg) {
    if (error)
      *error = std::move(msg);
    return false;
  };
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos)
    return fail("expected HOST:PORT, got \"" + std::string{text} + "\"");
  auto h = text.substr(0, colon);
  auto p = text.substr(colon + 1);
  if (h.empty())
    return fail("missing host in \"" + std::string{text} + "\"");
  if (h.find_first_of(" \t/@,") != std::string_view::npos)
    return fail("bad host in \"" + std::string{text} + "\"");
  if (p.empty() || p.size() > 5 || p.find_first_not_of("0123456789") != std::string_view::npos)
    return fail("bad port in \"" + std::string{text} + "\"");
  auto value = std::stoul(std::string{p});
  if (value < 1 || value > 65535)
    return fail("port out of range (1..65535) in \"" + std::string{text} + "\"");
  host = std::string{h};
  port = static_cast<uint16_t>(value);
  return true;
}

std::string local_hostname() {
  char buf[256] = {0};
  if (::gethostname(buf, sizeof(buf) - 1) != 0 || buf[0] == '\0')
    return "localhost";
  return buf;
}

} // namespace mesoscaf
