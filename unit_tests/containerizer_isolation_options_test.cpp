// The agent's isolator list and settings as plain data (containerizer/isolation.hpp): parsing, the host's default,
// the start-up check, the round trip through a command executor's environment, sandbox measuring and log rotation.
#define CAF_SUITE containerizer_isolation_options
#include "test.hpp"

#include "child_process.hpp"
#include "test_helpers.hpp"

#include "containerizer/cgroups.hpp"
#include "containerizer/isolation.hpp"

#include <cstdlib>
#include <fstream>
#include <map>
#include <string>

#include <sys/stat.h>
#include <unistd.h>

using namespace mesoscaf;

namespace {

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// A v2 hierarchy in a plain directory that offers the given controllers.
struct fake_v2 {
  mesoscaf::test::temp_dir dir{"mesoscaf-iso-opts"};
  std::unique_ptr<cgroups> cg;

  explicit fake_v2(const std::string& controllers) {
    std::ofstream{dir / "cgroup.controllers"} << controllers << "\n";
    std::ofstream{dir / "cgroup.subtree_control"} << "";
    cg = make_cgroups_v2(dir.path());
  }
};

} // namespace

TEST(isolator lists are parsed in order without duplicates) {
  std::vector<std::string> names;
  CHECK_EQUAL(parse_isolators("cgroups/cpu,cgroups/mem,cgroups/cpu,disk/du", names), "");
  CHECK_EQUAL(names, (std::vector<std::string>{"cgroups/cpu", "cgroups/mem", "disk/du"}));
}

TEST(an unknown isolator is an error naming it and the known ones) {
  std::vector<std::string> names;
  auto err = parse_isolators("cgroups/cpu,cgroups/gpu", names);
  CHECK(contains(err, "unknown isolator 'cgroups/gpu'"));
  CHECK(contains(err, "namespaces/pid"));
  CHECK(contains(parse_isolators(",,", names), "no isolator"));
}

TEST(the default is the cgroups set as root with the controllers and posix otherwise with a reason) {
  fake_v2 full{"cpu memory pids"};
  std::string warning;
  auto as_root = default_isolators(true, full.cg.get(), "", &warning);
  CHECK_EQUAL(as_root, (std::vector<std::string>{"cgroups/cpu", "cgroups/mem", "cgroups/pids", "disk/du"}));
  CHECK_EQUAL(warning, "");
  auto unprivileged = default_isolators(false, full.cg.get(), "", &warning);
  CHECK_EQUAL(unprivileged, (std::vector<std::string>{"posix/cpu", "posix/mem", "disk/du"}));
  CHECK(contains(warning, "not running as root"));
  warning.clear();
  default_isolators(true, nullptr, "no cgroup mount", &warning);
  CHECK(contains(warning, "no cgroup mount"));
}

TEST(an isolator the host cannot support is refused with the reason) {
  fake_v2 no_pids{"cpu memory"};
  CHECK_EQUAL(check_isolators({"cgroups/cpu", "cgroups/mem"}, true, no_pids.cg.get(), ""), "");
  CHECK(contains(check_isolators({"cgroups/pids"}, true, no_pids.cg.get(), ""), "pids controller"));
  CHECK(contains(check_isolators({"cgroups/mem"}, false, no_pids.cg.get(), ""), "needs root"));
  CHECK(contains(check_isolators({"cgroups/mem"}, true, nullptr, "no cgroups here"), "no cgroups here"));
  CHECK(contains(check_isolators({"namespaces/pid"}, false, nullptr, ""), "needs root"));
  CHECK(contains(check_isolators({"cgroups/mem", "posix/mem"}, true, no_pids.cg.get(), ""), "mixes"));
  CHECK_EQUAL(check_isolators({"posix/cpu", "posix/mem"}, false, nullptr, "none"), "");
}

TEST(settings survive the trip through a command executor environment) {
  isolation_options opts;
  opts.isolators = {"cgroups/mem", "disk/du", "namespaces/pid"};
  opts.cgroups_enable_cfs = true;
  opts.container_pids_max = 77;
  opts.switch_user = false;
  opts.disk_watch_interval = std::chrono::milliseconds(1234);
  opts.enforce_disk_quota = true;
  opts.logger_max_size = 4096;
  std::map<std::string, std::string> env;
  to_environment(opts, env);
  for (auto& [k, v] : env)
    ::setenv(k.c_str(), v.c_str(), 1);
  auto back = isolation_from_environment();
  for (auto& [k, v] : env)
    ::unsetenv(k.c_str());
  CHECK_EQUAL(back.isolators, opts.isolators);
  CHECK(back.cgroups_enable_cfs);
  CHECK_EQUAL(back.container_pids_max, 77u);
  CHECK(!back.switch_user);
  CHECK_EQUAL(back.disk_watch_interval.count(), 1234);
  CHECK(back.enforce_disk_quota);
  CHECK_EQUAL(back.logger_max_size, 4096u);
}

