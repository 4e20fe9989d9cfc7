#pragma once
// A real ZooKeeper ensemble on loopback for tests, started through scripts/zookeeper (Debian's zookeeperd, Java's
// QuorumPeerMain). Construction FAILS loudly (throws) if Java or zookeeperd is missing: tests never skip silently.
#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace mesoscaf::test {

class zookeeper_server {
public:
  /// Starts `nodes` servers (1 or 3) and waits until each serves. Their files go to `dir` (a fresh temporary
  /// directory, removed by the destructor, if empty). Ports: a free range picked at random. Throws
  /// std::runtime_error with the script's output on failure. Clients reach the servers at `address` (an address
  /// of this host: loopback, or the bridge of network namespaces).
  explicit zookeeper_server(int nodes = 1, std::filesystem::path dir = {}, std::string address = "127.0.0.1");
  /// Kills every server (SIGKILL, after SIGCONT); removes the temporary directory if this object made it.
  ~zookeeper_server();

  zookeeper_server(const zookeeper_server&) = delete;
  zookeeper_server& operator=(const zookeeper_server&) = delete;

  /// "ADDRESS:P1,ADDRESS:P2,..." as the C client and zk:// URLs take it.
  const std::string& servers() const { return servers_; }
  /// "zk://<servers><path>".
  std::string url(const std::string& path = "/mesoscaf") const { return "zk://" + servers_ + path; }
  /// Server process IDs, by node (0-based); empty after stop().
  const std::vector<int>& pids() const { return pids_; }
  const std::filesystem::path& dir() const { return dir_; }
  std::size_t size() const { return static_cast<std::size_t>(nodes_); }

  /// SIGSTOP / SIGCONT node `i` (0-based): a frozen server keeps its connections open but answers nothing.
  void freeze(std::size_t i);
  void thaw(std::size_t i);
  /// Stops every server (scripts/zookeeper stop); data stays for restart().
  void stop();
  /// Starts the servers again on the same ports with the same data. Throws std::runtime_error on failure.
  void restart();

private:
  void start();

  int nodes_;
  int base_port_ = 0;
  std::filesystem::path dir_;
  std::string address_;
  bool own_dir_ = false;
  std::string servers_;
  std::vector<int> pids_;
};

} // namespace mesoscaf::test
