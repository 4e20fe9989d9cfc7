// Where the subcommands' options come from: command line > environment (MESOSCAF_<FLAG>) > config file (top level
// and the subcommand's own section) > default; unknown names are refused with a suggestion; --help goes to stdout.
#define CAF_SUITE config_option_sources
#include "test.hpp"

#include "run_config.hpp"

#include "config/config_file.hpp"
#include "config/daemon_config.hpp"
#include "config/did_you_mean.hpp"
#include "config/option_sources.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <unistd.h>

using namespace mesoscaf;
using mesoscaf::test::run_config;

namespace {

/// Captures what a stream receives while alive.
class capture {
public:
  explicit capture(std::ostream& os) : os_(os), old_(os.rdbuf(buf_.rdbuf())) {}
  ~capture() { os_.rdbuf(old_); }
  std::string text() const { return buf_.str(); }

private:
  std::ostream& os_;
  std::ostringstream buf_;
  std::streambuf* old_;
};

/// Sets an environment variable for one scope.
class scoped_env {
public:
  scoped_env(const char* name, const char* value) : name_(name) { ::setenv(name, value, 1); }
  ~scoped_env() { ::unsetenv(name_); }

private:
  const char* name_;
};

/// Runs `cfg` on `args`: its exit code and what it wrote to stderr. Checks come after the capture: the test
/// framework writes to the standard streams too.
template <class Config>
std::pair<int, std::string> run_capturing(Config& cfg, std::vector<std::string> args) {
  capture err{std::cerr};
  auto rc = run_config(cfg, std::move(args));
  return {rc, err.text()};
}

/// A config file, removed at the end of the scope.
struct temp_file {
  explicit temp_file(const std::string& text) {
    char name[] = "/tmp/mesoscaf-ini-XXXXXX";
    ::close(::mkstemp(name));
    path = name;
    std::ofstream{path} << text;
  }
  ~temp_file() { std::remove(path.c_str()); }
  std::string path;
};

} // namespace

TEST(the environment overrides the config file and the command line overrides both) {
  temp_file file{"[master]\nport=6000\nwork-dir=\"/tmp/from-file\"\n"};
  {
    master_config cfg;
    CHECK_EQUAL(run_config(cfg, {"--config-file=" + file.path}), -1);
    CHECK_EQUAL(cfg.port, 6000);
  }
  scoped_env port{"MESOSCAF_PORT", "6001"};
  scoped_env dir{"MESOSCAF_WORK_DIR", "/tmp/from-env"};
  {
    master_config cfg;
    CHECK_EQUAL(run_config(cfg, {"--config-file=" + file.path}), -1);
    CHECK_EQUAL(cfg.port, 6001);
    CHECK_EQUAL(cfg.work_dir, "/tmp/from-env");
  }
  {
    master_config cfg;
    CHECK_EQUAL(run_config(cfg, {"--config-file=" + file.path, "--port=7000"}), -1);
    CHECK_EQUAL(cfg.port, 7000);
    CHECK_EQUAL(cfg.work_dir, "/tmp/from-env");
  }
}

TEST(the environment names the config file and CAF options and sets booleans both ways) {
  temp_file file{"port=6200\n"};
  scoped_env path{"MESOSCAF_CONFIG_FILE", file.path.c_str()};
  scoped_env threads{"MESOSCAF_SCHEDULER_MAX_THREADS", "3"};
  master_config m;
  CHECK_EQUAL(run_config(m, {}), -1);
  CHECK_EQUAL(m.port, 6200);
  CHECK_EQUAL(caf::get_or(m, "scheduler.max-threads", int64_t{0}), 3);
  scoped_env checkpoint{"MESOSCAF_CHECKPOINT", "false"};
  scoped_env aware{"MESOSCAF_PARTITION_AWARE", "true"};
  ::unsetenv("MESOSCAF_CONFIG_FILE");
  execute_config e;
  CHECK_EQUAL(run_config(e, {"--command=true"}), -1);
  CHECK(!e.checkpoint);
  CHECK(e.partition_aware);
}

