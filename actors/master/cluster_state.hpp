#pragma once
// The master's bookkeeping without any actor code: agents, frameworks, outstanding offers and tasks, and the
// resources each uses. The master actor routes messages and owns the actor handles; this class keeps the
// numbers consistent (every offer and task is counted on its framework and its agent exactly once).
#include "actors/master/offer_validation.hpp"
#include "messages/agent_info.hpp"
#include "messages/framework_info.hpp"
#include "messages/ids.hpp"
#include "messages/registry.hpp"
#include "messages/offer.hpp"
#include "messages/resources.hpp"
#include "messages/snapshot.hpp"
#include "messages/state_view.hpp"
#include "messages/task_info.hpp"
#include "messages/task_status.hpp"

#include <array>
#include <cstddef>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace mesoscaf {

struct task_entry {
  framework_id framework;
  task_info info;                           // as launched (agent ID set)
  std::string role = "*";                   // allocation role of the offers it was launched on
  /// Who it runs as, fixed at launch as Mesos does: its command's user, else its framework's user then. A
  /// framework that later re-registers with another user does not change its running or completed tasks.
  std::string user;
  task_state state = task_state::staging;
  task_reason reason = task_reason::none;   // of the latest state
  std::string message;                      // of the latest state
  std::optional<bool> healthy;              // the latest health check result its executor reported
  /// The master decided the terminal state itself (agent unreachable or restarted without it, framework
  /// removed) and told the framework: the agent's own later terminal updates must not reach the framework.
  bool ended_by_master = false;
  /// Unacknowledged tasks: uuid of the terminal update the framework was sent ("" until it went out).
  std::string terminal_uuid;
  double launched = 0;                      // seconds since the epoch (for /tasks and the web UI)
  double updated = 0;                       // of the latest state
  /// The view last handed to a state reader (actors/master/state_pages.cpp): reused while the task is unchanged,
  /// so readers of a large state get shared views instead of copies. Not part of the task's state.
  mutable task_ref shared_view;
  /// What that view shows of the fields that change, kept beside it so that checking it touches no other memory
  /// (the message never changes without the state or `updated`; the agent, IDs and resources never change).
  struct shown_fields {
    task_state state = task_state::staging;
    task_reason reason = task_reason::none;
    double updated = 0;
    double launched = 0;
  };
  mutable shown_fields shown;
};

struct agent_entry {
  agent_info info;                          // ID filled in
  resource_set used;                        // by live tasks and custom executors
  resource_set offered;                     // in outstanding offers
  /// Outstanding offers, each with the view last handed to a state reader (actors/master/state_pages.cpp; null
  /// until asked: an offer never changes, so its view stays true while it is outstanding).
  struct shown_offer {
    mutable offer_ref view;
  };
  std::map<offer_id, shown_offer> offers;
  std::vector<offer_id> offer_ids() const;
  /// Live tasks by framework, unordered (an agent runs tasks of few frameworks, and few tasks: a re-registration
  /// appends each task ID instead of allocating a tree node with a copy of the framework ID per task).
  std::map<framework_id, std::vector<task_id>> tasks;
  /// (framework, task) of every live task, sorted.
  std::vector<std::pair<framework_id, task_id>> task_keys() const;
  std::set<std::pair<framework_id, executor_id>> executors;  // custom executors believed running
  /// False after its connection broke (down): it stays registered, nothing of it is offered, and every health
  /// round counts a missed ping until it re-registers or is marked unreachable.
  bool connected = true;
  double registered = 0;                    // first admitted (seconds since the epoch)
  /// The view last handed to a state reader (actors/master/state_pages.cpp), reused while it still shows the
  /// agent as it is. Not part of the agent's state.
  mutable agent_ref shared_view;
};

/// An agent that missed too many pings: gone from `agents()`, but it may come back with the same ID.
struct unreachable_agent_entry {
  agent_info info;
  double time = 0;                          // seconds since the epoch, when it was marked
};

