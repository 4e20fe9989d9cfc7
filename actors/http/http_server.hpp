#pragma once
// The daemons' HTTP/1.1 server (Boost.Beast), on threads of its own: one I/O thread owns every socket, a small
// pool runs the handlers. A handler may block (it asks an actor for a snapshot with a timeout and serialises
// it); it never runs on a CAF scheduler thread, and a slow client only holds its own connection. Each cost a
// client controls is bounded: connections, header time, body size, idle time.
#include "actors/http/http_types.hpp"
#include "config/support/credentials.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace mesoscaf::http {

struct server_options {
  std::string address = "0.0.0.0";
  uint16_t port = 0;                                    // 0: any free port
  std::size_t max_connections = 4096;                  // more are closed at once
  std::size_t max_body_bytes = 1 << 20;                // larger bodies: 413
  std::chrono::seconds header_timeout{30};             // a request (or the next one on a kept-alive
                                                       // connection) not complete by then: closed
  std::chrono::seconds write_timeout{120};             // a client that reads a response slower: closed
  std::size_t handler_threads = 3;
  /// Niceness of the handler threads and the I/O thread: serialising and sending a large answer yield the CPU
  /// to the daemon's actors, so a client reading /state in a loop does not slow down offers and status updates.
  int handler_nice = 10;
  std::string server_name = "mesoscaf";
  /// --credentials: when set, every request except the public ones (/health, /version, /master/redirect, the web
  /// UI's files) must authenticate (Basic or Bearer), else 401; wrong credentials are 401 everywhere.
  std::shared_ptr<const credential_set> credentials;
  /// HTTPS with these PEM files (the daemon's --tls-cert, --tls-key, --tls-ca); empty: plain HTTP. A client
  /// certificate signed by the CA authenticates its subject CN as the request's principal.
  std::string tls_cert;
  std::string tls_key;
  std::string tls_ca;
};

using handler = std::function<response(const request&)>;

class server {
public:
  explicit server(server_options opts);
  ~server();  // stops
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// Routes `path` exactly; `method` "*" matches every method (the handler answers 405 itself). Before start().
  void route(const std::string& method, const std::string& path, handler h);
  /// Routes every path that starts with `prefix` (longest prefix wins after exact routes).
  void route_prefix(const std::string& method, const std::string& prefix, handler h);

  /// Binds and starts serving; returns "" or why it could not bind.
  std::string start();
  void stop();

  uint16_t port() const;            // the bound port (after start)
  const std::string& address() const;
  std::size_t open_connections() const;

  struct impl;  // the I/O loop, the pool and the routes (http_server.cpp)

private:
  std::unique_ptr<impl> impl_;
};

} // namespace mesoscaf::http
