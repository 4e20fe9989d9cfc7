#pragma once
// The agent actor's state and the functions its files share (agent.cpp: start, dispatcher, tick, shutdown;
// agent_executors.cpp; agent_status_updates.cpp; agent_volumes.cpp; agent_registration.cpp; agent_recovery.cpp).
// Private to actors/agent: not installed (config/cmake/install.cmake), not for other components.
#include "actors/agent/agent.hpp"
#include "actors/agent/agent_disk_worker.hpp"
#include "actors/agent/checkpoint_retries.hpp"
#include "actors/agent/sandbox_gc.hpp"
#include "actors/agent/status_update_manager.hpp"
#include "actors/unconfirmed_requests.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mesoscaf::agent_internal {

inline constexpr const char* component = "agent";

using time_point = caf::actor_clock::time_point;

using executor_key = std::pair<framework_id, executor_id>;
using task_key = std::pair<framework_id, task_id>;

struct executor_entry {
  enum class phase {
    launching,    // container requested, waiting for the executor to register
    registered,   // tasks go straight to it
    terminating,  // shut down or failed; waiting for its container to exit
    recovering,   // taken over from the checkpoint of an earlier agent process: waiting for its rereg_exec
    /// Registered, but its connection broke while its process may live (e.g. this agent was frozen past the
    /// connection timeout): an executor of a checkpointing framework reconnects, so it has
    /// executor_reregistration_timeout to rereg_exec; launches wait in `queued`, kills in `kills_pending`.
    disconnected,
  };
  framework_id framework;
  executor_info info;
  bool command = false;         // the built-in command executor
  container_id container;
  std::string sandbox;
  /// Given to this executor's process alone (MESOSCAF_EXECUTOR_SECRET) and checkpointed: registrations must
  /// carry it, so no other process can register as this executor and take its tasks.
  std::string secret;
  phase state = phase::launching;
  executor_actor handle;
  int32_t pid = -1;
  uint64_t start_time = 0;      // process_start_time(pid), checkpointed with the pid
  bool adopted = false;         // recovering: the containerizer watches its process (recover said it runs)
  time_point launched_at;
  std::vector<task_id> queued;  // tasks waiting for registration, in arrival order
  time_point disconnected_at;   // disconnected: since when
  std::vector<task_id> kills_pending;  // disconnected: kills to send once it is back
  bool framework_removed = false;
  bool kill_sent = false;
  caf::optional<time_point> kill_at;  // kill the container then (after a shutdown's grace period)
};

struct task_entry {
  task_info info;
  executor_id executor;
  task_state state = task_state::staging;
  bool launched = false;        // sent to the executor
  bool ready = true;            // false while its volumes are being linked into its sandbox
  uint64_t prepare_id = 0;      // which link request `ready` waits for (a reused task ID starts a new one)
  bool record_pending = false;  // its checkpoint record is not written yet: it is not handed over before
  uint64_t record_id = 0;       // which record write `record_pending` waits for
  // A task of a group (LAUNCH_GROUP): all its tasks in order, this one included; the group goes to the executor
  // in one message once every task of it can go (send_launch). Empty: a task on its own.
  std::vector<task_id> group;
  group_failure_policy on_failure = group_failure_policy::kill_group;
};

// The component actors as the agent's exit sees them (stop_components): shared, since restarts replace them.
struct component_handles {
  containerizer_actor containerizer;
  agent_disk_worker_actor disk;
};

// A disk job kept until the worker answers it: a worker that dies takes no job with it.
struct disk_job_entry {
  std::function<void(uint64_t seq)> send;          // (re)sends it to the current worker
  std::function<void(const std::string&)> done;    // "" or an error text
};

struct agent_state {
  static inline const char* name = "agent";

  agent_options opts;
  containerizer_actor containerizer;  // null while a restart is pending
  // The current total: the configured resources as RESERVE / UNRESERVE / CREATE / DESTROY changed them
  // (checkpointed in <work_dir>/meta/resources by the disk worker, which also owns the volume directories).
  resource_set total;
  agent_disk_worker_actor disk;       // null while a restart is pending
  uint64_t next_prepare_id = 1;

