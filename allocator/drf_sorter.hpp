#pragma once
// Dominant Resource Fairness over clients (frameworks of a role today; roles too once hierarchical DRF lands).
// Pure logic, no actor code.
//
// Performance shape (the allocator must scale to 20,000 agents x 2,000 frameworks):
// - active clients live in an ordered set keyed by (weighted dominant share, name); a change to one client's
//   allocation or weight re-keys only that entry, O(log n), reusing the set node (no allocation);
// - shares are computed against the cluster totals; a change of the totals changes every share, so it only
//   marks the order stale and the next query re-sorts once (O(n log n)) instead of once per agent added;
// - clients are addressed by a dense handle (`client`) so that hot loops never hash strings.
#include "messages/resources.hpp"

#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace mesoscaf {

class drf_sorter {
public:
  /// Dense handle of a client; reused after the client is removed.
  using client = uint32_t;
  static constexpr client npos = std::numeric_limits<client>::max();

  drf_sorter() = default;
  // Move-only: clients hold iterators into `order_`, which a move keeps valid but a copy would not.
  drf_sorter(drf_sorter&&) = default;
  drf_sorter& operator=(drf_sorter&&) = default;
  drf_sorter(const drf_sorter&) = delete;
  drf_sorter& operator=(const drf_sorter&) = delete;

  // -- clients ----------------------------------------------------------------------------------------------

  /// Adds an inactive client with weight 1 and nothing allocated. Returns npos if the name is empty or taken.
  client add(const std::string& name);
  /// Removes a client and forgets its allocation. Returns false for unknown handles.
  bool remove(client c);
  /// The handle of `name`, or npos.
  client find(const std::string& name) const;
  bool valid(client c) const { return c < clients_.size() && clients_[c].live; }
  const std::string& name(client c) const { return clients_[c].name; }
  /// Number of clients (active or not).
  size_t size() const { return index_.size(); }

  /// Only active clients take part in the order (an inactive or suppressed framework gets no offers).
  void activate(client c);
  void deactivate(client c);
  bool active(client c) const { return valid(c) && clients_[c].active; }

  /// Weights divide the dominant share (a client with weight 2 may hold twice as much). Must be finite and
  /// > 0; returns false (and changes nothing) otherwise.
  bool set_weight(client c, double weight);
  double weight(client c) const { return clients_[c].weight; }

  // -- allocations and totals -------------------------------------------------------------------------------

  /// Resources were allocated to / taken back from the client. Only scalars count towards shares.
  /// `unallocated` never takes a client below zero (the allocator validates before it calls).
  void allocated(client c, const resource_set& r);
  void unallocated(client c, const resource_set& r);
  /// The client's allocated scalar `name` (all roles), in thousandths.
  milli allocated_milli(client c, const std::string& name) const;

  /// The cluster totals the shares are computed against (an agent joined / left).
  void add_total(const resource_set& r);
  void remove_total(const resource_set& r);
  void set_total(const resource_set& r);
  milli total_milli(const std::string& name) const;

  // -- order ------------------------------------------------------------------------------------------------

  /// The client's dominant share divided by its weight: max over scalars of allocated / total.
  double share(client c);

  /// The first active client in ascending (share, name) order for which `pred(client)` is true, or npos.
  /// `pred` must not change the sorter.
  template <class Pred>
  client find_first(Pred&& pred) {
    refresh();
    for (const auto& e : order_)
      if (pred(e.c))
        return e.c;
    return npos;
  }

  /// Names of the active clients in ascending (share, name) order (introspection and tests).
  std::vector<std::string> sorted();

private:
  struct entry {
    double share;
    std::string name;
    client c;
    friend bool operator<(const entry& a, const entry& b) {
      if (a.share != b.share)
        return a.share < b.share;
      return a.name < b.name;
    }
  };
  using order_set = std::set<entry>;

  struct client_state {
    std::string name;
    bool live = false;
    bool active = false;
    double weight = 1.0;
    std::vector<milli> alloc;   // per dimension
    order_set::iterator pos;    // valid iff active
  };

  size_t dimension(const std::string& name);
  size_t find_dimension(const std::string& name) const;
  double compute_share(const client_state& s) const;
  void rekey(client c);
  void refresh();

  std::vector<client_state> clients_;
  std::vector<client> free_;
  std::unordered_map<std::string, client> index_;
  // Resource names seen so far, each a dimension of the share vectors.
  std::vector<std::string> dim_names_;
  std::unordered_map<std::string, size_t> dims_;
  std::vector<milli> totals_;
  order_set order_;
  bool stale_ = false;  // totals changed: every key in order_ is out of date
};

} // namespace mesoscaf
