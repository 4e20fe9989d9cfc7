#pragma once
// What a framework asks an agent to run: a command (shell string or argv), optionally through its own executor.
#include "messages/boxed_optional.hpp"
#include "messages/ids.hpp"
#include "messages/resources.hpp"

#include <caf/meta/type_name.hpp>

#include <map>
#include <string>
#include <vector>

namespace mesoscaf {

struct command_info {
  bool shell = true;                  // true: run `value` with /bin/sh -c; false: exec `value` with `arguments`
  std::string value;
  std::vector<std::string> arguments; // argv (argv[0] included) when shell == false
  std::map<std::string, std::string> environment;
  std::string user;                   // run as this user (agents with --switch-user); empty: the framework's user

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, command_info& x) {
    return f(caf::meta::type_name("command_info"), x.shell, x.value, x.arguments, x.environment, x.user);
  }
};

/// A custom executor: a program linking libmesoscaf that speaks the executor protocol.
struct executor_info {
  executor_id id;
  framework_id framework;
  std::string name;
  command_info command;
  resource_set resources;
  std::string role;                       // allocation role; set by the master when it launches the executor

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, executor_info& x) {
    return f(caf::meta::type_name("executor_info"), x.id, x.framework, x.name, x.command, x.resources, x.role);
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

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, task_info& x) {
    return f(caf::meta::type_name("task_info"), x.name, x.id, x.agent, x.resources, x.command, x.executor,
             x.data, x.role);
  }
};

} // namespace mesoscaf
