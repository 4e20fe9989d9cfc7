// The master's large views (/state, /state-summary, /frameworks, /slaves, /tasks) written straight to text with
// RapidJSON's writer: /state of a big cluster holds hundreds of thousands of tasks, and building a document tree
// first (nlohmann::json) cost ten times as much as writing it (bench/state.cpp).
#include "actors/http/state_json.hpp"

#include "config/support/version.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <unordered_map>

namespace mesoscaf::http {

namespace {

using writer = rapidjson::Writer<rapidjson::StringBuffer>;

/// Length of the valid UTF-8 sequence at `s[i]`, or 0.
std::size_t utf8_sequence(const std::string& s, std::size_t i) {
  auto c = static_cast<unsigned char>(s[i]);
  std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
  if (n == 0 || i + n > s.size())
    return 0;
  for (std::size_t k = 1; k < n; ++k)
    if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2)
      return 0;
  return n;
}

/// Strings are whatever bytes a framework sent: invalid UTF-8 becomes U+FFFD, so the answer stays valid JSON.
void str(writer& w, const std::string& s) {
  bool ascii = std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  if (ascii) {
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
    return;
  }
  std::string clean;
  clean.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    if (auto n = utf8_sequence(s, i)) {
      clean.append(s, i, n);
      i += n;
    } else {
      clean += "\xef\xbf\xbd";
      ++i;
    }
  }
  w.String(clean.data(), static_cast<rapidjson::SizeType>(clean.size()));
}

void key(writer& w, const char* k) {
  w.Key(k);
}

void put(writer& w, const char* k, const std::string& v) {
  w.Key(k);
  str(w, v);
}

void put(writer& w, const char* k, const char* v) {
  w.Key(k);
  w.String(v);
}

/// Whole numbers as integers (shorter, and cheaper to print than a double).
void num(writer& w, double v) {
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 9e15)
    w.Int64(static_cast<int64_t>(v));
  else if (std::isfinite(v))
    w.Double(v);
  else
    w.Null();
}

void put_num(writer& w, const char* k, double v) {
  w.Key(k);
  num(w, v);
}

void put_bool(writer& w, const char* k, bool v) {
  w.Key(k);
  w.Bool(v);
}

/// Mesos' JSON of a resource bag: scalars summed over roles (rounded to thousandths), ranges and sets as text.
/// On the path of every task of /state: the four usual scalars need no allocation.
void resources(writer& w, const resource_set& r) {
  static const char* const usual[] = {"cpus", "disk", "gpus", "mem"};
  milli sums[4] = {0, 0, 0, 0};
  std::map<std::string, milli> other_scalars;
  std::map<std::string, resource_set> others;
  for (auto& x : r.items()) {
    if (x.type == value_type::scalar) {
      auto i = std::find_if(std::begin(usual), std::end(usual), [&](const char* n) { return x.name == n; });
      if (i != std::end(usual))
        sums[i - std::begin(usual)] += x.scalar;
      else
        other_scalars[x.name] += x.scalar;
    } else {
      resource y = x;
      y.role = "*";
      y.dynamic = false;
      y.volume_id.clear();
      y.volume_path.clear();
      others[x.name].add(y);
    }
  }
  w.StartObject();
  for (int i = 0; i < 4; ++i) {
    w.Key(usual[i]);
    num(w, from_milli(sums[i]));
  }
  for (auto& [name, m] : other_scalars) {
    w.Key(name.c_str(), static_cast<rapidjson::SizeType>(name.size()));
    num(w, from_milli(m));
  }
  for (auto& [name, set] : others)
    for (auto& x : set.items()) {
      w.Key(name.c_str(), static_cast<rapidjson::SizeType>(name.size()));
      if (x.type == value_type::ranges) {
        str(w, ranges_text(x.ranges));
      } else {
        std::string text = "{";
        for (auto& item : x.items)
          text += (text.size() > 1 ? "," : "") + item;
        str(w, text + "}");
      }
    }
  w.EndObject();
}

