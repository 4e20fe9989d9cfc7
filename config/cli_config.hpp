#pragma once
// Flags and operands of the operator CLI (`mesoscaf state`, `tasks`, `task log`, `quota`, `weights`, ...), which
// talks to the master's HTTP API (docs/HTTP.md). Same sources and checks as the daemons (config/daemon_config.hpp);
// the config file section of every CLI command is [cli]. The commands themselves: apps/mesoscaf/cli_main.cpp.
#include "config/daemon_config.hpp"
#include "messages/resources.hpp"

#include <optional>

namespace mesoscaf {

/// What every CLI command takes: where the master is, the output form, how long to wait.
class cli_config : public base_config {
public:
  /// `command` as typed ("tasks", "quota"); `operands_usage` for --help ("get | set ROLE RESOURCES"; empty: the
  /// command takes no operands).
  explicit cli_config(std::string command, std::string operands_usage = {});
  std::vector<std::string> validate() override;

  std::string master = "127.0.0.1:5040";
  bool json = false;
  caf::timespan timeout = std::chrono::seconds(10);   // per HTTP request; also to learn the leader from ZooKeeper
  std::string credentials;   // file as the master's --credentials: its first entry authenticates the requests

  // Filled by validate() from `credentials`: empty if none.
  std::string principal;
  std::string secret;

  // Filled by validate(): host:port of a master's HTTP port, or the ZooKeeper URL of the masters' election.
  std::string master_host;
  uint16_t master_port = 0;
  bool master_is_zk = false;
  zookeeper_url parsed_master_zk;
};

/// `mesoscaf tasks [--all]`
class tasks_config : public cli_config {
public:
  tasks_config();
  bool all = false;
};

/// `mesoscaf task log TASK_ID [--stderr] [--follow]`
class task_log_config : public cli_config {
public:
  task_log_config();
  std::vector<std::string> validate() override;
  bool stderr_file = false;   // --stderr
  bool follow = false;
  caf::timespan poll_interval = std::chrono::milliseconds(500);

  std::string task;           // filled by validate()
};

/// `mesoscaf quota get | set ROLE RESOURCES | remove ROLE`
class quota_config : public cli_config {
public:
  quota_config();
  std::vector<std::string> validate() override;

  // Filled by validate():
  std::string action;         // get | set | remove
  std::string role;
  resource_set guarantee;     // set: scalars only
};

/// `mesoscaf weights get | set ROLE=W [ROLE=W ...]`
class weights_config : public cli_config {
public:
  weights_config();
  std::vector<std::string> validate() override;

  std::string action;         // get | set
  std::vector<std::pair<std::string, double>> weights;
};

/// `mesoscaf framework teardown ID`
class framework_cli_config : public cli_config {
public:
  framework_cli_config();
  std::vector<std::string> validate() override;

  std::string framework;      // filled by validate()
};

} // namespace mesoscaf
