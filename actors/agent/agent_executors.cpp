// Executors and their tasks at the agent: launching an executor's container, its (re-)registration, handing it
// tasks (run_task), kills, framework messages, shutdowns, and its end (disconnect, container exit, timeouts).
#include "actors/agent/agent_resources.hpp"
#include "actors/tls.hpp"
#include "actors/agent/agent_state.hpp"

#include "config/support/logging.hpp"
#include "config/support/network_address.hpp"
#include "containerizer/containerizer_actor.hpp"
#include "containerizer/launcher.hpp"
#include "containerizer/reaper.hpp"

#include <caf/actor_system_config.hpp>
#include <boost/uuid/random_generator.hpp>
#include <boost/uuid/uuid_io.hpp>

#include <cstdlib>
#include <optional>
#include <unordered_set>

namespace mesoscaf::agent_internal {

namespace {

// A task of a group: it names the DEFAULT executor (our binary runs it, like the command executor).
bool is_default_executor(const task_info& ti) {
  return ti.executor && ti.executor->type == executor_type::default_executor;
}

// Run by our own executor binary: a command task, or a task of a group.
bool builtin_executor(const task_info& ti) {
  return !ti.executor || is_default_executor(ti);
}

/// Two random UUIDs (244 random bits), as text.
std::string new_executor_secret() {
  boost::uuids::random_generator gen;
  auto a = gen(), b = gen();
  return boost::uuids::to_string(a) + boost::uuids::to_string(b);
}

/// In time independent of where they differ: the secret must not leak through the agent's answer times.
bool secret_matches(const executor_entry& e, const std::string& secret) {
  if (e.secret.size() != secret.size() || secret.empty())
    return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < secret.size(); ++i)
    diff |= static_cast<unsigned char>(e.secret[i] ^ secret[i]);
  return diff == 0;
}

void refuse_impostor(agent_ptr self, const executor_entry& e, const char* what) {
  LOG_WARN(component, "refused an attempt to " << what << " as executor " << e.info.id << " of framework "
                                               << e.framework << " from " << describe_sender(self)
                                               << ": wrong or missing secret");
}

} // namespace

// What an executor is told when it (re-)registers.
executor_registration registration_of(const agent_state& st, const executor_entry& e) {
  executor_registration reg;
  reg.executor = e.info;
  reg.framework = e.framework;
  if (auto f = st.frameworks.find(e.framework); f != st.frameworks.end()) {
    reg.framework_name = f->second.name;
    reg.framework_capabilities = f->second.capabilities;
  }
  reg.agent = st.id;
  reg.sandbox = e.sandbox;
  return reg;
}

// The executor is reachable through `hdl` from now on; its end shows as a down message.
void attach_executor(agent_ptr self, executor_entry& e, const executor_actor& hdl) {
  e.handle = hdl;
  e.state = executor_entry::phase::registered;
  self->monitor(e.handle);
}

// A command executor that dies leaves its tasks running in sessions of their own: have the containerizer kill
// the process groups the executor recorded in each live task's sandbox (pid and start time checked).
void kill_orphaned_tasks(agent_ptr self, const executor_entry& e) {
  auto& st = self->state;
  if (!e.command || e.sandbox.empty())
    return;
  std::vector<std::string> dirs;
  for (auto& [key, t] : st.tasks)
    if (key.first == e.framework && t.executor == e.info.id && !is_terminal(t.state) && t.launched)
      dirs.push_back(sandbox_path(e.sandbox, {"tasks", key.second.str()}));
  if (dirs.empty())
    return;
  if (st.containerizer)
    self->send(st.containerizer, atom::kill_v, std::move(dirs));
  else  // its restart is pending
    st.orphan_kills_pending.insert(st.orphan_kills_pending.end(), dirs.begin(), dirs.end());
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

void kill_container(agent_ptr self, executor_entry& e) {
  if (e.kill_sent)
    return;
  e.kill_sent = true;
  e.kill_at = caf::none;
  LOG_INFO(component, "killing container " << e.container << " of executor " << e.info.id);
  self->send(self->state.containerizer, atom::kill_v, e.container);
}

void erase_executor(agent_ptr self, const executor_key& key) {
  auto& st = self->state;
  auto i = st.executors.find(key);
  if (i == st.executors.end())
    return;
  if (checkpoints(st, key.first))
    disk_forget(self, executor_dir(key.first, key.second));
  schedule_sandbox_gc(self, i->second.sandbox);
  remember_finished_executor(st, key, i->second);
  st.by_container.erase(i->second.container);
  st.executors.erase(i);
  maybe_finish_shutdown(self);
}

namespace {

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
  r.secret = e.secret;
  disk_write(self, executor_record_path(e.framework, e.info.id), encode_frame(r));
}

} // namespace

