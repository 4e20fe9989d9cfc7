#include "apps/mesoscaf/cli_views.hpp"

#include <cmath>
#include <cstdio>
#include <map>

namespace mesoscaf {

namespace {

double number_field(const json& object, const char* name) {
  if (!object.is_object())
    return 0;
  auto it = object.find(name);
  return it != object.end() && it->is_number() ? it->get<double>() : 0;
}

const json& array_field(const json& object, const char* name) {
  static const json empty = json::array();
  if (!object.is_object())
    return empty;
  auto it = object.find(name);
  return it != object.end() && it->is_array() ? *it : empty;
}

const json& object_field(const json& object, const char* name) {
  static const json empty = json::object();
  if (!object.is_object())
    return empty;
  auto it = object.find(name);
  return it != object.end() && it->is_object() ? *it : empty;
}

std::string yes_no(const json& object, const char* name) {
  auto it = object.is_object() ? object.find(name) : object.end();
  if (object.is_object() && it != object.end() && it->is_boolean())
    return it->get<bool>() ? "yes" : "no";
  return "";
}

/// "0.5/2" of one scalar from a used and a total resources object.
std::string used_of_total(const json& used, const json& total, const char* name) {
  return format_number(number_field(used, name)) + "/" + format_number(number_field(total, name));
}

} // namespace

std::string text_field(const json& object, const char* name) {
  if (!object.is_object())
    return {};
  auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

std::string format_number(double value) {
  if (!std::isfinite(value))
    return "?";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f", value);
  std::string text = buf;
  while (!text.empty() && text.back() == '0')
    text.pop_back();
  if (!text.empty() && text.back() == '.')
    text.pop_back();
  return text == "-0" ? "0" : text;
}

std::string resources_text(const json& resources) {
  if (!resources.is_object())
    return {};
  std::string result;
  for (const auto& [name, value] : resources.items()) {
    std::string item;
    if (value.is_number() && value.get<double>() != 0)
      item = name + ":" + format_number(value.get<double>());
    else if (value.is_string() && !value.get<std::string>().empty() && value.get<std::string>() != "[]")
      item = name + ":" + value.get<std::string>();
    if (!item.empty())
      result += (result.empty() ? "" : ";") + item;
  }
  return result;
}

text_table agents_table(const json& slaves_answer) {
  text_table t{{"ID", "HOSTNAME", "ADDRESS", "ACTIVE", "CPUS", "MEM", "DISK"}, {}};
  for (const auto& a : array_field(slaves_answer, "slaves")) {
    const auto& total = object_field(a, "resources");
    const auto& used = object_field(a, "used_resources");
    auto address = text_field(a, "address");
    auto port = number_field(a, "http_port");
    if (!address.empty() && port > 0)
      address += ":" + format_number(port);
    t.rows.push_back({text_field(a, "id"), text_field(a, "hostname"), address, yes_no(a, "active"),
                      used_of_total(used, total, "cpus"), used_of_total(used, total, "mem"),
                      used_of_total(used, total, "disk")});
  }
  return t;
}

text_table frameworks_table(const json& frameworks_answer) {
  text_table t{{"ID", "NAME", "USER", "ROLE", "ACTIVE", "TASKS", "CPUS", "MEM"}, {}};
  auto add = [&](const json& f, bool completed) {
    const auto& used = object_field(f, "used_resources");
    auto tasks = array_field(f, "tasks").size();
    t.rows.push_back({text_field(f, "id"), text_field(f, "name"), text_field(f, "user"), text_field(f, "role"),
                      completed ? "completed" : yes_no(f, "active"), std::to_string(tasks),
                      format_number(number_field(used, "cpus")), format_number(number_field(used, "mem"))});
  };
  for (const auto& f : array_field(frameworks_answer, "frameworks"))
    add(f, false);
  for (const auto& f : array_field(frameworks_answer, "completed_frameworks"))
    add(f, true);
  return t;
}

json select_tasks(const json& state, bool completed) {
  auto result = json::array();
  auto append = [&](const json& list) {
    for (const auto& task : list)
      result.push_back(task);
  };
  for (const auto& f : array_field(state, "frameworks")) {
    append(array_field(f, "tasks"));
    append(array_field(f, "unreachable_tasks"));
  }
  append(array_field(state, "orphan_tasks"));
  if (completed) {
    for (const auto& f : array_field(state, "frameworks"))
      append(array_field(f, "completed_tasks"));
    for (const auto& f : array_field(state, "completed_frameworks")) {
      append(array_field(f, "tasks"));
      append(array_field(f, "unreachable_tasks"));
      append(array_field(f, "completed_tasks"));
    }
  }
  return result;
}

text_table tasks_table(const json& tasks) {
  text_table t{{"TASK ID", "NAME", "STATE", "FRAMEWORK", "AGENT", "CPUS", "MEM"}, {}};
  if (!tasks.is_array())
    return t;
  for (const auto& task : tasks) {
    const auto& res = object_field(task, "resources");
    t.rows.push_back({text_field(task, "id"), text_field(task, "name"), text_field(task, "state"),
                      text_field(task, "framework_id"), text_field(task, "slave_id"),
                      format_number(number_field(res, "cpus")), format_number(number_field(res, "mem"))});
  }
  return t;
}

text_table quota_table(const json& quota_answer) {
  text_table t{{"ROLE", "GUARANTEE", "LIMIT"}, {}};
  for (const auto& q : array_field(quota_answer, "infos"))
    t.rows.push_back({text_field(q, "role"), resources_text(object_field(q, "guarantee")),
                      resources_text(object_field(q, "limit"))});
  return t;
}

text_table weights_table(const json& weights_answer) {
  text_table t{{"ROLE", "WEIGHT"}, {}};
  if (!weights_answer.is_array())
    return t;
  for (const auto& w : weights_answer)
    t.rows.push_back({text_field(w, "role"), format_number(number_field(w, "weight"))});
  return t;
}

void write_state_summary(std::ostream& os, const json& state) {
  const auto& leader = object_field(state, "leader_info");
  auto leader_text = text_field(state, "leader");
  if (auto ip = text_field(leader, "ip"); !ip.empty() && number_field(leader, "http_port") > 0)
    leader_text += " (http " + ip + ":" + format_number(number_field(leader, "http_port")) + ")";
  os << "leader:      " << leader_text << "\n"
     << "version:     " << text_field(state, "version") << "\n"
     << "agents:      " << format_number(number_field(state, "activated_slaves")) << " active, "
     << format_number(number_field(state, "deactivated_slaves")) << " inactive, "
     << format_number(number_field(state, "unreachable_slaves")) << " unreachable\n";
  const auto& frameworks = array_field(state, "frameworks");
  os << "frameworks:  " << frameworks.size() << " registered, " << array_field(state, "completed_frameworks").size()
     << " completed\n";
  std::map<std::string, size_t> by_state;
  for (const auto& task : select_tasks(state, true))
    ++by_state[text_field(task, "state")];
  os << "tasks:       ";
  if (by_state.empty())
    os << "none";
  bool first = true;
  for (const auto& [name, count] : by_state) {
    os << (first ? "" : ", ") << (name.empty() ? "?" : name) << " " << count;
    first = false;
  }
  os << "\n";
  // Totals over the agents: what they have and what their tasks use.
  std::map<std::string, double> total;
  std::map<std::string, double> used;
  for (const auto& a : array_field(state, "slaves")) {
    for (const auto& [name, value] : object_field(a, "resources").items())
      if (value.is_number())
        total[name] += value.get<double>();
    for (const auto& [name, value] : object_field(a, "used_resources").items())
      if (value.is_number())
        used[name] += value.get<double>();
  }
  os << "resources:   ";
  first = true;
  for (const char* name : {"cpus", "mem", "disk", "gpus"}) {
    if (total[name] == 0 && used[name] == 0)
      continue;
    os << (first ? "" : ", ") << name << " " << format_number(used[name]) << "/" << format_number(total[name])
       << " used";
    first = false;
  }
  if (first)
    os << "none";
  os << "\n";
}

json quota_request(const std::string& role, const resource_set& guarantee) {
  json res = json::object();
  for (const auto& r : guarantee.items())
    if (r.type == value_type::scalar)
      res[r.name] = from_milli(r.scalar);
  return json{{"role", role}, {"guarantee", res}};
}

json weights_request(const std::vector<std::pair<std::string, double>>& weights) {
  auto body = json::array();
  for (const auto& [role, weight] : weights)
    body.push_back(json{{"role", role}, {"weight", weight}});
  return body;
}

bool is_terminal_task_state(const std::string& state) {
  for (const char* s : {"TASK_FINISHED", "TASK_FAILED", "TASK_KILLED", "TASK_LOST", "TASK_ERROR", "TASK_DROPPED",
                        "TASK_GONE", "TASK_GONE_BY_OPERATOR"})
    if (state == s)
      return true;
  return false;
}

} // namespace mesoscaf
