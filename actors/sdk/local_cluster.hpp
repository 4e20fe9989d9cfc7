#pragma once
// A master and N agents in ONE actor system: `mesoscaf local`, demos and tests. The master is published on a
// loopback port so that executors (separate processes) and outside frameworks can reach it; in-process
// frameworks use `master()` directly.
//
// Threading: the member functions block (they wait on the actors from the calling thread through a
// scoped_actor) and must never be called from inside an actor.
#include "config/support/acls.hpp"
#include "actors/interfaces.hpp"
#include "actors/master/master.hpp"
#include "containerizer/isolation.hpp"

#include <caf/timespan.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "actors/sdk/sandbox_files.hpp"

namespace caf {
class actor_system;
}

namespace mesoscaf {

/// The master's tunables (allocation interval, offer timeout, weights, agent health) are inherited, so
/// `mesoscaf local` fills them with the same conversion as `mesoscaf master`.
struct local_cluster_options : master_tuning {
  size_t agents = 1;
  /// Resources of each agent.
  resource_set agent_resources = *resource_set::parse("cpus:2;mem:2048;disk:10000;ports:[31000-32000]");
  /// How the agents confine tasks (containerizer/isolation.hpp); posix by default. With cgroups/* isolators and
  /// `control_groups`, agent i keeps its containers under <cgroups_root>/agent<i> (agents never take each
  /// other's groups for orphans).
  isolation_options isolation = posix_isolation();
  std::shared_ptr<cgroups> control_groups;
  /// Root of the work dirs: the master uses `<root>/master`, agent i `<root>/agent<i>`. Empty: a fresh
  /// directory under $TMPDIR.
  std::string work_dir;
  /// Keep the work dir (sandboxes, checkpoints) after stop(), e.g. to look at a failed test's task output.
  /// Otherwise stop() removes it if the cluster created it (a temporary one, or `work_dir` if it did not exist);
  /// a directory that existed before is never removed.
  bool keep_work_dir = false;
  /// Port to publish the master on (0 = any free port; see master_port()).
  uint16_t master_port = 0;
  /// The HTTP port agent i advertises to the master (the caller serves its endpoints: actors/http/); none: 0.
  std::vector<uint16_t> agent_http_ports;
  /// Tests: called (on the agent's thread) with each component actor agent `i` (re)starts, named
  /// "containerizer" or "disk worker" (agent_options::on_component_start).
  std::function<void(size_t agent, const std::string& component, const caf::actor& handle)> on_agent_component;
  /// The master's ACLs (master_options::acls); default: everything allowed.
  acl_set acls;
};

/// What run_command returns.
struct command_result {
  task_status status;      // the terminal status (state, reason, message), or the last seen on timeout
  framework_id framework;  // of the small framework that ran it
  std::string sandbox;     // the task's sandbox directory (its stdout and stderr files are there)
  bool timed_out = false;
  std::string error;       // the framework could not subscribe, or the master refused the launch

  agent_id agent() const { return status.agent; }
  bool finished() const { return status.state == task_state::finished; }
};

class local_cluster {
public:
  /// Spawns and publishes the master, then the agents (which register asynchronously: see wait_for_agents).
  /// Throws std::runtime_error if the master cannot be published or a work dir cannot be created.
  local_cluster(caf::actor_system& sys, local_cluster_options opts = {});
  /// stop()s.
  ~local_cluster();

  local_cluster(const local_cluster&) = delete;
  local_cluster& operator=(const local_cluster&) = delete;

  master_actor master() const { return master_; }
  const std::vector<agent_actor>& agents() const { return agents_; }
  uint16_t master_port() const { return port_; }
  const std::string& work_dir() const { return work_dir_; }

  /// Polls the master's state until at least `n` agents are registered. False on timeout.
  bool wait_for_agents(size_t n, std::chrono::milliseconds timeout);

  /// The master's state (empty snapshot if it does not answer within `timeout`).
  master_snapshot state(std::chrono::milliseconds timeout = std::chrono::seconds(5));

  // -- blocking helpers for a user's test (docs/TESTING.md); the calling thread waits, never call from an actor --

  /// Runs `shell_command` as one command task of a small framework of its own (through scheduler_driver) and
  /// waits for its terminal status. On timeout (or if the framework could not subscribe or launch) `timed_out`
  /// or `error` says so and `status` holds the last status seen.
  command_result run_command(const std::string& shell_command,
                             const resource_set& resources = *resource_set::parse("cpus:0.1;mem:32"),
                             std::chrono::milliseconds timeout = std::chrono::seconds(60));

  /// The sandbox directory of a task of framework `fw` that ran on this cluster (status.agent and status.task
  /// name it); empty if there is none (yet). For a user's own framework: `sandbox_of(driver.id(), status)`.
  std::string sandbox_of(const framework_id& fw, const task_status& status) const;

  /// Reads `path` (relative, inside the sandbox) of a finished or running task, at most `max_bytes`.
  /// A path that leaves the sandbox (absolute, "..", a symlink pointing out) is refused with an error.
  sandbox_file read_sandbox_file(const std::string& sandbox, const std::string& path,
                                 size_t max_bytes = default_sandbox_read_limit) const;
  sandbox_file read_stdout(const command_result& r, size_t max_bytes = default_sandbox_read_limit) const;
  sandbox_file read_stderr(const command_result& r, size_t max_bytes = default_sandbox_read_limit) const;

  /// Kills agent `i` like a crash (kill -9 of an agent process): no orderly shutdown, so the executors and tasks
  /// of checkpointing frameworks keep running and the master sees the agent disconnect. Returns false if agent
  /// `i` does not exist or is already stopped.
  bool stop_agent(size_t i);
  /// Starts agent `i` again on its work dir (stopping it first if it runs): like a restarted agent process it
  /// recovers from its checkpoint, keeps its agent ID and adopts the executors of checkpointing frameworks.
  /// It registers asynchronously: wait with state() (agent_summary::connected). False if `i` is out of range.
  bool restart_agent(size_t i);

  /// Ordered shutdown: agents first (they kill their tasks), then the master; waits until each is down,
  /// bounded (agents and master are killed if they do not finish within 10 s). Ends the executors an agent killed
  /// by stop_agent left behind, then removes the work dir (see keep_work_dir). Idempotent.
  void stop();

private:
  caf::actor_system& sys_;
  local_cluster_options opts_;
  std::string work_dir_;
  master_actor master_;
  std::vector<agent_actor> agents_;
  uint16_t port_ = 0;
  bool stopped_ = false;
  bool remove_work_dir_ = false;  // the cluster created it (see keep_work_dir)
  std::string hostname_;
  uint64_t runs_ = 0;             // run_command calls: unique framework and task names

  agent_actor spawn_agent_at(size_t i);
};

} // namespace mesoscaf
