#pragma once
// Small helpers shared by the example and demo frameworks (header-only; each example is one program).
// Each example either connects to a running master (--master=HOST:PORT) or, without that flag, starts an
// in-process cluster (actors/sdk/local_cluster.hpp) in its own actor system.
#include "actors/sdk/framework_config.hpp"
#include "actors/sdk/local_cluster.hpp"
#include "actors/sdk/scheduler_driver.hpp"
#include "config/support/network_address.hpp"

#include <caf/actor_system.hpp>

#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace mesoscaf::examples {

/// `--key=value` flags; anything else is an error. `known` lists the accepted keys.
inline std::optional<std::map<std::string, std::string>>
parse_flags(int argc, char** argv, std::initializer_list<const char*> known, const char* usage) {
  std::map<std::string, std::string> result;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << usage;
      std::exit(0);
    }
    auto eq = arg.find('=');
    if (arg.rfind("--", 0) != 0 || eq == std::string::npos) {
      std::cerr << "bad argument `" << arg << "`\n" << usage;
      return std::nullopt;
    }
    auto key = arg.substr(2, eq - 2);
    bool ok = false;
    for (auto k : known)
      ok = ok || key == k;
    if (!ok) {
      std::cerr << "unknown option --" << key << "\n" << usage;
      return std::nullopt;
    }
    result[key] = arg.substr(eq + 1);
  }
  return result;
}

/// Parses a positive integer flag value; nullopt on garbage.
inline std::optional<long> parse_count(const std::string& text, long min, long max) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos || text.size() > 9)
    return std::nullopt;
  auto v = std::stol(text);
  if (v < min || v > max)
    return std::nullopt;
  return v;
}

/// An actor system with our types, plus either a remote master address or an in-process cluster.
struct environment {
  framework_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::unique_ptr<local_cluster> cluster;
  std::string master_address;  // set when connecting to a running master

  /// Returns false (after printing why) if the cluster cannot start.
  bool start(const std::string& master, local_cluster_options opts) {
    // The examples run from the build tree, not beside the mesoscaf binary their in-process agents start as the
    // command executor (an installed program finds it next to itself). A value set by the caller wins.
    ::setenv("MESOSCAF_EXECUTOR_BINARY", MESOSCAF_BINARY, 0);
    cfg.set("scheduler.max-threads", 2);
    sys = std::make_unique<caf::actor_system>(cfg);
    if (!master.empty()) {
      master_address = master;
      return true;
    }
    try {
      cluster = std::make_unique<local_cluster>(*sys, opts);
    } catch (const std::exception& e) {
      std::cerr << "cannot start the in-process cluster: " << e.what() << "\n";
      return false;
    }
    if (!cluster->wait_for_agents(opts.agents, std::chrono::seconds(30))) {
      std::cerr << "the in-process agents did not register within 30 s\n";
      return false;
    }
    std::cout << "in-process cluster: master on 127.0.0.1:" << cluster->master_port() << ", " << opts.agents
              << " agent(s), work dir " << cluster->work_dir() << std::endl;
    return true;
  }

  std::unique_ptr<scheduler_driver> make_driver(scheduler* s, framework_info fw, driver_options opts = {}) {
    if (cluster)
      return std::make_unique<scheduler_driver>(*sys, s, std::move(fw), cluster->master(), opts);
    return std::make_unique<scheduler_driver>(*sys, s, std::move(fw), master_address, opts);
  }

  ~environment() {
    if (cluster)
      cluster->stop();
    cluster.reset();
  }
};

} // namespace mesoscaf::examples
