// Integration (issue 22): under load nothing is dropped. A real `mesoscaf local` cluster (2 agents) and hundreds of
// frameworks in this process (unit_tests/load_harness.hpp) subscribing and launching at once on these 2 cores:
// every task finishes exactly once (a launch that never reached an agent is reported and made again, so no
// command runs twice), none is lost, no framework is subscribed twice. MESOSCAF_LOAD_FRAMEWORKS overrides the
// number (default 500); `scripts/bench load` times 200, 500 and 1,000 (with frameworks stopping as they finish).
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
#include <string>

using namespace mesoscaf;
using namespace mesoscaf::test;
using namespace std::chrono;

TEST(hundreds of frameworks subscribing and launching at once each run their task exactly once) {
  int n = 500;
  if (const char* v = std::getenv("MESOSCAF_LOAD_FRAMEWORKS"); v != nullptr && std::atoi(v) > 0)
    n = std::atoi(v);
  temp_dir dir{"mesoscaf-load"};
  child_process cluster{{MESOSCAF_BINARY, "local", "--agents=2", "--port=0", "--work-dir=" + dir / "cluster",
                         "--resources=cpus:4;mem:4096;disk:1000"},
                        dir / "cluster.log"};
  auto m = cluster.wait_for_line("master listening on (127\\.0\\.0\\.1:[0-9]+)", seconds(60));
  if (!m)
    CAF_FAIL("the cluster did not start:\n" << cluster.output());
  threaded_config cfg{true};
  caf::actor_system sys{cfg};
  load_options o;
  o.frameworks = n;
  o.master = (*m)[1];
  o.limit = seconds(300);
  // Every framework stays until all have finished. With frameworks stopping as they finish (what `scripts/bench
  // load` does), executors of finished frameworks disconnect while new ones connect, and a few of the new ones
  // lose their route at the agent (their messages arrive without sender, answers to them vanish): a defect of its
  // own, open (see docs/ARCHITECTURE.md "The scheduler driver under load"); this test keeps to what it names.
  o.stop_when_done = false;
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
  cluster.signal(SIGTERM);
  CHECK(cluster.wait_exit(seconds(60)));
}
