#include "allocator/hierarchical_allocator.hpp"

#include <algorithm>
#include <cmath>

namespace mesoscaf {

namespace {

std::string unknown_fw(const framework_id& id) {
  return "unknown framework '" + id.value + "'";
}

std::string unknown_agent(const agent_id& id) {
  return "unknown agent '" + id.value + "'";
}

template <class State>
uint32_t take_slot(std::vector<State>& slots, std::vector<uint32_t>& free_list) {
  if (!free_list.empty()) {
    auto i = free_list.back();
    free_list.pop_back();
    return i;
  }
  slots.emplace_back();
  return static_cast<uint32_t>(slots.size() - 1);
}

} // namespace

hierarchical_allocator::hierarchical_allocator(allocator_config cfg) : cfg_(std::move(cfg)) {
  // nop
}

// -- lookup -------------------------------------------------------------------------------------------------

hierarchical_allocator::framework_state* hierarchical_allocator::find_fw(const framework_id& id) {
  auto i = fw_index_.find(id);
  return i == fw_index_.end() ? nullptr : &fws_[i->second];
}

const hierarchical_allocator::framework_state*
hierarchical_allocator::find_fw(const framework_id& id) const {
  auto i = fw_index_.find(id);
  return i == fw_index_.end() ? nullptr : &fws_[i->second];
}

hierarchical_allocator::agent_state* hierarchical_allocator::find_agent(const agent_id& id) {
  auto i = agent_index_.find(id);
  return i == agent_index_.end() ? nullptr : &agents_[i->second];
}

const hierarchical_allocator::agent_state* hierarchical_allocator::find_agent(const agent_id& id) const {
  auto i = agent_index_.find(id);
  return i == agent_index_.end() ? nullptr : &agents_[i->second];
}

// -- frameworks ---------------------------------------------------------------------------------------------

std::string hierarchical_allocator::add_framework(const framework_id& id, const framework_info&) {
  // Roles in framework_info are not used yet: every framework is in one DRF pool.
  if (id.empty())
    return "empty framework ID";
  if (has_framework(id))
    return "framework '" + id.value + "' is already known";
  auto client = sorter_.add(id.value);
  if (client == drf_sorter::npos)
    return "framework '" + id.value + "' cannot be added to the sorter";
  auto f = take_slot(fws_, fw_free_);
  auto& s = fws_[f];
  s = framework_state{};
  s.id = id;
  s.live = true;
  s.active = true;
  s.client = client;
  if (fw_of_client_.size() <= client)
    fw_of_client_.resize(client + 1, 0);
  fw_of_client_[client] = f;
  fw_index_.emplace(id, f);
  update_sorter_activity(s);
  return {};
}

std::string hierarchical_allocator::remove_framework(const framework_id& id) {
  auto i = fw_index_.find(id);
  if (i == fw_index_.end())
    return unknown_fw(id);
  auto f = i->second;
  auto& s = fws_[f];
  for (auto& [a, res] : s.allocations) {
    auto& ag = agents_[a];
    ag.available += res;
    ag.frameworks.erase(f);
    update_offerable(a);
  }
  for (auto& kv : s.filters)
    agents_[kv.first].filtered_by.erase(f);
  sorter_.remove(s.client);
  s = framework_state{};
  fw_index_.erase(i);
  fw_free_.push_back(f);
  return {};
}

std::string hierarchical_allocator::activate_framework(const framework_id& id) {
  auto s = find_fw(id);
  if (s == nullptr)
    return unknown_fw(id);
  s->active = true;
  update_sorter_activity(*s);
  return {};
}

std::string hierarchical_allocator::deactivate_framework(const framework_id& id) {
  auto s = find_fw(id);
  if (s == nullptr)
    return unknown_fw(id);
  s->active = false;
  update_sorter_activity(*s);
  return {};
}

std::string hierarchical_allocator::suppress(const framework_id& id) {
  auto s = find_fw(id);
  if (s == nullptr)
    return unknown_fw(id);
  s->suppressed = true;
  update_sorter_activity(*s);
  return {};
}

std::string hierarchical_allocator::revive(const framework_id& id) {
  auto i = fw_index_.find(id);
  if (i == fw_index_.end())
    return unknown_fw(id);
  auto f = i->second;
  auto& s = fws_[f];
  for (auto& kv : s.filters)
    agents_[kv.first].filtered_by.erase(f);
  s.filters.clear();
  s.suppressed = false;
  update_sorter_activity(s);
  return {};
}

std::string hierarchical_allocator::set_weight(const framework_id& id, double weight) {
  auto s = find_fw(id);
  if (s == nullptr)
    return unknown_fw(id);
  if (!sorter_.set_weight(s->client, weight))
    return "invalid weight " + std::to_string(weight) + " (must be finite and > 0)";
  return {};
}

void hierarchical_allocator::update_sorter_activity(framework_state& s) {
  // Inactive and suppressed frameworks leave the sorter's order, so runs never even look at them.
  if (s.active && !s.suppressed)
    sorter_.activate(s.client);
  else
    sorter_.deactivate(s.client);
}

// -- agents -------------------------------------------------------------------------------------------------

std::string hierarchical_allocator::add_agent(const agent_id& id, const resource_set& total) {
  if (id.empty())
    return "empty agent ID";
  if (has_agent(id))
    return "agent '" + id.value + "' is already known";
  if (auto err = total.validate(); !err.empty())
    return "invalid resources for agent '" + id.value + "': " + err;
  auto a = take_slot(agents_, agent_free_);
  auto& s = agents_[a];
  s = agent_state{};
  s.id = id;
  s.live = true;
  s.total = total;
  s.available = total;
  agent_index_.emplace(id, a);
  sorter_.add_total(total);
  update_offerable(a);
  return {};
}

std::string hierarchical_allocator::remove_agent(const agent_id& id) {
  auto i = agent_index_.find(id);
  if (i == agent_index_.end())
    return unknown_agent(id);
  auto a = i->second;
  auto& s = agents_[a];
  for (auto f : s.frameworks) {
    auto& fw = fws_[f];
    auto j = fw.allocations.find(a);
    if (j == fw.allocations.end())
      continue;
    sorter_.unallocated(fw.client, j->second);
    fw.allocations.erase(j);
  }
  for (auto f : s.filtered_by)
    fws_[f].filters.erase(a);
  sorter_.remove_total(s.total);
  offerable_.erase(a);
  s = agent_state{};
  agent_index_.erase(i);
  agent_free_.push_back(a);
  return {};
}

// -- resources ----------------------------------------------------------------------------------------------

std::string hierarchical_allocator::recover(const framework_id& fw, const agent_id& agent,
                                            const resource_set& resources, double refuse_seconds,
                                            time_point now) {
  if (std::isnan(refuse_seconds))
    return "refuse_seconds is NaN";
  if (refuse_seconds < 0)
    return "refuse_seconds is negative (" + std::to_string(refuse_seconds) + ")";
  if (!std::isfinite(refuse_seconds) || refuse_seconds > cfg_.max_refuse_seconds)
    return "refuse_seconds " + std::to_string(refuse_seconds) + " exceeds the maximum of "
           + std::to_string(cfg_.max_refuse_seconds);
  auto fi = fw_index_.find(fw);
  if (fi == fw_index_.end())
    return unknown_fw(fw);
  auto ai = agent_index_.find(agent);
  if (ai == agent_index_.end())
    return unknown_agent(agent);
  if (auto err = resources.validate(); !err.empty())
    return "invalid resources: " + err;
  auto f = fi->second;
  auto a = ai->second;
  auto& s = fws_[f];
  auto& ag = agents_[a];
  auto alloc = s.allocations.find(a);
  if (resources.empty())
    return {}; // nothing comes back; a filter on nothing would never match anything
  if (alloc == s.allocations.end() || !alloc->second.contains(resources))
    return "resources " + resources.to_string() + " are not allocated to framework '" + fw.value
           + "' on agent '" + agent.value + "'";
  alloc->second -= resources;
  if (alloc->second.empty()) {
    s.allocations.erase(alloc);
    ag.frameworks.erase(f);
  }
  ag.available += resources;
  sorter_.unallocated(s.client, resources);
  if (refuse_seconds > 0) {
    auto d = std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(refuse_seconds));
    s.filters[a].push_back(filter{resources, now + d});
    ag.filtered_by.insert(f);
  }
  update_offerable(a);
  return {};
}

