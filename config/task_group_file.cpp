#include "config/task_group_file.hpp"

#include "messages/ids.hpp"
#include "messages/resources.hpp"
#include "messages/task_checks.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <set>
#include <sstream>

namespace mesoscaf {

namespace {

using json = nlohmann::json;

// Thrown inside this file only, caught by parse_task_group_json: the first error ends the parse.
struct parse_error {
  std::string message;
};

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw parse_error{path + ": " + what};
}

void only_keys(const json& j, const std::string& path, std::initializer_list<const char*> allowed) {
  if (!j.is_object())
    fail(path, "not an object");
  for (auto it = j.begin(); it != j.end(); ++it) {
    bool known = false;
    for (auto* k : allowed)
      known = known || it.key() == k;
    if (!known)
      fail(path, "unknown key '" + it.key() + "'");
  }
}

std::string text(const json& j, const std::string& path) {
  if (!j.is_string())
    fail(path, "not a string");
  return j.get<std::string>();
}

bool flag(const json& j, const std::string& path) {
  if (!j.is_boolean())
    fail(path, "not true or false");
  return j.get<bool>();
}

double number(const json& j, const std::string& path) {
  if (!j.is_number())
    fail(path, "not a number");
  auto v = j.get<double>();
  if (!std::isfinite(v))
    fail(path, "not a finite number");
  return v;
}

// A copy: callers iterate over lists they may have just made (json::value's default), which must outlive the loop.
json array(const json& j, const std::string& path) {
  if (!j.is_array())
    fail(path, "not a list");
  return j;
}

// {"value": "..."} or a plain string.
std::string id_value(const json& j, const std::string& path) {
  if (j.is_string())
    return j.get<std::string>();
  only_keys(j, path, {"value"});
  if (!j.contains("value"))
    fail(path, "no value");
  return text(j["value"], path + ".value");
}

std::string format_number(double v) {
  std::ostringstream out;
  out.precision(15);
  out << v;
  return out.str();
}

// Mesos' Resource list (SCALAR and RANGES) as our text form, or that text form itself.
resource_set resources(const json& j, const std::string& path) {
  std::string textual;
  if (j.is_string()) {
    textual = j.get<std::string>();
  } else {
    std::size_t i = 0;
    for (const auto& r : array(j, path)) {
      auto at = path + "[" + std::to_string(i++) + "]";
      only_keys(r, at, {"name", "type", "scalar", "ranges", "role"});
      if (!r.contains("name"))
        fail(at, "no name");
      auto name = text(r["name"], at + ".name");
      auto type = r.contains("type") ? text(r["type"], at + ".type") : std::string{"SCALAR"};
      if (r.contains("role") && text(r["role"], at + ".role") != "*")
        fail(at + ".role", "reserved resources are not supported here");
      std::string item;
      if (type == "SCALAR") {
        if (!r.contains("scalar"))
          fail(at, "a SCALAR resource needs scalar.value");
        only_keys(r["scalar"], at + ".scalar", {"value"});
        if (!r["scalar"].contains("value"))
          fail(at + ".scalar", "no value");
        item = name + ":" + format_number(number(r["scalar"]["value"], at + ".scalar.value"));
      } else if (type == "RANGES") {
        if (!r.contains("ranges"))
          fail(at, "a RANGES resource needs ranges.range");
        only_keys(r["ranges"], at + ".ranges", {"range"});
        std::string list;
        std::size_t k = 0;
        for (const auto& range : array(r["ranges"].value("range", json::array()), at + ".ranges.range")) {
          auto rat = at + ".ranges.range[" + std::to_string(k++) + "]";
          only_keys(range, rat, {"begin", "end"});
          if (!range.contains("begin") || !range.contains("end") || !range["begin"].is_number_unsigned()
              || !range["end"].is_number_unsigned())
            fail(rat, "needs begin and end (non-negative integers)");
          list += (list.empty() ? "" : ",") + std::to_string(range["begin"].get<uint64_t>()) + "-"
                  + std::to_string(range["end"].get<uint64_t>());
        }
        item = name + ":[" + list + "]";
      } else {
        fail(at + ".type", "'" + type + "' is not supported (SCALAR or RANGES)");
      }
      textual += (textual.empty() ? "" : ";") + item;
    }
  }
  std::string err;
  auto parsed = resource_set::parse(textual, &err);
  if (!parsed)
    fail(path, err);
  if (auto msg = parsed->validate(); !msg.empty())
    fail(path, msg);
  return *parsed;
}

command_uri uri(const json& j, const std::string& path) {
  only_keys(j, path, {"value", "executable", "extract", "cache", "output_file"});
  command_uri u;
  if (!j.contains("value"))
    fail(path, "no value");
  u.value = text(j["value"], path + ".value");
  if (j.contains("executable"))
    u.executable = flag(j["executable"], path + ".executable");
  if (j.contains("extract"))
    u.extract = flag(j["extract"], path + ".extract");
  if (j.contains("cache"))
    u.cache = flag(j["cache"], path + ".cache");
  if (j.contains("output_file"))
    u.output_file = text(j["output_file"], path + ".output_file");
  return u;
}

command_info command(const json& j, const std::string& path) {
  only_keys(j, path, {"value", "shell", "arguments", "user", "environment", "uris"});
  command_info c;
  if (j.contains("shell"))
    c.shell = flag(j["shell"], path + ".shell");
  if (j.contains("value"))
    c.value = text(j["value"], path + ".value");
  if (j.contains("arguments")) {
    std::size_t i = 0;
    for (const auto& a : array(j["arguments"], path + ".arguments"))
      c.arguments.push_back(text(a, path + ".arguments[" + std::to_string(i++) + "]"));
  }
  if (c.value.empty())
    fail(path + ".value", "the command is empty");
  if (!c.shell && c.arguments.empty())
    c.arguments.push_back(c.value);  // Mesos: argv[0] defaults to the program
  if (j.contains("user"))
    c.user = text(j["user"], path + ".user");
  if (j.contains("environment")) {
    const auto& env = j["environment"];
    only_keys(env, path + ".environment", {"variables"});
    std::size_t i = 0;
    for (const auto& v : array(env.value("variables", json::array()), path + ".environment.variables")) {
      auto at = path + ".environment.variables[" + std::to_string(i++) + "]";
      only_keys(v, at, {"name", "value", "type"});
      if (!v.contains("name"))
        fail(at, "no name");
      if (v.contains("type") && text(v["type"], at + ".type") != "VALUE")
        fail(at + ".type", "only VALUE variables are supported");
      c.environment[text(v["name"], at + ".name")] = v.contains("value") ? text(v["value"], at + ".value") : "";
    }
  }
  if (j.contains("uris")) {
    std::size_t i = 0;
    for (const auto& u : array(j["uris"], path + ".uris"))
      c.uris.push_back(uri(u, path + ".uris[" + std::to_string(i++) + "]"));
  }
  return c;
}

labels parse_labels(const json& j, const std::string& path) {
  only_keys(j, path, {"labels"});
  labels out;
  std::size_t i = 0;
  for (const auto& l : array(j.value("labels", json::array()), path + ".labels")) {
    auto at = path + ".labels[" + std::to_string(i++) + "]";
    only_keys(l, at, {"key", "value"});
    if (!l.contains("key"))
      fail(at, "no key");
    out.push_back(label{text(l["key"], at + ".key"), l.contains("value") ? text(l["value"], at + ".value") : ""});
  }
  return out;
}

task_info task(const json& j, const std::string& path) {
  only_keys(j, path, {"name", "task_id", "agent_id", "resources", "command", "kill_policy", "labels"});
  task_info t;
  if (j.contains("name"))
    t.name = text(j["name"], path + ".name");
  auto id = j.contains("task_id") ? id_value(j["task_id"], path + ".task_id") : t.name;
  if (id.empty())
    fail(path, "needs a task_id or a name");
  if (auto msg = check_safe_id("task ID", id); !msg.empty())
    fail(path + ".task_id", msg);
  t.id = task_id{id};
  if (t.name.empty())
    t.name = id;
  if (j.contains("agent_id") && !id_value(j["agent_id"], path + ".agent_id").empty())
    fail(path + ".agent_id", "must be empty (the offer decides)");
  if (!j.contains("resources"))
    fail(path, "no resources");
  t.resources = resources(j["resources"], path + ".resources");
  if (t.resources.empty())
    fail(path + ".resources", "the task uses no resources");
  if (!j.contains("command"))
    fail(path, "no command");
  t.command = command(j["command"], path + ".command");
  if (j.contains("kill_policy")) {
    const auto& k = j["kill_policy"];
    only_keys(k, path + ".kill_policy", {"grace_period"});
    if (k.contains("grace_period")) {
      only_keys(k["grace_period"], path + ".kill_policy.grace_period", {"nanoseconds"});
      auto ns = number(k["grace_period"].value("nanoseconds", json(0)), path + ".kill_policy.grace_period.nanoseconds");
      t.kill_policy = kill_policy{ns / 1e9};
    }
  }
  if (j.contains("labels"))
    t.labels = parse_labels(j["labels"], path + ".labels");
  if (auto msg = check_task_life(t); !msg.empty())
    fail(path, msg);
  return t;
}

} // namespace

