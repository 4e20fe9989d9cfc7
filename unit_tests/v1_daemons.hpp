#pragma once
// A master and an agent process on loopback with their HTTP ports, as the Mesos v1 API suites start them
// (include after test.hpp: it uses its REQUIRE). The temporary directory goes last, after the processes.
#include "child_process.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace mesoscaf::test {

struct v1_daemons {
  temp_dir dir;
  std::unique_ptr<child_process> master;
  std::unique_ptr<child_process> agent;
  std::string master_addr, master_http, agent_http;

  explicit v1_daemons(const std::string& prefix) : dir{prefix} {
  }

  /// Starts both and waits until the agent has registered.
  void start(const std::string& binary, const std::string& resources) {
    using namespace std::chrono;
    master = std::make_unique<child_process>(
      std::vector<std::string>{binary, "master", "--port=0", "--http-port=0", "--work-dir=" + dir / "master"},
      dir / "master.log");
    auto m = master->wait_for_line("master listening on (127\\.0\\.0\\.1:[0-9]+)", seconds(60));
    REQUIRE(m);
    master_addr = (*m)[1];
    auto mh = master->wait_for_line("master http listening on (127\\.0\\.0\\.1:[0-9]+)", seconds(60));
    REQUIRE(mh);
    master_http = (*mh)[1];
    agent = std::make_unique<child_process>(
      std::vector<std::string>{binary, "agent", "--master=" + master_addr, "--ip=127.0.0.1", "--port=0",
                               "--http-port=0", "--work-dir=" + dir / "agent", "--resources=" + resources},
      dir / "agent.log");
    auto ah = agent->wait_for_line("agent http listening on (127\\.0\\.0\\.1:[0-9]+)", seconds(60));
    REQUIRE(ah);
    agent_http = (*ah)[1];
    REQUIRE(agent->wait_for_line("agent registered with id", seconds(60)));
  }
};

} // namespace mesoscaf::test
