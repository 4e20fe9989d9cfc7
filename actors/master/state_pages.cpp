#include "actors/master/state_pages.hpp"

#include <algorithm>

namespace mesoscaf {

namespace {

/// The entry's shared view still shows it: what can change in a task entry once it is launched is its state,
/// reason, message and times, and the message never changes without the state or `updated`.
bool still_shown(const task_entry& t) {
  auto& s = t.shown;
  return t.shared_view && s.state == t.state && s.updated == t.updated && s.reason == t.reason
         && s.launched == t.launched;
}

} // namespace

agent_ref view_of(const agent_entry& a) {
  if (auto& v = a.shared_view; v && v->connected == a.connected && v->used == a.used && v->offered == a.offered
                               && v->info.total == a.info.total && v->info.hostname == a.info.hostname
                               && v->info.address == a.info.address && v->info.port == a.info.port
                               && v->info.http_port == a.info.http_port && v->info.attributes == a.info.attributes
                               && v->registered == a.registered)
    return v;
  a.shared_view = agent_ref{agent_view{a.info, a.used, a.offered, a.connected, a.registered}};
  return a.shared_view;
}

task_ref view_of(const task_entry& t) {
  if (still_shown(t))
    return t.shared_view;
  task_view v;
  v.id = t.info.id;
  v.name = t.info.name;
  v.framework = t.framework;
  v.agent = t.info.agent;
  if (t.info.executor)
    v.executor = t.info.executor->id;
  v.state = t.state;
  v.reason = t.reason;
  v.message = t.message;
  v.resources = t.info.resources;
  v.role = t.role;
  v.launched = t.launched;
  v.updated = t.updated;
  v.user = t.user;
  v.labels = t.info.labels;
  v.discovery = t.info.discovery;
  if (t.healthy)
    v.healthy = *t.healthy;
  v.has_health_check = static_cast<bool>(t.info.health_check);
  t.shared_view = task_ref{std::move(v)};
  t.shown = {t.state, t.reason, t.updated, t.launched};
  return t.shared_view;
}

framework_view view_of(const cluster_state& reg, const framework_entry& f) {
  framework_view v;
  v.info = f.info;
  v.active = f.active;
  v.used = f.used;
  v.offered = f.offered;
  v.registered = f.registered;
  for (auto& [id, t] : f.unreachable_tasks)
    v.unreachable_tasks.push_back(view_of(t));
  for (auto& [id, t] : f.unacknowledged)
    v.unacknowledged.push_back(view_of(t));
  for (auto& [key, info] : f.executors)
    v.executors.push_back(info);
  return v;
}

namespace {

void fill_header(const cluster_state& reg, master_state_view& out) {
  for (auto& [id, f] : reg.frameworks())
    out.frameworks.push_back(view_of(reg, f));
  auto& h = out.header;
  for (auto& [id, entry] : reg.unreachable_agents())
    h.unreachable.push_back(id);
  for (auto& [id, info] : reg.recovering())
    h.recovering.push_back(id);
  h.completed_frameworks.assign(reg.removed_frameworks().begin(), reg.removed_frameworks().end());
  h.outstanding_offers = reg.offers().size();
  h.completed_tasks = reg.completed().size();
  out.next = state_cursor{state_cursor::agents, {}, 0};
}

void fill_agents(const cluster_state& reg, const state_cursor& at, std::size_t budget, master_state_view& out) {
  auto& agents = reg.agents();
  auto i = at.after.value.empty() ? agents.begin() : agents.upper_bound(at.after);
  std::size_t cost = 0;
  for (; i != agents.end() && (cost < budget || out.agents.empty()); ++i) {
    auto& [id, a] = *i;
    out.agents.push_back(view_of(a));
    ++cost;
    // Offers go with their agent's page: a large cluster has tens of thousands outstanding.
    for (auto& [oid, shown] : a.offers) {
      auto& view = shown.view;
      if (!view) {
        auto o = reg.offers().find(oid);
        if (o == reg.offers().end())
          continue;
        auto& x = o->second;
        view = offer_ref{offer_view{x.id, x.framework, x.agent, x.role, x.resources}};
      }
      out.offers.push_back(view);
      ++cost;
    }
    for (auto& [fw, ids] : a.tasks) {
      // One lookup of the framework for its tasks on this agent (and its user), one per task.
      auto f = reg.frameworks().find(fw);
      if (f == reg.frameworks().end())
        continue;
      for (auto& tid : ids)
        if (auto t = f->second.tasks.find(tid); t != f->second.tasks.end()) {
          out.tasks.push_back(view_of(t->second));
          ++cost;
        }
    }
  }
  if (i == agents.end())
    out.next = state_cursor{state_cursor::completed, {}, reg.completed_first_seq()};
  else
    out.next = state_cursor{state_cursor::agents, out.agents.back()->info.id, 0};
}

void fill_completed(const cluster_state& reg, const state_cursor& at, std::size_t budget, master_state_view& out) {
  auto& history = reg.completed();
  auto first = reg.completed_first_seq();
  // Entries older than the cursor's were dropped from the history meanwhile: start at the oldest left.
  auto index = at.seq > first ? at.seq - first : 0;
  auto end = std::min<uint64_t>(history.size(), index + std::max<std::size_t>(budget, 1));
  for (auto k = index; k < end; ++k) {
    out.completed.push_back(view_of(history[k]));
  }
  // The next sequence number, also when done: a reader knows where this page started (next - its size).
  if (end >= history.size())
    out.next = state_cursor{state_cursor::done, {}, first + end};
  else
    out.next = state_cursor{state_cursor::completed, {}, first + end};
}

} // namespace

void fill_state_page(const cluster_state& reg, const state_cursor& at, std::size_t budget, master_state_view& out) {
  switch (at.phase) {
    case state_cursor::header:
      fill_header(reg, out);
      break;
    case state_cursor::agents:
      fill_agents(reg, at, budget, out);
      break;
    case state_cursor::completed:
      fill_completed(reg, at, budget, out);
      break;
    default:
      out.next = state_cursor{state_cursor::done, {}, 0};
  }
  out.done = out.next.phase == state_cursor::done;
}

} // namespace mesoscaf