// Asks an executor to shut down; its container is killed after the grace period (or now if it never
// registered).
void shutdown_executor(agent_ptr self, executor_entry& e) {
  if (e.state == executor_entry::phase::registered && e.handle) {
    self->send(e.handle, atom::shutdown_v);
    // The executor kills its tasks within the grace (each at most that long), then drains its updates.
    e.kill_at = now(self) + self->state.opts.executor_shutdown_grace + std::chrono::seconds(1);
    e.state = executor_entry::phase::terminating;
  } else {
    e.state = executor_entry::phase::terminating;
    kill_container(self, e);
  }
}

namespace {

// -- launching ------------------------------------------------------------------------------------------

// Every component was checked with is_safe_path_component before (run_task), the container ID is ours.
std::string sandbox_for(const agent_state& st, const framework_id& fw, const executor_id& exec,
                        const container_id& cid) {
  auto runs = executor_runs_dir(st.opts.work_dir, st.id, fw, exec);
  return runs.empty() ? runs : sandbox_path(runs, {cid.str()});
}

std::string mesos_duration(std::chrono::nanoseconds d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) + "ms";
}

// What a custom executor written for Mesos reads (its v1 executor library): where the agent's executor API is,
// who it is, and the token it sends as `Authorization: Bearer` (actors/http/v1_executor_api.cpp). Durations in
// Mesos' notation.
void add_mesos_environment(const agent_state& st, const executor_entry& e,
                           std::map<std::string, std::string>& env) {
  if (st.opts.http_port != 0)
    env["MESOS_AGENT_ENDPOINT"] = join_host_port(executor_dial_host(st.opts.publish_address), st.opts.http_port);
  env["MESOS_FRAMEWORK_ID"] = e.framework.str();
  env["MESOS_EXECUTOR_ID"] = e.info.id.str();
  env["MESOS_SLAVE_ID"] = st.id.str();
  env["MESOS_AGENT_ID"] = st.id.str();
  env["MESOS_DIRECTORY"] = e.sandbox;
  env["MESOS_SANDBOX"] = e.sandbox;
  env["MESOS_CONTAINER_ID"] = e.container.str();
  env["MESOS_EXECUTOR_AUTHENTICATION_TOKEN"] = e.secret;
  env["MESOS_HTTP_COMMAND_EXECUTOR"] = "0";
  env["MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD"] = mesos_duration(st.opts.executor_shutdown_grace);
  bool cp = checkpoints(st, e.framework);
  env["MESOS_CHECKPOINT"] = cp ? "1" : "0";
  if (cp) {
    // How long the executor keeps trying to re-subscribe after losing its agent, and its longest pause.
    env["MESOS_RECOVERY_TIMEOUT"] = mesos_duration(st.opts.recovery_timeout);
    env["MESOS_SUBSCRIPTION_BACKOFF_MAX"] = "1000ms";   // well inside the agent's 5 s wait for its executors
  }
}

launch_spec launch_spec_of(const agent_state& st, const executor_entry& e, const caf::actor_system_config& cfg) {
  const auto& fw = e.framework;
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
  spec.environment[env_executor_secret] = e.secret;
  // The executor reaches this agent's port over TLS with the agent's identity (as Mesos passes LIBPROCESS_SSL_*).
  if (tls_in_use()) {
    spec.environment[env_tls_cert] = cfg.openssl_certificate;
    spec.environment[env_tls_key] = cfg.openssl_key;
    spec.environment[env_tls_ca] = cfg.openssl_cafile;
  }
  // A checkpointing framework's executor outlives a crashed agent: it waits this long for the next one.
  spec.environment["MESOSCAF_CHECKPOINT"] = checkpoints(st, fw) ? "1" : "0";
  spec.environment["MESOSCAF_RECOVERY_TIMEOUT"]
    = std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(st.opts.recovery_timeout).count());
  spec.environment[env_executor_shutdown_grace]
    = std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(st.opts.executor_shutdown_grace).count());
  if (e.command) {
    spec.environment[env_fetcher_cache_dir]
      = st.opts.fetcher_cache_dir.empty() ? st.opts.work_dir + "/fetch" : st.opts.fetcher_cache_dir;
    spec.environment[env_fetcher_cache_size] = std::to_string(st.opts.fetcher_cache_bytes);
  }
  if (auto level = std::getenv("MESOSCAF_LOG_LEVEL"))
    spec.environment["MESOSCAF_LOG_LEVEL"] = level;
  if (!e.command && e.info.type == executor_type::custom)
    add_mesos_environment(st, e, spec.environment);
  // Isolation: the containerizer confines the container; the command executor confines each task in it.
  spec.resources = e.info.resources;
  const auto& iso = st.opts.isolation;
  to_environment(iso, spec.environment);
  if (iso.uses_cgroups() && st.opts.control_groups)
    spec.environment[env_container_cgroup] = container_cgroup(iso, e.container.str());
  auto f = st.frameworks.find(fw);
  std::string fw_user = f != st.frameworks.end() ? f->second.user : std::string{};
  if (e.command)
    spec.environment[env_framework_user] = fw_user;  // the executor runs as the agent's user, each task as its own
  else
    spec.user = !e.info.command.user.empty() ? e.info.command.user : fw_user;
  return spec;
}

