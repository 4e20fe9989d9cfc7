#include "actors/agent.hpp"

#include "actors/agent_disk_worker.hpp"
#include "actors/agent_resources.hpp"
#include "actors/status_update_manager.hpp"
#include "config/logging.hpp"
#include "containerizer/containerizer_actor.hpp"
#include "containerizer/launcher.hpp"

#include <caf/actor_system.hpp>
#include <caf/all.hpp>
#include <caf/io/middleman.hpp>
#include <caf/io/middleman_actor.hpp>

#include <algorithm>
#include <cstdlib>
#include <set>
#include <utility>
#include <vector>

#ifndef MESOSCAF_DEFAULT_BINARY
#define MESOSCAF_DEFAULT_BINARY "mesoscaf"
#endif

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
  };
  framework_id framework;
  executor_info info;
  bool command = false;         // the built-in command executor
  container_id container;
  std::string sandbox;
  phase state = phase::launching;
  executor_actor handle;
  int32_t pid = -1;
  time_point launched_at;
  std::vector<task_id> queued;  // tasks waiting for registration, in arrival order
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
  master_actor master;
  agent_id id;
  bool registered = false;
  bool connecting = false;      // connect request in flight
  bool registering = false;     // reg_agent request in flight
  uint64_t master_generation = 0;  // bumped when the master handle changes: stale replies are ignored
  caf::timespan backoff{0};
  time_point next_attempt;
  bool published = false;       // port known (published by us or by the caller)

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

// -- status updates -------------------------------------------------------------------------------------

