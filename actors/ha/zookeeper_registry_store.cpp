// The ZooKeeper registry store (HA masters): <path>/registry/agents/<agent id> and <path>/registry/roles/<role>,
// each node holding one record (actors/ha/registry_records.hpp). A batch becomes zoo_multi transactions of at most
// `max_ops_per_multi` operations and well under ZooKeeper's 1 MB request limit; a batch that needs several is
// not atomic as a whole (a failure in a later chunk leaves earlier chunks written), which is why a failed write
// makes the registrar refuse everything and the master step down: the next leader loads what is there. Once the
// master is elected, every transaction also checks its election node (fence): a leader whose session ended, and
// which has not noticed yet, cannot change what its successor reads.
#include "actors/ha/registry_store.hpp"

#include "actors/ha/registry_records.hpp"
#include "actors/ha/zookeeper_session.hpp"
#include "config/support/logging.hpp"

#include <chrono>
#include <mutex>

namespace mesoscaf {

namespace {

constexpr const char* component = "zk-registry";
constexpr size_t max_ops_per_multi = 500;
// ZooKeeper refuses requests over jute.maxbuffer (1 MB by default); stay well below, headers included.
constexpr size_t max_bytes_per_multi = 900 * 1024;

// Node names: agent IDs and roles may hold '/' (roles do) or be "." / "..", which ZooKeeper paths cannot; every
// byte outside [A-Za-z0-9_-] is written as %XX.
std::string escape(const std::string& key) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  out.reserve(key.size());
  for (unsigned char c : key) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

bool unescape(const std::string& name, std::string& out) {
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9')
      return c - '0';
    if (c >= 'A' && c <= 'F')
      return c - 'A' + 10;
    return -1;
  };
  out.clear();
  for (size_t i = 0; i < name.size(); ++i) {
    if (name[i] != '%') {
      out.push_back(name[i]);
      continue;
    }
    if (i + 2 >= name.size())
      return false;
    auto hi = digit(name[i + 1]);
    auto lo = digit(name[i + 2]);
    if (hi < 0 || lo < 0)
      return false;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return !out.empty();
}

class zookeeper_store : public registry_store {
public:
  zookeeper_store(zookeeper_url url, std::shared_ptr<zookeeper_session> session)
    : url_(std::move(url)), session_(std::move(session)) {
    root_ = url_.path + "/registry";
    agents_dir_ = root_ + "/agents";
    roles_dir_ = root_ + "/roles";
  }

  ~zookeeper_store() override {
    session_->close();
  }

  std::string init() {
    for (const auto& p : {agents_dir_, roles_dir_})
      if (auto r = session_->ensure_path(p); !r.ok())
        return "cannot create " + p + " in ZooKeeper: " + r.error();
    return {};
  }

  std::string load(registry_data& out) override {
    registry_data reg;
    if (auto err = load_dir<registry_agent_record>(agents_dir_, reg); !err.empty())
      return err;
    if (auto err = load_dir<registry_role_record>(roles_dir_, reg); !err.empty())
      return err;
    mirror_ = reg;
    loaded_ = true;
    out = std::move(reg);
    return {};
  }

