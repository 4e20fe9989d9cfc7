#define CAF_SUITE containerizer_cgroups
#include "test.hpp"

#include "test_helpers.hpp"

#include "containerizer/cgroups.hpp"
#include "containerizer/launcher.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace mesoscaf;

using mesoscaf::test::read_file;

namespace {

void write_file(const std::string& path, const std::string& content) {
  std::ofstream out{path, std::ios::trunc};
  out << content;
  REQUIRE(static_cast<bool>(out));
}

void make_dir(const std::string& path) {
  REQUIRE(::mkdir(path.c_str(), 0755) == 0 || errno == EEXIST);
}

// Polls `pred` until it holds or `limit` passes.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

int wait_for(pid_t pid, std::chrono::milliseconds limit = std::chrono::seconds(60)) {
  return mesoscaf::test::wait_for_child(pid, limit);
}

// A fresh directory under /tmp, removed at the end of each test: fake cgroup hierarchies and sandboxes.
struct fixture {
  std::string dir;

  fixture() {
    char tmpl[] = "/tmp/mesoscaf-cgroups-XXXXXX";
    char* d = ::mkdtemp(tmpl);
    REQUIRE(d != nullptr);
    dir = d;
  }

  ~fixture() {
    std::string cmd = "rm -rf '" + dir + "'";
    [[maybe_unused]] int rc = std::system(cmd.c_str());
  }

  // A directory laid out like the root of a cgroup2 mount: a plain file system creates no interface files, so
  // tests create the ones a call reads or writes.
  std::string fake_v2_root() {
    auto root = dir + "/v2";
    make_dir(root);
    write_file(root + "/cgroup.controllers", "cpuset cpu io memory pids\n");
    write_file(root + "/cgroup.subtree_control", "");
    return root;
  }

  static void make_limit_files_v2(const std::string& group) {
    for (auto* f : {"cpu.weight", "cpu.max", "memory.max", "pids.max"})
      write_file(group + "/" + f, "");
  }
};

const std::string sample_mountinfo_v1 =
  "22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw\n"
  "30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
  "31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
  "32 30 0:29 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
  "34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
  "36 30 0:33 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n"
  "38 30 0:35 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
  "39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
  "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

// As systemd mounted v1: cpu and cpuacct in one hierarchy, optional fields before the separator.
const std::string sample_mountinfo_joint =
  "25 24 0:22 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:9 - cgroup cgroup "
  "rw,cpu,cpuacct\n"
  "26 24 0:23 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,memory\n"
  "27 24 0:24 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:11 master:3 - cgroup cgroup rw,pids\n"
  "28 24 0:25 / /mnt/with\\040space rw - cgroup cgroup rw,freezer\n";

const std::string sample_mountinfo_v2 =
  "24 18 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
  "29 24 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 "
  "rw,nsdelegate,memory_recursiveprot\n";

} // namespace

FIXTURE_SCOPE(cgroups_tests, fixture)

// -- mountinfo ---------------------------------------------------------------------------------------------------

TEST(mountinfo with separate v1 cpu and cpuacct mounts) {
  auto m = parse_cgroup_mounts(sample_mountinfo_v1);
  CHECK_EQUAL(m.v1["cpu"], "/sys/fs/cgroup/cpu");
  CHECK_EQUAL(m.v1["cpuacct"], "/sys/fs/cgroup/cpuacct");
  CHECK_EQUAL(m.v1["memory"], "/sys/fs/cgroup/memory");
  CHECK_EQUAL(m.v1["freezer"], "/sys/fs/cgroup/freezer");
  CHECK_EQUAL(m.v1["pids"], "/sys/fs/cgroup/pids");
  CHECK_EQUAL(m.v1.count("name=systemd"), 0u);
  CHECK_EQUAL(m.v1.count("rw"), 0u);
  CHECK_EQUAL(m.v1.size(), 5u);
  CHECK_EQUAL(m.v2, "/sys/fs/cgroup/unified");
}

