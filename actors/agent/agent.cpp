#include "actors/agent/agent.hpp"

#include "actors/agent/agent_disk_worker.hpp"
#include "actors/agent/agent_resources.hpp"
#include "actors/agent/status_update_manager.hpp"
#include "config/support/executable_path.hpp"
#include "config/support/logging.hpp"
#include "config/support/network_address.hpp"
#include "containerizer/containerizer_actor.hpp"
#include "containerizer/launcher.hpp"
#include "containerizer/reaper.hpp"

#include <caf/actor_system.hpp>
#include <caf/all.hpp>
#include <caf/io/middleman.hpp>
#include <caf/io/middleman_actor.hpp>

#include <algorithm>
#include <cstdlib>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include <signal.h>

namespace mesoscaf {

const char* const command_executor_id = "command-executor";

namespace {

constexpr const char* component = "agent";

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
};

struct agent_state {
  static inline const char* name = "agent";

  agent_options opts;
  containerizer_actor containerizer;
  // The current total: the configured resources as RESERVE / UNRESERVE / CREATE / DESTROY changed them
  // (checkpointed in <work_dir>/meta/resources by the disk worker, which also owns the volume directories).
  resource_set total;
  agent_disk_worker_actor disk;
  uint64_t next_prepare_id = 1;

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
  bool shutting_down = false;
  caf::error exit_reason;
  time_point quit_at;

