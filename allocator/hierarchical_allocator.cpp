#include "allocator/hierarchical_allocator.hpp"

#include "allocator/drf_sorter.hpp"
#include "allocator/share_order.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace mesoscaf {

namespace {

using index = uint32_t;
constexpr index npos = std::numeric_limits<index>::max();
static_assert(npos == sorter::none);
constexpr milli no_limit = -1;
constexpr milli unbounded = std::numeric_limits<milli>::max();

constexpr const char* gpu_capability = "GPU_RESOURCES";

std::string unknown_fw(const framework_id& id) {
  return "unknown framework '" + id.value + "'";
}

std::string unknown_agent(const agent_id& id) {
  return "unknown agent '" + id.value + "'";
}

template <class State>
index take_slot(std::vector<State>& slots, std::vector<index>& free_list) {
  if (!free_list.empty()) {
    auto i = free_list.back();
    free_list.pop_back();
    return i;
  }
  slots.emplace_back();
  return static_cast<index>(slots.size() - 1);
}

std::string check_refuse(double refuse_seconds, double max) {
  if (std::isnan(refuse_seconds))
    return "refuse_seconds is NaN";
  if (refuse_seconds < 0)
    return "refuse_seconds is negative (" + std::to_string(refuse_seconds) + ")";
  if (!std::isfinite(refuse_seconds) || refuse_seconds > max)
    return "refuse_seconds " + std::to_string(refuse_seconds) + " exceeds the maximum of " + std::to_string(max);
  return {};
}

void erase_value(std::vector<index>& v, index x) {
  auto i = std::find(v.begin(), v.end(), x);
  if (i != v.end()) {
    *i = v.back();
    v.pop_back();
  }
}

std::string parent_name(const std::string& role) {
  auto pos = role.rfind('/');
  return pos == std::string::npos ? std::string{} : role.substr(0, pos);
}

} // namespace

// ---------------------------------------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------------------------------------

struct hierarchical_allocator::impl {
  // Filters live with the agent: the run looks at them while the agent's data is hot anyway.
  // The resources are shared: declines of one agent mostly return the same set, and thousands of filters
  // per agent are normal (every framework declining every agent), so one copy each would cost gigabytes.
  struct filter {
    index client;
    time_point expiry;
    std::shared_ptr<const resource_set> resources;
  };

  struct role_node {
    std::string name; // full path; "" for the root
    index parent = npos;
    uint32_t depth = 0;
    std::vector<index> children;
    sorter::node snode = sorter::none; // the role in the sorter (weight and DRF order live there)
    quota_info quota;
    bool has_guarantee = false;
    bool has_limit = false;
    bool top_quota = false; // has a guarantee and no ancestor has one
    dvec guarantee;
    dvec limit;   // no_limit where not limited
    dvec unsat;   // max(0, guarantee - consumed) per guarantee dimension (has_guarantee only)
    dvec sub_resv;        // reserved to roles of the subtree (agents' totals)
    dvec sub_resv_alloc;  // ...of which allocated
    uint32_t own_resv_agents = 0; // agents holding resources reserved to exactly this role
    uint32_t sub_resv_agents = 0;
    bool blocked = false; // limits leave nothing allocatable and no reservation can reach it (ineligible)
    share_slot unsat_slot;
    std::vector<index> all_clients; // every client of this role, active or not
  };

  struct client_state {
    bool live = false;
    index fw = npos;
    index role = npos;
    bool suppressed = false;
    // The framework left this role (UPDATE_FRAMEWORK): no more offers in it; what it holds there stays
    // allocated until it comes back (recover), and the role may be taken up again.
    bool retired = false;
    std::unordered_map<index, resource_set> allocations; // agent -> allocated there
    std::unordered_set<index> filtered_agents; // agents holding filters of this client
    uint64_t result_run = 0;
    index result_agent = npos;
    size_t result_idx = 0;
  };

  struct framework_state {
    framework_id id;
    bool live = false;
    bool active = false;
    bool gpu = false;
    std::vector<std::string> role_names;
    std::vector<index> clients; // parallel to role_names
  };

  struct agent_state {
    agent_id id;
    bool live = false;
    bool active = true;   // false while disconnected: nothing of it is offered, its allocations stay
    bool gpus = false;
    bool has_reserved = false;
    resource_set total;
    resource_set available;
    std::vector<index> clients;            // clients with allocations here (few: a vector is cheapest)
    std::vector<filter> filters;           // of any client, for offers from this agent; sorted by client
    // Clients whose live filters here contain `blocked_for` (a bit per client index), valid until
    // `blocked_until` while `blocked_valid`. Runs skip those clients with one bit test instead of comparing
    // resource sets: declined agents come back with the same free resources cycle after cycle.
    std::vector<uint64_t> blocked;
    resource_set blocked_for;
    time_point blocked_until{};
    bool blocked_valid = false;
    std::shared_ptr<const resource_set> last_filtered; // shared by filters with equal resources
    // The last run found no client for this agent while no quota was set anywhere, so only this agent's own
    // state (free resources, filters, their expiry) or a client becoming eligible (generation `dead_gen`)
    // can change that: runs skip it in O(1) until then. Declined-everywhere agents are most of a large
    // cluster's idle capacity (Mesos' DeclineOffers benchmark ends with every framework filtering every agent).
    bool dead = false;
    uint64_t dead_gen = 0;
    time_point dead_until{};
    std::vector<index> resv_roles;         // distinct roles with reservations in total
  };

  allocator_config cfg;
  std::vector<role_node> roles{1}; // [0] is the root
  std::unordered_map<std::string, index> role_index;
  // Clients are (framework, role) pairs, indexed by their sorter handle.
  std::unique_ptr<sorter> order = std::make_unique<drf_sorter>();
  std::vector<client_state> clients;
  std::vector<framework_state> fws;
  std::vector<index> fw_free;
  std::unordered_map<framework_id, index> fw_index;
  std::vector<agent_state> agents;
  std::vector<index> agent_free;
  std::unordered_map<agent_id, index> agent_index;
  std::set<index> offerable;

  std::unordered_map<std::string, size_t> dims;
  std::vector<std::string> dim_names;
  dvec unres_free;   // unallocated unreserved scalars
  dvec headroom;     // required: sum of unsat over top quota roles
  share_order unsat; // quota roles with unsatisfied guarantees
  size_t limit_roles = 0;
  size_t guarantee_roles = 0;
  bool stale = false; // totals changed: the keys of `unsat` are out of date (the sorter tracks its own)
  uint64_t runs = 0;
  uint64_t client_gen = 1; // bumped when a client may have become eligible somewhere (see agent_state::dead)
  time_point now{};

  explicit impl(allocator_config c) : cfg(std::move(c)) {
    roles[0].depth = 0;
    roles[0].snode = order->root();
  }

  // -- dimensions ---------------------------------------------------------------------------------------

  size_t dim(const std::string& name) {
    auto i = dims.find(name);
    if (i != dims.end())
      return i->second;
    // The sorter's numbering, so per-dimension amounts pass to it as they are (account_alloc).
    auto d = order->dimension(name);
    if (d >= dim_names.size())
      dim_names.resize(d + 1);
    dim_names[d] = name;
    dims.emplace(name, d);
    return d;
  }

  size_t find_dim(std::string_view name) const {
    auto i = dims.find(std::string{name});
    return i == dims.end() ? std::numeric_limits<size_t>::max() : i->second;
  }