void put_resources(writer& w, const char* k, const resource_set& r) {
  w.Key(k);
  resources(w, r);
}

void task(writer& w, const task_view& t, const std::string& user) {
  w.StartObject();
  put(w, "id", t.id.value);
  put(w, "name", t.name);
  put(w, "framework_id", t.framework.value);
  put(w, "executor_id", t.executor.value);
  put(w, "slave_id", t.agent.value);
  put(w, "state", to_string(t.state));
  put_resources(w, "resources", t.resources);
  put(w, "role", t.role.empty() ? std::string{"*"} : t.role);
  put(w, "user", user);
  key(w, "statuses");
  w.StartArray();
  w.StartObject();
  put(w, "state", to_string(t.state));
  put_num(w, "timestamp", t.updated);
  w.EndObject();
  w.EndArray();
  if (t.reason != task_reason::none)
    put(w, "reason", to_string(t.reason));
  if (!t.message.empty())
    put(w, "message", t.message);
  put_num(w, "launched_time", t.launched);
  w.EndObject();
}

std::string pid_of(const char* kind, const std::string& address, uint16_t port) {
  return std::string{kind} + "@" + address + ":" + std::to_string(port);
}

void agent(writer& w, const agent_view& a, const std::function<void(writer&)>& extra = {}) {
  w.StartObject();
  put(w, "id", a.info.id.value);
  put(w, "pid", pid_of("slave(1)", a.info.address, a.info.port));
  put(w, "hostname", a.info.hostname);
  put(w, "address", a.info.address);
  // Mesos' "port" is the agent's one port (HTTP and libprocess); ours are two: "port" is the HTTP one, so
  // `http://hostname:port/` works as with Mesos, and "agent_port" is the actor port.
  put_num(w, "port", a.info.http_port);
  put_num(w, "http_port", a.info.http_port);
  put_num(w, "agent_port", a.info.port);
  put_resources(w, "resources", a.info.total);
  put_resources(w, "used_resources", a.used);
  put_resources(w, "offered_resources", a.offered);
  put_resources(w, "unreserved_resources", a.info.total.unreserved());
  key(w, "reserved_resources");
  w.StartObject();
  std::map<std::string, resource_set> by_role;
  for (auto& x : a.info.total.items())
    if (x.role != "*")
      by_role[x.role].add(x);
  for (auto& [role, set] : by_role) {
    w.Key(role.c_str(), static_cast<rapidjson::SizeType>(role.size()));
    resources(w, set);
  }
  w.EndObject();
  key(w, "attributes");
  w.StartObject();
  for (auto& [k, v] : a.info.attributes) {
    str(w, k);
    str(w, v);
  }
  w.EndObject();
  put_bool(w, "active", a.connected);
  put_num(w, "registered_time", a.registered);
  put(w, "version", product_version());
  if (extra)
    extra(w);
  w.EndObject();
}

std::vector<std::string> roles_of(const framework_info& f) {
  return f.roles.empty() ? std::vector<std::string>{"*"} : f.roles;
}

void strings(writer& w, const char* k, const std::vector<std::string>& xs) {
  key(w, k);
  w.StartArray();
  for (auto& x : xs)
    str(w, x);
  w.EndArray();
}

