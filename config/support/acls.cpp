#include "config/support/acls.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace mesoscaf {

namespace {

constexpr std::array<const char*, acl_action_count> action_names{
  "register_agents", "register_frameworks", "run_tasks",     "teardown_frameworks",
  "kill_tasks",      "update_weights",      "update_quotas", "view_state",
  "reserve_resources", "unreserve_resources", "create_volumes", "destroy_volumes", "mark_agents_gone"};

constexpr std::array<const char*, acl_action_count> object_names{
  "agents", "roles", "users", "framework_principals", "framework_principals", "roles", "roles", "objects",
  "roles",  "roles", "roles", "roles",                "agents"};

// An entity: {"type": "ANY"|"NONE"} or {"values": [strings]}. Returns "" or what is wrong.
std::string parse_entity(const nlohmann::json& j, const std::string& where, acl_entity& out) {
  if (!j.is_object())
    return where + ": expected an object with \"type\" or \"values\"";
  for (auto& [k, v] : j.items())
    if (k != "type" && k != "values")
      return where + ": unknown key \"" + k + "\"";
  bool has_type = j.contains("type");
  bool has_values = j.contains("values");
  if (has_type == has_values)
    return where + ": expected exactly one of \"type\" and \"values\"";
  if (has_type) {
    const auto& t = j["type"];
    if (!t.is_string() || (t != "ANY" && t != "NONE"))
      return where + ".type: expected \"ANY\" or \"NONE\"";
    out.type = t == "ANY" ? acl_entity::kind::any : acl_entity::kind::none;
    return {};
  }
  const auto& vs = j["values"];
  if (!vs.is_array() || vs.empty())
    return where + ".values: expected a non-empty array of strings";
  if (vs.size() > 10000)
    return where + ".values: more than 10000 values";
  out.type = acl_entity::kind::values;
  for (auto& v : vs) {
    if (!v.is_string() || v.get<std::string>().empty())
      return where + ".values: expected non-empty strings";
    out.values.push_back(v.get<std::string>());
  }
  return {};
}

bool allows(const acl_entity& e) {
  return e.type != acl_entity::kind::none;
}

} // namespace

const char* acl_action_name(acl_action a) {
  return action_names[static_cast<std::size_t>(a)];
}

const char* acl_object_name(acl_action a) {
  return object_names[static_cast<std::size_t>(a)];
}

bool acl_entity::matches(const std::optional<std::string>& value) const {
  if (type != kind::values)
    return true;
  return value && std::find(values.begin(), values.end(), *value) != values.end();
}

std::string acl_set::parse(const std::string& text, acl_set& out) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded())
    return "not valid JSON";
  if (!j.is_object())
    return "expected a JSON object";
  acl_set result;
  result.configured_ = true;
  for (auto& item : j.items()) {
    const std::string key = item.key();
    const auto& value = item.value();
    if (key == "permissive") {
      if (!value.is_boolean())
        return "permissive: expected true or false";
      result.permissive_ = value.get<bool>();
      continue;
    }
    auto i = std::find_if(action_names.begin(), action_names.end(), [&](const char* n) { return key == n; });
    if (i == action_names.end())
      return "unknown key \"" + key + "\" (expected permissive or an action: register_agents, register_frameworks, "
             "run_tasks, teardown_frameworks, kill_tasks, update_weights, update_quotas, view_state, reserve_resources, "
             "unreserve_resources, create_volumes, destroy_volumes, mark_agents_gone)";
    auto index = static_cast<std::size_t>(i - action_names.begin());
    if (!value.is_array())
      return key + ": expected an array of rules";
    if (value.size() > 10000)
      return key + ": more than 10000 rules";
    std::string object_key = object_names[index];
    for (std::size_t n = 0; n < value.size(); ++n) {
      auto where = key + "[" + std::to_string(n) + "]";
      const auto& rule_json = value[n];
      if (!rule_json.is_object())
        return where + ": expected an object";
      for (auto& [k, v] : rule_json.items())
        if (k != "principals" && k != object_key)
          return where + ": unknown key \"" + k + "\" (expected principals and " + object_key + ")";
      if (!rule_json.contains("principals") || !rule_json.contains(object_key))
        return where + ": expected principals and " + object_key;
      acl_rule rule;
      if (auto err = parse_entity(rule_json["principals"], where + ".principals", rule.subjects); !err.empty())
        return err;
      if (auto err = parse_entity(rule_json[object_key], where + "." + object_key, rule.objects); !err.empty())
        return err;
      result.rules_[index].push_back(std::move(rule));
    }
  }
  out = std::move(result);
  return {};
}

bool acl_set::authorized(acl_action action, const std::optional<std::string>& principal,
                         const std::string& object) const {
  if (!configured_)
    return true;
  for (const auto& rule : rules(action))
    if (rule.subjects.matches(principal) && rule.objects.matches(object))
      return allows(rule.subjects) && allows(rule.objects);
  return permissive_;
}

} // namespace mesoscaf