TEST(task groups never take the name of a cgroup interface file) {
  isolation_options opts;
  auto group = container_cgroup(opts, "c1");
  CHECK_EQUAL(group, "mesoscaf/c1");
  CHECK_EQUAL(task_cgroup(group, "tasks"), "mesoscaf/c1/task-groups/task-tasks");
  CHECK_EQUAL(task_cgroup(group, "cpu.shares"), "mesoscaf/c1/task-groups/task-cpu.shares");
}

TEST(disk usage counts the blocks of a sandbox) {
  mesoscaf::test::temp_dir dir{"mesoscaf-du"};
  auto empty = disk_usage(dir.path());
  {
    std::ofstream out{dir / "data"};
    out << std::string(1 << 20, 'x');
  }
  auto used = disk_usage(dir.path());
  CHECK(used >= empty + (1u << 20));
  CHECK(used < empty + (3u << 20));
}

TEST(a log past its size is rotated keeping the newest bytes and a bounded number of files) {
  mesoscaf::test::temp_dir dir{"mesoscaf-rotate"};
  auto path = dir / "stdout";
  for (int round = 0; round < 5; ++round) {
    {
      std::ofstream out{path, std::ios::app};
      out << std::string(3000, static_cast<char>('a' + round));
    }
    CHECK_EQUAL(rotate_log(path, 1000, 3), "");
    struct stat st;
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK_EQUAL(st.st_size, 0);
  }
  // .1 holds the newest 1000 bytes of the last round; .3 is the oldest kept; .4 never exists.
  auto newest = mesoscaf::test::read_file(path + ".1");
  CHECK_EQUAL(newest, std::string(1000, 'e'));
  CHECK_EQUAL(mesoscaf::test::read_file(path + ".3"), std::string(1000, 'c'));
  struct stat st;
  CHECK(::stat((path + ".4").c_str(), &st) != 0);
  // Below the size nothing happens.
  {
    std::ofstream out{path, std::ios::app};
    out << "small";
  }
  CHECK_EQUAL(rotate_log(path, 1000, 3), "");
  CHECK_EQUAL(mesoscaf::test::read_file(path), "small");
}

TEST(posix usage of a process comes from its proc stat and is zero once it is gone) {
  auto self = process_usage(::getpid());
  CHECK_EQUAL(self.processes, 1u);
  CHECK(self.mem_rss_bytes > 0);
  auto gone = process_usage(-5);
  CHECK_EQUAL(gone.processes, 0u);
  CHECK_EQUAL(gone.mem_rss_bytes, 0u);
}

TEST(group removals keep a group that cannot go yet and give it up after the last retry) {
  fake_v2 v2{"cpu memory pids"};
  REQUIRE_EQUAL(v2.cg->create("gone-at-once"), "");
  REQUIRE_EQUAL(v2.cg->create("busy"), "");
  // A plain directory with a file in it cannot be removed, as a group whose processes are still exiting.
  std::ofstream{v2.dir / "busy/cgroup.procs"} << "";
  group_removals removals{2};
  CHECK(removals.remove(*v2.cg, "gone-at-once"));
  CHECK(!v2.cg->exists("gone-at-once"));
  CHECK(!removals.remove(*v2.cg, "busy"));
  CHECK(!removals.empty());
  CHECK(removals.retry(*v2.cg).empty());
  auto given_up = removals.retry(*v2.cg);
  REQUIRE_EQUAL(given_up.size(), 1u);
  CHECK_EQUAL(given_up[0].first, "busy");
  CHECK(removals.empty());
  // A group that empties meanwhile goes at the next retry.
  CHECK(!removals.remove(*v2.cg, "busy"));
  ::unlink((v2.dir / "busy/cgroup.procs").c_str());
  CHECK(removals.retry(*v2.cg).empty());
  CHECK(removals.empty());
  CHECK(!v2.cg->exists("busy"));
}
