#pragma once
// A task's sandbox seen through HTTP (docs/HTTP.md): which agent runs (or ran) it, per the master's `/state`; its
// executor's directory, per the agent's `/state`; the files in it, per the agent's `/files/read` (Mesos' tailing
// protocol). Used by `mesoscaf task log` and by `mesoscaf execute` for the output tail it prints.
#include "apps/mesoscaf/master_endpoint.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <ostream>
#include <string>

namespace mesoscaf {

/// Where a task is, per the master.
struct task_location {
  std::string framework;
  std::string agent;
  std::string state;            // TASK_RUNNING, ...
  http_address agent_http;      // port 0: the agent serves no HTTP, or the master no longer knows it
};

/// Finds `task` among the live and completed tasks of the master's `/state`; nullopt if the master does not know it.
std::optional<task_location> locate_task(const nlohmann::json& master_state, const std::string& task);

/// A task's executor, per the agent.
struct task_sandbox {
  std::string directory;
  std::string state;            // the task's state as the agent knows it ("" when queued)
};

/// Where `task` of `framework` writes its stdout and stderr per the agent's `/state`: the task's own `directory`
/// (command tasks), else that of the executor whose tasks (live, queued or completed) include it; completed
/// executors and frameworks too. Nullopt if no executor has it.
std::optional<task_sandbox> find_sandbox(const nlohmann::json& agent_state, const std::string& framework,
                                         const std::string& task);

/// The last `count` lines of `text` (a final line without '\n' counts; the answer ends as `text` does).
std::string last_lines(const std::string& text, size_t count);

/// `/files/read` of one file: the data from `offset`, at most `length` bytes. Throws cli_failure.
std::string read_sandbox_file(const http_endpoint& agent, const std::string& path, uint64_t offset, uint64_t length);

/// The file's size (`offset=-1`). Throws cli_failure.
uint64_t sandbox_file_size(const http_endpoint& agent, const std::string& path);

/// For `mesoscaf execute` when its task ended: the sandbox path and the last `lines` lines of stdout and stderr,
/// each under a heading. Problems (agent gone, no sandbox) are printed in their place; never throws.
void write_output_tail(std::ostream& os, const http_address& agent, const std::string& framework,
                       const std::string& task, size_t lines, http_limits limits);

} // namespace mesoscaf
