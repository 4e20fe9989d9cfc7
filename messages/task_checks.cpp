#include "messages/task_checks.hpp"

#include "messages/ids.hpp"

#include <cmath>
#include <string_view>

namespace mesoscaf {

namespace {

constexpr double max_check_seconds = 86400;
constexpr size_t max_labels = 128;
constexpr size_t max_label_key = 256;
constexpr size_t max_label_value = 4096;
constexpr size_t max_uri_length = 4096;

bool in_range(double v, double lo, double hi) {
  return std::isfinite(v) && v >= lo && v <= hi;
}

std::string seconds_error(const char* what, double v, double lo, double hi, bool lo_open = false) {
  if (in_range(v, lo, hi) && !(lo_open && v == lo))
    return {};
  return std::string{what} + " must be " + (lo_open ? "more than " : "at least ") + std::to_string(static_cast<int>(lo))
         + " and at most " + std::to_string(static_cast<long>(hi)) + " seconds";
}

bool holds_port(const resource_set& resources, uint32_t port) {
  for (const auto& r : resources.items())
    if (r.name == "ports")
      for (const auto& range : r.ranges)
        if (range.begin <= port && port <= range.end)
          return true;
  return false;
}

// A file name we create: 1-200 characters of [A-Za-z0-9._-], not "." or ".." (as the launcher's sandbox rule).
bool safe_component(std::string_view name) {
  if (name.empty() || name.size() > 200 || name == "." || name == "..")
    return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_'
          || c == '-'))
      return false;
  return true;
}

// A relative path of safe components ([A-Za-z0-9._-], not "." or ".."), '/'-separated.
bool safe_relative_path(std::string_view path) {
  if (path.empty() || path.size() > 1024 || path.front() == '/')
    return false;
  while (!path.empty()) {
    auto slash = path.find('/');
    auto part = path.substr(0, slash);
    if (part.empty() || part == "." || part == ".." || !safe_component(part))
      return false;
    path = slash == std::string_view::npos ? std::string_view{} : path.substr(slash + 1);
  }
  return true;
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

} // namespace

std::string check_kill_policy(const kill_policy& policy) {
  return seconds_error("kill policy's grace period", policy.grace_period, 0, max_kill_grace_seconds);
}

std::string check_health_check(const health_check& c, const resource_set& task_resources) {
  std::string err;
  if (!(err = seconds_error("health check delay", c.delay, 0, max_check_seconds)).empty()
      || !(err = seconds_error("health check interval", c.interval, 0, max_check_seconds, true)).empty()
      || !(err = seconds_error("health check timeout", c.timeout, 0, max_check_seconds, true)).empty()
      || !(err = seconds_error("health check grace period", c.grace_period, 0, max_check_seconds)).empty())
    return err;
  if (c.consecutive_failures > 1000000)
    return "health check consecutive_failures must be at most 1000000";
  switch (c.type) {
    case health_check::kind::command:
      if (c.command.value.empty())
        return "COMMAND health check without a command";
      if (!c.command.uris.empty())
        return "a COMMAND health check cannot fetch URIs";
      if (auto msg = check_no_control_chars("health check command user", c.command.user); !msg.empty())
        return msg;
      return {};
    case health_check::kind::http:
      if (c.scheme != "http" && c.scheme != "https")
        return "HTTP health check scheme '" + c.scheme + "': expected http or https";
      if (c.path.empty() || c.path.front() != '/' || c.path.size() > 1024)
        return "HTTP health check path must start with '/' (at most 1024 characters)";
      for (unsigned char ch : c.path)
        if (ch <= 0x20 || ch == 0x7f)
          return "HTTP health check path contains a space or control character";
      [[fallthrough]];
    case health_check::kind::tcp:
      if (c.port == 0)
        return "health check port must be set (1-65535)";
      if (!holds_port(task_resources, c.port))
        return "health check port " + std::to_string(c.port) + " is not one of the task's ports";
      return {};
  }
  return "unknown health check type " + std::to_string(static_cast<int>(c.type));
}

std::string uri_output_path(const command_uri& uri) {
  if (!uri.output_file.empty())
    return safe_relative_path(uri.output_file) ? uri.output_file : std::string{};
  std::string_view v = uri.value;
  v = v.substr(0, v.find_first_of("?#"));
  if (auto scheme = v.find("://"); scheme != std::string_view::npos) {
    // Only the path names the file, never the host.
    auto path = v.find('/', scheme + 3);
    v = path == std::string_view::npos ? std::string_view{} : v.substr(path);
  }
  while (!v.empty() && v.back() == '/')
    v.remove_suffix(1);
  auto slash = v.rfind('/');
  auto name = slash == std::string_view::npos ? v : v.substr(slash + 1);
  if (name.empty() || name == "." || name == ".." || !safe_component(name))
    return {};
  return std::string{name};
}

