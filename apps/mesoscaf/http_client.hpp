#pragma once
// A small synchronous HTTP/1.1 client for the CLI and `mesoscaf execute` (Boost.Beast underneath, kept out of
// this header): one request per connection, a deadline for the whole exchange, a bound on the body.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mesoscaf {

struct http_response {
  int status = 0;
  std::string reason;                                        // "Not Found"
  std::vector<std::pair<std::string, std::string>> headers;  // as received
  std::string body;

  /// The first header named `name` (case-insensitive); "" if none.
  std::string header(std::string_view name) const;
};

struct http_request {
  std::string method = "GET";   // GET, POST, PUT, DELETE
  std::string host;             // name or IP
  uint16_t port = 0;
  std::string target = "/";     // path and query, already percent-encoded
  std::string body;
  std::string content_type;     // sent with a body; empty: none
};

struct http_limits {
  std::chrono::milliseconds timeout{10000};   // connect, send and receive together
  size_t max_body = size_t{64} << 20;
};

/// Sends `req` and reads the answer into `out`. Returns "" (any status, 4xx and 5xx too) or why there is no answer:
/// the host did not resolve, the connection was refused, the deadline passed, the body exceeded the limit.
std::string send_http(const http_request& req, http_response& out, const http_limits& limits = {});

/// From now on, send_http speaks HTTPS with this client certificate, verifying the server against the CA (the
/// process's --tls-cert, --tls-key, --tls-ca: daemons with TLS serve HTTPS). Empty: plain HTTP.
void use_http_client_tls(const std::string& cert, const std::string& key, const std::string& ca);

/// From now on, send_http sends this `Authorization` header value (e.g. "Basic ..."); empty: none.
void use_http_client_authorization(const std::string& value);

/// "Basic base64(principal:secret)".
std::string basic_authorization(const std::string& principal, const std::string& secret);

/// Percent-encodes everything but RFC 3986's unreserved characters (and '/' when `keep_slash`): for query
/// values and path segments.
std::string percent_encode(std::string_view text, bool keep_slash = false);

} // namespace mesoscaf
