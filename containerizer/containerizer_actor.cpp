#include "containerizer/containerizer_actor.hpp"

#include "config/support/logging.hpp"
#include "containerizer/cgroups.hpp"
#include "containerizer/launcher.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <sys/wait.h>
#include <unistd.h>

namespace mesoscaf {

namespace {

using self_pointer = containerizer_actor::stateful_pointer<containerizer_state>;

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Kills what is left in a container's group and removes it; a group whose processes are still exiting is retried.
void destroy_group(self_pointer self, const std::string& group) {
  auto& st = self->state;
  if (group.empty() || !st.options.control_groups)
    return;
  if (st.removals.remove(*st.options.control_groups, group) || st.removal_scheduled)
    return;
  st.removal_scheduled = true;
  self->delayed_send(self, std::chrono::milliseconds(100), atom::retry_v);
}

void retry_removals(self_pointer self) {
  auto& st = self->state;
  st.removal_scheduled = false;
  // ~10 s of retries: past that a process is stuck in the kernel (D state); give up loudly.
  for (auto& [group, err] : st.removals.retry(*st.options.control_groups))
    LOG_WARN("containerizer", "cannot remove control group " << group << ": " << err);
  if (!st.removals.empty()) {
    st.removal_scheduled = true;
    self->delayed_send(self, std::chrono::milliseconds(100), atom::retry_v);
  }
}

// The group for a new container, with its limits; the executor joins <group>/executor. Returns "" or an error
// (nothing is left behind then).
std::string prepare_group(self_pointer self, const launch_spec& spec, std::string& group,
                          process_isolation& iso, resource_statistics& limits) {
  auto& st = self->state;
  auto& cg = *st.options.control_groups;
  auto& opts = st.options.isolation;
  group = container_cgroup(opts, spec.id.value);
  auto leaf = group + "/executor";
  auto tasks = task_groups_of(group);
  // The command executor's tasks share <group>/task-groups and its pids limit; the executor's own threads count in
  // <group> only, so a task's fork loop can never keep the executor from starting a thread.
  cgroup_limits container;
  cgroup_limits task_limits;
  if (opts.uses("cgroups/pids")) {
    container.pids_max = opts.container_pids_max + executor_pids_allowance;
    task_limits.pids_max = opts.container_pids_max;
  }
  cgroup_limits executor;
  limits.cpus_limit = spec.resources.scalar_value("cpus") + executor_cpus_allowance;
  limits.mem_limit_bytes = static_cast<uint64_t>(spec.resources.scalar_value("mem") * 1024 * 1024) + executor_memory_allowance;
  if (opts.uses("cgroups/cpu")) {
    executor.cpus = limits.cpus_limit;
    executor.cfs_quota = opts.cgroups_enable_cfs;
  }
  if (opts.uses("cgroups/mem"))
    executor.memory_bytes = limits.mem_limit_bytes;
  std::string err = cg.create(leaf);
  if (err.empty())
    err = cg.create(tasks);
  if (err.empty())
    err = cg.set_limits(group, container);
  if (err.empty())
    err = cg.set_limits(tasks, task_limits);
  if (err.empty())
    err = cg.set_limits(leaf, executor);
  if (!err.empty()) {
    cg.remove(group);
    return "cannot set up control group " + group + ": " + err;
  }
  iso.cgroup_procs = cg.procs_files(leaf);
  return {};
}

caf::result<int32_t> launch(self_pointer self, const launch_spec& spec) {
  auto& st = self->state;
  if (spec.id.empty())
    return caf::make_error(caf::sec::invalid_argument, "launch: empty container ID");
  if (st.containers.count(spec.id) > 0)
    return caf::make_error(caf::sec::invalid_argument, "launch: container " + spec.id.value + " is already running");
  auto failed = [&](const std::string& why) {
    LOG_WARN("containerizer", "cannot launch container " << spec.id << ": " << why);
    return caf::make_error(caf::sec::runtime_error, "launch of container " + spec.id.value + " failed: " + why);
  };
  process_isolation iso;
  if (!spec.user.empty() && st.options.isolation.switch_user)
    if (auto err = resolve_user(spec.user, iso); !err.empty())
      return failed(err);
  if (iso.uid && *iso.uid == ::geteuid())
    iso.uid.reset();  // already that user
  std::string group;
  resource_statistics limits;
  limits.cpus_limit = spec.resources.scalar_value("cpus");
  limits.mem_limit_bytes = static_cast<uint64_t>(spec.resources.scalar_value("mem") * 1024 * 1024);
  if (st.uses_cgroups())
    if (auto err = prepare_group(self, spec, group, iso, limits); !err.empty())
      return failed(err);
  auto res = iso.empty() ? spawn_process(spec) : spawn_process(spec, iso);
  if (!res) {
    destroy_group(self, group);
    return failed(res.error);
  }
  // A weak handle: the reaper (owned by our state) must not keep this actor alive.
  auto weak = caf::actor_cast<caf::weak_actor_ptr>(self);
  auto id = spec.id;
  auto watched = st.reaper->watch(res.pid, [weak, id](int status) {
    if (auto strong = weak.lock())
      caf::anon_send(caf::actor_cast<containerizer_actor>(strong), atom::exited_v, id, static_cast<int32_t>(status));
  });
  if (!watched) {
    // Cannot happen with a fresh child; keep the promise "nothing left running on error".
    kill_process_group(res.pid, SIGKILL);
    ::waitpid(res.pid, nullptr, 0);
    destroy_group(self, group);
    return failed("cannot watch its process");
  }
  auto& c = st.containers[spec.id];
  c.pid = res.pid;
  c.cgroup = group;
  c.sandbox = spec.sandbox;
  limits.disk_limit_bytes = static_cast<uint64_t>(spec.resources.scalar_value("disk") * 1024 * 1024);
  c.limits = limits;
  LOG_DEBUG("containerizer", "launched container " << spec.id << " as pid " << res.pid
                                                   << (group.empty() ? "" : " in " + group));
  return static_cast<int32_t>(res.pid);
}

caf::result<bool> recover(self_pointer self, const container_id& id, int32_t pid, uint64_t start_time) {
  auto& st = self->state;
  if (id.empty() || pid <= 0)
    return caf::make_error(caf::sec::invalid_argument, "recover: empty container ID or bad pid");
  if (st.containers.count(id) > 0)
    return caf::make_error(caf::sec::invalid_argument, "recover: container " + id.value + " is already running");
  auto weak = caf::actor_cast<caf::weak_actor_ptr>(self);
  // Checked through the pid + start time: a pid reused since the previous agent process (or containerizer)
  // died is refused rather than adopted (and later killed). A child of this process (started by a
  // containerizer before us that died) is reaped as ours.
  auto adopted = st.reaper->adopt(static_cast<pid_t>(pid), start_time, [weak, id](int status) {
    if (auto strong = weak.lock())
      caf::anon_send(caf::actor_cast<containerizer_actor>(strong), atom::exited_v, id, static_cast<int32_t>(status));
  });
  std::string group = st.uses_cgroups() ? container_cgroup(st.options.isolation, id.value) : std::string{};
  if (!adopted) {
    LOG_INFO("containerizer", "container " << id << " (pid " << pid << ") is gone");
    // Its tasks may outlive it in the group: they go with it.
    if (!group.empty() && st.options.control_groups->exists(group))
      destroy_group(self, group);
    return false;
  }
  auto& c = st.containers[id];
  c.pid = static_cast<pid_t>(pid);
  // The group, and the limits in it, stay as the earlier agent process set them.
  if (!group.empty() && st.options.control_groups->exists(group))
    c.cgroup = group;
  LOG_INFO("containerizer", "recovered container " << id << " (pid " << pid << ")");
  return true;
}

// Recovery is over: the agent names the containers of its work dir that nobody owns any more.
int32_t destroy_orphans(self_pointer self, const std::vector<container_id>& orphans) {
  auto& st = self->state;
  if (!st.uses_cgroups())
    return 0;
  int32_t n = 0;
  for (auto& id : orphans) {
    auto group = container_cgroup(st.options.isolation, id.value);
    if (id.empty() || st.containers.count(id) > 0 || !st.options.control_groups->exists(group))
      continue;
    LOG_INFO("containerizer", "destroying orphaned container " << id);
    destroy_group(self, group);
    ++n;
  }
  return n;
}

// Reads every container's usage on a detached actor: walking sandboxes (disk/du) blocks.
caf::result<std::vector<container_usage>> usage(self_pointer self) {
  auto& st = self->state;
  struct item {
    container_id id;
    pid_t pid;
    std::string group, sandbox;
    resource_statistics limits;
  };
  std::vector<item> items;
  for (auto& [id, c] : st.containers)
    items.push_back({id, c.pid, c.cgroup, c.sandbox, c.limits});
  auto cg = st.options.control_groups;
  bool du = st.options.isolation.uses("disk/du");
  auto rp = self->make_response_promise<std::vector<container_usage>>();
  self->spawn<caf::detached>([rp, items = std::move(items), cg, du]() mutable {
    std::vector<container_usage> result;
    for (auto& it : items) {
      container_usage u;
      u.container = it.id;
      auto& s = u.statistics;
      if (!it.group.empty() && cg) {
        auto g = cg->usage(it.group);
        s.cpus_user_time_secs = g.cpu_user_seconds;
        s.cpus_system_time_secs = g.cpu_system_seconds;
        s.mem_rss_bytes = g.memory_rss_bytes;
        s.mem_peak_bytes = g.memory_peak_bytes;
        s.processes = g.processes;
      } else {
        s = process_usage(it.pid);  // posix: the executor's own process (its tasks lead sessions of their own)
      }
      s.cpus_limit = it.limits.cpus_limit;
      s.mem_limit_bytes = it.limits.mem_limit_bytes;
      s.disk_limit_bytes = it.limits.disk_limit_bytes;
      if (du && !it.sandbox.empty())
        s.disk_used_bytes = disk_usage(it.sandbox);
      s.timestamp = now_seconds();
      result.push_back(std::move(u));
    }
    rp.deliver(std::move(result));
  });
  return rp;
}

// A custom executor runs its tasks in its own process tree: its leaf grows and shrinks with them.
void update_limits(self_pointer self, const container_id& id, const resource_set& resources) {
  auto& st = self->state;
  auto i = st.containers.find(id);
  if (i == st.containers.end() || i->second.cgroup.empty())
    return;
  auto& opts = st.options.isolation;
  cgroup_limits limits;
  double cpus = resources.scalar_value("cpus") + executor_cpus_allowance;
  auto mem = static_cast<uint64_t>(resources.scalar_value("mem") * 1024 * 1024) + executor_memory_allowance;
  if (opts.uses("cgroups/cpu")) {
    limits.cpus = cpus;
    limits.cfs_quota = opts.cgroups_enable_cfs;
  }
  if (opts.uses("cgroups/mem"))
    limits.memory_bytes = mem;
  // Lowering memory below what is in use fails (v1: EBUSY): the old limit stays, which only errs on the generous side.
  if (auto err = st.options.control_groups->set_limits(i->second.cgroup + "/executor", limits); !err.empty())
    LOG_WARN("containerizer", "cannot update the limits of container " << id << ": " << err);
  i->second.limits.cpus_limit = cpus;
  i->second.limits.mem_limit_bytes = mem;
  i->second.limits.disk_limit_bytes = static_cast<uint64_t>(resources.scalar_value("disk") * 1024 * 1024);
}

// A DEFAULT executor's tasks share <group>/task-groups: its limits are the group's total (each task's own group
// inside it has the task's). The pids limit set at launch stays.
void update_task_limits(self_pointer self, const container_id& id, const resource_set& tasks) {
  auto& st = self->state;
  auto i = st.containers.find(id);
  if (i == st.containers.end() || i->second.cgroup.empty())
    return;
  auto& opts = st.options.isolation;
  cgroup_limits limits;
  if (opts.uses("cgroups/cpu") && tasks.scalar_value("cpus") > 0) {
    limits.cpus = tasks.scalar_value("cpus");
    limits.cfs_quota = opts.cgroups_enable_cfs;
  }
  if (opts.uses("cgroups/mem") && tasks.scalar_value("mem") > 0)
    limits.memory_bytes = static_cast<uint64_t>(tasks.scalar_value("mem") * 1024 * 1024);
  if (auto err = st.options.control_groups->set_limits(task_groups_of(i->second.cgroup), limits); !err.empty())
    LOG_WARN("containerizer", "cannot update the task group limits of container " << id << ": " << err);
}

void kill_container(self_pointer self, const container_id& id) {
  auto& st = self->state;
  auto i = st.containers.find(id);
  if (i == st.containers.end() || i->second.killing)
    return;
  auto grace = st.options.kill_grace_period;
  if (grace.count() <= 0) {
    st.reaper->signal_group(i->second.pid, SIGKILL);
    destroy_group(self, i->second.cgroup);
    return;
  }
  i->second.killing = true;
  i->second.kill_deadline = std::chrono::steady_clock::now() + grace;
  st.reaper->signal_group(i->second.pid, SIGTERM);
  self->delayed_send(self, grace, atom::tick_v, id);
}

void on_exited(self_pointer self, const container_id& id, int32_t status) {
  auto& st = self->state;
  auto i = st.containers.find(id);
  if (i == st.containers.end())
    return;
  LOG_DEBUG("containerizer", "container " << id << " (pid " << i->second.pid << ") " << describe_wait_status(status));
  // Every process of the container dies with its executor, also those that left its session.
  auto group = i->second.cgroup;
  st.containers.erase(i);
  destroy_group(self, group);
  self->send(st.owner, atom::exited_v, id, status);
}

void on_kill_deadline(self_pointer self, const container_id& id) {
  auto& st = self->state;
  auto i = st.containers.find(id);
  if (i == st.containers.end() || !i->second.killing)
    return;
  if (std::chrono::steady_clock::now() + std::chrono::milliseconds(50) < i->second.kill_deadline)
    return;
  LOG_INFO("containerizer", "container " << id << " outlived its grace period: SIGKILL");
  st.reaper->signal_group(i->second.pid, SIGKILL);
  if (!i->second.cgroup.empty())
    st.options.control_groups->kill_all(i->second.cgroup);
}

} // namespace

containerizer_state::~containerizer_state() {
  if (!reaper)
    return;
  // The reaper's thread stops first: it must not reap the processes killed below, whose parent collects their
  // status (its pid stays reserved until then, so signalling by pid is safe).
  reaper->stop();
  if (options.kill_on_exit && stopped_by_owner)
    for (auto& [id, c] : containers) {
      reaper->signal_group(c.pid, SIGKILL);
      if (!c.cgroup.empty() && options.control_groups)
        options.control_groups->kill_all(c.cgroup);
    }
}

containerizer_actor::behavior_type
containerizer(containerizer_actor::stateful_pointer<containerizer_state> self, agent_actor owner,
              containerizer_options options) {
  auto& st = self->state;
  st.owner = owner;
  st.options = options;
  st.reaper = std::make_unique<process_reaper>();
  self->monitor(owner);
  self->set_down_handler([self](const caf::down_msg& dm) {
    if (dm.source == self->state.owner.address()) {
      LOG_DEBUG("containerizer", "owner gone, quitting");
      self->state.stopped_by_owner = true;
      self->quit();
    }
  });
  self->set_exit_handler([self](const caf::exit_msg& msg) {
    if (!msg.reason)
      return;
    self->state.stopped_by_owner = msg.reason == caf::exit_reason::user_shutdown;
    self->quit(msg.reason);
  });
  return {
    [self](atom::launch, const launch_spec& spec) { return launch(self, spec); },
    [self](atom::recover, const container_id& id, int32_t pid, uint64_t start_time) {
      return recover(self, id, pid, start_time);
    },
    [self](atom::recover, const std::vector<container_id>& orphans) { return destroy_orphans(self, orphans); },
    [self](atom::usage) { return usage(self); },
    [self](atom::kill, const std::vector<std::string>& task_dirs) {
      // One small read per task (its pid record), only when an executor died with tasks left behind.
      size_t n = 0;
      for (const auto& dir : task_dirs)
        n += kill_recorded_task_process(dir) ? 1 : 0;
      LOG_INFO("containerizer", "killed " << n << " task process group(s) left by a dead executor (of "
                                          << task_dirs.size() << " recorded)");
    },
    [self](atom::kill, const container_id& id) { kill_container(self, id); },
    [self](atom::update, const container_id& id, const resource_set& resources) { update_limits(self, id, resources); },
    [self](atom::update, const container_id& id, const resource_set& executor, const resource_set& tasks) {
      update_limits(self, id, executor);
      update_task_limits(self, id, tasks);
    },
    [self](atom::exited, const container_id& id, int32_t status) { on_exited(self, id, status); },
    [self](atom::tick, const container_id& id) { on_kill_deadline(self, id); },
    [self](atom::retry) { retry_removals(self); },
  };
}

containerizer_actor spawn_containerizer(caf::actor_system& sys, agent_actor owner, containerizer_options options) {
  return sys.spawn(containerizer, std::move(owner), options);
}

} // namespace mesoscaf