/// A framework; `tasks` null: no task lists (state-summary), `extra` adds fields.
void framework(writer& w, const framework_view& f, const std::vector<const task_view*>* tasks,
               const std::vector<const task_view*>* completed, const std::vector<const offer_view*>* offers,
               const std::function<void(writer&)>& extra = {}) {
  w.StartObject();
  put(w, "id", f.info.id.value);
  put(w, "name", f.info.name);
  put(w, "user", f.info.user);
  put(w, "principal", f.info.principal);
  put(w, "hostname", "");
  put(w, "webui_url", "");
  auto roles = roles_of(f.info);
  strings(w, "roles", roles);
  put(w, "role", roles.size() == 1 ? roles[0] : std::string{"*"});
  put_bool(w, "active", f.active);
  put_bool(w, "connected", f.active);
  put_bool(w, "recovered", false);
  put_bool(w, "checkpoint", f.info.checkpoint);
  put_num(w, "failover_timeout", f.info.failover_timeout);
  strings(w, "capabilities", f.info.capabilities);
  put_num(w, "registered_time", f.registered);
  put_resources(w, "used_resources", f.used);
  put_resources(w, "offered_resources", f.offered);
  put_resources(w, "resources", f.used + f.offered);
  key(w, "executors");
  w.StartArray();
  for (auto& e : f.executors) {
    w.StartObject();
    put(w, "executor_id", e.id.value);
    put(w, "name", e.name);
    put(w, "framework_id", f.info.id.value);
    put_resources(w, "resources", e.resources);
    put(w, "role", e.role);
    w.EndObject();
  }
  w.EndArray();
  if (tasks != nullptr) {
    key(w, "offers");
    w.StartArray();
    for (auto* op : offers != nullptr ? *offers : std::vector<const offer_view*>{}) {
      auto& o = *op;
      w.StartObject();
      put(w, "id", o.id.value);
      put(w, "framework_id", f.info.id.value);
      put(w, "slave_id", o.agent.value);
      put(w, "role", o.role);
      put_resources(w, "resources", o.resources);
      w.EndObject();
    }
    w.EndArray();
    key(w, "unreachable_tasks");
    w.StartArray();
    for (auto& t : f.unreachable_tasks)
      task(w, t, f.info.user);
    w.EndArray();
    key(w, "tasks");
    w.StartArray();
    for (auto* t : *tasks)
      task(w, *t, f.info.user);
    w.EndArray();
    key(w, "completed_tasks");
    w.StartArray();
    // Ended, not yet acknowledged by the framework: Mesos lists them among its completed tasks too.
    for (auto& t : f.unacknowledged)
      task(w, t, f.info.user);
    if (completed != nullptr)
      for (auto* t : *completed)
        task(w, *t, f.info.user);
    w.EndArray();
  }
  if (extra)
    extra(w);
  w.EndObject();
}

/// Tasks by framework, in the order of the pages (pointers into the state: no copies).
struct tasks_by_framework {
  using list = std::vector<const task_view*>;
  std::unordered_map<std::string, list> live, completed;
  std::unordered_map<std::string, std::vector<const offer_view*>> offers;
  explicit tasks_by_framework(const master_state& s) {
    s.each_task([this](const task_view& t) { live[t.framework.value].push_back(&t); });
    s.each_completed([this](const task_view& t) { completed[t.framework.value].push_back(&t); });
    s.each_offer([this](const offer_view& o) { offers[o.framework.value].push_back(&o); });
  }
  static const list* find(const std::unordered_map<std::string, list>& m, const framework_id& id) {
    auto i = m.find(id.value);
    return i == m.end() ? nullptr : &i->second;
  }
};

void frameworks_array(writer& w, const master_state& s, const tasks_by_framework& by) {
  static const tasks_by_framework::list none;
  w.StartArray();
  for (auto& f : s.first.frameworks) {
    auto live = tasks_by_framework::find(by.live, f.info.id);
    auto offers = by.offers.find(f.info.id.value);
    framework(w, f, live ? live : &none, tasks_by_framework::find(by.completed, f.info.id),
              offers == by.offers.end() ? nullptr : &offers->second);
  }
  w.EndArray();
}

