// Registry records (actors/ha/registry_records.hpp) and two stores: in-memory and SQLite. The ZooKeeper store is in
// actors/ha/zookeeper_registry_store.cpp.
#include "actors/ha/registry_store.hpp"

#include "actors/ha/registry_records.hpp"
#include "config/support/files.hpp"
#include "config/support/logging.hpp"

#include <boost/uuid/random_generator.hpp>
#include <boost/uuid/uuid_io.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include <sqlite3.h>

#include <cmath>
#include <mutex>

namespace mesoscaf {

registry_store::~registry_store() = default;

void registry_store::fence(const std::string&) {
  // Nothing to fence with: a single master writes (in-memory, SQLite).
}

// -- records ----------------------------------------------------------------------------------------------------

namespace {

template <class T>
std::string encode_any(const T& x) {
  std::vector<char> buf;
  caf::binary_serializer sink{nullptr, buf};
  // Serializing plain records into memory cannot fail; inspect wants a mutable reference.
  auto err = sink(const_cast<T&>(x));
  static_cast<void>(err);
  std::string out;
  out.reserve(1 + buf.size());
  out.push_back(registry_record_version);
  out.append(buf.data(), buf.size());
  return out;
}

template <class T>
std::string decode_any(const std::string& bytes, T& out) {
  if (bytes.empty())
    return "empty record";
  if (bytes[0] != registry_record_version)
    return "unknown record version " + std::to_string(static_cast<int>(static_cast<unsigned char>(bytes[0])));
  T tmp;
  caf::binary_deserializer source{nullptr, bytes.data() + 1, bytes.size() - 1};
  if (auto err = source(tmp))
    return "undecodable record";
  if (source.remaining() != 0)
    return "record has " + std::to_string(source.remaining()) + " trailing bytes";
  out = std::move(tmp);
  return {};
}

} // namespace

std::string encode_registry_record(const registry_agent_record& x) {
  return encode_any(x);
}

std::string encode_registry_record(const registry_role_record& x) {
  return encode_any(x);
}

std::string decode_registry_record(const std::string& bytes, registry_agent_record& out) {
  return decode_any(bytes, out);
}

std::string decode_registry_record(const std::string& bytes, registry_role_record& out) {
  return decode_any(bytes, out);
}

bool registry_agent_record_of(const registry_data& reg, const agent_id& id, registry_agent_record& out) {
  if (auto i = reg.admitted.find(id); i != reg.admitted.end()) {
    out = registry_agent_record{registry_agent_state::admitted, 0, i->second};
    return true;
  }
  if (auto i = reg.unreachable.find(id); i != reg.unreachable.end()) {
    out = registry_agent_record{registry_agent_state::unreachable, i->second.time, i->second.info};
    return true;
  }
  if (auto i = reg.gone.find(id); i != reg.gone.end()) {
    out = registry_agent_record{};
    out.state = registry_agent_state::gone;
    out.time = i->second;
    out.info.id = id;
    return true;
  }
  return false;
}

bool registry_role_record_of(const registry_data& reg, const std::string& role, registry_role_record& out) {
  auto w = reg.weights.find(role);
  auto q = reg.quota.find(role);
  if (w == reg.weights.end() && q == reg.quota.end())
    return false;
  out = registry_role_record{};
  if (w != reg.weights.end())
    out.weight = w->second;
  if (q != reg.quota.end())
    out.quota = q->second;
  return true;
}

std::string add_loaded_registry_record(registry_data& reg, const std::string& key, const registry_agent_record& rec) {
  const auto& id = rec.info.id;
  if (id.value != key)
    return "the record filed under agent '" + key + "' is of agent '" + id.value + "'";
  if (id.empty())
    return "a record without agent ID";
  if (reg.admitted.count(id) > 0 || reg.unreachable.count(id) > 0 || reg.gone.count(id) > 0)
    return "two records of agent " + id.value;
  if (!std::isfinite(rec.time) || rec.time < 0)
    return "agent " + id.value + ": invalid time";
  if (auto err = rec.info.total.validate(); !err.empty())
    return "agent " + id.value + ": invalid resources: " + err;
  switch (rec.state) {
    case registry_agent_state::admitted:
      reg.admitted.emplace(id, rec.info);
      return {};
    case registry_agent_state::unreachable:
      reg.unreachable.emplace(id, registry_unreachable_agent{rec.info, rec.time});
      return {};
    case registry_agent_state::gone:
      reg.gone.emplace(id, rec.time);
      return {};
  }
  return "agent " + id.value + ": unknown state " + std::to_string(static_cast<int>(rec.state));
}

std::string add_loaded_registry_record(registry_data& reg, const std::string& key, const registry_role_record& rec) {
  // Written by set_weight / set_quota, so the same rules hold; check them by replaying.
  registry_data scratch;
  if (rec.weight != 1.0)
    if (auto err = apply_registry_operation(scratch, set_weight_op(key, rec.weight)); !err.empty())
      return "role '" + key + "': " + err;
  if (!rec.quota.guarantee.empty() || !rec.quota.limit.empty())
    if (auto err = apply_registry_operation(scratch, set_quota_op(key, rec.quota)); !err.empty())
      return "role '" + key + "': " + err;
  if (scratch.weights.empty() && scratch.quota.empty())
    return "role '" + key + "': an empty record";
  if (reg.weights.count(key) > 0 || reg.quota.count(key) > 0)
    return "two records of role '" + key + "'";
  for (auto& [k, v] : scratch.weights)
    reg.weights.emplace(k, v);
  for (auto& [k, v] : scratch.quota)
    reg.quota.emplace(k, v);
  return {};
}

void touched_keys(const std::vector<registry_operation>& ops, std::set<agent_id>& agents,
                  std::set<std::string>& roles) {
  for (const auto& op : ops) {
    switch (op.kind) {
      case registry_op_kind::admit:
      case registry_op_kind::mark_reachable:
      case registry_op_kind::update_agent:
        agents.insert(op.agent.id);
        break;
      case registry_op_kind::mark_unreachable:
      case registry_op_kind::remove:
        agents.insert(op.id);
        break;
      case registry_op_kind::set_weight:
      case registry_op_kind::set_quota:
        roles.insert(op.role);
        break;
    }
  }
}

std::string apply_batch(const registry_data& mirror, const std::vector<registry_operation>& ops,
                        registry_data& out) {
  registry_data next = mirror;
  for (size_t i = 0; i < ops.size(); ++i)
    if (auto err = apply_registry_operation(next, ops[i]); !err.empty())
      return "operation " + std::to_string(i + 1) + " of " + std::to_string(ops.size()) + ": " + err;
  out = std::move(next);
  return {};
}

// -- in-memory --------------------------------------------------------------------------------------------------

namespace {

class in_memory_store : public registry_store {
public:
  std::string load(registry_data& out) override {
    std::lock_guard<std::mutex> guard{mtx_};
    out = data_;
    return {};
  }