TEST(mountinfo with a joint cpu cpuacct mount) {
  auto m = parse_cgroup_mounts(sample_mountinfo_joint);
  CHECK_EQUAL(m.v1["cpu"], "/sys/fs/cgroup/cpu,cpuacct");
  CHECK_EQUAL(m.v1["cpuacct"], "/sys/fs/cgroup/cpu,cpuacct");
  CHECK_EQUAL(m.v1["memory"], "/sys/fs/cgroup/memory");
  CHECK_EQUAL(m.v1["pids"], "/sys/fs/cgroup/pids");
  CHECK_EQUAL(m.v1["freezer"], "/mnt/with space");  // octal escape undone
  CHECK_EQUAL(m.v2, "");
}

TEST(mountinfo with only cgroup2) {
  auto m = parse_cgroup_mounts(sample_mountinfo_v2);
  CHECK(m.v1.empty());
  CHECK_EQUAL(m.v2, "/sys/fs/cgroup");
  auto none = parse_cgroup_mounts("garbage\n\n1 2 3\n");
  CHECK(none.v1.empty());
  CHECK_EQUAL(none.v2, "");
}

TEST(detection picks v2 only if it offers memory and says why not) {
  auto root = fake_v2_root();
  auto info = dir + "/mountinfo";
  write_file(info, "29 24 0:26 / " + root + " rw - cgroup2 cgroup2 rw\n");
  std::string why;
  auto cg = detect_cgroups(&why, info);
  REQUIRE(cg != nullptr);
  CHECK_EQUAL(cg->version(), 2);
  CHECK(cg->has("memory"));
  CHECK(!cg->has("hugetlb"));
  write_file(root + "/cgroup.controllers", "cpu pids\n");
  CHECK(detect_cgroups(&why, info) == nullptr);
  CHECK(why.find("memory") != std::string::npos);
  MESSAGE("why: " << why);
  why.clear();
  write_file(info, "22 1 0:21 / /proc rw - proc proc rw\n");
  CHECK(detect_cgroups(&why, info) == nullptr);
  CHECK(!why.empty());
  why.clear();
  CHECK(detect_cgroups(&why, dir + "/missing") == nullptr);
  CHECK(why.find(dir + "/missing") != std::string::npos);
}

// -- v2 on a fake hierarchy --------------------------------------------------------------------------------------

TEST(v2 create enables the controllers in each parent that offers them) {
  auto root = fake_v2_root();
  // A parent that offers only some controllers and has one enabled already.
  make_dir(root + "/partial");
  write_file(root + "/partial/cgroup.controllers", "memory pids\n");
  write_file(root + "/partial/cgroup.subtree_control", "pids\n");
  auto cg = make_cgroups_v2(root);
  CHECK_EQUAL(cg->version(), 2);
  CHECK_EQUAL(cg->create("mesoscaf/c1/tasks/t1"), "");
  CHECK_EQUAL(read_file(root + "/cgroup.subtree_control"), "+cpu\n+memory\n+pids\n");
  CHECK(cg->exists("mesoscaf/c1/tasks/t1"));
  CHECK(cg->exists("mesoscaf/c1"));
  CHECK(!cg->exists("mesoscaf/c2"));
  // Existing groups are fine, and enabled controllers are not written again.
  CHECK_EQUAL(cg->create("mesoscaf/c1"), "");
  CHECK_EQUAL(cg->create("mesoscaf/c2/"), "");
  CHECK_EQUAL(read_file(root + "/cgroup.subtree_control"), "+cpu\n+memory\n+pids\n");
  CHECK_EQUAL(cg->children("mesoscaf"), std::vector<std::string>({"c1", "c2"}));
  CHECK(cg->children("nowhere").empty());
  CHECK_EQUAL(cg->create("partial/x"), "");
  CHECK_EQUAL(read_file(root + "/partial/cgroup.subtree_control"), "pids\n+memory\n");
  CHECK_EQUAL(cg->procs_files("mesoscaf/c1"), std::vector<std::string>({root + "/mesoscaf/c1/cgroup.procs"}));
  // A parent that cannot take the controllers is an error naming the file.
  make_dir(root + "/ro");
  write_file(root + "/ro/cgroup.controllers", "cpu\n");
  auto err = cg->create("ro/x");
  CHECK(err.find(root + "/ro/cgroup.subtree_control") != std::string::npos);
  MESSAGE("error: " << err);
  CHECK(!cg->create("").empty());
}