bool hierarchical_allocator::is_allocatable(const resource_set& r) const {
  if (r.empty())
    return false;
  if (cfg_.min_allocatable.empty())
    return true;
  for (const auto& alternative : cfg_.min_allocatable) {
    bool ok = true;
    for (const auto& [name, min] : alternative)
      if (r.scalar_milli(name) < min) {
        ok = false;
        break;
      }
    if (ok)
      return true;
  }
  return false;
}

void hierarchical_allocator::update_offerable(index a) {
  if (is_allocatable(agents_[a].available))
    offerable_.insert(a);
  else
    offerable_.erase(a);
}

bool hierarchical_allocator::filtered(index f, index a, const resource_set& offered, time_point now) {
  auto& s = fws_[f];
  if (s.filters.empty())
    return false;
  auto i = s.filters.find(a);
  if (i == s.filters.end())
    return false;
  auto& v = i->second;
  v.erase(std::remove_if(v.begin(), v.end(), [&](const filter& x) { return x.expiry <= now; }), v.end());
  // A filter refuses offers that fit inside what was declined; more free resources get through.
  bool hit = std::any_of(v.begin(), v.end(), [&](const filter& x) { return x.resources.contains(offered); });
  if (v.empty())
    drop_filters(f, a);
  return hit;
}

