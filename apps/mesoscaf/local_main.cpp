// `mesoscaf local --agents=3 [--port=0] [--work-dir=DIR] [--resources=...] [--offer-timeout=30s] [--weights=...]`: a master and N agents in one
// process until SIGTERM/SIGINT. Prints `master listening on 127.0.0.1:<port>`, one
// `agent registered with id <id>` per agent and `local cluster ready agents=<n> work_dir=<dir>`.
#include "apps/mesoscaf/subcommands.hpp"

#include "apps/mesoscaf/master_tuning_flags.hpp"
#include "actors/sdk/local_cluster.hpp"
#include "config/daemon_config.hpp"
#include "config/support/logging.hpp"
#include "containerizer/cgroups.hpp"
#include "containerizer/isolation.hpp"

#include <caf/actor_system.hpp>

#include <iostream>
#include <memory>

#include <unistd.h>

namespace mesoscaf {

int local_main(int argc, char** argv) {
  local_config cfg;
  if (auto rc = cfg.parse_and_validate(argc, argv))
    return *rc;
  local_cluster_options opts;
  static_cast<master_tuning&>(opts) = to_master_tuning(cfg);
  opts.agents = static_cast<size_t>(cfg.agents);
  opts.master_port = static_cast<uint16_t>(cfg.port);
  opts.work_dir = cfg.work_dir;
  // The "ready" line prints the work dir for a look at the sandboxes after the run: it must outlive the process.
  opts.keep_work_dir = true;
  if (!cfg.resources.empty())
    opts.agent_resources = *resource_set::parse(cfg.resources); // validated
  if (!cfg.isolation.empty()) {
    parse_isolators(cfg.isolation, opts.isolation.isolators);  // validated
    opts.isolation.cgroups_root = cfg.cgroups_root;
    std::string why_none;
    std::shared_ptr<cgroups> cg{detect_cgroups(&why_none)};
    if (auto err = check_isolators(opts.isolation.isolators, ::geteuid() == 0, cg.get(), why_none); !err.empty()) {
      std::cerr << "mesoscaf local: " << err << "\n";
      return 2;
    }
    if (opts.isolation.uses_cgroups()) {
      if (auto err = cg->create(opts.isolation.cgroups_root); !err.empty()) {
        std::cerr << "mesoscaf local: cannot create the control group " << opts.isolation.cgroups_root << ": " << err
                  << "\n";
        return 2;
      }
      opts.control_groups = cg;
    }
  }
  auto sigs = block_termination_signals();
  caf::actor_system sys{cfg};
  std::unique_ptr<local_cluster> cluster;
  try {
    cluster = std::make_unique<local_cluster>(sys, opts);
  } catch (const std::exception& e) {
    std::cerr << "mesoscaf local: " << e.what() << "\n";
    return 1;
  }
  std::cout << "master listening on 127.0.0.1:" << cluster->master_port() << std::endl;
  int rc = 0;
  if (cluster->wait_for_agents(opts.agents, std::chrono::seconds(30))) {
    for (auto& a : cluster->state().agents)
      std::cout << "agent registered with id " << a.id << " resources=" << a.total << std::endl;
    std::cout << "local cluster ready agents=" << opts.agents << " work_dir=" << cluster->work_dir() << std::endl;
    auto sig = wait_for_termination(sigs);
    LOG_INFO("local", "received signal " << sig << ", shutting down");
  } else {
    std::cerr << "mesoscaf local: the agents did not register within 30 s\n";
    rc = 1;
  }
  start_shutdown_watchdog();
  cluster->stop();
  cluster.reset();
  std::cout << "local cluster stopped" << std::endl;
  return rc;
}

} // namespace mesoscaf
