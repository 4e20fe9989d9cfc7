#pragma once
// The whole protocol of mesoscaf on one page: every typed actor interface, one comment per handler.
// Star topology: schedulers and agents talk to the master; executors talk to their agent over loopback;
// scheduler <-> executor messages are relayed by master and agent.
// Light CAF headers only: this file is included widely.
#include "messages/type_ids.hpp"

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace mesoscaf {

/// Follows the master's changes for the operator API's SUBSCRIBE stream (actors/http/v1_operator_api.cpp): one event
/// per change, in the order the master made them.
using operator_listener_actor = caf::typed_actor<
  caf::reacts_to<atom::op_event, operator_event>>;

/// A framework's scheduler, as the master sees it. Implemented by user actors or by the driver adapter
/// (actors/sdk/scheduler_driver.hpp) that calls a callback class.
using scheduler_actor = caf::typed_actor<
  // Resource offers, at most one per (agent, role). Answer with accept or decline on the master.
  caf::reacts_to<atom::offers, std::vector<offer>>,
  // An offer is no longer valid (its agent or framework went away, or it timed out).
  caf::reacts_to<atom::rescind, offer_id>,
  // A task status update. If `uuid` is non-empty, acknowledge it with master's `ack`.
  caf::reacts_to<atom::update, task_status>,
  // A message from an executor of this framework.
  caf::reacts_to<atom::fw_msg, agent_id, executor_id, std::string>,
  // An agent was removed; its tasks are reported lost separately.
  caf::reacts_to<atom::agent_lost, agent_id>,
  // A custom executor exited with this wait status.
  caf::reacts_to<atom::exec_lost, executor_id, agent_id, int32_t>,
  // The master refused something this framework did (the framework stays subscribed).
  caf::reacts_to<atom::error, std::string>,
  // Another scheduler subscribed with this framework's ID (framework failover): this one is no longer the
  // framework's scheduler and gets nothing more (Mesos' "Framework failed over").
  caf::reacts_to<atom::replaced, framework_id>>;

/// A custom or built-in executor, as its agent sees it.
using executor_actor = caf::typed_actor<
  // Run this task.
  caf::reacts_to<atom::launch, task_info>,
  // Run these tasks together, all or none (LAUNCH_GROUP; the DEFAULT executor, a custom one gets each task).
  caf::reacts_to<atom::launch, task_group_info>,
  // Kill this task (SIGTERM to its processes, SIGKILL after the grace period: the task's kill policy, else the
  // agent's --executor-shutdown-grace-period).
  caf::reacts_to<atom::kill_task, task_id>,
  // Kill this task with this grace period (a kill call's own policy, overriding the task's).
  caf::reacts_to<atom::kill_task, task_id, kill_policy>,
  // The agent has taken over this status update (it now retries it towards the master).
  caf::reacts_to<atom::ack, task_id, std::string>,
  // A message from the framework's scheduler.
  caf::reacts_to<atom::fw_msg, std::string>,
  // Kill all tasks and exit.
  caf::reacts_to<atom::shutdown>>;

/// The agent: one per machine. Publishes itself on a port so that executors (and the master) can reach it.
using agent_actor = caf::typed_actor<
  // -- from the master --
  // Run a task for this framework (the master has validated it against an offer).
  caf::reacts_to<atom::run_task, framework_info, task_info>,
  // Run a task group on this DEFAULT executor (started if it does not run yet): all tasks start or none.
  caf::reacts_to<atom::run_task, framework_info, executor_info, task_group_info>,
  // Kill a task (with the task's kill policy / with this one).
  caf::reacts_to<atom::kill_task, framework_id, task_id>,
  caf::reacts_to<atom::kill_task, framework_id, task_id, kill_policy>,
  // The framework acknowledged this status update (task, uuid): stop retrying it.
  caf::reacts_to<atom::ack, framework_id, task_id, std::string>,
  // Relay a scheduler's message to an executor.
  caf::reacts_to<atom::fw_msg, framework_id, executor_id, std::string>,
  // Apply a RESERVE / UNRESERVE / CREATE / DESTROY the master accepted for this framework: the agent re-checks it
  // against its own total, checkpoints the new total, creates or deletes the volume's directory.
  caf::reacts_to<atom::apply_op, framework_id, offer_operation>,
  // The framework is gone: kill its tasks and executors.
  caf::reacts_to<atom::shutdown_fw, framework_id>,
  // The operator marked this agent gone (MARK_AGENT_GONE; the text says so): kill every executor and exit. Its ID
  // is never admitted again.
  caf::reacts_to<atom::shutdown, std::string>,
  // The framework asked to shut down this executor: it is told to kill its tasks and exit (its container is
  // killed after the grace period).
  caf::reacts_to<atom::shutdown, framework_id, executor_id>,
  // Health check (every --agent-ping-timeout); the reply is the agent's ID. Missing replies make the agent
  // unreachable.
  caf::replies_to<atom::ping>::with<agent_id>,
  // The framework's scheduler failed over: resend its pending status updates now (not at the next retry).
  caf::reacts_to<atom::resend, framework_id>,
  // The master does not consider this agent registered (e.g. it marked it unreachable while the agent was
  // frozen): register again with everything it runs.
  caf::reacts_to<atom::rereg_agent>,
  // -- from its master detector (actors/ha/leader_election.hpp) --
  // The leading master is now this one (empty: none known): connect to it and (re-)register.
  caf::reacts_to<atom::leader, master_location>,
  // -- from executors --
  // An executor started by this agent registers; the reply says what it runs for. Queued tasks follow
  // as `launch` messages. The last argument is the secret the agent put in that executor's environment
  // (MESOSCAF_EXECUTOR_SECRET): without it, any process that reaches the agent could register as the executor
  // first and receive its tasks.
  caf::replies_to<atom::reg_exec, framework_id, executor_id, executor_actor, std::string>::with<executor_registration>,
  // An executor of a checkpointing framework reconnects after the agent restarted (or the connection broke):
  // the tasks it runs (launched, not terminal) and its unacknowledged status updates. The reply is as for
  // reg_exec; an error means the agent does not know it (any more) and the executor must kill its tasks and exit.
  // The secret as for reg_exec.
  caf::replies_to<atom::rereg_exec, framework_id, executor_id, executor_actor, std::vector<task_info>,
                  std::vector<status_update>, std::string>::with<executor_registration>,
  // A status update from an executor. The agent acks it to the executor and retries it to the master.
  caf::reacts_to<atom::update, status_update>,
  // An executor's message for its framework's scheduler.
  caf::reacts_to<atom::exec_msg, framework_id, executor_id, std::string>,
  // -- internal --
  // The containerizer reports that a container's process exited with this wait status.
  caf::reacts_to<atom::exited, container_id, int32_t>,
  // Timer: resend unacknowledged status updates, retry registration.
  caf::reacts_to<atom::tick>,
  // -- introspection --
  caf::replies_to<atom::state>::with<agent_snapshot>,
  // What each running container uses now (Mesos' /monitor/statistics).
  caf::replies_to<atom::usage>::with<std::vector<container_usage>>,
  /// HTTP /state and /metrics (actors/http/agent_http.hpp).
  caf::replies_to<atom::state_page>::with<agent_state_view>,
  caf::replies_to<atom::metrics>::with<std::vector<metric_sample>>>;

/// Receives the allocator's decisions. The master implements it.
using allocation_listener_actor = caf::typed_actor<
  // These resources are now allocated to these frameworks: turn them into offers.
  caf::reacts_to<atom::allocate, std::vector<allocation>>>;

/// The allocator: decides which framework is offered which resources (DRF). Owned by the master.
using allocator_actor = caf::typed_actor<
  // A framework subscribed (active from now on).
  caf::reacts_to<atom::add_fw, framework_id, framework_info>,
  // A framework is gone; its allocations are forgotten.
  caf::reacts_to<atom::remove_fw, framework_id>,
  // UPDATE_FRAMEWORK: the framework's roles and capabilities are now these (hierarchical_allocator.hpp).
  caf::reacts_to<atom::update_fw, framework_id, framework_info>,
  // A framework stops / resumes receiving offers (disconnected / reconnected).
  caf::reacts_to<atom::activate, framework_id>,
  caf::reacts_to<atom::deactivate, framework_id>,
  // An agent joined with these total resources.
  caf::reacts_to<atom::add_agent, agent_id, resource_set>,
  // An agent came back (re-registered) with tasks and executors running: these allocations are in use from the
  // start (allocations to frameworks the allocator does not know are ignored). Inactive (`active` false): nothing
  // of it is offered until activate_agent (its answer waits for the registry).
  caf::reacts_to<atom::add_agent, agent_id, resource_set, std::vector<allocation>, bool>,
  // The agent is disconnected (nothing of it is offered) / connected again. Its allocations stay.
  caf::reacts_to<atom::deactivate_agent, agent_id>,
  caf::reacts_to<atom::activate_agent, agent_id>,
  // An agent left; everything on it is gone.
  caf::reacts_to<atom::remove_agent, agent_id>,
  // Resources allocated to a framework in a role come back (declined, unused in an accept, task ended).
  // If refuse_seconds > 0 they are not offered to that framework in that role again for that long.
  caf::reacts_to<atom::recover, framework_id, agent_id, std::string, resource_set, double>,
  // Clear the framework's filters and offer to it again / stop offering to it, in these roles (empty: all).
  caf::reacts_to<atom::revive, framework_id, std::vector<std::string>>,
  caf::reacts_to<atom::suppress, framework_id, std::vector<std::string>>,
  // An accepted RESERVE / UNRESERVE / CREATE / DESTROY: resources allocated to (framework, role) on the agent
  // change from `consumed` to `produced` (same quantities), in the allocation and in the agent's total.
  caf::reacts_to<atom::update_alloc, framework_id, agent_id, std::string, resource_set, resource_set>,
  // The operator's RESERVE_RESOURCES / UNRESERVE_RESOURCES / CREATE_VOLUMES / DESTROY_VOLUMES: the allocations
  // (rescinded offers) come back first, in the same step (no allocation run can offer them in between); then free
  // resources of the agent change from `consumed` to `produced` (same quantities). Replies true, or an error:
  // runtime_error if `consumed` is not free, invalid_argument if the conversion is invalid (nothing converted).
  caf::replies_to<atom::update_alloc, agent_id, resource_set, resource_set, std::vector<allocation>>::with<bool>,
  // Operator: a role's weight / quota. Replies true, or an error (invalid input changes nothing).
  caf::replies_to<atom::set_weight, std::string, double>::with<bool>,
  caf::replies_to<atom::set_quota, std::string, quota_info>::with<bool>,
  // Introspection: every known role.
  caf::replies_to<atom::roles>::with<std::vector<role_summary>>,
  // Timer: the periodic allocation run.
  caf::reacts_to<atom::tick>,
  // Internal: run an allocation now. Events send one of these to self (coalesced: at most one pending).
  caf::reacts_to<atom::allocate>>;

/// The registrar (actors/ha/registrar.hpp): the only writer of the registry (messages/registry.hpp).
using registrar_actor = caf::typed_actor<
  // Load the registry from the store (the master does this once it is elected). Must come first.
  caf::replies_to<atom::recover>::with<registry_data>,
  // Apply one operation; replies true once it is durable (batched with others), or an error: invalid_argument if
  // it does not apply (nothing changes), runtime_error if the store failed.
  caf::replies_to<atom::registry, registry_operation>::with<bool>>;

/// The master: agents register here, frameworks subscribe here. Only the elected leader serves agents and
/// frameworks; a standby master answers reg_agent, rereg_agent and subscribe with an error
/// (caf::sec::unavailable_or_would_block, "not the leading master; the leader is ...") and ignores the rest.
using master_actor = caf::typed_actor<
  // -- from agents --
  // Register an agent; replies with its (new) agent ID.
  caf::replies_to<atom::reg_agent, agent_info, agent_actor>::with<agent_id>,
  // An agent with an ID re-registers (restarted, reconnected, back from a partition) with what it runs; replies
  // with its agent ID (the same), or an error if the master refuses it (e.g. the ID is in use by a connected
  // agent): the agent then starts over as a new agent.
  caf::replies_to<atom::rereg_agent, agent_reregistration, agent_actor>::with<agent_id>,
  // A task status update (from the agent's status update manager; resent until acknowledged).
  caf::reacts_to<atom::update, status_update>,
  // An executor's message for its framework's scheduler.
  caf::reacts_to<atom::exec_msg, framework_id, agent_id, executor_id, std::string>,
  // A custom executor exited with this wait status.
  caf::reacts_to<atom::exec_lost, framework_id, agent_id, executor_id, int32_t>,
  // -- from schedulers (the framework ID must belong to the sending scheduler) --
  // Subscribe a framework (empty ID: new framework); replies with its framework ID.
  caf::replies_to<atom::subscribe, framework_info, scheduler_actor>::with<framework_id>,
  // UPDATE_FRAMEWORK: change the framework's roles, capabilities, failover timeout, name or labels (not its ID,
  // user, principal or checkpointing). Offers for roles it left are rescinded; an error goes back as atom::error.
  caf::reacts_to<atom::update_fw, framework_info>,
  // Remove the framework, kill its tasks.
  caf::reacts_to<atom::teardown, framework_id>,
  // The operator removes a framework (HTTP /teardown; the text names who asked). False: unknown framework.
  caf::replies_to<atom::teardown, framework_id, std::string>::with<bool>,
  // Use offers (all on one agent and of one role) for these operations, applied in order; unused resources
  // return with the filters.
  caf::reacts_to<atom::accept, framework_id, std::vector<offer_id>, std::vector<offer_operation>, filters>,
  // Return offers unused.
  caf::reacts_to<atom::decline, framework_id, std::vector<offer_id>, filters>,
  // Clear filters and ask for offers again / stop offers: all the framework's roles, or the ones listed.
  caf::reacts_to<atom::revive, framework_id>,
  caf::reacts_to<atom::suppress, framework_id>,
  caf::reacts_to<atom::revive, framework_id, std::vector<std::string>>,
  caf::reacts_to<atom::suppress, framework_id, std::vector<std::string>>,
  // Kill a task (agent ID may be empty: the master looks it up), with the task's kill policy / with this one.
  caf::reacts_to<atom::kill, framework_id, task_id, agent_id>,
  caf::reacts_to<atom::kill, framework_id, task_id, agent_id, kill_policy>,
  // Acknowledge the status update (agent, task, uuid).
  caf::reacts_to<atom::ack, framework_id, agent_id, task_id, std::string>,
  // Reconciliation: the master answers with a status update (no uuid) per task: implicit (empty list: every task
  // it knows of the framework) or explicit (task ID and, if known, agent ID of each), per Mesos' rules.
  caf::reacts_to<atom::reconcile, framework_id, std::vector<task_status>>,
  // Send a message to an executor of this framework.
  caf::reacts_to<atom::fw_msg, framework_id, agent_id, executor_id, std::string>,
  // Shut down this executor of the framework on this agent (Mesos' SHUTDOWN call): it kills its tasks and exits.
  caf::reacts_to<atom::shutdown, framework_id, executor_id, agent_id>,
  // -- from operators --
  // Set a role's weight / quota. Replies true, or an error naming the bad input (nothing changes). Offers that
  // the change invalidates are rescinded.
  caf::replies_to<atom::set_weight, std::string, double>::with<bool>,
  caf::replies_to<atom::set_quota, std::string, quota_info>::with<bool>,
  // RESERVE_RESOURCES / UNRESERVE_RESOURCES / CREATE_VOLUMES / DESTROY_VOLUMES on an agent's unallocated resources
  // (the text names who asked). Offers of the agent are rescinded if what the operation consumes is not free
  // otherwise. Replies true once the allocator and the master converted it and the agent is told; errors (nothing
  // changes): invalid_argument (unknown agent, invalid operation), runtime_error (disconnected agent, resources not
  // free), unavailable_or_would_block (not leading).
  caf::replies_to<atom::apply_op, agent_id, offer_operation, std::string>::with<bool>,
  // MARK_AGENT_GONE (the text names who asked): the registered, unreachable or recovering agent is removed for
  // good once the registry has it. Its tasks end (TASK_GONE_BY_OPERATOR, or TASK_LOST for frameworks that are not
  // partition-aware), the agent is told to shut down. Replies true (also if it was gone already), false if the
  // agent is unknown.
  caf::replies_to<atom::remove_agent, agent_id, std::string>::with<bool>,
  // Follow every change from now on (operator SUBSCRIBE; only actors of the master's own process): replies true
  // once the listener is counted. It is forgotten when it ends.
  caf::replies_to<atom::watch, operator_listener_actor>::with<bool>,
  // -- internal --
  // An offer was not answered within --offer-timeout: rescind it.
  caf::reacts_to<atom::timeout, offer_id>,
  // Periodic health check: ping every connected agent, count the missed pings (--agent-ping-timeout,
  // --max-agent-ping-timeouts).
  caf::reacts_to<atom::health>,
  // Mark the next agent waiting in the removal queue unreachable (--agent-removal-rate-limit).
  caf::reacts_to<atom::unreachable>,
  // The failover timeout of a disconnected framework expired (generation: a later reconnect cancels it).
  caf::reacts_to<atom::failover, framework_id, uint64_t>,
  // After a failover: agents of the registry that have not re-registered by now are marked unreachable
  // (--agent-reregister-timeout; the generation makes a stale timer void).
  caf::reacts_to<atom::rereg_deadline, uint64_t>,
  // -- from its contender and detector (actors/ha/leader_election.hpp) --
  // This master now leads: recover the registry and serve.
  caf::reacts_to<atom::elected>,
  // This master can no longer be sure it leads (ZooKeeper session lost): it stops at once with this reason.
  caf::reacts_to<atom::stepdown, std::string>,
  // The leader is now this one (named in refusals while standing by).
  caf::reacts_to<atom::leader, master_location>,
  // -- introspection --
  caf::replies_to<atom::state>::with<master_snapshot>,
  /// HTTP /state: one page from the cursor (a bounded amount of work per message; actors/http/master_http.hpp).
  caf::replies_to<atom::state_page, state_cursor>::with<master_state_view>,
  /// HTTP /metrics/snapshot: Mesos' metric names and values.
  caf::replies_to<atom::metrics>::with<std::vector<metric_sample>>>
  // -- from the allocator --
  ::extend_with<allocation_listener_actor>;

/// A framework on the Mesos v1 scheduler API (actors/http/v1_scheduler_session.hpp), one per SUBSCRIBE stream and
/// local to the master's process: to the master it is the framework's scheduler; the master's events go out on the
/// subscriber's HTTP stream as v1 events, and the framework's calls come in from the HTTP layer.
using v1_scheduler_session_actor = scheduler_actor::extend<
  // SUBSCRIBE: subscribe this framework (then suppress these roles) and stream SUBSCRIBED; replies with the
  // framework ID, or the master's refusal (the session then ends).
  caf::replies_to<atom::subscribe, framework_info, std::vector<std::string>>::with<framework_id>,
  // One call of the subscribed framework: a mesos.v1.scheduler.Call in protobuf, already checked by the HTTP
  // layer (shape, stream, framework, principal). Replies "" once it is passed on, or why it cannot be (400).
  caf::replies_to<atom::v1_call, std::string>::with<std::string>,
  // Internal: time for a HEARTBEAT event.
  caf::reacts_to<atom::tick>,
  // The subscriber's connection closed: the session ends (the master sees its scheduler go).
  caf::reacts_to<atom::exited>>;

/// An operator following the master on the v1 operator API's SUBSCRIBE stream (actors/http/v1_operator_api.cpp), one
/// per stream and local to the master's process.
using v1_operator_session_actor = operator_listener_actor::extend<
  // Start following the master; its events are held until `resume`. Replies true once the master counts it.
  caf::replies_to<atom::subscribe>::with<bool>,
  // SUBSCRIBED (the full state, fetched after `subscribe`) is out: send what was held, then each event as it comes.
  caf::reacts_to<atom::resume>,
  // Internal: time for a HEARTBEAT event.
  caf::reacts_to<atom::tick>,
  // The subscriber's connection closed: the session ends.
  caf::reacts_to<atom::exited>>;

/// A custom executor on the Mesos v1 executor API (actors/http/v1_executor_session.hpp), one per SUBSCRIBE stream and
/// local to the agent's process: to the agent it is the executor (it registers with the token the agent put in the
/// executor's environment); the agent's messages go out on the executor's HTTP stream as v1 events, and the
/// executor's calls come in from the HTTP layer.
using v1_executor_session_actor = executor_actor::extend<
  // SUBSCRIBE: register with the agent (re-register with these unacknowledged tasks and updates after a
  // disconnection) and stream SUBSCRIBED; replies "" or the agent's refusal (the session then ends).
  caf::replies_to<atom::subscribe, std::vector<task_info>, std::vector<status_update>>::with<std::string>,
  // One call of the subscribed executor (UPDATE, MESSAGE): a mesos.v1.executor.Call in protobuf, already checked
  // by the HTTP layer (shape, executor, token). Replies "" once it is passed on, or why it cannot be (400).
  caf::replies_to<atom::v1_call, std::string>::with<std::string>,
  // The executor's connection closed: the session ends (the agent sees its executor disconnect).
  caf::reacts_to<atom::exited>>;

/// The containerizer of one agent: starts processes in sandboxes and reports their exit to its owner.
using containerizer_actor = caf::typed_actor<
  // Start a container; replies with its process ID or an error (nothing is left running on error).
  caf::replies_to<atom::launch, launch_spec>::with<int32_t>,
  // SIGTERM to the container's process group, SIGKILL after the grace period. Unknown IDs are ignored.
  caf::reacts_to<atom::kill, container_id>,
  // Adopt a container an earlier agent process or containerizer started (agent recovery, containerizer restart):
  // its pid and the process's start time (process_start_time, so a reused pid is never mistaken for it). Replies
  // true if it still runs; its exit is then reported as for launched containers (wait status -1 if it is not
  // our child: the status is unknown).
  caf::replies_to<atom::recover, container_id, int32_t, uint64_t>::with<bool>,
  // The command executor of these task sandboxes died: SIGKILL each task's process group recorded there
  // (containerizer/launcher.hpp task_pid_file; pid and start time checked).
  caf::reacts_to<atom::kill, std::vector<std::string>>,
  // Recovery is over: these containers of an earlier agent process (run dirs in the agent's work dir that no
  // recovered executor owns) are orphans: kill everything in their control groups and remove them. Containers this
  // containerizer runs are left alone. Replies with how many groups it destroyed. Only the agent's own work dir
  // names them, so agents sharing a host and a cgroups root never destroy each other's containers.
  caf::replies_to<atom::recover, std::vector<container_id>>::with<int32_t>,
  // What each container uses now (the agent adds framework and executor IDs).
  caf::replies_to<atom::usage>::with<std::vector<container_usage>>,
  // A custom executor's tasks changed: its container may now use these resources (the executor's own plus its live
  // tasks'), as Mesos' containerizer update. Unknown IDs and containers without control groups are ignored.
  caf::reacts_to<atom::update, container_id, resource_set>,
  // A DEFAULT executor's group changed: its own process keeps the first resources, the group's tasks together may
  // use the second (each task's own limits nest inside, set by the executor).
  caf::reacts_to<atom::update, container_id, resource_set, resource_set>,
  // Internal: retry removing control groups whose processes were still exiting.
  caf::reacts_to<atom::retry>,
  // Internal: the reaper saw the process exit.
  caf::reacts_to<atom::exited, container_id, int32_t>,
  // Internal: grace period of a kill expired.
  caf::reacts_to<atom::tick, container_id>>;

} // namespace mesoscaf

