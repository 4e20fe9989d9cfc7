#pragma once
// Small helpers shared by the tests that run a real (threaded) actor system and real processes.
#include "actors/interfaces.hpp"

#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>

#include <fstream>
#include <sstream>
#include <chrono>
#include <string>

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