void on_container_launched(agent_ptr self, const container_id& cid, int32_t pid) {
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
}

void on_container_launch_failed(agent_ptr self, const container_id& cid, uint64_t generation,
                                 const caf::error& err) {
  auto& st = self->state;
  auto i = st.by_container.find(cid);
  if (i == st.by_container.end())
    return;
  auto key = i->second;
  auto& e = st.executors[key];
  if (generation != st.containerizer_generation || err == caf::sec::request_receiver_down) {
    // The containerizer died before it got to the launch: its restart asks the next one (readopt_containers).
    LOG_WARN(component, "launch of executor '" << e.info.id.str() << "' lost with the containerizer; retried "
                                               "once it is restarted");
    return;
  }
  auto msg = "cannot launch executor '" + e.info.id.str() + "': " + render(self, err);
  LOG_ERROR(component, msg);
  fail_tasks(self, e, task_state::failed, task_reason::container_launch_failed, msg);
  // The master counts a custom or DEFAULT executor's resources until it hears of its end.
  if (master_tracks(e) && st.registered && st.master)
    self->send(st.master, atom::exec_lost_v, e.framework, st.id, e.info.id, int32_t{-1});
  // A timed-out launch may still have started something.
  kill_container(self, e);
  erase_executor(self, key);
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
  e.secret = new_executor_secret();
  e.launched_at = now(self);
  st.by_container[e.container] = key;
  LOG_INFO(component, "launching executor " << e.info.id << " of framework " << fw << " in container "
                                            << e.container);
  // Recorded before the process exists: a crash in between leaves a record without pid (the executor is gone).
  checkpoint_executor(self, e);
  request_launch(self, e);
  return e;
}

} // namespace

void request_launch(agent_ptr self, executor_entry& e) {
  auto& st = self->state;
  if (!st.containerizer)
    return;
  auto cid = e.container;
  auto generation = st.containerizer_generation;
  self->request(st.containerizer, st.opts.request_timeout, atom::launch_v, launch_spec_of(st, e, self->system().config()))
    .then([=](int32_t pid) { on_container_launched(self, cid, pid); },
          [=](caf::error& err) { on_container_launch_failed(self, cid, generation, err); });
}

namespace {

// A group goes to its executor in one message once every task of it is recorded and its volumes are linked; a
// task of it that ended before (killed, failed to checkpoint) takes the others with it: all start or none.
void send_group(agent_ptr self, executor_entry& e, const std::vector<task_id> members,
                group_failure_policy on_failure) {
  auto& st = self->state;
  task_group_info g;
  g.on_failure = on_failure;
  const task_id* ended = nullptr;
  bool waiting = false;
  for (const auto& id : members) {
    auto i = st.tasks.find(task_key{e.framework, id});
    if (i == st.tasks.end() || is_terminal(i->second.state)) {
      ended = ended != nullptr ? ended : &id;
      continue;
    }
    if (i->second.launched)
      return;  // sent already
    if (!i->second.ready || i->second.record_pending)
      waiting = true;
    g.tasks.push_back(i->second.info);
  }
  if (ended != nullptr) {
    for (const auto& id : members) {
      auto i = st.tasks.find(task_key{e.framework, id});
      if (i == st.tasks.end() || is_terminal(i->second.state))
        continue;
      erase_task_id(e.queued, id);
      agent_update(self, e.framework, id, e.info.id, task_state::killed, task_reason::task_killed_during_launch,
                   "task " + ended->value + " of its group ended before the group started");
    }
    return;
  }
  if (waiting)
    return;
  for (const auto& id : members)
    st.tasks[task_key{e.framework, id}].launched = true;
  update_container_limits(self, e);  // the group's limits before its tasks can use them
  self->send(e.handle, atom::launch_v, std::move(g));
}

} // namespace

bool master_tracks(const executor_entry& e) {
  return !e.command || e.info.type == executor_type::default_executor;
}

void end_unstarted_group(agent_ptr self, const framework_id& fw, const task_id& tid) {
  auto& st = self->state;
  auto t = st.tasks.find(task_key{fw, tid});
  if (t == st.tasks.end() || t->second.group.empty() || t->second.launched)
    return;
  auto ex = st.executors.find(executor_key{fw, t->second.executor});
  if (ex == st.executors.end())
    return;
  auto members = t->second.group;
  send_group(self, ex->second, members, t->second.on_failure);
}

