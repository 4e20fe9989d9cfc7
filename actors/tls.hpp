#pragma once
// Mutual TLS between mesoscaf processes (`--tls-cert`, `--tls-key`, `--tls-ca`, `--tls=required`), on CAF's
// openssl module: every connection of the process then runs TLS 1.2 with certificates on both sides, checked
// against the CA, before a byte of BASP is decoded. The peer's principal is its certificate's subject common name
// (actors/tls_identity.cpp records it per connection and per peer node).
//
// A process uses TLS for all of its actor connections or for none: `network_actor` hands out the middleman that
// connects and publishes accordingly. No OpenSSL headers here.
#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/fwd.hpp>
#include <caf/io/middleman_actor.hpp>

#include <cstdint>
#include <optional>
#include <set>
#include <string>

namespace mesoscaf {

/// The files of one process's TLS identity (PEM). All three set: TLS; none: plaintext.
struct tls_files {
  std::string cert;   // this process's certificate (chain)
  std::string key;    // its private key
  std::string ca;     // the CA that signs every peer's certificate

  bool any() const { return !cert.empty() || !key.empty() || !ca.empty(); }
  bool complete() const { return !cert.empty() && !key.empty() && !ca.empty(); }
};

/// Environment variables that carry a process's TLS files to the executors it starts (as Mesos passes
/// LIBPROCESS_SSL_* on): the same names the flags read (MESOSCAF_<FLAG>).
constexpr const char* env_tls_cert = "MESOSCAF_TLS_CERT";
constexpr const char* env_tls_key = "MESOSCAF_TLS_KEY";
constexpr const char* env_tls_ca = "MESOSCAF_TLS_CA";

/// The TLS files named in this process's environment (empty fields where unset).
tls_files tls_files_from_environment();

/// Checks that the files exist, are readable, and that the key matches the certificate, which the CA signed.
/// Returns "" or a message naming the file and the problem.
std::string check_tls_files(const tls_files& files);

/// Loads the openssl module into `cfg` and points it at the files (before the actor system starts). From then on,
/// the process refuses routed BASP messages (a peer may only speak for its own node, so a principal stays bound to
/// the connection it authenticated; mesoscaf's star topology never routes).
void use_tls(caf::actor_system_config& cfg, const tls_files& files);

/// True if this process runs its actor connections over TLS (use_tls was called).
bool tls_in_use();

/// The middleman actor to connect and publish with: the openssl module's if TLS is in use, else the plain one.
caf::io::middleman_actor network_actor(caf::actor_system& sys);

/// Publishes `whom` (with the interface `sigs`) on `port` (blocking: call outside actors), over TLS if in use.
/// Returns the port, or an error.
caf::expected<uint16_t> publish_actor(caf::actor_system& sys, caf::strong_actor_ptr whom,
                                      std::set<std::string> sigs, uint16_t port, const std::string& address,
                                      bool reuse);

/// The same for a (typed) handle: peers see its interface.
template <class Handle>
caf::expected<uint16_t> publish_actor(caf::actor_system& sys, const Handle& hdl, uint16_t port,
                                      const std::string& address, bool reuse) {
  return publish_actor(sys, caf::actor_cast<caf::strong_actor_ptr>(hdl), sys.message_types(hdl), port, address,
                       reuse);
}

/// Connects to the actor published at host:port (blocking: call outside actors), over TLS if in use. It must
/// offer the interface `sigs`.
caf::expected<caf::strong_actor_ptr> connect_actor(caf::actor_system& sys, std::set<std::string> sigs,
                                                   const std::string& host, uint16_t port);

/// The same, for a typed handle.
template <class Handle>
caf::expected<Handle> connect_actor(caf::actor_system& sys, const std::string& host, uint16_t port) {
  auto res = connect_actor(sys, sys.message_types<Handle>(), host, port);
  if (!res)
    return std::move(res.error());
  return caf::actor_cast<Handle>(std::move(*res));
}

/// The principal a peer node authenticated as (its certificate's common name), if it is directly connected over
/// TLS. Messages from this process's own node have no principal here (the caller knows who it is).
std::optional<std::string> node_principal(const caf::node_id& node);

/// The principal of the TLS connection on this socket, if its certificate was verified (HTTP over TLS).
std::optional<std::string> socket_principal(int fd);

/// The common name of a certificate file's subject, or "" (used by `mesoscaf certs` and the tests).
std::string certificate_principal(const std::string& cert_file);

} // namespace mesoscaf