  // -- components: their supervision (agent_components.cpp) --
  std::shared_ptr<component_handles> components = std::make_shared<component_handles>();
  uint64_t containerizer_generation = 0;  // bumped at each (re)start: answers of an earlier one are stale
  restart_policy containerizer_restarts;
  restart_policy disk_restarts;
  std::optional<time_point> containerizer_restart_at;  // a restart is due then (backoff)
  std::optional<time_point> disk_restart_at;
  std::vector<std::string> orphan_kills_pending;       // task sandboxes to clean up once a containerizer is back
  unconfirmed_requests<disk_job_entry> disk_jobs;   // unanswered, in the order sent
  // Checkpoint writes that failed (a full disk): retried from the tick, never a reason to stop the agent.
  checkpoint_retries write_retries;
  // Sandboxes of finished executors, removed after --gc-delay (sooner as the disk fills); see sandbox_gc.hpp.
  sandbox_gc gc;
  time_point next_disk_watch{};
  bool disk_watch_running = false;  // a usage request or a deletion is with the disk worker

  // -- master and registration --
  std::shared_ptr<master_detector> detector;
  master_location target;       // the leader the detector named last (empty: none known: wait)
  master_actor master;          // the target's handle once connected
  agent_id id;
  bool registered = false;
  bool connecting = false;      // connect request in flight
  bool registering = false;     // reg_agent / rereg_agent request in flight
  uint64_t master_generation = 0;  // bumped when the master handle changes: stale replies are ignored
  caf::timespan backoff{0};
  time_point next_attempt;
  // The master's health pings: when the last came and the gap before it. A master that stops pinging a registered
  // agent for several gaps has probably marked it unreachable (e.g. the agent was frozen or cut off without its
  // connection breaking): the agent then re-registers by itself, as Mesos agents do on a ping timeout.
  time_point last_ping{};
  caf::timespan ping_gap{0};
  bool published = false;       // port known (published by us or by the caller)

  // -- recovery --
  std::string boot_id;
  bool recovering = false;      // recovered executors may still re-register: no registration with the master yet
  time_point recovery_deadline;

  // -- executors and tasks --
  std::map<executor_key, executor_entry> executors;
  std::map<container_id, executor_key> by_container;
  std::map<task_key, task_entry> tasks;
  std::map<framework_id, framework_info> frameworks;
  status_update_manager updates;

  // -- shutdown --
  // -- introspection (HTTP /state, /metrics) --
  double start_time = 0;                      // seconds since the epoch
  std::map<std::string, uint64_t> counters;   // Mesos' names: "slave/tasks_finished", ...
  /// Tasks that ended and were acknowledged, by executor, until their executor ends (bounded per executor).
  std::map<executor_key, std::deque<task_view>> finished_tasks;
  /// Executors that ended, newest last (bounded): their sandboxes stay browsable until collected.
  std::deque<executor_view> completed_executors;

  bool shutting_down = false;
  caf::error exit_reason;
  time_point quit_at;

  agent_state() = default;
};

using agent_ptr = agent_actor::stateful_pointer<agent_state>;
using registration_promise = caf::typed_response_promise<executor_registration>;

inline time_point now(agent_ptr self) {
  return self->clock().now();
}

inline agent_actor me(agent_ptr self) {
  return caf::actor_cast<agent_actor>(self);
}

inline std::string render(agent_ptr self, const caf::error& err) {
  return self->system().render(err);
}

inline std::string milliseconds_text(caf::timespan d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) + " ms";
}

// Only frameworks that asked for it are checkpointed (and survive an agent restart).
inline bool checkpoints(const agent_state& st, const framework_id& fw) {
  auto f = st.frameworks.find(fw);
  return f != st.frameworks.end() && f->second.checkpoint;
}

inline bool partition_aware(const agent_state& st, const framework_id& fw) {
  auto f = st.frameworks.find(fw);
  if (f == st.frameworks.end())
    return false;
  const auto& caps = f->second.capabilities;
  return std::find(caps.begin(), caps.end(), "PARTITION_AWARE") != caps.end();
}

inline void erase_task_id(std::vector<task_id>& ids, const task_id& tid) {
  ids.erase(std::remove(ids.begin(), ids.end(), tid), ids.end());
}

// -- agent_components.cpp: starting, supervising and stopping the component actors --------------------------

// Starts the disk worker, then the containerizer; the agent's exit stops them in reverse order.
void start_components(agent_ptr self);
// A component went down: restarted (within the budget) unless the agent is shutting down. False: not a component.
bool on_component_down(agent_ptr self, const caf::down_msg& msg);
// Restarts whose backoff expired (the agent's tick).
void restart_due_components(agent_ptr self, time_point t);
void disk_job_done(agent_ptr self, uint64_t seq, const std::string& result);
void disk_job_failed(agent_ptr self, uint64_t seq, const caf::error& err);