  agent_state() = default;
};

using agent_ptr = agent_actor::stateful_pointer<agent_state>;

time_point now(agent_ptr self) {
  return self->clock().now();
}

agent_actor me(agent_ptr self) {
  return caf::actor_cast<agent_actor>(self);
}

std::string render(agent_ptr self, const caf::error& err) {
  return self->system().render(err);
}

// -- checkpoint ---------------------------------------------------------------------------------------

// Only frameworks that asked for it are checkpointed (and survive an agent restart).
bool checkpoints(const agent_state& st, const framework_id& fw) {
  auto f = st.frameworks.find(fw);
  return f != st.frameworks.end() && f->second.checkpoint;
}

bool partition_aware(const agent_state& st, const framework_id& fw) {
  auto f = st.frameworks.find(fw);
  if (f == st.frameworks.end())
    return false;
  const auto& caps = f->second.capabilities;
  return std::find(caps.begin(), caps.end(), "PARTITION_AWARE") != caps.end();
}

// Hands a checkpoint write to the disk worker (jobs run in order); `then` gets "" or the error once it is done.
template <class F>
void disk_write(agent_ptr self, const std::string& rel, std::string bytes, bool append, bool sync, F then) {
  auto& st = self->state;
  if (rel.empty()) {
    // Every ID was checked with is_safe_path_component before it got here; this is a bug, not an input.
    LOG_ERROR(component, "not checkpointing: unusable checkpoint path");
    then(std::string{"unusable checkpoint path"});
    return;
  }
  // No timeout: the worker answers every job in order; only its death (then the agent exits) ends it early.
  self->request(st.disk, caf::infinite, atom::checkpoint_v, rel, std::move(bytes), append, sync)
    .then(
      [=](const std::string& err) {
        if (!err.empty())
          LOG_ERROR(component, "checkpoint " << rel << ": " << err);
        then(err);
      },
      [=](caf::error& err) {
        auto text = render(self, err);
        LOG_ERROR(component, "checkpoint " << rel << ": " << text);
        then(text);
      });
}

void disk_write(agent_ptr self, const std::string& rel, std::string bytes) {
  disk_write(self, rel, std::move(bytes), false, false, [](const std::string&) {});
}

// Runs `then` once every disk job sent so far is done: e.g. an executor may drop an update only after the agent's
// record of it (queued earlier, maybe not yet written) is durable.
template <class F>
void after_disk(agent_ptr self, F then) {
  self->request(self->state.disk, caf::infinite, atom::ping_v)
    .then([=](const std::string&) { then(); },
          [=](caf::error& err) {
            // The worker is gone (the agent exits on that): never ack what may not be on disk.
            LOG_ERROR(component, "disk barrier: " << render(self, err));
          });
}

void disk_forget(agent_ptr self, const std::string& rel) {
  if (rel.empty())
    return;
  self->request(self->state.disk, caf::infinite, atom::forget_v, rel)
    .then(
      [=](const std::string& err) {
        if (!err.empty())
          LOG_WARN(component, "cannot remove checkpoint " << rel << ": " << err);
      },
      [=](caf::error& err) { LOG_WARN(component, "cannot remove checkpoint " << rel << ": " << render(self, err)); });
}

std::string agent_record_frame(const agent_state& st) {
  agent_record r;
  r.id = st.id;
  r.boot_id = st.boot_id;
  r.port = st.opts.port;
  return encode_frame(r);
}

// -- status updates -------------------------------------------------------------------------------------

void send_to_master(agent_ptr self, status_update u) {
  auto& st = self->state;
  if (!st.registered || !st.master)
    return;
  // Stamped when sending, not when recording: the master may have given us a new ID since.
  u.status.agent = st.id;
  self->send(st.master, atom::update_v, std::move(u));
}

void send_to_master(agent_ptr self, std::vector<status_update> us) {
  for (auto& u : us)
    send_to_master(self, std::move(u));
}

// -- senders --------------------------------------------------------------------------------------------

std::string describe_sender(agent_ptr self) {
  const auto& sender = self->current_sender();
  return sender ? caf::to_string(sender) : std::string{"an anonymous sender"};
}

bool sent_by(agent_ptr self, const caf::actor_addr& addr) {
  const auto& sender = self->current_sender();
  return sender && addr && caf::actor_cast<caf::actor_addr>(sender) == addr;
}

// Orders concerning tasks and frameworks are only taken from the master this agent registers with.
bool from_master(agent_ptr self, const char* what) {
  auto& st = self->state;
  if (st.master && sent_by(self, st.master.address()))
    return true;
  LOG_WARN(component, "ignoring " << what << " from " << describe_sender(self)
                                  << ": it is not the master this agent registers with");
  return false;
}

// Forwards the head of a task's stream if it is still the update `uuid` (a disk job finished meanwhile), stamped
// with the newest state known now.
void forward_if_head(agent_ptr self, const framework_id& fw, const task_id& tid, const std::string& uuid) {
  auto& st = self->state;
  auto pending = st.updates.pending_updates(fw, tid);
  if (pending.empty() || pending.front().status.uuid != uuid)
    return;
  auto head = std::move(pending.front());
  head.latest_state = st.updates.latest_state(fw, tid).value_or(head.status.state);
  send_to_master(self, std::move(head));
}

// Takes an update over: records the task's latest state, adds it to its stream, checkpoints it (checkpointing
// frameworks) and only then acknowledges it to the executor (`ack_to`, if set) and forwards it to the master if it
// is the head of its stream (the others follow as the master acknowledges, see the ack handler).
void handle_update(agent_ptr self, status_update u, executor_actor ack_to = executor_actor{}) {
  auto& st = self->state;
  auto t = st.tasks.find(task_key{u.framework, u.status.task});
  if (t != st.tasks.end()) {
    t->second.state = u.status.state;
    if (u.status.executor.empty())
      u.status.executor = t->second.executor;
  }
  auto ack = [=](const status_update& x) {
    if (ack_to && !x.status.uuid.empty())
      self->send(ack_to, atom::ack_v, x.status.task, x.status.uuid);
  };
  std::optional<status_update> forward;
  switch (st.updates.add(u, now(self), &forward)) {
    case status_update_manager::add_result::added: {
      LOG_DEBUG(component, "update " << to_string(u.status.state) << " for task " << u.status.task
                                     << " of framework " << u.framework << (forward ? "" : " (queued)"));
      if (!checkpoints(st, u.framework)) {
        ack(u);
        if (forward)
          send_to_master(self, std::move(*forward));
        break;
      }
      update_record r;
      r.update = u;
      // Synced before anyone hears of it: after a crash the agent still has every update it took over.
      disk_write(self, task_updates_path(u.framework, u.status.task), encode_frame(r), true, true,
                 [=, head = forward.has_value()](const std::string& err) {
                   if (!err.empty()) {
                     // Acking or forwarding an update that is not on disk would break the promise; Mesos aborts
                     // too. The executor keeps it and the restarted agent recovers everything else.
                     LOG_ERROR(component, "cannot checkpoint a status update; the agent stops: " << err);
                     self->quit(caf::make_error(caf::sec::runtime_error, "checkpoint failed: " + err));
                     return;
                   }
                   ack(u);
                   if (head)
                     forward_if_head(self, u.framework, u.status.task, u.status.uuid);
                 });
      break;
    }
    case status_update_manager::add_result::duplicate:
      LOG_DEBUG(component, "duplicate update " << u.status.uuid << " for task " << u.status.task);
      // The executor did not get our ack: it retries until it does. Acked once the original is durable.
      if (checkpoints(st, u.framework))
        after_disk(self, [=] { ack(u); });
      else
        ack(u);
      break;
    case status_update_manager::add_result::invalid:
      LOG_WARN(component, "dropping update without framework, task or uuid (task '" << u.status.task << "')");
      break;
  }
}

// An update the agent itself generates (validation errors, executor failures, kills of queued tasks).
void agent_update(agent_ptr self, const framework_id& fw, const task_id& task, const executor_id& exec,
                  task_state state, task_reason reason, std::string message) {
  if (fw.empty() || task.empty()) {
    LOG_WARN(component, "cannot report " << to_string(state) << " (" << message
                                         << ") for a task without framework or task ID");
    return;
  }
  LOG_INFO(component, to_string(state) << " for task " << task << " of framework " << fw << ": " << message);
  status_update u;
  u.framework = fw;
  u.status.task = task;
  u.status.state = state;
  u.status.reason = reason;
  u.status.message = std::move(message);
  u.status.source = status_source::agent;
  u.status.uuid = new_uuid();
  u.status.timestamp = now_seconds();
  u.status.executor = exec;
  handle_update(self, std::move(u));
}

// What an executor is told when it (re-)registers.
executor_registration registration_of(const agent_state& st, const executor_entry& e) {
  executor_registration reg;
  reg.executor = e.info;
  reg.framework = e.framework;
  if (auto f = st.frameworks.find(e.framework); f != st.frameworks.end())
    reg.framework_name = f->second.name;
  reg.agent = st.id;
  reg.sandbox = e.sandbox;
  return reg;
}

// -- executors ------------------------------------------------------------------------------------------

// A command executor that dies leaves its tasks running in sessions of their own: have the containerizer kill
// the process groups the executor recorded in each live task's sandbox (pid and start time checked).
void kill_orphaned_tasks(agent_ptr self, const executor_entry& e) {
  auto& st = self->state;
  if (!e.command || e.sandbox.empty() || !st.containerizer)
    return;
  std::vector<std::string> dirs;
  for (auto& [key, t] : st.tasks)
    if (key.first == e.framework && t.executor == e.info.id && !is_terminal(t.state) && t.launched)
      dirs.push_back(sandbox_path(e.sandbox, {"tasks", key.second.str()}));
  if (!dirs.empty())
    self->send(st.containerizer, atom::kill_v, std::move(dirs));
}

// Every task of the executor that is not terminal yet (queued or running) gets `state`.
void fail_tasks(agent_ptr self, executor_entry& e, task_state state, task_reason reason,
                const std::string& message) {
  auto& st = self->state;
  kill_orphaned_tasks(self, e);
  for (auto& [key, t] : st.tasks)
    if (key.first == e.framework && t.executor == e.info.id && !is_terminal(t.state))
      agent_update(self, key.first, key.second, e.info.id, state, reason, message);
  e.queued.clear();
}

// Mesos' rule for the tasks of an executor that is gone while the agent restarted: a task the executor never got
// (still staging, not reported) is TASK_DROPPED (partition-aware framework) or TASK_LOST; a task it ran is
// TASK_FAILED for the command executor, TASK_GONE (partition-aware) or TASK_LOST for a custom executor.
void fail_task_of_gone_executor(agent_ptr self, const executor_entry& e, const task_id& tid, bool never_launched,
                                const std::string& why) {
  auto& st = self->state;
  bool pa = partition_aware(st, e.framework);
  if (never_launched) {
    agent_update(self, e.framework, tid, e.info.id, pa ? task_state::dropped : task_state::lost,
                 task_reason::agent_restarted, "task launched during agent restart: " + why);
    return;
  }
  auto state = e.command ? task_state::failed : (pa ? task_state::gone : task_state::lost);
  agent_update(self, e.framework, tid, e.info.id, state, task_reason::executor_terminated, why);
}

// Every live task of a recovered executor that is gone (dead, or did not re-register) ends by the rule above.
void fail_recovered_tasks(agent_ptr self, executor_entry& e, const std::string& why) {
  auto& st = self->state;
  kill_orphaned_tasks(self, e);
  std::vector<std::pair<task_id, bool>> victims;
  for (auto& [key, t] : st.tasks)
    if (key.first == e.framework && t.executor == e.info.id && !is_terminal(t.state))
      victims.emplace_back(key.second, t.state == task_state::staging);
  for (auto& [tid, never_launched] : victims)
    fail_task_of_gone_executor(self, e, tid, never_launched, why);
  e.queued.clear();
}

void kill_container(agent_ptr self, executor_entry& e) {
  if (e.kill_sent)
    return;
  e.kill_sent = true;
  e.kill_at = caf::none;
  LOG_INFO(component, "killing container " << e.container << " of executor " << e.info.id);
  self->send(self->state.containerizer, atom::kill_v, e.container);
}

void maybe_finish_shutdown(agent_ptr self) {
  auto& st = self->state;
  if (st.shutting_down && st.executors.empty()) {
    LOG_INFO(component, "all executors gone; agent exits");
    self->quit(st.exit_reason);
  }
}

void erase_executor(agent_ptr self, const executor_key& key) {
  auto& st = self->state;
  auto i = st.executors.find(key);
  if (i == st.executors.end())
    return;
  if (checkpoints(st, key.first))
    disk_forget(self, executor_dir(key.first, key.second));
  st.by_container.erase(i->second.container);
  st.executors.erase(i);
  maybe_finish_shutdown(self);
}

void checkpoint_executor(agent_ptr self, const executor_entry& e) {
  auto& st = self->state;
  if (!checkpoints(st, e.framework))
    return;
  executor_record r;
  r.framework = e.framework;
  r.info = e.info;
  r.command = e.command;
  r.container = e.container;
  r.sandbox = e.sandbox;
  r.pid = e.pid;
  r.start_time = e.start_time;
  disk_write(self, executor_record_path(e.framework, e.info.id), encode_frame(r));
}

// Asks an executor to shut down; its container is killed after the grace period (or now if it never
// registered).
void shutdown_executor(agent_ptr self, executor_entry& e) {
  if (e.state == executor_entry::phase::registered && e.handle) {
    self->send(e.handle, atom::shutdown_v);
    e.kill_at = now(self) + self->state.opts.executor_shutdown_grace;
    e.state = executor_entry::phase::terminating;
  } else {
    e.state = executor_entry::phase::terminating;
    kill_container(self, e);
  }
}

// Every component was checked with is_safe_path_component before (run_task), the container ID is ours.
std::string sandbox_for(const agent_state& st, const framework_id& fw, const executor_id& exec,
                        const container_id& cid) {
  auto runs = executor_runs_dir(st.opts.work_dir, st.id, fw, exec);
  return runs.empty() ? runs : sandbox_path(runs, {cid.str()});
}

executor_entry& launch_executor(agent_ptr self, const framework_id& fw, executor_info info, bool command) {
  auto& st = self->state;
  executor_key key{fw, info.id};
  auto& e = st.executors[key];
  e = executor_entry{};
  e.framework = fw;
  e.command = command;
  e.info = std::move(info);
  e.info.framework = fw;
  e.container = new_id<container_id>();
  e.sandbox = sandbox_for(st, fw, e.info.id, e.container);
  e.launched_at = now(self);
  st.by_container[e.container] = key;
  launch_spec spec;
  spec.id = e.container;
  spec.command = e.info.command;
  spec.sandbox = e.sandbox;
  // An address the agent really listens on (not the advertised one: behind NAT that may not reach back here).
  spec.environment["MESOSCAF_AGENT_ENDPOINT"] = join_host_port(executor_dial_host(st.opts.publish_address), st.opts.port);
  spec.environment["MESOSCAF_FRAMEWORK_ID"] = fw.str();
  spec.environment["MESOSCAF_EXECUTOR_ID"] = e.info.id.str();
  spec.environment["MESOSCAF_AGENT_ID"] = st.id.str();
  spec.environment["MESOSCAF_SANDBOX"] = e.sandbox;
  // A checkpointing framework's executor outlives a crashed agent: it waits this long for the next one.
  spec.environment["MESOSCAF_CHECKPOINT"] = checkpoints(st, fw) ? "1" : "0";
  spec.environment["MESOSCAF_RECOVERY_TIMEOUT"]
    = std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(st.opts.recovery_timeout).count());
  if (auto level = std::getenv("MESOSCAF_LOG_LEVEL"))
    spec.environment["MESOSCAF_LOG_LEVEL"] = level;
  LOG_INFO(component, "launching executor " << e.info.id << " of framework " << fw << " in container "
                                            << e.container);
  auto cid = e.container;
  // Recorded before the process exists: a crash in between leaves a record without pid (the executor is gone).
  checkpoint_executor(self, e);
  self->request(st.containerizer, st.opts.request_timeout, atom::launch_v, spec)
    .then(
      [=](int32_t pid) {
        auto& st = self->state;
        auto i = st.by_container.find(cid);
        if (i == st.by_container.end())
          return;
        auto& e = st.executors[i->second];
        e.pid = pid;
        // A small procfs read (no disk I/O): with the pid it tells a restarted agent that the process is ours.
        e.start_time = pid > 0 ? process_start_time(pid) : 0;
        LOG_DEBUG(component, "container " << cid << " runs as pid " << pid);
        checkpoint_executor(self, e);
      },
      [=](caf::error& err) {
        auto& st = self->state;
        auto i = st.by_container.find(cid);
        if (i == st.by_container.end())
          return;
        auto key = i->second;
        auto& e = st.executors[key];
        auto msg = "cannot launch executor '" + e.info.id.str() + "': " + render(self, err);
        LOG_ERROR(component, msg);
        fail_tasks(self, e, task_state::failed, task_reason::container_launch_failed, msg);
        // A timed-out launch may still have started something.
        kill_container(self, e);
        erase_executor(self, key);
      });
  return e;
}

void send_launch(agent_ptr self, executor_entry& e, const task_id& tid) {
  auto& st = self->state;
  auto t = st.tasks.find(task_key{e.framework, tid});
  // A task whose volumes are still being linked goes out when the disk worker is done (prepare_volumes).
  if (t == st.tasks.end() || is_terminal(t->second.state) || !t->second.ready || t->second.record_pending
      || t->second.launched)
    return;
  t->second.launched = true;
  self->send(e.handle, atom::launch_v, t->second.info);
}

// -- volumes --------------------------------------------------------------------------------------------

// The persistent volumes a task uses: in its own resources and, for a custom executor, the executor's.
resource_set task_volumes(const task_info& ti) {
  auto result = ti.resources.volumes();
  if (ti.executor) {
    const auto vols_r = ti.executor->resources.volumes();
    for (const auto& r : vols_r.items())
      if (!result.has_volume(r.volume_id))
        result.add(r);
  }
  return result;
}

