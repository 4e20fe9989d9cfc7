#pragma once
// The agent actor: one per machine. Registers with the leading master its detector names (retrying with backoff,
// also while a standby master refuses it; re-registering when the master goes down or the leader changes),
// starts executors through the containerizer, queues tasks until their executor registers, and forwards status
// updates to the master until they are acknowledged (status_update_manager). Applies the
// RESERVE / UNRESERVE / CREATE / DESTROY operations the master accepted to its total, checkpoints it, and links
// persistent volumes into the sandboxes of the tasks that use them (actors/agent/agent_disk_worker.hpp).
// Recovery (issue 4): frameworks with checkpoint=true have their executors, tasks and every status update written
// under <work_dir>/meta before anything acts on them (actors/agent/agent_checkpoint.hpp); a restarted agent process on
// the same boot keeps its agent ID, adopts the still running executors (containerizer `recover`), waits
// `executor_reregistration_timeout` for them to `rereg_exec`, ends the tasks of the others by Mesos' rules, then
// re-registers with `rereg_agent` and resends the head of every update stream. Only a crash leaves executors
// behind: an orderly exit (SIGTERM) still shuts them all down.
// Light header: the behaviour and its state live in agent.cpp.
#include "actors/agent/agent_checkpoint.hpp"
#include "actors/interfaces.hpp"
#include "actors/restart_policy.hpp"
#include "actors/ha/leader_election.hpp"
#include "containerizer/isolation.hpp"

#include <caf/timespan.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace caf {
class actor_system;
}

namespace mesoscaf {

/// Makes the agent's containerizer; called when the agent starts and again whenever the containerizer died and is
/// restarted, with the agent's own handle as the owner that receives (exited, container, status). Tests inject
/// mocks here.
using containerizer_factory = std::function<containerizer_actor(caf::actor_system&, agent_actor owner)>;

/// What the agent does with the checkpoint of an earlier agent process in its work dir (--recover).
enum class recover_mode {
  reconnect,  // take over its executors and tasks, keep its agent ID (same boot), resend its pending updates
  cleanup,    // kill its executors, forget it, start as a new agent
};

struct agent_options {
  // -- the master: whoever the detector names as leader (actors/ha/leader_election.hpp) --
  /// Tells the agent which master leads (ZooKeeper, in-process election). Null: spawn_agent builds a standalone
  /// detector from `master` (a handle, in-process cluster) or else from master_host:master_port, so that every
  /// agent follows the same code path. The agent watches it from its start and close()s it when it exits.
  /// On a new leader (new ID) it drops the current master, connects (handle, or host:port through the
  /// middleman, never blocking) and re-registers with everything it runs; while no leader is named it waits.
  std::shared_ptr<master_detector> detector;
  master_actor master;            // standalone: this master (in-process)
  std::string master_host;        // standalone: else connect here
  uint16_t master_port = 0;

  // -- what the agent tells the master --
  std::string hostname;
  resource_set resources;         // the caller detects defaults
  std::map<std::string, std::string> attributes;

  // -- where executors reach the agent --
  /// The port the agent is published on (MESOSCAF_AGENT_ENDPOINT=<executor_dial_host(publish_address)>:<port>).
  /// With `publish`, the agent publishes itself there (0: any free port) before it registers; without, the
  /// caller published it already (or nothing connects, as in deterministic tests).
  uint16_t port = 0;
  bool publish = false;
  /// Address the agent listens on when it publishes itself. Executors dial it, or loopback when it is a
  /// wildcard or loopback (config/support/network_address.hpp).
  std::string publish_address = "127.0.0.1";
  /// What the agent tells the master as its address (agent_info.address/port): empty / 0 = derived from
  /// publish_address (default_advertise_ip) and the published port. For nodes behind NAT or in containers.
  std::string advertise_ip;
  uint16_t advertise_port = 0;
  /// The agent's HTTP port (actors/http/agent_http.hpp), told to the master in agent_info; 0: none.
  uint16_t http_port = 0;