  std::string save(const std::vector<registry_operation>& ops) override {
    std::lock_guard<std::mutex> guard{mtx_};
    // All or nothing, as the durable stores.
    return apply_batch(data_, ops, data_);
  }

  std::string describe() const override {
    return "in_memory";
  }

private:
  std::mutex mtx_;
  registry_data data_;
};

} // namespace

std::shared_ptr<registry_store> make_in_memory_registry_store() {
  return std::make_shared<in_memory_store>();
}

// -- SQLite -----------------------------------------------------------------------------------------------------

namespace {

constexpr const char* sqlite_schema_version = "1";

// One prepared statement, finalized on scope exit.
class statement {
public:
  statement(sqlite3* db, const char* sql) {
    rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
  }
  ~statement() {
    sqlite3_finalize(stmt_);
  }
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;
  bool ok() const { return rc_ == SQLITE_OK && stmt_ != nullptr; }
  sqlite3_stmt* get() { return stmt_; }

private:
  sqlite3_stmt* stmt_ = nullptr;
  int rc_ = SQLITE_ERROR;
};

std::string column_text(sqlite3_stmt* s, int col) {
  auto p = sqlite3_column_text(s, col);
  auto n = sqlite3_column_bytes(s, col);
  return p == nullptr ? std::string{} : std::string{reinterpret_cast<const char*>(p), static_cast<size_t>(n)};
}

std::string column_blob(sqlite3_stmt* s, int col) {
  auto p = sqlite3_column_blob(s, col);
  auto n = sqlite3_column_bytes(s, col);
  return p == nullptr ? std::string{} : std::string{static_cast<const char*>(p), static_cast<size_t>(n)};
}

class sqlite_store : public registry_store {
public:
  explicit sqlite_store(std::string path) : path_(std::move(path)) {
  }

  ~sqlite_store() override {
    sqlite3_close_v2(db_);
  }

