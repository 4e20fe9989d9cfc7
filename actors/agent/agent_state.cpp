// What every part of the agent uses: checkpoint jobs for the disk worker, and who sent the current message.
#include "actors/agent/agent_state.hpp"

#include "config/support/logging.hpp"

namespace mesoscaf::agent_internal {

// -- checkpoint ---------------------------------------------------------------------------------------

namespace {

void send_retry(agent_ptr self, checkpoint_retries::retry r);

void run_all(std::vector<std::function<void()>>& fns) {
  for (auto& fn : fns)
    fn();
}

void on_retry_answer(agent_ptr self, const std::string& rel, uint64_t attempt, const std::string& err) {
  auto& st = self->state;
  bool recovered = false;
  auto job = st.write_retries.retry_done(rel, attempt, err, now(self), &recovered);
  if (!job)
    return;  // failed again (backing off), or forgotten meanwhile
  if (recovered)
    LOG_INFO(component, "checkpoint " << rel << " written again");
  if (job->then)
    job->then(std::string{});
  retry_due_writes(self, now(self));  // the rest of the path's queue, at once
}

void send_retry(agent_ptr self, checkpoint_retries::retry r) {
  auto rel = r.rel;
  auto attempt = r.attempt;
  disk_job(
    self, [=](const std::string& err) { on_retry_answer(self, rel, attempt, err); }, atom::checkpoint_v, r.rel,
    std::move(r.work.bytes), r.work.append, r.work.sync);
}

} // namespace

void disk_write(agent_ptr self, const std::string& rel, std::string bytes, bool append, bool sync,
                std::function<void(const std::string&)> then, std::function<void(const std::string&)> failing) {
  auto& st = self->state;
  if (rel.empty()) {
    // Every ID was checked with is_safe_path_component before it got here; this is a bug, not an input.
    LOG_ERROR(component, "not checkpointing: unusable checkpoint path");
    then(std::string{"unusable checkpoint path"});
    return;
  }
  if (st.write_retries.pending(rel)) {
    // Behind the failing writes of its path: an update log must keep its order.
    auto err = st.write_retries.last_error(rel);
    st.write_retries.enqueue(rel, checkpoint_retries::job{std::move(bytes), append, sync, std::move(then)});
    if (failing)
      failing(err);
    return;
  }
  auto seq = st.write_retries.next_seq();
  checkpoint_retries::job job{bytes, append, sync, then};
  disk_job(
    self,
    [=](const std::string& err) mutable {
      if (err.empty()) {
        then(err);
        return;
      }
      // A full disk must not stop the agent: the write is kept and retried from the tick until it succeeds.
      if (self->state.write_retries.failed(rel, seq, std::move(job), err, now(self)))
        LOG_WARN(component, "cannot write checkpoint " << rel << ": " << err << "; retrying until it succeeds");
      if (failing)
        failing(err);
    },
    atom::checkpoint_v, rel, std::move(bytes), append, sync);
}

void retry_due_writes(agent_ptr self, time_point t) {
  auto& st = self->state;
  if (st.write_retries.failing_paths() == 0 || !st.disk)
    return;
  for (auto& r : st.write_retries.due(t))
    send_retry(self, std::move(r));
}

void after_durable(agent_ptr self, const std::string& rel, std::function<void()> then) {
  after_disk(self, [self, rel, then] {
    if (!self->state.write_retries.when_written(rel, then))
      then();
  });
}

void disk_write(agent_ptr self, const std::string& rel, std::string bytes) {
  disk_write(self, rel, std::move(bytes), false, false, [](const std::string&) {});
}

void after_disk(agent_ptr self, std::function<void()> then) {
  disk_job(
    self,
    [=](const std::string& err) {
      if (err.empty())
        then();
      else  // never ack what may not be on disk
        LOG_ERROR(component, "disk barrier: " << err);
    },
    atom::ping_v);
}

void disk_forget(agent_ptr self, const std::string& rel) {
  if (rel.empty())
    return;
  // Writes still retried below `rel` are moot now; whoever waited for them has nothing left to wait for.
  auto waiting = self->state.write_retries.forget(rel);
  run_all(waiting);
  disk_job(
    self,
    [=](const std::string& err) {
      if (!err.empty())
        LOG_WARN(component, "cannot remove checkpoint " << rel << ": " << err);
    },
    atom::forget_v, rel);
}

std::string agent_record_frame(const agent_state& st) {
  agent_record r;
  r.id = st.id;
  r.boot_id = st.boot_id;
  r.port = st.opts.port;
  r.attributes = st.opts.attributes;
  return encode_frame(r);
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

bool from_this_process(agent_ptr self, const char* what) {
  const auto& sender = self->current_sender();
  if (sender && sender->node() == self->node())
    return true;
  LOG_WARN(component, "ignoring " << what << " from " << describe_sender(self)
                                  << ": only this agent's own master detector sends it");
  return false;
}

bool from_master(agent_ptr self, const char* what) {
  auto& st = self->state;
  if (st.master && sent_by(self, st.master.address()))
    return true;
  LOG_WARN(component, "ignoring " << what << " from " << describe_sender(self)
                                  << ": it is not the master this agent registers with");
  return false;
}

} // namespace mesoscaf::agent_internal