TEST(a bad value from the environment names the variable and the flag) {
  scoped_env port{"MESOSCAF_PORT", "abc"};
  master_config cfg;
  auto [rc, err] = run_capturing(cfg, {});
  CHECK_EQUAL(rc, exit_bad_args);
  MESSAGE(err);
  CHECK_NOT_EQUAL(err.find("MESOSCAF_PORT=abc (--port): expected a whole number"), std::string::npos);
}

TEST(each daemon reads its own section and skips the others) {
  temp_file file{"log-level=warn\n"
                 "[agent]\n"
                 "master=10.0.0.1:5050\n"
                 "work-dir=\"/tmp/agent\"\n"
                 "[master]    # comments may follow\n"
                 "port=6100   # after a blank\n"
                 "[scheduler]\n"
                 "max-threads=3\n"};
  master_config m;
  CHECK_EQUAL(run_config(m, {"--config-file=" + file.path}), -1);
  CHECK_EQUAL(m.port, 6100);
  CHECK_EQUAL(m.log_level, "warn");
  CHECK_EQUAL(caf::get_or(m, "scheduler.max-threads", int64_t{0}), 3);
  agent_config a;
  CHECK_EQUAL(run_config(a, {"--config-file=" + file.path}), -1);
  CHECK_EQUAL(a.master_host, "10.0.0.1");
  CHECK_EQUAL(a.work_dir, "/tmp/agent");
  CHECK_EQUAL(a.port, 0);   // [master]'s port is not the agent's
}

TEST(an unknown key in the daemons own section is an error with its line) {
  temp_file file{"[agent]\nbogus=1\n[master]\nport=6100\nprot=6101\n"};
  master_config m;
  auto [rc, err] = run_capturing(m, {"--config-file=" + file.path});
  CHECK_EQUAL(rc, exit_bad_args);
  MESSAGE(err);
  CHECK_NOT_EQUAL(err.find(file.path + ":5: unknown option `prot` in [master]; did you mean `port`?"),
                  std::string::npos);
  CHECK_EQUAL(err.find("bogus"), std::string::npos);   // the agent's section is not the master's business
}

TEST(a bad value or an unknown section in the config file names file and line) {
  temp_file bad_value{"[master]\n\nport=\"oops\"\n"};
  temp_file bad_section{"[mastr]\nport=1\n"};
  temp_file malformed{"port\n"};
  std::vector<std::pair<std::string, std::string>> cases{
    {bad_value.path, bad_value.path + ":3: port=\"oops\": expected a whole number"},
    {bad_section.path, bad_section.path + ":1: unknown section [mastr]"},
    {malformed.path, malformed.path + ":1: expected key=value"},
    {"/nonexistent/mesoscaf.ini", "cannot read config file /nonexistent/mesoscaf.ini"},
  };
  for (auto& [path, message] : cases) {
    master_config cfg;
    auto [rc, err] = run_capturing(cfg, {"--config-file=" + path});
    MESSAGE(err);
    CHECK_EQUAL(rc, exit_bad_args);
    CHECK_NOT_EQUAL(err.find(message), std::string::npos);
  }
}

TEST(an unknown flag is refused with the closest known one) {
  master_config cfg;
  command_line cli;
  CHECK_EQUAL(scan_command_line(cfg.options(), {"--prot=1"}, cli), "unknown option --prot; did you mean --port?");
  CHECK_EQUAL(scan_command_line(cfg.options(), {"--wrk-dir=/x"}, cli),
              "unknown option --wrk-dir; did you mean --work-dir?");
  CHECK_EQUAL(scan_command_line(cfg.options(), {"--nonsense=1"}, cli), "unknown option --nonsense");
  CHECK_EQUAL(scan_command_line(cfg.options(), {"--port"}, cli), "--port needs a value (--port=VALUE)");
  master_config again;
  auto [rc, err] = run_capturing(again, {"--prot=1"});
  CHECK_EQUAL(rc, exit_bad_args);
  CHECK_EQUAL(err.rfind("mesoscaf master: unknown option --prot; did you mean --port?\n", 0), 0u);
  CHECK_EQUAL(err.find("parser_error"), std::string::npos);
}