// Asks the disk worker to link the task's volumes into `dir`; the task is handed to its executor only then.
void prepare_volumes(agent_ptr self, const task_key& key, uint64_t prepare_id, const std::string& dir,
                     const resource_set& volumes) {
  auto& st = self->state;
  auto on_done = [=](const std::string& err) {
    auto& st = self->state;
    auto t = st.tasks.find(key);
    if (t == st.tasks.end() || t->second.prepare_id != prepare_id || t->second.ready
        || is_terminal(t->second.state))
      return;  // killed or replaced meanwhile
    if (!err.empty()) {
      agent_update(self, key.first, key.second, t->second.executor, task_state::failed,
                   task_reason::container_launch_failed, "cannot give the task its volumes: " + err);
      return;
    }
    LOG_DEBUG(component, "volumes " << volumes << " linked into " << dir);
    t->second.ready = true;
    auto ex = st.executors.find(executor_key{key.first, t->second.executor});
    if (ex != st.executors.end() && ex->second.state == executor_entry::phase::registered)
      send_launch(self, ex->second, key.second);
  };
  // No timeout: the worker answers every job in order; only its death (then the agent exits) ends it early.
  self->request(st.disk, caf::infinite, atom::launch_v, dir, volumes)
    .then(on_done, [=](caf::error& err) { on_done("disk worker: " + render(self, err)); });
}

// -- registration ---------------------------------------------------------------------------------------

void schedule_retry(agent_ptr self) {
  auto& st = self->state;
  if (st.backoff < st.opts.registration_backoff_min)
    st.backoff = st.opts.registration_backoff_min;
  st.next_attempt = now(self) + st.backoff;
  st.backoff = std::min(st.backoff * 2, st.opts.registration_backoff_max);
}

// The master registered us under a new ID: it removed the old agent and reported its tasks lost, and offers
// all our resources again. Whatever still runs for the old incarnation must go, and its unacknowledged
// updates would only be dropped by the master (they belong to an agent it no longer knows).
// Also when the master refuses a re-registration (`new_id` empty): the agent then registers as a new agent.
void forget_old_incarnation(agent_ptr self, const agent_id& old_id, const agent_id& new_id) {
  auto& st = self->state;
  LOG_WARN(component, (new_id.empty() ? std::string{"the master refused to re-register this agent"}
                                      : "the master registered this agent under a NEW agent ID " + new_id.str())
                        << " (was " << old_id << "): shutting down " << st.executors.size()
                        << " executor(s), dropping " << st.tasks.size() << " task(s) and " << st.updates.pending()
                        << " unacknowledged update(s) of the old agent, which the master considers lost");
  for (auto& [fw, fi] : st.frameworks)
    if (fi.checkpoint)
      disk_forget(self, framework_dir(fw));
  for (auto& [key, e] : st.executors) {
    e.framework_removed = true;  // the master never knew these executors under the new ID: no exec_lost
    e.queued.clear();
    if (e.state != executor_entry::phase::terminating)
      shutdown_executor(self, e);
  }
  st.tasks.clear();
  st.frameworks.clear();
  st.updates = status_update_manager{st.opts.update_retry_min, st.opts.update_retry_max};
}

void on_registered(agent_ptr self, const agent_id& id, bool reregistered) {
  auto& st = self->state;
  if (!st.id.empty() && st.id != id)
    forget_old_incarnation(self, st.id, id);
  st.id = id;
  st.registered = true;
  st.backoff = st.opts.registration_backoff_min;
  LOG_INFO(component, (reregistered ? "re-registered" : "registered") << " with the master as agent " << id);
  // The head of every stream (recorded while unregistered, lost with the previous master, or recovered) goes out
  // once the agent record is written: disk jobs run in order, so every update taken over before is on disk too.
  auto gen = st.master_generation;
  disk_write(self, agent_record_path(), agent_record_frame(st), false, false, [=](const std::string&) {
    auto& st = self->state;
    if (gen != st.master_generation || !st.registered)
      return;  // the next registration sends them
    send_to_master(self, st.updates.heads(now(self)));
  });
}

// What an agent that has an ID tells the master when it (re-)registers: everything it runs.
agent_reregistration make_reregistration(agent_ptr self, const agent_info& info) {
  auto& st = self->state;
  agent_reregistration r;
  r.info = info;
  r.info.id = st.id;
  std::set<framework_id> used;
  for (auto& [key, e] : st.executors) {
    if (e.state == executor_entry::phase::terminating)
      continue;
    used.insert(key.first);
    if (!e.command)
      r.executors.push_back(e.info);
  }
  for (auto& [key, t] : st.tasks) {
    used.insert(key.first);
    reregistered_task rt;
    rt.framework = key.first;
    rt.info = t.info;
    rt.state = st.updates.latest_state(key.first, key.second).value_or(t.state);
    r.tasks.push_back(std::move(rt));
  }
  for (auto& fw : used)
    if (auto f = st.frameworks.find(fw); f != st.frameworks.end())
      r.frameworks.push_back(f->second);
  return r;
}

void try_register(agent_ptr self);

void connect_to_master(agent_ptr self) {
  auto& st = self->state;
  st.connecting = true;
  auto gen = st.master_generation;
  auto mm = self->system().middleman().actor_handle();
  auto where = st.target.endpoint();
  LOG_DEBUG(component, "connecting to master at " << where);
  self->request(mm, st.opts.request_timeout, caf::connect_atom::value, st.target.host, st.target.port)
    .then(
      [=](const caf::node_id&, caf::strong_actor_ptr& ptr, const std::set<std::string>& ifs) {
        auto& st = self->state;
        if (gen != st.master_generation || st.shutting_down)
          return;
        st.connecting = false;
        if (!ptr) {
          LOG_WARN(component, "no actor published at " << where);
          schedule_retry(self);
          return;
        }
        if (!self->system().assignable<master_actor>(ifs)) {
          LOG_ERROR(component, "the actor at " << where << " is not a mesoscaf master");
          schedule_retry(self);
          return;
        }
        st.master = caf::actor_cast<master_actor>(std::move(ptr));
        ++st.master_generation;
        self->monitor(st.master);
        try_register(self);
      },
      [=](caf::error& err) {
        auto& st = self->state;
        if (gen != st.master_generation || st.shutting_down)
          return;
        st.connecting = false;
        LOG_WARN(component, "cannot connect to master at " << where << ": " << render(self, err));
        schedule_retry(self);
      });
}

// The master's answer to reg_agent / rereg_agent; stale if the master changed or the agent stops meanwhile.
void on_registration_answer(agent_ptr self, uint64_t gen, const agent_id& id, bool reregistered) {
  auto& st = self->state;
  if (gen != st.master_generation || st.shutting_down)
    return;
  st.registering = false;
  if (id.empty()) {
    LOG_ERROR(component, "master answered the " << (reregistered ? "re-registration" : "registration")
                                                << " with an empty agent ID");
    schedule_retry(self);
    return;
  }
  on_registered(self, id, reregistered);
}

void try_register(agent_ptr self) {
  auto& st = self->state;
  if (st.registered || st.registering || st.connecting || st.shutting_down || !st.published || st.recovering)
    return;
  if (!st.master) {
    if (st.target.empty())
      return;  // no leader known: the detector's next report starts the registration
    if (st.target.handle) {
      st.master = caf::actor_cast<master_actor>(st.target.handle);
      self->monitor(st.master);
    } else {
      connect_to_master(self);
      return;
    }
  }
  agent_info info;
  info.hostname = st.opts.hostname;
  info.port = st.opts.advertise_port != 0 ? st.opts.advertise_port : st.opts.port;
  info.address = st.opts.advertise_ip;
  info.total = st.total;
  info.attributes = st.opts.attributes;
  st.registering = true;
  auto gen = st.master_generation;
  if (!st.id.empty()) {
    // An agent with an ID (recovered, reconnected, back from a partition) re-registers with everything it runs,
    // so that the master can reconcile its view with ours.
    auto rereg = make_reregistration(self, info);
    LOG_INFO(component, "re-registering as agent " << st.id << " with " << rereg.tasks.size() << " task(s) and "
                                                   << rereg.executors.size() << " custom executor(s)");
    self->request(st.master, st.opts.request_timeout, atom::rereg_agent_v, std::move(rereg), me(self))
      .then(
        [=](const agent_id& id) { on_registration_answer(self, gen, id, true); },
        [=](caf::error& err) {
          auto& st = self->state;
          if (gen != st.master_generation || st.shutting_down)
            return;
          st.registering = false;
          if (err == caf::sec::unavailable_or_would_block) {
            // A standby master: not a refusal. Retry until it leads or the detector names another leader.
            LOG_WARN(component, "master " << st.target.endpoint() << " does not lead (" << render(self, err)
                                          << "); retrying, keeping every task");
            schedule_retry(self);
            return;
          }
          if (err != caf::sec::invalid_argument) {
            // Timeouts, lost links, a master going down: not an answer, try again (forgetting would kill tasks).
            LOG_WARN(component, "re-registration failed: " << render(self, err));
            schedule_retry(self);
            return;
          }
          // The master answered: it does not take this agent back. Start over as a new agent.
          LOG_WARN(component, "the master refused the re-registration: " << render(self, err));
          forget_old_incarnation(self, st.id, agent_id{});
          st.id = agent_id{};
          try_register(self);
        });
    return;
  }
  self->request(st.master, st.opts.request_timeout, atom::reg_agent_v, info, me(self))
    .then(
      [=](const agent_id& id) { on_registration_answer(self, gen, id, false); },
      [=](caf::error& err) {
        auto& st = self->state;
        if (gen != st.master_generation || st.shutting_down)
          return;
        st.registering = false;
        if (err == caf::sec::unavailable_or_would_block)
          LOG_WARN(component, "master " << st.target.endpoint() << " does not lead (" << render(self, err)
                                        << "); retrying");
        else
          LOG_WARN(component, "registration failed: " << render(self, err));
        schedule_retry(self);
      });
}

// -- recovery -------------------------------------------------------------------------------------------

void finish_recovery(agent_ptr self) {
  auto& st = self->state;
  if (!st.recovering)
    return;
  st.recovering = false;
  LOG_INFO(component, "recovery done: " << st.executors.size() << " executor(s), " << st.tasks.size()
                                        << " task(s), " << st.updates.pending()
                                        << " pending update(s); registering with the master");
  try_register(self);
}

