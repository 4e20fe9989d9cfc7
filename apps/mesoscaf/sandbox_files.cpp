#include "apps/mesoscaf/sandbox_files.hpp"

#include "apps/mesoscaf/cli_views.hpp"

#include <algorithm>

namespace mesoscaf {

namespace {

const json& list(const json& object, const char* name) {
  static const json empty = json::array();
  if (!object.is_object())
    return empty;
  auto it = object.find(name);
  return it != object.end() && it->is_array() ? *it : empty;
}

const json* find_task_in(const json& tasks, const std::string& task) {
  for (const auto& t : tasks)
    if (text_field(t, "id") == task)
      return &t;
  return nullptr;
}

} // namespace

std::optional<task_location> locate_task(const json& master_state, const std::string& task) {
  for (const auto& t : select_tasks(master_state, true)) {
    if (text_field(t, "id") != task)
      continue;
    task_location loc;
    loc.framework = text_field(t, "framework_id");
    loc.agent = text_field(t, "slave_id");
    loc.state = text_field(t, "state");
    for (const auto& a : list(master_state, "slaves")) {
      if (text_field(a, "id") != loc.agent)
        continue;
      loc.agent_http.host = text_field(a, "address");
      auto port = a.is_object() && a.contains("http_port") && a["http_port"].is_number_unsigned()
                    ? a["http_port"].get<uint64_t>() : 0;
      loc.agent_http.port = port <= 65535 ? static_cast<uint16_t>(port) : 0;
    }
    return loc;
  }
  return std::nullopt;
}

std::optional<task_sandbox> find_sandbox(const json& agent_state, const std::string& framework,
                                         const std::string& task) {
  for (const char* frameworks : {"frameworks", "completed_frameworks"})
    for (const auto& f : list(agent_state, frameworks)) {
      if (text_field(f, "id") != framework)
        continue;
      for (const char* executors : {"executors", "completed_executors"})
        for (const auto& e : list(f, executors))
          for (const char* tasks : {"tasks", "queued_tasks", "completed_tasks"})
            if (auto t = find_task_in(list(e, tasks), task)) {
              // A command task writes into a directory of its own in the executor's sandbox, named on the task.
              auto directory = text_field(*t, "directory");
              return task_sandbox{directory.empty() ? text_field(e, "directory") : directory,
                                  text_field(*t, "state")};
            }
    }
  return std::nullopt;
}

std::string last_lines(const std::string& text, size_t count) {
  if (count == 0 || text.empty())
    return {};
  // Skip a final newline: it ends the last line rather than starting another.
  size_t pos = text.size() - (text.back() == '\n' ? 1 : 0);
  for (size_t found = 0; pos > 0; --pos)
    if (text[pos - 1] == '\n' && ++found == count)
      break;
  return text.substr(pos);
}

std::string read_sandbox_file(const http_endpoint& agent, const std::string& path, uint64_t offset,
                              uint64_t length) {
  auto answer = agent.get_json("/files/read?path=" + percent_encode(path) + "&offset=" + std::to_string(offset)
                               + "&length=" + std::to_string(length));
  if (!answer.is_object() || !answer.contains("data") || !answer["data"].is_string())
    throw cli_failure{"agent at " + agent.address().text() + " answered /files/read without data"};
  return answer["data"].get<std::string>();
}

uint64_t sandbox_file_size(const http_endpoint& agent, const std::string& path) {
  auto answer = agent.get_json("/files/read?path=" + percent_encode(path) + "&offset=-1");
  if (!answer.is_object() || !answer.contains("offset") || !answer["offset"].is_number_unsigned())
    throw cli_failure{"agent at " + agent.address().text() + " answered /files/read without an offset"};
  return answer["offset"].get<uint64_t>();
}

void write_output_tail(std::ostream& os, const http_address& agent_address, const std::string& framework,
                       const std::string& task, size_t lines, http_limits limits) {
  if (agent_address.port == 0) {
    os << "(no output: the agent serves no HTTP)\n";
    return;
  }
  try {
    http_endpoint agent{agent_address, "agent", limits};
    auto sandbox = find_sandbox(agent.get_json("/state"), framework, task);
    if (!sandbox || sandbox->directory.empty()) {
      os << "(no output: the agent at " << agent_address.text() << " knows no sandbox of task " << task << ")\n";
      return;
    }
    os << "sandbox: " << sandbox->directory << " (agent " << agent_address.text() << ")\n";
    // Enough bytes for `lines` lines of ordinary output without fetching a large file whole.
    const uint64_t window = 64 * 1024;
    for (const char* name : {"stdout", "stderr"}) {
      auto path = sandbox->directory + "/" + name;
      os << "---- " << name << " (last " << lines << " lines) ----\n";
      try {
        auto size = sandbox_file_size(agent, path);
        auto from = size > window ? size - window : 0;
        auto tail = last_lines(read_sandbox_file(agent, path, from, size - from), lines);
        os << tail;
        if (!tail.empty() && tail.back() != '\n')
          os << "\n";
      } catch (const cli_failure& e) {
        os << "(" << e.what() << ")\n";
      }
    }
    os << "---- end of output ----\n";
  } catch (const cli_failure& e) {
    os << "(no output: " << e.what() << ")\n";
  }
  os.flush();
}

} // namespace mesoscaf