void send_launch(agent_ptr self, executor_entry& e, const task_id& tid) {
  auto& st = self->state;
  auto t = st.tasks.find(task_key{e.framework, tid});
  if (t != st.tasks.end() && !t->second.group.empty()) {
    auto members = t->second.group;
    send_group(self, e, members, t->second.on_failure);
    return;
  }
  // A task whose volumes are still being linked goes out when the disk worker is done (prepare_volumes).
  if (t == st.tasks.end() || is_terminal(t->second.state) || !t->second.ready || t->second.record_pending
      || t->second.launched)
    return;
  t->second.launched = true;
  update_container_limits(self, e);  // before the task can start using them
  self->send(e.handle, atom::launch_v, t->second.info);
}

namespace {

// The tasks that waited for the executor's (re-)registration, in arrival order.
void send_queued_tasks(agent_ptr self, executor_entry& e) {
  auto queued = std::move(e.queued);
  e.queued.clear();
  for (auto& tid : queued)
    send_launch(self, e, tid);
}

// -- run_task -------------------------------------------------------------------------------------------

struct refusal {
  task_state state;
  task_reason reason;
  std::string why;
};

// A task ID may be reused once its task ended; false: a live task has it (the run_task is ignored).
bool take_task_id(agent_ptr self, const framework_id& fw, const task_id& tid) {
  auto& st = self->state;
  auto old = st.tasks.find(task_key{fw, tid});
  if (old == st.tasks.end())
    return true;
  if (!is_terminal(old->second.state)) {
    // Any answer would read as the state of the task that runs under this ID (the master's validation
    // refuses live duplicates, so this is a stray message).
    LOG_WARN(component, "task " << tid << " of framework " << fw << " is already "
                                << to_string(old->second.state) << "; duplicate run_task ignored");
    return false;
  }
  // The old incarnation ended; its terminal update stays pending under its own uuid (acks go by uuid)
  // and the new task takes over the entry.
  LOG_INFO(component, "task ID " << tid << " of framework " << fw << " reused (the old task is "
                                 << to_string(old->second.state) << ")");
  if (auto ex = st.executors.find(executor_key{fw, old->second.executor}); ex != st.executors.end())
    erase_task_id(ex->second.queued, tid);
  st.tasks.erase(old);
  return true;
}

// Why the agent cannot take a task now (its state, or an ID unusable in paths); none: it can.
std::optional<refusal> agent_refuses_launch(const agent_state& st, const framework_id& fw, const task_info& ti) {
  if (st.shutting_down)
    return refusal{task_state::dropped, task_reason::agent_restarted, "the agent is shutting down"};
  if (!is_safe_path_component(fw.str()) || !is_safe_path_component(ti.id.str()))
    return refusal{task_state::error, task_reason::task_invalid,
                   "framework and task IDs may only contain [A-Za-z0-9._-] and must not be . or .."};
  if (st.id.empty() || !is_safe_path_component(st.id.str()))
    return refusal{task_state::dropped, task_reason::agent_unknown,
                   "the agent is not registered (or has an unusable agent ID)"};
  if (!st.registered)
    // Sent under the registration the agent gave up (no pings: it re-registers). Its re-registration did not
    // list the task, so the master ends it as not known here; running it now would run a task already
    // reported gone (Mesos' agent, likewise, ignores launches while it is not registered).
    return refusal{task_state::dropped, task_reason::agent_disconnected,
                   "the agent is re-registering with the master: launch dropped"};
  return std::nullopt;
}

// What is wrong with the task itself: its executor, or volumes the agent does not have.
std::optional<refusal> invalid_task(const agent_state& st, const framework_id& fw, const task_info& ti,
                                    const executor_id& eid, const resource_set& volumes) {
  auto invalid = [](std::string why) { return refusal{task_state::error, task_reason::task_invalid, std::move(why)}; };
  bool grouped = is_default_executor(ti);
  if (grouped ? !ti.command : bool(ti.command) == bool(ti.executor))
    return invalid(grouped ? "a task of a group needs a command" : "a task needs exactly one of command and executor");
  if (ti.executor) {
    const auto& info = *ti.executor;
    if (!is_safe_path_component(info.id.str()))
      return invalid("executor IDs may only contain [A-Za-z0-9._-] and must not be . or ..");
    if (info.id.str() == command_executor_id)
      return invalid(std::string{"executor ID '"} + command_executor_id + "' is reserved");
    if (!info.framework.empty() && info.framework != fw)
      return invalid("executor belongs to another framework");
    if (!grouped && info.command.value.empty() && info.command.arguments.empty())
      return invalid("executor has no command");
  }
  if (auto ex = st.executors.find(executor_key{fw, eid}); ex != st.executors.end()) {
    if (ex->second.state == executor_entry::phase::terminating)
      return refusal{task_state::dropped, task_reason::executor_terminated,
                     "executor '" + eid.str() + "' is terminating"};
    if (ex->second.command != builtin_executor(ti) || (ex->second.info.type == executor_type::default_executor) != grouped)
      return invalid("executor ID in use by another kind");
  }
  if (auto err = check_volumes_known(st.total, volumes); !err.empty())
    return invalid(err);
  return std::nullopt;
}

// The executor to launch for a task: its own, or the built-in command executor.
executor_info executor_for(const agent_state& st, const framework_id& fw, const task_info& ti,
                           const executor_id& eid) {
  if (ti.executor && !is_default_executor(ti))
    return *ti.executor;
  executor_info info;
  if (ti.executor) {
    info = *ti.executor;  // DEFAULT: its ID, resources and labels, with our binary (in group mode by its tasks)
    info.command = command_info{};  // nothing of the framework's reaches our process (it runs as the agent's user)
  }
  info.id = eid;
  info.framework = fw;
  if (!ti.executor)
    info.name = "command executor";
  info.command.shell = false;
  info.command.value = st.opts.executor_binary;
  info.command.arguments = {st.opts.executor_binary, "command-executor"};
  return info;
}

// Records the task of a checkpointing framework. The executor gets the task only once the record is on disk: an
// agent restarted in between would not know the task, and its end (reported by the executor) would be dropped.
void checkpoint_task(agent_ptr self, task_entry& t, const task_key& key) {
  auto& st = self->state;
  // Queued before the task goes anywhere (disk jobs run in order, before any of its updates).
  task_record r;
  r.framework = key.first;
  r.info = t.info;
  r.executor = t.executor;
  t.record_pending = true;
  t.record_id = st.next_prepare_id++;
  auto record_id = t.record_id;
  disk_write(
    self, task_record_path(key.first, key.second), encode_frame(r), false, false,
    [=](const std::string&) {
      auto& st = self->state;
      auto i = st.tasks.find(key);
      if (i == st.tasks.end() || i->second.record_id != record_id || !i->second.record_pending)
        return;
      i->second.record_pending = false;
      auto ex = st.executors.find(executor_key{key.first, i->second.executor});
      if (ex != st.executors.end() && ex->second.state == executor_entry::phase::registered)
        send_launch(self, ex->second, key.second);
    },
    // A task the agent cannot record (a full disk) would be lost by a restart: it fails now, with the reason.
    [=](const std::string& err) {
      auto& st = self->state;
      auto i = st.tasks.find(key);
      if (i == st.tasks.end() || i->second.record_id != record_id || !i->second.record_pending)
        return;
      i->second.record_pending = false;
      agent_update(self, key.first, key.second, i->second.executor, task_state::failed,
                   task_reason::container_launch_failed, "cannot checkpoint the task on the agent: " + err);
      end_unstarted_group(self, key.first, key.second);  // its group starts whole or not at all
    });
}

// Takes a valid task: records it, starts its executor if needed, links its volumes, and hands it over (or
// queues it until the executor registers).
executor_entry& accept_task(agent_ptr self, const framework_info& fi, const task_info& ti, const executor_id& eid,
                            const resource_set& volumes, bool hand_over = true) {
  auto& st = self->state;
  const auto& fw = fi.id;
  bool new_framework = st.frameworks.count(fw) == 0;
  st.frameworks[fw] = fi;
  if (new_framework && fi.checkpoint)
    disk_write(self, framework_record_path(fw), encode_frame(fi));
  task_key key{fw, ti.id};
  auto& t = st.tasks[key];
  t.info = ti;
  t.executor = eid;
  t.state = task_state::staging;
  auto ex = st.executors.find(executor_key{fw, eid});
  auto& e = ex != st.executors.end() ? ex->second
                                     : launch_executor(self, fw, executor_for(st, fw, ti, eid), builtin_executor(ti));
  if (fi.checkpoint)
    checkpoint_task(self, t, key);
  if (!volumes.empty()) {
    // The command executor runs each task in <sandbox>/tasks/<task ID>; a custom executor's tasks share its
    // sandbox.
    auto dir = e.command ? sandbox_path(e.sandbox, {"tasks", ti.id.str()}) : e.sandbox;
    t.ready = false;
    t.prepare_id = st.next_prepare_id++;
    prepare_volumes(self, key, t.prepare_id, dir, volumes);
  }
  if (!hand_over)
    return e;
  if (e.state == executor_entry::phase::registered) {
    send_launch(self, e, ti.id);
  } else {
    LOG_DEBUG(component, "task " << ti.id << " waits for executor " << eid);
    e.queued.push_back(ti.id);
  }
  return e;
}

// "" or why the agent cannot take this group for its DEFAULT executor `exec` (before any task of it is taken).
std::optional<refusal> invalid_group(const agent_state& st, const framework_id& fw, const executor_info& exec,
                                     const task_group_info& group) {
  auto invalid = [](std::string why) {
    return refusal{task_state::error, task_reason::task_group_invalid, "invalid task group: " + std::move(why)};
  };
  if (exec.type != executor_type::default_executor)
    return invalid("a task group runs on the DEFAULT executor");
  std::unordered_set<task_id> ids;
  for (const auto& t : group.tasks) {
    if (!ids.insert(t.id).second)
      return invalid("task ID " + t.id.str() + " appears twice in the group");
    if (!t.executor || t.executor->id != exec.id || !is_default_executor(t))
      return invalid("task " + t.id.str() + " does not name the group's executor");
    if (auto no = agent_refuses_launch(st, fw, t))
      return no;
    if (auto no = invalid_task(st, fw, t, exec.id, task_volumes(t)))
      return refusal{no->state, no->state == task_state::error ? task_reason::task_group_invalid : no->reason,
                     "invalid task group: task " + t.id.str() + ": " + no->why};
  }
  return std::nullopt;
}

} // namespace

