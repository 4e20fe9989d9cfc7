#pragma once
// Checks of the parts of a task around its command (messages/task_info.hpp): kill policy, health check, URIs,
// labels, discovery info. Pure functions: the master runs them before a task reaches an agent (TASK_ERROR with
// the message), and the command executor and fetcher run the URI checks again (defence in depth). Each returns
// "" or why the value is refused.
#include "messages/task_info.hpp"

#include <string>

namespace mesoscaf {

/// Longest grace period a kill policy may ask for (seconds).
constexpr double max_kill_grace_seconds = 3600;
/// Most URIs one command may fetch.
constexpr size_t max_uris = 64;

std::string check_kill_policy(const kill_policy& policy);

/// `task_resources` are the task's own: an HTTP or TCP check must point at one of its `ports`.
std::string check_health_check(const health_check& check, const resource_set& task_resources);

/// One URI: file://, http:// or https:// or an absolute path; an output file inside the sandbox.
std::string check_uri(const command_uri& uri);

/// The file name a URI is fetched to, relative to the sandbox: `output_file`, else the URI's last path segment
/// (query and fragment removed). "" if neither gives a safe relative path.
std::string uri_output_path(const command_uri& uri);

std::string check_labels(const labels& list, const char* what);

std::string check_discovery(const discovery_info& info);

/// All of the above for one task (its command's URIs, its health check, kill policy, labels and discovery).
std::string check_task_life(const task_info& task);

} // namespace mesoscaf
