#pragma once
// Quota and the operator's view of roles.
#include "messages/ids.hpp"
#include "messages/resources.hpp"

#include <caf/meta/type_name.hpp>

#include <string>
#include <vector>

namespace mesoscaf {

/// A role's quota: `guarantee` is set aside for the role before fair sharing; `limit` is never exceeded by the
/// role's subtree. Unreserved scalars only; a name absent from `limit` is unlimited. Both empty: no quota.
struct quota_info {
  resource_set guarantee;
  resource_set limit;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, quota_info& x) {
    return f(caf::meta::type_name("quota_info"), x.guarantee, x.limit);
  }
};

/// One role as the allocator sees it (operator introspection).
struct role_summary {
  std::string name;
  double weight = 1.0;
  quota_info quota;
  resource_set allocated;   // to frameworks in this role and its sub-roles (offered or in use)
  resource_set reserved;    // reserved to this role and its sub-roles, on all agents
  std::vector<framework_id> frameworks;  // subscribed in exactly this role

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, role_summary& x) {
    return f(caf::meta::type_name("role_summary"), x.name, x.weight, x.quota, x.allocated, x.reserved,
             x.frameworks);
  }
};

} // namespace mesoscaf
