#pragma once
// Which isolators an agent uses (`--isolation`, Mesos' names) and their settings, as plain data: the agent parses
// and checks them at start-up, the containerizer applies them to executors' containers, and the command executor
// (a separate process) reads them from its environment to confine each task in a group of its own.
#include "messages/resource_statistics.hpp"

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace mesoscaf {

class cgroups;

struct isolation_options {
  /// Isolator names, e.g. {"cgroups/cpu", "cgroups/mem", "cgroups/pids", "disk/du"}.
  std::vector<std::string> isolators;
  /// Containers' control groups live under <hierarchy>/<cgroups_root>/<container ID>.
  std::string cgroups_root = "mesoscaf";
  /// cgroups/cpu: a hard cfs quota besides the shares.
  bool cgroups_enable_cfs = false;
  /// cgroups/pids: processes per container.
  uint64_t container_pids_max = 4096;
  /// Tasks run as their command's user, else their framework's (the agent must be root to switch).
  bool switch_user = true;
  /// disk/du: how often a sandbox is measured; with enforce_disk_quota a task past its `disk` fails.
  std::chrono::milliseconds disk_watch_interval{15000};
  bool enforce_disk_quota = false;
  /// A task's stdout/stderr are rotated at this size (stdout.1 .. stdout.<logger_max_files>).
  uint64_t logger_max_size = 10 * 1024 * 1024;
  unsigned logger_max_files = 3;

  bool uses(const std::string& isolator) const;
  /// Any of cgroups/cpu, cgroups/mem, cgroups/pids.
  bool uses_cgroups() const;
};

/// posix/cpu,posix/mem: resources are counted and usage reported, nothing is confined (tests, unprivileged runs);
/// tasks run as the agent's user (switch_user off).
isolation_options posix_isolation();

/// Every isolator name this agent knows.
const std::vector<std::string>& known_isolators();

/// Splits "a,b" into names (duplicates removed, order kept). Returns "" or an error naming the unknown isolator
/// and the known ones.
std::string parse_isolators(const std::string& list, std::vector<std::string>& out);

/// The default for this host: the cgroups set (cgroups/cpu,cgroups/mem,cgroups/pids,disk/du) when running as root
/// with cgroups available, else posix/cpu,posix/mem,disk/du with `*warning` saying why.
std::vector<std::string> default_isolators(bool root, const cgroups* available, const std::string& why_none,
                                           std::string* warning);

/// Whether `isolators` can work on this host. Returns "" or the reason (the agent exits 2 with it).
std::string check_isolators(const std::vector<std::string>& isolators, bool root, const cgroups* available,
                            const std::string& why_none);

/// The settings a command executor needs, as MESOSCAF_* environment variables (and back). The container's own
/// group is passed separately (env_container_cgroup).
void to_environment(const isolation_options& opts, std::map<std::string, std::string>& env);
isolation_options isolation_from_environment();

/// The control group of a container: <cgroups_root>/<container>; its executor runs in <...>/executor and each
/// command task in <...>/task-groups/task-<task> (cgroups v1 has an interface file named `tasks` in every group,
/// so no group may be called that, and a task ID could name any other interface file).
std::string container_cgroup(const isolation_options& opts, const std::string& container);
std::string task_groups_of(const std::string& container_group);
std::string task_cgroup(const std::string& container_group, const std::string& task);
constexpr const char* env_container_cgroup = "MESOSCAF_CGROUP";
/// The user a command executor's tasks run as when their command names none (their framework's user).
constexpr const char* env_framework_user = "MESOSCAF_FRAMEWORK_USER";

/// posix usage of one process from /proc/<pid>/stat: cpu user/system (its own plus the children it waited for),
/// rss, processes = 1; all zero if it is gone.
resource_statistics process_usage(pid_t pid);

/// Bytes a directory tree occupies on disk (st_blocks, hard links once, not crossing into other file systems).
/// Blocking: call it off the actor threads.
uint64_t disk_usage(const std::string& dir);

/// If `path` is larger than `max_size`: shifts path.1 .. path.(keep-1) up, copies `path` to path.1 and truncates it
/// (the writer appends, so it keeps writing at the new end). Returns "" or an error. Blocking.
std::string rotate_log(const std::string& path, uint64_t max_size, unsigned keep);

} // namespace mesoscaf
