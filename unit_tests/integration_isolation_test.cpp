// Integration: isolation with real cgroups (v1 on this machine kind), real processes and real users. A master
// and one agent run as `mesoscaf` processes; `mesoscaf execute` is the framework. Root is required (CI runs as
// root); without it every test fails with a message saying so. Each test's agent keeps its containers under a
// cgroups root of its own, removed at the end.
#define CAF_SUITE integration_isolation
#include "test.hpp"

#include "child_process.hpp"

#include "containerizer/cgroups.hpp"
#include "containerizer/reaper.hpp"

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

using namespace mesoscaf;
using namespace mesoscaf::test;
using namespace std::chrono;

namespace {

const std::string bin = MESOSCAF_BINARY;

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::string read_file(const std::string& path) {
  std::ifstream in{path};
  return std::string{std::istreambuf_iterator<char>{in}, {}};
}

// The first file called `name` below `dir` (sandboxes have generated IDs in their paths).
std::string find_file(const std::string& dir, const std::string& name) {
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec))
    if (it->path().filename() == name)
      return it->path().string();
  return {};
}

template <class Pred>
bool eventually(Pred pred, milliseconds limit = milliseconds(20000)) {
  auto deadline = steady_clock::now() + limit;
  while (steady_clock::now() < deadline) {
    if (pred())
      return true;
    std::this_thread::sleep_for(milliseconds(100));
  }
  return pred();
}

struct isolation_fixture {
  temp_dir dir{"mesoscaf-iso"};
  std::string cgroups_root = "mesoscaf-it-" + std::to_string(::getpid());
  std::unique_ptr<cgroups> cg;
  std::unique_ptr<child_process> master;
  std::unique_ptr<child_process> agent;
  std::string master_addr;
  int agent_runs = 0;

  isolation_fixture() {
    // Sandboxes of tasks that switch user must be reachable by that user, as under /var/lib.
    ::chmod(dir.path().c_str(), 0755);
    std::string why;
    cg = detect_cgroups(&why);
    if (::geteuid() != 0)
      FAIL("integration_isolation needs root (real cgroups, users, mounts); run the tests as root");
    if (!cg)
      FAIL("integration_isolation needs cgroups: " << why);
    master = std::make_unique<child_process>(
      std::vector<std::string>{bin, "master", "--port=0", "--work-dir=" + dir / "master",
                               "--agent-ping-timeout=500ms", "--max-agent-ping-timeouts=4"},
      dir / "master.log");
    auto m = master->wait_for_line("master listening on (127\\.0\\.0\\.1:[0-9]+)", seconds(60));
    REQUIRE(m);
    master_addr = (*m)[1];
  }

  // Starts (or restarts) the agent with the cgroups isolators and `extra` flags; true once it registered.
  bool start_agent(std::vector<std::string> extra = {},
                   std::string isolation = "cgroups/cpu,cgroups/mem,cgroups/pids,disk/du") {
    std::vector<std::string> argv{bin,
                                  "agent",
                                  "--master=" + master_addr,
                                  "--port=0",
                                  "--work-dir=" + dir / "agent",
                                  "--resources=cpus:4;mem:2048;disk:1000;ports:[31000-31100]",
                                  "--cgroups-root=" + cgroups_root};
    if (!isolation.empty())
      argv.push_back("--isolation=" + isolation);
    argv.insert(argv.end(), extra.begin(), extra.end());
    agent = std::make_unique<child_process>(argv, dir / ("agent" + std::to_string(agent_runs++) + ".log"));
    auto r = agent->wait_for_line("agent registered with id", seconds(60));
    if (!r)
      MESSAGE("agent output:\n" << agent->output());
    return static_cast<bool>(r);
  }

  run_result execute(std::vector<std::string> extra, const std::string& log) {
    std::vector<std::string> argv{bin, "execute", "--master=" + master_addr, "--timeout=90s"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return run_to_completion(argv, dir / log, seconds(120));
  }

  ~isolation_fixture() {
    if (agent) {
      agent->signal(SIGTERM);
      agent->wait_exit(seconds(30));
    }
    if (master) {
      master->signal(SIGTERM);
      master->wait_exit(seconds(30));
    }
    if (cg) {
      cg->kill_all(cgroups_root);
      eventually([&] { return cg->remove(cgroups_root).empty(); }, milliseconds(5000));
    }
  }
};

} // namespace

