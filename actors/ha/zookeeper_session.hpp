#pragma once
// A thin C++ wrapper of one session of Debian's libzookeeper-mt (compiled with -DTHREADED): the C client runs its
// own I/O and completion threads. Synchronous calls BLOCK: use them only on detached actors or own threads
// (the registry store), never in a scheduled actor. Watches and session events arrive on the client's thread.
// No CAF headers here.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace mesoscaf {

enum class zk_session_state {
  connecting,   // not (yet / any more) connected; the session may still be alive on the server
  connected,
  expired,      // the server ended the session: ephemeral nodes are gone; this object is dead for good
  auth_failed,
  closed,       // close() was called
};

const char* to_string(zk_session_state s);

/// Result of a call: rc is ZooKeeper's code (ZOK = 0); `error()` renders it.
struct zk_result {
  int rc = 0;
  bool ok() const { return rc == 0; }
  std::string error() const;  // zerror(rc)
  bool no_node() const;       // ZNONODE
  bool node_exists() const;   // ZNODEEXISTS
};

class zookeeper_session {
public:
  /// Session events: called on the client's thread with the new state.
  using state_callback = std::function<void(zk_session_state)>;
  /// One-shot watch: called on the client's thread when the node (or its children) changed or was deleted, or
  /// when the session ended (then with an empty path).
  using watch_callback = std::function<void(const std::string& path)>;

  /// Starts connecting to `servers` ("host:port,host:port"); does not wait. `timeout` is the session timeout asked.
  /// `credentials` ("user:password", ZooKeeper's digest scheme): the session authenticates with them, and every
  /// node it creates can be read by anyone and changed only by those credentials. Without them nodes are open to
  /// all, as before.
  static std::shared_ptr<zookeeper_session> open(const std::string& servers, std::chrono::milliseconds timeout,
                                                 state_callback on_state, const std::string& credentials = {});
  virtual ~zookeeper_session();

  virtual zk_session_state state() const = 0;
  /// Blocks until connected (true) or `deadline` passed / the session expired or was closed (false).
  virtual bool wait_connected(std::chrono::milliseconds deadline) = 0;
  /// The timeout the server granted (0 until connected).
  virtual std::chrono::milliseconds negotiated_timeout() const = 0;

  // -- synchronous (blocking) calls --
  /// Creates every missing node of `path` (persistent, empty data).
  virtual zk_result ensure_path(const std::string& path) = 0;
  /// Creates a node; `ephemeral`/`sequential` as ZOO_EPHEMERAL / ZOO_SEQUENCE; `created` gets the actual path.
  virtual zk_result create(const std::string& path, const std::string& data, bool ephemeral, bool sequential,
                           std::string* created = nullptr) = 0;
  virtual zk_result get(const std::string& path, std::string& data, watch_callback watch = {}) = 0;
  /// Sets data; version -1 = any.
  virtual zk_result set(const std::string& path, const std::string& data, int version = -1) = 0;
  virtual zk_result remove(const std::string& path, int version = -1) = 0;
  /// Child names (not paths), unsorted. With `watch`: one-shot child watch.
  virtual zk_result children(const std::string& path, std::vector<std::string>& out, watch_callback watch = {}) = 0;
  /// Exists check with an optional one-shot watch (fires on create/delete/change).
  virtual zk_result exists(const std::string& path, bool& exists, watch_callback watch = {}) = 0;

  /// One operation of an atomic multi-op transaction.
  struct op {
    /// check: the node exists (any version); changes nothing, but the transaction fails without it.
    enum kind_t { create, set, remove, check } kind = create;
    std::string path;
    std::string data;
  };
  /// Applies all `ops` atomically (zoo_multi) or none.
  virtual zk_result multi(const std::vector<op>& ops) = 0;
  /// Reads many nodes at once (asynchronous gets, waits for all): `data[i]` for `paths[i]`; rc of the first error.
  virtual zk_result get_many(const std::vector<std::string>& paths, std::vector<std::string>& data) = 0;

  /// Closes the session (ephemeral nodes vanish at once). Idempotent; the destructor calls it.
  virtual void close() = 0;
};

} // namespace mesoscaf