// The agent registers with the master once every recovered executor re-registered or is gone (or at the
// deadline, see on_tick).
void maybe_finish_recovery(agent_ptr self) {
  auto& st = self->state;
  if (!st.recovering)
    return;
  for (auto& [key, e] : st.executors)
    if (e.state == executor_entry::phase::recovering)
      return;
  finish_recovery(self);
}

// A recovered executor whose process is gone (or cannot be adopted): its tasks end, it is forgotten.
void recovered_executor_gone(agent_ptr self, const executor_key& key, const std::string& why) {
  auto& st = self->state;
  auto i = st.executors.find(key);
  if (i == st.executors.end() || i->second.state != executor_entry::phase::recovering)
    return;
  auto& e = i->second;
  auto text = "executor '" + e.info.id.str() + "' " + why;
  LOG_WARN(component, text << " (framework " << e.framework << ")");
  fail_recovered_tasks(self, e, text);
  erase_executor(self, key);
  maybe_finish_recovery(self);
}

// Rebuilds frameworks, executors, tasks and update streams from the checkpoint of the agent process before this
// one (same boot), and asks the containerizer to adopt each executor's process.
void recover_state(agent_ptr self, const recovered_state& rs) {
  auto& st = self->state;
  if (!rs.found)
    return;
  if (rs.agent.id.empty() || !is_safe_path_component(rs.agent.id.str())) {
    LOG_WARN(component, "ignoring the checkpoint: unusable agent ID '" << rs.agent.id << "'");
    return;
  }
  st.id = rs.agent.id;
  auto t0 = now(self);
  for (auto& [fw, rf] : rs.frameworks) {
    if (rf.executors.empty() && rf.tasks.empty()) {
      disk_forget(self, framework_dir(fw));
      continue;
    }
    auto info = rf.info;
    if (info.id.empty())
      info.id = fw;
    st.frameworks[fw] = std::move(info);
    for (auto& [eid, re] : rf.executors) {
      const auto& r = re.record;
      executor_key key{fw, eid};
      auto& e = st.executors[key];
      e.framework = fw;
      e.info = r.info;
      e.info.id = eid;
      e.info.framework = fw;
      e.command = r.command;
      e.container = r.container;
      e.sandbox = r.sandbox;
      e.pid = r.pid;
      e.start_time = r.start_time;
      e.state = executor_entry::phase::recovering;
      e.launched_at = t0;
      if (!e.container.empty())
        st.by_container[e.container] = key;
    }
    for (auto& [tid, rt] : rf.tasks) {
      auto state = task_state::staging;
      for (auto& u : rt.updates)
        if (!u.is_ack)
          state = u.update.status.state;
      st.updates.recover(fw, tid, rt.updates, t0);
      if (is_terminal(state) && st.updates.pending(fw, tid) == 0) {
        disk_forget(self, task_dir(fw, tid));  // ended and acknowledged: nothing left to do for it
        continue;
      }
      auto& t = st.tasks[task_key{fw, tid}];
      t.info = rt.record.info;
      t.executor = rt.record.executor;
      t.state = state;
      // Not known for sure after a restart: the executor's re-registration says which ones it has.
      t.launched = state != task_state::staging;
    }
  }
  st.recovering = true;
  st.recovery_deadline = t0 + st.opts.executor_reregistration_timeout;
  LOG_INFO(component, "recovering agent " << st.id << ": " << st.frameworks.size() << " framework(s), "
                                          << st.executors.size() << " executor(s), " << st.tasks.size()
                                          << " task(s), " << st.updates.pending() << " pending update(s)");
  // Live tasks whose executor record is missing (the agent died before writing it): their executor is gone.
  std::vector<std::pair<task_key, bool>> orphans;
  for (auto& [key, t] : st.tasks)
    if (!is_terminal(t.state) && st.executors.count(executor_key{key.first, t.executor}) == 0)
      orphans.emplace_back(key, t.state == task_state::staging);
  for (auto& [key, never_launched] : orphans) {
    executor_entry gone;
    gone.framework = key.first;
    gone.info.id = st.tasks[key].executor;
    gone.command = gone.info.id.str() == command_executor_id;
    fail_task_of_gone_executor(self, gone, key.second, never_launched,
                               "executor '" + gone.info.id.str() + "' is gone (not checkpointed)");
  }
  std::vector<executor_key> never_started;
  for (auto& [key, e] : st.executors) {
    if (e.pid <= 0 || e.container.empty()) {
      never_started.push_back(key);
      continue;
    }
    auto key_copy = key;
    auto cid = e.container;
    self->request(st.containerizer, st.opts.request_timeout, atom::recover_v, cid, e.pid, e.start_time)
      .then(
        [=](bool alive) {
          auto& st = self->state;
          auto i = st.executors.find(key_copy);
          if (i == st.executors.end() || i->second.container != cid
              || i->second.state != executor_entry::phase::recovering) {
            // Recovery gave up on it before this answer came (its tasks ended already): an adopted process
            // must not run on unaccounted.
            if (alive)
              self->send(st.containerizer, atom::kill_v, cid);
            return;
          }
          if (!alive) {
            recovered_executor_gone(self, key_copy, "exited while the agent was down");
            return;
          }
          i->second.adopted = true;
          LOG_INFO(component, "executor " << key_copy.second << " of framework " << key_copy.first
                                          << " still runs (pid " << i->second.pid << "); waiting for it to "
                                          << "re-register");
        },
        [=](caf::error& err) {
          recovered_executor_gone(self, key_copy, "cannot be adopted: " + render(self, err));
        });
  }
  for (auto& key : never_started)
    recovered_executor_gone(self, key, "was not started yet when the agent went down");
  maybe_finish_recovery(self);
}

// An executor of a recovered run re-registered (rereg_exec; a reg_exec of one that never registered counts too,
// with nothing reported): it keeps the tasks it reports, the others end.
executor_registration readopt_executor(agent_ptr self, executor_entry& e, const executor_actor& hdl,
                                       const std::vector<task_info>& tasks,
                                       const std::vector<status_update>& updates) {
  auto& st = self->state;
  e.handle = hdl;
  e.state = executor_entry::phase::registered;
  self->monitor(e.handle);
  std::set<task_id> reported;
  for (auto& ti : tasks) {
    if (ti.id.empty() || !is_safe_path_component(ti.id.str()))
      continue;
    reported.insert(ti.id);
    task_key key{e.framework, ti.id};
    auto t = st.tasks.find(key);
    if (t == st.tasks.end()) {
      // The agent went down between handing the task over and checkpointing it: adopt it.
      auto& nt = st.tasks[key];
      nt.info = ti;
      nt.executor = e.info.id;
      nt.state = st.updates.latest_state(key.first, key.second).value_or(task_state::staging);
      nt.launched = true;
      if (checkpoints(st, e.framework)) {
        task_record r;
        r.framework = e.framework;
        r.info = ti;
        r.executor = e.info.id;
        disk_write(self, task_record_path(e.framework, ti.id), encode_frame(r));
      }
      continue;
    }
    t->second.launched = true;
  }
  for (auto& u : updates)
    if (u.framework == e.framework)
      reported.insert(u.status.task);
  std::vector<std::pair<task_id, bool>> missing;
  for (auto& [key, t] : st.tasks)
    if (key.first == e.framework && t.executor == e.info.id && !is_terminal(t.state)
        && reported.count(key.second) == 0)
      missing.emplace_back(key.second, t.state == task_state::staging);
  for (auto& [tid, never_launched] : missing)
    fail_task_of_gone_executor(self, e, tid, never_launched,
                               "executor '" + e.info.id.str() + "' does not know the task after the agent "
                               "restarted");
  LOG_INFO(component, "executor " << e.info.id << " of framework " << e.framework << " re-registered with "
                                  << tasks.size() << " task(s) and " << updates.size()
                                  << " unacknowledged update(s)");
  return registration_of(st, e);
}

void on_master_down(agent_ptr self, const caf::error& reason) {
  auto& st = self->state;
  if (st.shutting_down) {
    st.registered = false;
    return;
  }
  LOG_WARN(component, "lost the master (" << render(self, reason) << "); registering again");
  st.registered = false;
  st.registering = false;
  st.connecting = false;
  ++st.master_generation;
  // A proxy does not heal: connect again (to whoever the detector names by then). An in-process handle is all
  // we have until the detector names another leader, so keep it.
  if (!st.target.handle)
    st.master = nullptr;
  st.backoff = st.opts.registration_backoff_min;
  schedule_retry(self);
}

// The detector named a leader (or none). A new ID means another master (or a new run of the same one): whatever
// the agent had with the old one is over. It keeps its ID, executors, tasks and pending updates, and
// re-registers with the new leader (rereg_agent with everything it runs; the head of every update stream follows
// the answer, see on_registered).
void on_leader(agent_ptr self, const master_location& loc) {
  auto& st = self->state;
  if (st.shutting_down || loc.id == st.target.id)
    return;
  if (loc.empty())
    LOG_WARN(component, "no leading master known (was " << st.target.endpoint() << "); waiting for one");
  else
    LOG_INFO(component, "leading master is now " << loc.endpoint() << " (" << loc.id << ")");
  st.target = loc;
  ++st.master_generation;  // answers and connections of the old master are stale from now on
  if (st.master)
    self->demonitor(st.master.address());
  st.master = nullptr;
  st.registered = false;
  st.registering = false;
  st.connecting = false;
  st.backoff = st.opts.registration_backoff_min;
  st.next_attempt = now(self);
  try_register(self);
}

// -- shutdown -------------------------------------------------------------------------------------------