TEST(edit distance counts a swap of neighbours as one edit and far words get no suggestion) {
  CHECK_EQUAL(edit_distance("prot", "port"), 1u);
  CHECK_EQUAL(edit_distance("", "abc"), 3u);
  CHECK_EQUAL(edit_distance("kitten", "sitting"), 3u);
  CHECK_EQUAL(closest_match("prot", {"ip", "port", "work-dir"}), "port");
  CHECK_EQUAL(closest_match("zzzz", {"ip", "port", "work-dir"}), "");
  CHECK_EQUAL(closest_match("ib", {"ip", "port"}), "ip");
}

TEST(help goes to stdout with every flag and its default and names the config file) {
  // The test framework logs to stdout too: capture only around the calls, check afterwards.
  master_config cfg;
  int rc = -1;
  std::string text;
  std::string errors;
  {
    capture out{std::cout};
    std::tie(rc, errors) = run_capturing(cfg, {"--help"});
    text = out.text();
  }
  CHECK_EQUAL(rc, 0);
  CHECK_EQUAL(errors, "");
  CHECK_NOT_EQUAL(text.find("--port=<int64>"), std::string::npos);
  CHECK_NOT_EQUAL(text.find("(default: 5050)"), std::string::npos);
  CHECK_NOT_EQUAL(text.find("(default: 1s)"), std::string::npos);          // --allocation-interval
  CHECK_NOT_EQUAL(text.find("(default: 10min)"), std::string::npos);       // --agent-reregister-timeout
  CHECK_NOT_EQUAL(text.find("(default: \"info\")"), std::string::npos);    // --log-level
  CHECK_NOT_EQUAL(text.find("mesoscaf.ini"), std::string::npos);
  CHECK_NOT_EQUAL(text.find("MESOSCAF_<FLAG>"), std::string::npos);
  CHECK_EQUAL(text.find("--scheduler.max-threads"), std::string::npos);   // only with --long-help
  master_config named;
  {
    capture out{std::cout};
    rc = run_config(named, {"--config-file=/etc/mesoscaf/site.ini", "--long-help"});
    text = out.text();
  }
  CHECK_EQUAL(rc, 0);
  CHECK_NOT_EQUAL(text.find("config file: /etc/mesoscaf/site.ini"), std::string::npos);
  CHECK_NOT_EQUAL(text.find("--scheduler.max-threads=<uint64>"), std::string::npos);
}

TEST(the agent takes an executor binary) {
  // The test runner names the build's binary in MESOSCAF_EXECUTOR_BINARY (unit_tests/main.cpp), which is this
  // flag's environment form: without it the flag is empty.
  std::string saved = std::getenv("MESOSCAF_EXECUTOR_BINARY") ? std::getenv("MESOSCAF_EXECUTOR_BINARY") : "";
  ::unsetenv("MESOSCAF_EXECUTOR_BINARY");
  agent_config none;
  CHECK_EQUAL(run_config(none, {"--work-dir=/tmp/a"}), -1);
  CHECK_EQUAL(none.executor_binary, "");
  agent_config from_env;
  ::setenv("MESOSCAF_EXECUTOR_BINARY", "/bin/sh", 1);
  CHECK_EQUAL(run_config(from_env, {"--work-dir=/tmp/a"}), -1);
  CHECK_EQUAL(from_env.executor_binary, "/bin/sh");
  if (saved.empty())
    ::unsetenv("MESOSCAF_EXECUTOR_BINARY");
  else
    ::setenv("MESOSCAF_EXECUTOR_BINARY", saved.c_str(), 1);
  agent_config given;
  CHECK_EQUAL(run_config(given, {"--work-dir=/tmp/a", "--executor-binary=/bin/sh"}), -1);
  CHECK_EQUAL(given.executor_binary, "/bin/sh");
  agent_config missing;
  CHECK_EQUAL(run_config(missing, {"--work-dir=/tmp/a", "--executor-binary=/nonexistent/mesoscaf"}), exit_bad_args);
}