FIXTURE_SCOPE(integration_isolation_tests, isolation_fixture)

TEST(a task over its memory limit fails with the memory reason and the agent keeps running) {
  REQUIRE(start_agent());
  // tail keeps the whole newline-free input in memory: 200 MB against a 32 MB limit.
  auto r = execute({"--name=hog", "--resources=cpus:0.1;mem:32", "--command=head -c 200000000 /dev/zero | tail"},
                   "hog.log");
  CHECK_EQUAL(r.exit_code, 1);
  CHECK(contains(r.output, "ended TASK_FAILED reason=REASON_CONTAINER_LIMITATION_MEMORY"));
  CHECK(contains(r.output, "Memory limit exceeded: Requested: 32MB"));
  CHECK(contains(r.output, "usage task=hog-"));
  CHECK(agent->running());
  // The agent still serves: the next task finishes.
  auto ok = execute({"--name=after-hog", "--resources=cpus:0.1;mem:32", "--command=true"}, "after-hog.log");
  CHECK_EQUAL(ok.exit_code, 0);
}

TEST(a grandchild that left the session of its task dies with the task) {
  REQUIRE(start_agent());
  auto pid_file = dir / "grandchild.pid";
  auto r = execute({"--name=escape", "--resources=cpus:0.1;mem:32",
                    "--command=setsid sleep 3017 & echo $! > " + pid_file + "; sleep 0.3"},
                   "escape.log");
  CHECK_EQUAL(r.exit_code, 0);
  std::ifstream in{pid_file};
  pid_t pid = 0;
  REQUIRE(in >> pid);
  REQUIRE(pid > 1);
  // Gone (or a zombie waiting for PID 1) within seconds of TASK_FINISHED.
  CHECK(eventually([&] { return process_start_time(pid) == 0; }, milliseconds(10000)));
}

TEST(a fork loop stops at the pids limit and the agent stays responsive) {
  REQUIRE(start_agent({"--container-pids-max=40"}));
  auto count_file = dir / "forks";
  auto r = execute({"--name=forkloop", "--resources=cpus:0.1;mem:64",
                    "--command=for i in $(seq 200); do sleep 60 & echo $i > " + count_file + "; done; wait"},
                   "forkloop.log");
  // The shell cannot fork past the limit: it fails, and every sleep it started dies with the task.
  CHECK_EQUAL(r.exit_code, 1);
  auto forks = std::atoi(read_file(count_file).c_str());
  MESSAGE("background processes started: " << forks);
  CHECK(forks > 0);
  CHECK(forks < 40);
  auto ok = execute({"--name=after-forks", "--resources=cpus:0.1;mem:32", "--command=true"}, "after-forks.log");
  CHECK_EQUAL(ok.exit_code, 0);
}

TEST(cpu shares are written in proportion to the cpus of each task) {
  REQUIRE(start_agent());
  auto probe = [&](const std::string& cpus, const std::string& name) {
    auto out = dir / (name + ".shares");
    auto r = execute({"--name=" + name, "--resources=cpus:" + cpus + ";mem:32",
                      "--command=cat /sys/fs/cgroup/cpu$(grep -E '^[0-9]+:cpu(,cpuacct)?:' /proc/self/cgroup | cut -d: "
                      "-f3)/cpu.shares > "
                        + out},
                     name + ".log");
    CHECK_EQUAL(r.exit_code, 0);
    return std::atoi(read_file(out).c_str());
  };
  if (cg->version() != 1)
    FAIL("this test reads cgroups v1 files; the host has v" << cg->version());
  CHECK_EQUAL(probe("0.5", "half"), 512);
  CHECK_EQUAL(probe("2", "two"), 2048);
}

