#pragma once
// Linux control groups behind one interface (pure file operations, no actors): v1 mounts one hierarchy per
// controller (/sys/fs/cgroup/{cpu,cpuacct,memory,pids,freezer}), v2 one unified hierarchy. Paths given to the
// interface are relative to the hierarchy roots ("mesoscaf/<container>/tasks/<task>") and are the same for both.
// Every call is a few small reads/writes of cgroupfs (kernel memory, no disk I/O) and never waits for a process.
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace mesoscaf {

/// What a group may use. Zero means "do not limit" (the value is left as the kernel set it).
struct cgroup_limits {
  /// > 0: cpu shares of 1024 per cpu (v1 cpu.shares; v2 cpu.weight mapped from shares as systemd does).
  double cpus = 0;
  /// With cpus > 0: also a hard quota of `cpus` cpus per 100 ms period (v1 cpu.cfs_quota_us, v2 cpu.max).
  bool cfs_quota = false;
  /// Memory limit in bytes (v1 memory.limit_in_bytes, v2 memory.max).
  uint64_t memory_bytes = 0;
  /// Process limit (pids.max).
  uint64_t pids_max = 0;
};

/// What a group used; a value that cannot be read is 0.
struct cgroup_usage {
  double cpu_user_seconds = 0;
  double cpu_system_seconds = 0;
  uint64_t memory_rss_bytes = 0;   // anonymous memory now (v1 memory.stat total_rss, v2 memory.stat anon)
  uint64_t memory_peak_bytes = 0;  // v1 memory.max_usage_in_bytes, v2 memory.peak (0 if the kernel lacks it)
  uint64_t processes = 0;          // pids.current
  uint64_t oom_kills = 0;          // processes the kernel killed for this group's memory limit (oom_kill count)
};

class cgroups {
public:
  virtual ~cgroups() = default;

  /// 1 or 2.
  virtual int version() const = 0;
  /// True if the controller ("cpu", "memory", "pids", "freezer"; v2 has no freezer controller but cgroup.freeze
  /// and cgroup.kill and reports "freezer" when they exist) can be used. v1: the controller is in the mount map.
  /// v2: listed in the root's cgroup.controllers; "freezer" when a child group of the root has cgroup.freeze or
  /// cgroup.kill (the root group itself has neither).
  virtual bool has(const std::string& controller) const = 0;
  /// Creates `path` with its parents in every hierarchy used (v2: enables cpu, memory, pids in each parent's
  /// cgroup.subtree_control, as far as the parent offers them in cgroup.controllers; v2 refuses that in a parent
  /// that holds processes itself, so processes belong in leaves). v1: memory.use_hierarchy is set to 1 in new
  /// groups where it is 0. Existing groups are fine. Returns "" or an error naming the file.
  virtual std::string create(const std::string& path) = 0;
  /// Writes the non-zero limits. Returns "" or an error naming the file.
  virtual std::string set_limits(const std::string& path, const cgroup_limits& limits) = 0;
  /// The files a new process writes its pid to in order to join `path` (one per hierarchy; the launcher opens
  /// them before it forks, see process_isolation).
  virtual std::vector<std::string> procs_files(const std::string& path) const = 0;
  /// Moves `pid` into `path`. Returns "" or an error.
  virtual std::string add_process(const std::string& path, pid_t pid) = 0;
  /// Every process in `path` and in the groups below it.
  virtual std::vector<pid_t> processes(const std::string& path) const = 0;
  /// SIGKILLs every process in `path` and below so that none escapes by forking meanwhile (v1: freeze through
  /// the freezer, kill, thaw; v2: cgroup.kill, or freeze + kill without it). Returns the number of processes
  /// that were in the group. Does not wait for them to be gone.
  virtual size_t kill_all(const std::string& path) = 0;
  /// Removes `path` and the groups below it, deepest first. "" once gone (or if it never existed); otherwise
  /// why not (typically: killed processes are still exiting; call again a little later).
  virtual std::string remove(const std::string& path) = 0;
  virtual bool exists(const std::string& path) const = 0;
  /// Names of the direct child groups of `path` (empty if none or it does not exist).
  virtual std::vector<std::string> children(const std::string& path) const = 0;
  virtual cgroup_usage usage(const std::string& path) const = 0;
};

/// Groups to destroy whose killed processes may still be exiting (rmdir fails until the last one is gone): each
/// is killed and removed again on every retry(), and given up after `max_attempts` retries.
class group_removals {
public:
  explicit group_removals(int max_attempts) : max_attempts_(max_attempts) {
  }
  /// Kills what is left in `path` and removes it; if it cannot be removed yet, keeps it for retry(). True if gone.
  bool remove(cgroups& cg, const std::string& path);
  /// One more attempt for each kept group. Returns the groups given up on, each with its last error.
  std::vector<std::pair<std::string, std::string>> retry(cgroups& cg);
  bool empty() const {
    return pending_.empty();
  }

private:
  int max_attempts_;
  std::map<std::string, int> pending_;  // path -> retries so far
};

/// cgroups v1: controller name ("cpu", "cpuacct", "memory", "pids", "freezer") -> mount directory. Controllers
/// not in the map are not used.
std::unique_ptr<cgroups> make_cgroups_v1(std::map<std::string, std::string> mounts);
/// cgroups v2 mounted at `root` (tests use a directory laid out like cgroup2).
std::unique_ptr<cgroups> make_cgroups_v2(std::string root);

/// The cgroup mounts listed in a /proc/<pid>/mountinfo text: v1 controller -> mount point, and the cgroup2
/// mount point (empty if none).
struct cgroup_mounts {
  std::map<std::string, std::string> v1;
  std::string v2;
};
cgroup_mounts parse_cgroup_mounts(const std::string& mountinfo_text);

/// The cgroups of this host: v1 if the memory controller is mounted as v1, else v2 if a cgroup2 mount offers
/// memory (its cgroup.controllers), else null with `*why` set.
std::unique_ptr<cgroups> detect_cgroups(std::string* why, const std::string& mountinfo_path = "/proc/self/mountinfo");

} // namespace mesoscaf
