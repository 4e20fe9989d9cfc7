#pragma once
// Bounds on the connections a daemon accepts on its actor port (`--max-connections`, `--handshake-timeout`):
// a connection that sends nothing for the timeout (one that never completes its handshake, or that announced a
// message and stopped sending it) is closed, and beyond the limit new connections are closed at once. CAF 0.17's
// middleman has neither bound: idle connections stayed open forever and exhausted a master's descriptors.
// config/support/connection_guard.cpp says how; integration_hostile_peers tests it.
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace mesoscaf {

struct connection_limits {
  /// A connection that received no byte for this long is closed. Every mesoscaf process sends middleman
  /// heartbeats each second, so only a stalled or hostile peer stays silent that long.
  std::chrono::milliseconds idle_timeout{5000};
  /// Connections open at once on the guarded port; more are closed as they come.
  std::size_t max_connections = 10000;
};

/// The limits `guard_connections` applies (the daemons set them from their flags; defaults as above).
void set_connection_limits(connection_limits limits);
connection_limits current_connection_limits();

/// Guards connections accepted from now on by the listening socket bound to `port` (any thread; again for
/// another port). The first call starts the guard's thread.
void guard_connections(uint16_t port, connection_limits limits = current_connection_limits());

/// For the process's `accept` (config/support/connection_handles.cpp): notes a connection `listener` accepted,
/// or closes it if its port is at its limit (then -1 with errno EAGAIN). `fd` < 0 is returned as it is.
int admit_accepted_connection(int listener, int fd);

} // namespace mesoscaf