  std::string save(const std::vector<registry_operation>& ops) override {
    if (ops.empty())
      return {};
    if (!loaded_) {
      registry_data ignored;
      if (auto err = load(ignored); !err.empty())
        return err;
    }
    std::set<agent_id> agents;
    std::set<std::string> roles;
    touched_keys(ops, agents, roles);
    // Which nodes exist now decides create / set / remove.
    std::set<agent_id> had_agent;
    std::set<std::string> had_role;
    {
      registry_agent_record a;
      registry_role_record r;
      for (const auto& id : agents)
        if (registry_agent_record_of(mirror_, id, a))
          had_agent.insert(id);
      for (const auto& role : roles)
        if (registry_role_record_of(mirror_, role, r))
          had_role.insert(role);
    }
    // The mirror changes in place; any failure makes it stale and the next save reloads it.
    loaded_ = false;
    for (size_t i = 0; i < ops.size(); ++i)
      if (auto err = apply_registry_operation(mirror_, ops[i]); !err.empty())
        return describe() + ": operation " + std::to_string(i + 1) + " does not apply: " + err;
    std::vector<zookeeper_session::op> zops;
    auto add = [&](const std::string& path, bool had, bool has, std::string data) {
      zookeeper_session::op o;
      o.path = path;
      if (has) {
        o.kind = had ? zookeeper_session::op::set : zookeeper_session::op::create;
        o.data = std::move(data);
      } else if (had) {
        o.kind = zookeeper_session::op::remove;
      } else {
        return;
      }
      zops.push_back(std::move(o));
    };
    for (const auto& id : agents) {
      registry_agent_record rec;
      bool has = registry_agent_record_of(mirror_, id, rec);
      add(agents_dir_ + "/" + escape(id.value), had_agent.count(id) > 0, has, has ? encode_registry_record(rec) : "");
    }
    for (const auto& role : roles) {
      registry_role_record rec;
      bool has = registry_role_record_of(mirror_, role, rec);
      add(roles_dir_ + "/" + escape(role), had_role.count(role) > 0, has, has ? encode_registry_record(rec) : "");
    }
    // Chunks for zoo_multi; each also checks the fence (the leader's election node) in the same transaction.
    auto fence = fence_node();
    std::vector<std::vector<zookeeper_session::op>> chunks;
    size_t bytes = 0;
    for (auto& o : zops) {
      auto size = o.path.size() + o.data.size() + 64;
      if (chunks.empty() || chunks.back().size() >= max_ops_per_multi || bytes + size > max_bytes_per_multi) {
        chunks.emplace_back();
        bytes = 0;
        if (!fence.empty()) {
          zookeeper_session::op check;
          check.kind = zookeeper_session::op::check;
          check.path = fence;
          chunks.back().push_back(std::move(check));
        }
      }
      bytes += size;
      chunks.back().push_back(std::move(o));
    }
    for (size_t i = 0; i < chunks.size(); ++i) {
      auto r = session_->multi(chunks[i]);
      if (!r.ok()) {
        std::string err = describe() + ": writing the batch failed";
        if (chunks.size() > 1)
          err += " in part " + std::to_string(i + 1) + " of " + std::to_string(chunks.size())
                 + (i > 0 ? " (earlier parts are written)" : "");
        bool fence_exists = true;
        if (!fence.empty() && r.no_node() && session_->exists(fence, fence_exists).ok() && !fence_exists)
          return err + ": the election node " + fence + " is gone (this master's ZooKeeper session ended): it no "
                 + "longer leads";
        return err + ": " + r.error();
      }
    }
    loaded_ = true;
    return {};
  }

  std::string describe() const override {
    return "zookeeper:zk://" + url_.servers + url_.path;
  }

  void fence(const std::string& node) override {
    std::lock_guard<std::mutex> guard{fence_mtx_};
    fence_ = node;
    if (!node.empty())
      LOG_INFO(component, "registry writes are fenced by the election node " << node);
  }

private:
  std::string fence_node() const {
    std::lock_guard<std::mutex> guard{fence_mtx_};
    return fence_;
  }

  template <class Record>
  std::string load_dir(const std::string& dir, registry_data& reg) {
    std::vector<std::string> names;
    if (auto r = session_->children(dir, names); !r.ok())
      return describe() + ": cannot list " + dir + ": " + r.error();
    if (names.empty())
      return {};
    std::vector<std::string> paths;
    paths.reserve(names.size());
    for (const auto& n : names)
      paths.push_back(dir + "/" + n);
    std::vector<std::string> data;
    if (auto r = session_->get_many(paths, data); !r.ok())
      return describe() + ": cannot read the nodes under " + dir + ": " + r.error();
    if (data.size() != paths.size())
      return describe() + ": read " + std::to_string(data.size()) + " of " + std::to_string(paths.size())
             + " nodes under " + dir;
    for (size_t i = 0; i < names.size(); ++i) {
      std::string key;
      if (!unescape(names[i], key))
        return describe() + ": bad node name " + paths[i];
      Record rec;
      if (auto err = decode_registry_record(data[i], rec); !err.empty())
        return describe() + ": " + paths[i] + ": " + err;
      if (auto err = add_loaded_registry_record(reg, key, rec); !err.empty())
        return describe() + ": " + err;
    }
    return {};
  }

  zookeeper_url url_;
  std::shared_ptr<zookeeper_session> session_;
  std::string root_;
  std::string agents_dir_;
  std::string roles_dir_;
  registry_data mirror_;
  bool loaded_ = false;
  mutable std::mutex fence_mtx_;   // fence() comes from the contender's thread, save() runs on the store worker
  std::string fence_;
};

} // namespace

std::shared_ptr<registry_store> make_zookeeper_registry_store(const zookeeper_url& url, const zookeeper_options& zk,
                                                              std::string& error) {
  auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(zk.session_timeout);
  auto servers = url.servers;
  auto session = zookeeper_session::open(
    url.servers, timeout,
    [servers](zk_session_state s) { LOG_DEBUG(component, "session to " << servers << ": " << to_string(s)); },
    url.credentials);
  if (!session) {
    error = "cannot open a ZooKeeper session to " + url.servers;
    return nullptr;
  }
  if (!session->wait_connected(timeout)) {
    error = "cannot connect to ZooKeeper at " + url.servers + " within " + std::to_string(timeout.count()) + " ms";
    session->close();
    return nullptr;
  }
  auto store = std::make_shared<zookeeper_store>(url, std::move(session));
  if (auto err = store->init(); !err.empty()) {
    error = err;
    return nullptr;
  }
  return store;
}

} // namespace mesoscaf