struct framework_entry {
  framework_info info;                      // ID filled in
  double registered = 0;                    // when it subscribed (or was recovered), seconds since the epoch
  resource_set used;
  resource_set offered;
  std::set<offer_id> offers;
  /// Live (non-terminal) tasks. Hashed: after a failover every task of every agent goes in here, and the
  /// ordered map's string comparisons were the largest cost of re-registration. Views sort by ID.
  std::unordered_map<task_id, task_entry> tasks;
  /// Custom executors believed running (from their first task until exec_lost), with the resources they use.
  std::map<std::pair<agent_id, executor_id>, executor_info> executors;
  /// Allocation role of each of those executors (of the offers its first task used).
  std::map<std::pair<agent_id, executor_id>, std::string> executor_roles;
  /// Every agent that was sent a task of this framework (until it is removed): all of them must be told to
  /// shut the framework down, also those whose executors now sit idle without live tasks.
  std::set<agent_id> agents;
  /// Tasks of a PARTITION_AWARE framework on unreachable agents (state TASK_UNREACHABLE; they use no resources
  /// here until their agent comes back).
  std::map<task_id, task_entry> unreachable_tasks;
  /// Tasks whose agent reported their end, until the framework acknowledges that terminal update (Mesos keeps
  /// them among the framework's tasks too): reconciliation answers their real terminal state. They use no
  /// resources; the acknowledgement moves them to the completed history.
  std::unordered_map<task_id, task_entry> unacknowledged;
  /// False while its scheduler is disconnected and the failover timeout runs.
  bool active = true;
};


/// What the master must do after an agent with an ID (re-)registered (cluster_state::reregister_agent).
struct reregistration_result {
  enum class kind { known, readmitted, admitted };
  kind how = kind::known;
  bool was_connected = false;                 // known agents only: it had not been disconnected
  /// Tasks the master ended now (not reported by the agent): the framework gets this state.
  std::vector<task_entry> ended;
  /// Resources that became free (known agents: tasks that ended, executors that are gone): recover them.
  std::vector<allocation> freed;
  /// Tasks the agent runs that must die (their framework ended them already, e.g. TASK_LOST when the agent was
  /// unreachable): `kill_task` to the agent. Their later updates are acknowledged by the master.
  std::vector<std::pair<framework_id, task_id>> kill;
  /// Tasks the agent reports as ended that the master had ended itself already (e.g. TASK_LOST while the agent was
  /// unreachable): their pending updates are acknowledged by the master and never reach the framework.
  std::vector<std::pair<framework_id, task_id>> swallow;
  /// Frameworks the master does not know (never did, or removed): `shutdown_fw` to the agent.
  std::set<framework_id> shutdown;
  /// Admitted agents (after a master failover): frameworks of its tasks the master did not know (and never
  /// removed), recorded from the agent's framework_info as inactive until their scheduler subscribes.
  std::vector<framework_info> recovered_frameworks;
  /// The agent was in the recovered registry (admitted before a failover): nothing to write to the registry.
  bool was_recovered = false;
  /// Readmitted / admitted agents: what its tasks and executors use, per (framework, role), for the allocator.
  std::vector<allocation> used;
};

struct registry_limits {
  std::size_t completed_tasks = 1000;       // terminal tasks kept for state and duplicate updates
  std::size_t retired_offers = 10000;       // used/declined/rescinded offer IDs kept for clear errors
  std::size_t removed_frameworks = 1000;    // removed framework IDs refused on re-subscription
};

class cluster_state {
public:
  explicit cluster_state(registry_limits limits = {}) : limits_(limits) {}
  // The completed-history index points into the history: a copy would point into the original (a move keeps them).
  cluster_state(const cluster_state&) = delete;
  cluster_state& operator=(const cluster_state&) = delete;
  cluster_state(cluster_state&&) = default;
  cluster_state& operator=(cluster_state&&) = default;

  // -- agents -----------------------------------------------------------------------------------------------

  /// Adds an agent. Errors (nothing changes): ID empty/unsafe/known, total invalid or empty.
  std::string add_agent(const agent_info& info);
  const agent_entry* agent(const agent_id& id) const;
  /// An accepted RESERVE / UNRESERVE / CREATE / DESTROY changes the agent's total (same quantities). Errors:
  /// unknown agent, total does not contain `c.consumed` (nothing changes).
  std::string apply_conversion(const agent_id& id, const resource_conversion& c);
  const std::map<agent_id, agent_entry>& agents() const { return agents_; }
  /// What the agent's resources are allocated to, per (framework, role): live tasks, custom executors and
  /// outstanding offers. A restarted allocator is rebuilt from it. Empty if the agent is unknown.
  std::vector<allocation> allocations_on(const agent_id& id) const;
  /// Connected / disconnected (see agent_entry::connected). False if unknown.
  bool set_agent_connected(const agent_id& id, bool connected);

