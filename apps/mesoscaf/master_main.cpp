// `mesoscaf master --port=5050 --work-dir=DIR [--zk=zk://HOST:PORT[,...]/PATH] [--zk-session-timeout=10s]
// [--registry=in_memory|sqlite|zookeeper] [--agent-reregister-timeout=10mins] [--offer-timeout=30s]
// [--weights=eng=2,ops=0.5] [--agent-ping-timeout=15s] [--max-agent-ping-timeouts=5]
// [--agent-removal-rate-limit=1/10s] [--standby-heap-mb=256] [--ip=IP] [--advertise-ip=IP] [--advertise-port=P]`:
// runs a master until SIGTERM/SIGINT.
// Prints `master listening on <ip>:<port>` once it accepts connections (use --port=0 and read the port), then
// `master elected leader at <ip>:<port>` (the advertised endpoint, as announced in ZooKeeper) when it leads (at
// once without --zk) or
// `master standing by; leader: <endpoint>` while another master leads. A master that loses its ZooKeeper
// session prints `master lost leadership: <why>` and exits 1 at once, as Mesos does: a supervisor restarts it
// as a new contender. SIGTERM withdraws from the election first, so the next master takes over at once.
#include "apps/mesoscaf/subcommands.hpp"
#include "actors/tls.hpp"

#include "apps/mesoscaf/daemon_http.hpp"
#include "apps/mesoscaf/heap_reserve.hpp"
#include "apps/mesoscaf/master_tuning_flags.hpp"

#include "actors/ha/leader_election.hpp"
#include "actors/http/daemon_http.hpp"
#include "actors/master/master.hpp"
#include "actors/ha/registrar.hpp"
#include "actors/ha/registry_store.hpp"
#include "config/daemon_config.hpp"
#include "config/support/connection_guard.hpp"
#include "config/support/logging.hpp"
#include "config/support/network_address.hpp"

#include <caf/actor_system.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include <atomic>
#include <filesystem>
#include <iostream>
#include <memory>

#include <unistd.h>