// Sends a job (a message the disk worker answers with "" or an error text) and keeps it until answered: if the
// worker dies, its replacement gets every unanswered job again, in the order sent. A dead worker answered nothing
// it had not done (it handles one job at a time and replies at once), so no job runs twice.
template <class... Ts>
void disk_job(agent_ptr self, std::function<void(const std::string&)> done, Ts... xs) {
  auto& st = self->state;
  auto send = [self, xs...](uint64_t seq) {
    self->request(self->state.disk, caf::infinite, xs...)
      .then([self, seq](const std::string& result) { disk_job_done(self, seq, result); },
            [self, seq](caf::error& err) { disk_job_failed(self, seq, err); });
  };
  auto seq = st.disk_jobs.add(disk_job_entry{std::move(send), std::move(done)});
  if (st.disk)
    st.disk_jobs.find(seq)->send(seq);
}

// -- agent_state.cpp: the disk worker, senders -------------------------------------------------------------

// Hands a checkpoint write to the disk worker (jobs run in order); `then` gets "" once it is written. A write that
// fails (e.g. ENOSPC) is retried from the tick with backoff until it succeeds (checkpoint_retries.hpp); `failing`
// (optional) hears the error at once, also when the write has to wait behind a failing write of the same path.
void disk_write(agent_ptr self, const std::string& rel, std::string bytes, bool append, bool sync,
                std::function<void(const std::string&)> then,
                std::function<void(const std::string&)> failing = nullptr);
// Sends the checkpoint retries whose backoff expired (the agent's tick).
void retry_due_writes(agent_ptr self, time_point t);
// Runs `then` once every disk job sent so far is done and nothing for `rel` waits for a retry: what the agent
// recorded at `rel` is durable.
void after_durable(agent_ptr self, const std::string& rel, std::function<void()> then);
void disk_write(agent_ptr self, const std::string& rel, std::string bytes);
// Runs `then` once every disk job sent so far is done: e.g. an executor may drop an update only after the agent's
// record of it (queued earlier, maybe not yet written) is durable.
void after_disk(agent_ptr self, std::function<void()> then);
void disk_forget(agent_ptr self, const std::string& rel);
std::string agent_record_frame(const agent_state& st);

std::string describe_sender(agent_ptr self);
bool sent_by(agent_ptr self, const caf::actor_addr& addr);
// Orders concerning tasks and frameworks are only taken from the master this agent registers with.
bool from_master(agent_ptr self, const char* what);
/// True if an actor of this process sent the current message (its detector); otherwise logs and refuses it.
bool from_this_process(agent_ptr self, const char* what);

// -- agent.cpp: shutdown -----------------------------------------------------------------------------------

// The agent exits once shutting down and every executor is gone.
void maybe_finish_shutdown(agent_ptr self);

// -- agent_status_updates.cpp ------------------------------------------------------------------------------

void send_to_master(agent_ptr self, status_update u);
void send_to_master(agent_ptr self, std::vector<status_update> us);
void forward_if_head(agent_ptr self, const framework_id& fw, const task_id& tid, const std::string& uuid);
void handle_update(agent_ptr self, status_update u, executor_actor ack_to = executor_actor{});
void agent_update(agent_ptr self, const framework_id& fw, const task_id& task, const executor_id& exec,
                  task_state state, task_reason reason, std::string message);
void take_update(agent_ptr self, const executor_actor& owner, const status_update& su);
void resend_due_updates(agent_ptr self, time_point t);
void on_executor_update(agent_ptr self, const status_update& su);
void on_ack(agent_ptr self, const framework_id& fw, const task_id& tid, const std::string& uuid);
void on_resend(agent_ptr self, const framework_id& fw);

// -- agent_executors.cpp -----------------------------------------------------------------------------------