  /// An agent with an ID registers again with what it runs: known (registered; tasks reconciled: reported
  /// states adopted, tasks it does not report end as TASK_LOST / TASK_GONE (partition-aware), reason
  /// agent_restarted), unreachable (readmitted: tasks of partition-aware frameworks live again as reported,
  /// the others are to be killed) or unknown (admitted with that ID, its tasks of known frameworks adopted).
  /// Tasks and executors of unknown or removed frameworks: their framework is shut down on the agent.
  /// The agent ends up connected. Errors (nothing changes): unsafe ID, invalid or empty total.
  std::string reregister_agent(const agent_reregistration& r, reregistration_result& out);
  /// The same, taking the task infos out of `r` (only those: the rest stays). The master's path: after a
  /// failover it runs for every task of every agent.
  std::string reregister_agent(agent_reregistration&& r, reregistration_result& out);

  struct unreachable_result {
    agent_entry agent;
    std::vector<offer> offers;                 // were outstanding on it (now retired)
    std::vector<task_entry> lost;              // non-partition-aware tasks: completed as TASK_LOST
    std::vector<task_entry> unreachable;       // partition-aware tasks: kept as TASK_UNREACHABLE
    std::vector<std::pair<framework_id, executor_info>> executors;   // forgotten
  };
  /// Marks a registered agent unreachable at `time` (seconds since the epoch): it leaves `agents()`, its offers
  /// are retired, its tasks become TASK_LOST or TASK_UNREACHABLE (reason agent_removed), its executors are
  /// forgotten. Nullopt if not registered.
  std::optional<unreachable_result> mark_unreachable(const agent_id& id, double time, const std::string& message);
  const std::map<agent_id, unreachable_agent_entry>& unreachable_agents() const { return unreachable_; }
  bool is_unreachable(const agent_id& id) const { return unreachable_.count(id) > 0; }

  /// Agents known to run somewhere (from a durable registry) that have not re-registered yet: reconciliation
  /// does not answer for their tasks. Filled by master recovery; re-registration clears the mark.
  void mark_recovered(const agent_info& info) { recovered_[info.id] = info; }
  bool is_recovered(const agent_id& id) const { return recovered_.count(id) > 0; }
  const std::map<agent_id, agent_info>& recovering() const { return recovered_; }
  /// After a failover: the registry's admitted agents become "recovering", its unreachable ones unreachable,
  /// its gone ones gone. Call once, on an empty registry.
  void recover(const registry_data& reg);
  /// A recovering agent did not re-register in time: it becomes unreachable (no tasks are known of it).
  /// Nullopt if it is not recovering.
  std::optional<agent_info> mark_recovering_unreachable(const agent_id& id, double time);
  /// Removed for good (registry `gone`): never readmitted with that ID.
  bool is_gone(const agent_id& id) const { return gone_.count(id) > 0; }

  struct removed_agent {
    agent_entry agent;
    std::vector<offer> offers;       // were outstanding on it (now retired)
    std::vector<task_entry> tasks;   // were live on it (now completed with `state`)
    std::vector<std::pair<framework_id, executor_info>> executors;   // were running on it
  };
  /// Removes an agent with its offers and tasks; the tasks end as `state` with `reason`. Nullopt if unknown.
  std::optional<removed_agent> remove_agent(const agent_id& id, task_state state, task_reason reason,
                                            const std::string& message);

  struct gone_agent {
    enum class was { registered, unreachable, recovering };
    was how = was::registered;
    agent_info info;
    std::vector<offer> offers;       // registered: were outstanding on it (now retired)
    /// Tasks that ended with it, reason agent_removed_by_operator: TASK_GONE_BY_OPERATOR for partition-aware
    /// frameworks (also their tasks kept as TASK_UNREACHABLE), TASK_LOST for the others.
    std::vector<task_entry> tasks;
    /// Tasks whose terminal update never went out (their framework was disconnected): the master tells their
    /// framework the end it learnt. Other unacknowledged tasks of the agent are completed quietly.
    std::vector<task_entry> untold;
  };
  /// The operator's MARK_AGENT_GONE: a registered, unreachable or recovering agent is gone for good (is_gone;
  /// never readmitted with this ID) with its offers, tasks and executors. Nullopt if none of those (unknown or
  /// gone already).
  std::optional<gone_agent> mark_gone(const agent_id& id, const std::string& message);

