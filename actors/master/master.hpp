#pragma once
// The master actor: agents register, frameworks subscribe, allocations become offers, ACCEPT/DECLINE/KILL are
// validated and carried out, status updates and acknowledgements are relayed. The bookkeeping lives in
// cluster_state and the ACCEPT rules in offer_validation; this actor routes messages and owns the handles.
//
// Security: every scheduler call names a framework ID, and only that framework's registered scheduler actor
// (the sender, compared by address) may use it; status updates and executor messages are only taken from the
// registered agent they name; allocations only from our own allocator. Anything else gets an `atom::error`
// (schedulers) or a log line (agents) and changes nothing.
//
// Lifetime: the master owns its allocator and sends it an exit when it terminates. Its timers are one-shot
// messages to itself: offer timeouts (--offer-timeout), the health round (every --agent-ping-timeout, armed only
// while agents are registered), paced unreachable markings (--agent-removal-rate-limit) and framework failover
// timeouts. A dead master drops them, so tests that kill the master before teardown do not hang.
// The allocator holds the master's handle, so the master does not die of being unreachable: stop it with an
// exit message (e.g. `anon_send_exit(master, exit_reason::user_shutdown)`).
#include "actors/master/agent_health.hpp"
#include "actors/interfaces.hpp"
#include "actors/restart_policy.hpp"
#include "actors/unconfirmed_requests.hpp"
#include "actors/master/cluster_state.hpp"
#include "actors/master/master_metrics.hpp"
#include "allocator/allocator_actor.hpp"
#include "config/support/acls.hpp"

#include <caf/actor_addr.hpp>
#include <caf/typed_response_promise.hpp>
#include <caf/fwd.hpp>
#include <caf/timespan.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace mesoscaf {

/// The master's tunables that operators set as flags (--allocation-interval, --offer-timeout, ...): one plain
/// struct, so that `mesoscaf master`, `mesoscaf local` and local_cluster fill master_options the same way.
struct master_tuning {
  /// Period of the allocator's batch run (Mesos' --allocation_interval).
  caf::timespan allocation_interval = std::chrono::seconds(1);
  /// An offer neither accepted nor declined within this time is rescinded and its resources recovered
  /// without a filter (Mesos' --offer_timeout). 0 = never.
  caf::timespan offer_timeout{0};
  /// Role weights given to the allocator at start (--weights, see parse_weights in config/daemon_config.hpp).
  /// A weight the allocator refuses is logged as an error.
  std::vector<std::pair<std::string, double>> weights;
  /// Health checks: every this often each connected agent is pinged and has this long to answer
  /// (--agent-ping-timeout). 0 = no health checks (agents are never marked unreachable).
  caf::timespan agent_ping_timeout = std::chrono::seconds(15);
  /// This many missed pings in a row (a disconnected agent misses every round) and the agent is marked
  /// unreachable (--max-agent-ping-timeouts).
  int64_t max_agent_ping_timeouts = 5;
  /// At most this many agents marked unreachable per period (--agent-removal-rate-limit); count 0 = no limit.
  int64_t removal_limit_count = 0;
  caf::timespan removal_limit_period{0};
  /// After an election, agents of the registry that have not re-registered by then are marked unreachable (through
  /// the removal queue and its rate limit) (--agent-reregister-timeout).
  caf::timespan agent_reregister_timeout = std::chrono::minutes(10);
};

struct master_options : master_tuning {
  /// Allocator tuning (minimum allocatable resources, ...).
  allocator_config allocator;
  /// How much history the master keeps (completed tasks, retired offers, removed frameworks).
  registry_limits limits;

  // -- leadership and the registry (issue 5) --
  /// True: the master leads from the start (standalone, `mesoscaf local`, tests). False: it stands by until its
  /// contender sends `elected` (HA: actors/ha/leader_election.hpp; the caller wires contender and detector).
  bool start_as_leader = true;
  /// The durable registry (actors/ha/registrar.hpp); null: nothing is durable (tests). Admissions, unreachable and
  /// reachable markings, weights and quota are written through it; replies to agents wait until durable.
  registrar_actor registrar;
  /// Starts a registrar (over the daemon's store); used instead of `registrar` when set. A registrar started this
  /// way that dies is started again (restart budget) and the writes it had not confirmed are sent again.
  std::function<registrar_actor(caf::actor_system&)> make_registrar;
  /// Called (on the master's thread; it must not block) once leading began and no agent of the recovered
  /// registry is left to wait for: each re-registered or was marked unreachable. The daemon lets its allocator
  /// return memory to the kernel again (apps/mesoscaf/heap_reserve.hpp).
  std::function<void()> recovered;

  // -- trust (issue 17) --
  /// Who may do what (--acls); default: everything. Checked against the principal of the sending node (its TLS
  /// certificate, actors/tls.hpp) for messages from other processes; the HTTP layer checks its own requests.
  acl_set acls;
};

