#pragma once
// The allocation logic of the allocator actor, without any actor code: agents and their free resources,
// frameworks and their allocations, filters from declines, suppress/revive, and the allocation run that gives
// each agent's free resources to the framework with the lowest dominant share (DRF).
//
// Time never comes from the system clock: every call that needs it takes `now`, so tests control time.
// Every mutating call validates its input first and returns an error message (empty = success); on error
// nothing changes.
//
// Performance: the run only visits agents that have allocatable free resources (kept in `offerable_`),
// frameworks are found in the sorter's order (O(log n) per change, see drf_sorter.hpp), and agents and
// frameworks are addressed by dense indices in hot loops.
#include "allocator/drf_sorter.hpp"
#include "messages/framework_info.hpp"
#include "messages/ids.hpp"
#include "messages/offer.hpp"
#include "messages/resources.hpp"

#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace mesoscaf {

struct allocator_config {
  /// An agent's free resources are offered only if they reach one of these alternatives (every scalar of
  /// the alternative at least that amount, summed over roles). Mesos' default: cpus >= 0.01 or mem >= 32 MB.
  std::vector<std::vector<std::pair<std::string, milli>>> min_allocatable{{{"cpus", 10}}, {{"mem", 32000}}};
  /// Longest accepted `refuse_seconds` (one year); longer values are rejected as bad input.
  double max_refuse_seconds = 365.0 * 24 * 3600;
};

class hierarchical_allocator {
public:
  using clock_type = std::chrono::steady_clock;
  using time_point = clock_type::time_point;

  explicit hierarchical_allocator(allocator_config cfg = {});

  // -- frameworks -------------------------------------------------------------------------------------------

  /// Adds an active, unsuppressed framework with nothing allocated. Error if the ID is empty or known.
  [[nodiscard]] std::string add_framework(const framework_id& id, const framework_info& info = {});
  /// Removes a framework; its allocations return to the agents and its filters are dropped.
  [[nodiscard]] std::string remove_framework(const framework_id& id);
  /// An inactive framework keeps its allocations but receives nothing (disconnected scheduler).
  [[nodiscard]] std::string activate_framework(const framework_id& id);
  [[nodiscard]] std::string deactivate_framework(const framework_id& id);
  /// Suppress: receive no offers until revived. Revive: clear every filter of the framework and unsuppress.
  [[nodiscard]] std::string suppress(const framework_id& id);
  [[nodiscard]] std::string revive(const framework_id& id);
  /// DRF weight of the framework (finite, > 0; default 1).
  [[nodiscard]] std::string set_weight(const framework_id& id, double weight);

  // -- agents -----------------------------------------------------------------------------------------------

  /// Adds an agent with these total resources, all free. Error if the ID is empty or known, or the resources
  /// are invalid.
  [[nodiscard]] std::string add_agent(const agent_id& id, const resource_set& total);
  /// Removes an agent; every allocation on it is forgotten (the master deals with the tasks).
  [[nodiscard]] std::string remove_agent(const agent_id& id);

  // -- resources --------------------------------------------------------------------------------------------

  /// Resources allocated to `fw` on `agent` come back (declined, unused, or the task ended). If
  /// `refuse_seconds` > 0, offers from this agent that fit inside `resources` are not made to `fw` until
  /// `now + refuse_seconds`. Errors: unknown framework or agent, invalid resources, resources not allocated
  /// to `fw` on `agent`, refuse_seconds negative, NaN, infinite or above the configured maximum.
  [[nodiscard]] std::string recover(const framework_id& fw, const agent_id& agent, const resource_set& resources,
                                    double refuse_seconds, time_point now);

  /// One allocation run: every agent with allocatable free resources offers all of them to the active,
  /// unsuppressed framework with the lowest dominant share that is not filtered for them (ties: lowest
  /// framework ID). At most one allocation per agent per run. Expired filters are dropped on the way.
  std::vector<allocation> allocate(time_point now);

  // -- introspection ----------------------------------------------------------------------------------------

  bool has_framework(const framework_id& id) const { return fw_index_.count(id) > 0; }
  bool has_agent(const agent_id& id) const { return agent_index_.count(id) > 0; }
  size_t framework_count() const { return fw_index_.size(); }
  size_t agent_count() const { return agent_index_.size(); }
  bool is_active(const framework_id& id) const;
  bool is_suppressed(const framework_id& id) const;
  /// What is allocated to `fw` on `agent` (empty if nothing or unknown).
  resource_set allocated(const framework_id& fw, const agent_id& agent) const;
  /// Everything allocated to `fw`, summed over agents.
  resource_set allocated(const framework_id& fw) const;
  /// The agent's free resources (empty if unknown).
  resource_set available(const agent_id& agent) const;
  resource_set total(const agent_id& agent) const;
  /// Dominant share of the framework against the cluster totals (weighted); 0 if unknown.
  double dominant_share(const framework_id& fw);
  /// Number of live filters (expired ones may still be counted until the next run drops them).
  size_t filter_count(const framework_id& fw) const;
  /// Agents the next run would look at (allocatable free resources).
  size_t offerable_agent_count() const { return offerable_.size(); }
  uint64_t allocation_runs() const { return runs_; }
  bool is_allocatable(const resource_set& r) const;

private:
  using index = uint32_t;

  struct filter {
    resource_set resources;
    time_point expiry;
  };

  struct framework_state {
    framework_id id;
    bool live = false;
    bool active = false;
    bool suppressed = false;
    drf_sorter::client client = drf_sorter::npos;
    std::unordered_map<index, resource_set> allocations;        // agent -> allocated there
    std::unordered_map<index, std::vector<filter>> filters;     // agent -> filters
  };

  struct agent_state {
    agent_id id;
    bool live = false;
    resource_set total;
    resource_set available;  // total minus what is allocated (kept, not recomputed, so runs are cheap)
    std::unordered_set<index> frameworks;   // frameworks with allocations here
    std::unordered_set<index> filtered_by;  // frameworks with filters here
  };

  framework_state* find_fw(const framework_id& id);
  const framework_state* find_fw(const framework_id& id) const;
  agent_state* find_agent(const agent_id& id);
  const agent_state* find_agent(const agent_id& id) const;
  void update_sorter_activity(framework_state& f);
  void update_offerable(index a);
  bool filtered(index fw, index agent, const resource_set& offered, time_point now);
  void drop_filters(index fw, index agent);

  allocator_config cfg_;
  drf_sorter sorter_;
  std::vector<framework_state> fws_;
  std::vector<index> fw_free_;
  std::unordered_map<framework_id, index> fw_index_;
  std::vector<index> fw_of_client_;  // sorter client handle -> framework index
  std::vector<agent_state> agents_;
  std::vector<index> agent_free_;
  std::unordered_map<agent_id, index> agent_index_;
  // Agents whose free resources are allocatable, in index order so that runs are deterministic.
  std::set<index> offerable_;
  uint64_t runs_ = 0;
};

} // namespace mesoscaf