void begin_shutdown(agent_ptr self, caf::error reason) {
  auto& st = self->state;
  if (st.shutting_down)
    return;
  LOG_INFO(component, "shutting down (" << render(self, reason) << "), " << st.executors.size()
                                        << " executor(s) to stop");
  st.shutting_down = true;
  st.exit_reason = std::move(reason);
  st.quit_at = now(self) + st.opts.executor_shutdown_grace + st.opts.exit_timeout;
  for (auto& [key, e] : st.executors)
    if (e.state != executor_entry::phase::terminating)
      shutdown_executor(self, e);
  maybe_finish_shutdown(self);
}

// -- timer ----------------------------------------------------------------------------------------------

void on_tick(agent_ptr self) {
  auto& st = self->state;
  auto t = now(self);
  if (st.registered && !st.registering && !st.shutting_down && st.ping_gap.count() > 0
      && t - st.last_ping > 4 * st.ping_gap + std::chrono::seconds(1)) {
    LOG_WARN(component, "no ping from the master for "
                          << std::chrono::duration_cast<std::chrono::milliseconds>(t - st.last_ping).count()
                          << " ms (pings came every " << std::chrono::duration_cast<std::chrono::milliseconds>(
                                                           st.ping_gap).count()
                          << " ms): re-registering");
    st.last_ping = t;
    st.ping_gap = caf::timespan{0};  // learnt again from the next pings
    st.registered = false;
    ++st.master_generation;  // replies to anything sent under the old registration are stale
    st.backoff = st.opts.registration_backoff_min;
    try_register(self);
  }
  if (st.shutting_down && t >= st.quit_at) {
    LOG_WARN(component, st.executors.size() << " executor(s) did not exit in time; agent exits anyway");
    self->quit(st.exit_reason);
    return;
  }
  if (st.recovering && !st.shutting_down && t >= st.recovery_deadline) {
    std::vector<executor_key> late;
    for (auto& [key, e] : st.executors)
      if (e.state == executor_entry::phase::recovering)
        late.push_back(key);
    for (auto& key : late) {
      auto& e = st.executors[key];
      auto msg = "executor '" + e.info.id.str() + "' did not re-register within "
                 + std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                    st.opts.executor_reregistration_timeout).count())
                 + " ms after the agent restarted";
      LOG_WARN(component, msg);
      fail_recovered_tasks(self, e, msg);
      if (e.adopted) {
        e.state = executor_entry::phase::terminating;
        kill_container(self, e);  // its exit report then forgets it
      } else {
        erase_executor(self, key);  // the containerizer does not know it: nothing to wait for
      }
    }
    finish_recovery(self);
  }
  if (!st.shutting_down) {
    if (!st.registered && !st.registering && !st.connecting && t >= st.next_attempt)
      try_register(self);
    if (st.registered) {
      auto due = st.updates.due(t);
      if (!due.empty())
        after_disk(self, [=] { send_to_master(self, due); });
    }
  }
  // Executors that did not (re-)register in time: their tasks fail and their containers go.
  std::vector<std::pair<executor_key, task_reason>> overdue;
  for (auto& [key, e] : st.executors) {
    if (e.state == executor_entry::phase::launching
        && t - e.launched_at >= st.opts.executor_registration_timeout)
      overdue.emplace_back(key, task_reason::executor_registration_timeout);
    if (e.state == executor_entry::phase::disconnected
        && t - e.disconnected_at >= st.opts.executor_reregistration_timeout)
      overdue.emplace_back(key, task_reason::executor_terminated);
    if (e.kill_at && t >= *e.kill_at)
      kill_container(self, e);
  }
  auto ms = [](caf::timespan d) {
    return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) + " ms";
  };
  for (auto& [key, reason] : overdue) {
    auto& e = st.executors[key];
    auto msg = "executor '" + e.info.id.str() + "' "
               + (reason == task_reason::executor_registration_timeout
                    ? "did not register within " + ms(st.opts.executor_registration_timeout)
                    : "disconnected and did not reconnect within " + ms(st.opts.executor_reregistration_timeout));
    LOG_WARN(component, msg);
    fail_tasks(self, e, task_state::failed, reason, msg);
    e.state = executor_entry::phase::terminating;
    kill_container(self, e);
  }
  self->delayed_send(self, st.opts.tick_interval, atom::tick_v);
}

// -- executor updates -----------------------------------------------------------------------------------

// An update from `owner`, the executor of the task (checked by the caller). The executor gets its ack once the
// agent has taken the update over (checkpointed, for checkpointing frameworks); then it stops retrying it.
void take_update(agent_ptr self, const executor_actor& owner, const status_update& su) {
  auto& st = self->state;
  // A dropped or duplicate update is acknowledged only once what the agent recorded before is durable: the
  // original of a resent update may still wait in the disk worker's queue, and a crash then must not lose it.
  auto ack_now = [&] {
    if (su.status.uuid.empty())
      return;
    auto ack = [self, owner, task = su.status.task, uuid = su.status.uuid] {
      self->send(owner, atom::ack_v, task, uuid);
    };
    if (checkpoints(st, su.framework))
      after_disk(self, ack);
    else
      ack();
  };
  auto t = st.tasks.find(task_key{su.framework, su.status.task});
  if (t == st.tasks.end()) {
    // Executors only report tasks the agent gave them, so the agent dropped this one on purpose: normal while
    // a framework shuts down (its executor reports the kills) or after re-registering with a new ID.
    LOG_DEBUG(component, "dropping " << to_string(su.status.state) << " for unknown task " << su.status.task
                                     << " of framework " << su.framework);
    ack_now();
    return;
  }
  if (is_terminal(t->second.state)) {
    // E.g. the agent failed the task when its executor disconnected: the terminal state stands.
    LOG_WARN(component, "dropping " << to_string(su.status.state) << " for task " << su.status.task
                                    << " which is already " << to_string(t->second.state));
    ack_now();
    return;
  }
  status_update u = su;
  if (u.status.uuid.empty())
    u.status.uuid = new_uuid();
  u.status.executor = t->second.executor;
  handle_update(self, std::move(u), su.status.uuid.empty() ? executor_actor{} : owner);
}

// -- behaviour ------------------------------------------------------------------------------------------