TEST(v2 limits are written as cpu weight cpu max memory max and pids max) {
  auto root = fake_v2_root();
  auto cg = make_cgroups_v2(root);
  for (auto* g : {"half", "one", "two"}) {
    REQUIRE_EQUAL(cg->create(std::string("m/") + g), "");
    make_limit_files_v2(root + "/m/" + g);
  }
  cgroup_limits half;
  half.cpus = 0.5;
  half.cfs_quota = true;
  half.memory_bytes = 64 << 20;
  half.pids_max = 20;
  CHECK_EQUAL(cg->set_limits("m/half", half), "");
  cgroup_limits one;
  one.cpus = 1;
  CHECK_EQUAL(cg->set_limits("m/one", one), "");
  cgroup_limits two;
  two.cpus = 2;
  two.cfs_quota = true;
  CHECK_EQUAL(cg->set_limits("m/two", two), "");
  // systemd's map: weight = 1 + (shares - 2) * 9999 / 262142.
  CHECK_EQUAL(read_file(root + "/m/half/cpu.weight"), "20");
  CHECK_EQUAL(read_file(root + "/m/one/cpu.weight"), "39");
  CHECK_EQUAL(read_file(root + "/m/two/cpu.weight"), "79");
  auto w = [&](const char* g) { return std::stod(read_file(root + "/m/" + g + "/cpu.weight")); };
  CHECK(std::abs(w("two") / w("one") - 2.0) < 0.1);
  CHECK(std::abs(w("one") / w("half") - 2.0) < 0.1);
  CHECK_EQUAL(read_file(root + "/m/half/cpu.max"), "50000 100000");
  CHECK_EQUAL(read_file(root + "/m/two/cpu.max"), "200000 100000");
  CHECK_EQUAL(read_file(root + "/m/one/cpu.max"), "");  // no quota asked
  CHECK_EQUAL(read_file(root + "/m/half/memory.max"), "67108864");
  CHECK_EQUAL(read_file(root + "/m/half/pids.max"), "20");
  CHECK_EQUAL(read_file(root + "/m/one/memory.max"), "");  // zero: left alone
  // A tiny quota is raised to the kernel's 1 ms minimum; a tiny share to 2.
  cgroup_limits tiny;
  tiny.cpus = 0.001;
  tiny.cfs_quota = true;
  CHECK_EQUAL(cg->set_limits("m/one", tiny), "");
  CHECK_EQUAL(read_file(root + "/m/one/cpu.max"), "1000 100000");
  CHECK_EQUAL(read_file(root + "/m/one/cpu.weight"), "1");
  // A missing interface file is an error naming it.
  REQUIRE_EQUAL(cg->create("m/bare"), "");
  cgroup_limits mem;
  mem.memory_bytes = 1 << 20;
  auto err = cg->set_limits("m/bare", mem);
  CHECK(err.find(root + "/m/bare/memory.max") != std::string::npos);
  CHECK(err.find("No such file or directory") != std::string::npos);
}

