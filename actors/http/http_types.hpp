#pragma once
// A request and a response as the daemons' HTTP handlers see them: plain data, no Boost.Beast types, so the
// handlers (and their tests) do not compile the HTTP library.
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mesoscaf::http {

class event_stream;

struct request {
  std::string method;                          // "GET", "POST", ...
  std::string path;                            // decoded, without the query ("/files/read")
  std::map<std::string, std::string> query;    // decoded; the last value of a repeated key wins
  std::map<std::string, std::string> headers;  // names in lower case; a repeated header's values joined by ", "
  std::string body;
  std::string peer;                            // "IP:PORT" of the client
  /// Who the request authenticated as (server_options::credentials: Basic or Bearer); none: anonymous.
  std::optional<std::string> principal;

  /// The query value of `key`, or `fallback`.
  std::string param(const std::string& key, const std::string& fallback = {}) const;
  bool has_param(const std::string& key) const { return query.count(key) > 0; }
};

struct response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers (Location, ...)
  /// Set: the body is this stream, sent in chunks until it finishes or the client leaves (`body` is ignored;
  /// the connection closes afterwards). actors/http/event_stream.hpp.
  std::shared_ptr<event_stream> stream;

  static response json(std::string body, int status = 200);
  static response text(std::string body, int status = 200);
  /// `{"error": message}` with `status` (4xx/5xx): every refusal says why.
  static response error(int status, const std::string& message);
};

/// Splits "a=1&b=x%20y" into decoded pairs (`+` is a space, as in forms). Malformed escapes are kept literally.
std::map<std::string, std::string> parse_query(const std::string& text);
/// Decodes %XX escapes (and `+` as a space when `plus_is_space`).
std::string url_decode(const std::string& text, bool plus_is_space);

} // namespace mesoscaf::http
