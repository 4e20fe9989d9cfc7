// `mesoscaf agent --master=HOST:PORT --port=0 --work-dir=DIR [--resources=...]`: runs an agent until
// SIGTERM/SIGINT. Prints `agent registered with id <id>` each time it (re)registers with a master.
// `--master=zk://HOST:PORT[,HOST:PORT...]/PATH [--zk-session-timeout=10s]`: follows the master elected through
// ZooKeeper, re-registering (with its tasks) whenever the leader changes.
// Reservations and persistent volumes survive a restart with the same --work-dir (<work_dir>/meta/resources),
// provided the resources are the same; otherwise the agent refuses to start (exit 1).
// Agent recovery (<work_dir>/meta, actors/agent/agent_checkpoint.hpp): after a crash (kill -9) a restart with
// --recover=reconnect (default) keeps the agent ID, publishes on the checkpointed port (with --port=0) and takes
// over the executors of checkpointing frameworks; it prints `agent recovered agent_id=<id> frameworks=N
// executors=M tasks=K`. --recover=cleanup kills those executors, forgets the checkpoint, prints
// `agent cleanup: killed N executor(s)` and exits 0. A reboot (other boot ID) starts a new agent.
// SIGTERM stops every executor (orderly shutdown); only a crash leaves them to be recovered. An agent the master
// shuts down (the operator marked it gone) stops every executor too, says so, and exits 0.
// `--executor-binary=PATH`: command tasks run under `PATH command-executor` (default: this binary).
#include "apps/mesoscaf/subcommands.hpp"

#include "apps/mesoscaf/daemon_http.hpp"
#include "actors/http/daemon_http.hpp"

#include "actors/agent/agent.hpp"
#include "actors/ha/leader_election.hpp"
#include "actors/agent/agent_resources.hpp"
#include "config/daemon_config.hpp"
#include "messages/attributes.hpp"
#include "config/support/logging.hpp"
#include "config/support/network_address.hpp"
#include "containerizer/cgroups.hpp"
#include "containerizer/isolation.hpp"
#include "containerizer/machine_resources.hpp"

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <optional>
#include <thread>

#include <signal.h>
#include <unistd.h>