std::string parse_task_group_json(std::string_view text_in, task_group_info& out) {
  // nlohmann parses and frees without recursion but copies recursively: a deeply nested value must not get
  // further than the parser (no group file needs more than a handful of levels).
  constexpr int max_depth = 32;
  bool too_deep = false;
  json::parser_callback_t depth_check = [&](int depth, json::parse_event_t, json&) {
    too_deep = too_deep || depth > max_depth;
    return !too_deep;
  };
  auto j = json::parse(text_in.begin(), text_in.end(), depth_check, false);
  if (too_deep)
    return "nested deeper than " + std::to_string(max_depth) + " levels";
  if (j.is_discarded())
    return "not valid JSON";
  try {
    only_keys(j, "group", {"tasks", "failure_policy"});
    if (!j.contains("tasks"))
      fail("group", "no tasks");
    const auto tasks = array(j["tasks"], "tasks");
    if (tasks.empty())
      fail("tasks", "the group has no tasks");
    if (tasks.size() > max_group_tasks)
      fail("tasks", "more than " + std::to_string(max_group_tasks) + " tasks");
    task_group_info g;
    std::set<task_id> seen;
    std::size_t i = 0;
    for (const auto& t : tasks) {
      auto path = "tasks[" + std::to_string(i++) + "]";
      auto parsed = task(t, path);
      if (!seen.insert(parsed.id).second)
        fail(path + ".task_id", "task ID '" + parsed.id.value + "' appears twice in the group");
      g.tasks.push_back(std::move(parsed));
    }
    if (j.contains("failure_policy")) {
      auto p = text(j["failure_policy"], "failure_policy");
      if (p == "KILL_GROUP")
        g.on_failure = group_failure_policy::kill_group;
      else if (p == "KEEP_RUNNING")
        g.on_failure = group_failure_policy::keep_running;
      else
        fail("failure_policy", "'" + p + "' is not KILL_GROUP or KEEP_RUNNING");
    }
    out = std::move(g);
    return {};
  } catch (const parse_error& e) {
    return e.message;
  } catch (const json::exception& e) {
    return e.what();
  }
}

} // namespace mesoscaf
