// What every part of the agent uses: checkpoint jobs for the disk worker, and who sent the current message.
#include "actors/agent/agent_state.hpp"

#include "config/support/logging.hpp"

namespace mesoscaf::agent_internal {

// -- checkpoint ---------------------------------------------------------------------------------------

void disk_write(agent_ptr self, const std::string& rel, std::string bytes, bool append, bool sync,
                std::function<void(const std::string&)> then) {
  if (rel.empty()) {
    // Every ID was checked with is_safe_path_component before it got here; this is a bug, not an input.
    LOG_ERROR(component, "not checkpointing: unusable checkpoint path");
    then(std::string{"unusable checkpoint path"});
    return;
  }
  disk_job(
    self,
    [=](const std::string& err) {
      if (!err.empty())
        LOG_ERROR(component, "checkpoint " << rel << ": " << err);
      then(err);
    },
    atom::checkpoint_v, rel, std::move(bytes), append, sync);
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

bool from_master(agent_ptr self, const char* what) {
  auto& st = self->state;
  if (st.master && sent_by(self, st.master.address()))
    return true;
  LOG_WARN(component, "ignoring " << what << " from " << describe_sender(self)
                                  << ": it is not the master this agent registers with");
  return false;
}

} // namespace mesoscaf::agent_internal
