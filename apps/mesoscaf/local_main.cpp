// `mesoscaf local --agents=3 [--port=0] [--work-dir=DIR] [--resources=...] [--offer-timeout=30s] [--weights=...]`: a master and N agents in one
// process until SIGTERM/SIGINT. Prints `master listening on 127.0.0.1:<port>`, one
// `agent registered with id <id>` per agent and `local cluster ready agents=<n> work_dir=<dir>`.
#include "apps/mesoscaf/subcommands.hpp"

#include "apps/mesoscaf/daemon_http.hpp"
#include "apps/mesoscaf/master_tuning_flags.hpp"
#include "actors/http/daemon_http.hpp"
#include "actors/sdk/local_cluster.hpp"
#include "config/daemon_config.hpp"
#include "config/support/logging.hpp"
#include "containerizer/cgroups.hpp"
#include "containerizer/isolation.hpp"

#include <caf/actor_system.hpp>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <mutex>
#include <vector>

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
  opts.acls = cfg.parsed_acls;
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
  if (opts.work_dir.empty()) {
    // Chosen here, not by the cluster: the agents' /files endpoints serve from it before the cluster exists.
    auto base = std::filesystem::temp_directory_path() / "mesoscaf-local-XXXXXX";
    std::string templ = base.string();
    if (::mkdtemp(templ.data()) == nullptr) {
      std::cerr << "mesoscaf local: cannot create a work dir under " << base.parent_path() << "\n";
      return 1;
    }
    opts.work_dir = templ;
  }
  raise_open_file_limit();
  auto sigs = block_termination_signals();
  caf::actor_system sys{cfg};
  // The agents' endpoints listen first (each agent advertises its HTTP port); the handles come once spawned.
  struct handles {
    std::mutex mtx;
    std::vector<agent_actor> agents;
  };
  auto hs = std::make_shared<handles>();
  hs->agents.resize(opts.agents);
  auto flags = flag_values(cfg);
  std::vector<std::unique_ptr<http::server>> agent_webs;
  for (size_t i = 0; i < opts.agents; ++i) {
    auto web = std::make_unique<http::server>(http_options("127.0.0.1", 0));
    http::endpoint_options wo;
    wo.identity = {"", host_name(), "127.0.0.1", 0, 0, 0, flags};
    wo.work_dir = opts.work_dir + "/agent" + std::to_string(i);
    http::add_agent_routes(*web, sys, [hs, i] {
      std::lock_guard<std::mutex> guard{hs->mtx};
      return hs->agents[i];
    }, wo);
    if (auto err = web->start(); !err.empty()) {
      std::cerr << "mesoscaf local: agent " << i << ": " << err << "\n";
      return 1;
    }
    opts.agent_http_ports.push_back(web->port());
    agent_webs.push_back(std::move(web));
  }
  std::unique_ptr<local_cluster> cluster;
  try {
    cluster = std::make_unique<local_cluster>(sys, opts);
  } catch (const std::exception& e) {
    std::cerr << "mesoscaf local: " << e.what() << "\n";
    return 1;
  }
  {
    std::lock_guard<std::mutex> guard{hs->mtx};
    hs->agents = cluster->agents();
  }
  std::cout << "master listening on 127.0.0.1:" << cluster->master_port() << std::endl;
  if (!cfg.tls_on())
    std::cout << "local cluster: plaintext on loopback (no TLS: any local process can reach its ports)" << std::endl;
  auto master_web_opts = http_options("127.0.0.1", cfg.http_port);
  master_web_opts.credentials = std::make_shared<const credential_set>(cfg.parsed_credentials);
  http::server master_web{master_web_opts};
  http::endpoint_options mo;
  mo.acls = std::make_shared<const acl_set>(cfg.parsed_acls);
  mo.identity = {"local@127.0.0.1:" + std::to_string(cluster->master_port()), host_name(), "127.0.0.1",
                 cluster->master_port(), 0, 0, flags};
  http::add_master_routes(master_web, sys, cluster->master(), mo);
  if (auto err = start_http(master_web, "master", "127.0.0.1"); !err.empty()) {
    std::cerr << "mesoscaf local: " << err << "\n";
    cluster->stop();
    return 1;
  }
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
  master_web.stop();
  for (auto& web : agent_webs)
    web->stop();
  cluster->stop();
  cluster.reset();
  std::cout << "local cluster stopped" << std::endl;
  return rc;
}

} // namespace mesoscaf
