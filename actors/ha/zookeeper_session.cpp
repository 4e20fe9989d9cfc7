// libzookeeper-mt wrapper. The C client delivers session events and watches on its completion thread; a synchronous
// call made on that thread would deadlock (its own completion is delivered there), so callbacks here only record
// state and call the user's function, which must return quickly.
#include "actors/ha/zookeeper_session.hpp"

#include "config/support/logging.hpp"

#include <zookeeper/zookeeper.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <map>
#include <mutex>
#include <thread>

namespace mesoscaf {

const char* to_string(zk_session_state s) {
  switch (s) {
    case zk_session_state::connecting:
      return "connecting";
    case zk_session_state::connected:
      return "connected";
    case zk_session_state::expired:
      return "expired";
    case zk_session_state::auth_failed:
      return "auth_failed";
    case zk_session_state::closed:
      return "closed";
  }
  return "?";
}

std::string zk_result::error() const {
  return zerror(rc);
}

bool zk_result::no_node() const {
  return rc == ZNONODE;
}

bool zk_result::node_exists() const {
  return rc == ZNODEEXISTS;
}

zookeeper_session::~zookeeper_session() = default;

namespace {

void quiet_client_log() {
  // The C client logs every connection loss to stderr; MESOSCAF_ZK_LOG=1 turns its log on for debugging.
  static std::once_flag once;
  std::call_once(once, [] {
    auto env = std::getenv("MESOSCAF_ZK_LOG");
    zoo_set_debug_level(env && *env && std::string(env) != "0" ? ZOO_LOG_LEVEL_INFO : static_cast<ZooLogLevel>(0));
  });
}

// Shared between the session object and the C client's callbacks; outlives the zhandle.
struct session_core {
  std::mutex mtx;
  std::condition_variable cv;
  zk_session_state state = zk_session_state::connecting;
  std::chrono::milliseconds negotiated{0};
  zookeeper_session::state_callback on_state;
  // One-shot watches by ID: the C client gets the ID as its context, so a late or repeated notification for a
  // watch already consumed finds nothing (session events reach every registered watcher, maybe many times).
  std::map<uintptr_t, zookeeper_session::watch_callback> watches;
  uintptr_t next_watch = 1;
  bool closed = false;
  std::atomic<std::thread::id> client_thread{};

  uintptr_t add_watch(zookeeper_session::watch_callback cb) {
    std::lock_guard<std::mutex> guard{mtx};
    auto id = next_watch++;
    watches.emplace(id, std::move(cb));
    return id;
  }

  void drop_watch(uintptr_t id) {
    std::lock_guard<std::mutex> guard{mtx};
    watches.erase(id);
  }
};

zk_session_state map_state(int state) {
  if (state == ZOO_CONNECTED_STATE || state == ZOO_READONLY_STATE)
    return zk_session_state::connected;
  if (state == ZOO_EXPIRED_SESSION_STATE)
    return zk_session_state::expired;
  if (state == ZOO_AUTH_FAILED_STATE)
    return zk_session_state::auth_failed;
  return zk_session_state::connecting;
}

// The global watcher: session events only.
void session_watcher(zhandle_t* zh, int type, int state, const char*, void* ctx) {
  auto core = static_cast<session_core*>(ctx);
  core->client_thread = std::this_thread::get_id();
  if (type != ZOO_SESSION_EVENT)
    return;
  auto s = map_state(state);
  zookeeper_session::state_callback cb;
  std::vector<zookeeper_session::watch_callback> ended;
  {
    std::lock_guard<std::mutex> guard{core->mtx};
    if (core->closed || core->state == zk_session_state::expired || core->state == zk_session_state::auth_failed)
      return;
    core->state = s;
    if (s == zk_session_state::connected)
      core->negotiated = std::chrono::milliseconds{zoo_recv_timeout(zh)};
    if (s == zk_session_state::expired || s == zk_session_state::auth_failed) {
      // The session is over: every pending watch learns it (empty path), as the header promises.
      for (auto& [id, w] : core->watches)
        ended.push_back(std::move(w));
      core->watches.clear();
    }
    cb = core->on_state;
    core->cv.notify_all();
  }
  if (cb)
    cb(s);
  for (auto& w : ended)
    if (w)
      w("");
}

// Per-call watchers: node and child events; session events are handled by session_watcher.
void node_watcher(zhandle_t* zh, int type, int, const char* path, void* ctx) {
  if (type == ZOO_SESSION_EVENT)
    return;
  auto core = static_cast<session_core*>(const_cast<void*>(zoo_get_context(zh)));
  if (core == nullptr)
    return;
  core->client_thread = std::this_thread::get_id();
  zookeeper_session::watch_callback cb;
  {
    std::lock_guard<std::mutex> guard{core->mtx};
    if (core->closed)
      return;
    auto i = core->watches.find(reinterpret_cast<uintptr_t>(ctx));
    if (i == core->watches.end())
      return;
    cb = std::move(i->second);
    core->watches.erase(i);
  }
  if (cb)
    cb(path ? path : "");
}

// Nodes of a session with credentials: anyone may read them (detectors of agents and frameworks find the leader
// without credentials), only the creating identity may change, delete or create under them (Mesos'
// "everyone read, creator all").
ACL everyone_read_creator_all_entries[] = {{ZOO_PERM_READ, ZOO_ANYONE_ID_UNSAFE}, {ZOO_PERM_ALL, ZOO_AUTH_IDS}};
ACL_vector everyone_read_creator_all = {2, everyone_read_creator_all_entries};

class session_impl : public zookeeper_session {
public:
  explicit session_impl(std::shared_ptr<session_core> core) : core_(std::move(core)) {}

