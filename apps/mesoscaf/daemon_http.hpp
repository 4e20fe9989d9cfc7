#pragma once
// What the daemons share to serve HTTP (actors/http/): their flags as text for /flags, and starting the server
// with its one "<who> http listening on IP:PORT" line.
#include "actors/http/http_server.hpp"

#include <map>
#include <string>

namespace mesoscaf {

class base_config;
struct access_flags;

/// Every flag of the subcommand with its value in force, as text (strings unquoted).
std::map<std::string, std::string> flag_values(const base_config& cfg);

/// Starts `srv` and prints `<who> http listening on IP:PORT` (IP: `advertised` when `ip` is a wildcard).
/// Returns "" or why it could not listen.
std::string start_http(http::server& srv, const std::string& who, const std::string& advertised);

/// This host's name (gethostname), or "localhost".
std::string host_name();

/// The server's options for a daemon listening on `ip`:`port`.
http::server_options http_options(const std::string& ip, int64_t port);

/// The same, secured as the daemon's flags say: HTTPS with its TLS files (--tls-*), its HTTP credentials
/// (--credentials).
http::server_options http_options(const std::string& ip, int64_t port, const base_config& cfg,
                                  const access_flags& access);

/// One warning at start for a daemon that trusts whoever reaches it: no TLS (no principals), no ACLs, no HTTP
/// credentials (README "Security").
void warn_if_unauthenticated(const std::string& daemon, bool tls, bool acls, bool credentials);

} // namespace mesoscaf
