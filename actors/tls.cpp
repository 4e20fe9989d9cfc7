#include "actors/tls.hpp"
#include "config/support/certificate_name.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/openssl/publish.hpp>
#include <caf/openssl/remote_actor.hpp>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>

namespace mesoscaf {

namespace detail {
// Set by use_tls; read by the BASP header check (actors/message_size_limit.cpp).
std::atomic<bool> tls_active{false};
} // namespace detail

namespace {

std::string env_or_empty(const char* name) {
  auto v = std::getenv(name);
  return v ? std::string{v} : std::string{};
}

struct file_closer {
  void operator()(FILE* f) const { std::fclose(f); }
};
using file_ptr = std::unique_ptr<FILE, file_closer>;

struct x509_free {
  void operator()(X509* x) const { X509_free(x); }
};
using x509_ptr = std::unique_ptr<X509, x509_free>;

struct pkey_free {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_free>;

x509_ptr read_certificate(const std::string& path) {
  file_ptr f{std::fopen(path.c_str(), "r")};
  if (!f)
    return nullptr;
  return x509_ptr{PEM_read_X509(f.get(), nullptr, nullptr, nullptr)};
}

} // namespace

tls_files tls_files_from_environment() {
  return {env_or_empty(env_tls_cert), env_or_empty(env_tls_key), env_or_empty(env_tls_ca)};
}

std::string check_tls_files(const tls_files& files) {
  if (!files.complete())
    return "TLS needs all of --tls-cert, --tls-key and --tls-ca";
  auto cert = read_certificate(files.cert);
  if (!cert)
    return "--tls-cert=" + files.cert + ": not a readable PEM certificate";
  auto ca = read_certificate(files.ca);
  if (!ca)
    return "--tls-ca=" + files.ca + ": not a readable PEM certificate";
  file_ptr kf{std::fopen(files.key.c_str(), "r")};
  pkey_ptr key{kf ? PEM_read_PrivateKey(kf.get(), nullptr, nullptr, nullptr) : nullptr};
  if (!key)
    return "--tls-key=" + files.key + ": not a readable PEM private key (without passphrase)";
  if (X509_check_private_key(cert.get(), key.get()) != 1)
    return "--tls-key=" + files.key + " does not belong to the certificate " + files.cert;
  pkey_ptr ca_key{X509_get_pubkey(ca.get())};
  if (!ca_key || X509_verify(cert.get(), ca_key.get()) != 1)
    return "--tls-cert=" + files.cert + " is not signed by the CA in " + files.ca;
  if (common_name_of(cert.get()).empty())
    return "--tls-cert=" + files.cert + " has no subject common name (the principal)";
  return {};
}

void use_tls(caf::actor_system_config& cfg, const tls_files& files) {
  cfg.load<caf::openssl::manager>();
  cfg.openssl_certificate = files.cert;
  cfg.openssl_key = files.key;
  cfg.openssl_cafile = files.ca;
  detail::tls_active = true;
}

bool tls_in_use() {
  return detail::tls_active;
}

caf::io::middleman_actor network_actor(caf::actor_system& sys) {
  if (tls_in_use() && sys.has_openssl_manager())
    return sys.openssl_manager().actor_handle();
  return sys.middleman().actor_handle();
}

caf::expected<uint16_t> publish_actor(caf::actor_system& sys, caf::strong_actor_ptr whom,
                                      std::set<std::string> sigs, uint16_t port, const std::string& address,
                                      bool reuse) {
  if (!whom)
    return caf::sec::cannot_publish_invalid_actor;
  if (tls_in_use() && sys.has_openssl_manager())
    return caf::openssl::publish(sys, whom, std::move(sigs), port, address.empty() ? nullptr : address.c_str(), reuse);
  // What middleman::publish does, through the middleman actor (that overload is private).
  caf::expected<uint16_t> result{caf::sec::runtime_error};
  caf::scoped_actor self{sys};
  self->request(sys.middleman().actor_handle(), caf::infinite, caf::publish_atom::value, port, std::move(whom),
                std::move(sigs), address, reuse)
    .receive([&](uint16_t actual) { result = actual; }, [&](caf::error& err) { result = std::move(err); });
  return result;
}

caf::expected<caf::strong_actor_ptr> connect_actor(caf::actor_system& sys, std::set<std::string> sigs,
                                                   const std::string& host, uint16_t port) {
  if (tls_in_use() && sys.has_openssl_manager())
    return caf::openssl::remote_actor(sys, sigs, host, port);
  // What middleman::remote_actor does, through the middleman actor (that overload is private).
  caf::expected<caf::strong_actor_ptr> result{caf::sec::runtime_error};
  caf::scoped_actor self{sys};
  self->request(sys.middleman().actor_handle(), caf::infinite, caf::connect_atom::value, host, port)
    .receive(
      [&](const caf::node_id&, caf::strong_actor_ptr& ptr, const std::set<std::string>& ifs) {
        if (!ptr)
          result = caf::make_error(caf::sec::no_actor_published_at_port, "no actor published at port");
        else if (!sigs.empty() && ifs != sigs)
          result = caf::make_error(caf::sec::unexpected_actor_messaging_interface);
        else
          result = std::move(ptr);
      },
      [&](caf::error& err) { result = std::move(err); });
  return result;
}

std::string certificate_principal(const std::string& cert_file) {
  auto cert = read_certificate(cert_file);
  return cert ? common_name_of(cert.get()) : std::string{};
}

} // namespace mesoscaf
