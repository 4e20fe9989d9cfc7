#pragma once
// Where a master can be reached: what a contender announces and a detector reports (actors/ha/leader_election.hpp).
#include <caf/actor.hpp>
#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <string>

namespace mesoscaf {

struct master_location {
  /// Unique per master process run (a new run of the same host:port gets a new ID); empty: no leader known.
  std::string id;
  std::string host;
  uint16_t port = 0;
  /// In-process elections only (several masters in one actor system): the master itself. Processes reach the
  /// master through host:port instead; this is never set in a location read from ZooKeeper.
  caf::actor handle;
  /// The master's HTTP port (operator endpoints, /master/redirect); 0: none. Same host as `host`.
  uint16_t http_port = 0;

  bool empty() const { return id.empty(); }
  /// "host:port" (or the ID for an in-process master without an endpoint).
  std::string endpoint() const { return host.empty() ? id : host + ":" + std::to_string(port); }

  friend bool operator==(const master_location& a, const master_location& b) {
    return a.id == b.id && a.host == b.host && a.port == b.port;
  }
  friend bool operator!=(const master_location& a, const master_location& b) { return !(a == b); }

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, master_location& x) {
    return f(caf::meta::type_name("master_location"), x.id, x.host, x.port, x.handle, x.http_port);
  }
};

} // namespace mesoscaf
