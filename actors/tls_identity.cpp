// Who is at the other end of a TLS connection, as the actors see it: the principal (certificate subject CN) of
// the node a message came from.
//
// CAF 0.17's openssl module verifies peers but keeps the certificate to itself, and its BASP broker names a sender
// only by node ID. Two functions that the libraries call through the dynamic linker are defined here, so those calls
// come to us first (as actors/message_size_limit.cpp does for the header check):
//  - `SSL_CTX_set_verify` (called by libcaf_openssl for each session): we add a verify callback that, once
//    OpenSSL has verified the peer's chain, records the socket's principal;
//  - `caf::io::basp_broker::learned_new_node` (called by libcaf_io when a BASP handshake on a connection
//    completes): we bind the new node ID to the principal of that connection's socket.
// Routed BASP messages (a peer speaking for another node) are refused under TLS (message_size_limit.cpp), so a
// node's messages can only come over the connection that authenticated it.
#include "actors/tls.hpp"

#include "config/support/certificate_name.hpp"
#include "config/support/logging.hpp"

#include <caf/io/basp_broker.hpp>
#include <caf/node_id.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <dlfcn.h>

#include <atomic>
#include <mutex>
#include <unordered_map>

namespace mesoscaf {

namespace {

constexpr const char* component = "tls";

// Both maps are bounded: sockets are reused by number (a new handshake overwrites its entry); past the bound a
// map starts over. Principals are looked up when a peer registers or sends an operator call, and 200,000 nodes
// are far more than a master keeps at once.
constexpr std::size_t max_entries = 200000;

std::mutex mtx;
std::unordered_map<int, std::string> principal_by_socket;
std::unordered_map<caf::node_id, std::string> principal_by_node;
std::atomic<uint64_t> refused_certificates{0};

int verify_peer(int ok, X509_STORE_CTX* store) {
  auto* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  int fd = ssl != nullptr ? SSL_get_fd(ssl) : -1;
  if (ok != 1) {
    auto n = ++refused_certificates;
    if (n <= 10 || n % 1000 == 0)
      LOG_WARN(component, "refused a peer's certificate: "
                            << X509_verify_cert_error_string(X509_STORE_CTX_get_error(store)) << " (" << n
                            << " refused so far)");
    if (fd >= 0) {
      std::lock_guard<std::mutex> guard{mtx};
      principal_by_socket.erase(fd);
    }
    return 0;
  }
  if (X509_STORE_CTX_get_error_depth(store) != 0 || fd < 0)
    return ok;
  auto name = common_name_of(X509_STORE_CTX_get_current_cert(store));
  std::lock_guard<std::mutex> guard{mtx};
  if (principal_by_socket.size() >= max_entries)
    principal_by_socket.clear();
  principal_by_socket[fd] = std::move(name);
  return ok;
}

} // namespace

std::optional<std::string> socket_principal(int fd) {
  std::lock_guard<std::mutex> guard{mtx};
  if (auto i = principal_by_socket.find(fd); i != principal_by_socket.end())
    return i->second;
  return std::nullopt;
}

std::optional<std::string> node_principal(const caf::node_id& node) {
  std::lock_guard<std::mutex> guard{mtx};
  if (auto i = principal_by_node.find(node); i != principal_by_node.end())
    return i->second;
  return std::nullopt;
}

void bind_node_to_socket(const caf::node_id& node, int fd) {
  std::lock_guard<std::mutex> guard{mtx};
  auto i = principal_by_socket.find(fd);
  if (i == principal_by_socket.end()) {
    principal_by_node.erase(node);
    return;
  }
  if (principal_by_node.size() >= max_entries)
    principal_by_node.clear();
  principal_by_node[node] = i->second;
}

} // namespace mesoscaf

extern "C" void SSL_CTX_set_verify(SSL_CTX* ctx, int mode, SSL_verify_cb cb) {
  using real_fn = void (*)(SSL_CTX*, int, SSL_verify_cb);
  static const auto real = reinterpret_cast<real_fn>(dlsym(RTLD_NEXT, "SSL_CTX_set_verify"));
  if ((mode & SSL_VERIFY_PEER) != 0 && cb == nullptr)
    cb = mesoscaf::verify_peer;
  real(ctx, mode, cb);
}

// CAF's session classifies a failed SSL call with SSL_get_error, which also looks at the thread's OpenSSL error
// queue, and never clears that queue. One refused handshake (a peer without a certificate) left an error there,
// and the next SSL_read on the same thread that only wanted more data was taken for a failure: the middleman
// closed a healthy connection (a master dropped its agents once per refused client). Each call starts with an
// empty queue here.
namespace {
template <class Fn>
Fn next_definition(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
}
} // namespace

extern "C" int SSL_read(SSL* ssl, void* buf, int num) {
  static const auto real = next_definition<int (*)(SSL*, void*, int)>("SSL_read");
  ERR_clear_error();
  return real(ssl, buf, num);
}

extern "C" int SSL_write(SSL* ssl, const void* buf, int num) {
  static const auto real = next_definition<int (*)(SSL*, const void*, int)>("SSL_write");
  ERR_clear_error();
  return real(ssl, buf, num);
}

extern "C" int SSL_accept(SSL* ssl) {
  static const auto real = next_definition<int (*)(SSL*)>("SSL_accept");
  ERR_clear_error();
  return real(ssl);
}

extern "C" int SSL_connect(SSL* ssl) {
  static const auto real = next_definition<int (*)(SSL*)>("SSL_connect");
  ERR_clear_error();
  return real(ssl);
}

void caf::io::basp_broker::learned_new_node(const caf::node_id& nid) {
  using real_fn = void (*)(caf::io::basp_broker*, const caf::node_id&);
  static const auto real = reinterpret_cast<real_fn>(dlsym(RTLD_NEXT, "_ZN3caf2io11basp_broker16learned_new_nodeERKNS_7node_idE"));
  // Directly connected (not learned from a routed message): the current connection is this node's.
  if (mesoscaf::tls_in_use() && this_context != nullptr) {
    auto direct = instance.tbl().lookup_direct(nid);
    if (direct && *direct == this_context->hdl)
      mesoscaf::bind_node_to_socket(nid, static_cast<int>(this_context->hdl.id()));
  }
  if (real != nullptr)
    real(this, nid);
}
