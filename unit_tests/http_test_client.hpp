#pragma once
// A blocking HTTP/1.1 client for tests and benchmarks (Boost.Beast): one request per connection, with a timeout.
#include <chrono>
#include <map>
#include <memory>
#include <string>

namespace mesoscaf::test {

struct http_reply {
  int status = 0;             // 0: no answer (connection refused, timeout); `error` says why
  std::string body;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string error;
};

/// `endpoint` is "IP:PORT"; `target` the path with its query.
http_reply http_request(const std::string& method, const std::string& endpoint, const std::string& target,
                        const std::string& body = {}, const std::string& content_type = "application/json",
                        std::chrono::milliseconds timeout = std::chrono::seconds(15),
                        const std::map<std::string, std::string>& headers = {});

inline http_reply http_get(const std::string& endpoint, const std::string& target) {
  return http_request("GET", endpoint, target);
}

/// One kept-alive connection for many requests (what a long-running client such as a framework uses);
/// reconnects once if the server closed it in between.
class http_connection {
public:
  explicit http_connection(std::string endpoint, std::chrono::milliseconds timeout = std::chrono::seconds(15));
  ~http_connection();
  http_reply request(const std::string& method, const std::string& target, const std::string& body,
                     const std::string& content_type, const std::map<std::string, std::string>& headers = {});

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// A response read as it arrives (the v1 APIs' SUBSCRIBE streams): the request is sent and the header read at
/// construction; the body comes piece by piece.
class http_stream {
public:
  http_stream(const std::string& endpoint, const std::string& target, const std::string& body,
              const std::string& content_type, const std::map<std::string, std::string>& headers = {},
              std::chrono::milliseconds timeout = std::chrono::seconds(15));
  ~http_stream();

  int status() const;   // 0: no answer (error() says why)
  const std::map<std::string, std::string>& headers() const;   // names in lower case
  const std::string& error() const;
  /// The next bytes of the body that arrive within `timeout`; "" at the end, on an error or on the timeout
  /// (which closes the connection: use generous bounds).
  std::string read_some(std::chrono::milliseconds timeout);
  /// Closes the connection (the server sees its client leave).
  void close();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace mesoscaf::test