namespace mesoscaf {

namespace {

struct chosen_isolation {
  isolation_options options;
  std::shared_ptr<cgroups> control_groups;  // null unless a cgroups/* isolator is used
};

// --isolation and its settings, checked against this host: a requested isolator that cannot work here is an
// error (the caller exits 2); without --isolation the host's default, with one warning line if it is posix.
std::optional<chosen_isolation> choose_isolation(const agent_config& cfg) {
  chosen_isolation result;
  auto& iso = result.options;
  std::string why_none;
  std::shared_ptr<cgroups> cg{detect_cgroups(&why_none)};
  bool root = ::geteuid() == 0;
  if (cfg.isolation.empty()) {
    std::string warning;
    iso.isolators = default_isolators(root, cg.get(), why_none, &warning);
    if (!warning.empty())
      std::cerr << "mesoscaf agent: warning: " << warning << std::endl;
  } else {
    parse_isolators(cfg.isolation, iso.isolators);  // validated
    if (auto err = check_isolators(iso.isolators, root, cg.get(), why_none); !err.empty()) {
      std::cerr << "mesoscaf agent: " << err << std::endl;
      return std::nullopt;
    }
  }
  iso.cgroups_root = cfg.cgroups_root;
  iso.cgroups_enable_cfs = cfg.cgroups_enable_cfs;
  iso.container_pids_max = static_cast<uint64_t>(cfg.container_pids_max);
  iso.switch_user = cfg.switch_user;
  if (iso.switch_user && !root) {
    // Only root can switch; an unprivileged agent runs every task as itself rather than failing them all.
    std::cerr << "mesoscaf agent: warning: not running as root: --switch-user is off, tasks run as this user"
              << std::endl;
    iso.switch_user = false;
  }
  iso.disk_watch_interval = std::chrono::duration_cast<std::chrono::milliseconds>(cfg.container_disk_watch_interval);
  iso.enforce_disk_quota = cfg.enforce_container_disk_quota;
  iso.logger_max_size = cfg.logger_max_bytes;
  std::string names;
  for (auto& n : iso.isolators)
    names += (names.empty() ? "" : ",") + n;
  if (iso.uses_cgroups()) {
    if (auto err = cg->create(iso.cgroups_root); !err.empty()) {
      std::cerr << "mesoscaf agent: cannot create the control group " << iso.cgroups_root << ": " << err << std::endl;
      return std::nullopt;
    }
    result.control_groups = cg;
    std::cout << "agent isolation=" << names << " cgroups=v" << cg->version() << " root=" << iso.cgroups_root
              << std::endl;
  } else {
    std::cout << "agent isolation=" << names << std::endl;
  }
  return result;
}

} // namespace

int agent_main(int argc, char** argv) {
  agent_config cfg;
  if (auto rc = cfg.parse_and_validate(argc, argv))
    return *rc;
  std::error_code ec;
  std::filesystem::create_directories(cfg.work_dir, ec);
  if (ec) {
    std::cerr << "mesoscaf agent: cannot create --work-dir=" << cfg.work_dir << ": " << ec.message() << "\n";
    return 1;
  }
  auto work_dir = std::filesystem::absolute(cfg.work_dir).string();
  resource_set resources = cfg.resources.empty() ? detect_machine_resources(work_dir)
                                                 : *resource_set::parse(cfg.resources); // validated
  if (resources.empty()) {
    std::cerr << "mesoscaf agent: no resources detected; give --resources\n";
    return 1;
  }
  // Reservations and volumes of an earlier run: kept if the resources are still the same, else refuse to start
  // (silently dropping them would lose reservations the master and frameworks rely on, and data).
  resource_set total;
  bool recovered = false;
  if (auto err = recover_agent_resources(work_dir, resources, total, &recovered); !err.empty()) {
    std::cerr << "mesoscaf agent: " << err << "\n";
    return 1;
  }
  if (recovered)
    std::cout << "agent recovered resources=" << total << " from " << resources_checkpoint_path(work_dir)
              << std::endl;
  // The checkpoint of the last agent process (read here, before any actor runs; a corrupt one stops us).
  auto boot_id = read_boot_id();
  auto checkpoint = std::make_shared<recovered_state>();
  bool rebooted = false;
  if (auto err = load_agent_checkpoint(work_dir, boot_id, *checkpoint, &rebooted); !err.empty()) {
    std::cerr << "mesoscaf agent: " << err << "\n";
    return 1;
  }
  if (rebooted)
    std::cout << "agent host rebooted since the last run: starting as a new agent" << std::endl;
  // The same agent (ID) must describe itself as before (Mesos' --reconfiguration_policy); a new one may differ.
  if (checkpoint->found && !checkpoint->agent.id.empty() && cfg.recover != "cleanup")
    if (auto err = check_attribute_change(checkpoint->agent.attributes, cfg.parsed_attributes,
                                          cfg.reconfiguration_policy);
        !err.empty()) {
      std::cerr << "mesoscaf agent: agent " << checkpoint->agent.id << ": " << err << "; to start as a new agent, "
                << "run `mesoscaf agent --recover=cleanup` with this --work-dir first\n";
      return 1;
    }
  size_t n_executors = 0;
  size_t n_tasks = 0;
  for (auto& [fw, rf] : checkpoint->frameworks) {
    n_executors += rf.executors.size();
    n_tasks += rf.tasks.size();
  }
  if (cfg.recover == "cleanup") {
    auto killed = kill_recovered_executors(*checkpoint, std::chrono::seconds(10));
    if (auto err = clear_checkpoint(work_dir); !err.empty()) {
      std::cerr << "mesoscaf agent: cannot clear the checkpoint: " << err << "\n";
      return 1;
    }
    std::cout << "agent cleanup: killed " << killed << " executor(s)" << std::endl;
    return 0;
  }
  auto isolation = choose_isolation(cfg);
  if (!isolation)
    return 2;
  if (checkpoint->found)
    std::cout << "agent recovered agent_id=" << checkpoint->agent.id << " frameworks=" << checkpoint->frameworks.size()
              << " executors=" << n_executors << " tasks=" << n_tasks << std::endl;
  raise_open_file_limit();
  auto sigs = block_termination_signals();
  agent_options opts;
  if (cfg.master_is_zk) {
    // After blocking the signals: the ZooKeeper client's threads must not take SIGTERM.
    zookeeper_options zk;
    zk.session_timeout = cfg.zk_session_timeout;
    std::string err;
    opts.detector = make_master_detector(cfg.master, zk, err);
    if (!opts.detector) {
      std::cerr << "mesoscaf agent: --master=" << redact_zookeeper_url(cfg.master) << ": " << err << "\n";
      return 1;
    }
  }
  caf::actor_system sys{cfg};
  opts.master_host = cfg.master_host;
  opts.master_port = cfg.master_port;
  opts.hostname = cfg.hostname.empty() ? local_hostname() : cfg.hostname;
  opts.resources = resources;
  opts.port = static_cast<uint16_t>(cfg.port);
  opts.publish = true;
  opts.publish_address = cfg.ip;
  opts.advertise_ip = cfg.advertise_ip;
  opts.advertise_port = static_cast<uint16_t>(cfg.advertise_port);
  opts.work_dir = work_dir;
  opts.executor_binary = cfg.executor_binary;   // empty: found as config/support/executable_path.hpp says
  opts.recover = recover_mode::reconnect;
  opts.boot_id = boot_id;
  opts.recovered = checkpoint;
  opts.recovered_total = total;
  opts.executor_registration_timeout = cfg.executor_registration_timeout;
  opts.isolation = isolation->options;
  opts.control_groups = isolation->control_groups;
  opts.gc_delay = cfg.gc_delay;
  opts.gc_disk_headroom = cfg.gc_disk_headroom;
  opts.disk_watch_interval = cfg.disk_watch_interval;
  opts.attributes = cfg.parsed_attributes;
  opts.executor_shutdown_grace = cfg.executor_shutdown_grace_period;
  opts.fetcher_cache_dir = cfg.fetcher_cache_dir.empty() ? work_dir + "/fetch" : cfg.fetcher_cache_dir;
  opts.fetcher_cache_bytes = cfg.fetcher_cache_bytes;
  // How long executors of checkpointing frameworks wait for a restarted agent (tests shorten it).
  if (auto env = std::getenv("MESOSCAF_RECOVERY_TIMEOUT"); env && *env) {
    char* end = nullptr;
    auto ms = std::strtoll(env, &end, 10);
    if (end && *end == '\0' && ms > 0)
      opts.recovery_timeout = std::chrono::milliseconds(ms);
    else
      std::cerr << "mesoscaf agent: ignoring MESOSCAF_RECOVERY_TIMEOUT=" << env << " (milliseconds expected)\n";
  }
  // The agent's own shutdown (executors' grace + exit timeout) must end well inside the 15 s watchdog.
  opts.exit_timeout = std::chrono::seconds(8);
  // HTTP first: the agent advertises its HTTP port when it registers. Requests before the agent exists get 503.
  struct agent_holder {
    std::mutex mtx;
    agent_actor hdl;
  };
  auto holder = std::make_shared<agent_holder>();
  auto advertised_ip = cfg.advertise_ip.empty() ? default_advertise_ip(cfg.ip) : cfg.advertise_ip;
  http::server web{http_options(cfg.ip, cfg.http_port, cfg, cfg)};
  http::endpoint_options web_opts;
  web_opts.identity = {"", opts.hostname, advertised_ip, opts.port, 0, 0, flag_values(cfg)};
  web_opts.acls = std::make_shared<const acl_set>(cfg.parsed_acls);
  warn_if_unauthenticated("agent", cfg.tls_on(), cfg.parsed_acls.configured(), cfg.parsed_credentials.configured());
  web_opts.work_dir = work_dir;
  http::add_agent_routes(web, sys, [holder] {
    std::lock_guard<std::mutex> guard{holder->mtx};
    return holder->hdl;
  }, web_opts);
  if (auto err = start_http(web, "agent", advertised_ip); !err.empty()) {
    std::cerr << "mesoscaf agent: " << err << "\n";
    return 1;
  }
  opts.http_port = web.port();
  auto agent = spawn_agent(sys, opts);
  {
    std::lock_guard<std::mutex> guard{holder->mtx};
    holder->hdl = agent;
  }
  std::cout << "agent starting resources=" << resources << " master=" << redact_zookeeper_url(cfg.master) << std::endl;

  // Watches the agent from a thread of our own (never inside an actor): prints each registration, and turns
  // an unexpected exit of the agent into SIGTERM for main, which then exits 1.
  std::atomic<bool> stopping{false};
  std::atomic<bool> agent_died{false};
  std::string died_of;  // written by the watcher before agent_died is set
  bool shut_down_by_master = false;  // the same
  std::thread watcher{[&] {
    caf::scoped_actor self{sys};
    self->monitor(agent);
    std::string last_id;
    while (!stopping) {
      bool down = false;
      self->request(agent, std::chrono::seconds(2), atom::state_v)
        .receive([&](const agent_snapshot& snap) {
                   if (!snap.id.empty() && snap.id.value != last_id) {
                     last_id = snap.id.value;
                     std::cout << "agent registered with id " << last_id
                               << " master=" << redact_zookeeper_url(cfg.master) << std::endl;
                   }
                 },
                 [&](const caf::error&) {});
      self->receive([&](caf::down_msg& dm) {
                      down = true;
                      died_of = sys.render(dm.reason);
                      shut_down_by_master = dm.reason == caf::exit_reason::user_shutdown;
                    },
                    caf::after(std::chrono::milliseconds(last_id.empty() ? 20 : 200)) >> [] {});
      if (down) {
        if (!stopping) {
          agent_died = true;
          ::kill(::getpid(), SIGTERM);
        }
        return;
      }
    }
  }};
  auto sig = wait_for_termination(sigs);
  stopping = true;
  start_shutdown_watchdog();
  if (agent_died && shut_down_by_master) {
    std::cerr << "mesoscaf agent: the master shut this agent down (the operator marked it gone)\n";
  } else if (agent_died) {
    std::cerr << "mesoscaf agent: the agent actor exited unexpectedly: " << died_of << "\n";
  } else {
    LOG_INFO("agent", "received signal " << sig << ", shutting down");
    terminate_actor(sys, caf::actor_cast<caf::actor>(agent), std::chrono::seconds(12));
  }
  watcher.join();
  web.stop();
  {
    std::lock_guard<std::mutex> guard{holder->mtx};
    holder->hdl = nullptr;
  }
  agent = nullptr;
  std::cout << "agent stopped" << std::endl;
  return agent_died && !shut_down_by_master ? 1 : 0;
}

} // namespace mesoscaf