TEST(v2 usage and processes are read from the interface files) {
  auto root = fake_v2_root();
  auto cg = make_cgroups_v2(root);
  REQUIRE_EQUAL(cg->create("c/t"), "");
  auto g = root + "/c";
  write_file(g + "/cpu.stat", "usage_usec 1750000\nuser_usec 1500000\nsystem_usec 250000\nnr_periods 0\n");
  write_file(g + "/memory.stat", "anon_thp 0\nanon 4096000\nfile 123\n");
  write_file(g + "/memory.peak", "8192000\n");
  write_file(g + "/pids.current", "3\n");
  write_file(g + "/memory.events", "low 0\nhigh 0\nmax 5\noom 2\noom_kill 2\noom_group_kill 0\n");
  auto u = cg->usage("c");
  CHECK_EQUAL(u.cpu_user_seconds, 1.5);
  CHECK_EQUAL(u.cpu_system_seconds, 0.25);
  CHECK_EQUAL(u.memory_rss_bytes, 4096000u);
  CHECK_EQUAL(u.memory_peak_bytes, 8192000u);
  CHECK_EQUAL(u.processes, 3u);
  CHECK_EQUAL(u.oom_kills, 2u);
  // Missing files read as 0.
  auto none = cg->usage("c/t");
  CHECK_EQUAL(none.memory_rss_bytes, 0u);
  CHECK_EQUAL(none.oom_kills, 0u);
  CHECK_EQUAL(none.cpu_user_seconds, 0.0);
  // Processes of the group and of the groups below it.
  write_file(g + "/cgroup.procs", "100\n101\n");
  write_file(g + "/t/cgroup.procs", "102\n100\n");
  CHECK_EQUAL(cg->processes("c"), std::vector<pid_t>({100, 101, 102}));
  CHECK_EQUAL(cg->processes("c/t"), std::vector<pid_t>({100, 102}));
  CHECK(cg->processes("nowhere").empty());
}

TEST(v2 remove takes the tree deepest first and a missing group is fine) {
  auto root = fake_v2_root();
  auto cg = make_cgroups_v2(root);
  REQUIRE_EQUAL(cg->create("r/a/b/c"), "");
  REQUIRE_EQUAL(cg->create("r/a/d"), "");
  REQUIRE_EQUAL(cg->create("r/keep"), "");
  CHECK_EQUAL(cg->remove("r/a"), "");
  CHECK(!cg->exists("r/a"));
  CHECK(cg->exists("r/keep"));
  CHECK_EQUAL(cg->remove("r/a"), "");
  CHECK_EQUAL(cg->remove("never/was"), "");
  // What cannot be removed is reported (on cgroupfs: EBUSY while processes exit; here: a non-empty dir).
  write_file(root + "/r/keep/file", "x");
  auto err = cg->remove("r");
  CHECK(err.find(root + "/r/keep") != std::string::npos);
  MESSAGE("error: " << err);
  CHECK(!cg->remove("").empty());  // never the root
}

// -- v1 on a fake hierarchy (cpu and cpuacct sharing one directory) ---------------------------------------------

