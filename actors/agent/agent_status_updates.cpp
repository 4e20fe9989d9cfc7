// Status updates at the agent: taken over from executors (or made by the agent), checkpointed for checkpointing
// frameworks, acknowledged to the executor, and sent to the master one stream head at a time until it acks.
#include "actors/agent/agent_state.hpp"

#include "config/support/logging.hpp"

#include <memory>
#include <optional>

namespace mesoscaf::agent_internal {

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

namespace {

// Acknowledges a taken-over update to the executor that sent it (`ack_to`, if set).
void ack_to_executor(agent_ptr self, const executor_actor& ack_to, const status_update& x) {
  if (ack_to && !x.status.uuid.empty())
    self->send(ack_to, atom::ack_v, x.status.task, x.status.uuid);
}

// A new update of a checkpointing framework: forwarded (if it is the head) and acked once it is on disk.
// If it cannot be written (a full disk), the agent does not stop (Mesos would abort): it keeps the update in memory
// and forwards it anyway, so the framework hears about its task, and retries the write from its tick. The executor
// gets its ack only once the update is on disk; until then it resends it, which is harmless: updates are
// deduplicated by uuid (status_update_manager::add) and a duplicate is acked only once the original is durable.
// A crash before the write succeeds can lose the update at the agent, but the executor still holds it.
void checkpoint_new_update(agent_ptr self, const status_update& u, const executor_actor& ack_to, bool head) {
  update_record r;
  r.update = u;
  auto forwarded = std::make_shared<bool>(false);
  auto forward = [=] {
    if (head && !*forwarded) {
      *forwarded = true;
      forward_if_head(self, u.framework, u.status.task, u.status.uuid);
    }
  };
  // Synced before anyone hears of it: after a crash the agent still has every update it took over.
  disk_write(
    self, task_updates_path(u.framework, u.status.task), encode_frame(r), true, true,
    [=](const std::string&) {
      ack_to_executor(self, ack_to, u);
      forward();
    },
    [=](const std::string& err) {
      LOG_WARN(component, "update " << to_string(u.status.state) << " for task " << u.status.task
                                    << " is not on disk yet (" << err << "): forwarded, acked once written");
      forward();
    });
}

} // namespace

// Takes an update over: records the task's latest state, adds it to its stream, checkpoints it (checkpointing
// frameworks) and only then acknowledges it to the executor (`ack_to`, if set) and forwards it to the master if it
// is the head of its stream (the others follow as the master acknowledges, see on_ack).
void handle_update(agent_ptr self, status_update u, executor_actor ack_to) {
  auto& st = self->state;
  auto t = st.tasks.find(task_key{u.framework, u.status.task});
  if (t != st.tasks.end()) {
    bool ends = !is_terminal(t->second.state) && is_terminal(u.status.state);
    t->second.state = u.status.state;
    if (u.status.executor.empty())
      u.status.executor = t->second.executor;
    if (auto e = st.executors.find(executor_key{u.framework, t->second.executor}); ends && e != st.executors.end())
      update_container_limits(self, e->second);
  }
  std::optional<status_update> forward;
  switch (st.updates.add(u, now(self), &forward)) {
    case status_update_manager::add_result::added:
      LOG_DEBUG(component, "update " << to_string(u.status.state) << " for task " << u.status.task
                                     << " of framework " << u.framework << (forward ? "" : " (queued)"));
      if (checkpoints(st, u.framework)) {
        checkpoint_new_update(self, u, ack_to, forward.has_value());
        break;
      }
      ack_to_executor(self, ack_to, u);
      if (forward)
        send_to_master(self, std::move(*forward));
      break;
    case status_update_manager::add_result::duplicate:
      LOG_DEBUG(component, "duplicate update " << u.status.uuid << " for task " << u.status.task);
      // The executor did not get our ack: it retries until it does. Acked once the original is durable.
      if (checkpoints(st, u.framework))
        after_durable(self, task_updates_path(u.framework, u.status.task), [=] { ack_to_executor(self, ack_to, u); });
      else
        ack_to_executor(self, ack_to, u);
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
      after_durable(self, task_updates_path(su.framework, su.status.task), ack);
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

// The updates whose retry time came (only what is on disk goes out).
void resend_due_updates(agent_ptr self, time_point t) {
  auto due = self->state.updates.due(t);
  if (!due.empty())
    after_disk(self, [=] { send_to_master(self, due); });
}

void on_executor_update(agent_ptr self, const status_update& su) {
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
}

void on_ack(agent_ptr self, const framework_id& fw, const task_id& tid, const std::string& uuid) {
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
    // Not written yet (a full disk): the next update goes out anyway, as new ones do (checkpoint_new_update).
    auto sent = std::make_shared<bool>(false);
    auto forward_next = [=](const std::string&) {
      if (!next.empty() && !*sent) {
        *sent = true;
        forward_if_head(self, fw, tid, next);
      }
    };
    disk_write(self, task_updates_path(fw, tid), encode_frame(r), true, false, forward_next, forward_next);
  } else if (acked.next) {
    send_to_master(self, std::move(*acked.next));
  }
  // A terminal task whose updates all arrived is done here (unless its ID was reused by a live task).
  if (acked.stream_done) {
    auto t = st.tasks.find(task_key{fw, tid});
    if (t == st.tasks.end() || is_terminal(t->second.state)) {
      if (t != st.tasks.end()) {
        remember_finished_task(st, t->first, t->second);
        st.tasks.erase(t);
      }
      if (cp)
        disk_forget(self, task_dir(fw, tid));
    }
  }
}

void on_resend(agent_ptr self, const framework_id& fw) {
  auto& st = self->state;
  if (!from_master(self, "resend"))
    return;
  auto heads = st.updates.heads(fw, now(self));
  LOG_INFO(component, "framework " << fw << " failed over: resending " << heads.size() << " pending update(s)");
  // Heads may have been recorded a moment ago: only what is on disk goes out.
  after_disk(self, [=] { send_to_master(self, heads); });
}

} // namespace mesoscaf::agent_internal