CAF_BEGIN_TYPE_ID_BLOCK(mesoscaf_actors, caf::id_block::mesoscaf_messages::end)
  MESOSCAF_TYPE(mesoscaf_actors, scheduler_actor)
  MESOSCAF_TYPE(mesoscaf_actors, executor_actor)
  MESOSCAF_TYPE(mesoscaf_actors, agent_actor)
  MESOSCAF_TYPE(mesoscaf_actors, allocation_listener_actor)
  MESOSCAF_TYPE(mesoscaf_actors, allocator_actor)
  MESOSCAF_TYPE(mesoscaf_actors, master_actor)
  MESOSCAF_TYPE(mesoscaf_actors, registrar_actor)
  MESOSCAF_TYPE(mesoscaf_actors, containerizer_actor)
  MESOSCAF_TYPE(mesoscaf_actors, operator_listener_actor)
CAF_END_TYPE_ID_BLOCK(mesoscaf_actors)

namespace caf {
class actor_system_config;
}

namespace mesoscaf {

/// The protocol version, carried in `middleman.app-identifiers`: peers with another version are refused.
constexpr const char* protocol_version = "mesoscaf.v5";   // v5: HTTP ports of masters and agents; v2: agents advertise an address; v3: wire type names "mesoscaf.*"; v4: usage statistics, command user

/// Registers every mesoscaf type block and sets the app identifier. Call on every actor_system_config.
void add_message_types(caf::actor_system_config& cfg);

} // namespace mesoscaf