void send_to_master(agent_ptr self, status_update u) {
  auto& st = self->state;
  if (!st.registered || !st.master)
    return;
  // Stamped when sending, not when recording: the master may have given us a new ID since.
  u.status.agent = st.id;
  self->send(st.master, atom::update_v, std::move(u));
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

// Records the latest state of a task, remembers the update until the master acknowledges it and forwards it.
void handle_update(agent_ptr self, status_update u) {
  auto& st = self->state;
  auto t = st.tasks.find(task_key{u.framework, u.status.task});
  if (t != st.tasks.end()) {
    t->second.state = u.status.state;
    if (u.status.executor.empty())
      u.status.executor = t->second.executor;
  }
  switch (st.updates.add(u, now(self))) {
    case status_update_manager::add_result::added:
      LOG_DEBUG(component, "update " << to_string(u.status.state) << " for task " << u.status.task
                                     << " of framework " << u.framework);
      send_to_master(self, u);
      break;
    case status_update_manager::add_result::duplicate:
      LOG_DEBUG(component, "duplicate update " << u.status.uuid << " for task " << u.status.task);
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

// -- executors ------------------------------------------------------------------------------------------

// Every task of the executor that is not terminal yet (queued or running) gets `state`.
void fail_tasks(agent_ptr self, executor_entry& e, task_state state, task_reason reason,
                const std::string& message) {
  auto& st = self->state;
  for (auto& [key, t] : st.tasks)
    if (key.first == e.framework && t.executor == e.info.id && !is_terminal(t.state))
      agent_update(self, key.first, key.second, e.info.id, state, reason, message);
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
  st.by_container.erase(i->second.container);
  st.executors.erase(i);
  maybe_finish_shutdown(self);
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
  return sandbox_path(st.opts.work_dir, {"agents", st.id.str(), "frameworks", fw.str(), "executors", exec.str(),
                                         "runs", cid.str()});
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
  spec.environment["MESOSCAF_AGENT_ENDPOINT"] = "127.0.0.1:" + std::to_string(st.opts.port);
  spec.environment["MESOSCAF_FRAMEWORK_ID"] = fw.str();
  spec.environment["MESOSCAF_EXECUTOR_ID"] = e.info.id.str();
  spec.environment["MESOSCAF_AGENT_ID"] = st.id.str();
  spec.environment["MESOSCAF_SANDBOX"] = e.sandbox;
  if (auto level = std::getenv("MESOSCAF_LOG_LEVEL"))
    spec.environment["MESOSCAF_LOG_LEVEL"] = level;
  LOG_INFO(component, "launching executor " << e.info.id << " of framework " << fw << " in container "
                                            << e.container);
  auto cid = e.container;
  self->request(st.containerizer, st.opts.request_timeout, atom::launch_v, spec)
    .then(
      [=](int32_t pid) {
        auto& st = self->state;
        auto i = st.by_container.find(cid);
        if (i == st.by_container.end())
          return;
        st.executors[i->second].pid = pid;
        LOG_DEBUG(component, "container " << cid << " runs as pid " << pid);
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
  if (t == st.tasks.end() || is_terminal(t->second.state) || !t->second.ready || t->second.launched)
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
void forget_old_incarnation(agent_ptr self, const agent_id& old_id, const agent_id& new_id) {
  auto& st = self->state;
  LOG_WARN(component, "the master registered this agent under a NEW agent ID " << new_id << " (was " << old_id
                        << "): shutting down " << st.executors.size() << " executor(s), dropping "
                        << st.tasks.size() << " task(s) and " << st.updates.pending()
                        << " unacknowledged update(s) of the old agent, which the master considers lost");
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

void on_registered(agent_ptr self, const agent_id& id) {
  auto& st = self->state;
  if (!st.id.empty() && st.id != id)
    forget_old_incarnation(self, st.id, id);
  st.id = id;
  st.registered = true;
  st.backoff = st.opts.registration_backoff_min;
  LOG_INFO(component, "registered with the master as agent " << id);
  // Updates recorded while unregistered (or lost with the previous master) go out now.
  for (auto& u : st.updates.all_pending(now(self)))
    send_to_master(self, std::move(u));
}

void try_register(agent_ptr self);

void connect_to_master(agent_ptr self) {
  auto& st = self->state;
  st.connecting = true;
  auto gen = st.master_generation;
  auto mm = self->system().middleman().actor_handle();
  LOG_DEBUG(component, "connecting to master at " << st.opts.master_host << ":" << st.opts.master_port);
  self->request(mm, st.opts.request_timeout, caf::connect_atom::value, st.opts.master_host, st.opts.master_port)
    .then(
      [=](const caf::node_id&, caf::strong_actor_ptr& ptr, const std::set<std::string>& ifs) {
        auto& st = self->state;
        if (gen != st.master_generation || st.shutting_down)
          return;
        st.connecting = false;
        if (!ptr) {
          LOG_WARN(component, "no actor published at " << st.opts.master_host << ":" << st.opts.master_port);
          schedule_retry(self);
          return;
        }
        if (!self->system().assignable<master_actor>(ifs)) {
          LOG_ERROR(component, "the actor at " << st.opts.master_host << ":" << st.opts.master_port
                                               << " is not a mesoscaf master");
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
        LOG_WARN(component, "cannot connect to master at " << st.opts.master_host << ":" << st.opts.master_port
                                                           << ": " << render(self, err));
        schedule_retry(self);
      });
}

void try_register(agent_ptr self) {
  auto& st = self->state;
  if (st.registered || st.registering || st.connecting || st.shutting_down || !st.published)
    return;
  if (!st.master) {
    if (st.opts.master_host.empty()) {
      LOG_ERROR(component, "no master handle and no master endpoint configured");
      schedule_retry(self);
      return;
    }
    connect_to_master(self);
    return;
  }
  agent_info info;
  // A fresh registration each time for now: the master assigns an ID (re-registration keeping the ID and
  // reporting running tasks comes with agent recovery).
  info.hostname = st.opts.hostname;
  info.port = st.opts.port;
  info.total = st.total;
  info.attributes = st.opts.attributes;
  st.registering = true;
  auto gen = st.master_generation;
  self->request(st.master, st.opts.request_timeout, atom::reg_agent_v, info, me(self))
    .then(
      [=](const agent_id& id) {
        auto& st = self->state;
        if (gen != st.master_generation || st.shutting_down)
          return;
        st.registering = false;
        if (id.empty()) {
          LOG_ERROR(component, "master answered the registration with an empty agent ID");
          schedule_retry(self);
          return;
        }
        on_registered(self, id);
      },
      [=](caf::error& err) {
        auto& st = self->state;
        if (gen != st.master_generation || st.shutting_down)
          return;
        st.registering = false;
        LOG_WARN(component, "registration failed: " << render(self, err));
        schedule_retry(self);
      });
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
  // A proxy does not heal: connect again. A handle given by the caller is all we have, so keep it.
  if (!st.opts.master)
    st.master = nullptr;
  st.backoff = st.opts.registration_backoff_min;
  schedule_retry(self);
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
  if (st.shutting_down && t >= st.quit_at) {
    LOG_WARN(component, st.executors.size() << " executor(s) did not exit in time; agent exits anyway");
    self->quit(st.exit_reason);
    return;
  }
  if (!st.shutting_down) {
    if (!st.registered && !st.registering && !st.connecting && t >= st.next_attempt)
      try_register(self);
    if (st.registered)
      for (auto& u : st.updates.due(t))
        send_to_master(self, std::move(u));
  }
  std::vector<executor_key> timed_out;
  for (auto& [key, e] : st.executors) {
    if (e.state == executor_entry::phase::launching
        && t - e.launched_at >= st.opts.executor_registration_timeout)
      timed_out.push_back(key);
    if (e.kill_at && t >= *e.kill_at)
      kill_container(self, e);
  }
  for (auto& key : timed_out) {
    auto& e = st.executors[key];
    auto msg = "executor '" + e.info.id.str() + "' did not register within "
               + std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                  st.opts.executor_registration_timeout).count())
               + " ms";
    LOG_WARN(component, msg);
    fail_tasks(self, e, task_state::failed, task_reason::executor_registration_timeout, msg);
    e.state = executor_entry::phase::terminating;
    kill_container(self, e);
  }
  self->delayed_send(self, st.opts.tick_interval, atom::tick_v);
}

// -- behaviour ------------------------------------------------------------------------------------------

agent_actor::behavior_type agent(agent_ptr self, agent_options opts) {
  auto& st = self->state;
  if (opts.executor_binary.empty())
    opts.executor_binary = MESOSCAF_DEFAULT_BINARY;
  if (opts.tick_interval <= caf::timespan{0})
    opts.tick_interval = std::chrono::milliseconds(100);
  st.opts = std::move(opts);
  st.updates = status_update_manager{st.opts.update_retry_min, st.opts.update_retry_max};
  st.backoff = st.opts.registration_backoff_min;
  st.next_attempt = now(self);
  st.master = st.opts.master;
  st.published = !st.opts.publish;
  // Reservations and volumes of an earlier run (one small read; the daemon did the same check before spawning
  // us and exits 1 on a mismatch, so this only fails for embedders that skipped it).
  if (auto err = recover_agent_resources(st.opts.work_dir, st.opts.resources, st.total); !err.empty()) {
    LOG_ERROR(component, "cannot start: " << err);
    self->quit(caf::make_error(caf::sec::runtime_error, err));
    return agent_actor::behavior_type::make_empty_behavior();
  }
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
    // For now executors do not outlive their agent.
    copts.kill_on_exit = true;
    st.containerizer = spawn_containerizer(self->system(), me(self), copts);
  }
  self->monitor(st.containerizer);
  // The containerizer also watches us; this makes it go at once when we do.
  self->attach_functor([c = st.containerizer](const caf::error&) {
    caf::anon_send_exit(c, caf::exit_reason::user_shutdown);
  });
  if (st.master)
    self->monitor(st.master);

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
      st.frameworks[fw] = fi;
      auto& t = st.tasks[task_key{fw, ti.id}];
      t.info = ti;
      t.executor = eid;
      t.state = task_state::staging;
      auto& e = ex != st.executors.end() ? ex->second : launch_executor(self, fw, std::move(info), !ti.executor);
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
                                            << ": resending its " << pending.size() << " pending update(s)");
        for (auto& u : pending)
          send_to_master(self, std::move(u));
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
      if (ex->second.handle)
        self->send(ex->second.handle, atom::kill_task_v, tid);
    },
    [=](atom::ack, const framework_id& fw, const task_id& tid, const std::string& uuid) {
      auto& st = self->state;
      if (!from_master(self, "ack"))
        return;
      auto acked = st.updates.acknowledge(fw, tid, uuid);
      if (!acked) {
        LOG_DEBUG(component, "ignoring unknown or duplicate ack " << uuid << " for task " << tid);
        return;
      }
      // A terminal task whose updates all arrived is done here.
      auto t = st.tasks.find(task_key{fw, tid});
      if (t != st.tasks.end() && is_terminal(t->second.state) && st.updates.pending(fw, tid) == 0)
        st.tasks.erase(t);
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
      executor_registration reg;
      reg.executor = e.info;
      reg.framework = fw;
      if (auto f = st.frameworks.find(fw); f != st.frameworks.end())
        reg.framework_name = f->second.name;
      reg.agent = st.id;
      reg.sandbox = e.sandbox;
      // The reply goes out before the queued tasks so the executor knows its context when they arrive.
      rp.deliver(std::move(reg));
      auto queued = std::move(e.queued);
      e.queued.clear();
      for (auto& tid : queued)
        send_launch(self, e, tid);
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
      // The agent takes the update over at once: the executor stops retrying it.
      if (!su.status.uuid.empty())
        self->send(owner, atom::ack_v, su.status.task, su.status.uuid);
      if (t == st.tasks.end()) {
        // Executors only report tasks the agent gave them, so the agent dropped this one on purpose: normal while
        // a framework shuts down (its executor reports the kills) or after re-registering with a new ID.
        LOG_DEBUG(component, "dropping " << to_string(su.status.state) << " for unknown task " << su.status.task
                                         << " of framework " << su.framework);
        return;
      }
      if (is_terminal(t->second.state)) {
        // E.g. the agent failed the task when its executor disconnected: the terminal state stands.
        LOG_WARN(component, "dropping " << to_string(su.status.state) << " for task " << su.status.task
                                        << " which is already " << to_string(t->second.state));
        return;
      }
      status_update u = su;
      if (u.status.uuid.empty())
        u.status.uuid = new_uuid();
      u.status.executor = t->second.executor;
      handle_update(self, std::move(u));
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
      auto text = "executor '" + e.info.id.str() + "' " + describe_wait_status(status);
      LOG_INFO(component, text << " (framework " << e.framework << ")");
      fail_tasks(self, e, task_state::failed, task_reason::executor_terminated, text);
      if (!e.command && !e.framework_removed && st.registered && st.master)
        self->send(st.master, atom::exec_lost_v, e.framework, st.id, e.info.id, status);
      erase_executor(self, key);
    },
    [=](atom::tick) { on_tick(self); },
    // -- introspection --
    [=](atom::state) {
      auto& st = self->state;
      agent_snapshot snap;
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

agent_actor spawn_agent(caf::actor_system& sys, agent_options opts) {
  return sys.spawn(agent, std::move(opts));
}

} // namespace mesoscaf
