#pragma once
// The daemons' state views (messages/state_view.hpp) as the JSON of Mesos' endpoints (docs/HTTP.md), without
// actor code; callers get text. The master's large views are written with RapidJSON's writer
// (master_state_json.cpp), the small ones and every body parsed with nlohmann::json (state_json.cpp).
#include "messages/state_view.hpp"

#include <limits>
#include <map>
#include <string>
#include <vector>

namespace mesoscaf::http {

/// What the HTTP layer knows of its own daemon (not in the actor's state).
struct daemon_identity {
  std::string id;                 // master: run ID
  std::string hostname;
  std::string address;            // advertised IP
  uint16_t port = 0;              // the CAF port
  uint16_t http_port = 0;
  double start_time = 0;
  std::map<std::string, std::string> flags;
};

/// A whole master state: its pages as they came (kept, not merged: a large state is not copied again).
struct master_state {
  master_state_view first;                // the header page (frameworks, roles, header)
  std::vector<master_state_view> pages;   // the others, in order
  /// When the fetch began (seconds since the epoch, the master's clock): tasks that ended after it may also be
  /// listed live by an earlier page. Unknown: none did.
  double fetch_started = std::numeric_limits<double>::infinity();

  template <class F>
  void each_agent(F f) const {
    for (auto& p : pages)
      for (auto& a : p.agents)
        f(a);
  }
  template <class F>
  void each_task(F f) const {
    for (auto& p : pages)
      for (auto& t : p.tasks)
        f(t);
  }
  template <class F>
  void each_offer(F f) const {
    for (auto& p : pages)
      for (auto& o : p.offers)
        f(o);
  }
  template <class F>
  void each_completed(F f) const {
    for (auto& p : pages)
      for (auto& t : p.completed)
        f(t);
  }
  std::size_t agent_count() const {
    std::size_t n = 0;
    for (auto& p : pages)
      n += p.agents.size();
    return n;
  }
  std::size_t task_count() const {
    std::size_t n = 0;
    for (auto& p : pages)
      n += p.tasks.size() + p.completed.size();
    return n;
  }
};

/// Ranges as Mesos prints them: "[31000-31009, 32000-32000]".
std::string ranges_text(const std::vector<value_range>& ranges);

std::string version_json();
std::string flags_json(const daemon_identity& me);
std::string master_state_json(const master_state& s, const daemon_identity& me);
std::string master_state_summary_json(const master_state& s, const daemon_identity& me);
std::string master_frameworks_json(const master_state& s);
std::string master_slaves_json(const master_state& s);
/// `order` "asc" or "des" (by launch time); `limit`/`offset` over live then completed tasks.
std::string master_tasks_json(const master_state& s, std::size_t limit, std::size_t offset, bool ascending);
std::string roles_json(const std::vector<role_summary>& roles);
std::string weights_json(const std::vector<role_summary>& roles);
std::string quota_json(const std::vector<role_summary>& roles);
std::string metrics_json(const std::vector<metric_sample>& samples);
std::string agent_state_json(const agent_state_view& s, const daemon_identity& me);
std::string monitor_statistics_json(const std::vector<container_usage>& usage, const agent_state_view& s);

/// Parses a PUT /weights body (`[{"role": "eng", "weight": 2.0}]`); "" or why it is refused.
std::string parse_weights(const std::string& body, std::vector<std::pair<std::string, double>>& out);
/// Parses a POST /quota body; "" or why it is refused.
std::string parse_quota(const std::string& body, std::string& role, quota_info& out);

} // namespace mesoscaf::http
