#include "messages/resource_operations.hpp"

namespace mesoscaf {

namespace {

std::string fail(operation_type t, const std::string& msg) {
  return std::string{operation_name(t)} + ": " + msg;
}

} // namespace

const char* operation_name(operation_type t) {
  switch (t) {
    case operation_type::launch:
      return "LAUNCH";
    case operation_type::reserve:
      return "RESERVE";
    case operation_type::unreserve:
      return "UNRESERVE";
    case operation_type::create:
      return "CREATE";
    case operation_type::destroy:
      return "DESTROY";
    case operation_type::launch_group:
      return "LAUNCH_GROUP";
  }
  return "UNKNOWN";
}

std::string to_conversion(const offer_operation& op, std::string_view role, const resource_set& available,
                          const resource_set& agent_total, resource_conversion& out) {
  const auto t = op.type;
  if (launches_tasks(t))
    return fail(t, "not a resource conversion");
  if (t != operation_type::reserve && t != operation_type::unreserve && t != operation_type::create
      && t != operation_type::destroy)
    return "unknown operation type " + std::to_string(static_cast<int>(t));
  if (auto err = op.resources.validate(); !err.empty())
    return fail(t, "invalid resources: " + err);
  if (op.resources.empty())
    return fail(t, "no resources given");
  if (!op.tasks.empty())
    return fail(t, "carries tasks");
  // A framework may change only reservations of its own allocation role: a sub-role is offered its parent's
  // reservations to use, not to give away or to build volumes on.
  if (!role.empty() && t != operation_type::reserve)
    for (const auto& r : op.resources.items())
      if (r.role != "*" && r.role != role)
        return fail(t, "resource '" + r.name + "(" + r.role + ")' is reserved to another role than the offer's '"
                         + std::string(role) + "'");
  resource_conversion c;
  switch (t) {
    case operation_type::reserve:
      for (const auto& r : op.resources.items()) {
        if (r.role == "*")
          return fail(t, "resource '" + r.name + "' names no role to reserve for");
        if (!r.dynamic)
          return fail(t, "resource '" + r.name + "' must be a dynamic reservation (name(role,dynamic))");
        if (!r.volume_id.empty())
          return fail(t, "cannot reserve a volume; RESERVE the disk, then CREATE");
        if (!role.empty() && r.role != role)
          return fail(t, "reservation role '" + r.role + "' differs from the offer's role '" + std::string(role)
                           + "'");
      }
      c.consumed = op.resources.with_role("*");
      c.produced = op.resources;
      break;
    case operation_type::unreserve:
      for (const auto& r : op.resources.items()) {
        if (r.role == "*")
          return fail(t, "resource '" + r.name + "' is not reserved");
        if (!r.dynamic)
          return fail(t, "resource '" + r.name + "(" + r.role + ")' is statically reserved");
        if (!r.volume_id.empty())
          return fail(t, "volume '" + r.volume_id + "' must be destroyed first");
      }
      c.consumed = op.resources;
      c.produced = op.resources.with_role("*");
      break;
    case operation_type::create:
      for (const auto& r : op.resources.items()) {
        if (r.volume_id.empty())
          return fail(t, "resource '" + r.name + "' is not a volume (disk(role)[id:path]:size)");
        if (agent_total.has_volume(r.volume_id))
          return fail(t, "volume '" + r.volume_id + "' already exists on this agent");
      }
      for (size_t i = 0; i < op.resources.items().size(); ++i)
        for (size_t j = i + 1; j < op.resources.items().size(); ++j)
          if (op.resources.items()[i].volume_id == op.resources.items()[j].volume_id)
            return fail(t, "volume '" + op.resources.items()[i].volume_id + "' given twice");
      c.consumed = op.resources.without_volumes();
      c.produced = op.resources;
      break;
    case operation_type::destroy:
      for (const auto& r : op.resources.items())
        if (r.volume_id.empty())
          return fail(t, "resource '" + r.name + "' is not a volume");
      if (auto err = check_whole_volumes(op.resources, agent_total); !err.empty())
        return fail(t, err);
      if (auto err = check_whole_volumes(op.resources, available); !err.empty())
        return fail(t, err);
      c.consumed = op.resources;
      c.produced = op.resources.without_volumes();
      break;
    default:
      break;
  }
  if (!available.contains(c.consumed))
    return fail(t, "resources " + c.consumed.to_string() + " are not in the offer (it holds "
                     + available.to_string() + ")");
  out = std::move(c);
  return {};
}

std::string check_whole_volumes(const resource_set& used, const resource_set& whole) {
  for (const auto& u : used.items()) {
    if (u.volume_id.empty())
      continue;
    for (const auto& w : whole.items())
      if (w.volume_id == u.volume_id && (w.scalar != u.scalar || w.role != u.role || w.dynamic != u.dynamic)) {
        resource_set have;
        have.add(w);
        resource_set want;
        want.add(u);
        return "volume '" + u.volume_id + "' is " + have.to_string() + " and is used or destroyed whole, not as "
               + want.to_string();
      }
  }
  return {};
}

std::string apply_conversion(resource_set& r, const resource_conversion& c) {
  if (!r.contains(c.consumed))
    return "resources " + c.consumed.to_string() + " are not available";
  r -= c.consumed;
  r += c.produced;
  return {};
}

} // namespace mesoscaf