TEST(v1 with a joint cpu cpuacct hierarchy uses it once) {
  auto cc = dir + "/cpu,cpuacct";
  auto mem = dir + "/memory";
  make_dir(cc);
  make_dir(mem);
  auto cg = make_cgroups_v1({{"cpu", cc}, {"cpuacct", cc}, {"memory", mem}});
  CHECK_EQUAL(cg->version(), 1);
  CHECK(cg->has("cpu"));
  CHECK(cg->has("memory"));
  CHECK(!cg->has("pids"));
  CHECK(!cg->has("freezer"));
  CHECK_EQUAL(cg->create("m/c1"), "");
  CHECK(cg->exists("m/c1"));
  auto files = cg->procs_files("m/c1");
  std::sort(files.begin(), files.end());
  CHECK_EQUAL(files, std::vector<std::string>({cc + "/m/c1/cgroup.procs", mem + "/m/c1/cgroup.procs"}));
  for (auto* f : {"cpu.shares", "cpu.cfs_period_us", "cpu.cfs_quota_us"})
    write_file(cc + "/m/c1/" + f, "");
  for (auto* f : {"memory.limit_in_bytes", "memory.memsw.limit_in_bytes"})
    write_file(mem + "/m/c1/" + f, "");
  cgroup_limits l;
  l.cpus = 1.5;
  l.cfs_quota = true;
  l.memory_bytes = 100 << 20;
  CHECK_EQUAL(cg->set_limits("m/c1", l), "");
  CHECK_EQUAL(read_file(cc + "/m/c1/cpu.shares"), "1536");
  CHECK_EQUAL(read_file(cc + "/m/c1/cpu.cfs_period_us"), "100000");
  CHECK_EQUAL(read_file(cc + "/m/c1/cpu.cfs_quota_us"), "150000");
  CHECK_EQUAL(read_file(mem + "/m/c1/memory.limit_in_bytes"), "104857600");
  CHECK_EQUAL(read_file(mem + "/m/c1/memory.memsw.limit_in_bytes"), "104857600");
  // Without a pids hierarchy a pids limit is an error, not silently dropped.
  cgroup_limits p;
  p.pids_max = 5;
  CHECK(!cg->set_limits("m/c1", p).empty());
  // Usage: cpuacct.stat in USER_HZ ticks, memory.stat total_rss (not rss), the oom_kill line.
  auto hz = static_cast<double>(::sysconf(_SC_CLK_TCK));
  write_file(cc + "/m/c1/cpuacct.stat", "user 250\nsystem 50\n");
  write_file(mem + "/m/c1/memory.stat", "cache 1\nrss 7\ntotal_cache 1\ntotal_rss 409600\n");
  write_file(mem + "/m/c1/memory.max_usage_in_bytes", "819200\n");
  write_file(mem + "/m/c1/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n");
  auto u = cg->usage("m/c1");
  CHECK_EQUAL(u.cpu_user_seconds, 250 / hz);
  CHECK_EQUAL(u.cpu_system_seconds, 50 / hz);
  CHECK_EQUAL(u.memory_rss_bytes, 409600u);
  CHECK_EQUAL(u.memory_peak_bytes, 819200u);
  CHECK_EQUAL(u.oom_kills, 3u);
  CHECK_EQUAL(u.processes, 0u);
  CHECK_EQUAL(cg->children("m"), std::vector<std::string>({"c1"}));
}

FIXTURE_SCOPE_END()

// -- v1, the real thing ------------------------------------------------------------------------------------------

namespace {

// This host's v1 hierarchies with a test group of its own, taken down at the end even when a check failed.
struct real_v1 {
  std::unique_ptr<cgroups> cg;
  std::string base = "mesoscaf-test-" + std::to_string(::getpid());
  std::string sandboxes;
  std::vector<pid_t> children;

  real_v1() {
    if (::geteuid() != 0)
      FAIL("the cgroup tests must run as root (they create cgroups under /sys/fs/cgroup)");
    std::string why;
    cg = detect_cgroups(&why);
    if (cg == nullptr || cg->version() != 1)
      FAIL("this host has no cgroup v1 memory hierarchy mounted (" << why << "); the tests expect one");
    for (auto* c : {"cpu", "memory", "pids", "freezer"})
      if (!cg->has(c))
        FAIL("the cgroup v1 controller " << c << " is not mounted");
    char tmpl[] = "/tmp/mesoscaf-cgroups-v1-XXXXXX";
    char* d = ::mkdtemp(tmpl);
    REQUIRE(d != nullptr);
    sandboxes = d;
  }

  ~real_v1() {
    if (cg != nullptr) {
      cg->kill_all(base);
      for (auto pid : children)
        wait_for(pid, std::chrono::seconds(5));
      std::string err;
      eventually([&] { return (err = cg->remove(base)).empty(); }, std::chrono::seconds(5));
      if (!err.empty())
        MESSAGE("cleanup: " << err);
    }
    if (!sandboxes.empty()) {
      std::string cmd = "rm -rf '" + sandboxes + "'";
      [[maybe_unused]] int rc = std::system(cmd.c_str());
    }
  }