  // -- frameworks -------------------------------------------------------------------------------------------

  /// Adds a framework. Errors: ID empty/unsafe/known, or removed before.
  std::string add_framework(const framework_info& info);
  const framework_entry* framework(const framework_id& id) const;
  const std::map<framework_id, framework_entry>& frameworks() const { return frameworks_; }
  bool was_removed(const framework_id& id) const { return removed_fws_.count(id) > 0; }
  /// Connected / disconnected scheduler (framework_entry::active). False if unknown.
  bool set_framework_active(const framework_id& id, bool active);
  /// A failed-over scheduler subscribed with new settings: name, user, failover timeout, capabilities,
  /// checkpoint and principal change, the ID and roles stay. False if unknown.
  bool update_framework_info(const framework_info& info, bool with_roles = false);

  struct removed_framework {
    framework_entry framework;
    std::vector<offer> offers;        // were outstanding (now retired)
    std::vector<task_entry> tasks;    // were live or unreachable (now completed as killed)
    std::vector<std::pair<agent_id, executor_info>> executors;   // were running
    std::vector<std::string> executor_roles;   // allocation role of each of `executors`
    std::set<agent_id> agents;        // agents that were ever sent one of its tasks (and are still known)
  };
  /// Removes a framework with its offers and tasks (remembered as removed). Nullopt if unknown.
  std::optional<removed_framework> remove_framework(const framework_id& id);

  // -- offers -----------------------------------------------------------------------------------------------

  /// Records an offer. Errors: unknown framework or agent, empty ID, duplicate ID, invalid/empty resources.
  std::string add_offer(const offer& o);
  /// Removes (and retires) an offer; nullopt if not outstanding.
  std::optional<offer> remove_offer(const offer_id& id);
  /// Live tasks by state (index: the task_state's value), kept as tasks are added, change state and end: the
  /// metrics read them at every scrape, and walking 100,000 tasks took the master 40 ms.
  using state_counts = std::array<std::size_t, 16>;
  const state_counts& live_tasks_by_state() const { return live_by_state_; }
  /// The same, counted by walking every live task (for tests of the kept counts).
  state_counts count_live_tasks_by_state() const;
  const offer_table& offers() const { return offers_; }
  const retired_offers& retired() const { return retired_; }

  // -- tasks ------------------------------------------------------------------------------------------------

  /// Records a launched task (TASK_STAGING) on `task.agent`, allocated in `role` (recovery of its resources
  /// names it). Errors: unknown framework/agent, ID live.
  std::string add_task(const framework_id& fw, task_info task, const std::string& role = "*");
  const task_entry* live_task(const framework_id& fw, const task_id& id) const;
  /// A task of a partition-aware framework whose agent is unreachable.
  const task_entry* unreachable_task(const framework_id& fw, const task_id& id) const;
  /// The most recent completed task with this ID, if still remembered.
  const task_entry* completed_task(const framework_id& fw, const task_id& id) const;
  /// A task that ended: waiting for the acknowledgement of its terminal update, else in the completed history.
  const task_entry* ended_task(const framework_id& fw, const task_id& id) const;
  /// An unacknowledged task (see framework_entry::unacknowledged), or nullptr.
  const task_entry* unacknowledged_task(const framework_id& fw, const task_id& id) const;
  /// The terminal update (state `state`) of an unacknowledged task goes to the framework with `uuid`.
  void note_terminal_update(const framework_id& fw, const task_id& id, task_state state, const std::string& uuid);
  /// The framework acknowledged `uuid` for a task: if that was its terminal update, the task moves to the
  /// completed history. Returns whether it did.
  bool acknowledge(const framework_id& fw, const task_id& id, const std::string& uuid);
  bool is_live(const framework_id& fw, const task_id& id) const { return live_task(fw, id) != nullptr; }

