#include "actors/master/master_metrics.hpp"

#include <algorithm>
#include <array>
#include <string>

namespace mesoscaf {

void master_counters::count_terminal(task_state s) {
  switch (s) {
    case task_state::finished: ++tasks_finished; break;
    case task_state::failed: ++tasks_failed; break;
    case task_state::killed: ++tasks_killed; break;
    case task_state::lost: ++tasks_lost; break;
    case task_state::error: ++tasks_error; break;
    case task_state::dropped: ++tasks_dropped; break;
    case task_state::gone: ++tasks_gone; break;
    default: break;
  }
}

std::vector<metric_sample> master_metrics(const cluster_state& reg, const master_counters& c,
                                          const master_gauge_inputs& in) {
  std::vector<metric_sample> out;
  auto add = [&out](std::string name, double value) { out.push_back({std::move(name), value}); };
  auto m = [&add](const char* name, double value) { add(std::string{"master/"} + name, value); };
  m("elected", in.elected ? 1 : 0);
  m("uptime_secs", in.uptime_secs);
  // Agents.
  double connected = 0;
  for (auto& [id, a] : reg.agents())
    connected += a.connected ? 1 : 0;
  auto registered = static_cast<double>(reg.agents().size());
  m("slaves_active", registered);
  m("slaves_inactive", 0);
  m("slaves_connected", connected);
  m("slaves_disconnected", registered - connected);
  m("slaves_unreachable", static_cast<double>(reg.unreachable_agents().size()));
  m("slave_registrations", c.slave_registrations);
  m("slave_reregistrations", c.slave_reregistrations);
  m("slave_removals", c.slave_removals);
  // Frameworks.
  double active = 0;
  for (auto& [id, f] : reg.frameworks())
    active += f.active ? 1 : 0;
  auto fws = static_cast<double>(reg.frameworks().size());
  m("frameworks_active", active);
  m("frameworks_inactive", fws - active);
  m("frameworks_connected", active);
  m("frameworks_disconnected", fws - active);
  m("outstanding_offers", static_cast<double>(reg.offers().size()));
  // Tasks: live ones by state, ended ones counted as they ended.
  auto& by_state = reg.live_tasks_by_state();
  double unreachable = 0;
  for (auto& [id, f] : reg.frameworks())
    unreachable += static_cast<double>(f.unreachable_tasks.size());
  auto live = [&by_state](task_state s) {
    return static_cast<double>(by_state[static_cast<std::size_t>(s) % by_state.size()]);
  };
  m("tasks_staging", live(task_state::staging));
  m("tasks_starting", live(task_state::starting));
  m("tasks_running", live(task_state::running));
  m("tasks_killing", live(task_state::killing));
  m("tasks_unreachable", unreachable);
  m("tasks_finished", c.tasks_finished);
  m("tasks_failed", c.tasks_failed);
  m("tasks_killed", c.tasks_killed);
  m("tasks_lost", c.tasks_lost);
  m("tasks_error", c.tasks_error);
  m("tasks_dropped", c.tasks_dropped);
  m("tasks_gone", c.tasks_gone);
  m("valid_status_updates", c.valid_status_updates);
  m("invalid_status_updates", c.invalid_status_updates);
  // Messages.
  m("messages_register_framework", c.messages_register_framework);
  m("messages_teardown_framework", c.messages_teardown_framework);
  m("messages_launch_tasks", c.messages_launch_tasks);
  m("messages_decline_offers", c.messages_decline_offers);
  m("messages_kill_task", c.messages_kill_task);
  m("messages_status_update_acknowledgement", c.messages_status_update_acknowledgement);
  m("messages_reconcile_tasks", c.messages_reconcile_tasks);
  m("messages_revive_offers", c.messages_revive_offers);
  m("messages_suppress_offers", c.messages_suppress_offers);
  m("messages_framework_to_executor", c.messages_framework_to_executor);
  m("messages_executor_to_framework", c.messages_executor_to_framework);
  // Resources: total, used by tasks and executors, offered. Summed as numbers: adding 10,000 agents' resource
  // bags would allocate on the master's thread for every metrics request.
  const char* names[] = {"cpus", "mem", "disk", "gpus"};
  milli total[4] = {}, used[4] = {}, offered[4] = {};
  for (auto& [id, a] : reg.agents())
    for (int i = 0; i < 4; ++i) {
      total[i] += a.info.total.scalar_milli(names[i]);
      used[i] += a.used.scalar_milli(names[i]);
      offered[i] += a.offered.scalar_milli(names[i]);
    }
  for (int i = 0; i < 4; ++i) {
    std::string r = names[i];
    auto t = from_milli(total[i]);
    auto u = from_milli(used[i]);
    m((r + "_total").c_str(), t);
    m((r + "_used").c_str(), u);
    m((r + "_percent").c_str(), t > 0 ? u / t : 0);
    add("allocator/mesos/resources/" + r + "/total", t);
    add("allocator/mesos/resources/" + r + "/offered_or_allocated", from_milli(used[i] + offered[i]));
  }
  add("allocator/mesos/allocation_runs", static_cast<double>(c.allocation_runs));
  add("allocator/mesos/offers_sent", static_cast<double>(c.offers_sent));
  add("allocator/mesos/offers_rescinded", static_cast<double>(c.offers_rescinded));
  // Per role: dominant share of what it is allocated, weight, quota guarantees.
  auto dominant = [&](const resource_set& alloc) {
    double share = 0;
    for (int i = 0; i < 4; ++i)
      if (total[i] > 0)
        share = std::max(share, static_cast<double>(alloc.scalar_milli(names[i])) / static_cast<double>(total[i]));
    return share;
  };
  for (auto& role : in.roles) {
    auto prefix = "allocator/mesos/roles/" + role.name;
    add(prefix + "/shares/dominant", dominant(role.allocated));
    add(prefix + "/weight", role.weight);
    for (auto& r : role.quota.guarantee.items())
      if (r.type == value_type::scalar)
        add("allocator/mesos/quota/roles/" + role.name + "/resources/" + r.name + "/guarantee",
            from_milli(r.scalar));
  }
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.name < b.name; });
  return out;
}

} // namespace mesoscaf