  resource_set to_set(const dvec& x) const {
    resource_set out;
    for (size_t d = 0; d < x.v.size(); ++d)
      if (x.v[d] > 0) {
        resource r;
        r.name = dim_names[d];
        r.scalar = x.v[d];
        out.add(r);
      }
    return out;
  }

  resource_set subtree_allocation(const role_node& x) const {
    dvec v;
    for (size_t d = 0; d < dim_names.size(); ++d)
      v.set(d, order->subtree_allocated(x.snode, d), 0);
    return to_set(v);
  }

  // -- roles --------------------------------------------------------------------------------------------

  index find_role(const std::string& name) const {
    auto i = role_index.find(name);
    return i == role_index.end() ? npos : i->second;
  }

  /// The role and its missing ancestors (name must be valid).
  index ensure_role(const std::string& name) {
    if (auto r = find_role(name); r != npos)
      return r;
    auto pname = name == "*" ? std::string{} : parent_name(name);
    index parent = pname.empty() ? 0 : ensure_role(pname);
    auto r = static_cast<index>(roles.size());
    roles.emplace_back();
    auto& node = roles.back();
    node.name = name;
    node.parent = parent;
    node.depth = roles[parent].depth + 1;
    roles[parent].children.push_back(r);
    role_index.emplace(name, r);
    node.snode = order->add_role(name);
    // A new role may sit under a guaranteed one.
    node.top_quota = false;
    return r;
  }

  milli consumed(const role_node& x, size_t d) const {
    return order->subtree_allocated(x.snode, d) + x.sub_resv.at(d) - x.sub_resv_alloc.at(d);
  }

  bool resv_related(index r) const {
    if (roles[r].sub_resv_agents > 0)
      return true;
    for (auto x = roles[r].parent; x != npos && x != 0; x = roles[x].parent)
      if (roles[x].own_resv_agents > 0)
        return true;
    return false;
  }

  bool compute_blocked(index r) const {
    auto& x = roles[r];
    if (!x.has_limit || cfg.min_allocatable.empty() || resv_related(r))
      return false;
    for (const auto& alt : cfg.min_allocatable) {
      bool ok = true;
      for (const auto& [name, min] : alt) {
        auto d = find_dim(name);
        if (d == std::numeric_limits<size_t>::max())
          continue;
        auto lim = x.limit.at(d, no_limit);
        if (lim != no_limit && lim - consumed(x, d) < min) {
          ok = false;
          break;
        }
      }
      if (ok)
        return false;
    }
    return true;
  }

  void refresh_quota(index r) {
    auto& x = roles[r];
    if (!x.has_guarantee)
      return;
    bool satisfied = true;
    for (size_t d = 0; d < x.guarantee.v.size(); ++d) {
      auto g = x.guarantee.v[d];
      if (g <= 0)
        continue;
      auto u = std::max<milli>(0, g - consumed(x, d));
      auto old = x.unsat.at(d);
      if (u != old) {
        if (x.top_quota)
          headroom.add(d, u - old);
        x.unsat.set(d, u, 0);
      }
      if (u > 0)
        satisfied = false;
    }
    place(unsat, x.unsat_slot, !satisfied, order->role_share(x.snode), x.name, r);
  }

  /// Quota state and blocked flag of one role; a blocked role leaves the sorter's order.
  void refresh_role(index r) {
    refresh_quota(r);
    roles[r].blocked = compute_blocked(r);
    order->set_eligible(roles[r].snode, !roles[r].blocked);
  }

  /// refresh_role for the role and its ancestors (their consumption changed with it).
  void refresh_chain(index r) {
    for (auto x = r; x != 0 && x != npos; x = roles[x].parent)
      refresh_role(x);
  }

  void refresh_subtree(index r) {
    for (auto c : roles[r].children)
      refresh_subtree(c);
    refresh_role(r);
  }

  /// A client is in the sorter's order while its framework is active and the client is not suppressed.
  void sync_client(index c) {
    auto& s = clients[c];
    bool wanted = fws[s.fw].active && !s.suppressed && !s.retired;
    if (wanted == order->is_active(c))
      return;
    if (wanted)
      order->activate(c);
    else
      order->deactivate(c);
  }

  /// The totals changed: every share, so every key of `unsat`, is out of date.
  void refresh_all() {
    for (index r = 1; r < roles.size(); ++r)
      refresh_quota(r);
    stale = false;
  }

  void set_resv_agents(index r, int delta) {
    auto& x = roles[r];
    bool was = x.own_resv_agents > 0;
    x.own_resv_agents += delta;
    for (auto y = r; y != npos; y = roles[y].parent)
      roles[y].sub_resv_agents += delta;
    if (was != (x.own_resv_agents > 0))
      refresh_subtree(r); // descendants may take these reservations: their blocked flags change
  }

  // -- agent totals ---------------------------------------------------------------------------------------

  /// Adds (sign 1) or removes (sign -1) resources of an agent's total in the cluster bookkeeping.
  /// Returns the reservation roles touched.
  void account_total(const resource_set& r, int sign, std::vector<index>& touched) {
    for (const auto& e : r.items()) {
      if (e.role != "*") {
        auto x = ensure_role(e.role);
        if (std::find(touched.begin(), touched.end(), x) == touched.end())
          touched.push_back(x);
        if (e.type == value_type::scalar) {
          auto d = dim(e.name);
          for (auto y = x; y != npos; y = roles[y].parent)
            roles[y].sub_resv.add(d, sign * e.scalar);
        }
      }
      if (e.type != value_type::scalar)
        continue;
      if (e.role == "*")
        unres_free.add(dim(e.name), sign * e.scalar);
    }
  }

  static std::vector<index> distinct_roles(const std::vector<index>& xs) {
    auto v = xs;
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    return v;
  }

  void set_agent_total(index a, resource_set total) {
    auto& ag = agents[a];
    ag.total = std::move(total);
    ag.gpus = ag.total.scalar_milli("gpus") > 0;
    ag.has_reserved = std::any_of(ag.total.items().begin(), ag.total.items().end(),
                                  [](const resource& e) { return e.role != "*"; });
    std::vector<index> now_roles;
    for (const auto& e : ag.total.items())
      if (e.role != "*")
        now_roles.push_back(ensure_role(e.role));
    now_roles = distinct_roles(now_roles);
    for (auto r : ag.resv_roles)
      if (!std::binary_search(now_roles.begin(), now_roles.end(), r))
        set_resv_agents(r, -1);
    for (auto r : now_roles)
      if (!std::binary_search(ag.resv_roles.begin(), ag.resv_roles.end(), r))
        set_resv_agents(r, 1);
    ag.resv_roles = std::move(now_roles);
  }

  // -- allocations ----------------------------------------------------------------------------------------

  sorter::quantities delta; // account_alloc's scratch (kept to reuse its memory)

