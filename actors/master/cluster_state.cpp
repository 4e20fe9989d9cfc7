#include "actors/master/cluster_state.hpp"

#include <algorithm>
#include <chrono>

namespace mesoscaf {

namespace {

// Task times are for operators (/tasks order, the web UI): the wall clock, read where the state changes.
double wall_seconds() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

/// The user a task runs as: its command's, else its framework's.
const std::string& run_as(const task_info& task, const std::string& framework_user) {
  if (task.command && !task.command->user.empty())
    return task.command->user;
  return framework_user;
}

/// Key of the completed-history index: framework and task ID (a newline cannot occur in a safe ID).
std::string completed_key(const framework_id& fw, const task_id& id) {
  std::string key;
  key.reserve(fw.value.size() + 1 + id.value.size());
  key += fw.value;
  key += '\n';
  key += id.value;
  return key;
}

} // namespace

namespace {

/// Adds `resources` to the (framework, role) entry of one agent's allocations; an agent runs few of those.
void count_allocation(std::vector<allocation>& out, const framework_id& fid, const agent_id& aid,
                      const std::string& role, const resource_set& resources) {
  for (auto& u : out)
    if (u.framework == fid && u.role == role) {
      u.resources += resources;
      return;
    }
  out.push_back(allocation{fid, aid, role, resources});
}

/// (framework, task) of every task a re-registering agent reports, sorted.
std::vector<std::pair<framework_id, task_id>> reported_keys(const agent_reregistration& r) {
  std::vector<std::pair<framework_id, task_id>> keys;
  keys.reserve(r.tasks.size());
  for (const auto& t : r.tasks)
    keys.emplace_back(t.framework, t.info.id);
  std::sort(keys.begin(), keys.end());
  return keys;
}

} // namespace

// -- agents -------------------------------------------------------------------------------------------------

std::string cluster_state::add_agent(const agent_info& info) {
  if (auto msg = check_safe_id("agent ID", info.id.value); !msg.empty())
    return msg;
  if (agents_.count(info.id) > 0)
    return "agent " + info.id.value + " is already registered";
  if (auto msg = info.total.validate(); !msg.empty())
    return "agent's resources are invalid: " + msg;
  if (info.total.empty())
    return "agent has no resources";
  agent_entry e;
  e.info = info;
  e.registered = wall_seconds();
  agents_.emplace(info.id, std::move(e));
  return {};
}

const agent_entry* cluster_state::agent(const agent_id& id) const {
  auto i = agents_.find(id);
  return i == agents_.end() ? nullptr : &i->second;
}

std::vector<offer_id> agent_entry::offer_ids() const {
  std::vector<offer_id> out;
  out.reserve(offers.size());
  for (auto& [id, shown] : offers)
    out.push_back(id);
  return out;
}

std::vector<std::pair<framework_id, task_id>> agent_entry::task_keys() const {
  std::vector<std::pair<framework_id, task_id>> keys;
  for (const auto& [fid, tids] : tasks) {
    auto first = keys.size();
    for (const auto& tid : tids)
      keys.emplace_back(fid, tid);
    std::sort(keys.begin() + static_cast<std::ptrdiff_t>(first), keys.end());
  }
  return keys;
}

std::optional<cluster_state::removed_agent>
cluster_state::remove_agent(const agent_id& id, task_state state, task_reason reason, const std::string& message) {
  auto i = agents_.find(id);
  if (i == agents_.end())
    return std::nullopt;
  removed_agent result;
  for (const auto& oid : i->second.offer_ids())
    if (auto o = remove_offer(oid))
      result.offers.push_back(std::move(*o));
  for (const auto& [fid, tid] : i->second.task_keys()) {
    auto u = update_task(fid, tid, state, reason, message, true);
    if (u.known)
      result.tasks.push_back(std::move(u.task));
  }
  for (const auto& [fid, eid] : std::set<std::pair<framework_id, executor_id>>{i->second.executors})
    if (auto e = remove_executor(fid, id, eid))
      result.executors.emplace_back(fid, std::move(*e));
  // Their terminal updates died with the agent: nothing is left to acknowledge.
  complete_unacknowledged(id, nullptr);
  // The ID is gone for good (a re-registering agent gets a new one): no framework shuts down anything there.
  for (auto& kv : frameworks_)
    kv.second.agents.erase(id);
  result.agent = std::move(i->second);
  agents_.erase(i);
  return result;
}

std::optional<cluster_state::gone_agent> cluster_state::mark_gone(const agent_id& id, const std::string& message) {
  gone_agent out;
  if (auto i = agents_.find(id); i != agents_.end()) {
    out.info = i->second.info;
    // Partition-aware frameworks learn the precise end (gone by the operator), the others TASK_LOST.
    for (const auto& [fid, tid] : i->second.task_keys()) {
      auto f = frameworks_.find(fid);
      if (f == frameworks_.end())
        continue;
      auto state = is_partition_aware(f->second.info) ? task_state::gone_by_operator : task_state::lost;
      if (auto u = update_task(fid, tid, state, task_reason::agent_removed_by_operator, message, true); u.known)
        out.tasks.push_back(std::move(u.task));
    }
    complete_unacknowledged(id, nullptr, &out.untold);
    auto removed = remove_agent(id, task_state::lost, task_reason::agent_removed_by_operator, message);
    out.offers = std::move(removed->offers);
  } else if (auto u = unreachable_.find(id); u != unreachable_.end()) {
    out.how = gone_agent::was::unreachable;
    out.info = u->second.info;
    unreachable_.erase(u);
    // Terminal updates it still held die with it.
    complete_unacknowledged(id, nullptr, &out.untold);
    // No framework shuts anything down there any more; its TASK_UNREACHABLE tasks hold no resources: they end.
    for (auto& [fid, f] : frameworks_) {
      f.agents.erase(id);
      for (auto t = f.unreachable_tasks.begin(); t != f.unreachable_tasks.end();) {
        if (t->second.info.agent != id) {
          ++t;
          continue;
        }
        auto entry = std::move(t->second);
        t = f.unreachable_tasks.erase(t);
        entry.state = task_state::gone_by_operator;
        entry.reason = task_reason::agent_removed_by_operator;
        entry.message = message;
        entry.updated = wall_seconds();
        out.tasks.push_back(entry);
        complete(std::move(entry));
      }
    }
  } else if (auto r = recovered_.find(id); r != recovered_.end()) {
    out.how = gone_agent::was::recovering;
    out.info = r->second;
    recovered_.erase(r);
  } else {
    return std::nullopt;
  }
  tasks_unknown_.erase(id);
  gone_.insert(id);
  return out;
}

bool cluster_state::set_agent_connected(const agent_id& id, bool connected) {
  auto i = agents_.find(id);
  if (i == agents_.end())
    return false;
  i->second.connected = connected;
  return true;
}

std::optional<cluster_state::unreachable_result>
cluster_state::mark_unreachable(const agent_id& id, double time, const std::string& message) {
  auto i = agents_.find(id);
  if (i == agents_.end())
    return std::nullopt;
  unreachable_result result;
  for (const auto& oid : i->second.offer_ids())
    if (auto o = remove_offer(oid))
      result.offers.push_back(std::move(*o));
  for (const auto& [fid, tid] : i->second.task_keys()) {
    auto f = frameworks_.find(fid);
    if (f == frameworks_.end())
      continue;
    auto t = f->second.tasks.find(tid);
    if (t == f->second.tasks.end())
      continue;
    if (is_partition_aware(f->second.info)) {
      // Kept, without resources: the allocator forgets the agent, and the agent may come back with the task.
      auto entry = std::move(t->second);
      release_task(entry);
      count_live(entry.state, -1);
      f->second.tasks.erase(t);
      entry.state = task_state::unreachable;
      entry.reason = task_reason::agent_removed;
      entry.message = message;
      result.unreachable.push_back(entry);
      f->second.unreachable_tasks[tid] = std::move(entry);
    } else {
      auto u = update_task(fid, tid, task_state::lost, task_reason::agent_removed, message, true);
      if (u.known)
        result.lost.push_back(std::move(u.task));
    }
  }
  for (const auto& [fid, eid] : std::set<std::pair<framework_id, executor_id>>{i->second.executors})
    if (auto e = remove_executor(fid, id, eid))
      result.executors.emplace_back(fid, std::move(*e));
  unreachable_[id] = unreachable_agent_entry{i->second.info, time};
  result.agent = std::move(i->second);
  agents_.erase(i);
  recovered_.erase(id);
  return result;
}

std::string cluster_state::reregister_agent(const agent_reregistration& r, reregistration_result& out) {
  return reregister_agent(agent_reregistration{r}, out);
}

std::string cluster_state::reregister_agent(agent_reregistration&& r, reregistration_result& out) {
  const auto& id = r.info.id;
  if (auto msg = check_safe_id("agent ID", id.value); !msg.empty())
    return msg;
  if (auto msg = r.info.total.validate(); !msg.empty())
    return "agent's resources are invalid: " + msg;
  if (r.info.total.empty())
    return "agent has no resources";
  if (is_gone(id))
    return "agent " + id.value + " is gone (removed for good); register as a new agent";
  // What it runs is counted on frameworks, agents and the allocator: nothing invalid may get that far.
  for (const auto& t : r.tasks)
    if (auto msg = t.info.resources.validate(); !msg.empty())
      return "task " + t.info.id.value + " has invalid resources: " + msg;
  for (const auto& e : r.executors)
    if (auto msg = e.resources.validate(); !msg.empty())
      return "executor " + e.id.value + " has invalid resources: " + msg;
  // Before the task infos are moved out: what the agent still reports, for its unacknowledged tasks (if any).
  // (Those it adds now are reported by definition.)
  std::vector<std::pair<framework_id, task_id>> still_reported;
  const bool had_unacknowledged = unacknowledged_by_agent_.count(id) > 0;
  if (had_unacknowledged)
    still_reported = reported_keys(r);
  out = reregistration_result{};
  out.was_recovered = recovered_.erase(id) > 0;
  // Reported tasks by (framework, task); the framework must be known and not removed to keep anything.
  auto fw_known = [&](const framework_id& fid) { return frameworks_.count(fid) > 0; };
  auto agent = agents_.find(id);
  if (agent != agents_.end()) {
    std::map<std::pair<framework_id, task_id>, const reregistered_task*> reported;
    for (const auto& t : r.tasks)
      reported[{t.framework, t.info.id}] = &t;
    out.how = reregistration_result::kind::known;
    out.was_connected = agent->second.connected;
    agent->second.connected = true;
    agent->second.info.hostname = r.info.hostname;
    agent->second.info.port = r.info.port;
    agent->second.info.address = r.info.address;
    agent->second.info.http_port = r.info.http_port;
    agent->second.info.attributes = r.info.attributes;
    // Live tasks: the agent's view wins; tasks it does not know any more are gone.
    for (const auto& [fid, tid] : agent->second.task_keys()) {
      const auto* t = live_task(fid, tid);
      if (t == nullptr)
        continue;
      auto role = t->role;
      auto resources = t->info.resources;
      auto i = reported.find({fid, tid});
      update_result u;
      if (i != reported.end()) {
        if (i->second->state == t->state)
          continue;
        u = update_task(fid, tid, i->second->state, task_reason::none, "reported by the re-registered agent");
      } else {
        auto pa = is_partition_aware(frameworks_.at(fid).info);
        u = update_task(fid, tid, pa ? task_state::gone : task_state::lost, task_reason::agent_restarted,
                        "task not known to the re-registered agent", true);
        out.ended.push_back(u.task);
      }
      if (u.terminal)
        out.freed.push_back(allocation{fid, id, role, resources});
    }
    // Executors the master believes running but the agent does not report are gone.
    std::set<std::pair<framework_id, executor_id>> reported_execs;
    for (const auto& e : r.executors)
      reported_execs.emplace(e.framework, e.id);
    for (const auto& [fid, eid] : std::set<std::pair<framework_id, executor_id>>{agent->second.executors}) {
      if (reported_execs.count({fid, eid}) > 0)
        continue;
      auto role = executor_role(fid, id, eid);
      if (auto e = remove_executor(fid, id, eid))
        out.freed.push_back(allocation{fid, id, role, e->resources});
    }
    // Reported tasks the master does not have live here: they must not run.
    for (const auto& t : r.tasks) {
      if (!fw_known(t.framework)) {
        out.shutdown.insert(t.framework);
        continue;
      }
      const auto* live = live_task(t.framework, t.info.id);
      if ((live == nullptr || live->info.agent != id) && !is_terminal(t.state))
        out.kill.emplace_back(t.framework, t.info.id);
    }
    for (const auto& e : r.executors)
      if (!fw_known(e.framework))
        out.shutdown.insert(e.framework);
    if (had_unacknowledged)
      complete_unacknowledged(id, &still_reported, &out.ended);
    return {};
  }
  auto unreachable = unreachable_.find(id);
  out.how = unreachable != unreachable_.end() ? reregistration_result::kind::readmitted
                                              : reregistration_result::kind::admitted;
  agent_entry e;
  e.info = r.info;
  e.connected = true;
  e.registered = wall_seconds();
  agents_.emplace(id, std::move(e));
  if (unreachable != unreachable_.end())
    unreachable_.erase(unreachable);
  // Unreachable since before this master knew its tasks (a failover): nobody was told they ended, so they live on.
  bool tasks_unknown = tasks_unknown_.erase(id) > 0;
  // Frameworks of its tasks and executors the master does not know (it failed over and their schedulers have not
  // subscribed yet): recorded, inactive, so that their tasks survive until the scheduler comes back (Mesos).
  auto recover_framework = [&](const framework_id& fid) {
    if (frameworks_.count(fid) > 0 || was_removed(fid))
      return;
    for (const auto& fi : r.frameworks)
      if (fi.id == fid && check_safe_id("framework ID", fid.value).empty()) {
        framework_entry fe;
        fe.info = fi;
        fe.active = false;
        fe.registered = wall_seconds();
        frameworks_.emplace(fid, std::move(fe));
        out.recovered_frameworks.push_back(fi);
        return;
      }
  };
  // The frameworks of its tasks and executors, each looked up once (an agent runs tasks of a few frameworks; the
  // loop below would otherwise search the framework map for every task).
  std::vector<std::pair<const framework_id*, framework_entry*>> fw_of;
  auto find_fw = [&](const framework_id& fid) -> framework_entry* {
    for (const auto& [key, entry] : fw_of)
      if (*key == fid)
        return entry;
    recover_framework(fid);
    auto f = frameworks_.find(fid);
    auto* entry = f == frameworks_.end() ? nullptr : &f->second;
    fw_of.emplace_back(&fid, entry);
    return entry;
  };
  for (const auto& ex : r.executors)
    find_fw(ex.framework);
  // After a failover this runs for every task of every agent, so the task infos are moved out of the message
  // and each task costs one lookup per map it goes into.
  auto& ag = agents_.at(id);
  bool adopt_all = tasks_unknown || out.how == reregistration_result::kind::admitted;
  // What the agent's live tasks and executors use, per (framework, role); an agent runs few of those.
  std::vector<allocation> used;
  auto count_used = [&](const framework_id& fid, const std::string& role, const resource_set& resources) {
    count_allocation(used, fid, id, role, resources);
  };
  // Per framework seen here: its entry (which recorded this agent in `agents` already) and the agent's task set.
  std::vector<std::pair<framework_entry*, std::vector<task_id>*>> sent_here;
  for (auto& t : r.tasks) {
    auto* fwp = find_fw(t.framework);
    if (fwp == nullptr) {
      out.shutdown.insert(t.framework);
      continue;
    }
    auto& fw = *fwp;
    bool was_unreachable_here = false;
    std::string role = t.info.role.empty() ? "*" : t.info.role;
    if (!fw.unreachable_tasks.empty()) {
      auto ut = fw.unreachable_tasks.find(t.info.id);
      if (ut != fw.unreachable_tasks.end() && ut->second.info.agent == id) {
        was_unreachable_here = true;
        role = ut->second.role;
        t.info = std::move(ut->second.info);
        fw.unreachable_tasks.erase(ut);
      }
    }
    t.info.agent = id;
    if (is_terminal(t.state) && !fw.unacknowledged.empty())
      if (auto u = fw.unacknowledged.find(t.info.id); u != fw.unacknowledged.end() && u->second.info.agent == id)
        continue;   // ended before it became unreachable: the framework still waits for this terminal update
    bool adopt = adopt_all || was_unreachable_here;
    // One lookup: the entry is made here and filled in below (or taken back for a terminal task).
    if (adopt && !recovered_.empty() && fw.tasks.size() + 1 > fw.tasks.bucket_count()) {
      // After a failover the recovering agents bring their tasks in bulk: size the table for all of them at
      // once (guessed from this agent; only bucket pointers), instead of rehashing every node at each doubling.
      auto here_count = static_cast<size_t>(std::count_if(
        r.tasks.begin(), r.tasks.end(), [&](const reregistered_task& x) { return x.framework == t.framework; }));
      fw.tasks.reserve(fw.tasks.size() + std::min<size_t>(here_count * (recovered_.size() + 1), 1u << 22));
    }
    auto [slot, fresh] = adopt ? fw.tasks.try_emplace(t.info.id) : std::make_pair(fw.tasks.end(), false);
    if (!fresh) {
      // Readmitted: a task the master ended as TASK_LOST (framework not partition-aware), or an ID now live
      // elsewhere. Terminal ones are merely waiting for an acknowledgement the master will give.
      if (!is_terminal(t.state))
        out.kill.emplace_back(t.framework, t.info.id);
      else
        out.swallow.emplace_back(t.framework, t.info.id);
      continue;
    }
    if (is_terminal(t.state)) {
      // Rare: recorded, then completed at once (its resources are released again).
      fw.tasks.erase(slot);
      auto tid = t.info.id;
      if (add_task(t.framework, std::move(t.info), role).empty())
        update_task(t.framework, tid, t.state, task_reason::none, "reported by the re-registered agent");
      continue;
    }
    std::vector<task_id>* here = nullptr;
    for (auto& [f, ts] : sent_here)
      if (f == &fw) {
        here = ts;
        break;
      }
    if (here == nullptr) {
      fw.agents.insert(id);
      here = &ag.tasks[t.framework];
      sent_here.emplace_back(&fw, here);
    }
    here->push_back(t.info.id);   // fresh in fw.tasks, so not here yet
    count_used(t.framework, role, t.info.resources);   // added to framework and agent below, once per group
    auto& e = slot->second;
    e.framework = t.framework;
    e.state = t.state;   // its latest state as the agent knows it (staging if it never started)
    count_live(e.state, +1);   // a fresh entry: counted once filled in
    e.role = std::move(role);
    e.info = std::move(t.info);
    e.user = run_as(e.info, fw.info.user);
  }
  // Tasks of this agent whose terminal update it no longer reports: nothing is left to acknowledge.
  if (had_unacknowledged)
    complete_unacknowledged(id, &still_reported, &out.ended);
  // Unreachable tasks of this agent it does not report any more: gone.
  for (auto& [fid, fw] : frameworks_) {
    for (auto i = fw.unreachable_tasks.begin(); i != fw.unreachable_tasks.end();) {
      if (i->second.info.agent != id) {
        ++i;
        continue;
      }
      auto entry = std::move(i->second);
      i = fw.unreachable_tasks.erase(i);
      entry.state = task_state::gone;
      entry.reason = task_reason::agent_restarted;
      entry.message = "task not known to the re-registered agent";
      entry.ended_by_master = true;
      out.ended.push_back(entry);
      complete(std::move(entry));
    }
  }
  for (const auto& ex : r.executors) {
    if (!fw_known(ex.framework)) {
      out.shutdown.insert(ex.framework);
      continue;
    }
    add_executor(ex.framework, id, ex, ex.role);
  }
  for (const auto& u : used) {
    find_fw(u.framework)->used += u.resources;   // known: counted only for tasks of known frameworks
    ag.used += u.resources;
  }
  // Executors were counted on framework and agent by add_executor.
  for (const auto& [fid, eid] : ag.executors)
    if (const auto* ex = executor(fid, id, eid))
      count_used(fid, executor_role(fid, id, eid), ex->resources);
  for (auto& u : used)
    if (!u.resources.empty())
      out.used.push_back(std::move(u));
  return {};
}

void cluster_state::recover(const registry_data& reg) {
  for (const auto& [id, info] : reg.admitted)
    if (agents_.count(id) == 0)
      recovered_[id] = info;
  for (const auto& [id, u] : reg.unreachable)
    if (agents_.count(id) == 0) {
      unreachable_[id] = unreachable_agent_entry{u.info, u.time};
      tasks_unknown_.insert(id);
    }
  for (const auto& [id, time] : reg.gone)
    gone_.insert(id);
}

std::optional<agent_info> cluster_state::mark_recovering_unreachable(const agent_id& id, double time) {
  auto i = recovered_.find(id);
  if (i == recovered_.end())
    return std::nullopt;
  auto info = std::move(i->second);
  recovered_.erase(i);
  unreachable_[id] = unreachable_agent_entry{info, time};
  tasks_unknown_.insert(id);
  return info;
}

std::string cluster_state::apply_conversion(const agent_id& id, const resource_conversion& c) {
  auto i = agents_.find(id);
  if (i == agents_.end())
    return "unknown agent " + id.value;
  return mesoscaf::apply_conversion(i->second.info.total, c);
}

// -- frameworks ---------------------------------------------------------------------------------------------

std::string cluster_state::add_framework(const framework_info& info) {
  if (auto msg = check_safe_id("framework ID", info.id.value); !msg.empty())
    return msg;
  if (frameworks_.count(info.id) > 0)
    return "framework " + info.id.value + " is already subscribed";
  if (was_removed(info.id))
    return "framework " + info.id.value + " was removed and cannot subscribe again";
  framework_entry e;
  e.info = info;
  e.registered = wall_seconds();
  frameworks_.emplace(info.id, std::move(e));
  return {};
}

const framework_entry* cluster_state::framework(const framework_id& id) const {
  auto i = frameworks_.find(id);
  return i == frameworks_.end() ? nullptr : &i->second;
}

bool cluster_state::set_framework_active(const framework_id& id, bool active) {
  auto i = frameworks_.find(id);
  if (i == frameworks_.end())
    return false;
  i->second.active = active;
  return true;
}

bool cluster_state::update_framework_info(const framework_info& info, bool with_roles) {
  auto i = frameworks_.find(info.id);
  if (i == frameworks_.end())
    return false;
  auto roles = i->second.info.roles;
  i->second.info = info;
  if (!with_roles)
    i->second.info.roles = std::move(roles);
  return true;
}

std::optional<cluster_state::removed_framework> cluster_state::remove_framework(const framework_id& id) {
  auto i = frameworks_.find(id);
  if (i == frameworks_.end())
    return std::nullopt;
  removed_framework result;
  for (const auto& oid : std::set<offer_id>{i->second.offers})
    if (auto o = remove_offer(oid))
      result.offers.push_back(std::move(*o));
  std::vector<task_id> tids;
  for (const auto& kv : i->second.tasks)
    tids.push_back(kv.first);
  std::sort(tids.begin(), tids.end());   // the framework's tasks end in ID order
  for (const auto& tid : tids) {
    auto u = update_task(id, tid, task_state::killed, task_reason::framework_removed, "framework removed", true);
    if (u.known)
      result.tasks.push_back(std::move(u.task));
  }
  for (auto& [tid, t] : i->second.unreachable_tasks) {
    t.state = task_state::killed;
    t.reason = task_reason::framework_removed;
    t.message = "framework removed";
    t.ended_by_master = true;
    result.tasks.push_back(t);
    complete(std::move(t));
  }
  i->second.unreachable_tasks.clear();
  for (auto& [tid, t] : i->second.unacknowledged) {
    unindex_unacknowledged(t.info.agent, id, tid);
    complete(std::move(t));
  }
  i->second.unacknowledged.clear();
  for (const auto& key : executor_keys(i->second)) {
    auto role = executor_role(id, key.first, key.second);
    if (auto e = remove_executor(id, key.first, key.second)) {
      result.executors.emplace_back(key.first, std::move(*e));
      result.executor_roles.push_back(std::move(role));
    }
  }
  result.agents = i->second.agents;
  result.framework = std::move(i->second);
  frameworks_.erase(i);
  if (removed_fws_.insert(id).second) {
    removed_order_.push_back(id);
    while (removed_order_.size() > limits_.removed_frameworks) {
      removed_fws_.erase(removed_order_.front());
      removed_order_.pop_front();
    }
  }
  return result;
}

// -- offers -------------------------------------------------------------------------------------------------

std::string cluster_state::add_offer(const offer& o) {
  auto fw = frameworks_.find(o.framework);
  if (fw == frameworks_.end())
    return "unknown framework " + o.framework.value;
  auto ag = agents_.find(o.agent);
  if (ag == agents_.end())
    return "unknown agent " + o.agent.value;
  if (o.id.empty() || offers_.count(o.id) > 0 || retired_.count(o.id) > 0)
    return "offer ID empty or not fresh";
  if (auto msg = o.resources.validate(); !msg.empty())
    return "offer resources invalid: " + msg;
  if (o.resources.empty())
    return "offer has no resources";
  fw->second.offered += o.resources;
  fw->second.offers.insert(o.id);
  ag->second.offered += o.resources;
  ag->second.offers.emplace(o.id, agent_entry::shown_offer{});
  offers_.emplace(o.id, o);
  return {};
}

void cluster_state::drop_offer_accounting(const offer& o) {
  if (auto fw = frameworks_.find(o.framework); fw != frameworks_.end()) {
    fw->second.offered -= o.resources;
    fw->second.offers.erase(o.id);
  }
  if (auto ag = agents_.find(o.agent); ag != agents_.end()) {
    ag->second.offered -= o.resources;
    ag->second.offers.erase(o.id);
  }
}

std::optional<offer> cluster_state::remove_offer(const offer_id& id) {
  auto i = offers_.find(id);
  if (i == offers_.end())
    return std::nullopt;
  offer o = std::move(i->second);
  offers_.erase(i);
  drop_offer_accounting(o);
  retire(id);
  return o;
}

void cluster_state::retire(const offer_id& id) {
  if (!retired_.insert(id).second)
    return;
  retired_order_.push_back(id);
  while (retired_order_.size() > limits_.retired_offers) {
    retired_.erase(retired_order_.front());
    retired_order_.pop_front();
  }
}

// -- tasks --------------------------------------------------------------------------------------------------

std::string cluster_state::add_task(const framework_id& fw, task_info task, const std::string& role) {
  auto f = frameworks_.find(fw);
  if (f == frameworks_.end())
    return "unknown framework " + fw.value;
  auto a = agents_.find(task.agent);
  if (a == agents_.end())
    return "unknown agent " + task.agent.value;
  if (f->second.tasks.count(task.id) > 0)
    return "task " + task.id.value + " is already live";
  f->second.used += task.resources;
  a->second.used += task.resources;
  a->second.tasks[fw].push_back(task.id);   // not live yet (checked above)
  f->second.agents.insert(task.agent);
  auto tid = task.id;
  task_entry e;
  e.framework = fw;
  e.info = std::move(task);
  e.role = role.empty() ? "*" : role;
  e.user = run_as(e.info, f->second.info.user);
  e.launched = e.updated = wall_seconds();
  count_live(e.state, +1);
  f->second.tasks.emplace(std::move(tid), std::move(e));
  return {};
}

cluster_state::state_counts cluster_state::count_live_tasks_by_state() const {
  state_counts out{};
  for (auto& [fid, f] : frameworks_)
    for (auto& [tid, t] : f.tasks)
      ++out[static_cast<std::size_t>(t.state) % out.size()];
  return out;
}

const task_entry* cluster_state::live_task(const framework_id& fw, const task_id& id) const {
  auto f = frameworks_.find(fw);
  if (f == frameworks_.end())
    return nullptr;
  auto t = f->second.tasks.find(id);
  return t == f->second.tasks.end() ? nullptr : &t->second;
}

const task_entry* cluster_state::unreachable_task(const framework_id& fw, const task_id& id) const {
  auto f = frameworks_.find(fw);
  if (f == frameworks_.end())
    return nullptr;
  auto t = f->second.unreachable_tasks.find(id);
  return t == f->second.unreachable_tasks.end() ? nullptr : &t->second;
}

const task_entry* cluster_state::completed_task(const framework_id& fw, const task_id& id) const {
  auto i = completed_index_.find(completed_key(fw, id));
  return i == completed_index_.end() ? nullptr : i->second;
}

void cluster_state::release_task(const task_entry& t) {
  if (auto f = frameworks_.find(t.framework); f != frameworks_.end())
    f->second.used -= t.info.resources;
  if (auto a = agents_.find(t.info.agent); a != agents_.end()) {
    a->second.used -= t.info.resources;
    if (auto ts = a->second.tasks.find(t.framework); ts != a->second.tasks.end()) {
      auto& tids = ts->second;
      if (auto k = std::find(tids.begin(), tids.end(), t.info.id); k != tids.end()) {
        *k = std::move(tids.back());
        tids.pop_back();
      }
      if (tids.empty())
        a->second.tasks.erase(ts);
    }
  }
}

void cluster_state::complete(task_entry entry) {
  auto key = completed_key(entry.framework, entry.info.id);
  completed_.push_back(std::move(entry));
  ++completed_pushed_;
  // A deque keeps the addresses of the other elements on push_back / pop_front.
  completed_index_[std::move(key)] = &completed_.back();
  while (completed_.size() > limits_.completed_tasks) {
    auto& oldest = completed_.front();
    if (auto i = completed_index_.find(completed_key(oldest.framework, oldest.info.id));
        i != completed_index_.end() && i->second == &oldest)
      completed_index_.erase(i);
    completed_.pop_front();
  }
}

bool cluster_state::set_task_healthy(const framework_id& fw, const task_id& id, bool healthy) {
  auto f = frameworks_.find(fw);
  if (f == frameworks_.end())
    return false;
  auto t = f->second.tasks.find(id);
  if (t == f->second.tasks.end())
    return false;
  if (t->second.healthy != healthy) {
    t->second.healthy = healthy;
    t->second.updated = wall_seconds();  // state readers see the change
  }
  return true;
}

cluster_state::update_result cluster_state::update_task(const framework_id& fw, const task_id& id,
                                                            task_state state, task_reason reason,
                                                            const std::string& message, bool by_master) {
  update_result result;
  auto f = frameworks_.find(fw);
  if (f == frameworks_.end())
    return result;
  auto t = f->second.tasks.find(id);
  if (t == f->second.tasks.end())
    return result;
  result.known = true;
  count_live(t->second.state, -1);
  count_live(state, +1);
  t->second.state = state;
  t->second.reason = reason;
  t->second.message = message;
  t->second.updated = wall_seconds();
  result.task = t->second;
  if (is_terminal(state)) {
    result.terminal = true;
    t->second.ended_by_master = by_master;
    result.task.ended_by_master = by_master;
    release_task(t->second);
    if (by_master) {
      complete(std::move(t->second));
    } else {
      unacknowledged_by_agent_[t->second.info.agent].emplace(fw, id);
      t->second.terminal_uuid.clear();
      f->second.unacknowledged[id] = std::move(t->second);
    }
    count_live(state, -1);
    f->second.tasks.erase(t);
  }
  return result;
}

const task_entry* cluster_state::unacknowledged_task(const framework_id& fw, const task_id& id) const {
  auto f = frameworks_.find(fw);
  if (f == frameworks_.end())
    return nullptr;
  auto t = f->second.unacknowledged.find(id);
  return t == f->second.unacknowledged.end() ? nullptr : &t->second;
}

const task_entry* cluster_state::ended_task(const framework_id& fw, const task_id& id) const {
  if (const auto* t = unacknowledged_task(fw, id))
    return t;
  return completed_task(fw, id);
}

void cluster_state::note_terminal_update(const framework_id& fw, const task_id& id, task_state state,
                                           const std::string& uuid) {
  auto f = frameworks_.find(fw);
  if (f == frameworks_.end())
    return;
  if (auto t = f->second.unacknowledged.find(id); t != f->second.unacknowledged.end() && t->second.state == state)
    t->second.terminal_uuid = uuid;
}

bool cluster_state::acknowledge(const framework_id& fw, const task_id& id, const std::string& uuid) {
  auto f = frameworks_.find(fw);
  if (f == frameworks_.end() || uuid.empty())
    return false;
  auto t = f->second.unacknowledged.find(id);
  if (t == f->second.unacknowledged.end() || t->second.terminal_uuid != uuid)
    return false;
  unindex_unacknowledged(t->second.info.agent, fw, id);
  complete(std::move(t->second));
  f->second.unacknowledged.erase(t);
  return true;
}

void cluster_state::unindex_unacknowledged(const agent_id& agent, const framework_id& fw, const task_id& id) {
  if (auto a = unacknowledged_by_agent_.find(agent); a != unacknowledged_by_agent_.end()) {
    a->second.erase({fw, id});
    if (a->second.empty())
      unacknowledged_by_agent_.erase(a);
  }
}

void cluster_state::complete_unacknowledged(const agent_id& agent,
                                              const std::vector<std::pair<framework_id, task_id>>* keep,
                                              std::vector<task_entry>* untold) {
  auto a = unacknowledged_by_agent_.find(agent);
  if (a == unacknowledged_by_agent_.end())
    return;
  for (auto k = a->second.begin(); k != a->second.end();) {
    if (keep != nullptr && std::binary_search(keep->begin(), keep->end(), *k)) {
      ++k;
      continue;
    }
    if (auto f = frameworks_.find(k->first); f != frameworks_.end())
      if (auto t = f->second.unacknowledged.find(k->second); t != f->second.unacknowledged.end()) {
        if (untold != nullptr && t->second.terminal_uuid.empty()) {
          t->second.ended_by_master = true;
          untold->push_back(t->second);
        }
        complete(std::move(t->second));
        f->second.unacknowledged.erase(t);
      }
    k = a->second.erase(k);
  }
  if (a->second.empty())
    unacknowledged_by_agent_.erase(a);
}

// -- custom executors ---------------------------------------------------------------------------------------

std::vector<std::pair<agent_id, executor_id>> cluster_state::executor_keys(const framework_entry& f) {
  std::vector<std::pair<agent_id, executor_id>> keys;
  for (const auto& kv : f.executors)
    keys.push_back(kv.first);
  return keys;
}

std::string cluster_state::add_executor(const framework_id& fw, const agent_id& agent,
                                          const executor_info& info, const std::string& role) {
  auto f = frameworks_.find(fw);
  if (f == frameworks_.end())
    return "unknown framework " + fw.value;
  auto a = agents_.find(agent);
  if (a == agents_.end())
    return "unknown agent " + agent.value;
  if (info.id.empty())
    return "executor ID is empty";
  if (!f->second.executors.emplace(std::make_pair(agent, info.id), info).second)
    return "executor " + info.id.value + " already runs on agent " + agent.value;
  f->second.executor_roles[{agent, info.id}] = role.empty() ? "*" : role;
  f->second.used += info.resources;
  a->second.used += info.resources;
  a->second.executors.emplace(fw, info.id);
  return {};
}

const executor_info* cluster_state::executor(const framework_id& fw, const agent_id& agent,
                                               const executor_id& id) const {
  auto f = frameworks_.find(fw);
  if (f == frameworks_.end())
    return nullptr;
  auto e = f->second.executors.find({agent, id});
  return e == f->second.executors.end() ? nullptr : &e->second;
}

std::vector<allocation> cluster_state::allocations_on(const agent_id& id) const {
  std::vector<allocation> out;
  auto a = agents_.find(id);
  if (a == agents_.end())
    return out;
  auto count = [&](const framework_id& fid, const std::string& role, const resource_set& resources) {
    count_allocation(out, fid, id, role, resources);
  };
  for (const auto& [fid, tids] : a->second.tasks)
    if (auto fw = frameworks_.find(fid); fw != frameworks_.end())
      for (const auto& tid : tids)
        if (auto t = fw->second.tasks.find(tid); t != fw->second.tasks.end())
          count(fid, t->second.role, t->second.info.resources);
  for (const auto& [fid, eid] : a->second.executors)
    if (auto fw = frameworks_.find(fid); fw != frameworks_.end())
      if (auto e = fw->second.executors.find({id, eid}); e != fw->second.executors.end())
        count(fid, executor_role(fid, id, eid), e->second.resources);
  for (const auto& [oid, shown] : a->second.offers)
    if (auto o = offers_.find(oid); o != offers_.end())
      count(o->second.framework, o->second.role, o->second.resources);
  return out;
}

std::string cluster_state::executor_role(const framework_id& fw, const agent_id& agent,
                                           const executor_id& id) const {
  auto f = frameworks_.find(fw);
  if (f == frameworks_.end())
    return "*";
  auto r = f->second.executor_roles.find({agent, id});
  return r == f->second.executor_roles.end() ? std::string{"*"} : r->second;
}

std::optional<executor_info> cluster_state::remove_executor(const framework_id& fw, const agent_id& agent,
                                                              const executor_id& id) {
  auto f = frameworks_.find(fw);
  if (f == frameworks_.end())
    return std::nullopt;
  auto e = f->second.executors.find({agent, id});
  if (e == f->second.executors.end())
    return std::nullopt;
  executor_info info = std::move(e->second);
  f->second.executors.erase(e);
  f->second.executor_roles.erase({agent, id});
  f->second.used -= info.resources;
  if (auto a = agents_.find(agent); a != agents_.end()) {
    a->second.used -= info.resources;
    a->second.executors.erase({fw, id});
  }
  return info;
}

// -- views --------------------------------------------------------------------------------------------------

resource_set cluster_state::cluster_total() const {
  resource_set total;
  for (const auto& kv : agents_)
    total += kv.second.info.total;
  return total;
}

double cluster_state::dominant_share(const resource_set& used, const resource_set& total) {
  double share = 0;
  std::set<std::string> names;
  for (const auto& r : total.items())
    if (r.type == value_type::scalar)
      names.insert(r.name);
  for (const auto& n : names) {
    auto t = total.scalar_milli(n);
    if (t > 0)
      share = std::max(share, static_cast<double>(used.scalar_milli(n)) / static_cast<double>(t));
  }
  return share;
}

master_snapshot cluster_state::snapshot() const {
  master_snapshot s;
  auto total = cluster_total();
  for (const auto& [id, a] : agents_)
    s.agents.push_back(agent_summary{id, a.info.hostname, a.info.port, a.info.total, a.used, a.connected,
                                           a.info.address});
  for (const auto& [id, f] : frameworks_) {
    framework_summary fs;
    fs.id = id;
    fs.name = f.info.name;
    fs.active = f.active;
    fs.used = f.used;
    fs.offered = f.offered;
    fs.dominant_share = dominant_share(f.used, total);
    s.frameworks.push_back(std::move(fs));
    auto first = s.tasks.size();
    for (const auto& [tid, t] : f.tasks)
      s.tasks.push_back(task_summary{tid, id, t.info.agent, t.info.name, t.state, t.info.resources});
    std::sort(s.tasks.begin() + static_cast<std::ptrdiff_t>(first), s.tasks.end(),
              [](const task_summary& a, const task_summary& b) { return a.id < b.id; });
    for (const auto& [tid, t] : f.unreachable_tasks)
      s.tasks.push_back(task_summary{tid, id, t.info.agent, t.info.name, t.state, t.info.resources});
    for (const auto& [tid, t] : f.unacknowledged)
      s.tasks.push_back(task_summary{tid, id, t.info.agent, t.info.name, t.state, t.info.resources});
  }
  for (const auto& t : completed_)
    s.tasks.push_back(task_summary{t.info.id, t.framework, t.info.agent, t.info.name, t.state, t.info.resources});
  s.outstanding_offers = offers_.size();
  for (const auto& kv : recovered_)
    s.recovering.push_back(kv.first);
  s.unreachable_agents = unreachable_.size();
  for (const auto& kv : unreachable_)
    s.unreachable.push_back(kv.first);
  return s;
}

} // namespace mesoscaf
