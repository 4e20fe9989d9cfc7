// Integration: the `mesoscaf` binary's command line as users meet it: version, help on stdout, unknown flags
// with a suggestion on stderr and exit 2, flags from the environment.
#define CAF_SUITE integration_cli
#include "test.hpp"

#include "child_process.hpp"
#include "test_helpers.hpp"

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using namespace mesoscaf::test;
using namespace std::chrono;

namespace {

const std::string bin = MESOSCAF_BINARY;

/// Runs `mesoscaf ARGS` through sh, keeping only the stream `keep` names ("stdout" or "stderr"). Bounded: a
/// command that hangs exits 124 after two minutes.
int run_mesoscaf(const std::string& args, const std::string& keep, std::string& out) {
  auto redirect = keep == "stdout" ? " 2>/dev/null" : " 2>&1 >/dev/null";
  // The outer parentheses take run_shell's own `2>&1`.
  return run_shell("((timeout 120 " + shell_quote(bin) + " " + args + ")" + redirect + ")", out);
}

} // namespace

TEST(version prints the product and protocol version) {
  std::regex line{"mesoscaf [0-9]+\\.[0-9]+\\.[0-9]+ \\(protocol mesoscaf\\.v[0-9]+\\)\n"};
  for (auto args : {"--version", "version"}) {
    std::string out;
    CHECK_EQUAL(run_mesoscaf(args, "stdout", out), 0);
    MESSAGE(out);
    CHECK(std::regex_match(out, line));
  }
}

TEST(a mistyped flag exits 2 with a suggestion on stderr) {
  std::string err;
  CHECK_EQUAL(run_mesoscaf("master --prot=1", "stderr", err), 2);
  MESSAGE(err);
  CHECK_EQUAL(err.rfind("mesoscaf master: unknown option --prot; did you mean --port?\n", 0), 0u);
  CHECK_EQUAL(err.find("parser_error"), std::string::npos);
  CHECK_EQUAL(run_mesoscaf("agent --nonsense=1", "stderr", err), 2);
  CHECK_EQUAL(err.rfind("mesoscaf agent: unknown option --nonsense\n", 0), 0u);
  CHECK_EQUAL(err.find("did you mean"), std::string::npos);
}

TEST(a bad value exits 2 naming the flag) {
  std::string err;
  CHECK_EQUAL(run_mesoscaf("master --port=abc", "stderr", err), 2);
  MESSAGE(err);
  CHECK_NOT_EQUAL(err.find("--port=abc: expected a whole number"), std::string::npos);
}

TEST(help lists the flags with defaults on stdout and exits 0) {
  for (std::string cmd : {"master", "agent", "local", "execute"}) {
    std::string out;
    std::string err;
    CHECK_EQUAL(run_mesoscaf(cmd + " --help", "stdout", out), 0);
    CHECK_EQUAL(run_mesoscaf(cmd + " --help", "stderr", err), 0);
    CHECK_NOT_EQUAL(out.find("usage: mesoscaf " + cmd), std::string::npos);
    CHECK_NOT_EQUAL(out.find("--log-level=<string>"), std::string::npos);
    CHECK_NOT_EQUAL(out.find("(default: "), std::string::npos);
    CHECK_EQUAL(err, "");
  }
  std::string out;
  CHECK_EQUAL(run_mesoscaf("agent --help", "stdout", out), 0);
  CHECK_NOT_EQUAL(out.find("--executor-binary=<string>"), std::string::npos);
}

TEST(a master takes its port from the environment) {
  temp_dir dir{"mesoscaf-cli"};
  ::setenv("MESOSCAF_PORT", "0", 1);
  child_process master{{bin, "master"}, dir / "master.log"};
  ::unsetenv("MESOSCAF_PORT");
  auto m = master.wait_for_line("master listening on 127\\.0\\.0\\.1:([0-9]+)", seconds(60));
  REQUIRE(m);
  MESSAGE("port " << (*m)[1]);
  CHECK_NOT_EQUAL(std::string{(*m)[1]}, "5050");   // 0: any free port, not the default
  master.signal(SIGTERM);
  auto code = master.wait_exit(seconds(30));
  CHECK(code && *code == 0);
}

