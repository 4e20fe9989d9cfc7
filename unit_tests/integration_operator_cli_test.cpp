// Integration: the operator CLI (`mesoscaf state`, `tasks`, `task log`, `quota`, `weights`, `framework`) as a
// process: help, exit codes for bad arguments and for an unreachable master, and against a real
// `mesoscaf local --http-port=0` running tasks of `mesoscaf execute`: the values it shows, the changes it makes.
#define CAF_SUITE integration_operator_cli
#include "test.hpp"

#include "child_process.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <memory>
#include <regex>
#include <string>
#include <thread>
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

/// `mesoscaf local` with its master's HTTP port, and `mesoscaf execute` runs against it.
struct local_fixture {
  temp_dir dir{"mesoscaf-cli-local"};
  std::unique_ptr<child_process> local;
  std::string master;        // the scheduler port, for execute
  std::string http;          // --master=... of the CLI
  std::vector<std::unique_ptr<child_process>> executes;

  local_fixture() {
    local = std::make_unique<child_process>(
      std::vector<std::string>{bin, "local", "--agents=1", "--http-port=0", "--work-dir=" + dir / "work",
                               "--resources=cpus:2;mem:1024;disk:1000;ports:[31000-31100]"},
      dir / "local.log");
    auto m = local->wait_for_line("master listening on (127\\.0\\.0\\.1:[0-9]+)", seconds(60));
    REQUIRE(m);
    master = (*m)[1];
    auto h = local->wait_for_line("master http listening on (127\\.0\\.0\\.1:[0-9]+)", seconds(60));
    REQUIRE(h);
    http = "--master=" + std::string{(*h)[1]};
    REQUIRE(local->wait_for_line("local cluster ready", seconds(60)));
  }

  ~local_fixture() {
    for (auto& e : executes)
      e->signal(SIGTERM);
    local->signal(SIGTERM);
    auto code = local->wait_exit(seconds(30));
    CHECK(code && *code == 0);
  }

  /// Starts `mesoscaf execute --command=COMMAND` in the background; returns it once its task runs, with the task
  /// ID and the framework ID.
  child_process& start_task(const std::string& name, const std::string& command, std::string& task,
                            std::string& framework) {
    executes.push_back(std::make_unique<child_process>(
      std::vector<std::string>{bin, "execute", "--master=" + master, "--name=" + name, "--command=" + command,
                               "--resources=cpus:0.1;mem:32"},
      dir / (name + ".log")));
    auto& e = *executes.back();
    auto f = e.wait_for_line("subscribed framework_id=(\\S+)", seconds(60));
    REQUIRE(f);
    framework = (*f)[1];
    auto r = e.wait_for_line("TASK_RUNNING task=(\\S+)", seconds(60));
    if (!r)
      MESSAGE(e.output());
    REQUIRE(r);
    task = (*r)[1];
    return e;
  }

  int cli(std::vector<std::string> args, std::string& out) {
    args.push_back(http);
    return run_cli(std::move(args), out);
  }
};

