#include "virtual_network.hpp"

#include "child_process.hpp"

#include <csignal>
#include <cstdio>
#include <sstream>
#include <stdexcept>
#include <string>

#include <sys/wait.h>
#include <unistd.h>

namespace mesoscaf::test {

namespace {

std::string quote(const std::string& s) {
  return shell_quote(s);
}

/// Exit status and output (stdout + stderr) of `argv`, each word quoted.
int run(const std::vector<std::string>& argv, std::string& out) {
  std::string cmd;
  for (auto& a : argv)
    cmd += (cmd.empty() ? "" : " ") + quote(a);
  return run_shell(cmd, out);
}

/// The absolute path of `program` ("" if not found): child_process execs without a PATH search.
std::string find_program(const std::string& program) {
  std::string out;
  if (run({"sh", "-c", "PATH=\"$PATH:/usr/sbin:/sbin\" command -v " + program}, out) != 0)
    return {};
  while (!out.empty() && (out.back() == '\n' || out.back() == ' '))
    out.pop_back();
  return out;
}

/// The process ID a harness name was made for (msn<PID>-<i>, msb<PID>), or 0.
long owner_pid(const std::string& name, const std::string& prefix) {
  if (name.rfind(prefix, 0) != 0)
    return 0;
  auto digits = name.substr(prefix.size());
  auto end = digits.find_first_not_of("0123456789");
  digits = digits.substr(0, end);
  return digits.empty() ? 0 : std::stol(digits);
}

/// Namespaces and bridges of earlier runs whose process is gone (it crashed or was killed before its destructor
/// ran): removed, with whatever still runs in them, so they do not pile up.
void remove_stale() {
  std::string out;
  if (run({"sh", "-c", "ip netns list | awk '{print $1}'"}, out) == 0) {
    std::istringstream names{out};
    for (std::string ns; names >> ns;)
      if (auto pid = owner_pid(ns, "msn"); pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0) {
        std::string ignored;
        run({"sh", "-c", "ip netns pids " + quote(ns) + " | xargs -r kill -9"}, ignored);
        run({"ip", "netns", "del", ns}, ignored);
      }
  }
  if (run({"sh", "-c", "ip -o link show type bridge | awk -F': ' '{print $2}'"}, out) == 0) {
    std::istringstream names{out};
    for (std::string br; names >> br;)
      if (auto pid = owner_pid(br, "msb"); pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0) {
        std::string ignored;
        run({"ip", "link", "del", br}, ignored);
      }
  }
}

} // namespace

void virtual_network::must(const std::vector<std::string>& argv) const {
  std::string out;
  if (run(argv, out) != 0) {
    std::string cmd;
    for (auto& a : argv)
      cmd += a + " ";
    throw std::runtime_error("virtual_network: `" + cmd + "` failed: " + out);
  }
}

virtual_network::virtual_network(int nodes) {
  if (::geteuid() != 0)
    throw std::runtime_error("virtual_network: the multi-node tests need root (network namespaces, veth, a "
                             "bridge); run them as root, as CI does");
  ip_ = find_program("ip");
  if (ip_.empty() || find_program("iptables").empty())
    throw std::runtime_error("virtual_network: `ip` (iproute2) and `iptables` are needed: scripts/setup installs "
                             "them");
  remove_stale();
  if (nodes < 1 || nodes > 200)
    throw std::invalid_argument("virtual_network: 1..200 nodes");
  auto tag = std::to_string(::getpid());
  // 10.200-249.x.0/24: well away from the usual 10.0/16 networks, one subnet per process.
  auto pid = static_cast<unsigned>(::getpid());
  prefix_ = "10." + std::to_string(200 + pid % 50) + "." + std::to_string((pid / 50) % 256) + ".";
  host_ip_ = prefix_ + "254";
  bridge_ = "msb" + tag;
  try {
    must({"ip", "link", "add", bridge_, "type", "bridge"});
    must({"ip", "addr", "add", host_ip_ + "/24", "dev", bridge_});
    must({"ip", "link", "set", bridge_, "up"});
    for (int i = 0; i < nodes; ++i) {
      auto n = std::to_string(i + 1);
      auto ns = "msn" + tag + "-" + n;
      auto host_side = "msv" + tag + "h" + n;
      auto node_side = "msv" + tag + "n" + n;
      must({"ip", "netns", "add", ns});
      namespaces_.push_back(ns);
      must({"ip", "link", "add", host_side, "type", "veth", "peer", "name", node_side});
      host_veths_.push_back(host_side);
      must({"ip", "link", "set", host_side, "master", bridge_});
      must({"ip", "link", "set", host_side, "up"});
      must({"ip", "link", "set", node_side, "netns", ns});
      must({"ip", "-n", ns, "link", "set", node_side, "name", "eth0"});
      ips_.push_back(prefix_ + n);
      must({"ip", "-n", ns, "addr", "add", ips_.back() + "/24", "dev", "eth0"});
      must({"ip", "-n", ns, "link", "set", "eth0", "up"});
      must({"ip", "-n", ns, "link", "set", "lo", "up"});
    }
  } catch (...) {
    this->~virtual_network();
    throw;
  }
}

virtual_network::~virtual_network() {
  std::string out;
  for (auto& ns : namespaces_) {
    // Daemons, executors and tasks started in the namespace: nothing may outlive it.
    run({"sh", "-c", "ip netns pids " + quote(ns) + " | xargs -r kill -9"}, out);
    run({"ip", "netns", "del", ns}, out);
  }
  namespaces_.clear();
  for (auto& v : host_veths_)
    run({"ip", "link", "del", v}, out);  // gone with its namespace already, as a rule
  host_veths_.clear();
  if (!bridge_.empty())
    run({"ip", "link", "del", bridge_}, out);
  bridge_.clear();
}

std::vector<std::string> virtual_network::in_node(int i, std::vector<std::string> argv) const {
  std::vector<std::string> result{ip_, "netns", "exec", namespace_name(i)};
  result.insert(result.end(), argv.begin(), argv.end());
  return result;
}

void virtual_network::cut(int i) {
  must({"ip", "link", "set", host_veths_.at(static_cast<size_t>(i)), "down"});
}

void virtual_network::heal(int i) {
  must({"ip", "link", "set", host_veths_.at(static_cast<size_t>(i)), "up"});
}

void virtual_network::drop_outgoing(int i, const std::string& peer_ip, int port) {
  std::vector<std::string> argv{"ip", "netns", "exec", namespace_name(i), "iptables", "-A", "OUTPUT", "-d", peer_ip};
  if (port > 0)
    argv.insert(argv.end(), {"-p", "tcp", "--dport", std::to_string(port)});
  argv.insert(argv.end(), {"-j", "DROP"});
  must(argv);
}

void virtual_network::drop_incoming(int i, const std::string& peer_ip, int port) {
  std::vector<std::string> argv{"ip", "netns", "exec", namespace_name(i), "iptables", "-A", "INPUT", "-s", peer_ip};
  if (port > 0)
    argv.insert(argv.end(), {"-p", "tcp", "--sport", std::to_string(port)});
  argv.insert(argv.end(), {"-j", "DROP"});
  must(argv);
}

void virtual_network::clear_drops(int i) {
  must({"ip", "netns", "exec", namespace_name(i), "iptables", "-F", "INPUT"});
  must({"ip", "netns", "exec", namespace_name(i), "iptables", "-F", "OUTPUT"});
}

void virtual_network::readdress(int i, int host_octet) {
  auto& ns = namespace_name(i);
  auto next = subnet_ip(host_octet);
  // Old one first: deleting a primary address also deletes the secondaries of its subnet.
  must({"ip", "-n", ns, "addr", "del", ip(i) + "/24", "dev", "eth0"});
  must({"ip", "-n", ns, "addr", "add", next + "/24", "dev", "eth0"});
  ips_.at(static_cast<size_t>(i)) = next;
}

std::string virtual_network::subnet_ip(int host_octet) const {
  return prefix_ + std::to_string(host_octet);
}

} // namespace mesoscaf::test
