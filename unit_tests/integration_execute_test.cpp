// Integration: real processes on loopback. A master and two agents run as separate `mesoscaf` processes;
// `mesoscaf execute` is the framework. Bounded waits throughout (these start real daemons).
#define CAF_SUITE integration_execute
#include "test.hpp"

#include "child_process.hpp"

#include <chrono>
#include <csignal>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace mesoscaf::test;
using namespace std::chrono;

namespace {

const std::string bin = MESOSCAF_BINARY;

struct cluster_fixture {
  temp_dir dir{"mesoscaf-it"};
  std::unique_ptr<child_process> master;
  std::vector<std::unique_ptr<child_process>> agents;
  std::vector<std::string> agent_ids;
  std::vector<bool> killed{false, false};  // agents a test killed on purpose
  std::string master_addr;

  cluster_fixture() {
    master = std::make_unique<child_process>(
      std::vector<std::string>{bin, "master", "--port=0", "--work-dir=" + dir / "master",
                               // A dead agent is unreachable after about a second, not 75 s.
                               "--agent-ping-timeout=500ms", "--max-agent-ping-timeouts=2"},
      dir / "master.log");
    auto m = master->wait_for_line("master listening on (127\\.0\\.0\\.1:[0-9]+)", seconds(60));
    REQUIRE(m);
    master_addr = (*m)[1];
    for (int i = 0; i < 2; ++i) {
      auto name = "agent" + std::to_string(i);
      agents.push_back(std::make_unique<child_process>(
        std::vector<std::string>{bin, "agent", "--master=" + master_addr, "--port=0", "--work-dir=" + dir / name,
                                 "--resources=cpus:2;mem:1024;disk:1000;ports:[31000-31100]"},
        dir / (name + ".log")));
    }
    for (auto& a : agents) {
      auto r = a->wait_for_line("agent registered with id ([-0-9a-f]+)", seconds(60));
      if (!r)
        MESSAGE("agent output:\n" << a->output());
      REQUIRE(r);
      agent_ids.push_back((*r)[1]);
    }
  }

  ~cluster_fixture() {
    for (auto& a : agents)
      a->signal(SIGTERM);
    master->signal(SIGTERM);
    // SIGTERM is a clean shutdown: exit code 0.
    for (size_t i = 0; i < agents.size(); ++i)
      if (!killed[i]) {
        auto code = agents[i]->wait_exit(seconds(30));
        CHECK(code && *code == 0);
      }
    auto code = master->wait_exit(seconds(30));
    CHECK(code && *code == 0);
  }

  run_result execute(std::vector<std::string> extra, const std::string& log) {
    std::vector<std::string> argv{bin, "execute", "--master=" + master_addr};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return run_to_completion(argv, dir / log, seconds(120));
  }
};

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

} // namespace

FIXTURE_SCOPE(integration_execute_tests, cluster_fixture)

TEST(a finished task exits 0 after TASK_RUNNING and TASK_FINISHED) {
  auto r = execute({"--name=hello", "--command=echo hi", "--resources=cpus:0.1;mem:32"}, "finished.log");
  MESSAGE(r.output);
  CHECK_EQUAL(r.exit_code, 0);
  CHECK(contains(r.output, "TASK_RUNNING"));
  CHECK(contains(r.output, "TASK_FINISHED"));
}

TEST(a failing command exits 1 with TASK_FAILED and its exit code) {
  auto r = execute({"--name=fails", "--command=exit 3", "--resources=cpus:0.1;mem:32"}, "failed.log");
  MESSAGE(r.output);
  CHECK_EQUAL(r.exit_code, 1);
  CHECK(contains(r.output, "TASK_FAILED"));
  CHECK(contains(r.output, "Command exited with status 3"));
  CHECK(!contains(r.output, "TASK_FINISHED"));
}

TEST(a killed task exits 1 with TASK_KILLED) {
  auto r = execute({"--name=sleeper", "--command=sleep 60", "--resources=cpus:0.1;mem:32", "--kill-after=1s"},
                   "killed.log");
  MESSAGE(r.output);
  CHECK_EQUAL(r.exit_code, 1);
  CHECK(contains(r.output, "TASK_KILLED"));
}

TEST(execute refuses invalid resources on its command line with exit code 2 and runs nothing) {
  // (The master's own checks of resources arriving in ACCEPT are covered by actors_offer_validation/actors_master.)
  int n = 0;
  for (auto res : {"cpus:-1;mem:32", "cpus:nan", "cpus:abc", "mem:1e400", "ports:[5-1]", ""}) {
    auto r = execute({"--name=bad", "--command=true", std::string{"--resources="} + res},
                     "invalid-" + std::to_string(n++) + ".log");
    MESSAGE(res << " -> " << r.output);
    CHECK_EQUAL(r.exit_code, 2);
    CHECK(!contains(r.output, "TASK_RUNNING"));
  }
  // The cluster is unharmed: a valid task still runs.
  auto ok = execute({"--name=after", "--command=true", "--resources=cpus:0.1;mem:32"}, "after.log");
  CHECK_EQUAL(ok.exit_code, 0);
}

// execute checks the name before it connects (the master refuses such a task ID too: actors_offer_validation).
TEST(a task name that would escape the sandbox is refused before anything runs) {
  auto r = execute({"--name=../../etc", "--command=true", "--resources=cpus:0.1;mem:32"}, "escape.log");
  MESSAGE(r.output);
  CHECK_EQUAL(r.exit_code, 2);
  CHECK(contains(r.output, "--name=../../etc"));
  CHECK(!contains(r.output, "subscribed"));
  CHECK(!contains(r.output, "TASK_RUNNING"));
}

TEST(execute gives up after its timeout when no agent can fit the task) {
  auto r = execute({"--name=huge", "--command=true", "--resources=cpus:1000;mem:32", "--timeout=3s"}, "huge.log");
  MESSAGE(r.output);
  CHECK_EQUAL(r.exit_code, 1);
  CHECK(!contains(r.output, "launching"));
  CHECK(contains(r.output, "timed out"));
}

TEST(killing the agent mid task of a non checkpointing framework ends it TASK_LOST and leaves nothing running) {
  // A unique sleep duration marks both the shell and the sleep process it starts.
  auto marker = "sleep 7" + std::to_string(::getpid());
  child_process exec{{bin, "execute", "--master=" + master_addr, "--name=victim",
                      "--command=" + marker, "--resources=cpus:0.1;mem:32", "--no-checkpoint"},
                     dir / "lost.log"};
  auto running = exec.wait_for_line("TASK_RUNNING.*agent=([-0-9a-f]+)", seconds(60));
  REQUIRE(running);
  std::string agent = (*running)[1];
  size_t victim = agent == agent_ids[0] ? 0 : 1;
  REQUIRE(agent == agent_ids[victim]);
  agents[victim]->signal(SIGKILL);
  killed[victim] = true;
  auto code = exec.wait_exit(seconds(90));
  MESSAGE(exec.output());
  REQUIRE(code.has_value());
  CHECK_EQUAL(*code, 1);
  CHECK(contains(exec.output(), "TASK_LOST"));
  // Without checkpointing the executor does not wait for a restarted agent: it kills its tasks, nothing with the
  // marker survives.
  bool gone = false;
  for (int i = 0; i < 300 && !gone; ++i) {
    auto r = run_to_completion({"/usr/bin/pgrep", "-f", marker}, dir / "pgrep.log", seconds(10));
    gone = r.exit_code == 1;
    if (!gone)
      std::this_thread::sleep_for(milliseconds(100));
  }
  CHECK(gone);
}

FIXTURE_SCOPE_END()