struct master_state {
  static inline const char* name = "master";
  cluster_state reg;
  allocator_actor allocator;
  std::map<framework_id, scheduler_actor> schedulers;
  std::map<caf::actor_addr, framework_id> framework_by_addr;
  // Hashed: looked up several times per (re-)registration, never iterated.
  std::unordered_map<agent_id, agent_actor> agents;
  std::unordered_map<caf::actor_addr, agent_id> agent_by_addr;
  /// Cap for refuse filters: the allocator's (it refuses longer ones, so clamping with any other cap could
  /// make a recover fail and its resources never return).
  double max_refuse_seconds = 0;
  /// Shortest filter a DECLINE installs: one allocation interval. Mesos re-offers declined resources only at
  /// its next batch allocation; we allocate on events, so without this floor a framework that declines with
  /// refuse_seconds=0 is re-offered the same resources at once, in a loop that burns both sides' CPU. The
  /// allocator drops such a filter as soon as more resources come free on the agent.
  double min_decline_seconds = 0;
  /// --offer-timeout (0 = off).
  caf::timespan offer_timeout{0};
  /// Agent health (missed pings, removal queue and rate limit) and its timer.
  agent_health health;
  caf::timespan ping_timeout{0};
  bool health_armed = false;
  bool removal_pending = false;   // an `unreachable` message to ourselves is on its way
  /// Unregistered senders already told to re-register in this health round (one `rereg_agent` per round).
  std::set<caf::actor_addr> told_rereg;
  /// MARK_AGENT_GONE waiting for the registry: a second call for the agent is answered "retry" meanwhile.
  std::set<agent_id> marking_gone;
  /// Tasks the master killed on a readmitted agent (it had ended them already): their updates are acknowledged
  /// by the master and never forwarded.
  std::set<std::pair<framework_id, task_id>> ack_only;
  // -- leadership --
  bool elected = false;   // the contender said so (or start_as_leader)
  bool leading = false;   // elected and the registry recovered: serving agents and frameworks
  master_location leader; // as the detector last named it (for refusals while standing by)
  registrar_actor registrar;
  caf::timespan agent_reregister_timeout{0};
  // -- supervision of the allocator --
  /// Spawns a new allocator when the master owns it (null with an injected one): a dead allocator is respawned
  /// within `allocator_restarts` and rebuilt from this state (docs/ARCHITECTURE.md, "Failure handling").
  std::function<allocator_actor()> make_allocator;
  restart_policy allocator_restarts{restart_policy::limits{5, std::chrono::minutes(1), {}, {}}};
  /// The allocator's soft state a new one must be told again: weights and quota in force, suppressed roles.
  std::map<std::string, double> weights;
  std::map<std::string, quota_info> quotas;
  std::map<framework_id, std::set<std::string>> suppressed;
  // -- supervision of the registrar --
  std::function<registrar_actor()> make_registrar;
  restart_policy registrar_restarts{restart_policy::limits{5, std::chrono::minutes(1), {}, {}}};
  /// False while a restarted registrar loads the store: writes wait (it refuses them until then).
  bool registrar_ready = true;
  /// Writes not yet confirmed: sent again to a restarted registrar (operations are idempotent; a repeated
  /// admission is refused and counts as done).
  struct registry_write {
    registry_operation op;
    std::function<void()> on_durable;
  };
  unconfirmed_requests<registry_write> registry_writes;
  /// Newly registered agents whose admission is being written: the allocator is told of them only then.
  std::set<agent_id> admitting;
  uint64_t rereg_deadline_gen = 0;
  /// Agents of the recovered registry and when leading began: after a failover every agent re-registers at
  /// once, so each one is logged at debug level and the leader says at info level when all are back.
  size_t recovery_total = 0;
  size_t recovery_back = 0;   // of those, re-registered (the others were marked unreachable)
  std::chrono::steady_clock::time_point recovery_start;
  bool recovery_open = false;   // leading began and recovering agents remain (or `recovered` was not called yet)
  std::function<void()> recovered;
  /// --acls (master_options::acls).
  acl_set acls;
  /// Agents whose admission (or readmission) is being written to the registry: their registration replies wait.
  /// One list of waiting replies per write under way, oldest first (a retry joins the newest).
  std::map<agent_id, std::vector<std::shared_ptr<std::vector<caf::typed_response_promise<agent_id>>>>>
    awaiting_durable;
  /// Generation of each disconnected framework's failover timer (a takeover makes a pending timer void).
  std::map<framework_id, uint64_t> failover_gen;
  uint64_t next_failover_gen = 0;
  // -- introspection (HTTP /state, /metrics) --
  master_counters counters;
  /// Operators following every change (v1 operator SUBSCRIBE; actors/master/operator_events.hpp).
  std::vector<operator_listener_actor> operator_listeners;
  double start_time = 0;    // seconds since the epoch
  double elected_time = 0;  // when it began to lead (0: not yet)
};

using master_pointer = master_actor::stateful_pointer<master_state>;

/// HTTP introspection (actors/master/master_introspection.cpp): one page of the state; the metrics.
caf::result<master_state_view> state_page(master_pointer self, const state_cursor& at);
caf::result<std::vector<metric_sample>> metrics_of(master_pointer self);

/// Starts the master's allocator, with the master as its listener: at start and again after it died.
using allocator_factory = std::function<allocator_actor(caf::actor_system&, const allocation_listener_actor&)>;

/// The behaviour. The master starts its allocator with `make` (null: spawn_allocator) and restarts it the same
/// way when it dies, or uses `existing` when that is not null (tests inject a mock; it is not restarted).
/// Either way it monitors the allocator and sends it an exit when the master terminates.
master_actor::behavior_type master(master_pointer self, master_options opts, allocator_actor existing,
                                   allocator_factory make);

/// Spawns a master with its own allocator.
master_actor spawn_master(caf::actor_system& sys, master_options opts = {});

/// Spawns a master that uses `existing` as its allocator (which should send allocations to the master;
/// the master accepts `allocate` only from this handle).
master_actor spawn_master(caf::actor_system& sys, master_options opts, allocator_actor existing);

/// Spawns a master that starts (and restarts) its allocator with `make`.
master_actor spawn_master(caf::actor_system& sys, master_options opts, allocator_factory make);

} // namespace mesoscaf
