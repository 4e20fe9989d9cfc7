#pragma once
// The order in which the allocator serves its clients, apart from how it allocates (as Mesos separates its
// Sorter from the hierarchical allocator). Clients live in a tree of roles ("eng" is the parent of
// "eng/prod"); each has an allocation, each role a weight. Pure logic, no actors.
//
// Clients and roles are addressed by dense handles (a client's handle is reused after removal), so the
// allocator can index its own per-client data with them and the hot path does no lookups by name.
#include "messages/resources.hpp"

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace mesoscaf {

/// A non-owning reference to a callable `bool(uint32_t)`; cheaper than std::function on a hot path (no
/// allocation, one indirect call).
class client_predicate {
public:
  template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, client_predicate>>>
  client_predicate(F&& f) // NOLINT: implicit on purpose, callers pass lambdas (alive for the call)
    : obj_(const_cast<void*>(static_cast<const void*>(std::addressof(f)))),
      call_([](void* o, uint32_t c) { return (*static_cast<std::remove_reference_t<F>*>(o))(c); }) {
  }
  bool operator()(uint32_t c) const { return call_(obj_, c); }

private:
  void* obj_;
  bool (*call_)(void*, uint32_t);
};

class sorter {
public:
  using client = uint32_t;
  using node = uint32_t; // a role
  static constexpr uint32_t none = std::numeric_limits<uint32_t>::max();

  virtual ~sorter() = default;

  // -- roles ------------------------------------------------------------------------------------------------

  /// The root of the tree (parent of every top-level role, "*" included).
  virtual node root() const = 0;
  /// The role with this path, created (weight 1, eligible) with its missing ancestors. Path must be valid.
  virtual node add_role(const std::string& path) = 0;
  /// The role or `none`.
  virtual node find_role(const std::string& path) const = 0;
  /// Weight among siblings (finite, > 0; the caller validates).
  virtual void set_weight(node r, double weight) = 0;
  virtual double weight(node r) const = 0;
  /// An ineligible role is left out of the order with its whole subtree (the allocator holds it back, e.g.
  /// its quota limit leaves it nothing); `find` started at it still searches it.
  virtual void set_eligible(node r, bool eligible) = 0;

  // -- clients ----------------------------------------------------------------------------------------------

  /// Adds an active client named `name` (ties between equal shares go by name) under role `r`, nothing
  /// allocated.
  virtual client add_client(node r, const std::string& name) = 0;
  /// Removes the client and whatever is still allocated to it from its roles' shares.
  virtual void remove_client(client c) = 0;
  /// Inactive clients keep their allocation (it counts for their roles) but are not in the order.
  virtual void activate(client c) = 0;
  virtual void deactivate(client c) = 0;
  virtual bool is_active(client c) const = 0;

  // -- resources (scalars count; shares are over the total) ------------------------------------------------

  /// Scalar amounts by dimension (thousandths). A caller that already splits resource sets by name (the
  /// allocator does, for quota) hands them over this way, so the names are looked up once per change.
  struct quantity {
    size_t dim; // from dimension()
    milli amount;
  };
  using quantities = std::vector<quantity>;
  /// The dimension of scalar resource `name`: dense numbers from 0 in order of first use, never reused.
  virtual size_t dimension(const std::string& name) = 0;

  virtual void add_total(const resource_set& r) = 0;
  virtual void remove_total(const resource_set& r) = 0;
  virtual void allocated(client c, const resource_set& r) = 0;
  virtual void unallocated(client c, const resource_set& r) = 0;
  virtual void allocated(client c, const quantities& q) = 0;
  virtual void unallocated(client c, const quantities& q) = 0;
  /// Amount of dimension `d` allocated to the clients of role `r`'s subtree (the allocator's quota
  /// accounting reads it rather than keeping a second copy).
  virtual milli subtree_allocated(node r, size_t d) const = 0;
  /// Dominant share of the client's allocation.
  virtual double share(client c) const = 0;
  /// Dominant share of the role's subtree allocation, divided by its weight.
  virtual double role_share(node r) const = 0;
  /// Dominant share of any resources over the total.
  virtual double share_of(const resource_set& r) const = 0;

  // -- order ------------------------------------------------------------------------------------------------

  /// Every active client in order (see the implementation for the policy).
  virtual std::vector<client> sort() = 0;
  /// Starts a search pass in which the clients whose bits are set in `ruled_out` (bit c % 64 of word
  /// c / 64) are skipped without asking `accept` (the allocator knows many refusals in advance: filters).
  /// Within a pass, `find` assumes that a client `accept` refused stays refused (the allocator's candidate
  /// resources only shrink while it serves one agent).
  virtual void begin_pass(const std::vector<uint64_t>& ruled_out) = 0;
  void begin_pass() { begin_pass({}); }
  /// The first client in order in `from`'s subtree, not ruled out in this pass, that `accept` takes.
  /// Refused clients, and subtrees with nothing left, are ruled out for the rest of the pass.
  virtual client find(node from, client_predicate accept) = 0;
  /// Rules a client out for the rest of the pass (it was just served).
  virtual void rule_out(client c) = 0;
};

} // namespace mesoscaf