  // -- executors, checkpoint and volumes --
  /// Sandboxes, `meta/resources` (the total as operations changed it: reservations, volumes; recovered at start
  /// if compatible with `resources`) and `volumes/` (persistent volume directories) live here.
  std::string work_dir = "/tmp/mesoscaf";
  /// The disk worker (checkpoint, volume directories) runs detached; false runs it on the scheduler (tests).
  bool detached_disk_worker = true;
  /// Program started as `<executor_binary> command-executor`; empty: found as config/support/executable_path.hpp
  /// `executor_binary` says ($MESOSCAF_EXECUTOR_BINARY, the mesoscaf next to this program, PATH).
  std::string executor_binary;
  /// After `shutdown` is sent to an executor, its container is killed after this long (plus a drain margin).
  /// Executors get it as MESOSCAF_EXECUTOR_SHUTDOWN_GRACE_PERIOD: the command executor's default kill grace of a
  /// task without a kill policy (Mesos' --executor_shutdown_grace_period).
  caf::timespan executor_shutdown_grace = std::chrono::seconds(3);
  /// The fetcher's cache (URIs with cache=true): a directory per user under this, at most this many bytes each.
  /// Empty: <work_dir>/fetch.
  std::string fetcher_cache_dir;
  uint64_t fetcher_cache_bytes = uint64_t{2} << 30;
  /// An executor that has not registered this long after its launch is killed and its tasks fail.
  caf::timespan executor_registration_timeout = std::chrono::seconds(60);
  /// How long the containerizer waits between SIGTERM and SIGKILL (default containerizer only). Must exceed
  /// the command executor's own task kill grace plus its drain time (3 s + 2 s): its tasks run in their own
  /// sessions, so a SIGKILLed executor could leave a task that ignores SIGTERM running.
  caf::timespan container_kill_grace = std::chrono::seconds(10);
  /// Sandboxes of finished executors are removed this long after the executor ended (Mesos' --gc_delay), sooner
  /// as the work dir's file system fills: allowed age = gc_delay * max(0, 1 - gc_disk_headroom - usage).
  caf::timespan gc_delay = std::chrono::hours(24 * 7);
  double gc_disk_headroom = 0.1;
  /// How often the agent reads the disk usage and removes the sandboxes that are due.
  caf::timespan disk_watch_interval = std::chrono::minutes(1);
  /// Makes the containerizer; empty: the real one (containerizer/containerizer_actor.hpp).
  containerizer_factory make_containerizer;
  /// Isolators for the real containerizer and the command executors (containerizer/isolation.hpp); cgroups/*
  /// isolators need `cgroups` (detect_cgroups). The default is posix: counted, not confined.
  isolation_options isolation = posix_isolation();
  std::shared_ptr<cgroups> control_groups;
  /// A component actor (containerizer, disk worker) that dies while the agent runs is restarted within this
  /// budget (per component); past it the agent exits. A restart after a backoff waits for the agent's tick.
  restart_policy::limits component_restarts{5, std::chrono::minutes(1), std::chrono::milliseconds(100),
                                            std::chrono::seconds(5)};
  /// Tests: called with each component the agent (re)starts, named "containerizer" or "disk worker".
  std::function<void(const std::string& name, const caf::actor& handle)> on_component_start;

  // -- recovery (actors/agent/agent_checkpoint.hpp) --
  /// Frameworks with framework_info.checkpoint have their executors, tasks and status updates checkpointed
  /// under <work_dir>/meta; the agent record (ID, boot ID, port) is always written.
  recover_mode recover = recover_mode::reconnect;
  /// The machine's boot ID; empty: read_boot_id(). A checkpoint of another boot is cleared (fresh agent ID).
  std::string boot_id;
  /// The checkpoint, already read by the caller (load_agent_checkpoint); null: spawn_agent reads it.
  std::shared_ptr<const recovered_state> recovered;
  /// The total resources, already recovered by the caller (recover_agent_resources: reservations and volumes of
  /// an earlier run); unset: spawn_agent recovers them.
  std::optional<resource_set> recovered_total;
  /// After a restart, recovered executors have this long to re-register (rereg_exec) before they are killed and
  /// the agent registers with the master.
  caf::timespan executor_reregistration_timeout = std::chrono::seconds(5);
  /// Told to executors of checkpointing frameworks (MESOSCAF_RECOVERY_TIMEOUT): how long they wait for a
  /// restarted agent before they kill their tasks and exit.
  caf::timespan recovery_timeout = std::chrono::minutes(15);

  // -- timing --
  caf::timespan registration_backoff_min = std::chrono::milliseconds(100);
  caf::timespan registration_backoff_max = std::chrono::seconds(5);
  /// Timeout of the connect, publish, registration and launch requests.
  caf::timespan request_timeout = std::chrono::seconds(5);
  /// Unacknowledged status updates are resent after this long, doubling up to the maximum.
  caf::timespan update_retry_min = std::chrono::seconds(2);
  caf::timespan update_retry_max = std::chrono::seconds(60);
  /// Period of the agent's timer, which drives every retry and timeout above.
  caf::timespan tick_interval = std::chrono::milliseconds(100);
  /// On exit, the agent quits at the latest this long after the executors' shutdown grace expired.
  caf::timespan exit_timeout = std::chrono::seconds(10);
};

/// The executor ID of the built-in command executor (one per framework per agent).
extern const char* const command_executor_id;

/// Reads the checkpoint under `work_dir` (blocking: the caller's thread, never an actor). A checkpoint of another
/// boot than `boot_id` is cleared (keeping meta/resources) and `*rebooted` set; `out` then holds nothing.
/// Returns "" or an error (a corrupt checkpoint: the agent must not start).
std::string load_agent_checkpoint(const std::string& work_dir, const std::string& boot_id, recovered_state& out,
                                  bool* rebooted = nullptr);

/// --recover=cleanup (blocking, caller's thread): SIGTERM to the process group of every recovered executor that
/// still runs (pid and start time checked), SIGKILL after `grace` to those still there. Returns how many it
/// signalled. The caller clears the checkpoint afterwards.
size_t kill_recovered_executors(const recovered_state& state, std::chrono::milliseconds grace);

/// Where an agent keeps an executor's sandboxes: <work_dir>/agents/<agent>/frameworks/<fw>/executors/<exec>/runs,
/// one directory per container below it (a command task's own directory is tasks/<task> inside that). Empty if a
/// component is not a safe path component.
std::string executor_runs_dir(const std::string& work_dir, const agent_id& agent, const framework_id& fw,
                              const executor_id& exec);

/// Spawns an agent. Reads the checkpoint first (unless `opts.recovered` is given; on the caller's thread) and
/// recovers from it (or, with recover_mode::cleanup, kills its executors and forgets it). It then publishes
/// itself if `opts.publish` (port 0 and a checkpointed port: that port) and registers with the master.
agent_actor spawn_agent(caf::actor_system& sys, agent_options opts);

} // namespace mesoscaf
