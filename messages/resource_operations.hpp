#pragma once
// RESERVE / UNRESERVE / CREATE / DESTROY as pure conversions of resources: what an operation consumes from an
// offer (or an agent's total) and what it produces in its place. The master validates an ACCEPT with it, the
// allocator and the agent apply the result; the quantities never change, only reservation and volume metadata.
#include "messages/offer.hpp"
#include "messages/resources.hpp"

#include <string>
#include <string_view>

namespace mesoscaf {

struct resource_conversion {
  resource_set consumed;
  resource_set produced;
};

/// Validates a non-LAUNCH operation against `available` (what the offer still holds) and `agent_total` (for
/// volume IDs, which are unique per agent). `role` is the offer's allocation role; an empty `role` skips the
/// role check (the agent's own re-check). Returns "" and fills `out`, or an error message (out unchanged).
std::string to_conversion(const offer_operation& op, std::string_view role, const resource_set& available,
                          const resource_set& agent_total, resource_conversion& out);

/// `r - consumed + produced`, if `r` contains `consumed`; else an error and `r` unchanged.
std::string apply_conversion(resource_set& r, const resource_conversion& c);

/// Persistent volumes are used and destroyed whole (a part of one would let two tasks share its directory, or
/// remove it under a task): every volume of `used` must hold exactly what the same volume holds in `whole`
/// (volumes `whole` does not have are not checked here). Returns "" or an error message.
std::string check_whole_volumes(const resource_set& used, const resource_set& whole);

/// The operation's name as Mesos spells it (LAUNCH, RESERVE, ...), for messages.
const char* operation_name(operation_type t);

} // namespace mesoscaf