  struct update_result {
    bool known = false;         // a live task of that framework
    bool terminal = false;      // the update ended it (it is now unacknowledged or completed)
    task_entry task;            // the entry after the update
  };
  /// Applies a new state to a live task. A terminal state releases its resources from the framework and the
  /// agent and ends the task: a state its agent reported waits among the framework's unacknowledged tasks for
  /// the acknowledgement of its terminal update; one the master decided (`by_master`: agent lost, framework
  /// removed; the framework gets it from the master, with nothing to acknowledge) is completed at once.
  update_result update_task(const framework_id& fw, const task_id& id, task_state state, task_reason reason,
                            const std::string& message, bool by_master = false);
  /// A live task's health changed (a TASK_RUNNING update with `healthy`). False if unknown.
  bool set_task_healthy(const framework_id& fw, const task_id& id, bool healthy);

  const std::deque<task_entry>& completed() const { return completed_; }
  /// Sequence number of `completed().front()`: every task that entered the history has one, counting up, so a
  /// reader can page through the history while it moves.
  uint64_t completed_first_seq() const { return completed_pushed_ - completed_.size(); }
  /// IDs of removed frameworks, oldest first (bounded by registry_limits::removed_frameworks).
  const std::deque<framework_id>& removed_frameworks() const { return removed_order_; }

  // -- custom executors -------------------------------------------------------------------------------------

  /// Records a custom executor started on `agent`; its resources count as used on the framework and agent.
  /// Errors: unknown framework/agent, executor ID empty or already running there.
  std::string add_executor(const framework_id& fw, const agent_id& agent, const executor_info& info,
                           const std::string& role = "*");
  const executor_info* executor(const framework_id& fw, const agent_id& agent, const executor_id& id) const;
  /// The allocation role of a running executor ("*" if unknown).
  std::string executor_role(const framework_id& fw, const agent_id& agent, const executor_id& id) const;
  /// Forgets an executor and releases its resources; nullopt if not known (so resources are released once).
  std::optional<executor_info> remove_executor(const framework_id& fw, const agent_id& agent,
                                               const executor_id& id);

  // -- views ------------------------------------------------------------------------------------------------

  resource_set cluster_total() const;
  /// Largest share over the scalar resources of `total` (0 if nothing).
  static double dominant_share(const resource_set& used, const resource_set& total);
  master_snapshot snapshot() const;

private:
  void retire(const offer_id& id);
  void complete(task_entry entry);
  /// Moves the unacknowledged tasks of `agent` to the completed history: all of them, or those not in
  /// `keep` (sorted (framework, task) pairs the agent still reports). Those whose terminal update never went
  /// out are appended to `untold` (if given): the master tells their framework the end it learnt.
  /// Drops (fw, id) from the per-agent index of unacknowledged tasks.
  void unindex_unacknowledged(const agent_id& agent, const framework_id& fw, const task_id& id);
  void complete_unacknowledged(const agent_id& agent, const std::vector<std::pair<framework_id, task_id>>* keep,
                               std::vector<task_entry>* untold = nullptr);
  void drop_offer_accounting(const offer& o);
  void release_task(const task_entry& t);
  static std::vector<std::pair<agent_id, executor_id>> executor_keys(const framework_entry& f);

  registry_limits limits_;
  std::map<agent_id, agent_entry> agents_;
  std::map<framework_id, framework_entry> frameworks_;
  offer_table offers_;
  state_counts live_by_state_{};
  void count_live(task_state s, int delta) {
    live_by_state_[static_cast<std::size_t>(s) % live_by_state_.size()] += static_cast<std::size_t>(delta);
  }
  retired_offers retired_;
  std::deque<offer_id> retired_order_;
  std::deque<task_entry> completed_;
  uint64_t completed_pushed_ = 0;
  /// The newest completed entry of each (framework, task): reconciliation looks every asked task up here, so a
  /// large explicit reconciliation costs one hash lookup per task, not a scan of the history.
  std::unordered_map<std::string, const task_entry*> completed_index_;
  std::unordered_set<framework_id> removed_fws_;
  std::deque<framework_id> removed_order_;
  std::map<agent_id, unreachable_agent_entry> unreachable_;
  std::map<agent_id, agent_info> recovered_;
  std::set<agent_id> gone_;
  /// Unreachable agents whose tasks this master never knew (marked while recovering, or unreachable in the
  /// registry it recovered): readmitted, their tasks are adopted, not killed.
  std::set<agent_id> tasks_unknown_;
  /// The unacknowledged tasks of each agent (an index into framework_entry::unacknowledged).
  std::map<agent_id, std::set<std::pair<framework_id, task_id>>> unacknowledged_by_agent_;
};

} // namespace mesoscaf
