#pragma once
// Which address a node listens on, which one it advertises, and which one its executors dial. Pure functions
// (plus one read of the host's interfaces); docs/ARCHITECTURE.md "Addresses" says who advertises what and why.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mesoscaf {

/// "" if `ip` is a numeric IPv4 or IPv6 address, else why not (flags such as --advertise-ip take only those).
std::string check_ip_address(std::string_view ip);

/// Listening on every interface: "0.0.0.0", "::" or "" (CAF's own wildcard).
bool is_wildcard_ip(std::string_view ip);

/// 127.0.0.0/8, ::1 or "localhost".
bool is_loopback_ip(std::string_view ip);

/// The host an agent's executors (processes on the agent's own host) dial to reach an agent listening on
/// `listen_ip`: loopback when it listens on every interface or on loopback, else `listen_ip` itself (an agent
/// bound to one address accepts nothing on loopback).
std::string executor_dial_host(std::string_view listen_ip);

/// What a node advertises when no --advertise-ip is given: `listen_ip` unless it is a wildcard; for a wildcard,
/// the first non-loopback IPv4 address of an interface that is up (`first_interface_ipv4`), or 127.0.0.1 if the
/// host has none.
std::string default_advertise_ip(std::string_view listen_ip);

/// The first IPv4 address of an interface that is up and not loopback, in the kernel's order; "" if none.
std::string first_interface_ipv4();

/// Every IPv4 address of this host's interfaces that are up, loopback included, in the kernel's order.
std::vector<std::string> local_interface_addresses();

/// "host:port", with IPv6 hosts in brackets.
std::string join_host_port(std::string_view host, unsigned port);

/// Parses "host:port" (the host is not resolved; a port of 1-65535). On failure says why in `error` if given.
bool parse_host_port(std::string_view text, std::string& host, uint16_t& port, std::string* error = nullptr);

/// This machine's hostname (gethostname), "localhost" if it has none.
std::string local_hostname();

} // namespace mesoscaf
