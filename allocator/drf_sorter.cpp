#include "allocator/drf_sorter.hpp"

#include <algorithm>
#include <cstring>

namespace mesoscaf {

namespace {

// Marks the entry of a role's own clients in the role's order (a role handle is never this large).
constexpr uint32_t self_entry = sorter::none - 1;

/// The size and the first 7 bytes of a name: equal keys mean equal names below 8 bytes (cpus, mem, ...).
uint64_t name_key(const std::string& name) {
  uint64_t key = 0;
  std::memcpy(&key, name.data(), std::min<size_t>(name.size(), 7));
  return key | static_cast<uint64_t>(std::min<size_t>(name.size(), 255)) << 56;
}

std::string parent_path(const std::string& path) {
  if (path == "*")
    return {};
  auto pos = path.rfind('/');
  return pos == std::string::npos ? std::string{} : path.substr(0, pos);
}

} // namespace

drf_sorter::drf_sorter() : roles_(1) {
  // nop
}

// -- roles ----------------------------------------------------------------------------------------------------

sorter::node drf_sorter::add_role(const std::string& path) {
  if (auto r = find_role(path); r != none)
    return r;
  auto ppath = parent_path(path);
  node parent = ppath.empty() ? 0 : add_role(ppath);
  auto r = static_cast<node>(roles_.size());
  roles_.emplace_back();
  roles_.back().path = path;
  roles_.back().parent = parent;
  roles_[parent].children.push_back(r);
  role_index_.emplace(path, r);
  return r;
}

sorter::node drf_sorter::find_role(const std::string& path) const {
  auto i = role_index_.find(path);
  return i == role_index_.end() ? none : i->second;
}

void drf_sorter::set_weight(node r, double weight) {
  roles_[r].weight = weight;
  place_chain(r);
}

void drf_sorter::set_eligible(node r, bool eligible) {
  if (roles_[r].eligible == eligible)
    return;
  roles_[r].eligible = eligible;
  place_chain(r);
}

// -- clients --------------------------------------------------------------------------------------------------

sorter::client drf_sorter::add_client(node r, const std::string& name) {
  client c;
  if (!free_.empty()) {
    c = free_.back();
    free_.pop_back();
  } else {
    c = static_cast<client>(clients_.size());
    clients_.emplace_back();
  }
  auto& s = clients_[c];
  s = client_state{};
  s.live = true;
  s.active = true;
  s.role = r;
  s.name = name;
  replace(c);
  return c;
}

void drf_sorter::remove_client(client c) {
  auto& s = clients_[c];
  auto r = s.role;
  // Take what is left out of the roles' shares, so the tree stays the sum of its clients.
  for (size_t d = 0; d < s.alloc.v.size(); ++d) {
    auto x = s.alloc.v[d];
    roles_[r].own_alloc.add(d, -x);
    for (auto y = r; y != none; y = roles_[y].parent)
      roles_[y].sub_alloc.add(d, -x);
  }
  s.active = false;
  place_client(c);
  s = client_state{};
  free_.push_back(c);
  place_self(r);
  place_chain(r);
}

void drf_sorter::activate(client c) {
  clients_[c].active = true;
  replace(c);
}

void drf_sorter::deactivate(client c) {
  clients_[c].active = false;
  replace(c);
}

// -- resources ------------------------------------------------------------------------------------------------

/// `hint`: where the next name probably is (a set's names come sorted, mostly in the order they were first
/// seen), so a lookup costs one integer comparison on the hot path.
size_t drf_sorter::dim(const std::string& name, size_t& hint) {
  auto key = name_key(name);
  auto same = [&](size_t d) { return dim_keys_[d] == key && (name.size() < 8 || dims_[d] == name); };
  size_t d = hint < dims_.size() && same(hint) ? hint : 0;
  while (d < dims_.size() && !same(d))
    ++d;
  if (d == dims_.size()) {
    dims_.push_back(name);
    dim_keys_.push_back(key);
  }
  hint = d + 1;
  return d;
}

size_t drf_sorter::dimension(const std::string& name) {
  size_t hint = 0;
  return dim(name, hint);
}

void drf_sorter::change_total(const resource_set& r, int sign) {
  size_t hint = 0;
  for (const auto& e : r.items())
    if (e.type == value_type::scalar)
      totals_.add(dim(e.name, hint), sign * e.scalar);
  stale_ = true;
}

void drf_sorter::add_total(const resource_set& r) {
  change_total(r, 1);
}

void drf_sorter::remove_total(const resource_set& r) {
  change_total(r, -1);
}

void drf_sorter::account(client c, const resource_set& r, int sign) {
  auto& s = clients_[c];
  auto& own = roles_[s.role];
  size_t hint = 0;
  for (const auto& e : r.items()) {
    if (e.type != value_type::scalar)
      continue;
    auto d = dim(e.name, hint);
    auto x = sign * e.scalar;
    s.alloc.add(d, x);
    own.own_alloc.add(d, x);
    for (auto y = s.role; y != none; y = roles_[y].parent)
      roles_[y].sub_alloc.add(d, x);
  }
  replace(c);
}

void drf_sorter::account(client c, const quantities& q, int sign) {
  auto& s = clients_[c];
  auto& own = roles_[s.role];
  for (const auto& [d, amount] : q) {
    auto x = sign * amount;
    s.alloc.add(d, x);
    own.own_alloc.add(d, x);
    for (auto y = s.role; y != none; y = roles_[y].parent)
      roles_[y].sub_alloc.add(d, x);
  }
  replace(c);
}

void drf_sorter::allocated(client c, const quantities& q) {
  account(c, q, 1);
}

void drf_sorter::unallocated(client c, const quantities& q) {
  account(c, q, -1);
}

void drf_sorter::allocated(client c, const resource_set& r) {
  account(c, r, 1);
}

void drf_sorter::unallocated(client c, const resource_set& r) {
  account(c, r, -1);
}

double drf_sorter::share(client c) const {
  return share(clients_[c].alloc);
}

double drf_sorter::role_share(node r) const {
  return share(roles_[r].sub_alloc) / roles_[r].weight;
}

double drf_sorter::share_of(const resource_set& r) const {
  dvec x;
  for (const auto& e : r.items())
    if (e.type == value_type::scalar)
      for (size_t d = 0; d < dims_.size(); ++d)
        if (dims_[d] == e.name)
          x.add(d, e.scalar);
  return share(x);
}

// -- keys -----------------------------------------------------------------------------------------------------

void drf_sorter::place_client(client c) {
  auto& s = clients_[c];
  place(roles_[s.role].clients, s.slot, s.live && s.active, share(s.alloc), s.name, c);
}

void drf_sorter::place_self(node r) {
  auto& x = roles_[r];
  place(x.order, x.self, !x.clients.empty(), share(x.own_alloc), std::string{}, self_entry);
}

/// The client's entry and every entry above it (its share or presence changed).
void drf_sorter::replace(client c) {
  place_client(c);
  place_self(clients_[c].role);
  place_chain(clients_[c].role);
}

/// The role's place in its parent's order, and so on up to the root (every share on the path changed, or
/// a role's presence did, which may empty or fill its parent).
void drf_sorter::place_chain(node r) {
  for (auto x = r; x != 0 && x != none; x = roles_[x].parent) {
    auto& n = roles_[x];
    place(roles_[n.parent].order, n.in_parent, n.eligible && !n.order.empty(), role_share(x), n.path, x);
  }
}

/// Re-keys a whole subtree, deepest first (a parent's presence depends on its children's).
void drf_sorter::refresh_subtree(node r) {
  for (auto c : roles_[r].children)
    refresh_subtree(c);
  place_self(r);
  if (r != 0) {
    auto& n = roles_[r];
    place(roles_[n.parent].order, n.in_parent, n.eligible && !n.order.empty(), role_share(r), n.path, r);
  }
}

void drf_sorter::refresh_if_stale() {
  if (!stale_)
    return;
  for (client c = 0; c < clients_.size(); ++c)
    if (clients_[c].live)
      place_client(c);
  refresh_subtree(0);
  stale_ = false;
}

// -- order ----------------------------------------------------------------------------------------------------

void drf_sorter::sort_into(node r, std::vector<client>& out) const {
  for (const auto& e : roles_[r].order) {
    if (e.idx != self_entry) {
      sort_into(e.idx, out);
      continue;
    }
    for (const auto& ce : roles_[r].clients)
      out.push_back(ce.idx);
  }
}

std::vector<sorter::client> drf_sorter::sort() {
  refresh_if_stale();
  std::vector<client> out;
  sort_into(0, out);
  return out;
}

void drf_sorter::begin_pass(const std::vector<uint64_t>& ruled_out) {
  refresh_if_stale();
  ++pass_;
  out_.assign(ruled_out.begin(), ruled_out.end());
  out_.resize(std::max(out_.size(), (clients_.size() + 63) / 64), 0);
}

sorter::client drf_sorter::find(node from, client_predicate accept) {
  return find_in(from, accept);
}

sorter::client drf_sorter::find_in(node r, client_predicate& accept) {
  auto& x = roles_[r];
  if (x.pass == pass_)
    return none;
  for (const auto& e : x.order) {
    if (e.idx != self_entry) {
      if (auto c = find_in(e.idx, accept); c != none)
        return c;
      continue;
    }
    for (const auto& ce : x.clients) {
      auto c = ce.idx;
      if ((c >> 6) < out_.size() && (out_[c >> 6] >> (c & 63) & 1) != 0)
        continue;
      if (accept(c))
        return c;
      rule_out(c);
    }
  }
  x.pass = pass_;
  return none;
}

void drf_sorter::rule_out(client c) {
  if ((c >> 6) >= out_.size())
    out_.resize((c >> 6) + 1, 0);
  out_[c >> 6] |= uint64_t{1} << (c & 63);
}

} // namespace mesoscaf
