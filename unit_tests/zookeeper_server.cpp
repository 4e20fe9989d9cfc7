#include "zookeeper_server.hpp"

#include "child_process.hpp"

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <regex>
#include <stdexcept>

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace mesoscaf::test {

namespace {

/// scripts/zookeeper of this source tree (MESOSCAF_ZK_SCRIPT overrides).
std::string script_path() {
  if (auto env = std::getenv("MESOSCAF_ZK_SCRIPT"); env && *env)
    return env;
  return (std::filesystem::path{__FILE__}.parent_path().parent_path() / "scripts" / "zookeeper").string();
}

bool port_free(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

/// A base port whose client, quorum and election ports (scripts/zookeeper's scheme) are all free now.
int pick_base_port(int nodes) {
  std::random_device rd;
  std::mt19937 gen{rd()};
  std::uniform_int_distribution<int> dist{20000, 39000};
  for (int attempt = 0; attempt < 50; ++attempt) {
    int base = dist(gen);
    bool ok = true;
    for (int i = 0; i < nodes && ok; ++i)
      ok = port_free(base + i) && port_free(base + 100 + i) && port_free(base + 200 + i);
    if (ok)
      return base;
  }
  throw std::runtime_error("zookeeper_server: no free port range found");
}

int run(const std::string& cmd, std::string& out) {
  return run_shell(cmd, out);
}

std::string quote(const std::string& s) {
  return shell_quote(s);
}

} // namespace

zookeeper_server::zookeeper_server(int nodes, std::filesystem::path dir, std::string address)
  : nodes_(nodes), dir_(std::move(dir)), address_(std::move(address)) {
  if (nodes < 1 || nodes > 9)
    throw std::invalid_argument("zookeeper_server: nodes must be 1..9");
  std::string out;
  if (run("command -v java", out) != 0)
    throw std::runtime_error("zookeeper_server: `java` not found: install Debian's zookeeperd "
                             "(scripts/setup does) to run the ZooKeeper tests");
  if (!std::filesystem::exists("/usr/share/java/zookeeper.jar"))
    throw std::runtime_error("zookeeper_server: /usr/share/java/zookeeper.jar not found: install Debian's "
                             "zookeeperd (scripts/setup does) to run the ZooKeeper tests");
  if (dir_.empty()) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "mesoscaf-zk-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr)
      throw std::runtime_error(std::string{"zookeeper_server: mkdtemp: "} + std::strerror(errno));
    dir_ = tmpl;
    own_dir_ = true;
  }
  std::filesystem::create_directories(dir_);
  // Another test may grab our ports between the check and the bind: one more try on a new range.
  for (int attempt = 0;; ++attempt) {
    base_port_ = pick_base_port(nodes_);
    try {
      start();
      return;
    } catch (const std::exception&) {
      if (attempt >= 1) {
        stop();
        if (own_dir_) {
          std::error_code ec;
          std::filesystem::remove_all(dir_, ec);
        }
        throw;
      }
    }
  }
}

zookeeper_server::~zookeeper_server() {
  for (auto pid : pids_) {
    ::kill(pid, SIGCONT);
    ::kill(pid, SIGKILL);
  }
  pids_.clear();
  if (own_dir_) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

void zookeeper_server::start() {
  std::string out;
  auto cmd = "bash " + quote(script_path()) + " start --nodes=" + std::to_string(nodes_) + " --dir="
             + quote(dir_.string()) + " --base-port=" + std::to_string(base_port_) + " --address=" + quote(address_);
  int rc = run(cmd, out);
  std::smatch m;
  static const std::regex line{"zookeeper servers=(\\S+) pids=(\\S+)"};
  if (rc != 0 || !std::regex_search(out, m, line))
    throw std::runtime_error("zookeeper_server: `" + cmd + "` failed (exit " + std::to_string(rc) + "): " + out);
  servers_ = m[1];
  pids_.clear();
  std::string pids = m[2];
  size_t pos = 0;
  while (pos < pids.size()) {
    auto comma = pids.find(',', pos);
    pids_.push_back(std::stoi(pids.substr(pos, comma - pos)));
    if (comma == std::string::npos)
      break;
    pos = comma + 1;
  }
}

void zookeeper_server::freeze(std::size_t i) {
  if (i < pids_.size())
    ::kill(pids_[i], SIGSTOP);
}

void zookeeper_server::thaw(std::size_t i) {
  if (i < pids_.size())
    ::kill(pids_[i], SIGCONT);
}

void zookeeper_server::stop() {
  std::string out;
  run("bash " + quote(script_path()) + " stop --dir=" + quote(dir_.string()), out);
  pids_.clear();
}

void zookeeper_server::restart() {
  stop();
  start();
}

} // namespace mesoscaf::test