  std::string group(const std::string& name) {
    auto path = base + "/" + name;
    REQUIRE_EQUAL(cg->create(path), "");
    return path;
  }

  // Starts `cmd` through the shell, joined to `path`.
  pid_t start(const std::string& path, const std::string& cmd, const std::string& sandbox_name) {
    launch_spec spec;
    spec.id = container_id{"c1"};
    spec.command.shell = true;
    spec.command.value = cmd;
    spec.sandbox = sandboxes + "/" + sandbox_name;
    process_isolation iso;
    iso.cgroup_procs = cg->procs_files(path);
    auto r = spawn_process(spec, iso);
    REQUIRE(r.ok());
    children.push_back(r.pid);
    return r.pid;
  }

  std::string file(const std::string& controller, const std::string& path, const std::string& name) {
    return "/sys/fs/cgroup/" + controller + "/" + path + "/" + name;
  }

  static std::string comm(pid_t pid) {
    auto s = read_file("/proc/" + std::to_string(pid) + "/comm");
    if (!s.empty() && s.back() == '\n')
      s.pop_back();
    return s;
  }
};

} // namespace

FIXTURE_SCOPE(cgroups_v1_tests, real_v1)

TEST(v1 cpu shares quota and memory limits reach the kernel) {
  auto a = group("a");
  CHECK(cg->exists(a));
  CHECK_EQUAL(read_file(file("memory", a, "memory.use_hierarchy")), "1\n");
  cgroup_limits l;
  l.cpus = 0.5;
  l.cfs_quota = true;
  l.memory_bytes = 64 << 20;
  CHECK_EQUAL(cg->set_limits(a, l), "");
  CHECK_EQUAL(read_file(file("cpu", a, "cpu.shares")), "512\n");
  CHECK_EQUAL(read_file(file("cpu", a, "cpu.cfs_period_us")), "100000\n");
  CHECK_EQUAL(read_file(file("cpu", a, "cpu.cfs_quota_us")), "50000\n");
  CHECK_EQUAL(read_file(file("memory", a, "memory.limit_in_bytes")), "67108864\n");
  l.cpus = 2;
  l.memory_bytes = 128 << 20;  // raising: memsw must move first
  CHECK_EQUAL(cg->set_limits(a, l), "");
  CHECK_EQUAL(read_file(file("cpu", a, "cpu.shares")), "2048\n");
  CHECK_EQUAL(read_file(file("cpu", a, "cpu.cfs_quota_us")), "200000\n");
  CHECK_EQUAL(read_file(file("memory", a, "memory.limit_in_bytes")), "134217728\n");
  auto memsw = read_file(file("memory", a, "memory.memsw.limit_in_bytes"));
  if (!memsw.empty())
    CHECK_EQUAL(memsw, "134217728\n");
  l.memory_bytes = 32 << 20;  // lowering: memsw second
  CHECK_EQUAL(cg->set_limits(a, l), "");
  CHECK_EQUAL(read_file(file("memory", a, "memory.limit_in_bytes")), "33554432\n");
  if (!memsw.empty())
    CHECK_EQUAL(read_file(file("memory", a, "memory.memsw.limit_in_bytes")), "33554432\n");
  cgroup_limits p;
  p.pids_max = 7;
  CHECK_EQUAL(cg->set_limits(a, p), "");
  CHECK_EQUAL(read_file(file("pids", a, "pids.max")), "7\n");
  CHECK_EQUAL(cg->children(base), std::vector<std::string>({"a"}));
}

