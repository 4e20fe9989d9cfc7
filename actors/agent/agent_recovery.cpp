// Agent recovery: reading the checkpoint of the agent process before this one (same boot), taking over its
// executors (the containerizer adopts their processes, they re-register) and tasks, ending what is gone, and only
// then registering with the master. Also --recover=cleanup (kill_recovered_executors).
#include "actors/agent/agent_state.hpp"

#include "config/support/logging.hpp"
#include "containerizer/launcher.hpp"
#include "containerizer/reaper.hpp"

#include <set>
#include <thread>

#include <signal.h>

namespace mesoscaf {

namespace agent_internal {

namespace {

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

// -- reading the checkpoint -----------------------------------------------------------------------------

void restore_executors(agent_state& st, const framework_id& fw, const recovered_framework& rf, time_point t0) {
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
    e.secret = r.secret;
    e.pid = r.pid;
    e.start_time = r.start_time;
    e.state = executor_entry::phase::recovering;
    e.launched_at = t0;
    if (!e.container.empty())
      st.by_container[e.container] = key;
  }
}

void restore_tasks(agent_ptr self, const framework_id& fw, const recovered_framework& rf, time_point t0) {
  auto& st = self->state;
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

// Live tasks whose executor record is missing (the agent died before writing it): their executor is gone.
void fail_tasks_without_executor(agent_ptr self) {
  auto& st = self->state;
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
}

} // namespace

// The containerizer's answer whether a recovered executor's process still runs (it then watches it).
void on_adopt_answer(agent_ptr self, const executor_key& key, const container_id& cid, bool alive) {
  auto& st = self->state;
  auto i = st.executors.find(key);
  if (i == st.executors.end() || i->second.container != cid || i->second.state != executor_entry::phase::recovering) {
    // Recovery gave up on it before this answer came (its tasks ended already): an adopted process
    // must not run on unaccounted.
    if (alive)
      self->send(st.containerizer, atom::kill_v, cid);
    return;
  }
  if (!alive) {
    recovered_executor_gone(self, key, "exited while the agent was down");
    return;
  }
  i->second.adopted = true;
  LOG_INFO(component, "executor " << key.second << " of framework " << key.first << " still runs (pid "
                                  << i->second.pid << "); waiting for it to re-register");
}

namespace {

// Asks the containerizer to adopt each recovered executor's process; one never started is gone.
void adopt_executors(agent_ptr self) {
  auto& st = self->state;
  std::vector<executor_key> never_started;
  for (auto& [key, e] : st.executors) {
    if (e.pid <= 0 || e.container.empty()) {
      never_started.push_back(key);
      continue;
    }
    auto key_copy = key;
    auto cid = e.container;
    self->request(st.containerizer, st.opts.request_timeout, atom::recover_v, cid, e.pid, e.start_time)
      .then([=](bool alive) { on_adopt_answer(self, key_copy, cid, alive); },
            [=](caf::error& err) {
              if (err == caf::sec::request_receiver_down)
                return;  // the containerizer died first: its restart asks again (agent_components.cpp)
              recovered_executor_gone(self, key_copy, "cannot be adopted: " + render(self, err));
            });
  }
  for (auto& key : never_started)
    recovered_executor_gone(self, key, "was not started yet when the agent went down");
}

} // namespace

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
    restore_executors(st, fw, rf, t0);
    restore_tasks(self, fw, rf, t0);
  }
  st.recovering = true;
  st.recovery_deadline = t0 + st.opts.executor_reregistration_timeout;
  LOG_INFO(component, "recovering agent " << st.id << ": " << st.frameworks.size() << " framework(s), "
                                          << st.executors.size() << " executor(s), " << st.tasks.size()
                                          << " task(s), " << st.updates.pending() << " pending update(s)");
  fail_tasks_without_executor(self);
  adopt_executors(self);
  maybe_finish_recovery(self);
}

// The agent registers with the master once every recovered executor re-registered or is gone (or at the
// deadline, see expire_recovery).
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

// -- re-registering executors ---------------------------------------------------------------------------

namespace {

// A task the executor reports that the agent did not checkpoint (it went down between handing the task over and
// checkpointing it): adopted.
void adopt_unrecorded_task(agent_ptr self, const executor_entry& e, const task_info& ti) {
  auto& st = self->state;
  task_key key{e.framework, ti.id};
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
}

} // namespace

// An executor of a recovered run re-registered (rereg_exec; a reg_exec of one that never registered counts too,
// with nothing reported): it keeps the tasks it reports, the others end.
executor_registration readopt_executor(agent_ptr self, executor_entry& e, const executor_actor& hdl,
                                       const std::vector<task_info>& tasks,
                                       const std::vector<status_update>& updates) {
  auto& st = self->state;
  attach_executor(self, e, hdl);
  std::set<task_id> reported;
  for (auto& ti : tasks) {
    if (ti.id.empty() || !is_safe_path_component(ti.id.str()))
      continue;
    auto t = st.tasks.find(task_key{e.framework, ti.id});
    if (t != st.tasks.end() && t->second.executor != e.info.id)
      continue;   // another executor's task: not this one's to claim
    reported.insert(ti.id);
    if (t != st.tasks.end())
      t->second.launched = true;
    else
      adopt_unrecorded_task(self, e, ti);
  }
  for (auto& u : updates)
    if (auto t = st.tasks.find(task_key{u.framework, u.status.task});
        u.framework == e.framework && (t == st.tasks.end() || t->second.executor == e.info.id))
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

// The re-registration deadline passed: recovered executors that did not come back end with their tasks, and the
// agent registers with the master.
void expire_recovery(agent_ptr self) {
  auto& st = self->state;
  std::vector<executor_key> late;
  for (auto& [key, e] : st.executors)
    if (e.state == executor_entry::phase::recovering)
      late.push_back(key);
  for (auto& key : late) {
    auto& e = st.executors[key];
    auto msg = "executor '" + e.info.id.str() + "' did not re-register within "
               + milliseconds_text(st.opts.executor_reregistration_timeout) + " after the agent restarted";
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

} // namespace agent_internal

using agent_internal::component;

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

} // namespace mesoscaf