agent_actor::behavior_type agent(agent_ptr self, agent_options opts,
                                 std::shared_ptr<const recovered_state> recovered, std::string startup_error) {
  auto& st = self->state;
  opts.executor_binary = executor_binary(opts.executor_binary);
  if (opts.tick_interval <= caf::timespan{0})
    opts.tick_interval = std::chrono::milliseconds(100);
  st.opts = std::move(opts);
  st.updates = status_update_manager{st.opts.update_retry_min, st.opts.update_retry_max};
  st.backoff = st.opts.registration_backoff_min;
  st.next_attempt = now(self);
  st.detector = st.opts.detector;
  st.opts.detector = nullptr;  // one owner: the state (closed when the agent exits)
  st.published = !st.opts.publish;
  st.boot_id = st.opts.boot_id;
  // Once, here: a wildcard listen address means reading the host's interfaces.
  if (st.opts.advertise_ip.empty())
    st.opts.advertise_ip = default_advertise_ip(st.opts.publish_address);
  if (!startup_error.empty()) {
    LOG_ERROR(component, "cannot start: " << startup_error);
    self->quit(caf::make_error(caf::sec::runtime_error, startup_error));
    return agent_actor::behavior_type::make_empty_behavior();
  }
  // Executors of the last run reconnect to the endpoint they know.
  if (recovered && recovered->found && st.opts.publish && st.opts.port == 0)
    st.opts.port = recovered->agent.port;
  st.total = st.opts.recovered_total ? *st.opts.recovered_total : st.opts.resources;
  if (st.total != st.opts.resources)
    LOG_INFO(component, "recovered resources " << st.total << " from "
                                               << resources_checkpoint_path(st.opts.work_dir));
  st.disk = spawn_agent_disk_worker(self->system(), st.opts.work_dir, st.total, st.opts.detached_disk_worker);
  self->monitor(st.disk);
  self->attach_functor([d = st.disk](const caf::error&) {
    caf::anon_send_exit(d, caf::exit_reason::user_shutdown);
  });
  if (st.opts.make_containerizer) {
    st.containerizer = st.opts.make_containerizer(self->system(), me(self));
  } else {
    containerizer_options copts;
    copts.kill_grace_period = std::chrono::duration_cast<std::chrono::milliseconds>(st.opts.container_kill_grace);
    // Only an orderly exit of the agent runs this (after begin_shutdown stopped every executor): a last resort
    // for executors that outlived their grace. A crashed (kill -9) agent runs nothing, so the executors of
    // checkpointing frameworks live on and the next agent adopts them (containerizer recover).
    copts.kill_on_exit = true;
    st.containerizer = spawn_containerizer(self->system(), me(self), copts);
  }
  self->monitor(st.containerizer);
  // The containerizer also watches us; this makes it go at once when we do.
  self->attach_functor([c = st.containerizer](const caf::error&) {
    caf::anon_send_exit(c, caf::exit_reason::user_shutdown);
  });
  if (recovered)
    recover_state(self, *recovered);
  recovered = nullptr;

  self->set_down_handler([=](const caf::down_msg& msg) {
    auto& st = self->state;
    if (st.master && msg.source == st.master.address()) {
      on_master_down(self, msg.reason);
      return;
    }
    if (msg.source == st.disk.address()) {
      LOG_ERROR(component, "disk worker went down (" << render(self, msg.reason)
                                                     << "); the agent cannot checkpoint and exits");
      self->quit(msg.reason ? msg.reason : caf::make_error(caf::exit_reason::unknown));
      return;
    }
    if (msg.source == st.containerizer.address()) {
      LOG_ERROR(component, "containerizer went down (" << render(self, msg.reason) << "); agent exits");
      self->quit(msg.reason ? msg.reason : caf::make_error(caf::exit_reason::unknown));
      return;
    }
    for (auto& [key, e] : st.executors) {
      if (e.handle && msg.source == e.handle.address()) {
        if (e.state == executor_entry::phase::registered && checkpoints(st, e.framework) && !st.shutting_down
            && msg.reason == caf::exit_reason::remote_link_unreachable) {
          // Only the connection broke: its process may live on (its exit report would say otherwise), and the
          // driver of a checkpointing framework reconnects by itself.
          LOG_WARN(component, "executor '" << e.info.id << "' of framework " << e.framework << " disconnected ("
                                           << render(self, msg.reason) << "); waiting up to "
                                           << std::chrono::duration_cast<std::chrono::milliseconds>(
                                                st.opts.executor_reregistration_timeout)
                                                .count()
                                           << " ms for it to reconnect");
          e.state = executor_entry::phase::disconnected;
          e.disconnected_at = now(self);
          return;
        }
        if (e.state != executor_entry::phase::terminating) {
          auto text = "executor '" + e.info.id.str() + "' disconnected: " + render(self, msg.reason);
          LOG_WARN(component, text);
          fail_tasks(self, e, task_state::failed, task_reason::executor_terminated, text);
          e.state = executor_entry::phase::terminating;
          // Its process may hang on: make sure it goes; the exit report then cleans up.
          kill_container(self, e);
        }
        // Else it was told to shut down and its process gets the grace period (kill_at) to finish.
        return;
      }
    }
  });
  self->set_exit_handler([=](const caf::exit_msg& msg) { begin_shutdown(self, msg.reason); });

  // The detector's callbacks run on any thread (ZooKeeper's own): they only post to the agent, through a weak
  // reference so that the detector never keeps the agent alive.
  if (st.detector) {
    auto weak = self->address();
    st.detector->watch([weak](const master_location& loc) {
      if (auto agent = caf::actor_cast<agent_actor>(weak))
        caf::anon_send(agent, atom::leader_v, loc);
    });
    self->attach_functor([d = st.detector](const caf::error&) { d->close(); });
  } else {
    LOG_ERROR(component, "no master configured (detector, master handle or master endpoint): not registering");
  }

  if (st.opts.publish) {
    auto mm = self->system().middleman().actor_handle();
    auto sigs = self->system().message_types<agent_actor>();
    self->request(mm, st.opts.request_timeout, caf::publish_atom::value, st.opts.port,
                  caf::actor_cast<caf::strong_actor_ptr>(self), sigs, st.opts.publish_address, true)
      .then(
        [=](uint16_t port) {
          auto& st = self->state;
          st.opts.port = port;
          st.published = true;
          LOG_INFO(component, "listening for executors on " << st.opts.publish_address << ":" << port);
          try_register(self);
        },
        [=](caf::error& err) {
          LOG_ERROR(component, "cannot publish the agent on port " << self->state.opts.port << ": "
                                                                   << render(self, err));
          self->quit(err);
        });
  } else {
    try_register(self);
  }
  self->delayed_send(self, st.opts.tick_interval, atom::tick_v);

  return {
    // -- from the master --
    [=](atom::run_task, const framework_info& fi, const task_info& ti) {
      auto& st = self->state;
      if (!from_master(self, "run_task"))
        return;
      const auto& fw = fi.id;
      executor_id eid = ti.executor ? ti.executor->id : executor_id{command_executor_id};
      auto refuse = [&](task_state state, task_reason reason, const std::string& why) {
        agent_update(self, fw, ti.id, eid, state, reason, why);
      };
      if (fw.empty() || ti.id.empty()) {
        LOG_ERROR(component, "run_task without framework ID or task ID (task '" << ti.id << "') ignored");
        return;
      }
      if (auto old = st.tasks.find(task_key{fw, ti.id}); old != st.tasks.end()) {
        if (!is_terminal(old->second.state)) {
          // Any answer would read as the state of the task that runs under this ID (the master's validation
          // refuses live duplicates, so this is a stray message).
          LOG_WARN(component, "task " << ti.id << " of framework " << fw << " is already "
                                      << to_string(old->second.state) << "; duplicate run_task ignored");
          return;
        }
        // The old incarnation ended; its terminal update stays pending under its own uuid (acks go by uuid)
        // and the new task takes over the entry.
        LOG_INFO(component, "task ID " << ti.id << " of framework " << fw << " reused (the old task is "
                                       << to_string(old->second.state) << ")");
        if (auto ex = st.executors.find(executor_key{fw, old->second.executor}); ex != st.executors.end()) {
          auto& q = ex->second.queued;
          q.erase(std::remove(q.begin(), q.end(), ti.id), q.end());
        }
        st.tasks.erase(old);
      }
      if (st.shutting_down)
        return refuse(task_state::dropped, task_reason::agent_restarted, "the agent is shutting down");
      if (!is_safe_path_component(fw.str()) || !is_safe_path_component(ti.id.str()))
        return refuse(task_state::error, task_reason::task_invalid,
                      "framework and task IDs may only contain [A-Za-z0-9._-] and must not be . or ..");
      if (st.id.empty() || !is_safe_path_component(st.id.str()))
        return refuse(task_state::dropped, task_reason::agent_unknown,
                      "the agent is not registered (or has an unusable agent ID)");
      if (!st.registered)
        // Sent under the registration the agent gave up (no pings: it re-registers). Its re-registration did not
        // list the task, so the master ends it as not known here; running it now would run a task already
        // reported gone (Mesos' agent, likewise, ignores launches while it is not registered).
        return refuse(task_state::dropped, task_reason::agent_disconnected,
                      "the agent is re-registering with the master: launch dropped");
      if (bool(ti.command) == bool(ti.executor))
        return refuse(task_state::error, task_reason::task_invalid,
                      "a task needs exactly one of command and executor");
      executor_info info;
      if (ti.executor) {
        info = *ti.executor;
        if (!is_safe_path_component(info.id.str()))
          return refuse(task_state::error, task_reason::task_invalid,
                        "executor IDs may only contain [A-Za-z0-9._-] and must not be . or ..");
        if (info.id.str() == command_executor_id)
          return refuse(task_state::error, task_reason::task_invalid,
                        std::string{"executor ID '"} + command_executor_id + "' is reserved");
        if (!info.framework.empty() && info.framework != fw)
          return refuse(task_state::error, task_reason::task_invalid, "executor belongs to another framework");
        if (info.command.value.empty() && info.command.arguments.empty())
          return refuse(task_state::error, task_reason::task_invalid, "executor has no command");
      } else {
        info.id = eid;
        info.framework = fw;
        info.name = "command executor";
        info.command.shell = false;
        info.command.value = st.opts.executor_binary;
        info.command.arguments = {st.opts.executor_binary, "command-executor"};
      }
      auto ex = st.executors.find(executor_key{fw, eid});
      if (ex != st.executors.end()) {
        if (ex->second.state == executor_entry::phase::terminating)
          return refuse(task_state::dropped, task_reason::executor_terminated,
                        "executor '" + eid.str() + "' is terminating");
        if (ex->second.command != !ti.executor)
          return refuse(task_state::error, task_reason::task_invalid, "executor ID in use by another kind");
      }
      auto volumes = task_volumes(ti);
      if (auto err = check_volumes_known(st.total, volumes); !err.empty())
        return refuse(task_state::error, task_reason::task_invalid, err);
      bool new_framework = st.frameworks.count(fw) == 0;
      st.frameworks[fw] = fi;
      if (new_framework && fi.checkpoint)
        disk_write(self, framework_record_path(fw), encode_frame(fi));
      auto& t = st.tasks[task_key{fw, ti.id}];
      t.info = ti;
      t.executor = eid;
      t.state = task_state::staging;
      auto& e = ex != st.executors.end() ? ex->second : launch_executor(self, fw, std::move(info), !ti.executor);
      if (fi.checkpoint) {
        // Queued before the task goes anywhere (disk jobs run in order, before any of its updates).
        task_record r;
        r.framework = fw;
        r.info = ti;
        r.executor = eid;
        // The executor gets the task only once the record is on disk: an agent restarted in between would not
        // know the task, and its end (reported by the executor) would be dropped.
        t.record_pending = true;
        t.record_id = st.next_prepare_id++;
        disk_write(self, task_record_path(fw, ti.id), encode_frame(r), false, false,
                   [=, key = task_key{fw, ti.id}, record_id = t.record_id](const std::string&) {
                     auto& st = self->state;
                     auto i = st.tasks.find(key);
                     if (i == st.tasks.end() || i->second.record_id != record_id || !i->second.record_pending)
                       return;
                     i->second.record_pending = false;
                     auto ex = st.executors.find(executor_key{key.first, i->second.executor});
                     if (ex != st.executors.end() && ex->second.state == executor_entry::phase::registered)
                       send_launch(self, ex->second, key.second);
                   });
      }
      if (!volumes.empty()) {
        // The command executor runs each task in <sandbox>/tasks/<task ID>; a custom executor's tasks share its
        // sandbox.
        auto dir = e.command ? sandbox_path(e.sandbox, {"tasks", ti.id.str()}) : e.sandbox;
        t.ready = false;
        t.prepare_id = st.next_prepare_id++;
        prepare_volumes(self, task_key{fw, ti.id}, t.prepare_id, dir, volumes);
      }
      if (e.state == executor_entry::phase::registered) {
        send_launch(self, e, ti.id);
      } else {
        LOG_DEBUG(component, "task " << ti.id << " waits for executor " << eid);
        e.queued.push_back(ti.id);
      }
    },
    [=](atom::kill_task, const framework_id& fw, const task_id& tid) {
      auto& st = self->state;
      if (!from_master(self, "kill_task"))
        return;
      auto t = st.tasks.find(task_key{fw, tid});
      if (t == st.tasks.end()) {
        LOG_WARN(component, "kill of unknown task " << tid << " of framework " << fw);
        agent_update(self, fw, tid, executor_id{}, task_state::lost, task_reason::none,
                     "the agent does not know this task");
        return;
      }
      if (is_terminal(t->second.state)) {
        // Its terminal update is not acknowledged yet (else the entry would be gone): the master evidently
        // has not seen it, so send it again now.
        auto pending = st.updates.pending_updates(fw, tid);
        LOG_INFO(component, "kill of task " << tid << " which is already " << to_string(t->second.state)
                                            << ": resending the oldest of its " << pending.size()
                                            << " pending update(s)");
        if (!pending.empty()) {
          auto head = std::move(pending.front());
          head.latest_state = st.updates.latest_state(fw, tid).value_or(head.status.state);
          after_disk(self, [=] { send_to_master(self, head); });
        }
        return;
      }
      auto ex = st.executors.find(executor_key{fw, t->second.executor});
      if (ex == st.executors.end() || !t->second.launched) {
        if (ex != st.executors.end()) {
          auto& q = ex->second.queued;
          q.erase(std::remove(q.begin(), q.end(), tid), q.end());
        }
        agent_update(self, fw, tid, t->second.executor, task_state::killed, task_reason::task_killed_during_launch,
                     "killed before its executor registered");
        return;
      }
      if (ex->second.state == executor_entry::phase::disconnected)
        ex->second.kills_pending.push_back(tid);   // sent when it is back (or its end fails the task anyway)
      else if (ex->second.handle)
        self->send(ex->second.handle, atom::kill_task_v, tid);
    },
    [=](atom::ack, const framework_id& fw, const task_id& tid, const std::string& uuid) {
      auto& st = self->state;
      if (!from_master(self, "ack"))
        return;
      auto acked = st.updates.acknowledge(fw, tid, uuid, now(self));
      if (!acked.matched) {
        LOG_DEBUG(component, "ignoring unknown, unexpected or duplicate ack " << uuid << " for task " << tid);
        return;
      }
      bool cp = checkpoints(st, fw);
      if (cp) {
        update_record r;
        r.is_ack = true;
        r.uuid = uuid;
        // The next update goes out after this job: by then its own (earlier, synced) append is done too.
        auto next = acked.next ? acked.next->status.uuid : std::string{};
        disk_write(self, task_updates_path(fw, tid), encode_frame(r), true, false, [=](const std::string&) {
          if (!next.empty())
            forward_if_head(self, fw, tid, next);
        });
      } else if (acked.next) {
        send_to_master(self, std::move(*acked.next));
      }
      // A terminal task whose updates all arrived is done here (unless its ID was reused by a live task).
      if (acked.stream_done) {
        auto t = st.tasks.find(task_key{fw, tid});
        if (t == st.tasks.end() || is_terminal(t->second.state)) {
          if (t != st.tasks.end())
            st.tasks.erase(t);
          if (cp)
            disk_forget(self, task_dir(fw, tid));
        }
      }
    },
    [=](atom::fw_msg, const framework_id& fw, const executor_id& eid, const std::string& data) {
      auto& st = self->state;
      if (!from_master(self, "fw_msg"))
        return;
      auto ex = st.executors.find(executor_key{fw, eid});
      if (ex == st.executors.end() || ex->second.state != executor_entry::phase::registered) {
        LOG_WARN(component, "dropping framework message for executor " << eid << " of framework " << fw
                                                                        << ": not running");
        return;
      }
      self->send(ex->second.handle, atom::fw_msg_v, data);
    },
    [=](atom::apply_op, const framework_id& fw, const offer_operation& op) {
      auto& st = self->state;
      if (!from_master(self, "apply_op"))
        return;
      // The master validated the operation for the framework; a failure here means the master's view of this
      // agent differs from ours, and acting on it could lose data: refuse loudly, change nothing.
      resource_conversion conv;
      resource_set new_total;
      if (auto err = apply_agent_operation(st.total, op, conv, new_total); !err.empty()) {
        LOG_ERROR(component, "ignoring " << operation_name(op.type) << " " << op.resources << " of framework "
                                         << fw << ": " << err << " (agent total " << st.total << ")");
        return;
      }
      if (op.type == operation_type::destroy) {
        for (const auto& [key, t] : st.tasks) {
          if (is_terminal(t.state))
            continue;
          const auto vols_v = op.resources.volumes();
          for (const auto& v : vols_v.items())
            if (task_volumes(t.info).has_volume(v.volume_id)) {
              LOG_ERROR(component, "ignoring DESTROY of volume " << v.volume_id << " of framework " << fw
                                                                 << ": task " << key.second << " uses it");
              return;
            }
        }
      }
      LOG_INFO(component, operation_name(op.type) << " " << op.resources << " for framework " << fw
                                                  << "; total now " << new_total);
      st.total = std::move(new_total);
      // The worker checkpoints the new total before it creates or deletes anything, and handles jobs in order:
      // a task launched with a new volume right after this gets linked only once the directory exists.
      auto type = op.type;
      self->request(st.disk, caf::infinite, atom::apply_op_v, st.total, op)
        .then(
          [=](const std::string& err) {
            if (!err.empty())
              LOG_ERROR(component, operation_name(type) << " on disk: " << err);
          },
          [=](caf::error& err) {
            LOG_ERROR(component, operation_name(type) << " on disk: " << render(self, err));
          });
    },
    [=](atom::shutdown_fw, const framework_id& fw) {
      auto& st = self->state;
      if (!from_master(self, "shutdown_fw"))
        return;
      LOG_INFO(component, "shutting down framework " << fw);
      if (checkpoints(st, fw))
        disk_forget(self, framework_dir(fw));
      st.frameworks.erase(fw);
      for (auto& [key, e] : st.executors) {
        if (key.first != fw)
          continue;
        e.framework_removed = true;
        e.queued.clear();
        if (e.state != executor_entry::phase::terminating)
          shutdown_executor(self, e);
      }
      for (auto i = st.tasks.begin(); i != st.tasks.end();)
        i = i->first.first == fw ? st.tasks.erase(i) : std::next(i);
      st.updates.remove_framework(fw);
    },
    // -- from executors --
    [=](atom::reg_exec, const framework_id& fw, const executor_id& eid, const executor_actor& hdl) {
      auto& st = self->state;
      auto rp = self->make_response_promise<executor_registration>();
      auto ex = st.executors.find(executor_key{fw, eid});
      if (!hdl) {
        rp.deliver(caf::make_error(caf::sec::invalid_argument, "registration without an executor handle"));
        return rp;
      }
      if (ex == st.executors.end()) {
        LOG_WARN(component, "unknown executor " << eid << " of framework " << fw << " tried to register");
        rp.deliver(caf::make_error(caf::sec::invalid_argument, "unknown executor " + eid.str()));
        return rp;
      }
      auto& e = ex->second;
      if (e.state == executor_entry::phase::recovering) {
        // Started by the last agent process but never registered with it: it knows no task.
        rp.deliver(readopt_executor(self, e, hdl, {}, {}));
        maybe_finish_recovery(self);
        return rp;
      }
      if (e.state == executor_entry::phase::registered && e.handle == hdl) {
        // Its repeat after a slow answer: the same answer (its queued tasks went out after the first).
        rp.deliver(registration_of(st, e));
        return rp;
      }
      if (e.state != executor_entry::phase::launching) {
        LOG_WARN(component, "executor " << eid << " of framework " << fw << " registered twice or too late");
        rp.deliver(caf::make_error(caf::sec::invalid_argument,
                                   "executor " + eid.str() + " is already registered or terminating"));
        return rp;
      }
      e.handle = hdl;
      e.state = executor_entry::phase::registered;
      self->monitor(e.handle);
      LOG_INFO(component, "executor " << eid << " of framework " << fw << " registered");
      // The reply goes out before the queued tasks so the executor knows its context when they arrive.
      rp.deliver(registration_of(st, e));
      auto queued = std::move(e.queued);
      e.queued.clear();
      for (auto& tid : queued)
        send_launch(self, e, tid);
      return rp;
    },
    [=](atom::rereg_exec, const framework_id& fw, const executor_id& eid, const executor_actor& hdl,
        const std::vector<task_info>& tasks, const std::vector<status_update>& updates) {
      auto& st = self->state;
      auto rp = self->make_response_promise<executor_registration>();
      if (!hdl) {
        rp.deliver(caf::make_error(caf::sec::invalid_argument, "re-registration without an executor handle"));
        return rp;
      }
      auto ex = st.executors.find(executor_key{fw, eid});
      if (ex != st.executors.end() && ex->second.state == executor_entry::phase::registered
          && !ex->second.kill_sent) {
        // A retry (our earlier reply was slow or lost, or its connection broke and came back): the same
        // executor, now reachable through this handle. Refusing would make it kill healthy tasks.
        auto& e = ex->second;
        if (e.handle != hdl) {
          self->demonitor(e.handle.address());
          e.handle = hdl;
          self->monitor(e.handle);
        }
        LOG_INFO(component, "executor " << eid << " of framework " << fw << " re-registered again");
        rp.deliver(registration_of(st, e));
        for (auto& u : updates)
          take_update(self, hdl, u);
        return rp;
      }
      if (ex != st.executors.end() && ex->second.state == executor_entry::phase::disconnected) {
        // Back after its connection broke: it carries on; what waited for it goes out after the reply.
        auto& e = ex->second;
        e.handle = hdl;
        e.state = executor_entry::phase::registered;
        self->monitor(e.handle);
        LOG_INFO(component, "executor " << eid << " of framework " << fw << " reconnected with " << tasks.size()
                                        << " task(s) and " << updates.size() << " unacknowledged update(s)");
        rp.deliver(registration_of(st, e));
        for (auto& u : updates)
          take_update(self, hdl, u);
        auto queued = std::move(e.queued);
        e.queued.clear();
        for (auto& tid : queued)
          send_launch(self, e, tid);
        auto kills = std::move(e.kills_pending);
        e.kills_pending.clear();
        for (auto& tid : kills)
          self->send(e.handle, atom::kill_task_v, tid);
        return rp;
      }
      if (ex == st.executors.end() || ex->second.state != executor_entry::phase::recovering) {
        // Only executors of the last agent process, while it waits for them: anything else would let a stray
        // executor claim tasks. The executor kills its tasks and exits on this error.
        LOG_WARN(component, "executor " << eid << " of framework " << fw << " tried to re-register, but "
                                        << (ex == st.executors.end() ? "the agent does not know it"
                                                                     : "it is not being recovered"));
        rp.deliver(caf::make_error(caf::sec::invalid_argument,
                                   "the agent does not expect executor " + eid.str() + " to re-register"));
        return rp;
      }
      rp.deliver(readopt_executor(self, ex->second, hdl, tasks, updates));
      // Its unacknowledged updates are taken over as if just sent (duplicates of what the agent has are acked
      // and dropped by uuid).
      for (auto& u : updates)
        take_update(self, hdl, u);
      maybe_finish_recovery(self);
      return rp;
    },
    [=](atom::update, const status_update& su) {
      auto& st = self->state;
      // Only the executor that runs the task may report on it. For a task the agent no longer knows, any
      // executor of the framework gets its ack (it would retry forever otherwise).
      auto t = st.tasks.find(task_key{su.framework, su.status.task});
      executor_actor owner;
      if (t != st.tasks.end()) {
        auto ex = st.executors.find(executor_key{su.framework, t->second.executor});
        if (ex != st.executors.end() && sent_by(self, ex->second.handle.address()))
          owner = ex->second.handle;
      } else {
        for (auto& [key, e] : st.executors)
          if (key.first == su.framework && sent_by(self, e.handle.address()))
            owner = e.handle;
      }
      if (!owner) {
        LOG_WARN(component, "ignoring " << to_string(su.status.state) << " for task " << su.status.task
                                        << " of framework " << su.framework << " from " << describe_sender(self)
                                        << ": not the executor of that task");
        return;
      }
      take_update(self, owner, su);
    },
    [=](atom::exec_msg, const framework_id& fw, const executor_id& eid, const std::string& data) {
      auto& st = self->state;
      auto ex = st.executors.find(executor_key{fw, eid});
      if (ex == st.executors.end() || !sent_by(self, ex->second.handle.address())) {
        LOG_WARN(component, "ignoring message for framework " << fw << " claiming executor " << eid << " from "
                                                             << describe_sender(self)
                                                             << ": not that executor's registered actor");
        return;
      }
      if (!st.registered || !st.master) {
        LOG_WARN(component, "dropping message of executor " << eid << ": not registered with a master");
        return;
      }
      self->send(st.master, atom::exec_msg_v, fw, st.id, eid, data);
    },
    // -- internal --
    [=](atom::exited, const container_id& cid, int32_t status) {
      auto& st = self->state;
      auto i = st.by_container.find(cid);
      if (i == st.by_container.end()) {
        LOG_DEBUG(component, "exit of unknown container " << cid);
        return;
      }
      auto key = i->second;
      auto& e = st.executors[key];
      if (e.state == executor_entry::phase::recovering) {
        recovered_executor_gone(self, key, "exited before it re-registered");
        return;
      }
      auto text = "executor '" + e.info.id.str() + "' " + describe_wait_status(status);
      LOG_INFO(component, text << " (framework " << e.framework << ")");
      fail_tasks(self, e, task_state::failed, task_reason::executor_terminated, text);
      if (!e.command && !e.framework_removed && st.registered && st.master)
        self->send(st.master, atom::exec_lost_v, e.framework, st.id, e.info.id, status);
      erase_executor(self, key);
    },
    [=](atom::tick) { on_tick(self); },
    [=](atom::leader, const master_location& loc) { on_leader(self, loc); },
    // -- health, failover, partitions --
    [=](atom::ping) -> agent_id {
      auto& st = self->state;
      auto t = now(self);
      if (st.last_ping != time_point{})
        st.ping_gap = std::chrono::duration_cast<caf::timespan>(t - st.last_ping);
      st.last_ping = t;
      return st.id;
    },
    [=](atom::resend, const framework_id& fw) {
      auto& st = self->state;
      if (!from_master(self, "resend"))
        return;
      auto heads = st.updates.heads(fw, now(self));
      LOG_INFO(component, "framework " << fw << " failed over: resending " << heads.size()
                                       << " pending update(s)");
      // Heads may have been recorded a moment ago: only what is on disk goes out.
      after_disk(self, [=] { send_to_master(self, heads); });
    },
    [=](atom::rereg_agent) {
      auto& st = self->state;
      if (!from_master(self, "rereg_agent"))
        return;
      if (st.registering || st.recovering || st.shutting_down)
        return;
      LOG_WARN(component, "the master does not consider this agent registered: re-registering");
      st.registered = false;
      ++st.master_generation;  // replies to anything sent under the old registration are stale
      st.backoff = st.opts.registration_backoff_min;
      try_register(self);
    },
    // -- introspection --
    [=](atom::state) {
      auto& st = self->state;
      agent_snapshot snap;
      // Only once the master confirmed it (a recovered ID is not registered yet).
      if (st.registered)
        snap.id = st.id;
      snap.total = st.total;
      for (auto& [key, t] : st.tasks) {
        task_summary s;
        s.id = key.second;
        s.framework = key.first;
        s.agent = st.id;
        s.name = t.info.name;
        s.state = t.state;
        s.resources = t.info.resources;
        snap.tasks.push_back(std::move(s));
      }
      snap.executors = st.executors.size();
      snap.pending_updates = st.updates.pending();
      return snap;
    },
  };
}

} // namespace