void on_run_group(agent_ptr self, const framework_info& fi, const executor_info& exec, const task_group_info& group) {
  auto& st = self->state;
  if (!from_master(self, "run_task (group)"))
    return;
  const auto& fw = fi.id;
  if (fw.empty() || exec.id.empty() || group.tasks.empty()) {
    LOG_ERROR(component, "task group without framework ID, executor ID or tasks ignored");
    return;
  }
  for (const auto& t : group.tasks)
    if (t.id.empty() || !take_task_id(self, fw, t.id)) {
      LOG_ERROR(component, "task group of framework " << fw << " with an empty or live task ID ignored");
      return;
    }
  if (auto no = invalid_group(st, fw, exec, group)) {
    for (const auto& t : group.tasks)
      agent_update(self, fw, t.id, exec.id, no->state, no->reason, no->why);
    return;
  }
  std::vector<task_id> members;
  for (const auto& t : group.tasks)
    members.push_back(t.id);
  executor_entry* e = nullptr;
  for (const auto& t : group.tasks) {
    e = &accept_task(self, fi, t, exec.id, task_volumes(t), false);
    auto& entry = st.tasks[task_key{fw, t.id}];
    entry.group = members;
    entry.on_failure = group.on_failure;
  }
  LOG_INFO(component, "task group of " << members.size() << " task(s) for executor " << exec.id << " of framework "
                                       << fw);
  if (e->state == executor_entry::phase::registered)
    send_launch(self, *e, members.front());
  else  // each may send the group: one of them may be gone (failed and acknowledged) by then
    e->queued.insert(e->queued.end(), members.begin(), members.end());
}

