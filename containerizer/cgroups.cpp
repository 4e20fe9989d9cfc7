#include "containerizer/cgroups.hpp"

#include "config/support/files.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstring>
#include <set>
#include <sstream>
#include <thread>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace mesoscaf {

namespace {

// -- small files -------------------------------------------------------------------------------------------------

// cgroupfs files are a few bytes to a few KiB; read them whole. Returns "" or an error naming the file.
std::string read_small(const std::string& path, std::string& out) {
  out.clear();
  fd_guard f{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (f.fd < 0)
    return errno_text("cannot read " + path, errno);
  char buf[4096];
  for (;;) {
    auto n = ::read(f.fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return errno_text("cannot read " + path, errno);
    }
    if (n == 0)
      return {};
    out.append(buf, static_cast<size_t>(n));
  }
}

// One write(2) per value: cgroupfs parses each write as one command. Never creates the file (cgroupfs cannot, and
// a missing file means a missing controller). `append` keeps earlier writes when the "cgroupfs" is a plain
// directory in tests (subtree_control gets several writes); the kernel ignores the offset either way.
std::string write_small(const std::string& path, const std::string& value, bool append = false) {
  int flags = O_WRONLY | O_CLOEXEC | (append ? O_APPEND : O_TRUNC);
  fd_guard f{::open(path.c_str(), flags)};
  if (f.fd < 0)
    return errno_text("cannot open " + path, errno);
  for (;;) {
    auto n = ::write(f.fd, value.data(), value.size());
    if (n >= 0)
      return {};
    if (errno != EINTR)
      return errno_text("cannot write '" + value + "' to " + path, errno);
  }
}

bool file_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

bool is_directory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\n");
  if (b == std::string::npos)
    return {};
  auto e = s.find_last_not_of(" \t\n");
  return s.substr(b, e - b + 1);
}

// A file holding one number ("max" and unreadable files are 0).
uint64_t read_number(const std::string& path) {
  std::string text;
  if (!read_small(path, text).empty())
    return 0;
  text = trim(text);
  if (text.empty() || text[0] < '0' || text[0] > '9')
    return 0;
  return std::strtoull(text.c_str(), nullptr, 10);
}

// The value of `key` in a "key value" per line file (memory.stat, cpu.stat, memory.events, ...); 0 if absent.
uint64_t read_keyed(const std::string& path, const std::string& key) {
  std::string text;
  if (!read_small(path, text).empty())
    return 0;
  std::istringstream in{text};
  std::string k;
  uint64_t v = 0;
  while (in >> k >> v)
    if (k == key)
      return v;
  return 0;
}

std::vector<std::string> words(const std::string& text) {
  std::istringstream in{text};
  std::vector<std::string> result;
  for (std::string w; in >> w;)
    result.push_back(w);
  return result;
}

// Names of the subdirectories of `dir` (child groups; cgroupfs has no other directories).
std::vector<std::string> subdirectories(const std::string& dir) {
  std::vector<std::string> result;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr)
    return result;
  while (auto* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..")
      continue;
    if (e->d_type == DT_DIR || (e->d_type == DT_UNKNOWN && is_directory(dir + "/" + name)))
      result.push_back(name);
  }
  ::closedir(d);
  std::sort(result.begin(), result.end());
  return result;
}

// Appends the pids in `dir`/cgroup.procs and in every group below it.
void collect_processes(const std::string& dir, std::vector<pid_t>& out) {
  std::string text;
  if (read_small(dir + "/cgroup.procs", text).empty()) {
    std::istringstream in{text};
    for (long pid; in >> pid;)
      if (pid > 0)
        out.push_back(static_cast<pid_t>(pid));
  }
  for (auto& child : subdirectories(dir))
    collect_processes(dir + "/" + child, out);
}

std::vector<pid_t> processes_below(const std::string& dir) {
  std::vector<pid_t> result;
  collect_processes(dir, result);
  std::sort(result.begin(), result.end());
  result.erase(std::unique(result.begin(), result.end()), result.end());
  return result;
}