void completed_frameworks_array(writer& w, const master_state& s, const tasks_by_framework& by) {
  w.StartArray();
  for (auto& id : s.first.header.completed_frameworks) {
    w.StartObject();
    put(w, "id", id.value);
    put_bool(w, "active", false);
    put_bool(w, "connected", false);
    key(w, "tasks");
    w.StartArray();
    w.EndArray();
    key(w, "completed_tasks");
    w.StartArray();
    if (auto list = tasks_by_framework::find(by.completed, id))
      for (auto* t : *list)
        task(w, *t, "");
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
}

void slaves_array(writer& w, const master_state& s) {
  w.StartArray();
  s.each_agent([&w](const agent_view& a) { agent(w, a); });
  w.EndArray();
}

void recovered_slaves(writer& w, const master_state& s) {
  key(w, "recovered_slaves");
  w.StartArray();
  for (auto& id : s.first.header.recovering) {
    w.StartObject();
    put(w, "id", id.value);
    w.EndObject();
  }
  w.EndArray();
}

void flags(writer& w, const daemon_identity& me) {
  key(w, "flags");
  w.StartObject();
  for (auto& [k, v] : me.flags) {
    str(w, k);
    str(w, v);
  }
  w.EndObject();
}

std::string text(rapidjson::StringBuffer& sb) {
  return std::string{sb.GetString(), sb.GetSize()};
}

} // namespace

std::string master_state_json(const master_state& s, const daemon_identity& me) {
  auto& h = s.first.header;
  tasks_by_framework by{s};
  rapidjson::StringBuffer sb;
  sb.Reserve(256 + 400 * s.task_count() + 900 * s.agent_count());
  writer w{sb};
  w.StartObject();
  put(w, "version", product_version());
  put(w, "id", me.id);
  put(w, "pid", pid_of("master", me.address, me.port));
  put(w, "hostname", me.hostname);
  put_num(w, "port", me.port);
  put_num(w, "http_port", me.http_port);
  put_num(w, "start_time", me.start_time > 0 ? me.start_time : h.start_time);
  put_num(w, "elected_time", h.elected_time);
  put_bool(w, "elected", h.elected);
  put_bool(w, "leading", h.leading);
  std::size_t active = 0;
  s.each_agent([&active](const agent_view& a) { active += a.connected ? 1 : 0; });
  put_num(w, "activated_slaves", static_cast<double>(active));
  put_num(w, "deactivated_slaves", static_cast<double>(s.agent_count() - active));
  put_num(w, "unreachable_slaves", static_cast<double>(h.unreachable.size()));
  // The leader: this master while it leads, else the one its detector names.
  std::string leader_id, leader_host;
  uint16_t leader_port = 0, leader_http = 0;
  if (h.leading) {
    leader_id = me.id;
    leader_host = me.address;
    leader_port = me.port;
    leader_http = me.http_port;
  } else if (!h.leader.empty()) {
    leader_id = h.leader.id;
    leader_host = h.leader.host;
    leader_port = h.leader.port;
    leader_http = h.leader.http_port;
  }
  put(w, "leader", leader_id.empty() ? std::string{} : pid_of("master", leader_host, leader_port));
  key(w, "leader_info");
  w.StartObject();
  if (!leader_id.empty()) {
    put(w, "id", leader_id);
    put(w, "hostname", h.leading ? me.hostname : leader_host);
    put(w, "ip", leader_host);
    put_num(w, "port", leader_port);
    put_num(w, "http_port", leader_http);
  }
  w.EndObject();
  flags(w, me);
  key(w, "slaves");
  slaves_array(w, s);
  recovered_slaves(w, s);
  key(w, "frameworks");
  frameworks_array(w, s, by);
  key(w, "completed_frameworks");
  completed_frameworks_array(w, s, by);
  key(w, "unregistered_frameworks");
  w.StartArray();
  w.EndArray();
  key(w, "orphan_tasks");
  w.StartArray();
  w.EndArray();
  w.EndObject();
  return text(sb);
}