void on_run_task(agent_ptr self, const framework_info& fi, const task_info& ti) {
  auto& st = self->state;
  if (!from_master(self, "run_task"))
    return;
  const auto& fw = fi.id;
  executor_id eid = ti.executor ? ti.executor->id : executor_id{command_executor_id};
  if (fw.empty() || ti.id.empty()) {
    LOG_ERROR(component, "run_task without framework ID or task ID (task '" << ti.id << "') ignored");
    return;
  }
  if (!take_task_id(self, fw, ti.id))
    return;
  auto volumes = task_volumes(ti);
  auto no = agent_refuses_launch(st, fw, ti);
  if (!no && is_default_executor(ti))
    no = refusal{task_state::error, task_reason::task_invalid, "a DEFAULT executor runs task groups only"};
  if (!no)
    no = invalid_task(st, fw, ti, eid, volumes);
  if (no) {
    agent_update(self, fw, ti.id, eid, no->state, no->reason, no->why);
    return;
  }
  accept_task(self, fi, ti, eid, volumes);
}

// -- orders from the master -----------------------------------------------------------------------------

void on_kill_task(agent_ptr self, const framework_id& fw, const task_id& tid, const kill_policy* policy) {
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
    if (ex != st.executors.end())
      erase_task_id(ex->second.queued, tid);
    auto group = t->second.group;
    agent_update(self, fw, tid, t->second.executor, task_state::killed, task_reason::task_killed_during_launch,
                 "killed before its executor registered");
    if (!group.empty() && ex != st.executors.end())
      send_group(self, ex->second, group, group_failure_policy::kill_group);  // the others go with it
    return;
  }
  if (ex->second.state == executor_entry::phase::disconnected)
    ex->second.kills_pending.push_back(tid);  // sent when it is back (or its end fails the task anyway)
  else if (ex->second.handle && policy != nullptr)
    self->send(ex->second.handle, atom::kill_task_v, tid, *policy);
  else if (ex->second.handle)
    self->send(ex->second.handle, atom::kill_task_v, tid);
}

