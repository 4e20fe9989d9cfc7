#pragma once
// A blocking HTTP/1.1 client for tests and benchmarks (Boost.Beast): one request per connection, with a timeout.
#include <chrono>
#include <map>
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

} // namespace mesoscaf::test
