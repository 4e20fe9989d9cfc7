#include "allocator/drf_sorter.hpp"

#include <algorithm>
#include <cmath>

namespace mesoscaf {

namespace {

constexpr size_t no_dim = static_cast<size_t>(-1);

} // namespace

drf_sorter::client drf_sorter::add(const std::string& name) {
  if (name.empty() || index_.count(name) > 0)
    return npos;
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
  s.name = name;
  s.live = true;
  s.pos = order_.end();
  index_.emplace(name, c);
  return c;
}

bool drf_sorter::remove(client c) {
  if (!valid(c))
    return false;
  deactivate(c);
  index_.erase(clients_[c].name);
  clients_[c] = client_state{};
  clients_[c].pos = order_.end();
  free_.push_back(c);
  return true;
}

drf_sorter::client drf_sorter::find(const std::string& name) const {
  auto i = index_.find(name);
  return i == index_.end() ? npos : i->second;
}

void drf_sorter::activate(client c) {
  if (!valid(c) || clients_[c].active)
    return;
  auto& s = clients_[c];
  s.active = true;
  s.pos = order_.insert(entry{compute_share(s), s.name, c}).first;
}

void drf_sorter::deactivate(client c) {
  if (!valid(c) || !clients_[c].active)
    return;
  auto& s = clients_[c];
  order_.erase(s.pos);
  s.pos = order_.end();
  s.active = false;
}

bool drf_sorter::set_weight(client c, double weight) {
  if (!valid(c) || !std::isfinite(weight) || weight <= 0)
    return false;
  clients_[c].weight = weight;
  rekey(c);
  return true;
}

size_t drf_sorter::dimension(const std::string& name) {
  auto i = dims_.find(name);
  if (i != dims_.end())
    return i->second;
  auto d = dim_names_.size();
  dim_names_.push_back(name);
  dims_.emplace(name, d);
  totals_.push_back(0);
  return d;
}

size_t drf_sorter::find_dimension(const std::string& name) const {
  auto i = dims_.find(name);
  return i == dims_.end() ? no_dim : i->second;
}

void drf_sorter::allocated(client c, const resource_set& r) {
  if (!valid(c))
    return;
  for (const auto& x : r.items()) {
    if (x.type != value_type::scalar || x.scalar == 0)
      continue;
    auto d = dimension(x.name);
    auto& alloc = clients_[c].alloc;
    if (alloc.size() <= d)
      alloc.resize(d + 1, 0);
    alloc[d] += x.scalar;
  }
  rekey(c);
}

void drf_sorter::unallocated(client c, const resource_set& r) {
  if (!valid(c))
    return;
  auto& alloc = clients_[c].alloc;
  for (const auto& x : r.items()) {
    if (x.type != value_type::scalar)
      continue;
    auto d = find_dimension(x.name);
    if (d == no_dim || d >= alloc.size())
      continue;
    alloc[d] = std::max<milli>(0, alloc[d] - x.scalar);
  }
  rekey(c);
}

milli drf_sorter::allocated_milli(client c, const std::string& name) const {
  if (!valid(c))
    return 0;
  auto d = find_dimension(name);
  const auto& alloc = clients_[c].alloc;
  return d == no_dim || d >= alloc.size() ? 0 : alloc[d];
}

void drf_sorter::add_total(const resource_set& r) {
  for (const auto& x : r.items())
    if (x.type == value_type::scalar && x.scalar != 0) {
      totals_[dimension(x.name)] += x.scalar;
      stale_ = true;
    }
}

void drf_sorter::remove_total(const resource_set& r) {
  for (const auto& x : r.items()) {
    if (x.type != value_type::scalar)
      continue;
    auto d = find_dimension(x.name);
    if (d == no_dim)
      continue;
    totals_[d] = std::max<milli>(0, totals_[d] - x.scalar);
    stale_ = true;
  }
}

void drf_sorter::set_total(const resource_set& r) {
  std::fill(totals_.begin(), totals_.end(), 0);
  stale_ = true;
  add_total(r);
}

milli drf_sorter::total_milli(const std::string& name) const {
  auto d = find_dimension(name);
  return d == no_dim ? 0 : totals_[d];
}

double drf_sorter::compute_share(const client_state& s) const {
  double result = 0;
  auto n = std::min(s.alloc.size(), totals_.size());
  for (size_t d = 0; d < n; ++d)
    if (totals_[d] > 0 && s.alloc[d] > 0)
      result = std::max(result, static_cast<double>(s.alloc[d]) / static_cast<double>(totals_[d]));
  return result / s.weight;
}

double drf_sorter::share(client c) {
  if (!valid(c))
    return 0;
  return compute_share(clients_[c]);
}

void drf_sorter::rekey(client c) {
  auto& s = clients_[c];
  if (!s.active || stale_)
    return; // stale: the next query rebuilds every key anyway
  auto node = order_.extract(s.pos);
  node.value().share = compute_share(s);
  s.pos = order_.insert(std::move(node)).position;
}

void drf_sorter::refresh() {
  if (!stale_)
    return;
  stale_ = false;
  order_set fresh;
  while (!order_.empty()) {
    auto node = order_.extract(order_.begin());
    auto c = node.value().c;
    node.value().share = compute_share(clients_[c]);
    clients_[c].pos = fresh.insert(std::move(node)).position;
  }
  order_.swap(fresh);
}

std::vector<std::string> drf_sorter::sorted() {
  refresh();
  std::vector<std::string> result;
  result.reserve(order_.size());
  for (const auto& e : order_)
    result.push_back(e.name);
  return result;
}

} // namespace mesoscaf