  /// `allow_empty`: an operator's deliberate reset (--registry-allow-empty), see `check_identity`.
  std::string open(bool allow_empty) {
    if (sqlite3_open_v2(path_.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                        nullptr)
        != SQLITE_OK)
      return fail("cannot open");
    sqlite3_busy_timeout(db_, 5000);
    bool fresh = false;
    {
      statement s{db_, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'"};
      if (!s.ok() || sqlite3_step(s.get()) != SQLITE_ROW)
        return fail("cannot read");
      fresh = sqlite3_column_int(s.get(), 0) == 0;
    }
    // WAL + synchronous=FULL: a committed batch survives a power loss; one fsync per batch.
    const char* setup = "PRAGMA journal_mode=WAL;"
                        "PRAGMA synchronous=FULL;"
                        "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                        "CREATE TABLE IF NOT EXISTS agents(id TEXT PRIMARY KEY, record BLOB NOT NULL);"
                        "CREATE TABLE IF NOT EXISTS roles(role TEXT PRIMARY KEY, record BLOB NOT NULL);"
                        "INSERT OR IGNORE INTO meta(key, value) VALUES('schema', '1');";
    if (fresh && !allow_empty && !read_identity().empty())
      return emptied();   // checked before anything is written into the empty file
    if (auto err = exec(setup); !err.empty())
      return err;
    statement s{db_, "SELECT value FROM meta WHERE key = 'schema'"};
    if (!s.ok() || sqlite3_step(s.get()) != SQLITE_ROW)
      return fail("cannot read the schema version");
    auto v = column_text(s.get(), 0);
    if (v != sqlite_schema_version)
      return "registry database " + path_ + " has schema version '" + v + "', this master knows only '"
             + sqlite_schema_version + "'";
    return check_identity(allow_empty);
  }

  std::string load(registry_data& out) override {
    registry_data reg;
    {
      statement s{db_, "SELECT id, record FROM agents"};
      if (!s.ok())
        return fail("cannot read the agents");
      int rc;
      while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
        auto key = column_text(s.get(), 0);
        registry_agent_record rec;
        if (auto err = decode_registry_record(column_blob(s.get(), 1), rec); !err.empty())
          return "registry database " + path_ + ": agent '" + key + "': " + err;
        if (auto err = add_loaded_registry_record(reg, key, rec); !err.empty())
          return "registry database " + path_ + ": " + err;
      }
      if (rc != SQLITE_DONE)
        return fail("cannot read the agents");
    }
    {
      statement s{db_, "SELECT role, record FROM roles"};
      if (!s.ok())
        return fail("cannot read the roles");
      int rc;
      while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
        auto key = column_text(s.get(), 0);
        registry_role_record rec;
        if (auto err = decode_registry_record(column_blob(s.get(), 1), rec); !err.empty())
          return "registry database " + path_ + ": role '" + key + "': " + err;
        if (auto err = add_loaded_registry_record(reg, key, rec); !err.empty())
          return "registry database " + path_ + ": " + err;
      }
      if (rc != SQLITE_DONE)
        return fail("cannot read the roles");
    }
    mirror_ = reg;
    loaded_ = true;
    out = std::move(reg);
    return {};
  }

  std::string save(const std::vector<registry_operation>& ops) override {
    if (!loaded_) {
      registry_data ignored;
      if (auto err = load(ignored); !err.empty())
        return err;
    }
    // The mirror changes in place (no copy of a big registry per batch); any failure below makes it stale, and
    // the next save reloads it from the database.
    loaded_ = false;
    for (size_t i = 0; i < ops.size(); ++i)
      if (auto err = apply_registry_operation(mirror_, ops[i]); !err.empty())
        return "registry database " + path_ + ": operation " + std::to_string(i + 1) + " does not apply: " + err;
    std::set<agent_id> agents;
    std::set<std::string> roles;
    touched_keys(ops, agents, roles);
    if (auto err = exec("BEGIN IMMEDIATE"); !err.empty())
      return err;
    if (auto err = write(agents, roles); !err.empty()) {
      exec("ROLLBACK");
      return err;
    }
    if (auto err = exec("COMMIT"); !err.empty()) {
      exec("ROLLBACK");
      return err;
    }
    loaded_ = true;
    return {};
  }

  std::string describe() const override {
    return "sqlite:" + path_;
  }

private:
  /// Beside the database: the ID of the registry this master keeps there. A database that was emptied, replaced
  /// or lost (a file truncated to 0 bytes opens as an empty database) would otherwise start an empty cluster
  /// silently, and every agent would then be a stranger.
  std::string identity_path() const {
    return path_ + ".id";
  }

  std::string emptied() const {
    return "registry database " + path_ + " is empty, but the registry " + read_identity()
           + " was kept there (" + identity_path()
           + "): refusing to start an empty cluster. Restore the database, or start the master with "
             "--registry-allow-empty to begin a new registry";
  }