// SIGKILLs what `dir` and below hold, re-reading a few times for processes forked meanwhile (used when the group
// cannot be frozen). Returns how many distinct processes were signalled.
size_t kill_loop(const std::string& dir) {
  std::set<pid_t> seen;
  for (int round = 0; round < 5; ++round) {
    auto pids = processes_below(dir);
    bool fresh = false;
    for (auto pid : pids) {
      ::kill(pid, SIGKILL);
      fresh |= seen.insert(pid).second;
    }
    if (!fresh)
      break;
  }
  return seen.size();
}

// rmdir of `dir` and its child groups, deepest first. A missing group is fine; EBUSY (processes still exiting)
// is returned so the caller can try again.
std::string remove_depth_first(const std::string& dir) {
  std::string first_error;
  for (auto& child : subdirectories(dir))
    if (auto err = remove_depth_first(dir + "/" + child); !err.empty() && first_error.empty())
      first_error = err;
  if (::rmdir(dir.c_str()) != 0 && errno != ENOENT && first_error.empty())
    first_error = errno_text("cannot remove cgroup " + dir, errno);
  return first_error;
}

// mkdir of one level; an existing directory is fine.
std::string make_group_dir(const std::string& dir, bool& created) {
  created = false;
  if (::mkdir(dir.c_str(), 0755) == 0) {
    created = true;
    return {};
  }
  if (errno == EEXIST && is_directory(dir))
    return {};
  return errno_text("cannot create cgroup " + dir, errno);
}

// The components of a relative group path ("a/b/c" -> a, b, c); empty ones and "." are dropped.
std::vector<std::string> components(const std::string& path) {
  std::vector<std::string> result;
  std::string part;
  std::istringstream in{path};
  while (std::getline(in, part, '/'))
    if (!part.empty() && part != ".")
      result.push_back(part);
  return result;
}

std::string join(const std::string& root, const std::string& path) {
  std::string result = root;
  for (auto& c : components(path))
    result += "/" + c;
  return result;
}

uint64_t cpu_shares(double cpus) {
  return std::max<uint64_t>(2, static_cast<uint64_t>(std::llround(1024.0 * cpus)));
}

uint64_t cfs_quota_us(double cpus, uint64_t period_us) {
  return std::max<uint64_t>(1000, static_cast<uint64_t>(std::llround(cpus * static_cast<double>(period_us))));
}

constexpr uint64_t cfs_period_us = 100000;