/// Repeats `probe` (a CLI call whose output should come to contain `needle`) for up to a minute: the master learns
/// of a change through messages, not at once.
bool eventually_contains(local_fixture& f, const std::vector<std::string>& args, const std::string& needle,
                         std::string& out) {
  for (int i = 0; i < 120; ++i) {
    if (f.cli(args, out) == 0 && contains(out, needle))
      return true;
    std::this_thread::sleep_for(milliseconds(500));
  }
  return false;
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

TEST(tasks agents frameworks and state show the running task) {
  local_fixture f;
  std::string task, framework;
  f.start_task("sleeper", "sleep 60", task, framework);
  std::string out;
  REQUIRE_EQUAL(f.cli({"tasks"}, out), 0);
  MESSAGE(out);
  CHECK(contains(out, "TASK ID"));
  std::smatch row;
  CHECK(std::regex_search(out, row, std::regex{task + " +sleeper +TASK_RUNNING +" + framework + " "}));
  REQUIRE_EQUAL(f.cli({"tasks", "--json"}, out), 0);
  auto tasks = nlohmann::json::parse(out)["tasks"];
  REQUIRE_EQUAL(tasks.size(), 1u);
  CHECK_EQUAL(tasks[0]["id"], task);
  CHECK_EQUAL(tasks[0]["state"], "TASK_RUNNING");
  REQUIRE_EQUAL(f.cli({"frameworks"}, out), 0);
  MESSAGE(out);
  CHECK(std::regex_search(out, std::regex{framework + " +mesoscaf-execute "}));
  REQUIRE_EQUAL(f.cli({"agents"}, out), 0);
  MESSAGE(out);
  CHECK(std::regex_search(out, std::regex{"127\\.0\\.0\\.1:[0-9]+ +yes +0\\.[0-9]+/2 +[0-9]+/1024"}));
  REQUIRE_EQUAL(f.cli({"state"}, out), 0);
  MESSAGE(out);
  CHECK(contains(out, "TASK_RUNNING 1"));
  CHECK(contains(out, "1 active"));
}

TEST(weights set then get shows the new weight) {
  local_fixture f;
  std::string out;
  REQUIRE_EQUAL(f.cli({"weights", "set", "eng=2.5", "ops=0.5"}, out), 0);
  CHECK(contains(out, "weight of eng set to 2.5"));
  REQUIRE_EQUAL(f.cli({"weights", "get"}, out), 0);
  MESSAGE(out);
  CHECK(std::regex_search(out, std::regex{"eng +2\\.5\n"}));
  CHECK(std::regex_search(out, std::regex{"ops +0\\.5\n"}));
  REQUIRE_EQUAL(f.cli({"weights", "get", "--json"}, out), 0);
  auto weights = nlohmann::json::parse(out);
  bool found = false;
  for (const auto& w : weights)
    if (w["role"] == "eng")
      found = w["weight"].get<double>() == 2.5;
  CHECK(found);
}

TEST(quota set get and remove) {
  local_fixture f;
  std::string out;
  REQUIRE_EQUAL(f.cli({"quota", "set", "eng", "cpus:1;mem:64"}, out), 0);
  MESSAGE(out);
  REQUIRE_EQUAL(f.cli({"quota", "get"}, out), 0);
  MESSAGE(out);
  CHECK(std::regex_search(out, std::regex{"eng +cpus:1;mem:64"}));
  REQUIRE_EQUAL(f.cli({"quota", "remove", "eng"}, out), 0);
  REQUIRE_EQUAL(f.cli({"quota", "get"}, out), 0);
  MESSAGE(out);
  CHECK(!contains(out, "eng"));
}

TEST(framework teardown ends its tasks) {
  local_fixture f;
  std::string task, framework;
  f.start_task("victim", "sleep 60", task, framework);
  std::string out;
  REQUIRE_EQUAL(f.cli({"framework", "teardown", framework}, out), 0);
  CHECK(contains(out, "framework " + framework + " torn down"));
  CHECK(eventually_contains(f, {"tasks", "--all"}, "TASK_KILLED", out));
  MESSAGE(out);
  CHECK(std::regex_search(out, std::regex{task + " +victim +TASK_KILLED"}));
  REQUIRE_EQUAL(f.cli({"tasks"}, out), 0);
  CHECK(!contains(out, task));
  // An unknown framework: the master's 404 and reason, exit 1.
  CHECK_EQUAL(f.cli({"framework", "teardown", "no-such-framework"}, out), 1);
  MESSAGE(out);
  CHECK(contains(out, "404"));
  CHECK(contains(out, "no-such-framework"));
}

TEST(task log shows the output of a running and of a finished task) {
  local_fixture f;
  std::string task, framework;
  f.start_task("talker", "echo out-marker; echo err-marker >&2; sleep 60", task, framework);
  std::string out;
  CHECK(eventually_contains(f, {"task", "log", task}, "out-marker", out));
  CHECK(!contains(out, "err-marker"));
  REQUIRE_EQUAL(f.cli({"task", "log", task, "--stderr"}, out), 0);
  CHECK(contains(out, "err-marker"));
  CHECK(!contains(out, "out-marker"));
  CHECK_EQUAL(f.cli({"task", "log", "no-such-task"}, out), 1);
  CHECK(contains(out, "the master knows no task no-such-task"));
}

TEST(task log follow prints until the task ends) {
  local_fixture f;
  std::string task, framework;
  auto& e = f.start_task("counter", "sleep 1; for i in 1 2 3 4 5; do echo line-$i; sleep 0.3; done", task,
                         framework);
  std::string out;
  CHECK_EQUAL(f.cli({"task", "log", task, "--follow", "--poll-interval=100ms"}, out), 0);
  MESSAGE(out);
  CHECK(contains(out, "line-1\nline-2\nline-3\nline-4\nline-5\n"));
  auto code = e.wait_exit(seconds(60));
  CHECK(code && *code == 0);
  // A finished task's log is still there (its completed executor keeps the sandbox).
  REQUIRE_EQUAL(f.cli({"task", "log", task}, out), 0);
  CHECK(contains(out, "line-5"));
}

TEST(execute prints the tail of its task output and the sandbox) {
  local_fixture f;
  auto r = run_to_completion({bin, "execute", "--master=" + f.master, "--name=tail",
                              "--command=for i in $(seq 1 30); do echo out-$i; done; echo err-line >&2",
                              "--resources=cpus:0.1;mem:32"},
                             f.dir / "tail.log", seconds(120));
  MESSAGE(r.output);
  CHECK_EQUAL(r.exit_code, 0);
  CHECK(contains(r.output, "sandbox: " + f.dir / "work"));
  CHECK(contains(r.output, "---- stdout (last 20 lines) ----\nout-11\n"));
  CHECK(contains(r.output, "out-30\n---- stderr (last 20 lines) ----\n"));
  CHECK(!contains(r.output, "out-10\n"));
  CHECK(contains(r.output, "err-line\n---- end of output ----"));
  auto quiet = run_to_completion({bin, "execute", "--master=" + f.master, "--name=quiet", "--command=echo q-out",
                                  "--resources=cpus:0.1;mem:32", "--quiet"},
                                 f.dir / "quiet.log", seconds(120));
  CHECK_EQUAL(quiet.exit_code, 0);
  CHECK(!contains(quiet.output, "q-out"));
  CHECK(!contains(quiet.output, "sandbox:"));
}
