#pragma once
// The allocation logic of the allocator actor, without any actor code: agents and their free resources,
// frameworks (each subscribed to one or more roles) and their allocations, the role tree with weights and
// quota, refuse filters, per-role suppress/revive, and the allocation run.
//
// Policy (also in docs/ARCHITECTURE.md):
// - Roles form a tree ("eng" is the parent of "eng/prod"), created on demand. A client is a
//   (framework, role) pair. The order of clients is the sorter's (allocator/sorter.hpp; drf_sorter:
//   hierarchical weighted DRF, shares over the cluster's scalar totals); this class keeps its own role tree
//   for quota and reservations and marks roles whose limits leave them nothing as ineligible there.
// - Reserved resources go only to clients of their role or its sub-roles.
// - Quota: consumed(R) = allocated to R's subtree + unallocated reservations of R's subtree (scalars).
//   Stage 1 serves roles with unsatisfied guarantees first; stage 2 serves everyone in hierarchical DRF
//   order. Limits of a role and every ancestor are never exceeded (unreserved scalars are capped), and
//   stage 2 leaves enough unallocated unreserved scalars for the unsatisfied guarantees (headroom).
// - Filters per (framework, role, agent); GPU agents only for GPU_RESOURCES frameworks; min allocatable.
//
// Time never comes from the system clock: every call that needs it takes `now`, so tests control time.
// Every mutating call validates its input first and returns an error message (empty = success); on error
// nothing changes.
//
// Performance: hot data is addressed by dense indices; per-role / per-client allocations are kept as
// per-dimension arrays of thousandths; orders are ordered sets re-keyed in O(depth log n) per change; a
// run only visits agents with allocatable free resources; a client's filters on an agent are summarized in a
// bitmap while the agent's free resources stay the same; an agent no client could take is skipped in O(1)
// until its own state changes or some client becomes eligible (Mesos' DeclineOffers benchmark ends with every
// framework filtering every agent).
#include "messages/framework_info.hpp"
#include "messages/ids.hpp"
#include "messages/offer.hpp"
#include "messages/quota.hpp"
#include "messages/resources.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace mesoscaf {

struct allocator_config {
  /// Free resources are offered only if they reach one of these alternatives (every scalar of the
  /// alternative at least that amount, summed over roles). Mesos' default: cpus >= 0.01 or mem >= 32 MB.
  /// Empty: anything non-empty is allocatable.
  std::vector<std::vector<std::pair<std::string, milli>>> min_allocatable{{{"cpus", 10}}, {{"mem", 32000}}};
  /// Longest accepted `refuse_seconds` (one year); longer values are rejected as bad input.
  double max_refuse_seconds = 365.0 * 24 * 3600;
};

class hierarchical_allocator {
public:
  using clock_type = std::chrono::steady_clock;
  using time_point = clock_type::time_point;

  explicit hierarchical_allocator(allocator_config cfg = {});
  ~hierarchical_allocator();
  hierarchical_allocator(hierarchical_allocator&&) noexcept;
  hierarchical_allocator& operator=(hierarchical_allocator&&) noexcept;
  hierarchical_allocator(const hierarchical_allocator&) = delete;
  hierarchical_allocator& operator=(const hierarchical_allocator&) = delete;

  // -- frameworks -------------------------------------------------------------------------------------------

  /// Adds an active framework, unsuppressed in each of its roles (info.roles; empty = {"*"}), nothing
  /// allocated. Capability "GPU_RESOURCES" allows offers from agents with gpus. Errors: empty or known ID,
  /// invalid or repeated role.
  [[nodiscard]] std::string add_framework(const framework_id& id, const framework_info& info = {});
  /// Removes a framework; its allocations return to the agents and its filters are dropped.
  [[nodiscard]] std::string remove_framework(const framework_id& id);
  /// UPDATE_FRAMEWORK: the framework's roles (and GPU capability) become `info`'s. A new role starts
  /// unsuppressed; a role it leaves gets no more offers, and what is allocated to it there stays accounted
  /// until recovered; taking a role up again revives it. Error: unknown framework, invalid or repeated role.
  [[nodiscard]] std::string update_framework(const framework_id& id, const framework_info& info);
  /// An inactive framework keeps its allocations but receives nothing (disconnected scheduler).
  [[nodiscard]] std::string activate_framework(const framework_id& id);
  [[nodiscard]] std::string deactivate_framework(const framework_id& id);
  /// Suppress: no offers for these roles of the framework until revived (empty = all its roles).
  /// Revive: clear the filters of these roles and unsuppress them. Error: unknown framework, or a role the
  /// framework is not subscribed to.
  [[nodiscard]] std::string suppress(const framework_id& id, const std::vector<std::string>& roles = {});
  [[nodiscard]] std::string revive(const framework_id& id, const std::vector<std::string>& roles = {});

  // -- agents -----------------------------------------------------------------------------------------------

  /// Adds an agent with these total resources (may hold static/dynamic reservations and volumes), all free.
  /// Error if the ID is empty or known, or the resources are invalid.
  [[nodiscard]] std::string add_agent(const agent_id& id, const resource_set& total);
  /// Adds an agent that comes back with tasks and executors running: `used` (allocations on this agent) is
  /// allocated from the start. Allocations naming another agent, a framework or role the allocator does not
  /// know, invalid resources or more than is left are skipped (counted in *ignored if given). Errors as above.
  [[nodiscard]] std::string add_agent(const agent_id& id, const resource_set& total,
                                      const std::vector<allocation>& used, size_t* ignored = nullptr);
  /// Removes an agent; every allocation on it is forgotten (the master deals with the tasks).
  [[nodiscard]] std::string remove_agent(const agent_id& id);
  /// A deactivated agent (disconnected) is offered to nobody; its allocations stay and `recover` still works.
  /// Activation makes its free resources offerable again. Error: unknown agent.
  [[nodiscard]] std::string deactivate_agent(const agent_id& id);
  [[nodiscard]] std::string activate_agent(const agent_id& id);
  bool is_agent_active(const agent_id& id) const;