std::string check_uri(const command_uri& uri) {
  const auto& v = uri.value;
  if (v.empty())
    return "URI is empty";
  if (v.size() > max_uri_length)
    return "URI is longer than " + std::to_string(max_uri_length) + " characters";
  for (unsigned char ch : v)
    if (ch <= 0x20 || ch == 0x7f)
      return "URI '" + v.substr(0, 200) + "' contains a space or control character";
  bool local = v.front() == '/' || starts_with(v, "file:///");
  bool remote = starts_with(v, "http://") || starts_with(v, "https://");
  if (!local && !remote)
    return "URI '" + v.substr(0, 200) + "': expected an absolute path, file:///..., http://... or https://...";
  if (remote) {
    auto host = std::string_view{v}.substr(v.find("://") + 3);
    if (host.empty() || host.front() == '/')
      return "URI '" + v.substr(0, 200) + "' names no host";
  }
  if (!uri.output_file.empty() && !safe_relative_path(uri.output_file))
    return "URI '" + v.substr(0, 200) + "': output_file '" + uri.output_file.substr(0, 200)
           + "' must be a relative path inside the sandbox (no '..', no leading '/')";
  if (uri_output_path(uri).empty())
    return "URI '" + v.substr(0, 200) + "' ends in no file name: give an output_file";
  return {};
}

std::string check_labels(const labels& list, const char* what) {
  if (list.size() > max_labels)
    return std::string{what} + " has more than " + std::to_string(max_labels) + " labels";
  for (const auto& l : list) {
    if (l.key.empty() || l.key.size() > max_label_key)
      return std::string{what} + ": a label key is 1.." + std::to_string(max_label_key) + " characters";
    if (l.value.size() > max_label_value)
      return std::string{what} + ": label '" + l.key.substr(0, 64) + "' has a value longer than "
             + std::to_string(max_label_value) + " characters";
    if (auto msg = check_no_control_chars("label key", l.key); !msg.empty())
      return std::string{what} + ": " + msg;
    if (auto msg = check_no_control_chars("label value", l.value); !msg.empty())
      return std::string{what} + ": " + msg;
  }
  return {};
}

std::string check_discovery(const discovery_info& d) {
  if (d.visibility != "FRAMEWORK" && d.visibility != "CLUSTER" && d.visibility != "EXTERNAL")
    return "discovery visibility '" + d.visibility.substr(0, 64) + "': expected FRAMEWORK, CLUSTER or EXTERNAL";
  for (auto* text : {&d.name, &d.environment, &d.location, &d.version})
    if (auto msg = check_no_control_chars("discovery info", *text); !msg.empty())
      return msg;
  if (d.ports.size() > 256)
    return "discovery info has more than 256 ports";
  for (const auto& p : d.ports) {
    if (p.number == 0 || p.number > 65535)
      return "discovery port " + std::to_string(p.number) + " is not 1-65535";
    if (auto msg = check_no_control_chars("discovery port name", p.name + p.protocol); !msg.empty())
      return msg;
  }
  return check_labels(d.labels, "discovery info");
}

std::string check_task_life(const task_info& task) {
  if (task.command) {
    if (task.command->uris.size() > max_uris)
      return "more than " + std::to_string(max_uris) + " URIs";
    for (const auto& uri : task.command->uris)
      if (auto msg = check_uri(uri); !msg.empty())
        return msg;
  }
  if (task.executor)
    for (const auto& uri : task.executor->command.uris)
      if (auto msg = check_uri(uri); !msg.empty())
        return "executor: " + msg;
  if (task.kill_policy)
    if (auto msg = check_kill_policy(*task.kill_policy); !msg.empty())
      return msg;
  if (task.health_check) {
    if (task.executor && task.executor->type != executor_type::default_executor)
      return "health checks are run by the built-in executors: a task with its own executor cannot have one";
    if (auto msg = check_health_check(*task.health_check, task.resources); !msg.empty())
      return msg;
  }
  if (auto msg = check_labels(task.labels, "task"); !msg.empty())
    return msg;
  if (task.executor)
    if (auto msg = check_labels(task.executor->labels, "executor"); !msg.empty())
      return msg;
  if (task.discovery)
    if (auto msg = check_discovery(*task.discovery); !msg.empty())
      return msg;
  return {};
}

} // namespace mesoscaf