namespace mesoscaf {

namespace {

/// One line to stdout in one write: called from ZooKeeper's and CAF's threads as well as main.
void say(const std::string& line) {
  auto text = line + "\n";
  auto rc = ::write(STDOUT_FILENO, text.data(), text.size());
  (void) rc;
}

std::shared_ptr<registry_store> open_registry_store(const master_config& cfg, const zookeeper_options& zk,
                                                    std::string& error) {
  if (cfg.registry == "sqlite")
    return make_sqlite_registry_store((std::filesystem::path{cfg.work_dir} / "registry.sqlite").string(), error,
                                      cfg.registry_allow_empty);
  if (cfg.registry == "zookeeper")
    return make_zookeeper_registry_store(cfg.parsed_zk, zk, error);
  return make_in_memory_registry_store();
}

} // namespace

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
  zookeeper_options zk;
  zk.session_timeout = cfg.zk_session_timeout;
  // The registry store opens before anything serves (the ZooKeeper store waits for its session).
  std::string err;
  auto store = open_registry_store(cfg, zk, err);
  if (!store) {
    std::cerr << "mesoscaf master: cannot open the registry (--registry=" << cfg.registry << "): " << err << "\n";
    return 1;
  }
  // Before the actor system exists, so that every CAF thread inherits the mask (caf-notes A13).
  raise_open_file_limit();
  auto sigs = block_termination_signals();
  caf::actor_system sys{cfg};
  master_options opts;
  static_cast<master_tuning&>(opts) = to_master_tuning(cfg);
  opts.make_registrar = [store](caf::actor_system& s) { return spawn_registrar(s, store); };
  const bool ha = !cfg.zk.empty();
  opts.start_as_leader = !ha;
  opts.acls = cfg.parsed_acls;
  warn_if_unauthenticated("master", cfg.tls_on(), cfg.parsed_acls.configured(), cfg.parsed_credentials.configured());
  if (ha && cfg.parsed_zk.credentials.empty())
    LOG_WARN("master", "--zk has no credentials: the election and registry nodes it creates in ZooKeeper can be "
                       "changed by anyone who reaches ZooKeeper (zk://USER:PASSWORD@...)");
  // A standby's heap is faulted in ahead of the re-registration storm that follows its election; once it has
  // recovered, the allocator returns what it does not use.
  if (ha && cfg.standby_heap_mb > 0 && heap_reserve::hold(static_cast<size_t>(cfg.standby_heap_mb) << 20))
    opts.recovered = [] { heap_reserve::release(); };
  auto master = spawn_master(sys, opts);
  // A master that stops on its own (it stepped down: registry failure, lost session) ends the process with 1.
  static std::atomic<bool> stopping{false};
  master->attach_functor([&sys](const caf::error& reason) {
    if (stopping.load())
      return;
    say("master lost leadership: " + sys.render(reason));
    ::_exit(1);
  });
  auto port = publish_actor(sys, master, static_cast<uint16_t>(cfg.port), cfg.ip, true);
  if (!port) {
    std::cerr << "mesoscaf master: cannot listen on " << cfg.ip << ":" << cfg.port << ": "
              << sys.render(port.error()) << "\n";
    stopping = true;
    terminate_actor(sys, caf::actor_cast<caf::actor>(master), std::chrono::seconds(5));
    return 1;
  }
  guard_connections(*port);
  say("master listening on " + join_host_port(cfg.ip, *port));
  // What others dial: announced in ZooKeeper and printed when elected (a wildcard or NAT-side --ip is not).
  auto advertised_ip = cfg.advertise_ip.empty() ? default_advertise_ip(cfg.ip) : cfg.advertise_ip;
  auto advertised_port = cfg.advertise_port != 0 ? static_cast<uint16_t>(cfg.advertise_port) : *port;
  auto endpoint = join_host_port(advertised_ip, advertised_port);
  auto run_id = make_master_run_id(advertised_ip, advertised_port);
  // HTTP before the election: the location a contender announces carries the HTTP port (/master/redirect).
  http::server web{http_options(cfg.ip, cfg.http_port, cfg, cfg)};
  http::endpoint_options web_opts;
  web_opts.identity = {run_id, host_name(), advertised_ip, advertised_port, 0, 0, flag_values(cfg)};
  web_opts.acls = std::make_shared<const acl_set>(cfg.parsed_acls);
  http::add_master_routes(web, sys, master, web_opts);
  if (auto err = start_http(web, "master", advertised_ip); !err.empty()) {
    std::cerr << "mesoscaf master: " << err << "\n";
    stopping = true;
    terminate_actor(sys, caf::actor_cast<caf::actor>(master), std::chrono::seconds(5));
    return 1;
  }
  std::shared_ptr<master_contender> contender;
  std::shared_ptr<master_detector> detector;
  if (ha) {
    static std::atomic<bool> elected{false};
    master_location self_loc;
    self_loc.id = run_id;
    self_loc.host = advertised_ip;
    self_loc.port = advertised_port;
    self_loc.http_port = web.port();
    detector = make_zookeeper_detector(cfg.parsed_zk, zk);
    // Sent from a local actor: the master takes election news only from this process (actors/master/master.cpp).
    detector->watch([&sys, master, self_id = self_loc.id](const master_location& loc) {
      caf::scoped_actor{sys}->send(master, atom::leader_v, loc);
      // An empty report (none known yet, e.g. before our own election finished) is not worth a line.
      if (!elected.load() && !loc.empty() && loc.id != self_id)
        say("master standing by; leader: " + loc.endpoint());
    });
    contender = make_zookeeper_contender(cfg.parsed_zk, zk);
    // Not the shared pointer: the contender keeps this callback (withdraw() ends callbacks before it goes).
    auto* elected_by = contender.get();
    contender->contend(self_loc, [&sys, master, endpoint, store, elected_by](contender_event ev,
                                                                            const std::string& why) {
      if (ev == contender_event::elected) {
        // Before the master hears of it: every registry write of this leader checks that it still holds the node.
        store->fence(elected_by->election_node());
        elected = true;
        caf::scoped_actor{sys}->send(master, atom::elected_v);
        say("master elected leader at " + endpoint);
        return;
      }
      // Leadership can no longer be trusted: exit before this process can act on it (Mesos does the same).
      say("master lost leadership: " + why);
      ::_exit(1);
    });
  } else {
    say("master elected leader at " + endpoint);
  }
  auto sig = wait_for_termination(sigs);
  LOG_INFO("master", "received signal " << sig << ", shutting down");
  stopping = true;
  start_shutdown_watchdog();
  // Leave the election first: closing the session lets the next master take over without waiting for the
  // session timeout.
  if (contender)
    contender->withdraw();
  if (detector)
    detector->close();
  web.stop();
  terminate_actor(sys, caf::actor_cast<caf::actor>(master), std::chrono::seconds(10));
  master = nullptr;
  std::cout << "master stopped" << std::endl;
  return 0;
}

} // namespace mesoscaf
