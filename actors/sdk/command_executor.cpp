#include "actors/sdk/command_executor.hpp"

#include "actors/sdk/health_tracker.hpp"
#include "actors/sdk/task_group_tracker.hpp"
#include "config/support/executable_path.hpp"
#include "containerizer/fetcher.hpp"
#include "containerizer/health_probe.hpp"
#include "messages/task_checks.hpp"

#include "config/support/logging.hpp"
#include "containerizer/cgroups.hpp"
#include "containerizer/isolation.hpp"
#include "containerizer/launcher.hpp"
#include "containerizer/reaper.hpp"

#include <caf/all.hpp>

#include <atomic>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <thread>
#include <functional>
#include <map>
#include <optional>
#include <unordered_map>

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace mesoscaf {

namespace {

const char* const component = "command-executor";

// The executor's own work, off the driver's actor: the reaper's reports and the kill timers need a mailbox that
// outlives the driver when it gives up (the tasks must still be killed then).
using task_actor = caf::typed_actor<
  // From the driver's callbacks.
  caf::reacts_to<atom::launch, task_info>, caf::reacts_to<atom::launch, task_group_info>,
  caf::reacts_to<atom::kill_task, task_id>,
  caf::reacts_to<atom::kill_task, task_id, kill_policy>, caf::reacts_to<atom::shutdown>,
  // The driver gave up (no agent, refused, recovery timeout): kill the tasks and end.
  caf::reacts_to<atom::error, std::string>,
  // The reaper saw a task's process exit with this wait status.
  caf::reacts_to<atom::exited, task_id, int32_t>,
  // A task's fetcher exited with this wait status and this last line of its log (the failure, if any).
  caf::reacts_to<atom::exited, task_id, int32_t, std::string>,
  // Health checks: time for the next check of this task instance; the result of check N (healthy, why not);
  // check N's timeout expired.
  caf::reacts_to<atom::health, task_id, uint64_t>,
  caf::reacts_to<atom::health, task_id, uint64_t, bool, std::string>,
  caf::reacts_to<atom::timeout, task_id, uint64_t>,
  // The grace period of a task kill expired: SIGKILL.
  caf::reacts_to<atom::tick, task_id>,
  // Timer: the shutdown deadline expired: end whatever is still pending.
  caf::reacts_to<atom::retry>,
  // Timer: measure the sandboxes (disk/du), rotate the logs, sample posix usage; retry group removals.
  caf::reacts_to<atom::timeout>,
  // The measurement of one task's sandbox (bytes on disk).
  caf::reacts_to<atom::usage, task_id, uint64_t>>;

struct running_task {
  // waiting: no process yet (a task of a group whose other tasks are still fetching, or about to start)
  enum class phase { waiting, fetching, running };
  phase stage = phase::running;
  pid_t pid = -1;                 // the task's process (its fetcher's while fetching)
  task_info info;
  uint64_t instance = 0;          // tells this run of a task ID from a later one (timers carry it)
  bool kill_requested = false;
  std::chrono::steady_clock::time_point kill_deadline;
  std::string sandbox;
  std::string cgroup;             // task_cgroup(container group, task); empty: posix
  resource_statistics usage;      // limits, the last disk measurement, posix samples
  task_reason limitation = task_reason::none;  // set when we kill it for exceeding a limit
  std::string limitation_message;
  // Health checks (actors/sdk/health_tracker.hpp).
  std::optional<health_tracker> health;
  uint64_t check = 0;             // the check in flight (0: none)
  pid_t check_pid = -1;           // a COMMAND check's process
  bool killed_by_health = false;
  std::string health_message;
  std::string group_cause;  // set when its group's rule kills it: why (the end of another task of the group)
};

struct runner_state {
  static inline const char* name = "command_executor";

  executor_driver* driver = nullptr;  // outlives this actor (command_executor's contract)
  executor_environment env;
  command_executor_options opts;
  std::unordered_map<task_id, running_task> tasks;
  task_group_tracker groups;  // LAUNCH_GROUP: which tasks start and die together (actors/sdk/task_group_tracker.hpp)
  std::unique_ptr<process_reaper> reaper;
  bool shutting_down = false;
  // Isolation (containerizer/isolation.hpp), from the agent through the environment.
  isolation_options iso;
  std::shared_ptr<cgroups> cg;    // null: posix
  std::string container_group;
  std::string framework_user;
  group_removals removals{30};  // task groups whose killed processes were still exiting (retried each tick)
  std::chrono::steady_clock::time_point next_disk_check;
  std::shared_ptr<std::atomic<bool>> killing_state;  // the framework has TASK_KILLING_STATE (set at registration)
  uint64_t next_instance = 0;
  uint64_t next_check = 0;

  ~runner_state() {
    if (!reaper)
      return;
    // Tasks must not outlive their executor (the shutdown path has normally ended them already).
    for (auto& [id, t] : tasks) {
      if (t.check_pid > 0)
        reaper->signal_group(t.check_pid, SIGKILL);
      reaper->signal_group(t.pid, SIGKILL);
      if (cg && !t.cgroup.empty())
        cg->kill_all(t.cgroup);
    }
    reaper->stop();
  }
};

using self_pointer = task_actor::stateful_pointer<runner_state>;

// Seconds as given in a task (checked: finite, bounded) as a duration.
std::chrono::milliseconds millis(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
}

void send_update(self_pointer self, const task_id& id, task_state state, task_reason reason = task_reason::none,
                 std::string message = {}, const resource_statistics* usage = nullptr,
                 std::optional<bool> healthy = std::nullopt) {
  task_status s;
  s.task = id;
  s.state = state;
  s.reason = reason;
  s.message = std::move(message);
  if (usage != nullptr)
    s.usage = *usage;
  if (healthy)
    s.healthy = *healthy;
  LOG_DEBUG(component, "task " << id << ": " << to_string(state));
  self->state.driver->send_status_update(std::move(s));
}

// Every task is gone: the driver drains the acknowledgements (or has ended already), and we are done.
void finish(self_pointer self) {
  self->state.driver->stop();
  self->quit();
}

void kill_task(self_pointer self, const task_id& id, std::optional<std::chrono::milliseconds> grace = {});

// A task of a group ended in `state`: the tasks its group's rule takes with it are killed, each with its own
// grace, and their updates say why.
void group_member_ended(self_pointer self, const task_id& id, task_state state) {
  auto& st = self->state;
  for (const auto& other : st.groups.ended(id, state)) {
    auto i = st.tasks.find(other);
    if (i == st.tasks.end())
      continue;
    if (i->second.group_cause.empty())
      i->second.group_cause = "Killed because task " + id.value + " of its group is " + to_string(state);
    kill_task(self, other);
  }
}

// SIGTERM to every process of the task (its session, and its control group: processes that left the session
// too), SIGKILL after the grace period: `grace` if given (a kill call's policy, or the shutdown grace), else
// the task's kill policy, else the agent's --executor-shutdown-grace-period. A task still fetching is stopped
// at once (nothing of it runs yet).
void kill_task(self_pointer self, const task_id& id, std::optional<std::chrono::milliseconds> grace) {
  auto& st = self->state;
  auto i = st.tasks.find(id);
  if (i == st.tasks.end() || i->second.kill_requested)
    return;
  auto& t = i->second;
  if (t.stage == running_task::phase::waiting) {
    // Nothing of it runs yet.
    auto why = !t.group_cause.empty() ? t.group_cause : std::string{"killed before it started"};
    st.tasks.erase(i);
    send_update(self, id, task_state::killed, task_reason::none, why);
    group_member_ended(self, id, task_state::killed);
    if (st.shutting_down && st.tasks.empty())
      finish(self);
    return;
  }
  t.kill_requested = true;
  if (st.killing_state && st.killing_state->load())
    send_update(self, id, task_state::killing, task_reason::none, {}, nullptr, t.health ? t.health->healthy()
                                                                                        : std::nullopt);
  if (t.check_pid > 0)
    st.reaper->signal_group(t.check_pid, SIGKILL);
  if (!grace)
    grace = t.info.kill_policy ? millis(t.info.kill_policy->grace_period) : st.opts.kill_grace_period;
  if (grace->count() <= 0 || t.stage == running_task::phase::fetching) {
    st.reaper->signal_group(t.pid, SIGKILL);
    if (st.cg && !t.cgroup.empty())
      st.cg->kill_all(t.cgroup);
    return;
  }
  t.kill_deadline = std::chrono::steady_clock::now() + *grace;
  st.reaper->signal_group(t.pid, SIGTERM);
  if (st.cg && !t.cgroup.empty())
    for (auto pid : st.cg->processes(t.cgroup))
      ::kill(pid, SIGTERM);
  self->delayed_send(self, *grace, atom::tick_v, id);
}

void begin_shutdown(self_pointer self) {
  auto& st = self->state;
  if (st.shutting_down)
    return;
  st.shutting_down = true;
  LOG_INFO(component, "shutting down, killing " << st.tasks.size() << " task(s)");
  std::vector<task_id> ids;
  for (auto& [id, t] : st.tasks)
    ids.push_back(id);
  for (auto& id : ids) {
    // Within the shutdown grace, whatever the task's own policy says: the agent kills us after it.
    auto t = st.tasks.find(id);
    auto grace = st.opts.kill_grace_period;
    if (t != st.tasks.end() && t->second.info.kill_policy)
      grace = std::min(grace, millis(t->second.info.kill_policy->grace_period));
    kill_task(self, id, grace);
  }
  // Whatever happens, end after the kills; the driver's drain is bounded by its own timeout. The agent SIGKILLs
  // us after container_kill_grace otherwise.
  self->delayed_send(self, st.opts.kill_grace_period + std::chrono::milliseconds(500), atom::retry_v);
  if (st.tasks.empty())
    finish(self);
}

// -- isolation (containerizer/isolation.hpp) -------------------------------------------------------------

std::string mb(uint64_t bytes) {
  return std::to_string(bytes >> 20) + "MB";
}

// The user a task runs as: its command's, else its framework's (with --switch-user). "" or why it cannot.
std::string prepare_user(self_pointer self, const task_info& task, process_isolation& iso) {
  auto& st = self->state;
  if (!st.iso.switch_user)
    return {};
  auto user = task.command->user.empty() ? st.framework_user : task.command->user;
  if (user.empty())
    return {};
  if (auto err = resolve_user(user, iso); !err.empty())
    return "cannot run the task as user '" + user + "': " + err;
  if (*iso.uid == ::geteuid()) {
    iso.uid.reset();  // already that user
    return {};
  }
  if (::geteuid() != 0) {
    iso.uid.reset();
    return "cannot run the task as user '" + user + "': the agent does not run as root";
  }
  return {};
}

// The task's own group inside the container's, with the task's cpu and memory: one task's hog never borrows
// another task's memory. "" or an error (nothing left behind).
std::string prepare_task_group(self_pointer self, const task_info& task, process_isolation& iso,
                               running_task& t) {
  auto& st = self->state;
  double cpus = task.resources.scalar_value("cpus");
  double mem = task.resources.scalar_value("mem");
  t.usage.cpus_limit = cpus;
  t.usage.mem_limit_bytes = static_cast<uint64_t>(mem * 1024 * 1024);
  t.usage.disk_limit_bytes = static_cast<uint64_t>(task.resources.scalar_value("disk") * 1024 * 1024);
  if (!st.cg || st.container_group.empty())
    return {};
  t.cgroup = task_cgroup(st.container_group, task.id.value);
  cgroup_limits limits;
  if (st.iso.uses("cgroups/cpu") && cpus > 0) {
    limits.cpus = cpus;
    limits.cfs_quota = st.iso.cgroups_enable_cfs;
  }
  if (st.iso.uses("cgroups/mem") && mem > 0)
    limits.memory_bytes = t.usage.mem_limit_bytes;
  auto err = st.cg->create(t.cgroup);
  if (err.empty())
    err = st.cg->set_limits(t.cgroup, limits);
  if (!err.empty()) {
    st.cg->remove(t.cgroup);
    auto group = t.cgroup;
    t.cgroup.clear();
    return "cannot set up control group " + group + ": " + err;
  }
  iso.cgroup_procs = st.cg->procs_files(t.cgroup);
  return {};
}

// Kills what is left in a task's group and removes it; retried on the timer while killed processes exit.
void remove_group(self_pointer self, const std::string& group) {
  auto& st = self->state;
  if (!group.empty() && st.cg)
    st.removals.remove(*st.cg, group);
}

void retry_removals(self_pointer self) {
  auto& st = self->state;
  if (!st.cg)
    return;
  for (auto& [group, err] : st.removals.retry(*st.cg))
    LOG_WARN(component, "cannot remove control group " << group << ": " << err);
}

// What the task used, read before its group goes; a memory-limit kill by the kernel shows here.
resource_statistics final_usage(self_pointer self, running_task& t) {
  auto& st = self->state;
  auto u = t.usage;
  u.timestamp = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  if (!st.cg || t.cgroup.empty())
    return u;
  auto g = st.cg->usage(t.cgroup);
  u.cpus_user_time_secs = g.cpu_user_seconds;
  u.cpus_system_time_secs = g.cpu_system_seconds;
  u.mem_rss_bytes = g.memory_rss_bytes;
  u.mem_peak_bytes = g.memory_peak_bytes;
  u.processes = g.processes;
  if (g.oom_kills > 0 && t.limitation == task_reason::none && st.iso.uses("cgroups/mem")) {
    t.limitation = task_reason::container_limitation_memory;
    t.limitation_message = "Memory limit exceeded: Requested: " + mb(u.mem_limit_bytes)
                           + ", Maximum Used: " + mb(std::max(u.mem_peak_bytes, u.mem_limit_bytes))
                           + " (the kernel killed " + std::to_string(g.oom_kills) + " process(es) of the task)";
  }
  return u;
}

// posix: the task's leading process (its cpu includes the children it waited for).
void sample_proc(running_task& t) {
  auto p = process_usage(t.pid);
  if (p.processes == 0)
    return;  // gone: keep the last sample
  t.usage.cpus_user_time_secs = p.cpus_user_time_secs;
  t.usage.cpus_system_time_secs = p.cpus_system_time_secs;
  t.usage.mem_rss_bytes = p.mem_rss_bytes;
  t.usage.mem_peak_bytes = std::max(t.usage.mem_peak_bytes, p.mem_rss_bytes);
  t.usage.processes = 1;
}

// Every tick: rotate the tasks' logs and, each disk watch interval, measure their sandboxes, on a detached
// actor (both walk the file system); sample posix usage; retry group removals.
void on_timer(self_pointer self, std::chrono::milliseconds period) {
  auto& st = self->state;
  self->delayed_send(self, period, atom::timeout_v);
  retry_removals(self);
  if (st.tasks.empty())
    return;
  auto now = std::chrono::steady_clock::now();
  bool measure = st.iso.uses("disk/du") && now >= st.next_disk_check;
  if (measure)
    st.next_disk_check = now + st.iso.disk_watch_interval;
  std::vector<std::pair<task_id, std::string>> sandboxes;
  for (auto& [id, t] : st.tasks) {
    if (!st.cg || t.cgroup.empty())
      sample_proc(t);
    sandboxes.emplace_back(id, t.sandbox);
  }
  auto max_size = st.iso.logger_max_size;
  auto keep = st.iso.logger_max_files;
  auto me = caf::actor_cast<caf::actor>(self);
  self->spawn<caf::detached>([me, sandboxes = std::move(sandboxes), max_size, keep, measure] {
    for (auto& [id, dir] : sandboxes) {
      for (auto name : {"/stdout", "/stderr"})
        if (auto err = rotate_log(dir + name, max_size, keep); !err.empty())
          LOG_WARN(component, "task " << id << ": cannot rotate " << err);
      if (measure)
        caf::anon_send(me, atom::usage_v, id, disk_usage(dir));
    }
  });
}

// A sandbox measurement: past its `disk` with --enforce-container-disk-quota, the task is killed and fails.
void on_disk_usage(self_pointer self, const task_id& id, uint64_t bytes) {
  auto& st = self->state;
  auto i = st.tasks.find(id);
  if (i == st.tasks.end())
    return;
  auto& t = i->second;
  t.usage.disk_used_bytes = bytes;
  auto limit = t.usage.disk_limit_bytes;
  if (!st.iso.enforce_disk_quota || limit == 0 || bytes <= limit || t.limitation != task_reason::none)
    return;
  t.limitation = task_reason::container_limitation_disk;
  t.limitation_message = "Disk usage (" + mb(bytes) + ") exceeds quota (" + mb(limit) + ")";
  LOG_INFO(component, "task " << id << ": " << t.limitation_message << "; killing it");
  t.kill_requested = true;
  st.reaper->signal_group(t.pid, SIGKILL);
  if (st.cg && !t.cgroup.empty())
    st.cg->kill_all(t.cgroup);
}

// The task's process: its command in <sandbox>/tasks/<task> with the MESOSCAF_* variables of a task.
launch_spec task_launch_spec(const runner_state& st, const task_info& task) {
  std::string base = st.env.sandbox;
  if (base.empty()) {
    char cwd[4096];
    base = ::getcwd(cwd, sizeof(cwd)) != nullptr ? cwd : ".";
  }
  launch_spec spec;
  spec.id = container_id{task.id.value};
  spec.command = *task.command;
  spec.sandbox = sandbox_path(base, {"tasks", task.id.value});
  spec.environment = {
    {env_task_id, task.id.value},
    {env_sandbox, spec.sandbox},
    {env_framework_id, st.env.framework.value},
    {env_agent_id, st.env.agent.value},
    {env_executor_id, st.env.executor.value},
  };
  return spec;
}

// Watches a process of task `id` (the task itself, its fetcher or a COMMAND health check); `report` runs on the
// reaper's thread with the wait status and sends the result to us. Weak: the reaper belongs to our state and
// must not keep us alive.
bool watch(self_pointer self, pid_t pid, std::function<void(task_actor, int)> report) {
  auto weak = caf::actor_cast<caf::weak_actor_ptr>(self);
  return self->state.reaper->watch(pid, [weak, report = std::move(report)](int status) {
    if (auto strong = weak.lock())
      report(caf::actor_cast<task_actor>(strong), status);
  });
}

// Starts `spec` (confined by `iso`, if any) and watches it; nothing is left running on failure. `error` is the
// launcher's if it could not start (`started` false), else "cannot watch the <what>'s process".
struct watched_spawn {
  pid_t pid = -1;
  bool started = false;
  std::string error;
};

watched_spawn spawn_watched(self_pointer self, const launch_spec& spec, const process_isolation& iso,
                            const char* what, std::function<void(task_actor, int)> report) {
  watched_spawn out;
  auto res = iso.empty() ? spawn_process(spec) : spawn_process(spec, iso);
  if (!res) {
    out.error = res.error;
    return out;
  }
  out.started = true;
  if (!watch(self, res.pid, std::move(report))) {
    kill_process_group(res.pid, SIGKILL);
    ::waitpid(res.pid, nullptr, 0);  // just SIGKILLed: returns at once
    out.error = std::string{"cannot watch the "} + what + "'s process";
    return out;
  }
  out.pid = res.pid;
  return out;
}

// The last line of a fetcher's log (<sandbox>/stderr), read on the reaper's thread. The sandbox belongs to the
// task's user: the file must be a regular file (no symlink) owned by that user or by us.
std::string fetch_failure_line(const std::string& sandbox, uid_t owner) {
  int fd = ::open((sandbox + "/stderr").c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    return {};
  struct stat sb {};
  std::string tail;
  if (::fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && (sb.st_uid == owner || sb.st_uid == ::geteuid())) {
    auto n = std::min<off_t>(sb.st_size, 4096);
    tail.resize(static_cast<size_t>(n));
    auto got = ::pread(fd, tail.data(), tail.size(), sb.st_size - n);
    tail.resize(got > 0 ? static_cast<size_t>(got) : 0);
  }
  ::close(fd);
  while (!tail.empty() && (tail.back() == '\n' || tail.back() == '\r'))
    tail.pop_back();
  auto nl = tail.rfind('\n');
  auto line = nl == std::string::npos ? tail : tail.substr(nl + 1);
  for (auto& c : line)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      c = ' ';
  return line.substr(0, 1000);
}

// Starts the task's process (its entry has none yet): its user, its control group with its limits, the process,
// its health checks. "" or why not (nothing of it left running).
std::string spawn_task(self_pointer self, running_task& entry) {
  auto& st = self->state;
  const auto& task = entry.info;
  auto spec = task_launch_spec(st, task);
  entry.sandbox = spec.sandbox;
  process_isolation iso;
  std::string err = prepare_user(self, task, iso);
  if (err.empty())
    err = prepare_task_group(self, task, iso, entry);
  if (!err.empty())
    return err;
  iso.pid_namespace = st.iso.uses("namespaces/pid");
  iso.private_tmp = st.iso.uses("filesystem/linux");
  auto id = task.id;
  auto res = spawn_watched(self, spec, iso, "task", [id](task_actor me, int status) {
    caf::anon_send(me, atom::exited_v, id, static_cast<int32_t>(status));
  });
  if (!res.error.empty()) {
    remove_group(self, entry.cgroup);
    entry.cgroup.clear();
    return res.error;
  }
  // If this executor dies, the agent kills the task through this record (it runs in a session of its own).
  if (auto err = record_task_process(spec.sandbox, res.pid); !err.empty())
    LOG_WARN(component, "task " << task.id << ": " << err);
  entry.pid = res.pid;
  entry.stage = running_task::phase::running;
  if (task.health_check) {
    entry.health.emplace(*task.health_check, std::chrono::steady_clock::now());
    self->delayed_send(self, millis(task.health_check->delay), atom::health_v, task.id, entry.instance);
  }
  return {};
}

// A task on its own, once its URIs are in the sandbox: its process, then TASK_RUNNING.
void start_task(self_pointer self, const task_id& id) {
  auto& st = self->state;
  auto i = st.tasks.find(id);
  if (i == st.tasks.end())
    return;
  if (auto err = spawn_task(self, i->second); !err.empty()) {
    st.tasks.erase(i);
    send_update(self, id, task_state::failed, task_reason::container_launch_failed, err);
    return;
  }
  send_update(self, id, task_state::running);
}

// A group whose tasks are all ready: every process starts, then each task is TASK_RUNNING. If one cannot start,
// it fails and the others are killed at once (those started get SIGKILL): all or none.
void start_group(self_pointer self, const task_id& any) {
  auto& st = self->state;
  auto members = st.groups.members(any);
  std::vector<task_id> started;
  for (const auto& id : members) {
    auto i = st.tasks.find(id);
    if (i == st.tasks.end())
      continue;
    if (auto err = spawn_task(self, i->second); !err.empty()) {
      st.tasks.erase(i);
      send_update(self, id, task_state::failed, task_reason::container_launch_failed, err);
      st.groups.ended(id, task_state::failed);
      auto cause = "Killed because task " + id.value + " of its group could not start";
      for (const auto& other : members)
        if (auto j = st.tasks.find(other); j != st.tasks.end())
          j->second.group_cause = cause;  // all first: one kill may end the others (group_member_ended)
      for (const auto& other : members)
        if (other != id)
          kill_task(self, other, std::chrono::milliseconds{0});
      return;
    }
    started.push_back(id);
  }
  for (const auto& id : started)
    send_update(self, id, task_state::running);
}

// The task's entry is ready (no URIs, or fetched): a task on its own starts, a task of a group when its whole
// group is ready.
void task_ready(self_pointer self, const task_id& id) {
  auto& st = self->state;
  if (!st.groups.contains(id)) {
    start_task(self, id);
    return;
  }
  if (st.groups.ready(id))
    start_group(self, id);
}

// The fetcher (`mesoscaf fetcher`, containerizer/fetcher.hpp) in the task's sandbox, as the task's user: the
// task is ready when it succeeds. False: it could not start (the task failed and is gone).
bool start_fetch(self_pointer self, const task_id& id) {
  auto& st = self->state;
  auto& entry = st.tasks[id];
  const auto& task = entry.info;
  auto spec = task_launch_spec(st, task);
  fetch_request req;
  req.uris = task.command->uris;
  req.sandbox = spec.sandbox;
  req.cache_dir = st.opts.fetcher_cache_dir;
  req.cache_bytes = st.opts.fetcher_cache_bytes;
  if (auto disk = task.resources.scalar_value("disk"); disk > 0)
    req.max_bytes = static_cast<uint64_t>(disk * 1024 * 1024);  // the sandbox could not hold more
  auto program = executor_binary({});
  spec.command = command_info{};
  spec.command.shell = false;
  spec.command.value = program;
  spec.command.arguments = {program, "fetcher"};
  for (auto& arg : fetcher_arguments(req))
    spec.command.arguments.push_back(std::move(arg));
  process_isolation iso;
  std::string err = prepare_user(self, task, iso);
  watched_spawn res;
  if (err.empty()) {
    auto sandbox = spec.sandbox;
    uid_t owner = iso.uid ? *iso.uid : ::geteuid();
    res = spawn_watched(self, spec, iso, "fetcher", [id, sandbox, owner](task_actor me, int status) {
      auto line = status == 0 ? std::string{} : fetch_failure_line(sandbox, owner);
      caf::anon_send(me, atom::exited_v, id, static_cast<int32_t>(status), std::move(line));
    });
    if (!res.error.empty())
      err = res.started ? res.error : "cannot start the fetcher: " + res.error;
  }
  if (!err.empty()) {
    st.tasks.erase(id);
    send_update(self, id, task_state::failed, task_reason::container_launch_failed, err);
    return false;
  }
  entry.stage = running_task::phase::fetching;
  entry.sandbox = spec.sandbox;
  entry.pid = res.pid;
  LOG_DEBUG(component, "task " << id << ": fetching " << task.command->uris.size() << " URI(s)");
  return true;
}

void fetch_exited(self_pointer self, const task_id& id, int32_t status, const std::string& line) {
  auto& st = self->state;
  auto i = st.tasks.find(id);
  if (i == st.tasks.end() || i->second.stage != running_task::phase::fetching)
    return;
  auto& t = i->second;
  if (!t.kill_requested && !st.shutting_down && status == 0) {
    t.stage = running_task::phase::waiting;
    t.pid = -1;
    task_ready(self, id);
    return;
  }
  auto cause = t.group_cause;
  bool killed = t.kill_requested;
  st.tasks.erase(i);
  task_state end = task_state::killed;
  if (killed) {
    send_update(self, id, end, task_reason::none,
                !cause.empty() ? cause : "killed while its URIs were being fetched");
  } else if (st.shutting_down) {
    send_update(self, id, end, task_reason::executor_terminated, "the executor is shutting down");
  } else {
    end = task_state::failed;
    auto why = !line.empty() ? line : "the fetcher " + describe_wait_status(status);
    send_update(self, id, end, task_reason::container_launch_failed, why);
  }
  group_member_ended(self, id, end);
  if (st.shutting_down && st.tasks.empty())
    finish(self);
}

// "" or why this executor cannot run the task. The master checked it already; an executor trusts no one.
std::string check_launch(const task_info& task) {
  if (!is_safe_path_component(task.id.value))
    return "task ID '" + task.id.value
           + "' cannot name a sandbox directory (use 1-200 characters of [A-Za-z0-9._-], not . or ..)";
  if (!task.command || task.command->value.empty())
    return "the command executor needs a task with a command";
  return check_task_life(task);
}

// The task's entry, without a process yet; its URIs come first.
void take_task(self_pointer self, const task_info& task) {
  auto& st = self->state;
  running_task entry;
  entry.stage = running_task::phase::waiting;
  entry.info = task;
  entry.instance = ++st.next_instance;
  entry.sandbox = task_launch_spec(st, task).sandbox;
  st.tasks[task.id] = std::move(entry);
}

void launch_task(self_pointer self, const task_info& task) {
  auto& st = self->state;
  if (st.shutting_down) {
    send_update(self, task.id, task_state::dropped, task_reason::executor_terminated,
                "the executor is shutting down");
    return;
  }
  if (auto err = check_launch(task); !err.empty()) {
    send_update(self, task.id, task_state::error, task_reason::task_invalid, err);
    return;
  }
  if (st.tasks.count(task.id) > 0) {
    // The master rejects duplicate IDs; an update here would clobber the running task's state.
    LOG_WARN(component, "task " << task.id << " is already running; launch ignored");
    return;
  }
  send_update(self, task.id, task_state::starting);
  take_task(self, task);
  if (task.command->uris.empty())
    start_task(self, task.id);
  else
    start_fetch(self, task.id);
}

// LAUNCH_GROUP: every task is checked, TASK_STARTING, fetched; then all start together (start_group). A problem
// with any task fails the whole group before anything runs.
void launch_group(self_pointer self, const task_group_info& group) {
  auto& st = self->state;
  if (st.shutting_down) {
    for (const auto& t : group.tasks)
      send_update(self, t.id, task_state::dropped, task_reason::executor_terminated, "the executor is shutting down");
    return;
  }
  std::string why;
  std::vector<task_id> ids;
  for (const auto& t : group.tasks) {
    if (std::find(ids.begin(), ids.end(), t.id) != ids.end())
      why = "task ID " + t.id.value + " appears twice in the group";
    else if (auto err = check_launch(t); !err.empty())
      why = "task " + t.id.value + ": " + err;
    else if (st.tasks.count(t.id) > 0 || st.groups.contains(t.id))
      why = "task " + t.id.value + " is already running";
    ids.push_back(t.id);
    if (!why.empty())
      break;
  }
  if (why.empty() && !st.groups.add(ids, group.on_failure))
    why = "the group has no tasks";
  if (!why.empty()) {
    LOG_WARN(component, "invalid task group: " << why);
    for (const auto& t : group.tasks)
      if (st.tasks.count(t.id) == 0)
        send_update(self, t.id, task_state::error, task_reason::task_group_invalid, "invalid task group: " + why);
    return;
  }
  LOG_INFO(component, "task group of " << ids.size() << " task(s), starting with " << ids.front());
  for (const auto& t : group.tasks) {
    send_update(self, t.id, task_state::starting);
    take_task(self, t);
  }
  for (const auto& t : group.tasks)
    if (!t.command->uris.empty() && !start_fetch(self, t.id)) {
      group_member_ended(self, t.id, task_state::failed);  // not started yet: the others go too
      return;
    }
  for (const auto& t : group.tasks)
    if (t.command->uris.empty())
      task_ready(self, t.id);
}

// -- health checks (actors/sdk/health_tracker.hpp) -------------------------------------------------------

void run_health_check(self_pointer self, const task_id& id, uint64_t instance) {
  auto& st = self->state;
  auto i = st.tasks.find(id);
  if (i == st.tasks.end() || i->second.instance != instance || i->second.kill_requested || !i->second.health
      || i->second.check != 0)
    return;
  auto& t = i->second;
  const auto& hc = *t.info.health_check;
  auto seq = ++st.next_check;
  t.check = seq;
  auto timeout = millis(hc.timeout);
  self->delayed_send(self, timeout, atom::timeout_v, id, seq);
  if (hc.type == health_check::kind::command) {
    // Inside the task's container: its sandbox, user and control group (so its limits).
    task_info probe = t.info;
    probe.command = hc.command;
    if (probe.command->user.empty() && t.info.command)
      probe.command->user = t.info.command->user;
    auto spec = task_launch_spec(st, probe);
    spec.id = container_id{id.value + "-health"};
    process_isolation iso;
    auto err = prepare_user(self, probe, iso);
    if (err.empty() && st.cg && !t.cgroup.empty())
      iso.cgroup_procs = st.cg->procs_files(t.cgroup);
    watched_spawn res;
    if (err.empty()) {
      res = spawn_watched(self, spec, iso, "health check", [id, seq](task_actor me, int status) {
        bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        caf::anon_send(me, atom::health_v, id, seq, ok, "command " + describe_wait_status(status));
      });
      err = res.error;
    }
    if (!err.empty()) {
      self->send(self, atom::health_v, id, seq, false, "cannot run the health check command: " + err);
      return;
    }
    t.check_pid = res.pid;
    return;
  }
  // HTTP and TCP probes block: a detached actor runs each (containerizer/health_probe.hpp).
  auto me = caf::actor_cast<task_actor>(self);
  self->spawn<caf::detached>([me, id, seq, hc, timeout] {
    auto r = hc.type == health_check::kind::tcp ? probe_tcp(hc.port, timeout)
                                                : probe_http(hc.scheme, hc.port, hc.path, timeout);
    caf::anon_send(me, atom::health_v, id, seq, r.ok, r.message);
  });
}

void health_result(self_pointer self, const task_id& id, uint64_t seq, bool ok, const std::string& why) {
  auto& st = self->state;
  auto i = st.tasks.find(id);
  if (i == st.tasks.end() || i->second.check != seq)
    return;  // a check of an earlier run, or one that timed out already
  auto& t = i->second;
  t.check = 0;
  t.check_pid = -1;
  if (t.kill_requested || !t.health)
    return;
  auto v = t.health->on_result(ok, why, std::chrono::steady_clock::now());
  if (v.ignored)
    LOG_DEBUG(component, "task " << id << ": " << v.message);
  if (v.changed) {
    LOG_INFO(component, "task " << id << " is " << (ok ? "healthy" : "unhealthy") << ": " << v.message);
    send_update(self, id, task_state::running, task_reason::task_health_check_status_updated,
                ok ? std::string{} : v.message, nullptr, t.health->healthy());
  }
  if (v.kill) {
    LOG_INFO(component, "task " << id << ": " << v.message);
    t.killed_by_health = true;
    t.health_message = v.message;
    kill_task(self, id);
    return;
  }
  auto interval = millis(t.info.health_check->interval);
  self->delayed_send(self, interval, atom::health_v, id, t.instance);
}

void health_timeout(self_pointer self, const task_id& id, uint64_t seq) {
  auto& st = self->state;
  auto i = st.tasks.find(id);
  if (i == st.tasks.end() || i->second.check != seq)
    return;
  if (i->second.check_pid > 0)
    st.reaper->signal_group(i->second.check_pid, SIGKILL);
  auto secs = i->second.info.health_check->timeout;
  char text[64];
  std::snprintf(text, sizeof(text), "timed out after %gs", secs);
  health_result(self, id, seq, false, text);
}

void task_exited(self_pointer self, const task_id& id, int32_t status) {
  auto& st = self->state;
  auto i = st.tasks.find(id);
  if (i == st.tasks.end() || i->second.stage != running_task::phase::running)
    return;
  bool killed = i->second.kill_requested;
  auto t = std::move(i->second);
  st.tasks.erase(i);
  if (t.check_pid > 0)
    st.reaper->signal_group(t.check_pid, SIGKILL);
  auto usage = final_usage(self, t);
  remove_group(self, t.cgroup);  // every process the task started goes with it, also those that left its session
  auto end = task_state::failed;
  if (t.limitation != task_reason::none) {
    send_update(self, id, end, t.limitation, t.limitation_message, &usage);
  } else if (t.killed_by_health) {
    end = task_state::killed;
    send_update(self, id, end, task_reason::task_health_check_status_updated, t.health_message, &usage, false);
  } else if (killed) {
    end = task_state::killed;
    auto how = WIFSIGNALED(status) ? "Command terminated by signal " + std::to_string(WTERMSIG(status))
                                   : "Command exited with status " + std::to_string(WEXITSTATUS(status));
    send_update(self, id, end, task_reason::none, t.group_cause.empty() ? how : t.group_cause + " (" + how + ")",
                &usage);
  } else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    end = task_state::finished;
    send_update(self, id, end, task_reason::none, "Command exited with status 0", &usage);
  } else if (WIFEXITED(status)) {
    send_update(self, id, end, task_reason::command_executor_failed,
                "Command exited with status " + std::to_string(WEXITSTATUS(status)), &usage);
  } else if (WIFSIGNALED(status)) {
    send_update(self, id, end, task_reason::command_executor_failed,
                "Command terminated by signal " + std::to_string(WTERMSIG(status)), &usage);
  } else {
    send_update(self, id, end, task_reason::command_executor_failed, "Command " + describe_wait_status(status),
                &usage);
  }
  group_member_ended(self, id, end);
  if (st.shutting_down && st.tasks.empty())
    finish(self);
}

// A kill call (from the framework, through the agent): the task, and under kill_group the rest of its group.
void kill_call(self_pointer self, const task_id& id, std::optional<std::chrono::milliseconds> grace) {
  auto& st = self->state;
  auto others = st.groups.killed(id);
  kill_task(self, id, grace);
  for (const auto& other : others)
    if (auto i = st.tasks.find(other); i != st.tasks.end()) {
      if (i->second.group_cause.empty())
        i->second.group_cause = "Killed with task " + id.value + " of its group";
      kill_task(self, other, grace);
    }
}

task_actor::behavior_type task_runner(self_pointer self, executor_driver* driver, command_executor_options opts,
                                      std::shared_ptr<std::atomic<bool>> killing_state) {
  auto& st = self->state;
  st.killing_state = std::move(killing_state);
  st.driver = driver;
  st.env = driver->environment();
  st.opts = std::move(opts);
  st.reaper = std::make_unique<process_reaper>();
  st.iso = st.opts.isolation;
  st.framework_user = st.opts.framework_user;
  if (st.iso.uses_cgroups() && !st.opts.container_cgroup.empty()) {
    std::string why;
    st.cg = detect_cgroups(&why);
    if (st.cg)
      st.container_group = st.opts.container_cgroup;
    else
      LOG_WARN(component, "tasks run without control groups: " << why);
  }
  auto period = std::min<std::chrono::milliseconds>(std::chrono::seconds(1), st.iso.disk_watch_interval);
  if (period.count() <= 0)
    period = std::chrono::seconds(1);
  self->delayed_send(self, period, atom::timeout_v);
  // SIGTERM/SIGINT arrive as an exit message from main: shut down in order instead of dying at once.
  self->set_exit_handler([self](const caf::exit_msg& msg) {
    LOG_INFO(component, "exit requested (" << self->system().render(msg.reason) << ")");
    begin_shutdown(self);
  });
  return {
    [self](atom::launch, const task_info& task) { launch_task(self, task); },
    [self](atom::launch, const task_group_info& group) { launch_group(self, group); },
    [self](atom::kill_task, const task_id& id) { kill_call(self, id, std::nullopt); },
    [self](atom::kill_task, const task_id& id, const kill_policy& policy) {
      // The master checked it; an executor trusts no one: a bad grace falls back to the task's own.
      if (auto err = check_kill_policy(policy); !err.empty()) {
        LOG_WARN(component, "task " << id << ": kill with an invalid policy (" << err << "); using the task's");
        kill_call(self, id, std::nullopt);
        return;
      }
      kill_call(self, id, millis(policy.grace_period));
    },
    [self](atom::shutdown) { begin_shutdown(self); },
    [self](atom::error, const std::string& why) {
      auto n = self->state.tasks.size();
      if (n == 0) {
        LOG_ERROR(component, why);
        finish(self);
        return;
      }
      LOG_ERROR(component, why << ": killing " << n << " task(s) and exiting");
      begin_shutdown(self);
    },
    [self](atom::exited, const task_id& id, int32_t status) { task_exited(self, id, status); },
    [self](atom::exited, const task_id& id, int32_t status, const std::string& line) {
      fetch_exited(self, id, status, line);
    },
    [self](atom::health, const task_id& id, uint64_t instance) { run_health_check(self, id, instance); },
    [self](atom::health, const task_id& id, uint64_t seq, bool ok, const std::string& why) {
      health_result(self, id, seq, ok, why);
    },
    [self](atom::timeout, const task_id& id, uint64_t seq) { health_timeout(self, id, seq); },
    [self](atom::tick, const task_id& id) {
      auto& st = self->state;
      auto i = st.tasks.find(id);
      if (i == st.tasks.end() || !i->second.kill_requested)
        return;
      if (std::chrono::steady_clock::now() + std::chrono::milliseconds(50) < i->second.kill_deadline)
        return;
      LOG_INFO(component, "task " << id << " outlived its grace period: SIGKILL");
      st.reaper->signal_group(i->second.pid, SIGKILL);
      if (st.cg && !i->second.cgroup.empty())
        st.cg->kill_all(i->second.cgroup);
    },
    [self, period](atom::timeout) { on_timer(self, period); },
    [self](atom::usage, const task_id& id, uint64_t bytes) { on_disk_usage(self, id, bytes); },
    [self](atom::retry) {
      if (!self->state.tasks.empty())
        LOG_WARN(component, "shutdown deadline: " << self->state.tasks.size() << " task(s) still running");
      finish(self);  // the state's destructor SIGKILLs what is left
    },
  };
}

} // namespace

// -- command_executor -----------------------------------------------------------------------------------------

struct command_executor::impl {
  command_executor_options opts;
  std::shared_ptr<std::atomic<bool>> killing_state = std::make_shared<std::atomic<bool>>(false);
  std::mutex mtx;
  std::condition_variable cv;
  task_actor runner;  // released once it ended: a handle must not outlive the actor system (join before the driver)
  bool spawned = false;
  bool ended = false;

  task_actor handle() {
    std::lock_guard<std::mutex> guard{mtx};
    return runner;
  }
};

command_executor::command_executor(command_executor_options opts) : impl_(std::make_unique<impl>()) {
  impl_->opts = std::move(opts);
}

command_executor::~command_executor() {
  caf::anon_send_exit(impl_->handle(), caf::exit_reason::kill);
  join();
}

executor_driver_options command_executor::driver_options() const {
  executor_driver_options d;
  d.resend_interval = impl_->opts.resend_interval;
  d.registration_timeout = impl_->opts.registration_timeout;
  d.drain_timeout = impl_->opts.drain_timeout;
  d.reconnect = impl_->opts.reconnect;
  // Our own shutdown deadline comes first (begin_shutdown); the driver's is the backstop.
  d.shutdown_grace = impl_->opts.kill_grace_period + std::chrono::milliseconds(500);
  // Nothing here blocks: spawning is posix_spawn, waiting is the reaper thread.
  d.scheduler_threads = 1;
  d.log_component = component;
  return d;
}

void command_executor::attach(executor_driver& driver) {
  auto& d = *impl_;
  auto hdl = driver.system().spawn(task_runner, &driver, d.opts, d.killing_state);
  {
    std::lock_guard<std::mutex> guard{d.mtx};
    d.runner = hdl;
    d.spawned = true;
  }
  hdl->attach_functor([&d] {
    std::lock_guard<std::mutex> guard{d.mtx};
    d.ended = true;
    d.cv.notify_all();
  });
}

void command_executor::terminate() {
  caf::anon_send_exit(impl_->handle(), caf::exit_reason::user_shutdown);
}

void command_executor::join() {
  auto& d = *impl_;
  std::unique_lock<std::mutex> guard{d.mtx};
  d.cv.wait(guard, [&] { return !d.spawned || d.ended; });
  d.runner = nullptr;
}

void command_executor::launch_task(executor_driver&, const task_info& task) {
  caf::anon_send(impl_->handle(), atom::launch_v, task);
}

void command_executor::launch_task_group(executor_driver&, const task_group_info& group) {
  caf::anon_send(impl_->handle(), atom::launch_v, group);
}

void command_executor::kill_task(executor_driver&, const task_id& task) {
  caf::anon_send(impl_->handle(), atom::kill_task_v, task);
}

void command_executor::kill_task(executor_driver&, const task_id& task, const kill_policy& policy) {
  caf::anon_send(impl_->handle(), atom::kill_task_v, task, policy);
}

void command_executor::registered(executor_driver&, const executor_registration& info) {
  impl_->killing_state->store(std::find(info.framework_capabilities.begin(), info.framework_capabilities.end(),
                                        "TASK_KILLING_STATE")
                              != info.framework_capabilities.end());
}

void command_executor::reregistered(executor_driver& driver, const executor_registration& info) {
  registered(driver, info);
}

void command_executor::shutdown(executor_driver&) {
  caf::anon_send(impl_->handle(), atom::shutdown_v);
}

void command_executor::error(executor_driver&, const std::string& message) {
  caf::anon_send(impl_->handle(), atom::error_v, message);
}

// -- the `mesoscaf command-executor` process ------------------------------------------------------------------

int run_command_executor(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << "mesoscaf command-executor: started by an agent to run command tasks.\n"
                   "Reads MESOSCAF_AGENT_ENDPOINT, MESOSCAF_FRAMEWORK_ID, MESOSCAF_EXECUTOR_ID, "
                   "MESOSCAF_AGENT_ID, MESOSCAF_SANDBOX, MESOSCAF_CHECKPOINT (1|0), MESOSCAF_RECOVERY_TIMEOUT (ms);\n"
                   "isolation: MESOSCAF_ISOLATION, MESOSCAF_CGROUP, MESOSCAF_FRAMEWORK_USER, MESOSCAF_SWITCH_USER,\n"
                   "MESOSCAF_CGROUPS_ENABLE_CFS, MESOSCAF_CONTAINER_PIDS_MAX, MESOSCAF_DISK_WATCH_INTERVAL (ms),\n"
                   "MESOSCAF_ENFORCE_DISK_QUOTA, MESOSCAF_LOGGER_MAX_SIZE (bytes).\n";
      return 0;
    }
    std::cerr << "mesoscaf command-executor: unknown argument '" << arg << "'\n";
    return 2;
  }
  executor_environment env;
  if (auto err = read_executor_environment(env); !err.empty()) {
    std::cerr << "mesoscaf command-executor: " << err << "\n";
    return 1;
  }
  // Before any thread exists: only sigwait below takes these (docs/CAF_PITFALLS.md §8). SIGUSR1 = "all done".
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  command_executor_options opts;
  opts.isolation = isolation_from_environment();
  if (auto v = std::getenv(env_container_cgroup))
    opts.container_cgroup = v;
  if (auto v = std::getenv(env_framework_user))
    opts.framework_user = v;
  if (auto v = std::getenv(env_executor_shutdown_grace); v && *v) {
    char* end = nullptr;
    auto ms = std::strtoll(v, &end, 10);
    if (end != nullptr && *end == '\0' && ms >= 0 && ms <= 600000)
      opts.kill_grace_period = std::chrono::milliseconds(ms);
  }
  if (auto v = std::getenv(env_fetcher_cache_dir); v && *v == '/') {
    opts.fetcher_cache_dir = v;
    // Shared by the users tasks run as, each in a directory of their own (containerizer/fetcher.hpp): like /tmp.
    std::error_code ec;
    std::filesystem::create_directories(opts.fetcher_cache_dir, ec);
    if (ec || ::chmod(opts.fetcher_cache_dir.c_str(), 01777) != 0) {
      LOG_WARN(component, "fetcher cache " << opts.fetcher_cache_dir << " is not usable; fetching without it");
      opts.fetcher_cache_dir.clear();
    }
  }
  if (auto v = std::getenv(env_fetcher_cache_size); v && *v) {
    char* end = nullptr;
    auto n = std::strtoull(v, &end, 10);
    if (end != nullptr && *end == '\0')
      opts.fetcher_cache_bytes = n;
  }
  command_executor exec{opts};
  executor_driver driver{exec, exec.driver_options()};
  exec.attach(driver);
  if (driver.start() != driver_status::running) {
    exec.join();  // the error callback ended the task actor
    return 1;
  }
  std::atomic<bool> ended{false};
  std::thread waiter([&] {
    driver.join();
    exec.join();
    ended = true;
    ::kill(::getpid(), SIGUSR1);  // wakes sigwait below
  });
  bool watchdog = false;
  for (;;) {
    int sig = 0;
    if (sigwait(&sigs, &sig) != 0)
      continue;
    if (sig == SIGUSR1) {
      if (ended)
        break;
      continue;
    }
    LOG_INFO(component, "received " << strsignal(sig));
    exec.terminate();
    if (!watchdog) {
      watchdog = true;
      // The task actor's own deadline ends it; this is the backstop against a hung shutdown
      // (docs/CAF_PITFALLS.md §8).
      std::thread([] {
        std::this_thread::sleep_for(std::chrono::seconds(15));
        std::_Exit(1);
      }).detach();
    }
  }
  waiter.join();
  return driver.status() == driver_status::stopped ? 0 : 1;
}

} // namespace mesoscaf