  /// Bookkeeping of resources allocated to (sign 1) or taken back from (sign -1) client `c`.
  void account_alloc(index c, const resource_set& r, int sign) {
    auto& s = clients[c];
    index resv_touched[8];
    size_t n_touched = 0;
    bool overflow = false;
    delta.clear();
    for (const auto& e : r.items()) {
      if (e.type != value_type::scalar)
        continue;
      auto d = dim(e.name);
      delta.push_back({d, e.scalar});
      auto x = sign * e.scalar;
      if (e.role == "*") {
        unres_free.add(d, -x);
      } else {
        auto rr = ensure_role(e.role);
        for (auto y = rr; y != npos; y = roles[y].parent)
          roles[y].sub_resv_alloc.add(d, x);
        if (std::find(resv_touched, resv_touched + n_touched, rr) == resv_touched + n_touched) {
          if (n_touched < 8)
            resv_touched[n_touched++] = rr;
          else
            overflow = true;
        }
      }
    }
    if (sign > 0)
      order->allocated(c, delta);
    else
      order->unallocated(c, delta);
    refresh_chain(s.role);
    for (size_t i = 0; i < n_touched; ++i)
      refresh_chain(resv_touched[i]);
    if (overflow)
      refresh_subtree(0);
  }

  bool is_allocatable(const resource_set& r) const {
    if (r.empty())
      return false;
    if (cfg.min_allocatable.empty())
      return true;
    for (const auto& alternative : cfg.min_allocatable) {
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

  void update_offerable(index a) {
    agents[a].dead = false;
    if (agents[a].active && is_allocatable(agents[a].available))
      offerable.insert(a);
    else
      offerable.erase(a);
  }

  static bool by_client(const filter& f, index c) {
    return f.client < c;
  }

  /// The agent's filters of client `c`: [first, last).
  std::pair<std::vector<filter>::iterator, std::vector<filter>::iterator> filters_of(index c, index a) {
    auto& v = agents[a].filters;
    auto lo = std::lower_bound(v.begin(), v.end(), c, by_client);
    auto hi = lo;
    while (hi != v.end() && hi->client == c)
      ++hi;
    return {lo, hi};
  }

  bool filtered(index c, index a, const resource_set& offered) {
    auto& v = agents[a].filters;
    if (v.empty())
      return false;
    bool hit = false;
    bool expired = false;
    auto [lo, hi] = filters_of(c, a);
    for (auto i = lo; i != hi; ++i) {
      const auto& f = *i;
      if (f.expiry <= now) {
        expired = true;
        continue;
      }
      // A filter refuses offers that fit inside what was declined; more free resources get through.
      if (!hit && f.resources->contains(offered))
        hit = true;
    }
    if (expired)
      drop_filters(c, a, true);
    return hit;
  }

  /// Drops the client's filters on the agent (only the expired ones if `expired_only`).
  void drop_filters(index c, index a, bool expired_only) {
    auto& v = agents[a].filters;
    auto [lo, hi] = filters_of(c, a);
    auto keep = std::remove_if(lo, hi, [&](const filter& f) { return !expired_only || f.expiry <= now; });
    bool none_left = keep == lo;
    v.erase(keep, hi); // order (by client) is kept
    agents[a].blocked_valid = false;
    agents[a].dead = false;
    if (none_left)
      clients[c].filtered_agents.erase(a);
  }

  size_t filter_count(index c) const {
    size_t n = 0;
    for (auto a : clients[c].filtered_agents)
      for (const auto& f : agents[a].filters)
        n += f.client == c ? 1 : 0;
    return n;
  }

  /// Room under the limits of the role and every ancestor for unreserved scalar `d`.
  milli limit_room(index r, size_t d) const {
    milli room = unbounded;
    for (auto y = r; y != 0 && y != npos; y = roles[y].parent) {
      auto& x = roles[y];
      if (!x.has_limit)
        continue;
      auto lim = x.limit.at(d, no_limit);
      if (lim != no_limit)
        room = std::min(room, std::max<milli>(0, lim - consumed(x, d)));
    }
    return room;
  }

  /// Unallocated unreserved scalar `d` that stage 2 may hand to role `r`: the surplus over the headroom
  /// held back for unsatisfied guarantees, plus what `r`'s own top guarantee still needs.
  milli surplus_room(index r, size_t d) const {
    auto need = headroom.at(d);
    if (need <= 0)
      return unbounded;
    milli own = 0;
    for (auto y = r; y != 0 && y != npos; y = roles[y].parent)
      if (roles[y].top_quota)
        own = roles[y].unsat.at(d);
    return std::max<milli>(0, unres_free.at(d) - need + own);
  }

  // The candidate of the current try: either the agent's whole free set (fast path) or `scratch`.
  resource_set scratch;

  /// What client `c` could get from agent `a` now (stage 1 serves quota role `q`, stage 2 q == npos).
  const resource_set* candidate(index c, index a, index q) {
    auto& ag = agents[a];
    auto r = clients[c].role;
    bool caps = (limit_roles > 0 || guarantee_roles > 0);
    if (!caps && !ag.has_reserved)
      return &ag.available;
    const auto& rname = roles[r].name;
    scratch = resource_set{};
    for (const auto& e : ag.available.items()) {
      if (e.role != "*") {
        if (is_role_or_ancestor(e.role, rname))
          scratch.add(e);
        continue;
      }
      if (e.type != value_type::scalar || !caps) {
        scratch.add(e);
        continue;
      }
      auto d = find_dim(e.name);
      milli room = limit_room(r, d);
      if (q != npos && roles[q].guarantee.at(d) > 0)
        room = std::min(room, roles[q].unsat.at(d));
      else
        room = std::min(room, surplus_room(r, d));
      if (room <= 0)
        continue;
      if (room >= e.scalar) {
        scratch.add(e);
      } else {
        resource part = e;
        part.scalar = room;
        scratch.add(part);
      }
    }
    return &scratch;
  }

  bool try_client(index c, index a, index q, const resource_set*& out) {
    auto& s = clients[c];
    auto& ag = agents[a];
    if (ag.gpus && !fws[s.fw].gpu)
      return false;
    auto cand = candidate(c, a, q);
    if (!is_allocatable(*cand) || filtered(c, a, *cand))
      return false;
    out = cand;
    return true;
  }

  /// The first client in `r`'s subtree, in the sorter's order, that can take something from agent `a`.
  index find_in(index r, index a, index q, const resource_set*& out) {
    return order->find(roles[r].snode, [&](index c) { return try_client(c, a, q, out); });
  }

  void give(index c, index a, const resource_set& what, std::vector<allocation>& result) {
    auto& s = clients[c];
    auto& ag = agents[a];
    order->rule_out(c);
    resource_set res;
    if (&what == &ag.available) {
      res = std::move(ag.available);
      ag.available = resource_set{};
    } else {
      res = what;
      ag.available -= res;
    }
    if (auto [pos, fresh] = s.allocations.try_emplace(a, res); !fresh)
      pos->second += res;
    else
      ag.clients.push_back(c);
    account_alloc(c, res, 1);
    if (s.result_run == runs && s.result_agent == a) {
      result[s.result_idx].resources += res;
    } else {
      s.result_run = runs;
      s.result_agent = a;
      s.result_idx = result.size();
      result.push_back(allocation{fws[s.fw].id, ag.id, roles[s.role].name, std::move(res)});
    }
  }

  /// True if the agent's `blocked` bits hold for its free resources (then they hold for the whole of
  /// allocate_agent: the free resources only shrink, and a filter containing more contains less).
  bool refresh_blocked(index a) {
    auto& ag = agents[a];
    if (ag.filters.empty())
      return false;
    if (!ag.blocked_valid || now >= ag.blocked_until || ag.available != ag.blocked_for) {
      ag.blocked.assign((clients.size() + 63) / 64, 0);
      ag.blocked_until = time_point::max();
      for (const auto& f : ag.filters)
        if (f.expiry > now && f.resources->contains(ag.available)) {
          ag.blocked[f.client >> 6] |= uint64_t{1} << (f.client & 63);
          ag.blocked_until = std::min(ag.blocked_until, f.expiry);
        }
      ag.blocked_for = ag.available;
      ag.blocked_valid = true;
    }
    return true;
  }

  bool uncapped() const {
    return limit_roles == 0 && guarantee_roles == 0;
  }

  bool skip_dead(index a) const {
    auto& ag = agents[a];
    return ag.dead && ag.dead_gen == client_gen && now < ag.dead_until && uncapped();
  }

  void allocate_agent(index a, std::vector<allocation>& result) {
    auto& ag = agents[a];
    const resource_set* what = nullptr;
    const auto results_before = result.size();
    // Clients filtered here are ruled out of both stages' searches from the start.
    static const std::vector<uint64_t> none_blocked;
    const auto& blocked = refresh_blocked(a) ? ag.blocked : none_blocked;
    // Stage 1: roles with unsatisfied guarantees, in their DRF order.
    if (!unsat.empty()) {
      order->begin_pass(blocked);
      for (bool progress = true; progress && is_allocatable(ag.available);) {
        progress = false;
        for (auto it = unsat.begin(); it != unsat.end(); ++it) {
          auto q = it->idx;
          auto c = find_in(q, a, q, what);
          if (c == npos)
            continue;
          give(c, a, *what, result);
          progress = true;
          break; // the order changed: start again (ruled-out roles and clients stay marked)
        }
      }
    }
    // Stage 2: everyone, hierarchical DRF.
    order->begin_pass(blocked);
    while (is_allocatable(ag.available)) {
      auto c = find_in(0, a, npos, what);
      if (c == npos)
        break;
      give(c, a, *what, result);
    }
    update_offerable(a);
    if (result.size() == results_before && uncapped() && offerable.count(a) > 0) {
      ag.dead = true;
      ag.dead_gen = client_gen;
      ag.dead_until = time_point::max();
      for (const auto& f : ag.filters)
        ag.dead_until = std::min(ag.dead_until, f.expiry);
    }
  }

  // -- lookups --------------------------------------------------------------------------------------------

  const framework_state* find_fw(const framework_id& id) const {
    auto i = fw_index.find(id);
    return i == fw_index.end() ? nullptr : &fws[i->second];
  }

  const agent_state* find_agent(const agent_id& id) const {
    auto i = agent_index.find(id);
    return i == agent_index.end() ? nullptr : &agents[i->second];
  }

  /// The client of (framework, role), or npos.
  /// A new client for framework `f` in role `name` (active in the sorter, unsuppressed).
  index add_client(index f, const std::string& name) {
    auto r = ensure_role(name);
    auto c = order->add_client(roles[r].snode, fws[f].id.value);
    if (c >= clients.size())
      clients.resize(c + 1);
    auto& cs = clients[c];
    cs = client_state{};
    cs.live = true;
    cs.fw = f;
    cs.role = r;
    fws[f].role_names.push_back(name);
    fws[f].clients.push_back(c);
    roles[r].all_clients.push_back(c);
    refresh_chain(r);
    return c;
  }

  index find_client(index f, const std::string& role) const {
    auto& s = fws[f];
    for (size_t i = 0; i < s.role_names.size(); ++i)
      if (s.role_names[i] == role)
        return s.clients[i];
    return npos;
  }

  /// The client of (framework, role) and the agent's index, or an error naming what is unknown.
  std::string lookup(const framework_id& fw, const agent_id& agent, const std::string& role, index& c,
                     index& a) const {
    auto fi = fw_index.find(fw);
    if (fi == fw_index.end())
      return unknown_fw(fw);
    auto ai = agent_index.find(agent);
    if (ai == agent_index.end())
      return unknown_agent(agent);
    c = find_client(fi->second, role);
    if (c == npos)
      return "framework '" + fw.value + "' is not subscribed to role '" + role + "'";
    a = ai->second;
    return {};
  }

  void collect_subtree(index r, std::vector<index>& out) const {
    out.push_back(r);
    for (auto c : roles[r].children)
      collect_subtree(c, out);
  }

  /// Quota of `r` changed: its subtree's top-quota flags and headroom shares change; nothing else does.
  void apply_quota(index r, const quota_info& quota) {
    std::vector<index> sub;
    collect_subtree(r, sub);
    // Take the subtree's contributions out of the headroom and the unsatisfied order.
    for (auto y : sub) {
      auto& x = roles[y];
      if (x.top_quota)
        for (size_t d = 0; d < x.unsat.v.size(); ++d)
          headroom.add(d, -x.unsat.v[d]);
      x.unsat = dvec{};
      if (x.unsat_slot.in) {
        unsat.erase(x.unsat_slot.pos);
        x.unsat_slot.in = false;
      }
    }
    auto& x = roles[r];
    limit_roles -= x.has_limit ? 1 : 0;
    guarantee_roles -= x.has_guarantee ? 1 : 0;
    x.quota = quota;
    x.has_guarantee = !quota.guarantee.empty();
    x.has_limit = !quota.limit.empty();
    limit_roles += x.has_limit ? 1 : 0;
    guarantee_roles += x.has_guarantee ? 1 : 0;
    x.guarantee = dvec{};
    x.limit = dvec{};
    for (const auto& e : quota.guarantee.items())
      roles[r].guarantee.set(dim(e.name), e.scalar, 0);
    for (const auto& e : quota.limit.items())
      roles[r].limit.set(dim(e.name), e.scalar, no_limit);
    // Top-most guaranteed role of each branch (sub is in pre-order: parents before children).
    for (auto y : sub) {
      bool ancestor_guaranteed = false;
      for (auto z = roles[y].parent; z != 0 && z != npos; z = roles[z].parent)
        if (roles[z].has_guarantee) {
          ancestor_guaranteed = true;
          break;
        }
      roles[y].top_quota = roles[y].has_guarantee && !ancestor_guaranteed;
    }
    refresh_subtree(r);
    refresh_chain(roles[r].parent);
  }

  void drop_client_filters(index c) {
    auto& s = clients[c];
    for (auto a : s.filtered_agents) {
      agents[a].blocked_valid = false;
      agents[a].dead = false;
      auto& v = agents[a].filters;
      v.erase(std::remove_if(v.begin(), v.end(), [&](const filter& f) { return f.client == c; }), v.end());
    }
    s.filtered_agents.clear();
  }
};

// ---------------------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------------------

hierarchical_allocator::hierarchical_allocator(allocator_config cfg)
  : impl_(std::make_unique<impl>(std::move(cfg))) {
  // nop
}

hierarchical_allocator::~hierarchical_allocator() = default;
hierarchical_allocator::hierarchical_allocator(hierarchical_allocator&&) noexcept = default;
hierarchical_allocator& hierarchical_allocator::operator=(hierarchical_allocator&&) noexcept = default;

// -- frameworks ---------------------------------------------------------------------------------------------

namespace {

// "" or why a framework's role list is refused: each valid, none twice.
std::string check_role_names(const std::vector<std::string>& names) {
  for (size_t i = 0; i < names.size(); ++i) {
    if (!valid_role_name(names[i]))
      return "invalid role '" + names[i] + "'";
    for (size_t j = 0; j < i; ++j)
      if (names[j] == names[i])
        return "role '" + names[i] + "' given twice";
  }
  return {};
}

} // namespace

std::string hierarchical_allocator::add_framework(const framework_id& id, const framework_info& info) {
  auto& m = *impl_;
  if (id.empty())
    return "empty framework ID";
  if (m.fw_index.count(id) > 0)
    return "framework '" + id.value + "' is already known";
  auto names = info.roles.empty() ? std::vector<std::string>{"*"} : info.roles;
  if (auto err = check_role_names(names); !err.empty())
    return err;
  auto f = take_slot(m.fws, m.fw_free);
  auto& s = m.fws[f];
  s = impl::framework_state{};
  s.id = id;
  s.live = true;
  s.active = true;
  s.gpu = std::find(info.capabilities.begin(), info.capabilities.end(), gpu_capability)
          != info.capabilities.end();
  m.fw_index.emplace(id, f);
  for (auto& name : names)
    m.add_client(f, name);
  ++m.client_gen;
  return {};
}

std::string hierarchical_allocator::update_framework(const framework_id& id, const framework_info& info) {
  auto& m = *impl_;
  auto i = m.fw_index.find(id);
  if (i == m.fw_index.end())
    return unknown_fw(id);
  auto names = info.roles.empty() ? std::vector<std::string>{"*"} : info.roles;
  if (auto err = check_role_names(names); !err.empty())
    return err;
  auto f = i->second;
  m.fws[f].gpu = std::find(info.capabilities.begin(), info.capabilities.end(), gpu_capability)
                 != info.capabilities.end();
  // Roles it keeps or takes up again stay; the others retire (their allocations stay accounted).
  for (size_t k = 0; k < m.fws[f].role_names.size(); ++k) {
    auto c = m.fws[f].clients[k];
    bool keep = std::find(names.begin(), names.end(), m.fws[f].role_names[k]) != names.end();
    if (m.clients[c].retired == !keep)
      continue;
    m.clients[c].retired = !keep;
    if (keep)
      m.clients[c].suppressed = false;
    m.sync_client(c);
    m.refresh_chain(m.clients[c].role);
  }
  for (auto& name : names) {
    auto& known = m.fws[f].role_names;
    if (std::find(known.begin(), known.end(), name) != known.end())
      continue;
    auto c = m.add_client(f, name);
    m.sync_client(c);  // the framework may be inactive
    m.refresh_chain(m.clients[c].role);
  }
  ++m.client_gen;
  return {};
}

std::string hierarchical_allocator::remove_framework(const framework_id& id) {
  auto& m = *impl_;
  auto i = m.fw_index.find(id);
  if (i == m.fw_index.end())
    return unknown_fw(id);
  auto f = i->second;
  auto cs = m.fws[f].clients;
  m.fws[f].active = false;
  for (auto c : cs) {
    auto& s = m.clients[c];
    for (auto& [a, res] : s.allocations) {
      auto& ag = m.agents[a];
      ag.available += res;
      erase_value(ag.clients, c);
      m.account_alloc(c, res, -1);
      m.update_offerable(a);
    }
    s.allocations.clear();
    m.drop_client_filters(c);
    m.order->remove_client(c);
    auto r = s.role;
    auto& all = m.roles[r].all_clients;
    all.erase(std::remove(all.begin(), all.end(), c), all.end());
    s = impl::client_state{};
    m.refresh_chain(r);
  }
  m.fws[f] = impl::framework_state{};
  m.fw_index.erase(i);
  m.fw_free.push_back(f);
  return {};
}

std::string hierarchical_allocator::activate_framework(const framework_id& id) {
  auto& m = *impl_;
  auto i = m.fw_index.find(id);
  if (i == m.fw_index.end())
    return unknown_fw(id);
  m.fws[i->second].active = true;
  for (auto c : m.fws[i->second].clients) {
    m.sync_client(c);
    m.refresh_chain(m.clients[c].role);
  }
  ++m.client_gen;
  return {};
}

std::string hierarchical_allocator::deactivate_framework(const framework_id& id) {
  auto& m = *impl_;
  auto i = m.fw_index.find(id);
  if (i == m.fw_index.end())
    return unknown_fw(id);
  m.fws[i->second].active = false;
  for (auto c : m.fws[i->second].clients) {
    m.sync_client(c);
    m.refresh_chain(m.clients[c].role);
  }
  return {};
}

namespace {

/// The framework's clients for `roles` (empty = all) or an error naming the first unknown role.
template <class Impl>
std::string select_clients(Impl& m, index f, const std::vector<std::string>& roles, std::vector<index>& out) {
  auto& s = m.fws[f];
  if (roles.empty()) {
    for (auto c : s.clients)
      if (!m.clients[c].retired)
        out.push_back(c);
    return {};
  }
  for (auto& r : roles) {
    auto c = m.find_client(f, r);
    if (c == npos || m.clients[c].retired)
      return "framework '" + s.id.value + "' is not subscribed to role '" + r + "'";
    out.push_back(c);
  }
  return {};
}

} // namespace

std::string hierarchical_allocator::suppress(const framework_id& id, const std::vector<std::string>& roles) {
  auto& m = *impl_;
  auto i = m.fw_index.find(id);
  if (i == m.fw_index.end())
    return unknown_fw(id);
  std::vector<index> cs;
  if (auto err = select_clients(m, i->second, roles, cs); !err.empty())
    return err;
  for (auto c : cs) {
    m.clients[c].suppressed = true;
    m.sync_client(c);
    m.refresh_chain(m.clients[c].role);
  }
  return {};
}

std::string hierarchical_allocator::revive(const framework_id& id, const std::vector<std::string>& roles) {
  auto& m = *impl_;
  auto i = m.fw_index.find(id);
  if (i == m.fw_index.end())
    return unknown_fw(id);
  std::vector<index> cs;
  if (auto err = select_clients(m, i->second, roles, cs); !err.empty())
    return err;
  for (auto c : cs) {
    m.drop_client_filters(c);
    m.clients[c].suppressed = false;
    m.sync_client(c);
    m.refresh_chain(m.clients[c].role);
  }
  ++m.client_gen;
  return {};
}

// -- agents -------------------------------------------------------------------------------------------------

std::string hierarchical_allocator::add_agent(const agent_id& id, const resource_set& total) {
  auto& m = *impl_;
  if (id.empty())
    return "empty agent ID";
  if (m.agent_index.count(id) > 0)
    return "agent '" + id.value + "' is already known";
  if (auto err = total.validate(); !err.empty())
    return "invalid resources for agent '" + id.value + "': " + err;
  auto a = take_slot(m.agents, m.agent_free);
  auto& s = m.agents[a];
  s = impl::agent_state{};
  s.id = id;
  s.live = true;
  s.available = total;
  m.agent_index.emplace(id, a);
  std::vector<index> touched;
  m.order->add_total(total);
  m.account_total(total, 1, touched);
  m.set_agent_total(a, total);
  for (auto r : touched)
    m.refresh_chain(r);
  m.stale = true;
  m.update_offerable(a);
  return {};
}

std::string hierarchical_allocator::add_agent(const agent_id& id, const resource_set& total,
                                              const std::vector<allocation>& used, size_t* ignored) {
  if (auto err = add_agent(id, total); !err.empty())
    return err;
  auto& m = *impl_;
  auto a = m.agent_index.at(id);
  size_t skipped = 0;
  for (const auto& u : used) {
    // Only what fits: an allocation to a framework or role we do not know (yet), or one that exceeds what is
    // left, would break "available + allocated == total".
    auto fi = m.fw_index.find(u.framework);
    auto c = fi == m.fw_index.end() ? npos : m.find_client(fi->second, u.role.empty() ? "*" : u.role);
    if (u.agent != id || c == npos || !u.resources.validate().empty() || u.resources.empty()
        || !m.agents[a].available.contains(u.resources)) {
      ++skipped;
      continue;
    }
    auto& s = m.clients[c];
    auto& ag = m.agents[a];
    ag.available -= u.resources;
    if (auto [pos, fresh] = s.allocations.try_emplace(a, u.resources); !fresh)
      pos->second += u.resources;
    else
      ag.clients.push_back(c);
    m.account_alloc(c, u.resources, 1);
  }
  m.update_offerable(a);
  if (ignored != nullptr)
    *ignored = skipped;
  return {};
}

std::string hierarchical_allocator::deactivate_agent(const agent_id& id) {
  auto& m = *impl_;
  auto i = m.agent_index.find(id);
  if (i == m.agent_index.end())
    return unknown_agent(id);
  m.agents[i->second].active = false;
  m.update_offerable(i->second);
  return {};
}

std::string hierarchical_allocator::activate_agent(const agent_id& id) {
  auto& m = *impl_;
  auto i = m.agent_index.find(id);
  if (i == m.agent_index.end())
    return unknown_agent(id);
  m.agents[i->second].active = true;
  m.update_offerable(i->second);
  return {};
}

bool hierarchical_allocator::is_agent_active(const agent_id& id) const {
  auto s = impl_->find_agent(id);
  return s != nullptr && s->active;
}

std::string hierarchical_allocator::remove_agent(const agent_id& id) {
  auto& m = *impl_;
  auto i = m.agent_index.find(id);
  if (i == m.agent_index.end())
    return unknown_agent(id);
  auto a = i->second;
  auto& s = m.agents[a];
  for (auto c : s.clients) {
    auto& cs = m.clients[c];
    auto j = cs.allocations.find(a);
    if (j == cs.allocations.end())
      continue;
    m.account_alloc(c, j->second, -1);
    cs.allocations.erase(j);
  }
  for (const auto& f : s.filters)
    m.clients[f.client].filtered_agents.erase(a);
  std::vector<index> touched;
  // What was allocated has been taken back above, so unallocated unreserved == the agent's unreserved.
  m.order->remove_total(s.total);
  m.account_total(s.total, -1, touched);
  m.set_agent_total(a, resource_set{});
  for (auto r : touched)
    m.refresh_chain(r);
  m.offerable.erase(a);
  m.agents[a] = impl::agent_state{};
  m.agent_index.erase(i);
  m.agent_free.push_back(a);
  m.stale = true;
  return {};
}

// -- resources ----------------------------------------------------------------------------------------------

std::string hierarchical_allocator::recover(const framework_id& fw, const agent_id& agent, const std::string& role,
                                            const resource_set& resources, double refuse_seconds, time_point now) {
  auto& m = *impl_;
  if (auto err = check_refuse(refuse_seconds, m.cfg.max_refuse_seconds); !err.empty())
    return err;
  index c = npos;
  index a = npos;
  if (auto err = m.lookup(fw, agent, role, c, a); !err.empty())
    return err;
  if (auto err = resources.validate(); !err.empty())
    return "invalid resources: " + err;
  if (resources.empty())
    return {}; // nothing comes back; a filter on nothing would never match anything
  auto& s = m.clients[c];
  auto alloc = s.allocations.find(a);
  if (alloc == s.allocations.end() || !alloc->second.contains(resources))
    return "resources " + resources.to_string() + " are not allocated to framework '" + fw.value + "' (role '"
           + role + "') on agent '" + agent.value + "'";
  auto& ag = m.agents[a];
  alloc->second -= resources;
  if (alloc->second.empty()) {
    s.allocations.erase(alloc);
    erase_value(ag.clients, c);
  }
  ag.available += resources;
  m.account_alloc(c, resources, -1);
  if (refuse_seconds > 0) {
    auto d = std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(refuse_seconds));
    auto pos = std::upper_bound(ag.filters.begin(), ag.filters.end(), c,
                                [](index x, const impl::filter& f) { return x < f.client; });
    if (!ag.last_filtered || *ag.last_filtered != resources)
      ag.last_filtered = std::make_shared<const resource_set>(resources);
    ag.filters.insert(pos, impl::filter{c, now + d, ag.last_filtered});
    // Keep the agent's blocked bits (see agent_state) instead of recomputing them all in the next run.
    if (ag.blocked_valid && resources.contains(ag.blocked_for)) {
      if ((c >> 6) >= ag.blocked.size())
        ag.blocked.resize((c >> 6) + 1, 0);
      ag.blocked[c >> 6] |= uint64_t{1} << (c & 63);
      ag.blocked_until = std::min(ag.blocked_until, now + d);
    }
    s.filtered_agents.insert(a);
  }
  m.update_offerable(a);
  return {};
}

std::string hierarchical_allocator::update_allocation(const framework_id& fw, const agent_id& agent,
                                                      const std::string& role, const resource_set& consumed,
                                                      const resource_set& produced) {
  auto& m = *impl_;
  index c = npos;
  index a = npos;
  if (auto err = m.lookup(fw, agent, role, c, a); !err.empty())
    return err;
  if (auto err = consumed.validate(); !err.empty())
    return "invalid consumed resources: " + err;
  if (auto err = produced.validate(); !err.empty())
    return "invalid produced resources: " + err;
  if (consumed.with_role("*") != produced.with_role("*"))
    return "an operation must keep quantities: consumed " + consumed.to_string() + " but produced "
           + produced.to_string();
  for (const auto& e : produced.items())
    if (e.role != "*" && !is_role_or_ancestor(e.role, role))
      return "produced resources reserved to '" + e.role + "' cannot belong to an allocation of role '" + role
             + "'";
  auto& s = m.clients[c];
  auto alloc = s.allocations.find(a);
  if (alloc == s.allocations.end() || !alloc->second.contains(consumed))
    return "resources " + consumed.to_string() + " are not allocated to framework '" + fw.value + "' (role '"
           + role + "') on agent '" + agent.value + "'";
  auto& ag = m.agents[a];
  if (!ag.total.contains(consumed))
    return "resources " + consumed.to_string() + " are not part of agent '" + agent.value + "'";
  if (consumed == produced)
    return {};
  auto new_total = ag.total - consumed + produced;
  if (auto err = new_total.validate(); !err.empty())
    return "the agent's resources would become invalid: " + err;
  auto new_alloc = alloc->second - consumed + produced;
  if (auto err = new_alloc.validate(); !err.empty())
    return "the allocation would become invalid: " + err;
  // Take the old shape out of the books, put the new one in; the quantities (and thus totals) are equal.
  m.account_alloc(c, consumed, -1);
  std::vector<index> touched;
  m.account_total(consumed, -1, touched);
  m.account_total(produced, 1, touched);
  m.set_agent_total(a, std::move(new_total));
  alloc->second = std::move(new_alloc);
  m.account_alloc(c, produced, 1);
  for (auto r : touched)
    m.refresh_chain(r);
  m.update_offerable(a);
  return {};
}

std::string hierarchical_allocator::update_available(const agent_id& agent, const resource_set& consumed,
                                                     const resource_set& produced) {
  auto& m = *impl_;
  auto i = m.agent_index.find(agent);
  if (i == m.agent_index.end())
    return "unknown agent '" + agent.value + "'";
  if (auto err = consumed.validate(); !err.empty())
    return "invalid consumed resources: " + err;
  if (auto err = produced.validate(); !err.empty())
    return "invalid produced resources: " + err;
  if (consumed.empty() || consumed.with_role("*") != produced.with_role("*"))
    return "an operation must keep quantities: consumed " + consumed.to_string() + " but produced "
           + produced.to_string();
  auto a = i->second;
  auto& ag = m.agents[a];
  if (!ag.available.contains(consumed))
    return "resources " + consumed.to_string() + " are not free on agent '" + agent.value + "' (free: "
           + ag.available.to_string() + ")";
  if (consumed == produced)
    return {};
  auto new_total = ag.total - consumed + produced;
  if (auto err = new_total.validate(); !err.empty())
    return "the agent's resources would become invalid: " + err;
  // Free resources count in the totals only (account_total keeps the unallocated unreserved figure too).
  std::vector<index> touched;
  m.account_total(consumed, -1, touched);
  m.account_total(produced, 1, touched);
  m.set_agent_total(a, std::move(new_total));
  ag.available = ag.available - consumed + produced;
  for (auto r : touched)
    m.refresh_chain(r);
  m.update_offerable(a);
  return {};
}

// -- roles --------------------------------------------------------------------------------------------------

std::string hierarchical_allocator::set_weight(const std::string& role, double weight) {
  auto& m = *impl_;
  if (!valid_role_name(role))
    return "invalid role '" + role + "'";
  if (!std::isfinite(weight) || weight <= 0)
    return "invalid weight " + std::to_string(weight) + " (must be finite and > 0)";
  auto r = m.ensure_role(role);
  m.order->set_weight(m.roles[r].snode, weight);
  m.refresh_chain(r);
  return {};
}

namespace {

std::string check_quota_set(const resource_set& r, const char* what) {
  if (auto err = r.validate(); !err.empty())
    return std::string{"invalid "} + what + ": " + err;
  for (const auto& e : r.items()) {
    if (e.type != value_type::scalar)
      return std::string{what} + " may hold only scalars ('" + e.name + "' is not)";
    if (e.role != "*" || e.dynamic || !e.volume_id.empty())
      return std::string{what} + " may hold only unreserved resources";
  }
  return {};
}

/// Is `a` at most `b` for every name mentioned by both?
std::string check_below(const resource_set& a, const resource_set& b, const std::string& what) {
  for (const auto& e : a.items()) {
    auto other = b.find(e.name);
    if (other != nullptr && e.scalar > other->scalar)
      return what + " (" + e.name + ")";
  }
  return {};
}

} // namespace

std::string hierarchical_allocator::set_quota(const std::string& role, const quota_info& quota) {
  auto& m = *impl_;
  if (!valid_role_name(role) || role == "*")
    return "invalid role '" + role + "' for quota";
  if (auto err = check_quota_set(quota.guarantee, "guarantee"); !err.empty())
    return err;
  if (auto err = check_quota_set(quota.limit, "limit"); !err.empty())
    return err;
  if (!quota.limit.empty())
    if (auto err = check_below(quota.guarantee, quota.limit, "guarantee exceeds limit"); !err.empty())
      return err;
  // Ancestors (existing or not yet: their quota is then empty).
  for (auto p = parent_name(role); !p.empty(); p = parent_name(p)) {
    auto r = m.find_role(p);
    if (r == npos)
      continue;
    auto& x = m.roles[r];
    if (auto err = check_below(quota.limit, x.quota.limit, "limit exceeds the limit of ancestor '" + p + "'");
        !err.empty())
      return err;
  }
  auto sum_children = [&](index parent, index replaced, const resource_set& replacement) {
    resource_set sum;
    for (auto ch : m.roles[parent].children)
      sum += ch == replaced ? replacement : m.roles[ch].quota.guarantee;
    return sum;
  };
  auto self = m.find_role(role);
  // The parent's guarantee must cover its children's.
  {
    auto p = parent_name(role);
    auto pr = p.empty() ? npos : m.find_role(p);
    if (pr != npos && !m.roles[pr].quota.guarantee.empty()) {
      auto sum = self == npos ? sum_children(pr, npos, {}) + quota.guarantee
                              : sum_children(pr, self, quota.guarantee);
      for (const auto& e : sum.items())
        if (e.scalar > m.roles[pr].quota.guarantee.scalar_milli(e.name))
          return "guarantees of the children of '" + p + "' would exceed its guarantee (" + e.name + ")";
    }
  }
  if (self != npos) {
    // Descendants: their limits must stay within ours, their guarantees within ours.
    std::vector<index> stack(m.roles[self].children.begin(), m.roles[self].children.end());
    while (!stack.empty()) {
      auto d = stack.back();
      stack.pop_back();
      auto& x = m.roles[d];
      if (auto err = check_below(x.quota.limit, quota.limit, "limit of descendant '" + x.name + "' exceeds it");
          !err.empty())
        return err;
      stack.insert(stack.end(), x.children.begin(), x.children.end());
    }
    if (!quota.guarantee.empty()) {
      auto sum = sum_children(self, npos, {});
      for (const auto& e : sum.items())
        if (e.scalar > quota.guarantee.scalar_milli(e.name))
          return "guarantees of the children of '" + role + "' exceed this guarantee (" + e.name + ")";
    }
  }
  m.apply_quota(m.ensure_role(role), quota);
  ++m.client_gen;
  return {};
}

// -- allocation ---------------------------------------------------------------------------------------------

std::vector<allocation> hierarchical_allocator::allocate(time_point now) {
  auto& m = *impl_;
  ++m.runs;
  m.now = now;
  if (m.stale)
    m.refresh_all();
  std::vector<allocation> result;
  // Snapshot: allocate_agent changes the set.
  std::vector<index> agents(m.offerable.begin(), m.offerable.end());
  for (auto a : agents)
    if (!m.skip_dead(a))
      m.allocate_agent(a, result);
  return result;
}

// -- introspection ------------------------------------------------------------------------------------------

std::vector<role_summary> hierarchical_allocator::roles() const {
  auto& m = *impl_;
  std::vector<role_summary> out;
  std::vector<index> order;
  for (index r = 1; r < m.roles.size(); ++r)
    order.push_back(r);
  std::sort(order.begin(), order.end(), [&](index a, index b) { return m.roles[a].name < m.roles[b].name; });
  for (auto r : order) {
    auto& x = m.roles[r];
    role_summary s;
    s.name = x.name;
    s.weight = m.order->weight(x.snode);
    s.quota = x.quota;
    s.allocated = m.subtree_allocation(x);
    s.reserved = m.to_set(x.sub_resv);
    for (auto c : x.all_clients)
      if (!m.clients[c].retired)
        s.frameworks.push_back(m.fws[m.clients[c].fw].id);
    std::sort(s.frameworks.begin(), s.frameworks.end(),
              [](const framework_id& a, const framework_id& b) { return a.value < b.value; });
    out.push_back(std::move(s));
  }
  return out;
}

bool hierarchical_allocator::has_role(const std::string& role) const {
  return impl_->find_role(role) != npos;
}

double hierarchical_allocator::weight(const std::string& role) const {
  auto r = impl_->find_role(role);
  return r == npos ? 1.0 : impl_->order->weight(impl_->roles[r].snode);
}

quota_info hierarchical_allocator::quota(const std::string& role) const {
  auto r = impl_->find_role(role);
  return r == npos ? quota_info{} : impl_->roles[r].quota;
}

resource_set hierarchical_allocator::consumed_quota(const std::string& role) const {
  auto& m = *impl_;
  auto r = m.find_role(role);
  if (r == npos)
    return {};
  dvec c;
  for (size_t d = 0; d < m.dim_names.size(); ++d)
    c.set(d, m.consumed(m.roles[r], d), 0);
  return m.to_set(c);
}

resource_set hierarchical_allocator::role_allocated(const std::string& role) const {
  auto r = impl_->find_role(role);
  return r == npos ? resource_set{} : impl_->subtree_allocation(impl_->roles[r]);
}

double hierarchical_allocator::role_share(const std::string& role) {
  auto r = impl_->find_role(role);
  return r == npos ? 0 : impl_->order->role_share(impl_->roles[r].snode);
}

bool hierarchical_allocator::has_framework(const framework_id& id) const {
  return impl_->fw_index.count(id) > 0;
}

bool hierarchical_allocator::has_agent(const agent_id& id) const {
  return impl_->agent_index.count(id) > 0;
}

size_t hierarchical_allocator::framework_count() const {
  return impl_->fw_index.size();
}

size_t hierarchical_allocator::agent_count() const {
  return impl_->agent_index.size();
}

size_t hierarchical_allocator::role_count() const {
  return impl_->role_index.size();
}

bool hierarchical_allocator::is_active(const framework_id& id) const {
  auto s = impl_->find_fw(id);
  return s != nullptr && s->active;
}

bool hierarchical_allocator::is_suppressed(const framework_id& id, const std::string& role) const {
  auto& m = *impl_;
  auto i = m.fw_index.find(id);
  if (i == m.fw_index.end())
    return false;
  auto& s = m.fws[i->second];
  if (role.empty())
    return std::all_of(s.clients.begin(), s.clients.end(), [&](index c) { return m.clients[c].suppressed; });
  auto c = m.find_client(i->second, role);
  return c != npos && m.clients[c].suppressed;
}

std::vector<std::string> hierarchical_allocator::framework_roles(const framework_id& id) const {
  auto s = impl_->find_fw(id);
  std::vector<std::string> out;
  if (s != nullptr)
    for (size_t i = 0; i < s->role_names.size(); ++i)
      if (!impl_->clients[s->clients[i]].retired)
        out.push_back(s->role_names[i]);
  return out;
}

resource_set hierarchical_allocator::allocated(const framework_id& fw, const agent_id& agent) const {
  auto& m = *impl_;
  auto fi = m.fw_index.find(fw);
  auto ai = m.agent_index.find(agent);
  resource_set out;
  if (fi == m.fw_index.end() || ai == m.agent_index.end())
    return out;
  for (auto c : m.fws[fi->second].clients) {
    auto j = m.clients[c].allocations.find(ai->second);
    if (j != m.clients[c].allocations.end())
      out += j->second;
  }
  return out;
}

resource_set hierarchical_allocator::allocated(const framework_id& fw, const agent_id& agent,
                                               const std::string& role) const {
  auto& m = *impl_;
  auto fi = m.fw_index.find(fw);
  auto ai = m.agent_index.find(agent);
  if (fi == m.fw_index.end() || ai == m.agent_index.end())
    return {};
  auto c = m.find_client(fi->second, role);
  if (c == npos)
    return {};
  auto j = m.clients[c].allocations.find(ai->second);
  return j == m.clients[c].allocations.end() ? resource_set{} : j->second;
}

resource_set hierarchical_allocator::allocated(const framework_id& fw) const {
  auto& m = *impl_;
  resource_set out;
  auto fi = m.fw_index.find(fw);
  if (fi == m.fw_index.end())
    return out;
  for (auto c : m.fws[fi->second].clients)
    for (const auto& kv : m.clients[c].allocations)
      out += kv.second;
  return out;
}

resource_set hierarchical_allocator::available(const agent_id& agent) const {
  auto s = impl_->find_agent(agent);
  return s == nullptr ? resource_set{} : s->available;
}

resource_set hierarchical_allocator::total(const agent_id& agent) const {
  auto s = impl_->find_agent(agent);
  return s == nullptr ? resource_set{} : s->total;
}

double hierarchical_allocator::dominant_share(const framework_id& fw) {
  auto& m = *impl_;
  auto fi = m.fw_index.find(fw);
  if (fi == m.fw_index.end())
    return 0;
  return m.order->share_of(allocated(fw));
}

size_t hierarchical_allocator::filter_count(const framework_id& fw) const {
  auto& m = *impl_;
  auto fi = m.fw_index.find(fw);
  size_t n = 0;
  if (fi != m.fw_index.end())
    for (auto c : m.fws[fi->second].clients)
      n += m.filter_count(c);
  return n;
}

size_t hierarchical_allocator::filter_count(const framework_id& fw, const std::string& role) const {
  auto& m = *impl_;
  auto fi = m.fw_index.find(fw);
  if (fi == m.fw_index.end())
    return 0;
  auto c = m.find_client(fi->second, role);
  size_t n = 0;
  if (c != npos)
    n += m.filter_count(c);
  return n;
}

size_t hierarchical_allocator::offerable_agent_count() const {
  return impl_->offerable.size();
}

uint64_t hierarchical_allocator::allocation_runs() const {
  return impl_->runs;
}

bool hierarchical_allocator::is_allocatable(const resource_set& r) const {
  return impl_->is_allocatable(r);
}

size_t hierarchical_allocator::memory_bytes() const {
  auto& m = *impl_;
  auto set_bytes = [](const resource_set& r) {
    size_t n = r.items().capacity() * sizeof(resource);
    for (const auto& e : r.items())
      n += e.ranges.capacity() * sizeof(value_range) + e.items.size() * 48;
    return n;
  };
  size_t n = sizeof(impl);
  n += m.roles.capacity() * sizeof(impl::role_node) + m.roles.size() * 3 * 64;
  n += m.clients.capacity() * sizeof(impl::client_state);
  for (const auto& c : m.clients) {
    n += 160; // its state and order entry in the sorter
    for (const auto& kv : c.allocations)
      n += 48 + set_bytes(kv.second);
    n += c.filtered_agents.size() * 32;
  }
  n += m.fws.capacity() * sizeof(impl::framework_state) + m.fw_index.size() * 64;
  n += m.agents.capacity() * sizeof(impl::agent_state) + m.agent_index.size() * 64;
  for (const auto& a : m.agents) {
    n += set_bytes(a.total) + set_bytes(a.available) + a.clients.size() * 32;
    n += a.filters.capacity() * sizeof(impl::filter);
    n += a.blocked.capacity() * sizeof(uint64_t) + set_bytes(a.blocked_for);
    for (const auto& f : a.filters)
      if (f.resources.use_count() > 0)
        n += set_bytes(*f.resources) / static_cast<size_t>(f.resources.use_count());
  }
  n += m.offerable.size() * 40;
  return n;
}

} // namespace mesoscaf