  /// The ID kept beside the database ("" if there is none).
  std::string read_identity() const {
    std::string text;
    bool exists = false;
    if (!read_whole_file(identity_path(), text, exists).empty() || !exists)
      return {};
    return text.substr(0, text.find('\n'));
  }

  /// The database's registry ID matches the one beside it; a new database (or one from before IDs) gets one,
  /// written to both.
  std::string check_identity(bool allow_empty) {
    std::string id;
    {
      statement s{db_, "SELECT value FROM meta WHERE key = 'id'"};
      if (!s.ok())
        return fail("cannot read the registry ID");
      if (sqlite3_step(s.get()) == SQLITE_ROW)
        id = column_text(s.get(), 0);
    }
    auto beside = read_identity();
    if (!id.empty() && !beside.empty() && id != beside && !allow_empty)
      return "registry database " + path_ + " holds registry " + id + ", but this master keeps registry " + beside
             + " (" + identity_path() + "): refusing a registry that is not its own. Restore the database, or "
               "start the master with --registry-allow-empty to take this one";
    if (id.empty()) {
      id = boost::uuids::to_string(boost::uuids::random_generator{}());
      statement put{db_, "INSERT OR REPLACE INTO meta(key, value) VALUES('id', ?1)"};
      sqlite3_bind_text(put.get(), 1, id.data(), static_cast<int>(id.size()), SQLITE_TRANSIENT);
      if (!put.ok() || sqlite3_step(put.get()) != SQLITE_DONE)
        return fail("cannot write the registry ID");
    }
    if (id != beside)
      if (auto err = write_file_atomically(identity_path(), id + "\n"); !err.empty())
        return "registry database " + path_ + ": " + err;
    return {};
  }

  std::string fail(const std::string& what) {
    return "registry database " + path_ + ": " + what + ": "
           + (db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory");
  }

  std::string exec(const char* sql) {
    char* msg = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &msg) == SQLITE_OK)
      return {};
    std::string err = "registry database " + path_ + ": " + (msg != nullptr ? msg : "error");
    sqlite3_free(msg);
    return err;
  }

  std::string write(const std::set<agent_id>& agents, const std::set<std::string>& roles) {
    statement put_agent{db_, "INSERT OR REPLACE INTO agents(id, record) VALUES(?1, ?2)"};
    statement del_agent{db_, "DELETE FROM agents WHERE id = ?1"};
    statement put_role{db_, "INSERT OR REPLACE INTO roles(role, record) VALUES(?1, ?2)"};
    statement del_role{db_, "DELETE FROM roles WHERE role = ?1"};
    if (!put_agent.ok() || !del_agent.ok() || !put_role.ok() || !del_role.ok())
      return fail("cannot prepare the batch");
    auto run = [&](statement& s, const std::string& key, const std::string* blob) -> std::string {
      sqlite3_reset(s.get());
      sqlite3_bind_text(s.get(), 1, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
      if (blob != nullptr)
        sqlite3_bind_blob(s.get(), 2, blob->data(), static_cast<int>(blob->size()), SQLITE_TRANSIENT);
      if (sqlite3_step(s.get()) != SQLITE_DONE)
        return fail("cannot write '" + key + "'");
      return {};
    };
    for (const auto& id : agents) {
      registry_agent_record rec;
      std::string err;
      if (registry_agent_record_of(mirror_, id, rec)) {
        auto blob = encode_registry_record(rec);
        err = run(put_agent, id.value, &blob);
      } else {
        err = run(del_agent, id.value, nullptr);
      }
      if (!err.empty())
        return err;
    }
    for (const auto& role : roles) {
      registry_role_record rec;
      std::string err;
      if (registry_role_record_of(mirror_, role, rec)) {
        auto blob = encode_registry_record(rec);
        err = run(put_role, role, &blob);
      } else {
        err = run(del_role, role, nullptr);
      }
      if (!err.empty())
        return err;
    }
    return {};
  }

  std::string path_;
  sqlite3* db_ = nullptr;
  registry_data mirror_;
  bool loaded_ = false;
};

} // namespace

std::shared_ptr<registry_store> make_sqlite_registry_store(const std::string& path, std::string& error,
                                                           bool allow_empty) {
  auto store = std::make_shared<sqlite_store>(path);
  if (auto err = store->open(allow_empty); !err.empty()) {
    error = err;
    return nullptr;
  }
  return store;
}

} // namespace mesoscaf