void hierarchical_allocator::drop_filters(index f, index a) {
  fws_[f].filters.erase(a);
  agents_[a].filtered_by.erase(f);
}

std::vector<allocation> hierarchical_allocator::allocate(time_point now) {
  ++runs_;
  std::vector<allocation> result;
  for (auto it = offerable_.begin(); it != offerable_.end();) {
    auto a = *it;
    auto& ag = agents_[a];
    auto client = sorter_.find_first(
      [&](drf_sorter::client c) { return !filtered(fw_of_client_[c], a, ag.available, now); });
    if (client == drf_sorter::npos) {
      ++it;
      continue;
    }
    // Mesos-style: one offer per agent per run, holding everything that is free on it.
    auto f = fw_of_client_[client];
    auto& s = fws_[f];
    sorter_.allocated(client, ag.available);
    if (auto [pos, fresh] = s.allocations.try_emplace(a, ag.available); !fresh)
      pos->second += ag.available;
    ag.frameworks.insert(f);
    result.push_back(allocation{s.id, ag.id, std::move(ag.available)});
    ag.available = resource_set{};
    it = offerable_.erase(it);
  }
  return result;
}

// -- introspection ------------------------------------------------------------------------------------------

bool hierarchical_allocator::is_active(const framework_id& id) const {
  auto s = find_fw(id);
  return s != nullptr && s->active;
}

bool hierarchical_allocator::is_suppressed(const framework_id& id) const {
  auto s = find_fw(id);
  return s != nullptr && s->suppressed;
}

resource_set hierarchical_allocator::allocated(const framework_id& fw, const agent_id& agent) const {
  auto s = find_fw(fw);
  auto ai = agent_index_.find(agent);
  if (s == nullptr || ai == agent_index_.end())
    return {};
  auto i = s->allocations.find(ai->second);
  return i == s->allocations.end() ? resource_set{} : i->second;
}

resource_set hierarchical_allocator::allocated(const framework_id& fw) const {
  resource_set result;
  if (auto s = find_fw(fw))
    for (const auto& kv : s->allocations)
      result += kv.second;
  return result;
}

resource_set hierarchical_allocator::available(const agent_id& agent) const {
  auto s = find_agent(agent);
  return s == nullptr ? resource_set{} : s->available;
}

resource_set hierarchical_allocator::total(const agent_id& agent) const {
  auto s = find_agent(agent);
  return s == nullptr ? resource_set{} : s->total;
}

double hierarchical_allocator::dominant_share(const framework_id& fw) {
  auto s = find_fw(fw);
  return s == nullptr ? 0 : sorter_.share(s->client);
}

size_t hierarchical_allocator::filter_count(const framework_id& fw) const {
  size_t n = 0;
  if (auto s = find_fw(fw))
    for (const auto& kv : s->filters)
      n += kv.second.size();
  return n;
}

} // namespace mesoscaf