std::string master_state_summary_json(const master_state& s, const daemon_identity& me) {
  static const task_state states[] = {task_state::staging,  task_state::starting, task_state::running,
                                      task_state::killing,  task_state::finished, task_state::killed,
                                      task_state::failed,   task_state::lost,     task_state::error,
                                      task_state::unreachable};
  std::map<std::string, std::map<task_state, int>> agent_counts, fw_counts;
  std::map<std::string, std::set<std::string>> agent_fws, fw_agents;
  auto count = [&](const task_view& t) {
    agent_counts[t.agent.value][t.state]++;
    fw_counts[t.framework.value][t.state]++;
    agent_fws[t.agent.value].insert(t.framework.value);
    fw_agents[t.framework.value].insert(t.agent.value);
  };
  s.each_task(count);
  s.each_completed(count);
  auto counts = [&](writer& w, std::map<task_state, int>& c) {
    for (auto st : states)
      put_num(w, to_string(st), c[st]);
  };
  rapidjson::StringBuffer sb;
  writer w{sb};
  w.StartObject();
  put(w, "hostname", me.hostname);
  put(w, "cluster", "");
  key(w, "slaves");
  w.StartArray();
  s.each_agent([&](const agent_view& a) {
    agent(w, a, [&](writer& w2) {
      counts(w2, agent_counts[a.info.id.value]);
      auto& ids = agent_fws[a.info.id.value];
      strings(w2, "framework_ids", std::vector<std::string>(ids.begin(), ids.end()));
    });
  });
  w.EndArray();
  key(w, "frameworks");
  w.StartArray();
  for (auto& f : s.first.frameworks)
    framework(w, f, nullptr, nullptr, nullptr, [&](writer& w2) {
      counts(w2, fw_counts[f.info.id.value]);
      auto& ids = fw_agents[f.info.id.value];
      strings(w2, "slave_ids", std::vector<std::string>(ids.begin(), ids.end()));
    });
  w.EndArray();
  w.EndObject();
  return text(sb);
}

std::string master_frameworks_json(const master_state& s) {
  tasks_by_framework by{s};
  rapidjson::StringBuffer sb;
  writer w{sb};
  w.StartObject();
  key(w, "frameworks");
  frameworks_array(w, s, by);
  key(w, "completed_frameworks");
  completed_frameworks_array(w, s, by);
  key(w, "unregistered_frameworks");
  w.StartArray();
  w.EndArray();
  w.EndObject();
  return text(sb);
}

std::string master_slaves_json(const master_state& s) {
  rapidjson::StringBuffer sb;
  writer w{sb};
  w.StartObject();
  key(w, "slaves");
  slaves_array(w, s);
  recovered_slaves(w, s);
  w.EndObject();
  return text(sb);
}

std::string master_tasks_json(const master_state& s, std::size_t limit, std::size_t offset, bool ascending) {
  std::unordered_map<std::string, const std::string*> users;
  for (auto& f : s.first.frameworks)
    users[f.info.id.value] = &f.info.user;
  std::vector<const task_view*> all;
  all.reserve(s.task_count());
  s.each_task([&all](const task_view& t) { all.push_back(&t); });
  for (auto& f : s.first.frameworks)
    for (auto& t : f.unacknowledged)
      all.push_back(&t);
  s.each_completed([&all](const task_view& t) { all.push_back(&t); });
  std::stable_sort(all.begin(), all.end(), [ascending](const task_view* a, const task_view* b) {
    return ascending ? a->launched < b->launched : a->launched > b->launched;
  });
  static const std::string nobody;
  rapidjson::StringBuffer sb;
  writer w{sb};
  w.StartObject();
  key(w, "tasks");
  w.StartArray();
  for (std::size_t i = offset; i < all.size() && i - offset < limit; ++i) {
    auto u = users.find(all[i]->framework.value);
    task(w, *all[i], u == users.end() ? nobody : *u->second);
  }
  w.EndArray();
  w.EndObject();
  return text(sb);
}

} // namespace mesoscaf::http