TEST(v1 kill_all reaches forked and setsid processes and the group goes away) {
  auto a = group("a");
  auto pid = start(a, "setsid sleep 100 & sleep 100", "kill");
  size_t sleeps = 0;
  bool both = eventually(
    [&] {
      sleeps = 0;
      for (auto p : cg->processes(a))
        sleeps += comm(p) == "sleep" ? 1 : 0;
      return sleeps == 2;
    },
    std::chrono::seconds(10));
  CHECK(both);
  auto procs = cg->processes(a);
  CHECK(std::find(procs.begin(), procs.end(), pid) != procs.end());
  CHECK_GREATER_OR_EQUAL(cg->usage(a).processes, 2u);
  CHECK_GREATER_OR_EQUAL(cg->kill_all(base), 2u);
  auto st = wait_for(pid, std::chrono::seconds(5));
  CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
  CHECK(eventually([&] { return cg->processes(base).empty(); }, std::chrono::seconds(5)));
  // Not frozen any more: a new process in the group runs.
  CHECK_EQUAL(read_file(file("freezer", a, "freezer.state")), "THAWED\n");
  std::string err = "not tried";
  CHECK(eventually([&] { return (err = cg->remove(a)).empty(); }, std::chrono::seconds(5)));
  CHECK_EQUAL(err, "");
  CHECK(!cg->exists(a));
  CHECK(cg->exists(base));
}

TEST(v1 a memory hog is killed by the kernel and counted) {
  auto hog = group("hog");
  cgroup_limits l;
  l.memory_bytes = 32 << 20;
  REQUIRE_EQUAL(cg->set_limits(hog, l), "");
  CHECK_EQUAL(cg->usage(hog).oom_kills, 0u);
  // tail keeps its whole input when it has no newline: 100 MB of anonymous memory.
  auto pid = start(hog, "head -c 100000000 /dev/zero | tail", "hog");
  auto st = wait_for(pid, std::chrono::seconds(60));
  REQUIRE(st != -12345);
  MESSAGE("the hog " << describe_wait_status(st));
  CHECK(!(WIFEXITED(st) && WEXITSTATUS(st) == 0));
  auto u = cg->usage(hog);
  CHECK_GREATER(u.oom_kills, 0u);
  CHECK_GREATER(u.memory_peak_bytes, 16u << 20);
  CHECK_LESS_OR_EQUAL(u.memory_peak_bytes, 32u << 20);
}

TEST(v1 pids max bounds a fork loop) {
  auto p = group("pids");
  cgroup_limits l;
  l.pids_max = 20;
  REQUIRE_EQUAL(cg->set_limits(p, l), "");
  auto pid = start(p, "for i in $(seq 100); do sleep 5 & done; wait", "pids");
  uint64_t most = 0;
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (std::chrono::steady_clock::now() < until) {
    most = std::max<uint64_t>(most, cg->usage(p).processes);
    most = std::max<uint64_t>(most, cg->processes(p).size());
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  MESSAGE("at most " << most << " processes");
  CHECK_LESS_OR_EQUAL(most, 20u);
  CHECK_GREATER_OR_EQUAL(most, 15u);  // the loop did reach the limit
  // The shell was refused forks and said so.
  CHECK(!read_file(sandboxes + "/pids/stderr").empty());
  // dash gives up when a fork fails, so the shell may be gone already; its sleeps are not.
  cg->kill_all(p);
  CHECK_NOT_EQUAL(wait_for(pid, std::chrono::seconds(5)), -12345);
  CHECK(eventually([&] { return cg->processes(p).empty(); }, std::chrono::seconds(5)));
}

TEST(v1 add_process moves a running process) {
  auto m = group("moved");
  auto other = group("other");
  auto pid = start(other, "exec sleep 100", "moved");  // one process, no fork to race with
  CHECK_EQUAL(cg->processes(other), std::vector<pid_t>({pid}));
  CHECK_EQUAL(cg->add_process(m, pid), "");
  CHECK_EQUAL(cg->processes(m), std::vector<pid_t>({pid}));
  CHECK(cg->processes(other).empty());
  CHECK(!cg->add_process(base + "/missing", pid).empty());
  CHECK_EQUAL(cg->kill_all(m), 1u);
  CHECK(WIFSIGNALED(wait_for(pid, std::chrono::seconds(5))));
}

FIXTURE_SCOPE_END()
