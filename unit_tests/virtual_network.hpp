#pragma once
// Nodes on their own addresses for the multi-node tests: one network namespace per node, each with a veth pair
// into a bridge on this host, as machines on one switch. The test process itself stays in the host namespace and
// reaches the nodes (and they it) through the bridge address. Partitions are real: a node's link taken down
// (both directions), or iptables drops in one node's namespace (one direction). Needs root, `ip` (iproute2) and
// `iptables`; construction throws a clear std::runtime_error when any is missing, so a test fails, never skips.
#include <string>
#include <vector>

namespace mesoscaf::test {

class virtual_network {
public:
  /// Creates the bridge (this host at <subnet>.254/24) and `nodes` namespaces, node i (0-based) at
  /// <subnet>.(i+1) with loopback up. The subnet and names derive from this process's ID, so concurrent runs
  /// do not collide.
  explicit virtual_network(int nodes);
  /// Kills every process left in the namespaces, then removes them and the bridge.
  ~virtual_network();

  virtual_network(const virtual_network&) = delete;
  virtual_network& operator=(const virtual_network&) = delete;

  int size() const { return static_cast<int>(namespaces_.size()); }
  /// This host's address on the bridge (where the nodes reach the test and a ZooKeeper it runs).
  const std::string& host_ip() const { return host_ip_; }
  /// Node i's current address.
  const std::string& ip(int i) const { return ips_.at(static_cast<size_t>(i)); }
  const std::string& namespace_name(int i) const { return namespaces_.at(static_cast<size_t>(i)); }
  /// `argv` run inside node i's namespace (`ip netns exec NS ...` execs it: same pid).
  std::vector<std::string> in_node(int i, std::vector<std::string> argv) const;

  /// Takes node i's link to the bridge down: nothing crosses in either direction until heal(i).
  void cut(int i);
  void heal(int i);
  /// Node i drops every packet it would send to `peer_ip` (its own namespace's OUTPUT chain): a one-way cut.
  /// With `port` > 0 only TCP to that port (e.g. ZooKeeper's, leaving other traffic to that peer alone).
  void drop_outgoing(int i, const std::string& peer_ip, int port = 0);
  /// Node i drops every packet from `peer_ip` (INPUT chain); with `port` > 0 only TCP from that source port.
  void drop_incoming(int i, const std::string& peer_ip, int port = 0);
  /// Removes every drop rule of node i.
  void clear_drops(int i);
  /// Gives node i a new address (<subnet>.host_octet) in place of its current one.
  void readdress(int i, int host_octet);
  /// An address in the nodes' subnet.
  std::string subnet_ip(int host_octet) const;

private:
  /// Runs a command (argv, no shell); throws with its output if it fails.
  void must(const std::vector<std::string>& argv) const;

  std::string ip_;           // absolute path of iproute2's `ip`
  std::string prefix_;       // "10.A.B."
  std::string host_ip_;
  std::string bridge_;
  std::vector<std::string> namespaces_;
  std::vector<std::string> host_veths_;
  std::vector<std::string> ips_;
};

} // namespace mesoscaf::test
