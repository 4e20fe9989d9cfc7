// Persistent volumes and reservations at the agent: linking a task's volumes into its sandbox, and the master's
// RESERVE / UNRESERVE / CREATE / DESTROY (apply_op). The directory work runs on the disk worker.
#include "actors/agent/agent_resources.hpp"
#include "actors/agent/agent_state.hpp"

#include "config/support/logging.hpp"

namespace mesoscaf::agent_internal {

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
  auto on_done = [=](const std::string& err) {
    auto& st = self->state;
    auto t = st.tasks.find(key);
    if (t == st.tasks.end() || t->second.prepare_id != prepare_id || t->second.ready
        || is_terminal(t->second.state))
      return;  // killed or replaced meanwhile
    if (!err.empty()) {
      agent_update(self, key.first, key.second, t->second.executor, task_state::failed,
                   task_reason::container_launch_failed, "cannot give the task its volumes: " + err);
      end_unstarted_group(self, key.first, key.second);  // its group starts whole or not at all
      return;
    }
    LOG_DEBUG(component, "volumes " << volumes << " linked into " << dir);
    t->second.ready = true;
    auto ex = st.executors.find(executor_key{key.first, t->second.executor});
    if (ex != st.executors.end() && ex->second.state == executor_entry::phase::registered)
      send_launch(self, ex->second, key.second);
  };
  // No timeout: the worker answers every job in order (a restarted one too).
  disk_job(self, on_done, atom::launch_v, dir, volumes);
}

namespace {

// A volume of a DESTROY that a live task uses is refused (its data would go from under the task).
bool destroys_volume_in_use(const agent_state& st, const framework_id& fw, const offer_operation& op) {
  if (op.type != operation_type::destroy)
    return false;
  for (const auto& [key, t] : st.tasks) {
    if (is_terminal(t.state))
      continue;
    const auto vols_v = op.resources.volumes();
    for (const auto& v : vols_v.items())
      if (task_volumes(t.info).has_volume(v.volume_id)) {
        LOG_ERROR(component, "ignoring DESTROY of volume " << v.volume_id << " of framework " << fw
                                                           << ": task " << key.second << " uses it");
        return true;
      }
  }
  return false;
}

} // namespace

void on_apply_op(agent_ptr self, const framework_id& fw, const offer_operation& op) {
  auto& st = self->state;
  if (!from_master(self, "apply_op"))
    return;
  // The master validated the operation for the framework; a failure here means the master's view of this
  // agent differs from ours, and acting on it could lose data: refuse loudly, change nothing.
  resource_conversion conv;
  resource_set new_total;
  if (auto err = apply_agent_operation(st.total, op, conv, new_total); !err.empty()) {
    LOG_ERROR(component, "ignoring " << operation_name(op.type) << " " << op.resources << " of framework " << fw
                                     << ": " << err << " (agent total " << st.total << ")");
    return;
  }
  if (destroys_volume_in_use(st, fw, op))
    return;
  LOG_INFO(component, operation_name(op.type) << " " << op.resources << " for framework " << fw
                                              << "; total now " << new_total);
  st.total = std::move(new_total);
  // The worker checkpoints the new total before it creates or deletes anything, and handles jobs in order:
  // a task launched with a new volume right after this gets linked only once the directory exists.
  auto type = op.type;
  disk_job(
    self,
    [=](const std::string& err) {
      if (!err.empty())
        LOG_ERROR(component, operation_name(type) << " on disk: " << err);
    },
    atom::apply_op_v, st.total, op);
}

} // namespace mesoscaf::agent_internal
