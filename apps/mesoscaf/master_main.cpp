// `mesoscaf master --port=5050 --work-dir=DIR [--offer-timeout=30s] [--weights=eng=2,ops=0.5]
// [--agent-ping-timeout=15s] [--max-agent-ping-timeouts=5] [--agent-removal-rate-limit=1/10s]`: runs a master
// until SIGTERM/SIGINT.
// Prints `master listening on <ip>:<port>` once it accepts connections (use --port=0 and read the port).
#include "apps/mesoscaf/subcommands.hpp"

#include "actors/master.hpp"
#include "config/daemon_config.hpp"
#include "config/logging.hpp"

#include <caf/actor_system.hpp>
#include <caf/io/middleman.hpp>
#include <caf/send.hpp>

#include <filesystem>
#include <iostream>

namespace mesoscaf {

int master_main(int argc, char** argv) {
  master_config cfg;
  if (auto rc = cfg.parse_and_validate(argc, argv))
    return *rc;
  if (!cfg.work_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(cfg.work_dir, ec);
    if (ec) {
      std::cerr << "mesoscaf master: cannot create --work-dir=" << cfg.work_dir << ": " << ec.message() << "\n";
      return 1;
    }
  }
  // Before the actor system exists, so that every CAF thread inherits the mask (caf-notes A13).
  auto sigs = block_termination_signals();
  caf::actor_system sys{cfg};
  master_options opts;
  opts.allocation_interval = cfg.allocation_interval;
  opts.offer_timeout = cfg.offer_timeout;
  opts.weights = cfg.parsed_weights;
  opts.agent_ping_timeout = cfg.agent_ping_timeout;
  opts.max_agent_ping_timeouts = cfg.max_agent_ping_timeouts;
  opts.removal_limit_count = cfg.removal_limit_count;
  opts.removal_limit_period = cfg.removal_limit_period;
  auto master = spawn_master(sys, opts);
  auto port = sys.middleman().publish(master, static_cast<uint16_t>(cfg.port), cfg.ip.c_str(), true);
  if (!port) {
    std::cerr << "mesoscaf master: cannot listen on " << cfg.ip << ":" << cfg.port << ": "
              << sys.render(port.error()) << "\n";
    terminate_actor(sys, caf::actor_cast<caf::actor>(master), std::chrono::seconds(5));
    return 1;
  }
  std::cout << "master listening on " << cfg.ip << ":" << *port << std::endl;
  auto sig = wait_for_termination(sigs);
  LOG_INFO("master", "received signal " << sig << ", shutting down");
  start_shutdown_watchdog();
  terminate_actor(sys, caf::actor_cast<caf::actor>(master), std::chrono::seconds(10));
  master = nullptr;
  std::cout << "master stopped" << std::endl;
  return 0;
}

} // namespace mesoscaf
