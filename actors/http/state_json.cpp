#include "actors/http/state_json.hpp"

#include "actors/interfaces.hpp"
#include "config/support/version.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <unordered_map>

namespace mesoscaf::http {

std::string ranges_text(const std::vector<value_range>& ranges) {
  std::string out = "[";
  for (std::size_t i = 0; i < ranges.size(); ++i) {
    if (i > 0)
      out += ", ";
    out += std::to_string(ranges[i].begin) + "-" + std::to_string(ranges[i].end);
  }
  return out + "]";
}

using json = nlohmann::json;

namespace {

// Invalid UTF-8 (a task name is any bytes a framework sent) is replaced, never thrown on.
std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

/// Mesos' JSON of a resource bag: scalars summed over roles, ranges and sets as text.
json resources_json(const resource_set& r) {
  json j = json::object();
  for (const char* name : {"cpus", "mem", "disk", "gpus"})
    j[name] = 0.0;
  std::map<std::string, resource_set> by_kind;  // non-scalars merged across roles
  for (auto& x : r.items()) {
    if (x.type == value_type::scalar) {
      j[x.name] = j.value(x.name, 0.0) + from_milli(x.scalar);
    } else {
      resource y = x;
      y.role = "*";
      y.dynamic = false;
      y.volume_id.clear();
      y.volume_path.clear();
      by_kind[x.name].add(y);
    }
  }
  for (auto& [name, set] : by_kind)
    for (auto& x : set.items()) {
      if (x.type == value_type::ranges) {
        j[name] = ranges_text(x.ranges);
      } else {
        std::string text = "{";
        for (auto& item : x.items)
          text += (text.size() > 1 ? "," : "") + item;
        j[name] = text + "}";
      }
    }
  // Mesos rounds to three decimals as well; a float sum of thousandths can show noise otherwise.
  for (auto& [k, v] : j.items())
    if (v.is_number_float())
      v = std::round(v.get<double>() * 1000.0) / 1000.0;
  return j;
}

json task_json(const task_view& t, const std::string& user) {
  json j;
  j["id"] = t.id.value;
  j["name"] = t.name;
  j["framework_id"] = t.framework.value;
  j["executor_id"] = t.executor.value;
  j["slave_id"] = t.agent.value;
  j["state"] = to_string(t.state);
  j["resources"] = resources_json(t.resources);
  j["role"] = t.role.empty() ? "*" : t.role;
  j["user"] = user;
  json status{{"state", to_string(t.state)}, {"timestamp", t.updated}};
  if (t.healthy)
    status["healthy"] = *t.healthy;
  j["statuses"] = json::array({status});
  if (!t.labels.empty()) {
    json labels = json::array();
    for (auto& l : t.labels)
      labels.push_back({{"key", l.key}, {"value", l.value}});
    j["labels"] = json{{"labels", labels}};
  }
  if (t.discovery) {
    json ports = json::array();
    for (auto& p : t.discovery->ports)
      ports.push_back({{"number", p.number}, {"name", p.name}, {"protocol", p.protocol}});
    j["discovery"] = {{"visibility", t.discovery->visibility}, {"name", t.discovery->name},
                      {"ports", {{"ports", ports}}}};
  }
  if (t.reason != task_reason::none)
    j["reason"] = to_string(t.reason);
  if (!t.message.empty())
    j["message"] = t.message;
  j["launched_time"] = t.launched;
  return j;
}

json roles_of(const framework_info& f) {
  json roles = json::array();
  for (auto& r : f.roles)
    roles.push_back(r);
  if (roles.empty())
    roles.push_back("*");
  return roles;
}

json quota_entry(const role_summary& r) {
  return {{"role", r.name}, {"guarantee", resources_json(r.quota.guarantee)}, {"limit", resources_json(r.quota.limit)}};
}

} // namespace

std::string version_json() {
  return dump({{"version", product_version()}, {"git_sha", ""}, {"git_tag", ""}, {"build_date", __DATE__},
               {"build_time", 0}, {"build_user", ""}, {"protocol", protocol_version}});
}

std::string flags_json(const daemon_identity& me) {
  json flags = json::object();
  for (auto& [k, v] : me.flags)
    flags[k] = v;
  return dump({{"flags", flags}});
}

std::string roles_json(const std::vector<role_summary>& roles) {
  json out = json::array();
  for (auto& r : roles) {
    json fws = json::array();
    for (auto& f : r.frameworks)
      fws.push_back(f.value);
    out.push_back({{"name", r.name}, {"weight", r.weight}, {"resources", resources_json(r.allocated)},
                   {"allocated", resources_json(r.allocated)}, {"reserved", resources_json(r.reserved)},
                   {"frameworks", fws}, {"quota", quota_entry(r)}});
  }
  return dump({{"roles", out}});
}

std::string weights_json(const std::vector<role_summary>& roles) {
  json out = json::array();
  for (auto& r : roles)
    out.push_back({{"role", r.name}, {"weight", r.weight}});
  return dump(out);
}

std::string quota_json(const std::vector<role_summary>& roles) {
  json infos = json::array();
  for (auto& r : roles)
    if (!r.quota.guarantee.empty() || !r.quota.limit.empty())
      infos.push_back(quota_entry(r));
  return dump({{"infos", infos}});
}

std::string metrics_json(const std::vector<metric_sample>& samples) {
  json j = json::object();
  for (auto& m : samples)
    j[m.name] = m.value;
  return dump(j);
}

namespace {

/// A command task runs in its own directory inside the command executor's sandbox; other tasks in their
/// executor's. "directory" names where its stdout and stderr are.
json agent_task_json(const task_view& t, const executor_view& e) {
  auto j = task_json(t, "");
  j["directory"] = e.command ? e.directory + "/tasks/" + t.id.value : e.directory;
  return j;
}

json executor_json(const executor_view& e) {
  json j;
  j["id"] = e.id.value;
  j["name"] = e.name;
  j["framework_id"] = e.framework.value;
  j["container"] = e.container.value;
  j["directory"] = e.directory;
  j["source"] = e.command && e.type != executor_type::default_executor ? "command" : "";
  j["type"] = e.type == executor_type::default_executor ? "DEFAULT" : "CUSTOM";
  j["resources"] = resources_json(e.resources);
  for (auto [key, list] : {std::pair{"tasks", &e.tasks}, std::pair{"queued_tasks", &e.queued},
                           std::pair{"completed_tasks", &e.completed_tasks}}) {
    json arr = json::array();
    for (auto& t : *list)
      arr.push_back(agent_task_json(t, e));
    j[key] = arr;
  }
  return j;
}

} // namespace

std::string agent_state_json(const agent_state_view& s, const daemon_identity& me) {
  json j;
  j["id"] = s.info.id.value;
  j["pid"] = "slave(1)@" + (s.info.address.empty() ? me.address : s.info.address) + ":" + std::to_string(s.info.port);
  j["hostname"] = s.info.hostname.empty() ? me.hostname : s.info.hostname;
  j["port"] = me.http_port;
  j["agent_port"] = s.info.port;
  j["resources"] = resources_json(s.info.total);
  json attrs = json::object();
  for (auto& [k, v] : s.info.attributes)
    attrs[k] = v;
  j["attributes"] = attrs;
  j["master_hostname"] = s.master;
  j["registered"] = s.registered;
  j["version"] = product_version();
  j["start_time"] = s.start_time;
  json flags = json::object();
  for (auto& [k, v] : me.flags)
    flags[k] = v;
  j["flags"] = flags;
  std::map<std::string, json> fws;
  auto fw_entry = [&](const framework_id& id) -> json& {
    auto& f = fws[id.value];
    if (f.is_null()) {
      f = {{"id", id.value}, {"name", ""}, {"user", ""}, {"role", "*"}, {"checkpoint", false},
           {"executors", json::array()}, {"completed_executors", json::array()}};
      for (auto& fi : s.frameworks)
        if (fi.id == id) {
          f["name"] = fi.name;
          f["user"] = fi.user;
          f["roles"] = roles_of(fi);
          f["role"] = f["roles"].size() == 1 ? f["roles"][0] : json("*");
          f["checkpoint"] = fi.checkpoint;
        }
    }
    return f;
  };
  for (auto& fi : s.frameworks)
    fw_entry(fi.id);
  for (auto& e : s.executors)
    fw_entry(e.framework)["executors"].push_back(executor_json(e));
  std::set<std::string> live;
  for (auto& fi : s.frameworks)
    live.insert(fi.id.value);
  for (auto& e : s.completed_executors)
    fw_entry(e.framework)["completed_executors"].push_back(executor_json(e));
  json frameworks = json::array(), completed = json::array();
  for (auto& [id, f] : fws)
    (live.count(id) > 0 || !f["executors"].empty() ? frameworks : completed).push_back(f);
  j["frameworks"] = frameworks;
  j["completed_frameworks"] = completed;
  return dump(j);
}

std::string monitor_statistics_json(const std::vector<container_usage>& usage, const agent_state_view& s) {
  json out = json::array();
  for (auto& u : usage) {
    std::string name;
    for (auto& e : s.executors)
      if (e.container == u.container)
        name = e.name;
    auto& x = u.statistics;
    out.push_back({{"framework_id", u.framework.value},
                   {"executor_id", u.executor.value},
                   {"executor_name", name},
                   {"container_id", u.container.value},
                   {"source", ""},
                   {"statistics",
                    {{"timestamp", x.timestamp},
                     {"cpus_user_time_secs", x.cpus_user_time_secs},
                     {"cpus_system_time_secs", x.cpus_system_time_secs},
                     {"cpus_limit", x.cpus_limit},
                     {"mem_rss_bytes", x.mem_rss_bytes},
                     {"mem_max_bytes", x.mem_peak_bytes},
                     {"mem_limit_bytes", x.mem_limit_bytes},
                     {"processes", x.processes},
                     {"disk_used_bytes", x.disk_used_bytes},
                     {"disk_limit_bytes", x.disk_limit_bytes}}}});
  }
  return dump(out);
}

std::string parse_weights(const std::string& body, std::vector<std::pair<std::string, double>>& out) {
  auto j = json::parse(body, nullptr, false);
  if (j.is_discarded())
    return "the body is not JSON";
  if (!j.is_array())
    return "expected a list of {\"role\": ..., \"weight\": ...}";
  for (auto& e : j) {
    if (!e.is_object() || !e.contains("role") || !e["role"].is_string() || !e.contains("weight")
        || !e["weight"].is_number())
      return "expected a list of {\"role\": ..., \"weight\": ...}";
    auto role = e["role"].get<std::string>();
    auto w = e["weight"].get<double>();
    if (!valid_role_name(role) || role == "*")
      return "invalid role '" + role + "'";
    if (!std::isfinite(w) || w <= 0 || w > 1e6)
      return "weight of role " + role + " must be a positive number (up to 1e6)";
    out.emplace_back(role, w);
  }
  if (out.empty())
    return "no weights given";
  return {};
}

namespace {

// `{"cpus": 1, "mem": 512}` or Mesos' `[{"name": "cpus", "type": "SCALAR", "scalar": {"value": 1}}]`.
std::string parse_resources(const json& j, resource_set& out) {
  auto add = [&out](const std::string& name, const json& v) -> std::string {
    if (!v.is_number())
      return "quota of " + name + " must be a number";
    auto value = v.get<double>();
    auto m = to_milli(value);
    if (!m)
      return "quota of " + name + " must be a non-negative finite number";
    resource r;
    r.name = name;
    r.scalar = *m;
    if (!out.add(r))
      return "invalid resource " + name;
    return {};
  };
  if (j.is_object()) {
    for (auto& [k, v] : j.items())
      if (auto err = add(k, v); !err.empty())
        return err;
    return {};
  }
  if (j.is_array()) {
    for (auto& e : j) {
      if (!e.is_object() || !e.contains("name") || !e["name"].is_string())
        return "each resource needs a name";
      // "type" is optional; when given it must be the string "SCALAR" (anything else was an uncaught
      // type_error here, found by scripts/fuzz http_bodies).
      if (e.contains("type") && (!e["type"].is_string() || e["type"].get<std::string>() != "SCALAR"))
        return "quota takes scalar resources only";
      if (!e.contains("scalar") || !e["scalar"].is_object() || !e["scalar"].contains("value"))
        return "resource " + e["name"].get<std::string>() + " needs scalar.value";
      if (auto err = add(e["name"].get<std::string>(), e["scalar"]["value"]); !err.empty())
        return err;
    }
    return {};
  }
  return "resources must be an object or a list";
}

} // namespace

std::string parse_quota(const std::string& body, std::string& role, quota_info& out) {
  auto j = json::parse(body, nullptr, false);
  if (j.is_discarded())
    return "the body is not JSON";
  if (!j.is_object() || !j.contains("role") || !j["role"].is_string())
    return "expected {\"role\": ..., \"guarantee\": ..., \"limit\": ...}";
  role = j["role"].get<std::string>();
  if (!valid_role_name(role) || role == "*")
    return "invalid role '" + role + "'";
  if (j.contains("guarantee"))
    if (auto err = parse_resources(j["guarantee"], out.guarantee); !err.empty())
      return err;
  if (j.contains("limit"))
    if (auto err = parse_resources(j["limit"], out.limit); !err.empty())
      return err;
  if (out.guarantee.empty() && out.limit.empty())
    return "no guarantee or limit given (DELETE /quota/ROLE removes a quota)";
  return {};
}

} // namespace mesoscaf::http
