#include "apps/mesoscaf/daemon_http.hpp"

#include "actors/ha/leader_election.hpp"
#include "config/daemon_config.hpp"
#include "config/support/network_address.hpp"
#include "config/support/logging.hpp"

#include <caf/config_option.hpp>
#include <caf/config_option_set.hpp>
#include <caf/config_value.hpp>

#include <unistd.h>

namespace mesoscaf {

std::map<std::string, std::string> flag_values(const base_config& cfg) {
  std::map<std::string, std::string> out;
  for (auto& opt : cfg.options()) {
    auto ln = opt.long_name();   // caf::string_view
    std::string name(ln.data(), ln.size());
    if (name.empty() || name == "help" || name == "dump-config")
      continue;
    auto value = opt.get();
    if (!value)
      continue;
    // Secrets are not for every reader of /flags (openssl.passphrase; later credentials).
    if (name.find("passphrase") != std::string::npos || name.find("password") != std::string::npos
        || name.find("secret") != std::string::npos || name.find("credential") != std::string::npos) {
      out[name] = "(hidden)";
      continue;
    }
    if (auto str = caf::get_if<std::string>(&*value))
      out[name] = redact_zookeeper_url(*str);   // --zk, --master: zk://user:***@...
    else
      out[name] = caf::to_string(*value);
  }
  return out;
}

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0')
    return "localhost";
  return buf;
}

http::server_options http_options(const std::string& ip, int64_t port) {
  http::server_options o;
  o.address = ip;
  o.port = static_cast<uint16_t>(port);
  return o;
}

http::server_options http_options(const std::string& ip, int64_t port, const base_config& cfg,
                                  const access_flags& access) {
  auto o = http_options(ip, port);
  o.credentials = std::make_shared<const credential_set>(access.parsed_credentials);
  if (cfg.tls_on()) {   // HTTPS with the daemon's own identity
    o.tls_cert = cfg.tls_cert;
    o.tls_key = cfg.tls_key;
    o.tls_ca = cfg.tls_ca;
  }
  return o;
}

void warn_if_unauthenticated(const std::string& daemon, bool tls, bool acls, bool credentials) {
  std::string missing;
  auto add = [&](bool ok, const char* what) {
    if (!ok)
      missing += (missing.empty() ? "" : ", ") + std::string{what};
  };
  add(tls, "no TLS (--tls-cert, --tls-key, --tls-ca): peers are not authenticated and principals are what they "
           "claim");
  add(acls, "no --acls: every principal may do everything");
  add(credentials, "no --credentials: HTTP requests are anonymous");
  if (!missing.empty())
    LOG_WARN(daemon, "unauthenticated: " << missing << " (README, 'Security')");
}

std::string start_http(http::server& srv, const std::string& who, const std::string& advertised) {
  if (auto err = srv.start(); !err.empty())
    return err;
  auto ip = srv.address() == "0.0.0.0" || srv.address() == "::" ? advertised : srv.address();
  auto line = who + " http listening on " + join_host_port(ip, srv.port()) + "\n";
  auto rc = ::write(STDOUT_FILENO, line.data(), line.size());
  (void) rc;
  return {};
}

} // namespace mesoscaf
