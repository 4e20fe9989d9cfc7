#include "apps/mesoscaf/master_endpoint.hpp"

#include "actors/ha/leader_election.hpp"
#include "config/cli_config.hpp"
#include "config/support/network_address.hpp"

#include <condition_variable>
#include <mutex>

namespace mesoscaf {

std::string parse_redirect_location(const std::string& location, http_address& out) {
  std::string rest;
  if (location.rfind("//", 0) == 0)
    rest = location.substr(2);
  else if (location.rfind("http://", 0) == 0)
    rest = location.substr(7);
  else
    return "expected //HOST:PORT or http://HOST:PORT, got \"" + location + "\"";
  rest = rest.substr(0, rest.find('/'));
  http_address parsed;
  std::string err;
  if (!parse_host_port(rest, parsed.host, parsed.port, &err) || parsed.port == 0)
    return "bad address in \"" + location + "\"" + (err.empty() ? "" : ": " + err);
  out = parsed;
  return {};
}

std::string describe_http_error(const http_response& response) {
  auto text = std::to_string(response.status) + (response.reason.empty() ? "" : " " + response.reason);
  // Our daemons answer errors as {"error": "why"}; other servers with text.
  auto parsed = nlohmann::json::parse(response.body, nullptr, false);
  if (parsed.is_object() && parsed.contains("error") && parsed["error"].is_string())
    return text + ": " + parsed["error"].get<std::string>();
  auto body = response.body.substr(0, response.body.find('\n'));
  if (body.size() > 500)
    body = body.substr(0, 500) + "...";
  return body.empty() ? text : text + ": " + body;
}

http_response http_endpoint::call(const std::string& method, const std::string& target, const std::string& body,
                                  const std::string& content_type) const {
  http_request req;
  req.method = method;
  req.host = address_.host;
  req.port = address_.port;
  req.target = target;
  req.body = body;
  req.content_type = content_type;
  http_response response;
  if (auto err = send_http(req, response, limits_); !err.empty())
    throw cli_failure{what_ + " unreachable: " + err};
  if (response.status < 200 || response.status >= 300)
    throw cli_failure{what_ + " at " + address_.text() + " answered " + method + " " + target.substr(0, 200) + " with "
                      + describe_http_error(response)};
  return response;
}

nlohmann::json http_endpoint::get_json(const std::string& target) const {
  auto response = call("GET", target);
  auto parsed = nlohmann::json::parse(response.body, nullptr, false);
  if (parsed.is_discarded())
    throw cli_failure{what_ + " at " + address_.text() + " answered GET " + target + " with a body that is not JSON"};
  return parsed;
}

namespace {

/// Waits (at most `limit`) for the ZooKeeper election to name a leader; its HTTP address.
http_address leader_from_zookeeper(const cli_config& cfg) {
  zookeeper_options zk;
  zk.session_timeout = std::max<caf::timespan>(cfg.timeout, std::chrono::seconds(2));
  auto detector = make_zookeeper_detector(cfg.parsed_master_zk, zk);
  std::mutex mtx;
  std::condition_variable cv;
  master_location leader;
  detector->watch([&](const master_location& loc) {
    std::lock_guard<std::mutex> guard{mtx};
    leader = loc;
    cv.notify_all();
  });
  master_location found;
  {
    std::unique_lock<std::mutex> guard{mtx};
    cv.wait_for(guard, cfg.timeout, [&] { return !leader.empty(); });
    found = leader;
  }
  detector->close();
  if (found.empty())
    throw cli_failure{"no leading master in " + redact_zookeeper_url(cfg.master) + " within "
                      + std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(cfg.timeout).count())
                      + " ms"};
  if (found.http_port == 0)
    throw cli_failure{"the leading master " + found.endpoint() + " serves no HTTP (started without --http-port?)"};
  return {found.host, found.http_port};
}

} // namespace

http_endpoint connect_to_leader(const cli_config& cfg) {
  http_limits limits;
  limits.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(cfg.timeout);
  auto named = cfg.master_is_zk ? leader_from_zookeeper(cfg) : http_address{cfg.master_host, cfg.master_port};
  // Ask whoever was named who leads (the leader names itself): a standby's own state would be empty.
  http_request req;
  req.host = named.host;
  req.port = named.port;
  req.target = "/master/redirect";
  http_response response;
  if (auto err = send_http(req, response, limits); !err.empty())
    throw cli_failure{"master unreachable: " + err};
  if (response.status == 307) {
    http_address leader;
    if (auto err = parse_redirect_location(response.header("Location"), leader); !err.empty())
      throw cli_failure{"master at " + named.text() + " redirects to no usable leader: " + err};
    return http_endpoint{leader, "master", limits};
  }
  if (response.status == 503)
    throw cli_failure{"master at " + named.text() + " knows no leader yet (" + describe_http_error(response) + ")"};
  if (response.status == 404)   // a server without the redirect endpoint: take it as the master
    return http_endpoint{named, "master", limits};
  throw cli_failure{"master at " + named.text() + " answered GET /master/redirect with "
                    + describe_http_error(response)};
}

} // namespace mesoscaf