executor_registration registration_of(const agent_state& st, const executor_entry& e);
void kill_orphaned_tasks(agent_ptr self, const executor_entry& e);
void fail_tasks(agent_ptr self, executor_entry& e, task_state state, task_reason reason, const std::string& message);
void kill_container(agent_ptr self, executor_entry& e);
void erase_executor(agent_ptr self, const executor_key& key);
// -- introspection (agent_introspection.cpp) --
/// A task leaves the agent's books (ended and acknowledged): counted, and kept in its executor's history.
void remember_finished_task(agent_state& st, const task_key& key, const task_entry& t);
/// An executor leaves the agent's books: kept in the completed-executor history with its tasks.
void remember_finished_executor(agent_state& st, const executor_key& key, const executor_entry& e);
agent_state_view state_view_of(const agent_state& st);
std::vector<metric_sample> agent_metrics(const agent_state& st, double now);
void shutdown_executor(agent_ptr self, executor_entry& e);
void send_launch(agent_ptr self, executor_entry& e, const task_id& tid);
void attach_executor(agent_ptr self, executor_entry& e, const executor_actor& hdl);
void expire_executors(agent_ptr self, time_point t);
void on_executor_down(agent_ptr self, executor_entry& e, const caf::error& reason);
void on_run_task(agent_ptr self, const framework_info& fi, const task_info& ti);
void on_run_group(agent_ptr self, const framework_info& fi, const executor_info& exec, const task_group_info& group);
/// The master counts this executor's resources and hears of its end: custom executors and DEFAULT ones (not the
/// per-framework command executor, whose tasks carry all it uses).
bool master_tracks(const executor_entry& e);
/// A task of a group that has not gone to its executor ended (its checkpoint or volumes failed): the others of
/// its group end too (all or nothing).
void end_unstarted_group(agent_ptr self, const framework_id& fw, const task_id& tid);
// A kill from the master; `policy` (may be null) is the kill call's own grace period.
void on_kill_task(agent_ptr self, const framework_id& fw, const task_id& tid, const kill_policy* policy);
void on_fw_msg(agent_ptr self, const framework_id& fw, const executor_id& eid, const std::string& data);
void on_shutdown_framework(agent_ptr self, const framework_id& fw);
void on_shutdown_executor(agent_ptr self, const framework_id& fw, const executor_id& eid);
registration_promise on_reg_exec(agent_ptr self, const framework_id& fw, const executor_id& eid,
                                 const executor_actor& hdl, const std::string& secret);
registration_promise on_rereg_exec(agent_ptr self, const framework_id& fw, const executor_id& eid,
                                   const executor_actor& hdl, const std::vector<task_info>& tasks,
                                   const std::vector<status_update>& updates, const std::string& secret);
void on_exec_msg(agent_ptr self, const framework_id& fw, const executor_id& eid, const std::string& data);
void on_container_exited(agent_ptr self, const container_id& cid, int32_t status);
// Asks the current containerizer to start the executor's container (none yet: its restart will).
void request_launch(agent_ptr self, executor_entry& e);

// -- agent_isolation.cpp -----------------------------------------------------------------------------------

// The `usage` query: the containerizer measures, the agent names each container's framework and executor.
caf::typed_response_promise<std::vector<container_usage>> on_usage(agent_ptr self);
// After recovery: the containers of run dirs in the work dir that no recovered executor owns are destroyed (their
// control groups, with every process left in them).
void destroy_orphan_containers(agent_ptr self, std::vector<container_id> orphans);
// A custom executor's live tasks changed: its container's limits follow (the executor's resources plus theirs).
void update_container_limits(agent_ptr self, const executor_entry& e);

// -- agent_volumes.cpp -------------------------------------------------------------------------------------

resource_set task_volumes(const task_info& ti);
void prepare_volumes(agent_ptr self, const task_key& key, uint64_t prepare_id, const std::string& dir,
                     const resource_set& volumes);
void on_apply_op(agent_ptr self, const framework_id& fw, const offer_operation& op);

// -- agent_registration.cpp --------------------------------------------------------------------------------

void try_register(agent_ptr self);
void check_master_pings(agent_ptr self, time_point t);
void on_master_down(agent_ptr self, const caf::error& reason);
void on_leader(agent_ptr self, const master_location& loc);
agent_id on_ping(agent_ptr self);
void on_rereg_request(agent_ptr self);

// -- agent_recovery.cpp ------------------------------------------------------------------------------------

void recover_state(agent_ptr self, const recovered_state& rs);
executor_registration readopt_executor(agent_ptr self, executor_entry& e, const executor_actor& hdl,
                                       const std::vector<task_info>& tasks,
                                       const std::vector<status_update>& updates);
void maybe_finish_recovery(agent_ptr self);
void recovered_executor_gone(agent_ptr self, const executor_key& key, const std::string& why);
void expire_recovery(agent_ptr self);
void on_adopt_answer(agent_ptr self, const executor_key& key, const container_id& cid, bool alive);

// -- agent_gc.cpp: sandboxes of finished executors ---------------------------------------------------------

// Schedules the sandbox of an executor that ended (erase_executor).
void schedule_sandbox_gc(agent_ptr self, const std::string& sandbox);
// At start: run directories on disk that belong to no executor the agent knows are scheduled with their mtime.
void scan_old_sandboxes(agent_ptr self);
// Every --disk-watch-interval (the tick): asks the disk worker for the usage and deletes what is due.
void watch_disk(agent_ptr self, time_point t);

} // namespace mesoscaf::agent_internal
