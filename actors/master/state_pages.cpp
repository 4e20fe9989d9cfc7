#include "actors/master/state_pages.hpp"

#include <algorithm>

namespace mesoscaf {

task_view view_of(const task_entry& t) {
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
  return v;
}

namespace {

framework_view view_of(const cluster_state& reg, const framework_entry& f) {
  framework_view v;
  v.info = f.info;
  v.active = f.active;
  v.used = f.used;
  v.offered = f.offered;
  for (auto& [id, t] : f.unreachable_tasks)
    v.unreachable_tasks.push_back(view_of(t));
  for (auto& [id, t] : f.unacknowledged)
    v.unacknowledged.push_back(view_of(t));
  for (auto& [key, info] : f.executors)
    v.executors.push_back(info);
  return v;
}

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
    out.agents.push_back(agent_view{a.info, a.used, a.offered, a.connected, 0});
    ++cost;
    // Offers go with their agent's page: a large cluster has tens of thousands outstanding.
    for (auto& oid : a.offers)
      if (auto o = reg.offers().find(oid); o != reg.offers().end()) {
        out.offers.push_back(offer_view{o->second.id, o->second.framework, o->second.agent, o->second.role,
                                        o->second.resources});
        ++cost;
      }
    for (auto& [fw, ids] : a.tasks)
      for (auto& tid : ids)
        if (auto t = reg.live_task(fw, tid)) {
          out.tasks.push_back(view_of(*t));
          ++cost;
        }
  }
  if (i == agents.end())
    out.next = state_cursor{state_cursor::completed, {}, reg.completed_first_seq()};
  else
    out.next = state_cursor{state_cursor::agents, out.agents.back().info.id, 0};
}

void fill_completed(const cluster_state& reg, const state_cursor& at, std::size_t budget, master_state_view& out) {
  auto& history = reg.completed();
  auto first = reg.completed_first_seq();
  // Entries older than the cursor's were dropped from the history meanwhile: start at the oldest left.
  auto index = at.seq > first ? at.seq - first : 0;
  auto end = std::min<uint64_t>(history.size(), index + std::max<std::size_t>(budget, 1));
  for (auto k = index; k < end; ++k)
    out.completed.push_back(view_of(history[k]));
  if (end >= history.size())
    out.next = state_cursor{state_cursor::done, {}, 0};
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
