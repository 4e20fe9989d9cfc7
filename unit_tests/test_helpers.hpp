#pragma once
// Small helpers shared by the tests that run a real (threaded) actor system and real processes.
#include "actors/interfaces.hpp"

#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>

#include <fstream>
#include <sstream>
#include <chrono>
#include <string>
#include <thread>

#include <sys/types.h>
#include <sys/wait.h>

namespace mesoscaf::test {

/// A threaded actor system with our types; `with_middleman` for tests that cross a real loopback connection.
struct threaded_config : caf::actor_system_config {
  explicit threaded_config(bool with_middleman = false) {
    mesoscaf::add_message_types(*this);
    set("scheduler.max-threads", 2);
    if (with_middleman) {
      load<caf::io::middleman>();
      set("scheduler.policy", caf::atom("sharing"));
      // Like every mesoscaf process: the daemons drop a peer that stays silent past their connection timeout.
      set("middleman.heartbeat-interval", caf::timespan{std::chrono::milliseconds(500)});
    }
  }
};

/// The whole file, or "" if it cannot be read.
/// Blocking wait for a child with a deadline (for tests that run no actor system): its wait status, or -12345 if
/// it did not end in time (or is not our child).
inline int wait_for_child(pid_t pid, std::chrono::milliseconds limit = std::chrono::seconds(30)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  int status = 0;
  for (;;) {
    auto r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid)
      return status;
    if (r < 0 || std::chrono::steady_clock::now() > deadline)
      return -12345;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

inline std::string read_file(const std::string& path) {
  std::ifstream in{path};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// A task running `cmd` through the shell, named after its ID.
inline task_info shell_task(const std::string& id, const std::string& cmd) {
  task_info t;
  t.id = task_id{id};
  t.name = id;
  command_info c;
  c.value = cmd;
  t.command = c;
  return t;
}

} // namespace mesoscaf::test