void on_fw_msg(agent_ptr self, const framework_id& fw, const executor_id& eid, const std::string& data) {
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
}

void on_shutdown_framework(agent_ptr self, const framework_id& fw) {
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
}

void on_shutdown_executor(agent_ptr self, const framework_id& fw, const executor_id& eid) {
  auto& st = self->state;
  if (!from_master(self, "shutdown"))
    return;
  auto ex = st.executors.find(executor_key{fw, eid});
  if (ex == st.executors.end()) {
    LOG_WARN(component, "ignoring shutdown of unknown executor " << eid << " of framework " << fw);
    return;
  }
  auto& e = ex->second;
  if (e.state == executor_entry::phase::terminating)
    return;
  LOG_INFO(component, "shutting down executor " << eid << " of framework " << fw << " on its framework's request");
  e.queued.clear();
  shutdown_executor(self, e);
}

// -- from executors -------------------------------------------------------------------------------------


registration_promise on_reg_exec(agent_ptr self, const framework_id& fw, const executor_id& eid,
                                 const executor_actor& hdl, const std::string& secret) {
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
  if (!secret_matches(e, secret)) {
    refuse_impostor(self, e, "register");
    rp.deliver(caf::make_error(caf::sec::invalid_argument, "wrong secret for executor " + eid.str()));
    return rp;
  }
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
  attach_executor(self, e, hdl);
  LOG_INFO(component, "executor " << eid << " of framework " << fw << " registered");
  // The reply goes out before the queued tasks so the executor knows its context when they arrive.
  rp.deliver(registration_of(st, e));
  send_queued_tasks(self, e);
  return rp;
}

namespace {

// What a (re-)registering executor reports as unacknowledged: only its own tasks (or tasks the agent no longer
// knows); another executor's tasks are not its to report on.
void take_updates(agent_ptr self, const executor_entry& e, const executor_actor& hdl,
                  const std::vector<status_update>& updates) {
  auto& st = self->state;
  for (auto& u : updates) {
    auto t = st.tasks.find(task_key{u.framework, u.status.task});
    if (u.framework != e.framework || (t != st.tasks.end() && t->second.executor != e.info.id)) {
      LOG_WARN(component, "executor " << e.info.id << " reported task " << u.status.task
                                      << ", which is not its own: ignored");
      continue;
    }
    take_update(self, hdl, u);
  }
}

// A retry of a registered executor (our earlier reply was slow or lost, or its connection broke and came back):
// the same executor, now reachable through this handle. Refusing would make it kill healthy tasks.
void rebind_executor(agent_ptr self, executor_entry& e, const executor_actor& hdl,
                     const std::vector<status_update>& updates, registration_promise& rp) {
  if (e.handle != hdl) {
    self->demonitor(e.handle.address());
    e.handle = hdl;
    self->monitor(e.handle);
  }
  LOG_INFO(component, "executor " << e.info.id << " of framework " << e.framework << " re-registered again");
  rp.deliver(registration_of(self->state, e));
  take_updates(self, e, hdl, updates);
}

// Back after its connection broke: it carries on; what waited for it goes out after the reply.
void reconnect_executor(agent_ptr self, executor_entry& e, const executor_actor& hdl,
                        const std::vector<task_info>& tasks, const std::vector<status_update>& updates,
                        registration_promise& rp) {
  attach_executor(self, e, hdl);
  LOG_INFO(component, "executor " << e.info.id << " of framework " << e.framework << " reconnected with "
                                  << tasks.size() << " task(s) and " << updates.size()
                                  << " unacknowledged update(s)");
  rp.deliver(registration_of(self->state, e));
  take_updates(self, e, hdl, updates);
  send_queued_tasks(self, e);
  auto kills = std::move(e.kills_pending);
  e.kills_pending.clear();
  for (auto& tid : kills)
    self->send(e.handle, atom::kill_task_v, tid);
}

} // namespace

