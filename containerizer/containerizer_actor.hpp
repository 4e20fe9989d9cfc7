#pragma once
// The containerizer actor of one agent: a thin shell over the launcher (posix_spawn into a sandbox) and ONE
// process_reaper thread. Process exits come back as messages: the reaper thread sends (exited, id, status) to
// this actor, which forwards (exited, id, status) to its owner (the agent). Nothing here blocks.
#include "actors/interfaces.hpp"
#include "containerizer/cgroups.hpp"
#include "containerizer/isolation.hpp"
#include "containerizer/reaper.hpp"

#include <chrono>
#include <map>
#include <memory>
#include <unordered_map>

namespace caf {
class actor_system;
}

namespace mesoscaf {

struct containerizer_options {
  /// Time between SIGTERM and SIGKILL when a container is killed. Longer than the command executor's
  /// task kill grace plus drain (see agent_options::container_kill_grace) so it can SIGKILL its tasks first.
  std::chrono::milliseconds kill_grace_period{10000};
  /// SIGKILL every container still running when this actor is stopped by its owner (the owner went down, or sent
  /// an exit with `user_shutdown`). Off by default: executors must survive an agent restart and reconnect to the
  /// next agent. A containerizer that crashes (any other exit reason) never kills: its owner restarts it and the
  /// successor adopts the containers (recover).
  bool kill_on_exit = false;
  /// Isolators and their settings (containerizer/isolation.hpp). With cgroups/* isolators and `cgroups` set, each
  /// container gets the group <cgroups_root>/<container> (pids.max there), its executor process runs in
  /// <...>/executor (cpu and memory of the executor's resources plus an allowance), and everything in the group
  /// is killed and the group removed when the executor ends or the container is killed.
  isolation_options isolation;
  std::shared_ptr<cgroups> control_groups;
};

/// Memory and cpu an executor may use besides its declared resources (Mesos gives its command executor 32 MB and
/// 0.1 cpus; ours is a CAF process, so it gets a little more memory).
constexpr uint64_t executor_memory_allowance = 64ull << 20;
constexpr double executor_cpus_allowance = 0.1;
/// Processes and threads of the executor itself, on top of --container-pids-max for its tasks.
constexpr uint64_t executor_pids_allowance = 256;

struct containerizer_state {
  static inline const char* name = "containerizer";

  struct container {
    pid_t pid = -1;
    bool killing = false;  // SIGTERM sent, SIGKILL pending
    // When the SIGKILL is due: a stale tick (from a kill of an earlier container with the same ID) is ignored.
    std::chrono::steady_clock::time_point kill_deadline;
    std::string cgroup;  // empty: none (posix isolation)
    std::string sandbox;
    resource_statistics limits;  // cpus_limit, mem_limit_bytes, disk_limit_bytes of the container
  };

  agent_actor owner;
  containerizer_options options;
  std::unordered_map<container_id, container> containers;
  std::unique_ptr<process_reaper> reaper;
  bool stopped_by_owner = false;  // see containerizer_options::kill_on_exit
  /// Groups of ended containers whose killed processes were still exiting; removal is retried every 100 ms.
  group_removals removals{100};
  bool removal_scheduled = false;

  bool uses_cgroups() const {
    return options.control_groups != nullptr && options.isolation.uses_cgroups();
  }

  // Stops the reaper thread (without waiting for or reaping the children) and applies kill_on_exit.
  ~containerizer_state();
};

/// The behaviour; spawn it with spawn_containerizer or `self->spawn(containerizer, owner, opts)`.
/// It monitors `owner` and quits when the owner is gone.
containerizer_actor::behavior_type
containerizer(containerizer_actor::stateful_pointer<containerizer_state> self, agent_actor owner,
              containerizer_options options);

containerizer_actor spawn_containerizer(caf::actor_system& sys, agent_actor owner,
                                        containerizer_options options = {});

} // namespace mesoscaf