  // -- resources --------------------------------------------------------------------------------------------

  /// Resources allocated to (`fw`, `role`) on `agent` come back (declined, unused, or the task ended). If
  /// `refuse_seconds` > 0, offers from this agent for this role that fit inside `resources` are not made to
  /// `fw` until `now + refuse_seconds`. Errors: unknown framework, agent or role of the framework, invalid
  /// resources, resources not allocated to (`fw`, `role`) on `agent`, refuse_seconds negative, NaN,
  /// infinite or above the configured maximum.
  [[nodiscard]] std::string recover(const framework_id& fw, const agent_id& agent, const std::string& role,
                                    const resource_set& resources, double refuse_seconds, time_point now);

  /// An operation (RESERVE, UNRESERVE, CREATE, DESTROY) converted `consumed` (allocated to (`fw`, `role`)
  /// on `agent`) into `produced`. Both must have the same quantities (with_role("*")); the allocation and
  /// the agent's total are changed accordingly.
  [[nodiscard]] std::string update_allocation(const framework_id& fw, const agent_id& agent,
                                              const std::string& role, const resource_set& consumed,
                                              const resource_set& produced);

  /// The operator's RESERVE_RESOURCES, UNRESERVE_RESOURCES, CREATE_VOLUMES, DESTROY_VOLUMES: `consumed`, free
  /// (unallocated) on `agent`, becomes `produced` (same quantities) in its free resources and its total. Errors
  /// (nothing changes): unknown agent, invalid resources, quantities differ, `consumed` not free.
  [[nodiscard]] std::string update_available(const agent_id& agent, const resource_set& consumed,
                                             const resource_set& produced);

  // -- roles ------------------------------------------------------------------------------------------------

  /// DRF weight of a role among its siblings (finite, > 0; default 1). Creates the role if needed.
  [[nodiscard]] std::string set_weight(const std::string& role, double weight);
  /// Quota of a role: guarantee and limit of unreserved scalars. Empty guarantee and limit remove the quota.
  /// Errors: invalid role or "*", non-scalar / reserved / invalid resources, guarantee above limit for a
  /// name, limit above an ancestor's limit or below a descendant's, children's guarantees summing above
  /// the guarantee of their parent.
  [[nodiscard]] std::string set_quota(const std::string& role, const quota_info& quota);

  // -- allocation -------------------------------------------------------------------------------------------

  /// One allocation run (stage 1 quota guarantees, then stage 2 fair share). At most one allocation per
  /// (agent, framework, role) per run; each carries its role. Expired filters are dropped on the way.
  std::vector<allocation> allocate(time_point now);

  // -- introspection ----------------------------------------------------------------------------------------

  /// Every known role (sorted by name) with weight, quota, allocation, reservations and frameworks.
  std::vector<role_summary> roles() const;
  bool has_role(const std::string& role) const;
  double weight(const std::string& role) const;         // 1 if unknown
  quota_info quota(const std::string& role) const;      // empty if none
  /// consumed(R) as defined above (scalars, role "*").
  resource_set consumed_quota(const std::string& role) const;
  /// Scalars allocated to R's subtree (role "*" form).
  resource_set role_allocated(const std::string& role) const;
  /// Dominant share of R's subtree allocation over the cluster totals, divided by R's weight.
  double role_share(const std::string& role);

  bool has_framework(const framework_id& id) const;
  bool has_agent(const agent_id& id) const;
  size_t framework_count() const;
  size_t agent_count() const;
  size_t role_count() const;
  bool is_active(const framework_id& id) const;
  /// True iff suppressed in `role` (empty: in every one of its roles).
  bool is_suppressed(const framework_id& id, const std::string& role = {}) const;
  /// The framework's roles (empty if unknown).
  std::vector<std::string> framework_roles(const framework_id& id) const;
  /// What is allocated to `fw` on `agent` (all roles; empty if nothing or unknown).
  resource_set allocated(const framework_id& fw, const agent_id& agent) const;
  /// What is allocated to (`fw`, `role`) on `agent`.
  resource_set allocated(const framework_id& fw, const agent_id& agent, const std::string& role) const;
  /// Everything allocated to `fw`, summed over agents and roles.
  resource_set allocated(const framework_id& fw) const;
  /// The agent's free resources / total (empty if unknown).
  resource_set available(const agent_id& agent) const;
  resource_set total(const agent_id& agent) const;
  /// Dominant share of everything allocated to the framework (all roles) over the cluster totals.
  double dominant_share(const framework_id& fw);
  /// Number of live filters of the framework (all roles / one role). Expired ones may be counted until
  /// the next run drops them.
  size_t filter_count(const framework_id& fw) const;
  size_t filter_count(const framework_id& fw, const std::string& role) const;
  /// Agents the next run would look at (allocatable free resources).
  size_t offerable_agent_count() const;
  uint64_t allocation_runs() const;
  bool is_allocatable(const resource_set& r) const;
  /// Rough estimate of the heap memory held (bench / leak checks).
  size_t memory_bytes() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace mesoscaf
