#include "containerizer/containerizer_actor.hpp"

#include "config/support/logging.hpp"
#include "containerizer/launcher.hpp"

#include <caf/all.hpp>

#include <csignal>
#include <sys/wait.h>

namespace mesoscaf {

containerizer_state::~containerizer_state() {
  if (!reaper)
    return;
  if (options.kill_on_exit && stopped_by_owner)
    for (auto& [id, c] : containers)
      reaper->signal_group(c.pid, SIGKILL);
  reaper->stop();
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
    [self](atom::launch, const launch_spec& spec) -> caf::result<int32_t> {
      auto& st = self->state;
      if (spec.id.empty())
        return caf::make_error(caf::sec::invalid_argument, "launch: empty container ID");
      if (st.containers.count(spec.id) > 0)
        return caf::make_error(caf::sec::invalid_argument,
                               "launch: container " + spec.id.value + " is already running");
      auto res = spawn_process(spec);
      if (!res) {
        LOG_WARN("containerizer", "cannot launch container " << spec.id << ": " << res.error);
        return caf::make_error(caf::sec::runtime_error, "launch of container " + spec.id.value + " failed: " + res.error);
      }
      // A weak handle: the reaper (owned by our state) must not keep this actor alive.
      auto weak = caf::actor_cast<caf::weak_actor_ptr>(self);
      auto id = spec.id;
      auto watched = st.reaper->watch(res.pid, [weak, id](int status) {
        if (auto strong = weak.lock())
          caf::anon_send(caf::actor_cast<containerizer_actor>(strong), atom::exited_v, id,
                         static_cast<int32_t>(status));
      });
      if (!watched) {
        // Cannot happen with a fresh child; keep the promise "nothing left running on error".
        kill_process_group(res.pid, SIGKILL);
        ::waitpid(res.pid, nullptr, 0);
        return caf::make_error(caf::sec::runtime_error, "launch of container " + spec.id.value
                                                            + " failed: cannot watch its process");
      }
      st.containers[spec.id].pid = res.pid;
      LOG_DEBUG("containerizer", "launched container " << spec.id << " as pid " << res.pid);
      return static_cast<int32_t>(res.pid);
    },
    [self](atom::recover, const container_id& id, int32_t pid, uint64_t start_time) -> caf::result<bool> {
      auto& st = self->state;
      if (id.empty() || pid <= 0)
        return caf::make_error(caf::sec::invalid_argument, "recover: empty container ID or bad pid");
      if (st.containers.count(id) > 0)
        return caf::make_error(caf::sec::invalid_argument,
                               "recover: container " + id.value + " is already running");
      auto weak = caf::actor_cast<caf::weak_actor_ptr>(self);
      // Checked through the pid + start time: a pid reused since the previous agent process (or containerizer)
      // died is refused rather than adopted (and later killed). A child of this process (started by a
      // containerizer before us that died) is reaped as ours.
      auto adopted = st.reaper->adopt(static_cast<pid_t>(pid), start_time, [weak, id](int status) {
        if (auto strong = weak.lock())
          caf::anon_send(caf::actor_cast<containerizer_actor>(strong), atom::exited_v, id,
                         static_cast<int32_t>(status));
      });
      if (!adopted) {
        LOG_INFO("containerizer", "container " << id << " (pid " << pid << ") is gone");
        return false;
      }
      st.containers[id].pid = static_cast<pid_t>(pid);
      LOG_INFO("containerizer", "recovered container " << id << " (pid " << pid << ")");
      return true;
    },
    [self](atom::kill, const std::vector<std::string>& task_dirs) {
      // One small read per task (its pid record), only when an executor died with tasks left behind.
      size_t n = 0;
      for (const auto& dir : task_dirs)
        n += kill_recorded_task_process(dir) ? 1 : 0;
      LOG_INFO("containerizer", "killed " << n << " task process group(s) left by a dead executor (of "
                                          << task_dirs.size() << " recorded)");
    },
    [self](atom::kill, const container_id& id) {
      auto& st = self->state;
      auto i = st.containers.find(id);
      if (i == st.containers.end() || i->second.killing)
        return;
      auto grace = st.options.kill_grace_period;
      if (grace.count() <= 0) {
        st.reaper->signal_group(i->second.pid, SIGKILL);
        return;
      }
      i->second.killing = true;
      i->second.kill_deadline = std::chrono::steady_clock::now() + grace;
      st.reaper->signal_group(i->second.pid, SIGTERM);
      self->delayed_send(self, grace, atom::tick_v, id);
    },
    [self](atom::exited, const container_id& id, int32_t status) {
      auto& st = self->state;
      auto i = st.containers.find(id);
      if (i == st.containers.end())
        return;
      LOG_DEBUG("containerizer", "container " << id << " (pid " << i->second.pid << ") "
                                              << describe_wait_status(status));
      st.containers.erase(i);
      self->send(st.owner, atom::exited_v, id, status);
    },
    [self](atom::tick, const container_id& id) {
      auto& st = self->state;
      auto i = st.containers.find(id);
      if (i == st.containers.end() || !i->second.killing)
        return;
      if (std::chrono::steady_clock::now() + std::chrono::milliseconds(50) < i->second.kill_deadline)
        return;
      LOG_INFO("containerizer", "container " << id << " outlived its grace period: SIGKILL");
      st.reaper->signal_group(i->second.pid, SIGKILL);
    },
  };
}

containerizer_actor spawn_containerizer(caf::actor_system& sys, agent_actor owner, containerizer_options options) {
  return sys.spawn(containerizer, std::move(owner), options);
}

} // namespace mesoscaf
