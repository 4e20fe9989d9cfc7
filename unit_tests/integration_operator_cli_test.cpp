// Integration: the operator CLI (`mesoscaf state`, `tasks`, `task log`, `quota`, `weights`, `framework`) as a
// process: help, exit codes for bad arguments and for an unreachable master.
#define CAF_SUITE integration_operator_cli
#include "test.hpp"

#include "child_process.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <string>
#include <vector>

using namespace mesoscaf::test;
using namespace std::chrono;

namespace {

const std::string bin = MESOSCAF_BINARY;

/// Runs `mesoscaf ARGS`, both streams in `out`.
int run_cli(std::vector<std::string> args, std::string& out) {
  temp_dir dir{"mesoscaf-cli"};
  args.insert(args.begin(), bin);
  auto r = run_to_completion(args, dir / "out.log", seconds(60));
  out = r.output;
  return r.exit_code;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

/// A local port nobody listens on (bound once, then released).
uint16_t closed_port() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor a{io, {boost::asio::ip::make_address("127.0.0.1"), 0}};
  return a.local_endpoint().port();
}

} // namespace

TEST(every operator command has help) {
  std::vector<std::pair<std::string, std::string>> usages{
    {"state", "usage: mesoscaf state [--FLAG"},
    {"agents", "usage: mesoscaf agents [--FLAG"},
    {"frameworks", "usage: mesoscaf frameworks [--FLAG"},
    {"tasks", "usage: mesoscaf tasks [--FLAG"},
    {"task", "usage: mesoscaf task log TASK_ID [--FLAG"},
    {"quota", "usage: mesoscaf quota get | set ROLE RESOURCES | remove ROLE [--FLAG"},
    {"weights", "usage: mesoscaf weights get | set ROLE=W [ROLE=W ...] [--FLAG"},
    {"framework", "usage: mesoscaf framework teardown FRAMEWORK_ID [--FLAG"}};
  for (const auto& [cmd, usage] : usages) {
    std::string out;
    CHECK_EQUAL(run_cli({cmd, "--help"}, out), 0);
    CHECK(contains(out, usage));
    CHECK(contains(out, "--master=<string>"));
    CHECK(contains(out, "127.0.0.1:5040"));
    CHECK(contains(out, "--json"));
  }
  std::string out;
  CHECK_EQUAL(run_cli({"task", "--help"}, out), 0);
  CHECK(contains(out, "--follow"));
  CHECK(contains(out, "--stderr"));
  CHECK_EQUAL(run_cli({"tasks", "--help"}, out), 0);
  CHECK(contains(out, "--all"));
  CHECK_EQUAL(run_cli({"--help"}, out), 0);
  CHECK(contains(out, "task log TASK_ID"));
}

TEST(bad arguments exit 2 before connecting) {
  std::string out;
  CHECK_EQUAL(run_cli({"quota", "set", "eng", "cpus:abc"}, out), 2);
  MESSAGE(out);
  CHECK(contains(out, "mesoscaf quota: error: RESOURCES \"cpus:abc\""));
  CHECK_EQUAL(run_cli({"weights", "set", "eng=-1"}, out), 2);
  CHECK(contains(out, "mesoscaf weights: error:"));
  CHECK_EQUAL(run_cli({"task", "log"}, out), 2);
  CHECK(contains(out, "expected log TASK_ID"));
  CHECK_EQUAL(run_cli({"tasks", "--al"}, out), 2);
  CHECK(contains(out, "did you mean --all?"));
  CHECK_EQUAL(run_cli({"agents", "--master=nohost"}, out), 2);
}

TEST(an unreachable master exits 1 naming it) {
  auto addr = "127.0.0.1:" + std::to_string(closed_port());
  for (std::vector<std::string> args : {std::vector<std::string>{"state"}, {"tasks", "--all"}, {"weights", "get"},
                                        {"task", "log", "t1"}, {"framework", "teardown", "fw"}}) {
    args.push_back("--master=" + addr);
    std::string out;
    CHECK_EQUAL(run_cli(args, out), 1);
    MESSAGE(out);
    CHECK(contains(out, "master unreachable: cannot connect to " + addr));
  }
}