registration_promise on_rereg_exec(agent_ptr self, const framework_id& fw, const executor_id& eid,
                                   const executor_actor& hdl, const std::vector<task_info>& tasks,
                                   const std::vector<status_update>& updates, const std::string& secret) {
  auto& st = self->state;
  auto rp = self->make_response_promise<executor_registration>();
  if (!hdl) {
    rp.deliver(caf::make_error(caf::sec::invalid_argument, "re-registration without an executor handle"));
    return rp;
  }
  auto ex = st.executors.find(executor_key{fw, eid});
  if (ex != st.executors.end() && !secret_matches(ex->second, secret)) {
    refuse_impostor(self, ex->second, "re-register");
    rp.deliver(caf::make_error(caf::sec::invalid_argument, "wrong secret for executor " + eid.str()));
    return rp;
  }
  std::optional<executor_entry::phase> state;
  if (ex != st.executors.end())
    state = ex->second.state;
  if (state == executor_entry::phase::registered && !ex->second.kill_sent) {
    rebind_executor(self, ex->second, hdl, updates, rp);
    return rp;
  }
  if (state == executor_entry::phase::disconnected) {
    reconnect_executor(self, ex->second, hdl, tasks, updates, rp);
    return rp;
  }
  if (state != executor_entry::phase::recovering) {
    // Only executors of the last agent process, while it waits for them: anything else would let a stray
    // executor claim tasks. The executor kills its tasks and exits on this error.
    LOG_WARN(component, "executor " << eid << " of framework " << fw << " tried to re-register, but "
                                    << (state ? "it is not being recovered" : "the agent does not know it"));
    rp.deliver(caf::make_error(caf::sec::invalid_argument,
                               "the agent does not expect executor " + eid.str() + " to re-register"));
    return rp;
  }
  rp.deliver(readopt_executor(self, ex->second, hdl, tasks, updates));
  // Its unacknowledged updates are taken over as if just sent (duplicates of what the agent has are acked
  // and dropped by uuid).
  take_updates(self, ex->second, hdl, updates);
  maybe_finish_recovery(self);
  return rp;
}

void on_exec_msg(agent_ptr self, const framework_id& fw, const executor_id& eid, const std::string& data) {
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
}

// -- the end of an executor -----------------------------------------------------------------------------

void on_container_exited(agent_ptr self, const container_id& cid, int32_t status) {
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
  if (master_tracks(e) && !e.framework_removed && st.registered && st.master)
    self->send(st.master, atom::exec_lost_v, e.framework, st.id, e.info.id, status);
  erase_executor(self, key);
}

void on_executor_down(agent_ptr self, executor_entry& e, const caf::error& reason) {
  auto& st = self->state;
  if (e.state == executor_entry::phase::registered && checkpoints(st, e.framework) && !st.shutting_down
      && reason == caf::exit_reason::remote_link_unreachable) {
    // Only the connection broke: its process may live on (its exit report would say otherwise), and the
    // driver of a checkpointing framework reconnects by itself.
    LOG_WARN(component, "executor '" << e.info.id << "' of framework " << e.framework << " disconnected ("
                                     << render(self, reason) << "); waiting up to "
                                     << milliseconds_text(st.opts.executor_reregistration_timeout)
                                     << " for it to reconnect");
    e.state = executor_entry::phase::disconnected;
    e.disconnected_at = now(self);
    return;
  }
  if (e.state != executor_entry::phase::terminating) {
    auto text = "executor '" + e.info.id.str() + "' disconnected: " + render(self, reason);
    LOG_WARN(component, text);
    fail_tasks(self, e, task_state::failed, task_reason::executor_terminated, text);
    e.state = executor_entry::phase::terminating;
    // Its process may hang on: make sure it goes; the exit report then cleans up.
    kill_container(self, e);
  }
  // Else it was told to shut down and its process gets the grace period (kill_at) to finish.
}

// Executors that did not (re-)register in time: their tasks fail and their containers go. Shut-down executors
// past their grace period are killed.
void expire_executors(agent_ptr self, time_point t) {
  auto& st = self->state;
  std::vector<std::pair<executor_key, task_reason>> overdue;
  for (auto& [key, e] : st.executors) {
    if (e.state == executor_entry::phase::launching && t - e.launched_at >= st.opts.executor_registration_timeout)
      overdue.emplace_back(key, task_reason::executor_registration_timeout);
    if (e.state == executor_entry::phase::disconnected
        && t - e.disconnected_at >= st.opts.executor_reregistration_timeout)
      overdue.emplace_back(key, task_reason::executor_terminated);
    if (e.kill_at && t >= *e.kill_at)
      kill_container(self, e);
  }
  for (auto& [key, reason] : overdue) {
    auto& e = st.executors[key];
    auto msg = "executor '" + e.info.id.str() + "' "
               + (reason == task_reason::executor_registration_timeout
                    ? "did not register within " + milliseconds_text(st.opts.executor_registration_timeout)
                    : "disconnected and did not reconnect within "
                        + milliseconds_text(st.opts.executor_reregistration_timeout));
    LOG_WARN(component, msg);
    fail_tasks(self, e, task_state::failed, reason, msg);
    e.state = executor_entry::phase::terminating;
    kill_container(self, e);
  }
}

} // namespace mesoscaf::agent_internal