  ~session_impl() override { close(); }

  bool start(const std::string& servers, std::chrono::milliseconds timeout, const std::string& credentials) {
    zh_ = zookeeper_init(servers.c_str(), session_watcher, static_cast<int>(timeout.count()), nullptr, core_.get(),
                         0);
    if (zh_ != nullptr && !credentials.empty()) {
      // Queued before any request of this session, so every request runs authenticated; wrong credentials end
      // the session with an authentication failure (auth_failed).
      if (zoo_add_auth(zh_, "digest", credentials.data(), static_cast<int>(credentials.size()), nullptr, nullptr)
          != ZOK)
        return false;
      acl_ = &everyone_read_creator_all;
    }
    // By default the client resolves the server list again on every poll of its I/O thread (getaddrinfo and a
    // netlink dump each time): the busiest thread of a new leader loading a 10,000-agent registry. DNS changes of
    // the ensemble are rare; looking every 30 s is enough (a lost connection still resolves at once).
    if (zh_ != nullptr)
      zoo_set_servers_resolution_delay(zh_, 30000);
    return zh_ != nullptr;
  }

  zk_session_state state() const override {
    std::lock_guard<std::mutex> guard{core_->mtx};
    return core_->state;
  }

  bool wait_connected(std::chrono::milliseconds deadline) override {
    std::unique_lock<std::mutex> guard{core_->mtx};
    core_->cv.wait_for(guard, deadline, [&] { return core_->state != zk_session_state::connecting; });
    return core_->state == zk_session_state::connected;
  }

  std::chrono::milliseconds negotiated_timeout() const override {
    std::lock_guard<std::mutex> guard{core_->mtx};
    return core_->negotiated;
  }

  zk_result ensure_path(const std::string& path) override {
    if (!usable())
      return {ZINVALIDSTATE};
    size_t pos = 1;
    while (pos <= path.size()) {
      auto next = path.find('/', pos);
      auto prefix = path.substr(0, next);
      int rc = zoo_create(zh_, prefix.c_str(), nullptr, -1, acl_, 0, nullptr, 0);
      if (rc != ZOK && rc != ZNODEEXISTS)
        return {rc};
      if (next == std::string::npos)
        break;
      pos = next + 1;
    }
    return {ZOK};
  }

  zk_result create(const std::string& path, const std::string& data, bool ephemeral, bool sequential,
                   std::string* created) override {
    if (!usable())
      return {ZINVALIDSTATE};
    int mode = (ephemeral ? ZOO_EPHEMERAL : 0) | (sequential ? ZOO_SEQUENCE : 0);
    std::vector<char> buf(path.size() + 64);
    int rc = zoo_create(zh_, path.c_str(), data.data(), static_cast<int>(data.size()), acl_, mode,
                        buf.data(), static_cast<int>(buf.size()));
    if (rc == ZOK && created)
      *created = buf.data();
    return {rc};
  }