TEST(a master logs to its log file and opens a new one on SIGHUP after a rename) {
  temp_dir dir{"mesoscaf-cli"};
  auto log_file = dir / "master.log";
  child_process master{{bin, "master", "--port=0", "--log-file=" + log_file}, dir / "master.out"};
  REQUIRE(master.wait_for_line("master listening on 127\\.0\\.0\\.1:([0-9]+)", seconds(60)));
  // Lines go to the file, not to stderr.
  auto deadline = steady_clock::now() + seconds(30);
  while (read_file(log_file).empty() && steady_clock::now() < deadline)
    std::this_thread::sleep_for(milliseconds(20));
  auto first = read_file(log_file);
  MESSAGE(first);
  // The first line may be the warning that the master runs unauthenticated (no TLS, ACLs, credentials).
  std::regex line{"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{12}[+-][0-9]{2}:[0-9]{2} (INFO|WARN) " + std::to_string(master.pid())
                  + " [a-z-]+: .*"};
  REQUIRE(!first.empty());
  CHECK(std::regex_match(first.substr(0, first.find('\n')), line));
  CHECK_EQUAL(master.output().find(" INFO "), std::string::npos);
  CHECK_EQUAL(master.output().find(" WARN "), std::string::npos);
  auto rotated = dir / "master.log.1";
  std::filesystem::rename(log_file, rotated);
  master.signal(SIGHUP);
  deadline = steady_clock::now() + seconds(30);
  while (read_file(log_file).find("log file reopened") == std::string::npos && steady_clock::now() < deadline)
    std::this_thread::sleep_for(milliseconds(20));
  auto second = read_file(log_file);
  MESSAGE(second);
  CHECK_NOT_EQUAL(second.find("log file reopened"), std::string::npos);
  CHECK(std::regex_match(second.substr(0, second.find('\n')), line));
  CHECK_EQUAL(read_file(rotated).find("log file reopened"), std::string::npos);
  CHECK(master.running());   // SIGHUP does not end it
  master.signal(SIGTERM);
  auto code = master.wait_exit(seconds(30));
  CHECK(code && *code == 0);
}

TEST(bad log flags exit 2 naming the flag) {
  std::string err;
  CHECK_EQUAL(run_mesoscaf("master --log-format=xml", "stderr", err), 2);
  MESSAGE(err);
  CHECK_NOT_EQUAL(err.find("--log-format=xml: expected text or json"), std::string::npos);
  CHECK_EQUAL(run_mesoscaf("master --log-file=/nonexistent-dir/agent.log", "stderr", err), 2);
  MESSAGE(err);
  CHECK_NOT_EQUAL(err.find("--log-file: cannot open /nonexistent-dir/agent.log"), std::string::npos);
}

TEST(json log lines from a daemon parse one object per line) {
  temp_dir dir{"mesoscaf-cli"};
  child_process master{{bin, "master", "--port=0", "--log-format=json"}, dir / "master.out"};
  REQUIRE(master.wait_for_line("master listening on", seconds(60)));
  REQUIRE(master.wait_for_line("\\{\"time\":\"[^\"]+\",\"level\":\"INFO\",\"pid\":[0-9]+,\"component\":", seconds(30)));
  master.signal(SIGTERM);
  CHECK(master.wait_exit(seconds(30)));
}

TEST(execute refuses bad arguments with exit 2 before connecting) {
  // A master address nobody listens on: a connection attempt would show up as "cannot connect" (exit 1).
  std::string prefix = "execute --master=127.0.0.1:1 ";
  struct bad_case {
    std::string args;
    std::string reason;
  };
  std::vector<bad_case> cases{
    {"--name=x", "--command is required"},
    {"--command=true --resources='cpus:0.1;mem:32;ports:[0-70000]'", "ports must lie within 0-65535, not 0-70000"},
    {"--command=true --resources='cpus:0.1;mem:32;ports:{1}'", "'ports' must be a range list"},
    {"--command=true --resources='cpus:[1-2];mem:32'", "'cpus' must be a scalar"},
    {"--command=true --resources='cpus:0.1;mem:{a}'", "'mem' must be a scalar"},
    {"--command=true --name=\"$(printf 'a\\tb')\"", "--name has a control character (0x09) at byte 1"},
    {"--command=true --name=\"$(printf 'a\\033[31m')\"", "--name has a control character (0x1b)"},
    {"--command=true --user=\"$(printf 'root\\177')\"", "--user has a control character (0x7f)"},
    {"--command=true --name='my task'", "the task ID is NAME-<uuid>"},
  };
  for (auto& c : cases) {
    std::string err;
    auto code = run_mesoscaf(prefix + c.args, "stderr", err);
    MESSAGE(c.args << " -> " << code << ": " << err);
    CHECK_EQUAL(code, 2);
    CHECK_NOT_EQUAL(err.find(c.reason), std::string::npos);
    CHECK_EQUAL(err.find("cannot connect"), std::string::npos);
  }
}

TEST(an agent refuses bad resources with exit 2 and the reason) {
  for (auto [resources, reason] : {std::pair<std::string, std::string>{"cpus:2;ports:[0-70000]", "ports must lie within"},
                                   {"cpus:2;ports:{1}", "'ports' must be a range list"},
                                   {"cpus:{1};mem:64", "'cpus' must be a scalar"}}) {
    std::string err;
    auto code = run_mesoscaf("agent --master=127.0.0.1:1 --resources='" + resources + "'", "stderr", err);
    MESSAGE(resources << " -> " << code << ": " << err);
    CHECK_EQUAL(code, 2);
    CHECK_NOT_EQUAL(err.find("--resources=\"" + resources + "\": " + reason), std::string::npos);
  }
  std::string err;
  CHECK_EQUAL(run_mesoscaf("agent --master=127.0.0.1:1 --hostname=\"$(printf 'node\\n1')\"", "stderr", err), 2);
  CHECK_NOT_EQUAL(err.find("--hostname has a control character (0x0a) at byte 4"), std::string::npos);
}