// Freezing is quick (the kernel stops tasks at their next return to user space); wait at most ~100 ms.
template <class Pred>
bool poll_briefly(Pred done) {
  for (int i = 0; i < 50; ++i) {
    if (done())
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return done();
}

// -- v1 ----------------------------------------------------------------------------------------------------------

class cgroups_v1 final : public cgroups {
public:
  explicit cgroups_v1(std::map<std::string, std::string> mounts) : mounts_(std::move(mounts)) {
    // cpu and cpuacct may share one mount ("cpu,cpuacct"): each hierarchy once.
    for (auto& [controller, dir] : mounts_)
      if (std::find(hierarchies_.begin(), hierarchies_.end(), dir) == hierarchies_.end())
        hierarchies_.push_back(dir);
    // Where to look for a group's processes: every hierarchy holds them (new processes join all); the freezer
    // first because kill_all freezes there.
    for (auto* c : {"freezer", "memory", "pids", "cpu", "cpuacct"})
      if (auto i = mounts_.find(c); i != mounts_.end()) {
        primary_ = i->second;
        break;
      }
    if (primary_.empty() && !hierarchies_.empty())
      primary_ = hierarchies_.front();
  }

  int version() const override {
    return 1;
  }

  bool has(const std::string& controller) const override {
    return mounts_.count(controller) > 0;
  }

  std::string create(const std::string& path) override {
    auto parts = components(path);
    if (parts.empty())
      return "empty cgroup path";
    for (auto& root : hierarchies_) {
      bool memory = has("memory") && mounts_.at("memory") == root;
      std::string dir = root;
      for (auto& part : parts) {
        dir += "/" + part;
        bool created = false;
        if (auto err = make_group_dir(dir, created); !err.empty())
          return err;
        // Limits of a parent apply to its children only with use_hierarchy (always 1 on newer kernels, where the
        // file may refuse writes); it can only be changed while the group has no children, i.e. right now.
        if (memory && created) {
          std::string text;
          if (read_small(dir + "/memory.use_hierarchy", text).empty() && trim(text) == "0")
            write_small(dir + "/memory.use_hierarchy", "1");
        }
      }
    }
    return {};
  }

  std::string set_limits(const std::string& path, const cgroup_limits& limits) override {
    if (limits.cpus > 0) {
      if (!has("cpu"))
        return "no cpu cgroup controller";
      auto dir = join(mounts_.at("cpu"), path);
      if (auto err = write_small(dir + "/cpu.shares", std::to_string(cpu_shares(limits.cpus))); !err.empty())
        return err;
      if (limits.cfs_quota) {
        // Period first: the kernel checks quota against the period in force.
        if (auto err = write_small(dir + "/cpu.cfs_period_us", std::to_string(cfs_period_us)); !err.empty())
          return err;
        auto quota = std::to_string(cfs_quota_us(limits.cpus, cfs_period_us));
        if (auto err = write_small(dir + "/cpu.cfs_quota_us", quota); !err.empty())
          return err;
      }
    }
    if (limits.memory_bytes > 0) {
      if (!has("memory"))
        return "no memory cgroup controller";
      auto dir = join(mounts_.at("memory"), path);
      auto value = std::to_string(limits.memory_bytes);
      // The kernel keeps memory <= memory+swap: when raising, memsw must go first, when lowering, second. Trying
      // memsw on both sides of the memory write covers both without reading the old value; memsw is absent
      // without swap accounting, so its errors are ignored.
      auto memsw = dir + "/memory.memsw.limit_in_bytes";
      bool has_memsw = file_exists(memsw);
      if (has_memsw)
        write_small(memsw, value);
      if (auto err = write_small(dir + "/memory.limit_in_bytes", value); !err.empty())
        return err;
      if (has_memsw)
        write_small(memsw, value);
    }
    if (limits.pids_max > 0) {
      if (!has("pids"))
        return "no pids cgroup controller";
      auto dir = join(mounts_.at("pids"), path);
      if (auto err = write_small(dir + "/pids.max", std::to_string(limits.pids_max)); !err.empty())
        return err;
    }
    return {};
  }

  std::vector<std::string> procs_files(const std::string& path) const override {
    std::vector<std::string> result;
    for (auto& root : hierarchies_)
      result.push_back(join(root, path) + "/cgroup.procs");
    return result;
  }

  std::string add_process(const std::string& path, pid_t pid) override {
    for (auto& file : procs_files(path))
      if (auto err = write_small(file, std::to_string(pid)); !err.empty())
        return err;
    return {};
  }

  std::vector<pid_t> processes(const std::string& path) const override {
    if (primary_.empty())
      return {};
    return processes_below(join(primary_, path));
  }

  size_t kill_all(const std::string& path) override {
    if (!has("freezer"))
      return primary_.empty() ? 0 : kill_loop(join(primary_, path));
    // Frozen tasks cannot fork, so the list read below is complete; SIGKILL is delivered when they thaw.
    // freezer.state is hierarchical: freezing the group freezes the groups below it.
    auto dir = join(mounts_.at("freezer"), path);
    // The common case (a task whose processes all ended): nothing to freeze. An empty group stays empty, since
    // only a write to its cgroup.procs can add a process.
    if (processes_below(dir).empty())
      return 0;
    auto state = dir + "/freezer.state";
    if (!write_small(state, "FROZEN").empty())
      return kill_loop(dir);  // gone, or no freezer here after all
    poll_briefly([&] {
      std::string text;
      return read_small(state, text).empty() && trim(text) == "FROZEN";
    });
    auto pids = processes_below(dir);
    for (auto pid : pids)
      ::kill(pid, SIGKILL);
    write_small(state, "THAWED");
    // If freezing did not complete (a task stuck in the kernel), something may have forked meanwhile.
    return std::max(pids.size(), kill_loop(dir));
  }

  std::string remove(const std::string& path) override {
    if (components(path).empty())
      return "empty cgroup path";
    std::string first_error;
    for (auto& root : hierarchies_)
      if (auto err = remove_depth_first(join(root, path)); !err.empty() && first_error.empty())
        first_error = err;
    return first_error;
  }

  bool exists(const std::string& path) const override {
    for (auto& root : hierarchies_)
      if (is_directory(join(root, path)))
        return true;
    return false;
  }

  std::vector<std::string> children(const std::string& path) const override {
    if (primary_.empty())
      return {};
    return subdirectories(join(primary_, path));
  }

  cgroup_usage usage(const std::string& path) const override {
    cgroup_usage u;
    if (auto i = mounts_.find("cpuacct"); i != mounts_.end()) {
      auto stat = join(i->second, path) + "/cpuacct.stat";
      // In USER_HZ ticks (sysconf(_SC_CLK_TCK), 100 on Linux).
      double hz = static_cast<double>(std::max(1L, ::sysconf(_SC_CLK_TCK)));
      u.cpu_user_seconds = static_cast<double>(read_keyed(stat, "user")) / hz;
      u.cpu_system_seconds = static_cast<double>(read_keyed(stat, "system")) / hz;
    }
    if (auto i = mounts_.find("memory"); i != mounts_.end()) {
      auto dir = join(i->second, path);
      u.memory_rss_bytes = read_keyed(dir + "/memory.stat", "total_rss");
      u.memory_peak_bytes = read_number(dir + "/memory.max_usage_in_bytes");
      u.oom_kills = read_keyed(dir + "/memory.oom_control", "oom_kill");
    }
    if (auto i = mounts_.find("pids"); i != mounts_.end())
      u.processes = read_number(join(i->second, path) + "/pids.current");
    return u;
  }

private:
  std::map<std::string, std::string> mounts_;
  std::vector<std::string> hierarchies_;  // distinct mount directories
  std::string primary_;                   // the hierarchy processes are read from
};

// -- v2 ----------------------------------------------------------------------------------------------------------

class cgroups_v2 final : public cgroups {
public:
  explicit cgroups_v2(std::string root) : root_(std::move(root)) {
    while (root_.size() > 1 && root_.back() == '/')
      root_.pop_back();
  }

  int version() const override {
    return 2;
  }

  bool has(const std::string& controller) const override {
    if (controller == "freezer") {
      // The root group has neither cgroup.freeze nor cgroup.kill; every other group has them on kernels that
      // support them (5.2 and 5.14), so one child of the root tells.
      for (auto& child : subdirectories(root_))
        if (file_exists(root_ + "/" + child + "/cgroup.freeze") || file_exists(root_ + "/" + child + "/cgroup.kill"))
          return true;
      return false;
    }
    std::string text;
    if (!read_small(root_ + "/cgroup.controllers", text).empty())
      return false;
    auto ws = words(text);
    return std::find(ws.begin(), ws.end(), controller) != ws.end();
  }

  std::string create(const std::string& path) override {
    auto parts = components(path);
    if (parts.empty())
      return "empty cgroup path";
    std::string dir = root_;
    for (auto& part : parts) {
      // A controller reaches a group only if every ancestor enables it for its children.
      if (auto err = enable_controllers(dir); !err.empty())
        return err;
      dir += "/" + part;
      bool created = false;
      if (auto err = make_group_dir(dir, created); !err.empty())
        return err;
    }
    return {};
  }

  std::string set_limits(const std::string& path, const cgroup_limits& limits) override {
    auto dir = join(root_, path);
    if (limits.cpus > 0) {
      if (auto err = write_small(dir + "/cpu.weight", std::to_string(cpu_weight(limits.cpus))); !err.empty())
        return err;
      if (limits.cfs_quota) {
        auto value = std::to_string(cfs_quota_us(limits.cpus, cfs_period_us)) + " " + std::to_string(cfs_period_us);
        if (auto err = write_small(dir + "/cpu.max", value); !err.empty())
          return err;
      }
    }
    if (limits.memory_bytes > 0)
      if (auto err = write_small(dir + "/memory.max", std::to_string(limits.memory_bytes)); !err.empty())
        return err;
    if (limits.pids_max > 0)
      if (auto err = write_small(dir + "/pids.max", std::to_string(limits.pids_max)); !err.empty())
        return err;
    return {};
  }

  std::vector<std::string> procs_files(const std::string& path) const override {
    return {join(root_, path) + "/cgroup.procs"};
  }

  std::string add_process(const std::string& path, pid_t pid) override {
    return write_small(join(root_, path) + "/cgroup.procs", std::to_string(pid));
  }

  std::vector<pid_t> processes(const std::string& path) const override {
    return processes_below(join(root_, path));
  }

  size_t kill_all(const std::string& path) override {
    auto dir = join(root_, path);
    // cgroup.kill (5.14) kills the whole subtree atomically, forks included.
    if (file_exists(dir + "/cgroup.kill")) {
      auto count = processes_below(dir).size();
      if (write_small(dir + "/cgroup.kill", "1").empty())
        return count;
    }
    auto freeze = dir + "/cgroup.freeze";
    if (!file_exists(freeze) || !write_small(freeze, "1").empty())
      return kill_loop(dir);
    poll_briefly([&] { return read_keyed(dir + "/cgroup.events", "frozen") == 1; });
    auto pids = processes_below(dir);
    for (auto pid : pids)
      ::kill(pid, SIGKILL);
    write_small(freeze, "0");
    return std::max(pids.size(), kill_loop(dir));
  }

  std::string remove(const std::string& path) override {
    if (components(path).empty())
      return "empty cgroup path";
    return remove_depth_first(join(root_, path));
  }

  bool exists(const std::string& path) const override {
    return is_directory(join(root_, path));
  }

  std::vector<std::string> children(const std::string& path) const override {
    return subdirectories(join(root_, path));
  }

  cgroup_usage usage(const std::string& path) const override {
    cgroup_usage u;
    auto dir = join(root_, path);
    u.cpu_user_seconds = static_cast<double>(read_keyed(dir + "/cpu.stat", "user_usec")) / 1e6;
    u.cpu_system_seconds = static_cast<double>(read_keyed(dir + "/cpu.stat", "system_usec")) / 1e6;
    u.memory_rss_bytes = read_keyed(dir + "/memory.stat", "anon");
    u.memory_peak_bytes = read_number(dir + "/memory.peak");
    u.processes = read_number(dir + "/pids.current");
    u.oom_kills = read_keyed(dir + "/memory.events", "oom_kill");
    return u;
  }

  // systemd's mapping of cpu.shares onto cpu.weight: [2, 262144] linearly onto [1, 10000] (so 1024 shares, one
  // cpu, is weight 39; only the proportions between siblings matter).
  static uint64_t cpu_weight(double cpus) {
    auto shares = cpu_shares(cpus);
    auto weight = 1 + ((shares - 2) * 9999) / 262142;
    return std::clamp<uint64_t>(weight, 1, 10000);
  }

private:
  // Enables cpu, memory and pids for the children of `dir`, as far as `dir` offers them (cgroup.controllers) and
  // they are not enabled yet (a parent that holds processes itself refuses new controllers).
  std::string enable_controllers(const std::string& dir) {
    std::string offered_text, enabled_text;
    if (!read_small(dir + "/cgroup.controllers", offered_text).empty())
      return {};  // nothing offered here
    read_small(dir + "/cgroup.subtree_control", enabled_text);
    auto offered = words(offered_text);
    auto enabled = words(enabled_text);  // the kernel lists "cpu memory"; a fake hierarchy keeps our "+cpu" lines
    for (auto& w : enabled)
      if (!w.empty() && w[0] == '+')
        w.erase(0, 1);
    for (auto* c : {"cpu", "memory", "pids"}) {
      if (std::find(offered.begin(), offered.end(), c) == offered.end())
        continue;
      if (std::find(enabled.begin(), enabled.end(), c) != enabled.end())
        continue;
      if (auto err = write_small(dir + "/cgroup.subtree_control", std::string("+") + c + "\n", true); !err.empty())
        return err;
    }
    return {};
  }

  std::string root_;
};

// Undoes mountinfo's octal escapes ("\040" for a space).
std::string unescape_mount_path(const std::string& s) {
  std::string result;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      auto oct = s.substr(i + 1, 3);
      if (oct.size() == 3 && std::all_of(oct.begin(), oct.end(), [](char c) { return c >= '0' && c <= '7'; })) {
        result += static_cast<char>(std::stoi(oct, nullptr, 8));
        i += 3;
        continue;
      }
    }
    result += s[i];
  }
  return result;
}

} // namespace

