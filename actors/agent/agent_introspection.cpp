// The agent's answers to HTTP introspection (/state, /metrics): plain copies of its books, and a bounded history
// of what ended, so an operator can still find a finished task's sandbox until it is collected.
#include "actors/agent/agent_state.hpp"

#include <algorithm>
#include <cctype>

namespace mesoscaf::agent_internal {

namespace {

constexpr std::size_t max_finished_tasks_per_executor = 200;
constexpr std::size_t max_completed_executors = 200;

task_view view_of(const task_key& key, const task_entry& t, const agent_id& agent) {
  task_view v;
  v.id = key.second;
  v.name = t.info.name;
  v.framework = key.first;
  v.agent = agent;
  v.executor = t.executor;
  v.state = t.state;
  v.resources = t.info.resources;
  v.role = t.info.role;
  v.labels = t.info.labels;
  v.discovery = t.info.discovery;
  v.has_health_check = static_cast<bool>(t.info.health_check);
  return v;
}

executor_view view_of(const agent_state& st, const executor_key& key, const executor_entry& e) {
  executor_view v;
  v.framework = key.first;
  v.id = key.second;
  v.name = e.info.name;
  v.container = e.container;
  v.directory = e.sandbox;
  v.resources = e.info.resources;
  v.command = e.command;
  v.type = e.info.type;
  for (auto i = st.tasks.lower_bound(task_key{key.first, task_id{}});
       i != st.tasks.end() && i->first.first == key.first; ++i) {
    if (i->second.executor != key.second)
      continue;
    auto tv = view_of(i->first, i->second, st.id);
    if (is_terminal(i->second.state))
      v.completed_tasks.push_back(std::move(tv));
    else if (std::find(e.queued.begin(), e.queued.end(), i->first.second) != e.queued.end())
      v.queued.push_back(std::move(tv));
    else
      v.tasks.push_back(std::move(tv));
  }
  if (auto f = st.finished_tasks.find(key); f != st.finished_tasks.end())
    v.completed_tasks.insert(v.completed_tasks.end(), f->second.begin(), f->second.end());
  return v;
}

} // namespace

void remember_finished_task(agent_state& st, const task_key& key, const task_entry& t) {
  std::string state = to_string(t.state);   // "TASK_FINISHED" -> "slave/tasks_finished"
  std::transform(state.begin(), state.end(), state.begin(), [](unsigned char c) { return std::tolower(c); });
  ++st.counters["slave/tasks_" + state.substr(5)];
  auto& list = st.finished_tasks[executor_key{key.first, t.executor}];
  list.push_back(view_of(key, t, st.id));
  while (list.size() > max_finished_tasks_per_executor)
    list.pop_front();
}

void remember_finished_executor(agent_state& st, const executor_key& key, const executor_entry& e) {
  ++st.counters["slave/executors_terminated"];
  st.completed_executors.push_back(view_of(st, key, e));
  // Its live tasks (ended, not yet acknowledged) are in the view now; their later erasure finds no executor.
  st.finished_tasks.erase(key);
  while (st.completed_executors.size() > max_completed_executors)
    st.completed_executors.pop_front();
}

agent_state_view state_view_of(const agent_state& st) {
  agent_state_view v;
  v.info.id = st.registered ? st.id : agent_id{};
  v.info.hostname = st.opts.hostname;
  v.info.address = st.opts.advertise_ip;
  v.info.port = st.opts.advertise_port != 0 ? st.opts.advertise_port : st.opts.port;
  v.info.http_port = st.opts.http_port;
  v.info.total = st.total;
  v.registered = st.registered;
  v.master = st.target.empty() ? std::string{} : st.target.endpoint();
  v.start_time = st.start_time;
  for (auto& [id, fi] : st.frameworks)
    v.frameworks.push_back(fi);
  for (auto& [key, e] : st.executors)
    v.executors.push_back(view_of(st, key, e));
  v.completed_executors.assign(st.completed_executors.begin(), st.completed_executors.end());
  v.pending_updates = st.updates.pending();
  for (auto& [name, n] : st.counters)
    v.counters.push_back({name, static_cast<double>(n)});
  return v;
}

std::vector<metric_sample> agent_metrics(const agent_state& st, double now) {
  std::vector<metric_sample> out;
  auto add = [&out](std::string name, double value) { out.push_back({std::move(name), value}); };
  add("slave/registered", st.registered ? 1 : 0);
  add("slave/uptime_secs", now - st.start_time);
  add("slave/recovery_errors", 0);
  add("slave/frameworks_active", static_cast<double>(st.frameworks.size()));
  double running = 0, staging = 0, starting = 0, killing = 0;
  resource_set used;
  for (auto& [key, t] : st.tasks) {
    switch (t.state) {
      case task_state::running: ++running; break;
      case task_state::staging: ++staging; break;
      case task_state::starting: ++starting; break;
      case task_state::killing: ++killing; break;
      default: break;
    }
    if (!is_terminal(t.state))
      used += t.info.resources;
  }
  double executors_running = 0, executors_registering = 0, executors_terminating = 0;
  for (auto& [key, e] : st.executors) {
    if (e.state == executor_entry::phase::registered)
      ++executors_running;
    else if (e.state == executor_entry::phase::launching)
      ++executors_registering;
    else if (e.state == executor_entry::phase::terminating)
      ++executors_terminating;
    if (master_tracks(e))
      used += e.info.resources;
  }
  add("slave/tasks_running", running);
  add("slave/tasks_staging", staging);
  add("slave/tasks_starting", starting);
  add("slave/tasks_killing", killing);
  add("slave/executors_running", executors_running);
  add("slave/executors_registering", executors_registering);
  add("slave/executors_terminating", executors_terminating);
  add("slave/completed_executors", static_cast<double>(st.completed_executors.size()));
  add("slave/pending_status_updates", static_cast<double>(st.updates.pending()));
  for (const char* r : {"cpus", "mem", "disk", "gpus"}) {
    auto total = st.total.scalar_value(r);
    auto u = used.scalar_value(r);
    add(std::string{"slave/"} + r + "_total", total);
    add(std::string{"slave/"} + r + "_used", u);
    add(std::string{"slave/"} + r + "_percent", total > 0 ? u / total : 0);
  }
  // Cumulative counts; the usual ones are present from the start, at 0.
  std::map<std::string, double> counts;
  for (auto name : {"slave/tasks_finished", "slave/tasks_failed", "slave/tasks_killed", "slave/tasks_lost",
                    "slave/tasks_error", "slave/tasks_dropped", "slave/tasks_gone", "slave/executors_terminated"})
    counts[name] = 0;
  for (auto& [name, n] : st.counters)
    counts[name] = static_cast<double>(n);
  for (auto& [name, n] : counts)
    add(name, n);
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.name < b.name; });
  return out;
}

} // namespace mesoscaf::agent_internal
