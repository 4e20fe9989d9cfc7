#pragma once
// Hierarchical weighted DRF over the role tree (docs/ARCHITECTURE.md, "Allocation policy"):
// - at each level the siblings are ordered by (dominant share of their subtree's allocation / weight, path);
// - a role's own clients form one more sibling (weight 1, name "", so it goes first on a tie) ordered inside
//   by (dominant share of the client's allocation, client name);
// - a role is in its parent's order while it is eligible and holds an active client or such a sub-role.
// Every change re-keys only the entries on one path of the tree: O(depth log n). A change of the total
// makes every key stale; they are refreshed at once before the next sort() or search pass.
#include "allocator/share_order.hpp"
#include "allocator/sorter.hpp"

#include <string>
#include <unordered_map>
#include <vector>

namespace mesoscaf {

class drf_sorter final : public sorter {
public:
  drf_sorter();

  node root() const override { return 0; }
  node add_role(const std::string& path) override;
  node find_role(const std::string& path) const override;
  void set_weight(node r, double weight) override;
  double weight(node r) const override { return roles_[r].weight; }
  void set_eligible(node r, bool eligible) override;

  client add_client(node r, const std::string& name) override;
  void remove_client(client c) override;
  void activate(client c) override;
  void deactivate(client c) override;
  bool is_active(client c) const override { return clients_[c].active; }

  size_t dimension(const std::string& name) override;
  void add_total(const resource_set& r) override;
  void remove_total(const resource_set& r) override;
  void allocated(client c, const resource_set& r) override;
  void unallocated(client c, const resource_set& r) override;
  void allocated(client c, const quantities& q) override;
  void unallocated(client c, const quantities& q) override;
  milli subtree_allocated(node r, size_t d) const override { return roles_[r].sub_alloc.at(d); }
  double share(client c) const override;
  double role_share(node r) const override;
  double share_of(const resource_set& r) const override;

  std::vector<client> sort() override;
  using sorter::begin_pass;
  void begin_pass(const std::vector<uint64_t>& ruled_out) override;
  client find(node from, client_predicate accept) override;
  void rule_out(client c) override;

private:
  struct role_node {
    std::string path; // "" for the root
    node parent = none;
    std::vector<node> children;
    double weight = 1.0;
    bool eligible = true;
    dvec sub_alloc;     // allocated to clients of the subtree
    dvec own_alloc;     // allocated to the role's own clients
    share_order order;  // children in the order, and the self entry
    share_order clients; // active own clients
    share_slot in_parent;
    share_slot self;
    uint64_t pass = 0;  // ruled out in this pass
  };

  struct client_state {
    bool live = false;
    bool active = false;
    node role = none;
    std::string name;
    dvec alloc;
    share_slot slot;
  };

  size_t dim(const std::string& name, size_t& hint);
  void account(client c, const resource_set& r, int sign);
  void account(client c, const quantities& q, int sign);
  void change_total(const resource_set& r, int sign);
  double share(const dvec& x) const { return dominant_share_of(x, totals_); }
  void place_client(client c);
  void place_self(node r);
  void place_chain(node r);
  void replace(client c);
  void refresh_subtree(node r);
  void refresh_if_stale();
  client find_in(node r, client_predicate& accept);
  void sort_into(node r, std::vector<client>& out) const;

  std::vector<role_node> roles_;
  std::unordered_map<std::string, node> role_index_;
  std::vector<client_state> clients_;
  std::vector<client> free_;
  std::vector<std::string> dims_; // few names: a linear search beats hashing
  std::vector<uint64_t> dim_keys_; // name_key of each
  dvec totals_;
  bool stale_ = false;
  uint64_t pass_ = 1; // 0 is "never ruled out"
  std::vector<uint64_t> out_; // clients ruled out in this pass, a bit each (a test per client, no call)
};

} // namespace mesoscaf
