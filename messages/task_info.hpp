#pragma once
// What a framework asks an agent to run: a command (shell string or argv), optionally through its own executor,
// with what it needs around it (URIs to fetch, a health check, a kill policy, labels and discovery info), as in
// Mesos 1.x. Validated by the master before it reaches an agent (actors/master/offer_validation.hpp).
#include "messages/boxed_optional.hpp"
#include "messages/ids.hpp"
#include "messages/labels.hpp"
#include "messages/resources.hpp"

#include <caf/meta/type_name.hpp>

#include <map>
#include <string>
#include <vector>

namespace mesoscaf {

/// Something the fetcher downloads into the sandbox before the task starts (Mesos' CommandInfo.URI).
struct command_uri {
  std::string value;         // file:///abs, /abs, http://..., https://...
  bool executable = false;   // chmod +x after the download
  bool extract = true;       // unpack .tar, .tar.gz/.tgz, .tar.xz/.txz, .zip into the sandbox
  bool cache = false;        // keep a copy in the agent's fetcher cache (per user) and reuse it
  std::string output_file;   // name in the sandbox (relative, inside it); empty: the URI's last path segment

  friend bool operator==(const command_uri& a, const command_uri& b) {
    return a.value == b.value && a.executable == b.executable && a.extract == b.extract && a.cache == b.cache
           && a.output_file == b.output_file;
  }

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, command_uri& x) {
    return f(caf::meta::type_name("command_uri"), x.value, x.executable, x.extract, x.cache, x.output_file);
  }
};

struct command_info {
  bool shell = true;                  // true: run `value` with /bin/sh -c; false: exec `value` with `arguments`
  std::string value;
  std::vector<std::string> arguments; // argv (argv[0] included) when shell == false
  std::map<std::string, std::string> environment;
  std::string user;                   // run as this user (agents with --switch-user); empty: the framework's user
  std::vector<command_uri> uris;      // fetched into the sandbox before the command starts

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, command_info& x) {
    return f(caf::meta::type_name("command_info"), x.shell, x.value, x.arguments, x.environment, x.user, x.uris);
  }
};

/// How a task is killed (Mesos' KillPolicy): SIGTERM to all its processes, SIGKILL after `grace_period` seconds.
/// A kill call may bring its own; without either, the agent's --executor-shutdown-grace-period applies.
struct kill_policy {
  double grace_period = 0;  // seconds, >= 0

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, kill_policy& x) {
    return f(caf::meta::type_name("kill_policy"), x.grace_period);
  }
};

/// A health check, run by the executor next to the task (Mesos' HealthCheck; defaults are Mesos').
struct health_check {
  enum class kind : uint8_t { command = 0, http = 1, tcp = 2 };
  kind type = kind::command;
  command_info command;         // command: runs in the task's sandbox, as its user, inside its limits; healthy = exit 0
  uint16_t port = 0;            // http / tcp: on 127.0.0.1; must be one of the task's ports
  std::string path = "/";       // http: GET this path; healthy = 2xx or 3xx
  std::string scheme = "http";  // http: "http" or "https" (certificates not verified, as Mesos)
  double delay = 15;            // seconds before the first check
  double interval = 10;         // seconds between checks
  double timeout = 20;          // seconds a check may take (then it failed)
  uint32_t consecutive_failures = 3;  // failures in a row (after the grace period) that kill the task; 0: never kill
  double grace_period = 10;     // seconds from the task's start during which failures do not count

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, health_check& x) {
    return f(caf::meta::type_name("health_check"), x.type, x.command, x.port, x.path, x.scheme, x.delay,
             x.interval, x.timeout, x.consecutive_failures, x.grace_period);
  }
};

/// How others find a task (Mesos' DiscoveryInfo), carried and shown in state, not interpreted.
struct discovery_port {
  uint32_t number = 0;
  std::string name;
  std::string protocol;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, discovery_port& x) {
    return f(caf::meta::type_name("discovery_port"), x.number, x.name, x.protocol);
  }
};

struct discovery_info {
  std::string visibility = "FRAMEWORK";  // FRAMEWORK, CLUSTER or EXTERNAL
  std::string name;
  std::string environment;
  std::string location;
  std::string version;
  std::vector<discovery_port> ports;
  mesoscaf::labels labels;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, discovery_info& x) {
    return f(caf::meta::type_name("discovery_info"), x.visibility, x.name, x.environment, x.location, x.version,
             x.ports, x.labels);
  }
};

/// CUSTOM: a program of the framework's (linking libmesoscaf) that speaks the executor protocol. DEFAULT: the
/// agent's built-in executor for task groups (Mesos' default executor): `command` stays empty, the agent runs its
/// own binary, and each task of the group runs in a nested container of its own.
enum class executor_type : uint8_t { custom = 0, default_executor = 1 };

struct executor_info {
  executor_id id;
  framework_id framework;
  std::string name;
  command_info command;
  resource_set resources;
  std::string role;                       // allocation role; set by the master when it launches the executor
  mesoscaf::labels labels;
  executor_type type = executor_type::custom;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, executor_info& x) {
    return f(caf::meta::type_name("executor_info"), x.id, x.framework, x.name, x.command, x.resources, x.role,
             x.labels, x.type);
  }
};

struct task_info {
  std::string name;
  task_id id;
  agent_id agent;
  resource_set resources;
  boxed_optional<command_info> command;    // run by the built-in command executor
  boxed_optional<executor_info> executor;  // or handed to this custom executor
  std::string data;                       // opaque, passed to the executor
  std::string role;                       // allocation role of its offers; set by the master at launch (agents
                                          // report it back when they re-register)
  mesoscaf::labels labels;
  boxed_optional<discovery_info> discovery;
  boxed_optional<mesoscaf::kill_policy> kill_policy;
  boxed_optional<mesoscaf::health_check> health_check;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, task_info& x) {
    return f(caf::meta::type_name("task_info"), x.name, x.id, x.agent, x.resources, x.command, x.executor,
             x.data, x.role, x.labels, x.discovery, x.kill_policy, x.health_check);
  }
};

/// What the default executor does when a task of a group fails (ends other than FINISHED, also when killed):
/// kill the others (Mesos' behaviour, the default), or let them run on.
enum class group_failure_policy : uint8_t { kill_group = 0, keep_running = 1 };

/// Tasks that start together (all or none) on one default executor, each in its own nested container (Mesos'
/// TaskGroupInfo, plus the failure policy). Every task has a command and names the group's executor.
struct task_group_info {
  std::vector<task_info> tasks;
  group_failure_policy on_failure = group_failure_policy::kill_group;
  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, task_group_info& x) {
    return f(caf::meta::type_name("task_group_info"), x.tasks, x.on_failure);
  }
};

} // namespace mesoscaf
