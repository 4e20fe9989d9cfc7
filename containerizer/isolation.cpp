#include "containerizer/isolation.hpp"

#include "containerizer/cgroups.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <ftw.h>
#include <iterator>
#include <sstream>
#include <set>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

namespace mesoscaf {

namespace {

const char* const env_isolation = "MESOSCAF_ISOLATION";
const char* const env_cfs = "MESOSCAF_CGROUPS_ENABLE_CFS";
const char* const env_pids_max = "MESOSCAF_CONTAINER_PIDS_MAX";
const char* const env_switch_user = "MESOSCAF_SWITCH_USER";
const char* const env_disk_watch = "MESOSCAF_DISK_WATCH_INTERVAL";
const char* const env_enforce_disk = "MESOSCAF_ENFORCE_DISK_QUOTA";
const char* const env_logger_max = "MESOSCAF_LOGGER_MAX_SIZE";

std::string join(const std::vector<std::string>& xs) {
  std::string s;
  for (auto& x : xs)
    s += (s.empty() ? "" : ",") + x;
  return s;
}

std::string get_env(const char* name) {
  auto v = std::getenv(name);
  return v != nullptr ? v : "";
}

uint64_t env_number(const char* name, uint64_t fallback) {
  auto v = get_env(name);
  if (v.empty())
    return fallback;
  char* end = nullptr;
  errno = 0;
  auto n = std::strtoull(v.c_str(), &end, 10);
  return errno == 0 && end != v.c_str() && *end == '\0' ? n : fallback;
}

const std::vector<std::string>& cgroups_set() {
  static const std::vector<std::string> xs{"cgroups/cpu", "cgroups/mem", "cgroups/pids", "disk/du"};
  return xs;
}

const std::vector<std::string>& posix_set() {
  static const std::vector<std::string> xs{"posix/cpu", "posix/mem", "disk/du"};
  return xs;
}

// Which controller an isolator needs.
const char* controller_of(const std::string& isolator) {
  if (isolator == "cgroups/cpu")
    return "cpu";
  if (isolator == "cgroups/mem")
    return "memory";
  if (isolator == "cgroups/pids")
    return "pids";
  return nullptr;
}

} // namespace

bool isolation_options::uses(const std::string& isolator) const {
  return std::find(isolators.begin(), isolators.end(), isolator) != isolators.end();
}

bool isolation_options::uses_cgroups() const {
  return uses("cgroups/cpu") || uses("cgroups/mem") || uses("cgroups/pids");
}

isolation_options posix_isolation() {
  isolation_options opts;
  opts.isolators = {"posix/cpu", "posix/mem"};
  // In-process agents (tests, local clusters) run tasks as their caller; the daemon takes --switch-user.
  opts.switch_user = false;
  return opts;
}

const std::vector<std::string>& known_isolators() {
  static const std::vector<std::string> xs{"cgroups/cpu",    "cgroups/mem",       "cgroups/pids", "disk/du",
                                           "namespaces/pid", "filesystem/linux", "posix/cpu",    "posix/mem"};
  return xs;
}

std::string parse_isolators(const std::string& list, std::vector<std::string>& out) {
  out.clear();
  std::set<std::string> seen;
  size_t pos = 0;
  while (pos <= list.size()) {
    auto comma = list.find(',', pos);
    auto name = list.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    pos = comma == std::string::npos ? list.size() + 1 : comma + 1;
    if (name.empty())
      continue;
    auto& known = known_isolators();
    if (std::find(known.begin(), known.end(), name) == known.end())
      return "unknown isolator '" + name + "' (known: " + join(known) + ")";
    if (seen.insert(name).second)
      out.push_back(name);
  }
  if (out.empty())
    return "no isolator named (known: " + join(known_isolators()) + ")";
  return {};
}

std::vector<std::string> default_isolators(bool root, const cgroups* available, const std::string& why_none,
                                           std::string* warning) {
  if (root && available != nullptr && available->has("cpu") && available->has("memory")
      && available->has("pids"))
    return cgroups_set();
  if (warning != nullptr) {
    if (!root)
      *warning = "not running as root: tasks are not isolated (--isolation=" + join(posix_set()) + ")";
    else if (available == nullptr)
      *warning = "no usable cgroups (" + why_none + "): tasks are not isolated (--isolation=" + join(posix_set())
                 + ")";
    else
      *warning = "the cpu, memory or pids cgroup controller is missing: tasks are not isolated (--isolation="
                 + join(posix_set()) + ")";
  }
  return posix_set();
}

std::string check_isolators(const std::vector<std::string>& isolators, bool root, const cgroups* available,
                            const std::string& why_none) {
  for (auto& name : isolators) {
    if (auto controller = controller_of(name)) {
      if (!root)
        return "--isolation=" + name + " needs root (control groups cannot be created otherwise)";
      if (available == nullptr)
        return "--isolation=" + name + ": " + why_none;
      if (!available->has(controller))
        return "--isolation=" + name + ": the " + std::string{controller} + " controller is not available (cgroups v"
               + std::to_string(available->version()) + ")";
    } else if (name == "namespaces/pid" || name == "filesystem/linux") {
      if (!root)
        return "--isolation=" + name + " needs root (namespaces and mounts)";
    }
  }
  bool cg = false, posix = false;
  for (auto& name : isolators) {
    cg = cg || controller_of(name) != nullptr;
    posix = posix || name.rfind("posix/", 0) == 0;
  }
  if (cg && posix)
    return "--isolation mixes cgroups/* and posix/* isolators: choose one set";
  return {};
}

void to_environment(const isolation_options& opts, std::map<std::string, std::string>& env) {
  env[env_isolation] = join(opts.isolators);
  env[env_cfs] = opts.cgroups_enable_cfs ? "1" : "0";
  env[env_pids_max] = std::to_string(opts.container_pids_max);
  env[env_switch_user] = opts.switch_user ? "1" : "0";
  env[env_disk_watch] = std::to_string(opts.disk_watch_interval.count());
  env[env_enforce_disk] = opts.enforce_disk_quota ? "1" : "0";
  env[env_logger_max] = std::to_string(opts.logger_max_size);
}

isolation_options isolation_from_environment() {
  isolation_options opts;
  std::vector<std::string> names;
  if (parse_isolators(get_env(env_isolation), names).empty())
    opts.isolators = std::move(names);
  opts.cgroups_enable_cfs = get_env(env_cfs) == "1";
  opts.container_pids_max = env_number(env_pids_max, opts.container_pids_max);
  opts.switch_user = get_env(env_switch_user) != "0";
  opts.disk_watch_interval
    = std::chrono::milliseconds(env_number(env_disk_watch, static_cast<uint64_t>(opts.disk_watch_interval.count())));
  opts.enforce_disk_quota = get_env(env_enforce_disk) == "1";
  opts.logger_max_size = env_number(env_logger_max, opts.logger_max_size);
  return opts;
}

std::string container_cgroup(const isolation_options& opts, const std::string& container) {
  return opts.cgroups_root + "/" + container;
}

std::string task_groups_of(const std::string& container_group) {
  return container_group + "/task-groups";
}

std::string task_cgroup(const std::string& container_group, const std::string& task) {
  return task_groups_of(container_group) + "/task-" + task;
}

resource_statistics process_usage(pid_t pid) {
  resource_statistics s;
  std::ifstream in{"/proc/" + std::to_string(pid) + "/stat"};
  std::string line;
  if (!std::getline(in, line))
    return s;
  // The command name may contain spaces and parentheses: the fields start after the last ')'.
  auto close = line.rfind(')');
  if (close == std::string::npos || close + 2 > line.size())
    return s;
  std::istringstream fields{line.substr(close + 2)};
  std::vector<std::string> f{std::istream_iterator<std::string>{fields}, {}};
  // From field 3 (state) on: utime 14, stime 15, cutime 16, cstime 17, rss 24 (pages).
  if (f.size() < 22)
    return s;
  double tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
  s.cpus_user_time_secs = (std::stod(f[11]) + std::stod(f[13])) / tick;
  s.cpus_system_time_secs = (std::stod(f[12]) + std::stod(f[14])) / tick;
  s.mem_rss_bytes = std::stoull(f[21]) * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  s.processes = 1;
  return s;
}

// -- disk ---------------------------------------------------------------------------------------------------

namespace {

// nftw has no user argument: the walk runs on one thread at a time per process through this lock-free slot.
thread_local uint64_t du_total = 0;
thread_local std::set<std::pair<dev_t, ino_t>>* du_seen = nullptr;

int du_visit(const char*, const struct stat* st, int type, struct FTW*) {
  if (type == FTW_NS)
    return 0;
  if (st->st_nlink > 1 && !S_ISDIR(st->st_mode) && !du_seen->insert({st->st_dev, st->st_ino}).second)
    return 0;
  du_total += static_cast<uint64_t>(st->st_blocks) * 512;
  return 0;
}

} // namespace

uint64_t disk_usage(const std::string& dir) {
  std::set<std::pair<dev_t, ino_t>> seen;
  du_total = 0;
  du_seen = &seen;
  ::nftw(dir.c_str(), du_visit, 32, FTW_PHYS | FTW_MOUNT);
  du_seen = nullptr;
  return du_total;
}

std::string rotate_log(const std::string& path, uint64_t max_size, unsigned keep) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0)
    return errno == ENOENT ? std::string{} : path + ": " + std::strerror(errno);
  if (max_size == 0 || static_cast<uint64_t>(st.st_size) <= max_size)
    return {};
  if (keep == 0)
    keep = 1;
  for (unsigned i = keep; i > 1; --i)
    ::rename((path + "." + std::to_string(i - 1)).c_str(), (path + "." + std::to_string(i)).c_str());
  int in = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (in < 0)
    return path + ": " + std::strerror(errno);
  auto rotated = path + ".1";
  int out = ::open(rotated.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0) {
    auto err = rotated + ": " + std::strerror(errno);
    ::close(in);
    return err;
  }
  // Only the newest max_size bytes are kept: a writer faster than the checks must not make the copy unbounded.
  off_t size = st.st_size;
  off_t offset = size > static_cast<off_t>(max_size) ? size - static_cast<off_t>(max_size) : 0;
  std::string err;
  while (offset < size) {
    auto n = ::sendfile(out, in, &offset, static_cast<size_t>(size - offset));
    if (n <= 0) {
      err = rotated + ": " + (n < 0 ? std::strerror(errno) : "short copy");
      break;
    }
  }
  ::fchown(out, st.st_uid, st.st_gid);
  ::close(out);
  if (::ftruncate(in, 0) != 0 && err.empty())
    err = path + ": " + std::strerror(errno);
  ::close(in);
  return err;
}

} // namespace mesoscaf