TEST(each task of a group runs in a nested container with its own memory limit inside the group limit) {
  REQUIRE(start_agent());
  if (cg->version() != 1)
    FAIL("this test reads cgroups v1 files; the host has v" << cg->version());
  // Each task writes its own memory limit and its group's (task-groups/task-ID sits one level below the group's).
  // The agent sets the group's limit as it hands the group over, asynchronously: the probe waits (bounded) for it.
  // The group's limit follows its live tasks, so each task stays until the other has written too.
  auto probe = [&](const std::string& name, const std::string& other) {
    return "p=/sys/fs/cgroup/memory$(grep -E '^[0-9]+:memory:' /proc/self/cgroup | cut -d: -f3); cat "
           "$p/memory.limit_in_bytes > " + dir / (name + ".own") + "; for i in $(seq 100); do "
           "[ $(cat $p/../memory.limit_in_bytes) -lt 1000000000000 ] && break; sleep 0.1; done; "
           "cat $p/../memory.limit_in_bytes > " + dir / (name + ".group") + "; for i in $(seq 100); do [ -s "
           + dir / (other + ".group") + " ] && break; sleep 0.1; done";
  };
  auto file = dir / "group.json";
  {
    std::ofstream out{file};
    out << "{\"tasks\": [{\"name\": \"small\", \"resources\": \"cpus:0.1;mem:32\", \"command\": {\"value\": \""
        << probe("small", "large") << "\"}}, {\"name\": \"large\", \"resources\": \"cpus:0.1;mem:64\", "
        << "\"command\": {\"value\": \"" << probe("large", "small") << "\"}}]}";
  }
  auto r = execute({"--group=" + file}, "group.log");
  MESSAGE(r.output);
  CHECK_EQUAL(r.exit_code, 0);
  CHECK_EQUAL(std::atoll(read_file(dir / "small.own").c_str()), 32LL << 20);
  CHECK_EQUAL(std::atoll(read_file(dir / "large.own").c_str()), 64LL << 20);
  // Both tasks together: the group's limit.
  CHECK_EQUAL(std::atoll(read_file(dir / "small.group").c_str()), 96LL << 20);
  CHECK_EQUAL(std::atoll(read_file(dir / "large.group").c_str()), 96LL << 20);
}

TEST(a task writing past its disk fails with the disk reason) {
  REQUIRE(start_agent({"--enforce-container-disk-quota", "--container-disk-watch-interval=500ms"}));
  auto r = execute({"--name=diskhog", "--resources=cpus:0.1;mem:64;disk:10",
                    "--command=while true; do head -c 1000000 /dev/zero >> big; sleep 0.02; done"},
                   "diskhog.log");
  CHECK_EQUAL(r.exit_code, 1);
  CHECK(contains(r.output, "ended TASK_FAILED reason=REASON_CONTAINER_LIMITATION_DISK"));
  CHECK(contains(r.output, "exceeds quota (10MB)"));
  CHECK(agent->running());
}

TEST(a task of user nobody runs as 65534 in a sandbox owned by nobody) {
  REQUIRE(start_agent());
  auto r = execute({"--name=whoami", "--user=nobody", "--resources=cpus:0.1;mem:32",
                    "--command=id -u > whoami.out; stat -c %u . >> whoami.out"},
                   "whoami.log");
  CHECK_EQUAL(r.exit_code, 0);
  auto out = find_file(dir / "agent", "whoami.out");
  REQUIRE(!out.empty());
  CHECK_EQUAL(read_file(out), "65534\n65534\n");
  auto unknown = execute({"--name=ghost", "--user=no-such-user-mesoscaf", "--resources=cpus:0.1;mem:32",
                          "--command=true"},
                         "ghost.log");
  CHECK_EQUAL(unknown.exit_code, 1);
  CHECK(contains(unknown.output, "ended TASK_FAILED"));
  CHECK(contains(unknown.output, "unknown user 'no-such-user-mesoscaf'"));
}

TEST(after kill -9 and a restart of the agent a task keeps running under its memory limit) {
  REQUIRE(start_agent());
  auto ready = dir / "restart.ready";
  auto go = dir / "restart.go";
  std::vector<std::string> argv{bin,
                                "execute",
                                "--master=" + master_addr,
                                "--timeout=90s",
                                "--name=survivor",
                                "--resources=cpus:0.1;mem:32",
                                "--command=touch " + ready + "; while [ ! -e " + go
                                  + " ]; do sleep 0.1; done; head -c 200000000 /dev/zero | tail"};
  child_process framework{argv, dir / "survivor.log"};
  REQUIRE(eventually([&] { return std::filesystem::exists(ready); }, milliseconds(60000)));
  agent->signal(SIGKILL);
  agent->wait_exit(seconds(10));
  REQUIRE(start_agent());
  CHECK(framework.running());
  std::ofstream{go} << "go\n";
  auto code = framework.wait_exit(seconds(90));
  REQUIRE(code);
  CHECK_EQUAL(*code, 1);
  CHECK(contains(framework.output(), "ended TASK_FAILED reason=REASON_CONTAINER_LIMITATION_MEMORY"));
}