std::unique_ptr<cgroups> make_cgroups_v1(std::map<std::string, std::string> mounts) {
  return std::make_unique<cgroups_v1>(std::move(mounts));
}

std::unique_ptr<cgroups> make_cgroups_v2(std::string root) {
  return std::make_unique<cgroups_v2>(std::move(root));
}

cgroup_mounts parse_cgroup_mounts(const std::string& mountinfo_text) {
  static const std::set<std::string> known = {"cpu",     "cpuacct",    "memory",  "pids",   "freezer",
                                              "cpuset",  "devices",    "blkio",   "net_cls", "net_prio",
                                              "hugetlb", "perf_event", "rdma",    "misc"};
  cgroup_mounts result;
  std::istringstream in{mountinfo_text};
  for (std::string line; std::getline(in, line);) {
    // "<id> <parent> <maj:min> <root> <mount point> <options> [optional fields] - <fstype> <source> <super options>"
    auto sep = line.find(" - ");
    if (sep == std::string::npos)
      continue;
    auto before = words(line.substr(0, sep));
    auto after = words(line.substr(sep + 3));
    if (before.size() < 5 || after.empty())
      continue;
    auto mount_point = unescape_mount_path(before[4]);
    if (after[0] == "cgroup2") {
      if (result.v2.empty())
        result.v2 = mount_point;
    } else if (after[0] == "cgroup" && after.size() >= 3) {
      std::istringstream opts{after[2]};
      for (std::string opt; std::getline(opts, opt, ',');)
        if (known.count(opt) > 0)
          result.v1.emplace(opt, mount_point);  // the first mount of a controller wins
    }
  }
  return result;
}

