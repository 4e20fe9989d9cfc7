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

using json = nlohmann::json;

namespace {

// Invalid UTF-8 (a task name is any bytes a framework sent) is replaced, never thrown on.
std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string ranges_text(const std::vector<value_range>& ranges) {
  std::string out = "[";
  for (std::size_t i = 0; i < ranges.size(); ++i) {
    if (i > 0)
      out += ", ";
    out += std::to_string(ranges[i].begin) + "-" + std::to_string(ranges[i].end);
  }
  return out + "]";
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

json reserved_json(const resource_set& r) {
  json j = json::object();
  std::map<std::string, resource_set> by_role;
  for (auto& x : r.items())
    if (x.role != "*")
      by_role[x.role].add(x);
  for (auto& [role, set] : by_role)
    j[role] = resources_json(set);
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
  j["statuses"] = json::array({json{{"state", to_string(t.state)}, {"timestamp", t.updated}}});
  if (t.reason != task_reason::none)
    j["reason"] = to_string(t.reason);
  if (!t.message.empty())
    j["message"] = t.message;
  j["launched_time"] = t.launched;
  return j;
}

std::string pid_of(const char* kind, const std::string& address, uint16_t port) {
  return std::string{kind} + "@" + address + ":" + std::to_string(port);
}

json agent_json(const agent_view& a) {
  json j;
  j["id"] = a.info.id.value;
  j["pid"] = pid_of("slave(1)", a.info.address, a.info.port);
  j["hostname"] = a.info.hostname;
  j["address"] = a.info.address;
  // Mesos' "port" is the agent's one port (HTTP and libprocess); ours are two: "port" is the HTTP one, so
  // `http://hostname:port/` works as with Mesos, and "agent_port" is the actor port.
  j["port"] = a.info.http_port;
  j["http_port"] = a.info.http_port;
  j["agent_port"] = a.info.port;
  j["resources"] = resources_json(a.info.total);
  j["used_resources"] = resources_json(a.used);
  j["offered_resources"] = resources_json(a.offered);
  j["unreserved_resources"] = resources_json(a.info.total.unreserved());
  j["reserved_resources"] = reserved_json(a.info.total);
  json attrs = json::object();
  for (auto& [k, v] : a.info.attributes)
    attrs[k] = v;
  j["attributes"] = attrs;
  j["active"] = a.connected;
  j["registered_time"] = a.registered;
  j["version"] = product_version();
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

json framework_json(const framework_view& f, const std::vector<task_view>* tasks,
                    const std::vector<task_view>* completed) {
  json j;
  j["id"] = f.info.id.value;
  j["name"] = f.info.name;
  j["user"] = f.info.user;
  j["principal"] = f.info.principal;
  j["hostname"] = "";
  j["webui_url"] = "";
  j["roles"] = roles_of(f.info);
  j["role"] = j["roles"].size() == 1 ? j["roles"][0] : json("*");
  j["active"] = f.active;
  j["connected"] = f.active;
  j["recovered"] = false;
  j["checkpoint"] = f.info.checkpoint;
  j["failover_timeout"] = f.info.failover_timeout;
  j["capabilities"] = f.info.capabilities;
  j["registered_time"] = f.registered;
  j["used_resources"] = resources_json(f.used);
  j["offered_resources"] = resources_json(f.offered);
  j["resources"] = resources_json(f.used + f.offered);
  json offers = json::array();
  for (auto& o : f.offers)
    offers.push_back({{"id", o.id.value}, {"framework_id", f.info.id.value}, {"slave_id", o.agent.value},
                      {"role", o.role}, {"resources", resources_json(o.resources)}});
  j["offers"] = offers;
  json executors = json::array();
  for (auto& e : f.executors)
    executors.push_back({{"executor_id", e.id.value}, {"name", e.name}, {"framework_id", f.info.id.value},
                         {"resources", resources_json(e.resources)}, {"role", e.role}});
  j["executors"] = executors;
  json unreachable = json::array();
  for (auto& t : f.unreachable_tasks)
    unreachable.push_back(task_json(t, f.info.user));
  j["unreachable_tasks"] = unreachable;
  if (tasks != nullptr) {
    json live = json::array();
    for (auto& t : *tasks)
      live.push_back(task_json(t, f.info.user));
    j["tasks"] = live;
    json done = json::array();
    // Ended, not yet acknowledged by the framework: Mesos lists them among its tasks too.
    for (auto& t : f.unacknowledged)
      done.push_back(task_json(t, f.info.user));
    if (completed != nullptr)
      for (auto& t : *completed)
        done.push_back(task_json(t, f.info.user));
    j["completed_tasks"] = done;
  }
  return j;
}

/// Tasks grouped by framework (stable: the order of the pages).
struct tasks_by_framework {
  std::unordered_map<std::string, std::vector<task_view>> live, completed;
  explicit tasks_by_framework(const master_state& s) {
    for (auto& t : s.tasks)
      live[t.framework.value].push_back(t);
    for (auto& t : s.completed)
      completed[t.framework.value].push_back(t);
  }
  template <class Map>
  static const std::vector<task_view>* find(const Map& m, const framework_id& id) {
    auto i = m.find(id.value);
    return i == m.end() ? nullptr : &i->second;
  }
};

json frameworks_array(const master_state& s, const tasks_by_framework& by) {
  static const std::vector<task_view> none;
  json out = json::array();
  for (auto& f : s.first.frameworks) {
    auto live = tasks_by_framework::find(by.live, f.info.id);
    auto done = tasks_by_framework::find(by.completed, f.info.id);
    out.push_back(framework_json(f, live ? live : &none, done));
  }
  return out;
}

json completed_frameworks_array(const master_state& s, const tasks_by_framework& by) {
  json out = json::array();
  for (auto& id : s.first.header.completed_frameworks) {
    json j{{"id", id.value}, {"active", false}, {"connected", false}, {"tasks", json::array()}};
    json done = json::array();
    if (auto list = tasks_by_framework::find(by.completed, id))
      for (auto& t : *list)
        done.push_back(task_json(t, ""));
    j["completed_tasks"] = done;
    out.push_back(std::move(j));
  }
  return out;
}

json slaves_array(const master_state& s) {
  json out = json::array();
  for (auto& a : s.agents)
    out.push_back(agent_json(a));
  return out;
}

json leader_info(const master_state& s, const daemon_identity& me) {
  auto& h = s.first.header;
  if (h.leading)
    return {{"id", me.id}, {"hostname", me.hostname}, {"ip", me.address}, {"port", me.port},
            {"http_port", me.http_port}};
  if (h.leader.empty())
    return json::object();
  return {{"id", h.leader.id}, {"hostname", h.leader.host}, {"ip", h.leader.host}, {"port", h.leader.port},
          {"http_port", h.leader.http_port}};
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

std::string master_state_json(const master_state& s, const daemon_identity& me) {
  auto& h = s.first.header;
  tasks_by_framework by{s};
  json j;
  j["version"] = product_version();
  j["id"] = me.id;
  j["pid"] = pid_of("master", me.address, me.port);
  j["hostname"] = me.hostname;
  j["port"] = me.port;
  j["http_port"] = me.http_port;
  j["start_time"] = me.start_time > 0 ? me.start_time : h.start_time;
  j["elected_time"] = h.elected_time;
  j["elected"] = h.elected;
  j["leading"] = h.leading;
  std::size_t active = 0;
  for (auto& a : s.agents)
    active += a.connected ? 1 : 0;
  j["activated_slaves"] = active;
  j["deactivated_slaves"] = s.agents.size() - active;
  j["unreachable_slaves"] = h.unreachable.size();
  auto leader = leader_info(s, me);
  j["leader_info"] = leader;
  j["leader"] = leader.empty() ? std::string{}
                               : pid_of("master", leader["ip"].get<std::string>(), leader["port"].get<uint16_t>());
  json flags = json::object();
  for (auto& [k, v] : me.flags)
    flags[k] = v;
  j["flags"] = flags;
  j["slaves"] = slaves_array(s);
  j["recovered_slaves"] = json::array();
  for (auto& id : h.recovering)
    j["recovered_slaves"].push_back({{"id", id.value}});
  j["frameworks"] = frameworks_array(s, by);
  j["completed_frameworks"] = completed_frameworks_array(s, by);
  j["unregistered_frameworks"] = json::array();
  j["orphan_tasks"] = json::array();
  return dump(j);
}

std::string master_state_summary_json(const master_state& s, const daemon_identity& me) {
  // Counts per agent and per framework, by state.
  std::map<std::string, std::map<std::string, int>> agent_counts, fw_counts;
  std::map<std::string, std::set<std::string>> agent_fws, fw_agents;
  auto count = [&](const task_view& t) {
    agent_counts[t.agent.value][to_string(t.state)]++;
    fw_counts[t.framework.value][to_string(t.state)]++;
    agent_fws[t.agent.value].insert(t.framework.value);
    fw_agents[t.framework.value].insert(t.agent.value);
  };
  for (auto& t : s.tasks)
    count(t);
  for (auto& t : s.completed)
    count(t);
  static const char* states[] = {"TASK_STAGING", "TASK_STARTING", "TASK_RUNNING", "TASK_KILLING", "TASK_FINISHED",
                                 "TASK_KILLED", "TASK_FAILED", "TASK_LOST", "TASK_ERROR", "TASK_UNREACHABLE"};
  json slaves = json::array();
  for (auto& a : s.agents) {
    auto j = agent_json(a);
    for (auto st : states)
      j[st] = agent_counts[a.info.id.value][st];
    j["framework_ids"] = agent_fws[a.info.id.value];
    slaves.push_back(std::move(j));
  }
  json fws = json::array();
  for (auto& f : s.first.frameworks) {
    auto j = framework_json(f, nullptr, nullptr);
    j.erase("offers");
    j.erase("unreachable_tasks");
    for (auto st : states)
      j[st] = fw_counts[f.info.id.value][st];
    j["slave_ids"] = fw_agents[f.info.id.value];
    fws.push_back(std::move(j));
  }
  return dump({{"hostname", me.hostname}, {"cluster", ""}, {"slaves", slaves}, {"frameworks", fws}});
}

std::string master_frameworks_json(const master_state& s) {
  tasks_by_framework by{s};
  return dump({{"frameworks", frameworks_array(s, by)},
               {"completed_frameworks", completed_frameworks_array(s, by)},
               {"unregistered_frameworks", json::array()}});
}

std::string master_slaves_json(const master_state& s) {
  json recovered = json::array();
  for (auto& id : s.first.header.recovering)
    recovered.push_back({{"id", id.value}});
  return dump({{"slaves", slaves_array(s)}, {"recovered_slaves", recovered}});
}

std::string master_tasks_json(const master_state& s, std::size_t limit, std::size_t offset, bool ascending) {
  std::unordered_map<std::string, std::string> users;
  for (auto& f : s.first.frameworks)
    users[f.info.id.value] = f.info.user;
  std::vector<const task_view*> all;
  all.reserve(s.tasks.size() + s.completed.size());
  for (auto& t : s.tasks)
    all.push_back(&t);
  for (auto& f : s.first.frameworks)
    for (auto& t : f.unacknowledged)
      all.push_back(&t);
  for (auto& t : s.completed)
    all.push_back(&t);
  std::stable_sort(all.begin(), all.end(), [ascending](const task_view* a, const task_view* b) {
    return ascending ? a->launched < b->launched : a->launched > b->launched;
  });
  json tasks = json::array();
  for (std::size_t i = offset; i < all.size() && i - offset < limit; ++i)
    tasks.push_back(task_json(*all[i], users[all[i]->framework.value]));
  return dump({{"tasks", tasks}});
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
  j["source"] = e.command ? "command" : "";
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
  j["pid"] = pid_of("slave(1)", s.info.address.empty() ? me.address : s.info.address, s.info.port);
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
      if (e.value("type", std::string{"SCALAR"}) != "SCALAR")
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
