// Integration: the `mesoscaf` binary's command line as users meet it: version, help on stdout, unknown flags
// with a suggestion on stderr and exit 2, flags from the environment.
#define CAF_SUITE integration_cli
#include "test.hpp"

#include "child_process.hpp"

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <regex>
#include <string>

using namespace mesoscaf::test;
using namespace std::chrono;

namespace {

const std::string bin = MESOSCAF_BINARY;

/// Runs `mesoscaf ARGS` through sh, keeping only the stream `keep` names ("stdout" or "stderr").
int run_mesoscaf(const std::string& args, const std::string& keep, std::string& out) {
  auto redirect = keep == "stdout" ? " 2>/dev/null" : " 2>&1 >/dev/null";
  // The outer parentheses take run_shell's own `2>&1`.
  return run_shell("((" + shell_quote(bin) + " " + args + ")" + redirect + ")", out);
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