std::unique_ptr<cgroups> detect_cgroups(std::string* why, const std::string& mountinfo_path) {
  auto say = [&](std::string text) -> std::unique_ptr<cgroups> {
    if (why != nullptr)
      *why = std::move(text);
    return nullptr;
  };
  std::string text;
  if (auto err = read_small(mountinfo_path, text); !err.empty())
    return say(err);
  auto mounts = parse_cgroup_mounts(text);
  if (mounts.v1.count("memory") > 0) {
    std::map<std::string, std::string> used;
    for (auto* c : {"cpu", "cpuacct", "memory", "pids", "freezer"})
      if (auto i = mounts.v1.find(c); i != mounts.v1.end())
        used.emplace(i->first, i->second);
    return make_cgroups_v1(std::move(used));
  }
  if (mounts.v2.empty())
    return say("no cgroup v1 memory controller and no cgroup2 file system is mounted (" + mountinfo_path + ")");
  std::string controllers;
  if (auto err = read_small(mounts.v2 + "/cgroup.controllers", controllers); !err.empty())
    return say(err);
  auto ws = words(controllers);
  if (std::find(ws.begin(), ws.end(), "memory") == ws.end())
    return say("the cgroup2 file system at " + mounts.v2
               + " does not offer the memory controller (it is bound to a v1 hierarchy or disabled)");
  return make_cgroups_v2(mounts.v2);
}

// -- group_removals ---------------------------------------------------------------------------------------

bool group_removals::remove(cgroups& cg, const std::string& path) {
  cg.kill_all(path);
  if (cg.remove(path).empty())
    return true;
  pending_.emplace(path, 0);
  return false;
}

std::vector<std::pair<std::string, std::string>> group_removals::retry(cgroups& cg) {
  std::vector<std::pair<std::string, std::string>> given_up;
  for (auto i = pending_.begin(); i != pending_.end();) {
    cg.kill_all(i->first);
    auto err = cg.remove(i->first);
    if (err.empty()) {
      i = pending_.erase(i);
    } else if (++i->second >= max_attempts_) {
      given_up.emplace_back(i->first, err);
      i = pending_.erase(i);
    } else {
      ++i;
    }
  }
  return given_up;
}

} // namespace mesoscaf
