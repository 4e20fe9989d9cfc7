// The master's large views (/state, /state-summary, /frameworks, /slaves, /tasks) written straight to text with
// RapidJSON's writer: /state of a big cluster holds hundreds of thousands of tasks, and building a document tree
// first (nlohmann::json) cost ten times as much as writing it (bench/state.cpp).
#include "actors/http/state_json.hpp"
#include "config/support/utf8.hpp"

#include "actors/http/body_buffers.hpp"

#include "config/support/version.hpp"

#include <rapidjson/writer.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

namespace mesoscaf::http {

namespace {

/// RapidJSON's output stream over the answer's body, which it writes in place (a kept buffer:
/// actors/http/body_buffers.hpp).
struct body_stream {
  using Ch = char;
  std::string text;
  void Put(char c) { text.push_back(c); }
  void Flush() {}
};

/// RapidJSON's writer, which can also splice in a value already written as JSON: each task's JSON is kept with
/// the master's shared view of it (messages/state_view.hpp), so a task that did not change since the last
/// /state is copied as bytes instead of being written again.
class writer : public rapidjson::Writer<body_stream> {
public:
  explicit writer(body_stream& out) : rapidjson::Writer<body_stream>(out) {}

  /// Appends `json`, one complete value, as the next value (with the separator the writer owes).
  void spliced(const std::string& json) {
    Prefix(rapidjson::kObjectType);
    os_->text.append(json);
    EndValue(true);
  }
};

/// Strings are whatever bytes a framework sent: invalid UTF-8 becomes U+FFFD, so the answer stays valid JSON.
void str(writer& w, const std::string& s) {
  if (is_ascii(s)) {
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
    return;
  }
  auto clean = utf8_clean(s);
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

// Mesos' form: "labels": {"labels": [{"key": ..., "value": ...}]}.
void labels(writer& w, const mesoscaf::labels& list) {
  key(w, "labels");
  w.StartObject();
  key(w, "labels");
  w.StartArray();
  for (auto& l : list) {
    w.StartObject();
    put(w, "key", l.key);
    put(w, "value", l.value);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
}

void discovery(writer& w, const discovery_info& d) {
  key(w, "discovery");
  w.StartObject();
  put(w, "visibility", d.visibility);
  if (!d.name.empty())
    put(w, "name", d.name);
  if (!d.environment.empty())
    put(w, "environment", d.environment);
  if (!d.location.empty())
    put(w, "location", d.location);
  if (!d.version.empty())
    put(w, "version", d.version);
  key(w, "ports");
  w.StartObject();
  key(w, "ports");
  w.StartArray();
  for (auto& p : d.ports) {
    w.StartObject();
    put_num(w, "number", p.number);
    if (!p.name.empty())
      put(w, "name", p.name);
    if (!p.protocol.empty())
      put(w, "protocol", p.protocol);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  if (!d.labels.empty())
    labels(w, d.labels);
  w.EndObject();
}

void write_task(writer& w, const task_view& t) {
  auto& user = t.user;
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
  if (t.healthy)
    put_bool(w, "healthy", *t.healthy);
  w.EndObject();
  w.EndArray();
  if (!t.labels.empty())
    labels(w, t.labels);
  if (t.discovery)
    discovery(w, *t.discovery);
  if (t.has_health_check)
    put_bool(w, "has_health_check", true);
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

/// A value kept as JSON with its shared view (written the first time any reader needs it).
template <class T, class Write>
void shared(writer& w, const shared_ref<T>& x, Write write) {
  auto render = [&write](const T& v) {
    body_stream out;
    writer w2{out};
    write(w2, v);
    return std::move(out.text);
  };
  if (auto* record = x.record())
    w.spliced(record->rendered(render));
  else
    write(w, *x);
}

void agent(writer& w, const agent_ref& a) {
  shared(w, a, [](writer& w2, const agent_view& v) { agent(w2, v); });
}

void offer(writer& w, const offer_ref& o) {
  shared(w, o, [](writer& w2, const offer_view& v) {
    w2.StartObject();
    put(w2, "id", v.id.value);
    put(w2, "framework_id", v.framework.value);
    put(w2, "slave_id", v.agent.value);
    put(w2, "role", v.role);
    put_resources(w2, "resources", v.resources);
    w2.EndObject();
  });
}

void task(writer& w, const task_ref& t) {
  shared(w, t, write_task);
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
void framework(writer& w, const framework_view& f, const std::vector<const task_ref*>* tasks,
               const std::vector<const task_ref*>* completed, const std::vector<const offer_ref*>* offers,
               const std::function<void(writer&)>& extra = {},
               const std::unordered_set<std::string>* listed_completed = nullptr) {
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
  if (!f.info.labels.empty())
    labels(w, f.info.labels);
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
    put(w, "type", e.type == executor_type::default_executor ? "DEFAULT" : "CUSTOM");
    put(w, "framework_id", f.info.id.value);
    put_resources(w, "resources", e.resources);
    put(w, "role", e.role);
    w.EndObject();
  }
  w.EndArray();
  if (tasks != nullptr) {
    key(w, "offers");
    w.StartArray();
    if (offers != nullptr)
      for (auto* o : *offers)
        offer(w, *o);
    w.EndArray();
    key(w, "unreachable_tasks");
    w.StartArray();
    for (auto& t : f.unreachable_tasks)
      task(w, t);
    w.EndArray();
    key(w, "tasks");
    w.StartArray();
    for (auto* t : *tasks)
      task(w, *t);
    w.EndArray();
    key(w, "completed_tasks");
    w.StartArray();
    // Ended, not yet acknowledged by the framework: Mesos lists them among its completed tasks too.
    for (auto& t : f.unacknowledged)
      if (listed_completed == nullptr || listed_completed->empty()
          || listed_completed->count(f.info.id.value + '\n' + t->id.value) == 0)
        task(w, t);
    if (completed != nullptr)
      for (auto* t : *completed)
        task(w, *t);
    w.EndArray();
  }
  if (extra)
    extra(w);
  w.EndObject();
}

/// Tasks by framework, in the order of the pages (pointers into the state: no copies). The pages are not one
/// atomic snapshot: a task that ended while they were fetched can come twice, live (or not yet acknowledged)
/// and completed; it is listed once, as it ended.
struct tasks_by_framework {
  using list = std::vector<const task_ref*>;
  std::unordered_map<std::string, list> live, completed;
  std::unordered_map<std::string, std::vector<const offer_ref*>> offers;
  /// Unacknowledged tasks that the completed pages list too (acknowledged during the fetch).
  std::unordered_set<std::string> acknowledged_meanwhile;

  explicit tasks_by_framework(const master_state& s) {
    // Tasks that ended during the fetch (few): the live pages may have listed them before they ended.
    std::unordered_set<std::string> ended_meanwhile;
    s.each_completed([&](const task_ref& t) {
      completed[t->framework.value].push_back(&t);
      if (t->updated >= s.fetch_started)
        ended_meanwhile.insert(key(*t));
    });
    s.each_task([&](const task_ref& t) {
      if (ended_meanwhile.empty() || ended_meanwhile.count(key(*t)) == 0)
        live[t->framework.value].push_back(&t);
    });
    for (auto& f : s.first.frameworks)
      if (!f.unacknowledged.empty()) {
        std::unordered_set<std::string> unacked;
        for (auto& t : f.unacknowledged)
          unacked.insert(t->id.value);
        if (auto c = completed.find(f.info.id.value); c != completed.end())
          for (auto* t : c->second)
            if (unacked.count((*t)->id.value) > 0)
              acknowledged_meanwhile.insert(key(**t));
      }
    s.each_offer([this](const offer_ref& o) { offers[o->framework.value].push_back(&o); });
  }
  static std::string key(const task_view& t) { return t.framework.value + '\n' + t.id.value; }
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
              offers == by.offers.end() ? nullptr : &offers->second, {}, &by.acknowledged_meanwhile);
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
        task(w, *t);
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
}

void slaves_array(writer& w, const master_state& s) {
  w.StartArray();
  s.each_agent([&w](const agent_ref& a) { agent(w, a); });
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

/// A body for an answer of about `expected` bytes.
body_stream body(std::size_t expected) {
  return body_stream{take_body_buffer(expected)};
}

} // namespace

std::string master_state_json(const master_state& s, const daemon_identity& me) {
  auto& h = s.first.header;
  tasks_by_framework by{s};
  auto sb = body(256 + 400 * s.task_count() + 900 * s.agent_count());
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
  s.each_agent([&active](const agent_ref& a) { active += a->connected ? 1 : 0; });
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
  return std::move(sb.text);
}

std::string master_state_summary_json(const master_state& s, const daemon_identity& me) {
  static const task_state states[] = {task_state::staging,  task_state::starting, task_state::running,
                                      task_state::killing,  task_state::finished, task_state::killed,
                                      task_state::failed,   task_state::lost,     task_state::error,
                                      task_state::unreachable};
  std::map<std::string, std::map<task_state, int>> agent_counts, fw_counts;
  std::map<std::string, std::set<std::string>> agent_fws, fw_agents;
  auto count = [&](const task_ref& r) {
    auto& t = *r;
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
  auto sb = body(4096);
  writer w{sb};
  w.StartObject();
  put(w, "hostname", me.hostname);
  put(w, "cluster", "");
  key(w, "slaves");
  w.StartArray();
  s.each_agent([&](const agent_ref& r) {
    auto& a = *r;
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
  return std::move(sb.text);
}

std::string master_frameworks_json(const master_state& s) {
  tasks_by_framework by{s};
  auto sb = body(256 + 400 * s.task_count());
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
  return std::move(sb.text);
}

std::string master_slaves_json(const master_state& s) {
  auto sb = body(256 + 1200 * s.agent_count());
  writer w{sb};
  w.StartObject();
  key(w, "slaves");
  slaves_array(w, s);
  recovered_slaves(w, s);
  w.EndObject();
  return std::move(sb.text);
}

std::string master_tasks_json(const master_state& s, std::size_t limit, std::size_t offset, bool ascending) {
  std::vector<const task_ref*> all;
  all.reserve(s.task_count());
  s.each_task([&all](const task_ref& t) { all.push_back(&t); });
  for (auto& f : s.first.frameworks)
    for (auto& t : f.unacknowledged)
      all.push_back(&t);
  s.each_completed([&all](const task_ref& t) { all.push_back(&t); });
  std::stable_sort(all.begin(), all.end(), [ascending](const task_ref* a, const task_ref* b) {
    return ascending ? (*a)->launched < (*b)->launched : (*a)->launched > (*b)->launched;
  });
  auto sb = body(256 + 400 * std::min(limit, all.size()));
  writer w{sb};
  w.StartObject();
  key(w, "tasks");
  w.StartArray();
  for (std::size_t i = offset; i < all.size() && i - offset < limit; ++i)
    task(w, *all[i]);
  w.EndArray();
  w.EndObject();
  return std::move(sb.text);
}

} // namespace mesoscaf::http
