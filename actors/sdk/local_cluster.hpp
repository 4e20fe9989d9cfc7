#pragma once
// A master and N agents in ONE actor system: `mesoscaf local`, demos and tests. The master is published on a
// loopback port so that executors (separate processes) and outside frameworks can reach it; in-process
// frameworks use `master()` directly.
//
// Threading: the member functions block (they wait on the actors from the calling thread through a
// scoped_actor) and must never be called from inside an actor.
#include "actors/interfaces.hpp"
#include "actors/master/master.hpp"

#include <caf/timespan.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

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
  /// Root of the work dirs: the master uses `<root>/master`, agent i `<root>/agent<i>`. Empty: a fresh
  /// directory under $TMPDIR (kept after stop, for the sandboxes' output).
  std::string work_dir;
  /// Port to publish the master on (0 = any free port; see master_port()).
  uint16_t master_port = 0;
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

  /// Ordered shutdown: agents first (they kill their tasks), then the master; waits until each is down,
  /// bounded (agents and master are killed if they do not finish within 10 s). Idempotent.
  void stop();

private:
  caf::actor_system& sys_;
  local_cluster_options opts_;
  std::string work_dir_;
  master_actor master_;
  std::vector<agent_actor> agents_;
  uint16_t port_ = 0;
  bool stopped_ = false;
};

} // namespace mesoscaf