  zk_result get(const std::string& path, std::string& data, watch_callback watch) override {
    if (!usable())
      return {ZINVALIDSTATE};
    uintptr_t id = watch ? core_->add_watch(std::move(watch)) : 0;
    std::vector<char> buf(64 * 1024);
    int len = static_cast<int>(buf.size());
    Stat stat{};
    int rc = zoo_wget(zh_, path.c_str(), id ? node_watcher : nullptr, reinterpret_cast<void*>(id), buf.data(), &len,
                      &stat);
    if (rc != ZOK && id)
      core_->drop_watch(id);  // no watch was set
    if (rc == ZOK && stat.dataLength > len) {
      // Larger than the first buffer: read again at full size (the watch set above stays).
      buf.resize(static_cast<size_t>(stat.dataLength) + 1);
      len = static_cast<int>(buf.size());
      rc = zoo_wget(zh_, path.c_str(), nullptr, nullptr, buf.data(), &len, &stat);
    }
    if (rc == ZOK)
      data.assign(buf.data(), len > 0 ? static_cast<size_t>(len) : 0);
    return {rc};
  }

  zk_result set(const std::string& path, const std::string& data, int version) override {
    if (!usable())
      return {ZINVALIDSTATE};
    return {zoo_set(zh_, path.c_str(), data.data(), static_cast<int>(data.size()), version)};
  }

  zk_result remove(const std::string& path, int version) override {
    if (!usable())
      return {ZINVALIDSTATE};
    return {zoo_delete(zh_, path.c_str(), version)};
  }

  zk_result children(const std::string& path, std::vector<std::string>& out, watch_callback watch) override {
    if (!usable())
      return {ZINVALIDSTATE};
    uintptr_t id = watch ? core_->add_watch(std::move(watch)) : 0;
    String_vector names{0, nullptr};
    int rc = zoo_wget_children(zh_, path.c_str(), id ? node_watcher : nullptr, reinterpret_cast<void*>(id), &names);
    if (rc != ZOK) {
      if (id)
        core_->drop_watch(id);
      return {rc};
    }
    out.clear();
    for (int i = 0; i < names.count; ++i)
      out.emplace_back(names.data[i]);
    deallocate_String_vector(&names);
    return {ZOK};
  }

  zk_result exists(const std::string& path, bool& exists, watch_callback watch) override {
    if (!usable())
      return {ZINVALIDSTATE};
    uintptr_t id = watch ? core_->add_watch(std::move(watch)) : 0;
    Stat stat{};
    int rc = zoo_wexists(zh_, path.c_str(), id ? node_watcher : nullptr, reinterpret_cast<void*>(id), &stat);
    if (rc == ZOK || rc == ZNONODE) {
      // ZNONODE still leaves a watch that fires on creation.
      exists = rc == ZOK;
      return {ZOK};
    }
    if (id)
      core_->drop_watch(id);
    return {rc};
  }

  zk_result multi(const std::vector<op>& ops) override {
    if (!usable())
      return {ZINVALIDSTATE};
    if (ops.empty())
      return {ZOK};
    std::vector<zoo_op_t> zops(ops.size());
    std::vector<zoo_op_result_t> results(ops.size());
    std::vector<std::vector<char>> bufs(ops.size());
    for (size_t i = 0; i < ops.size(); ++i) {
      auto& o = ops[i];
      switch (o.kind) {
        case op::create:
          bufs[i].resize(o.path.size() + 64);
          zoo_create_op_init(&zops[i], o.path.c_str(), o.data.data(), static_cast<int>(o.data.size()),
                             acl_, 0, bufs[i].data(), static_cast<int>(bufs[i].size()));
          break;
        case op::set:
          zoo_set_op_init(&zops[i], o.path.c_str(), o.data.data(), static_cast<int>(o.data.size()), -1, nullptr);
          break;
        case op::remove:
          zoo_delete_op_init(&zops[i], o.path.c_str(), -1);
          break;
        case op::check:
          zoo_check_op_init(&zops[i], o.path.c_str(), -1);
          break;
      }
    }
    int rc = zoo_multi(zh_, static_cast<int>(zops.size()), zops.data(), results.data());
    if (rc != ZOK) {
      // Name the operation that failed (the first result that is neither ok nor "rolled back").
      for (auto& r : results)
        if (r.err != ZOK && r.err != ZRUNTIMEINCONSISTENCY)
          return {r.err};
    }
    return {rc};
  }

