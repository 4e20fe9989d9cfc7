#pragma once
// What the containerizer needs to start one process in a sandbox.
#include "messages/ids.hpp"
#include "messages/task_info.hpp"

#include <caf/meta/type_name.hpp>

#include <map>
#include <string>
#include <vector>

namespace mesoscaf {

/// The environment variable that gives an executor its registration secret (the agent's executor_entry::secret).
/// Only the agent puts it into an environment: the launcher never passes an inherited one on to a child, so a
/// task started by an executor cannot register in its place.
constexpr const char* env_executor_secret = "MESOSCAF_EXECUTOR_SECRET";
/// The agent's --executor-shutdown-grace-period (milliseconds): how long an executor has to shut down, and the
/// command executor's kill grace for a task without a kill policy.
constexpr const char* env_executor_shutdown_grace = "MESOSCAF_EXECUTOR_SHUTDOWN_GRACE_PERIOD";
/// The command executor's fetcher cache (containerizer/fetcher.hpp): directory and size in bytes per user.
constexpr const char* env_fetcher_cache_dir = "MESOSCAF_FETCHER_CACHE_DIR";
constexpr const char* env_fetcher_cache_size = "MESOSCAF_FETCHER_CACHE_SIZE";

struct launch_spec {
  container_id id;
  command_info command;
  std::string sandbox;                          // directory; created if missing; stdout/stderr files go here
  std::map<std::string, std::string> environment;  // added to the command's own environment (MESOSCAF_*)
  /// What the container may use (the executor's resources; the command executor's tasks get groups of their own).
  resource_set resources;
  /// Run as this user (empty: the agent's). The built-in command executor runs as the agent's user and switches
  /// each task to its own user.
  std::string user;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, launch_spec& x) {
    return f(caf::meta::type_name("launch_spec"), x.id, x.command, x.sandbox, x.environment, x.resources, x.user);
  }
};

/// The agent's answer to an executor that registers: what it runs for and where.
struct executor_registration {
  executor_info executor;
  framework_id framework;
  std::string framework_name;
  agent_id agent;
  std::string sandbox;
  std::vector<std::string> framework_capabilities;  // e.g. TASK_KILLING_STATE: the executor sends TASK_KILLING

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, executor_registration& x) {
    return f(caf::meta::type_name("executor_registration"), x.executor, x.framework, x.framework_name, x.agent,
             x.sandbox, x.framework_capabilities);
  }
};

} // namespace mesoscaf
