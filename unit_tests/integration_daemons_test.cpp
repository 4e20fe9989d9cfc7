// Integration: the daemons' own behaviour as separate processes: detected resources, clean SIGTERM shutdown.
#define CAF_SUITE integration_daemons
#include "test.hpp"

#include "child_process.hpp"

#include <chrono>
#include <csignal>
#include <string>
#include <thread>

using namespace mesoscaf::test;
using namespace std::chrono;

namespace {
const std::string bin = MESOSCAF_BINARY;
} // namespace

TEST(an agent without resources detects them and registers and both daemons stop cleanly on SIGTERM) {
  temp_dir dir{"mesoscaf-daemons"};
  child_process master{{bin, "master", "--port=0", "--work-dir=" + dir / "master"}, dir / "master.log"};
  auto m = master.wait_for_line("master listening on (127\\.0\\.0\\.1:[0-9]+)", seconds(60));
  REQUIRE(m);
  std::string addr = (*m)[1];
  child_process agent{{bin, "agent", "--master=" + addr, "--port=0", "--work-dir=" + dir / "agent"},
                      dir / "agent.log"};
  auto started = agent.wait_for_line("agent starting resources=(\\S+)", seconds(60));
  REQUIRE(started);
  std::string res = (*started)[1];
  MESSAGE("detected " << res);
  CHECK(res.find("cpus:") != std::string::npos);
  CHECK(res.find("mem:") != std::string::npos);
  CHECK(res.find("disk:") != std::string::npos);
  CHECK(res.find("ports:[31000-32000]") != std::string::npos);
  CHECK(agent.wait_for_line("agent registered with id", seconds(60)));
  agent.signal(SIGTERM);
  auto agent_code = agent.wait_exit(seconds(30));
  CHECK(agent_code && *agent_code == 0);
  CHECK(agent.output().find("agent stopped") != std::string::npos);
  master.signal(SIGTERM);
  auto master_code = master.wait_exit(seconds(30));
  CHECK(master_code && *master_code == 0);
  CHECK(master.output().find("master stopped") != std::string::npos);
}
