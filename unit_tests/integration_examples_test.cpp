// Integration: the example frameworks and executor, and the demos, against a real `mesoscaf local` process.
#define CAF_SUITE integration_examples
#include "test.hpp"

#include "child_process.hpp"

#include <chrono>
#include <csignal>
#include <memory>
#include <regex>
#include <string>
#include <vector>

using namespace mesoscaf::test;
using namespace std::chrono;

namespace {

const std::string bin = MESOSCAF_BINARY;
const std::string examples = MESOSCAF_EXAMPLES_DIR;

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

struct local_fixture {
  temp_dir dir{"mesoscaf-examples"};
  std::unique_ptr<child_process> cluster;
  std::string master_addr;

  local_fixture() {
    cluster = std::make_unique<child_process>(
      std::vector<std::string>{bin, "local", "--agents=2", "--port=0", "--work-dir=" + dir / "cluster"},
      dir / "cluster.log");
    auto m = cluster->wait_for_line("master listening on (127\\.0\\.0\\.1:[0-9]+)", seconds(60));
    REQUIRE(m);
    master_addr = (*m)[1];
    REQUIRE(cluster->wait_for_line("local cluster ready agents=2", seconds(60)));
  }

  ~local_fixture() {
    cluster->signal(SIGTERM);
    auto code = cluster->wait_exit(seconds(30));
    CHECK(code.has_value());
    if (code)
      CHECK_EQUAL(*code, 0);
  }

  run_result run(const std::string& program, std::vector<std::string> args, const std::string& log) {
    std::vector<std::string> argv{examples + "/" + program};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = run_to_completion(argv, dir / log, seconds(120));
    MESSAGE(program << " exited " << r.exit_code << ":\n" << r.output);
    return r;
  }
};

} // namespace

FIXTURE_SCOPE(integration_examples_tests, local_fixture)

TEST(the callback scheduler runs its command tasks to completion) {
  auto r = run("example_scheduler", {"--master=" + master_addr, "--tasks=4"}, "sched.log");
  CHECK_EQUAL(r.exit_code, 0);
  CHECK(contains(r.output, "example_scheduler: all 4 tasks finished"));
}

TEST(the callback scheduler drives the custom executor and gets its messages back) {
  auto r = run("example_scheduler",
               {"--master=" + master_addr, "--tasks=3", "--executor=" + examples + "/example_executor"},
               "sched-exec.log");
  CHECK_EQUAL(r.exit_code, 0);
  CHECK(contains(r.output, "all 3 tasks finished, 3 echoes received"));
}

TEST(the typed actor scheduler runs its tasks) {
  auto r = run("example_actor_scheduler", {"--master=" + master_addr, "--tasks=3"}, "actor.log");
  CHECK_EQUAL(r.exit_code, 0);
  CHECK(contains(r.output, "example_actor_scheduler: done"));
}

TEST(the word count demo matches a direct count) {
  auto r = run("demo_wordcount", {"--master=" + master_addr, "--work-dir=" + dir / "wc"}, "wc.log");
  CHECK_EQUAL(r.exit_code, 0);
  std::smatch m;
  REQUIRE(std::regex_search(r.output, m, std::regex{"total words=([0-9]+) chunks=[0-9]+ \\(direct count ([0-9]+)\\) OK"}));
  CHECK_EQUAL(m[1].str(), m[2].str());
  CHECK_GREATER(std::stol(m[1].str()), 40000);  // the licenses hold about 48,000 words
}

FIXTURE_SCOPE_END()

TEST(the DRF demo reaches the split of the DRF paper) {
  // Without --master the demo runs its own one-agent cluster (cpus:9;mem:18432) in process.
  temp_dir dir{"mesoscaf-drf"};
  auto r = run_to_completion({examples + "/demo_drf"}, dir / "drf.log", seconds(120));
  MESSAGE(r.output);
  CHECK_EQUAL(r.exit_code, 0);
  CHECK(contains(r.output, "framework drf-a: tasks=3 dominant_share=0.667"));
  CHECK(contains(r.output, "framework drf-b: tasks=2 dominant_share=0.667"));
}

TEST(the hello framework runs its task to TASK_FINISHED) {
  // It starts its own in-process cluster.
  temp_dir dir{"mesoscaf-hello"};
  auto r = run_to_completion({examples + "/hello_framework"}, dir / "hello.log", seconds(120));
  MESSAGE(r.output);
  CHECK_EQUAL(r.exit_code, 0);
  CHECK(contains(r.output, "hello_framework: final state TASK_FINISHED"));
}
