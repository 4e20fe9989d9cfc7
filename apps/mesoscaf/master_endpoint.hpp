#pragma once
// How the CLI reaches the leading master's HTTP API: the `--master` it was given (host:port, or the ZooKeeper
// election), then the master's `/master/redirect` (a standby names the leader), then plain requests whose failures
// are messages for the operator (`cli_failure`, exit code 1).
#include "apps/mesoscaf/http_client.hpp"

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>

namespace mesoscaf {

class cli_config;

/// A failure to report and exit 1 with (unreachable master, HTTP error): the message says what and where.
class cli_failure : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

struct http_address {
  std::string host;
  uint16_t port = 0;
  std::string text() const { return host + ":" + std::to_string(port); }
};

/// The address in a `Location` of `/master/redirect`: `//IP:PORT`, `http://IP:PORT` (a path after it ignored).
/// Returns "" or why it names no address.
std::string parse_redirect_location(const std::string& location, http_address& out);

/// "400 Bad Request: <the body's first line>", for a status the CLI does not expect.
std::string describe_http_error(const http_response& response);

/// The HTTP API of whoever answers at one address, with the CLI's deadline.
class http_endpoint {
public:
  http_endpoint(http_address address, std::string what, http_limits limits)
    : address_(std::move(address)), what_(std::move(what)), limits_(limits) {}

  /// Sends the request; throws cli_failure when there is no answer or its status is not 2xx.
  http_response call(const std::string& method, const std::string& target, const std::string& body = {},
                     const std::string& content_type = {}) const;

  /// GET `target` and parse the body as JSON (cli_failure if it is not).
  nlohmann::json get_json(const std::string& target) const;

  const http_address& address() const { return address_; }

private:
  http_address address_;
  std::string what_;   // "master", "agent": for messages
  http_limits limits_;
};

/// The leading master's HTTP endpoint for `cfg` (`--master`, `--timeout`). Throws cli_failure when no master
/// answers or none leads.
http_endpoint connect_to_leader(const cli_config& cfg);

} // namespace mesoscaf
