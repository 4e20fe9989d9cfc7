// Integration (issue 22): under load nothing is dropped. A real `mesoscaf local` cluster (2 agents) and hundreds of
// frameworks in this process (unit_tests/load_harness.hpp) subscribing and launching at once on these 2 cores:
// every task finishes exactly once (a launch that never reached an agent is reported and made again, so no
// command runs twice), none is lost, no framework is subscribed twice. MESOSCAF_LOAD_FRAMEWORKS overrides the
// number (default 500); `scripts/bench load` times 200, 500 and 1,000. Then the same with real `mesoscaf execute`
// processes, each a framework of its own that connects to the master and leaves when its task ended
// (MESOSCAF_LOAD_EXECUTES, default 200).
#define CAF_SUITE integration_load
#include "test.hpp"

#include "child_process.hpp"
#include "load_harness.hpp"
#include "test_helpers.hpp"

#include <caf/actor_system.hpp>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

using namespace mesoscaf;
using namespace mesoscaf::test;
using namespace std::chrono;

namespace {

int count_from_env(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && std::atoi(v) > 0 ? std::atoi(v) : fallback;
}

// `mesoscaf local` with two agents, its log in `dir`.
struct load_cluster {
  child_process proc;
  std::string master;   // host:port

  explicit load_cluster(const temp_dir& dir)
    : proc{{MESOSCAF_BINARY, "local", "--agents=2", "--port=0", "--work-dir=" + dir / "cluster",
            "--resources=cpus:4;mem:4096;disk:1000"},
           dir / "cluster.log"} {
    auto m = proc.wait_for_line("master listening on (127\\.0\\.0\\.1:[0-9]+)", seconds(60));
    if (!m)
      CAF_FAIL("the cluster did not start:\n" << proc.output());
    master = (*m)[1];
  }
};

} // namespace

TEST(hundreds of frameworks subscribing and launching at once each run their task exactly once) {
  int n = count_from_env("MESOSCAF_LOAD_FRAMEWORKS", 500);
  temp_dir dir{"mesoscaf-load"};
  load_cluster cluster{dir};
  threaded_config cfg{true};
  caf::actor_system sys{cfg};
  load_options o;
  o.frameworks = n;
  o.master = cluster.master;
  o.limit = seconds(300);
  // Each framework stops as soon as its task ended, as `mesoscaf execute` exits: executors of finished frameworks
  // disconnect from the agents while new ones connect (config/support/connection_handles.hpp is why none loses its route).
  o.stop_when_done = true;
  auto r = run_load(sys, o);
  MESSAGE(n << " frameworks: " << r.finished << " finished, " << r.failures() << " failed, " << r.subscribed_twice
            << " subscribed twice, " << r.relaunched << " relaunched, " << r.seconds << " s; subscribe p50 "
            << percentile(r.subscribe_ms, 50) << " ms, p99 " << percentile(r.subscribe_ms, 99) << " ms, max "
            << percentile(r.subscribe_ms, 100) << " ms");
  for (size_t i = 0; i < r.problems.size() && i < 10; ++i)
    MESSAGE("  " << r.problems[i]);
  if (r.failures() > 0) {
    // The cluster's log and work dir (sandboxes with the executors' output) for a look after the test.
    std::error_code ec;
    std::filesystem::copy(dir.path(), dir.path() + "-kept", std::filesystem::copy_options::recursive, ec);
    MESSAGE("cluster log and work dir kept in " << dir.path() << "-kept");
  }
  CHECK_EQUAL(r.failures(), 0);
  CHECK_EQUAL(r.subscribed_twice, 0);
  CHECK_EQUAL(r.finished, n);
  cluster.proc.signal(SIGTERM);
  CHECK(cluster.proc.wait_exit(seconds(60)));
}

TEST(hundreds of execute commands started at once each run their command exactly once) {
  int n = count_from_env("MESOSCAF_LOAD_EXECUTES", 200);
  temp_dir dir{"mesoscaf-load-exec"};
  load_cluster cluster{dir};
  const std::string& master = cluster.master;
  std::filesystem::create_directories(dir / "runs");
  // Each command appends a line to its own file: a command that ran twice shows two, one that never ran none.
  std::vector<std::unique_ptr<child_process>> executes;
  for (int i = 0; i < n; ++i) {
    auto id = std::to_string(i);
    executes.push_back(std::make_unique<child_process>(
      std::vector<std::string>{MESOSCAF_BINARY, "execute", "--master=" + master, "--name=load-" + id,
                               "--command=echo ran >> " + dir / "runs" + "/" + id,
                               "--resources=cpus:0.5;mem:16"},
      dir / ("execute-" + id + ".log")));
  }
  int exited_ok = 0;
  int ran_once = 0;
  std::vector<std::string> problems;
  auto deadline = steady_clock::now() + seconds(300);
  for (int i = 0; i < n; ++i) {
    auto left = duration_cast<milliseconds>(deadline - steady_clock::now());
    auto code = executes[i]->wait_exit(std::max(left, milliseconds(1000)));
    std::ifstream runs{dir / "runs" + "/" + std::to_string(i)};
    int lines = 0;
    for (std::string line; std::getline(runs, line);)
      ++lines;
    if (code && *code == 0)
      ++exited_ok;
    if (lines == 1)
      ++ran_once;
    if (!code || *code != 0 || lines != 1) {
      auto out = executes[i]->output();
      problems.push_back("execute " + std::to_string(i) + ": exit " + (code ? std::to_string(*code) : "none") +
                         ", ran " + std::to_string(lines) + " times; last output: " +
                         out.substr(out.size() > 600 ? out.size() - 600 : 0));
    }
  }
  MESSAGE(n << " execute commands: " << exited_ok << " exited 0, " << ran_once << " ran exactly once");
  for (size_t i = 0; i < problems.size() && i < 10; ++i)
    MESSAGE("  " << problems[i]);
  if (!problems.empty()) {
    std::error_code ec;
    std::filesystem::copy(dir.path(), dir.path() + "-kept", std::filesystem::copy_options::recursive, ec);
    MESSAGE("cluster log, execute logs and work dir kept in " << dir.path() << "-kept");
  }
  CHECK_EQUAL(exited_ok, n);
  CHECK_EQUAL(ran_once, n);
  cluster.proc.signal(SIGTERM);
  CHECK(cluster.proc.wait_exit(seconds(60)));
}
