#pragma once
// Validation of a framework's ACCEPT and DECLINE calls against the master's outstanding offers.
// Pure functions on plain data (no actor code): the master looks the data up and acts on the verdict.
// Rules: the offers exist, belong to the caller, are not already used, and all sit on one agent and are for one
// role; the operations apply in order to what is left of the offers: RESERVE / UNRESERVE / CREATE / DESTROY
// convert resources (messages/resource_operations.hpp; any failure refuses the whole call), each task of a LAUNCH
// has a safe, unique ID, valid non-empty resources that fit in what is left (including what earlier operations
// produced, e.g. a volume just created), exactly one of command or executor, and the offers' agent ID.
#include "messages/framework_info.hpp"
#include "messages/ids.hpp"
#include "messages/offer.hpp"
#include "messages/resource_operations.hpp"
#include "messages/resources.hpp"
#include "messages/task_info.hpp"
#include "messages/task_status.hpp"

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace mesoscaf {

/// Default cap of refuse filters: one year, as a longer filter is almost certainly a unit mistake. The master
/// clamps with its allocator's configured cap (allocator_config::max_refuse_seconds), which defaults to this.
constexpr double max_refuse_seconds = 365.0 * 24 * 3600;

/// Checks a filter's refuse_seconds. NaN and negative values are errors (nullopt, `*error` set); values above
/// `cap` (including +inf) are clamped to it. A `cap` that is not finite and >= 0 means max_refuse_seconds.
std::optional<double> checked_refuse_seconds(double value, double cap, std::string* error = nullptr);

/// Same with the default cap max_refuse_seconds.
std::optional<double> checked_refuse_seconds(double value, std::string* error = nullptr);

/// True iff two executor descriptions are identical (ID, framework, name, command, resources).
bool same_executor(const executor_info& a, const executor_info& b);

enum class verdict_kind { ok, error, dropped };

/// The outcome for one task of a LAUNCH: ok (launch it), error (TASK_ERROR: the task itself is invalid) or
/// dropped (TASK_DROPPED: the offers were invalid, the task may be retried with good offers).
struct task_verdict {
  task_id task;
  verdict_kind kind = verdict_kind::ok;
  task_reason reason = task_reason::none;
  std::string message;
};

/// The outcome of checking the offers of one ACCEPT (or DECLINE).
struct offers_verdict {
  bool ok = false;
  std::string message;          // why not ok
  agent_id agent;               // the one agent all offers are on (if ok)
  std::string role;             // the one allocation role of all offers (if ok; "*" for offers without one)
  resource_set total;           // sum of the offers' resources (if ok)
  std::vector<offer_id> ids;    // the offers, without duplicates (if ok)
};

/// The outcome of one whole ACCEPT call.
struct accept_verdict {
  offers_verdict offers;
  /// One entry per task of every LAUNCH operation, in call order.
  std::vector<task_verdict> tasks;
  /// The tasks to launch (those with verdict ok), with their executor's framework ID filled in.
  std::vector<task_info> launch;
  /// The task groups to launch (LAUNCH_GROUP operations whose tasks are all ok), each with its DEFAULT
  /// executor (framework ID filled in); every task names that executor.
  struct group_launch {
    executor_info executor;
    task_group_info group;
  };
  std::vector<group_launch> groups;
  /// The custom executors this call starts (the first launched task of each executor that is not running on
  /// the agent yet), with their framework ID filled in. Their resources are part of `used`.
  std::vector<executor_info> executors;
  /// The resources the launched tasks and new executors use; `offers.total - used` goes back to the allocator.
  resource_set used;
  /// The accepted RESERVE / UNRESERVE / CREATE / DESTROY operations in call order, with what each consumes
  /// from the offers and produces in their place.
  struct conversion {
    offer_operation operation;
    resource_conversion change;
  };
  std::vector<conversion> conversions;
  /// The agent's total after the conversions (the caller passes the total before).
  resource_set agent_total;
  /// What goes back to the allocator: the offers after the conversions, minus `used`.
  resource_set remaining;
  /// Non-empty: a RESERVE / UNRESERVE / CREATE / DESTROY was refused (the first one; later ones may depend on
  /// it). Then the whole call is refused: nothing is converted or launched, every task is dropped, and
  /// `remaining` is the offers' total.
  std::vector<std::string> operation_errors;
};

/// The outstanding offers, keyed by ID.
using offer_table = std::unordered_map<offer_id, offer>;
/// Offer IDs that were valid once but are no longer (used, declined, rescinded): for clearer errors.
using retired_offers = std::unordered_set<offer_id>;
/// Answers whether the framework has a live (non-terminal) task with this ID.
using live_task_query = std::function<bool(const task_id&)>;
/// The caller's custom executor with this ID believed running on this agent, or null.
using executor_query = std::function<const executor_info*(const agent_id&, const executor_id&)>;

/// Checks that `ids` is a non-empty list of distinct outstanding offers of `caller`, all on one agent and for
/// one role.
offers_verdict validate_offers(const framework_id& caller, const std::vector<offer_id>& ids,
                               const offer_table& outstanding, const retired_offers& retired);

/// Checks one task on its own (ID, resources, command/executor, agent), without the offers' capacity or
/// uniqueness. Returns an error verdict or ok.
task_verdict validate_task(const framework_id& caller, const agent_id& offers_agent, const task_info& task);

/// "" or why a subscribing framework's text cannot be accepted: a control character in its ID, name, user,
/// principal, a role or a capability (they end up in logs, tables and terminals).
std::string check_framework_text(const framework_info& info);

/// Checks a whole ACCEPT. If the offers are invalid every task is dropped (reason invalid_offers) and nothing
/// may happen. Otherwise the operations are applied in order to what remains of the offers: a conversion
/// (RESERVE ...) is checked with `to_conversion` against the offers' role, the remaining resources and the agent's
/// total after the earlier conversions (`agent_total`: volume IDs are unique per agent); if one fails, the call
/// is refused as a whole (operation_errors, every task dropped). Each task is checked on its own, then for
/// uniqueness (within the call and against `is_live`), for its executor (a task naming an executor ID that runs,
/// per `running`, or that an earlier task of this call starts, must carry the identical executor_info) and
/// finally against what remains after the operations before it. The first task of an executor that is not
/// running needs room for its own resources plus the executor's; both count as used. A task that fails its
/// checks gets TASK_ERROR alone; the rest of the call goes on.
accept_verdict validate_accept(const framework_id& caller, const std::vector<offer_id>& ids,
                               const std::vector<offer_operation>& operations, const offer_table& outstanding,
                               const retired_offers& retired, const live_task_query& is_live,
                               const executor_query& running = {}, const resource_set& agent_total = {});

/// Checks one LAUNCH_GROUP within an ACCEPT (called by validate_accept, after the operations before it): the
/// group's DEFAULT executor, each task alone (validate_task) and as a member (a command, no executor of its own, an
/// ID unique in the group, the call and the framework's live tasks), and the whole group's resources (plus a new
/// executor's) against what remains. All or nothing: one problem fails every task of the group with TASK_ERROR
/// (reason task_group_invalid, or invalid_resources), appended to `result.tasks`; else the group is appended to
/// `result.groups` and its resources are taken from `result.remaining`.
void validate_group(const framework_id& caller, const agent_id& agent, const offer_operation& op,
                    accept_verdict& result, std::unordered_set<task_id>& seen, const live_task_query& is_live,
                    const std::function<const executor_info*(const executor_id&)>& known_executor);

const char* to_string(verdict_kind k);

} // namespace mesoscaf