  zk_result get_many(const std::vector<std::string>& paths, std::vector<std::string>& data) override {
    if (!usable())
      return {ZINVALIDSTATE};
    struct batch {
      std::mutex mtx;
      std::condition_variable cv;
      size_t pending = 0;
      std::vector<std::string> data;
      std::vector<int> rcs;
    };
    struct item {
      std::shared_ptr<batch> b;
      size_t index;
    };
    auto b = std::make_shared<batch>();
    b->data.resize(paths.size());
    b->rcs.assign(paths.size(), ZOK);
    auto done = [](int rc, const char* value, int len, const Stat*, const void* ctx) {
      auto it = static_cast<const item*>(ctx);
      auto bb = it->b;
      {
        std::lock_guard<std::mutex> guard{bb->mtx};
        bb->rcs[it->index] = rc;
        if (rc == ZOK && value && len > 0)
          bb->data[it->index].assign(value, static_cast<size_t>(len));
        --bb->pending;
        bb->cv.notify_all();
      }
      delete it;
    };
    for (size_t i = 0; i < paths.size(); ++i) {
      auto it = new item{b, i};
      {
        std::lock_guard<std::mutex> guard{b->mtx};
        ++b->pending;
      }
      int rc = zoo_aget(zh_, paths[i].c_str(), 0, done, it);
      if (rc != ZOK) {
        delete it;
        std::lock_guard<std::mutex> guard{b->mtx};
        --b->pending;
        b->rcs[i] = rc;
        break;
      }
    }
    std::unique_lock<std::mutex> guard{b->mtx};
    // Every queued request completes (with an error if the connection drops), so this wait ends.
    b->cv.wait(guard, [&] { return b->pending == 0; });
    for (auto rc : b->rcs)
      if (rc != ZOK)
        return {rc};
    data = b->data;
    return {ZOK};
  }

  void close() override {
    zhandle_t* zh = nullptr;
    {
      std::lock_guard<std::mutex> guard{core_->mtx};
      if (core_->closed)
        return;
      core_->closed = true;
      core_->state = zk_session_state::closed;
      core_->watches.clear();
      core_->cv.notify_all();
      zh = zh_;
    }
    if (zh == nullptr)
      return;
    if (core_->client_thread.load() == std::this_thread::get_id()) {
      // Closing from a callback: zookeeper_close cannot join the thread it runs on; hand it to another thread
      // that keeps the core alive until the handle is gone.
      std::thread([zh, core = core_] { zookeeper_close(zh); }).detach();
    } else {
      zookeeper_close(zh);
    }
  }

private:
  bool usable() const {
    std::lock_guard<std::mutex> guard{core_->mtx};
    return zh_ != nullptr && !core_->closed;
  }

  std::shared_ptr<session_core> core_;
  zhandle_t* zh_ = nullptr;
  ACL_vector* acl_ = &ZOO_OPEN_ACL_UNSAFE;   // of every node this session creates
};

} // namespace

std::shared_ptr<zookeeper_session> zookeeper_session::open(const std::string& servers,
                                                           std::chrono::milliseconds timeout,
                                                           state_callback on_state, const std::string& credentials) {
  quiet_client_log();
  auto core = std::make_shared<session_core>();
  core->on_state = std::move(on_state);
  auto s = std::make_shared<session_impl>(core);
  if (!s->start(servers, timeout, credentials)) {
    LOG_WARN("zookeeper", "cannot start a ZooKeeper client for '" << servers << "'");
    // A dead session: every call fails with ZINVALIDSTATE; state() says closed.
    std::lock_guard<std::mutex> guard{core->mtx};
    core->closed = true;
    core->state = zk_session_state::closed;
  }
  return s;
}

} // namespace mesoscaf