std::string load_agent_checkpoint(const std::string& work_dir, const std::string& boot_id, recovered_state& out,
                                  bool* rebooted) {
  if (rebooted)
    *rebooted = false;
  out = recovered_state{};
  if (auto err = read_checkpoint(work_dir, out); !err.empty())
    return "cannot read the checkpoint under " + work_dir + "/meta: " + err;
  for (auto& w : out.warnings)
    LOG_WARN(component, "checkpoint: " << w);
  if (out.found && out.agent.boot_id != boot_id) {
    // The machine rebooted: no executor of that run is left, and the master must not mistake us for that agent.
    LOG_WARN(component, "the host rebooted since agent " << out.agent.id << " checkpointed (boot ID "
                                                         << out.agent.boot_id << ", now " << boot_id
                                                         << "): starting as a new agent");
    if (auto err = clear_checkpoint(work_dir); !err.empty())
      return "cannot clear the checkpoint of the last boot: " + err;
    out = recovered_state{};
    if (rebooted)
      *rebooted = true;
  }
  return {};
}

size_t kill_recovered_executors(const recovered_state& state, std::chrono::milliseconds grace) {
  // Only processes that are provably the executors we started: same pid AND same start time.
  auto ours = [](int32_t pid, uint64_t start_time) {
    return pid > 0 && start_time != 0 && process_start_time(static_cast<pid_t>(pid)) == start_time;
  };
  std::vector<std::pair<int32_t, uint64_t>> signalled;
  for (auto& [fw, rf] : state.frameworks)
    for (auto& [eid, re] : rf.executors) {
      auto pid = re.record.pid;
      auto start = re.record.start_time;
      if (!ours(pid, start))
        continue;
      // SIGTERM first: the command executor then kills its tasks (they run in sessions of their own).
      LOG_INFO(component, "cleanup: stopping executor " << eid << " of framework " << fw << " (pid " << pid << ")");
      if (kill_process_group(static_cast<pid_t>(pid), SIGTERM))
        signalled.emplace_back(pid, start);
    }
  auto deadline = std::chrono::steady_clock::now() + grace;
  auto alive = [&] {
    return std::any_of(signalled.begin(), signalled.end(), [&](auto& p) { return ours(p.first, p.second); });
  };
  while (alive() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  for (auto& [pid, start] : signalled)
    if (ours(pid, start)) {
      LOG_WARN(component, "cleanup: executor pid " << pid << " outlived its grace period: SIGKILL");
      kill_process_group(static_cast<pid_t>(pid), SIGKILL);
    }
  return signalled.size();
}

std::string executor_runs_dir(const std::string& work_dir, const agent_id& agent, const framework_id& fw,
                              const executor_id& exec) {
  return sandbox_path(work_dir, {"agents", agent.str(), "frameworks", fw.str(), "executors", exec.str(), "runs"});
}

agent_actor spawn_agent(caf::actor_system& sys, agent_options opts) {
  // Blocking reads and, for cleanup, waits: here on the caller's thread, before the actor exists.
  if (opts.boot_id.empty())
    opts.boot_id = read_boot_id();
  std::string error;
  auto recovered = std::move(opts.recovered);
  opts.recovered = nullptr;
  if (!recovered) {
    auto fresh = std::make_shared<recovered_state>();
    error = load_agent_checkpoint(opts.work_dir, opts.boot_id, *fresh);
    recovered = std::move(fresh);
  }
  if (error.empty() && opts.recover == recover_mode::cleanup && recovered->found) {
    auto n = kill_recovered_executors(*recovered,
                                      std::chrono::duration_cast<std::chrono::milliseconds>(opts.container_kill_grace));
    LOG_INFO(component, "cleanup: stopped " << n << " executor(s) of the last run");
    error = clear_checkpoint(opts.work_dir);
    recovered = std::make_shared<recovered_state>();
  }
  // Reservations and volumes of an earlier run (one small read), unless the caller recovered them already.
  if (error.empty() && !opts.recovered_total) {
    resource_set total;
    error = recover_agent_resources(opts.work_dir, opts.resources, total);
    opts.recovered_total = std::move(total);
  }
  // One code path: without a detector, a standalone one names the configured master forever.
  if (!opts.detector) {
    master_location loc;
    if (opts.master) {
      loc.id = "in-process master " + std::to_string(opts.master.id());
      loc.handle = caf::actor_cast<caf::actor>(opts.master);
    } else if (!opts.master_host.empty()) {
      loc.host = opts.master_host;
      loc.port = opts.master_port;
      loc.id = loc.endpoint();
    }
    if (!loc.empty())
      opts.detector = make_standalone_detector(std::move(loc));
  }
  return sys.spawn(agent, std::move(opts), std::move(recovered), std::move(error));
}

} // namespace mesoscaf
