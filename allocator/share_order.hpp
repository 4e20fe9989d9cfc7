#pragma once
// Building blocks shared by the DRF sorter and the allocator's quota bookkeeping: per-dimension scalar
// vectors and ordered sets keyed by (share, name) that are re-keyed in place.
#include "messages/resources.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <vector>

namespace mesoscaf {

/// Per-dimension thousandths; grows on demand so that new resource names cost nothing elsewhere.
struct dvec {
  std::vector<milli> v;
  milli at(size_t d, milli dflt = 0) const { return d < v.size() ? v[d] : dflt; }
  void add(size_t d, milli x) {
    if (d >= v.size())
      v.resize(d + 1, 0);
    v[d] += x;
  }
  void set(size_t d, milli x, milli fill) {
    if (d >= v.size())
      v.resize(d + 1, fill);
    v[d] = x;
  }
  bool all_zero() const {
    return std::all_of(v.begin(), v.end(), [](milli x) { return x == 0; });
  }
};

/// Dominant share of `x` over `totals` (dimensions without a total count nothing).
inline double dominant_share_of(const dvec& x, const dvec& totals) {
  double s = 0;
  auto n = std::min(x.v.size(), totals.v.size());
  for (size_t d = 0; d < n; ++d)
    if (totals.v[d] > 0 && x.v[d] > 0)
      s = std::max(s, static_cast<double>(x.v[d]) / static_cast<double>(totals.v[d]));
  return s;
}

/// Key of an ordered set: ascending (share, name, idx). Ties on the share go by name, so orders are
/// deterministic; `idx` says what the entry stands for.
struct share_entry {
  double share;
  std::string name;
  uint32_t idx;
  friend bool operator<(const share_entry& a, const share_entry& b) {
    if (a.share != b.share)
      return a.share < b.share;
    if (int c = a.name.compare(b.name); c != 0)
      return c < 0;
    return a.idx < b.idx;
  }
};
using share_order = std::set<share_entry>;

/// Where an entry sits in its set, if it is in.
struct share_slot {
  share_order::iterator pos;
  bool in = false;
};

/// Inserts, re-keys (reusing the node: no allocation) or erases (`wanted` false) the entry of `slot`.
inline void place(share_order& set, share_slot& slot, bool wanted, double share, const std::string& name,
                  uint32_t idx) {
  if (!wanted) {
    if (slot.in) {
      set.erase(slot.pos);
      slot.in = false;
    }
    return;
  }
  if (slot.in) {
    if (slot.pos->share == share)
      return;
    auto node = set.extract(slot.pos);
    node.value().share = share;
    slot.pos = set.insert(std::move(node)).position;
    return;
  }
  slot.pos = set.insert(share_entry{share, name, idx}).first;
  slot.in = true;
}

} // namespace mesoscaf