TEST(a restarted agent destroys what is left of containers nobody recovers) {
  REQUIRE(start_agent());
  auto pid_file = dir / "orphan.pid";
  auto executor_pid_file = dir / "orphan-executor.pid";
  // Not checkpointed, and its executor is killed with the agent: nothing but the restarted agent can end what is
  // left in the container (the task's shell, its sleep and a setsid grandchild).
  std::vector<std::string> argv{bin,
                                "execute",
                                "--master=" + master_addr,
                                "--timeout=90s",
                                "--no-checkpoint",
                                "--name=orphan",
                                "--resources=cpus:0.1;mem:32",
                                "--command=echo $PPID > " + executor_pid_file + "; setsid sleep 3019 & echo $! > "
                                  + pid_file + "; sleep 600"};
  child_process framework{argv, dir / "orphan.log"};
  REQUIRE(eventually([&] { return std::filesystem::exists(pid_file) && !read_file(pid_file).empty(); },
                     milliseconds(60000)));
  pid_t pid = std::atoi(read_file(pid_file).c_str());
  pid_t executor = std::atoi(read_file(executor_pid_file).c_str());
  REQUIRE(pid > 1);
  REQUIRE(executor > 1);
  agent->signal(SIGKILL);
  ::kill(executor, SIGKILL);
  agent->wait_exit(seconds(10));
  std::this_thread::sleep_for(seconds(1));
  REQUIRE(process_start_time(pid) != 0);  // nothing else ends it
  REQUIRE(start_agent());
  CHECK(eventually([&] { return process_start_time(pid) == 0; }, milliseconds(30000)));
  framework.signal(SIGTERM);
  framework.wait_exit(seconds(30));
}

TEST(an agent asked for an isolator it cannot use exits 2 with the reason) {
  child_process bad{{bin, "agent", "--master=" + master_addr, "--port=0", "--work-dir=" + dir / "bad",
                     "--isolation=cgroups/mem,bogus/iso"},
                    dir / "bad.log"};
  auto code = bad.wait_exit(seconds(30));
  REQUIRE(code);
  CHECK_EQUAL(*code, 2);
  CHECK(contains(bad.output(), "unknown isolator 'bogus/iso'"));
}

TEST(an unprivileged agent runs tasks with the posix isolators and refuses cgroups) {
  const std::string setpriv = "/usr/bin/setpriv";  // util-linux
  if (::access(setpriv.c_str(), X_OK) != 0)
    FAIL("this test runs the agent as nobody through " << setpriv << ", which is missing (util-linux)");
  auto work = dir / "nobody-agent";
  std::filesystem::create_directories(work);
  ::chown(work.c_str(), 65534, 65534);
  auto as_nobody = [&](std::vector<std::string> flags, const std::string& log) {
    std::vector<std::string> argv{setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", bin, "agent",
                                  "--master=" + master_addr, "--port=0", "--work-dir=" + work,
                                  "--resources=cpus:1;mem:256;disk:100;ports:[31200-31210]"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    return std::make_unique<child_process>(argv, dir / log);
  };
  auto refused = as_nobody({"--isolation=cgroups/mem"}, "nobody-refused.log");
  auto code = refused->wait_exit(seconds(30));
  REQUIRE(code);
  CHECK_EQUAL(*code, 2);
  CHECK(contains(refused->output(), "needs root"));
  agent = as_nobody({"--isolation=posix/cpu,posix/mem"}, "nobody-agent.log");
  REQUIRE(agent->wait_for_line("agent registered with id", seconds(60)));
  auto r = execute({"--name=posix", "--resources=cpus:0.1;mem:32", "--command=id -u > posix.out"}, "posix.log");
  CHECK_EQUAL(r.exit_code, 0);
  CHECK(contains(r.output, "usage task=posix-"));
  auto out = find_file(work, "posix.out");
  REQUIRE(!out.empty());
  CHECK_EQUAL(read_file(out), "65534\n");
}

FIXTURE_SCOPE_END()
