#pragma once
// Authorization: who may do what (`--acls=FILE`), in the spirit of Mesos' ACLs. Pure logic, no actors: the
// master's handlers and its HTTP endpoints ask `authorized` with the principal the request authenticated as (a
// TLS certificate's CN, or HTTP credentials) and the object of the action.
//
// The file is JSON:
//   {"permissive": false,
//    "register_frameworks": [{"principals": {"values": ["etl"]}, "roles": {"values": ["eng"]}},
//                            {"principals": {"type": "ANY"}, "roles": {"type": "NONE"}}],
//    "update_weights": [{"principals": {"values": ["ops"]}, "roles": {"type": "ANY"}}]}
// Rules of an action are tried in order; the first whose subject and object entities both match decides: allowed
// unless either entity is NONE. No rule matches: `permissive` decides (default true). An entity is
// {"type": "ANY"}, {"type": "NONE"} or {"values": [...]}. A request without a principal matches only ANY and NONE.
#include <array>
#include <optional>
#include <string>
#include <vector>

namespace mesoscaf {

enum class acl_action {
  register_agents,       // object: the agent's principal ("agents")
  register_frameworks,   // object: each role the framework subscribes to ("roles")
  run_tasks,             // object: the user a task runs as ("users")
  teardown_frameworks,   // object: the principal of the framework torn down ("framework_principals")
  kill_tasks,            // object: the principal of the task's framework ("framework_principals")
  update_weights,        // object: the role ("roles")
  update_quotas,         // object: the role ("roles")
  view_state,            // object: frameworks | tasks | agents | sandboxes | flags ("objects")
  // The operator API's conversions of an agent's unallocated resources (object: each role reserved to, unreserved
  // from, or holding the volume; our resources carry no reserver or creator principal, so the role decides).
  reserve_resources,     // object: the role ("roles")
  unreserve_resources,   // object: the role ("roles")
  create_volumes,        // object: the role ("roles")
  destroy_volumes,       // object: the role ("roles")
  mark_agents_gone,      // object: the agent's ID ("agents")
};

constexpr std::size_t acl_action_count = 13;

/// The JSON key of an action and of its object entity.
const char* acl_action_name(acl_action a);
const char* acl_object_name(acl_action a);

struct acl_entity {
  enum class kind { any, none, values };
  kind type = kind::any;
  std::vector<std::string> values;

  /// Whether a request's value falls under this entity (ANY and NONE cover everything, even no value).
  bool matches(const std::optional<std::string>& value) const;
};

struct acl_rule {
  acl_entity subjects;
  acl_entity objects;
};

class acl_set {
public:
  /// Everything allowed (no --acls).
  acl_set() = default;

  /// Parses the JSON text. Returns "" and fills `out`, or what is wrong (out unchanged).
  static std::string parse(const std::string& text, acl_set& out);

  /// Whether `principal` (none: unauthenticated) may do `action` on `object`.
  bool authorized(acl_action action, const std::optional<std::string>& principal, const std::string& object) const;

  /// True if a file was loaded (the daemon then authorizes; otherwise it warns once that it does not).
  bool configured() const { return configured_; }

  const std::vector<acl_rule>& rules(acl_action a) const { return rules_[static_cast<std::size_t>(a)]; }

private:
  bool configured_ = false;
  bool permissive_ = true;
  std::array<std::vector<acl_rule>, acl_action_count> rules_;
};

} // namespace mesoscaf
