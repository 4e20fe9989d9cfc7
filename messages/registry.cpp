#include "messages/registry.hpp"

#include <cmath>

namespace mesoscaf {

const char* to_string(registry_op_kind k) {
  switch (k) {
    case registry_op_kind::admit:
      return "admit";
    case registry_op_kind::mark_unreachable:
      return "mark_unreachable";
    case registry_op_kind::mark_reachable:
      return "mark_reachable";
    case registry_op_kind::remove:
      return "remove";
    case registry_op_kind::update_agent:
      return "update_agent";
    case registry_op_kind::set_weight:
      return "set_weight";
    case registry_op_kind::set_quota:
      return "set_quota";
  }
  return "unknown";
}

namespace {

// Where an agent ID stands in `reg`, for the refusal messages.
std::string where(const registry_data& reg, const agent_id& id) {
  if (reg.admitted.count(id) > 0)
    return "is admitted";
  if (reg.unreachable.count(id) > 0)
    return "is unreachable";
  if (reg.gone.count(id) > 0)
    return "was removed for good";
  return "is not in the registry";
}

std::string refuse(const registry_data& reg, const char* op, const agent_id& id) {
  return std::string{op} + ": agent " + id.value + " " + where(reg, id);
}

std::string check_info(const agent_info& info, const char* op) {
  if (info.id.empty())
    return std::string{op} + ": the agent has no ID";
  if (auto err = info.total.validate(); !err.empty())
    return std::string{op} + ": agent " + info.id.value + " has invalid resources: " + err;
  return {};
}

std::string check_id_time(const agent_id& id, double time, const char* op) {
  if (id.empty())
    return std::string{op} + ": no agent ID";
  if (!std::isfinite(time) || time < 0)
    return std::string{op} + ": invalid time for agent " + id.value;
  return {};
}

// The registry only checks what it can check alone; the allocator adds the hierarchy rules (ancestors'
// limits, children's guarantees) before the master writes a quota.
std::string check_quota_side(const resource_set& r, const char* what) {
  if (auto err = r.validate(); !err.empty())
    return std::string{"set_quota: invalid "} + what + ": " + err;
  for (const auto& e : r.items()) {
    if (e.type != value_type::scalar)
      return std::string{"set_quota: "} + what + " may hold only scalars ('" + e.name + "' is not)";
    if (e.role != "*" || e.dynamic || !e.volume_id.empty())
      return std::string{"set_quota: "} + what + " may hold only unreserved resources";
  }
  return {};
}

} // namespace

std::string apply_registry_operation(registry_data& reg, const registry_operation& op) {
  switch (op.kind) {
    case registry_op_kind::admit: {
      if (auto err = check_info(op.agent, "admit"); !err.empty())
        return err;
      const auto& id = op.agent.id;
      if (reg.admitted.count(id) > 0 || reg.unreachable.count(id) > 0 || reg.gone.count(id) > 0)
        return refuse(reg, "admit", id);
      reg.admitted.emplace(id, op.agent);
      return {};
    }
    case registry_op_kind::mark_unreachable: {
      if (auto err = check_id_time(op.id, op.time, "mark_unreachable"); !err.empty())
        return err;
      auto i = reg.admitted.find(op.id);
      if (i == reg.admitted.end())
        return refuse(reg, "mark_unreachable", op.id);
      reg.unreachable[op.id] = registry_unreachable_agent{std::move(i->second), op.time};
      reg.admitted.erase(i);
      return {};
    }
    case registry_op_kind::mark_reachable: {
      if (auto err = check_info(op.agent, "mark_reachable"); !err.empty())
        return err;
      auto i = reg.unreachable.find(op.agent.id);
      if (i == reg.unreachable.end())
        return refuse(reg, "mark_reachable", op.agent.id);
      reg.unreachable.erase(i);
      reg.admitted[op.agent.id] = op.agent;
      return {};
    }
    case registry_op_kind::remove: {
      if (auto err = check_id_time(op.id, op.time, "remove"); !err.empty())
        return err;
      if (reg.admitted.erase(op.id) == 0 && reg.unreachable.erase(op.id) == 0)
        return refuse(reg, "remove", op.id);
      reg.gone[op.id] = op.time;
      return {};
    }
    case registry_op_kind::update_agent: {
      if (auto err = check_info(op.agent, "update_agent"); !err.empty())
        return err;
      auto i = reg.admitted.find(op.agent.id);
      if (i == reg.admitted.end())
        return refuse(reg, "update_agent", op.agent.id);
      i->second = op.agent;
      return {};
    }
    case registry_op_kind::set_weight: {
      if (!valid_role_name(op.role) || op.role == "*")
        return "set_weight: invalid role '" + op.role + "'";
      if (!std::isfinite(op.weight) || op.weight <= 0)
        return "set_weight: invalid weight " + std::to_string(op.weight) + " for role '" + op.role
               + "' (must be finite and > 0)";
      // 1.0 is every role's default: no entry.
      if (op.weight == 1.0)
        reg.weights.erase(op.role);
      else
        reg.weights[op.role] = op.weight;
      return {};
    }
    case registry_op_kind::set_quota: {
      if (!valid_role_name(op.role) || op.role == "*")
        return "set_quota: invalid role '" + op.role + "'";
      if (auto err = check_quota_side(op.quota.guarantee, "guarantee"); !err.empty())
        return err;
      if (auto err = check_quota_side(op.quota.limit, "limit"); !err.empty())
        return err;
      if (!op.quota.limit.empty())
        for (const auto& e : op.quota.guarantee.items())
          if (auto l = op.quota.limit.find(e.name); l != nullptr && e.scalar > l->scalar)
            return "set_quota: the guarantee exceeds the limit (" + e.name + ") for role '" + op.role + "'";
      if (op.quota.guarantee.empty() && op.quota.limit.empty())
        reg.quota.erase(op.role);
      else
        reg.quota[op.role] = op.quota;
      return {};
    }
  }
  return "unknown registry operation kind " + std::to_string(static_cast<int>(op.kind));
}

registry_operation admit_agent_op(const agent_info& info) {
  registry_operation op;
  op.kind = registry_op_kind::admit;
  op.agent = info;
  return op;
}

registry_operation mark_unreachable_op(const agent_id& id, double time) {
  registry_operation op;
  op.kind = registry_op_kind::mark_unreachable;
  op.id = id;
  op.time = time;
  return op;
}

registry_operation mark_reachable_op(const agent_info& info) {
  registry_operation op;
  op.kind = registry_op_kind::mark_reachable;
  op.agent = info;
  return op;
}

registry_operation remove_agent_op(const agent_id& id, double time) {
  registry_operation op;
  op.kind = registry_op_kind::remove;
  op.id = id;
  op.time = time;
  return op;
}

registry_operation update_agent_op(const agent_info& info) {
  registry_operation op;
  op.kind = registry_op_kind::update_agent;
  op.agent = info;
  return op;
}

registry_operation set_weight_op(const std::string& role, double weight) {
  registry_operation op;
  op.kind = registry_op_kind::set_weight;
  op.role = role;
  op.weight = weight;
  return op;
}

registry_operation set_quota_op(const std::string& role, const quota_info& quota) {
  registry_operation op;
  op.kind = registry_op_kind::set_quota;
  op.role = role;
  op.quota = quota;
  return op;
}

} // namespace mesoscaf
