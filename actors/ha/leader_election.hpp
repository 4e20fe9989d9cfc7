#pragma once
// Leader election for masters (docs/ARCHITECTURE.md): a contender enters one master into the election, a detector tells
// anyone (agents, schedulers, standby masters) who leads. Three implementations behind these two interfaces:
//  - standalone: `--master=host:port` (the detector always names that address; the contender is elected at once);
//  - ZooKeeper: `zk://host:port[,host:port...]/path` (actors/ha/zookeeper_election.cpp): each contender creates an
//    ephemeral sequential znode `<path>/master_<seq>` holding its master_location (JSON); the lowest sequence
//    number leads; a contender watches only its predecessor; a detector watches the children of <path>;
//  - in-process: several masters in one actor system (tests).
// Callbacks run on any thread (ZooKeeper's own, or the caller's): they must only post messages to actors
// (`post_to`), never block or touch actor state.
// Light header: no CAF actor headers beyond caf/actor.hpp.
#include "messages/master_location.hpp"

#include <caf/timespan.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace mesoscaf {

/// What a contender reports to its master.
enum class contender_event {
  elected,  // this master leads from now on
  lost,     // this master can no longer be sure it leads (ZooKeeper session expired or lost, or disconnected for
            // longer than the session timeout): it must step down at once and never lead again (Mesos exits)
};

const char* to_string(contender_event e);

class master_contender {
public:
  virtual ~master_contender();
  /// Enters the election announcing `self`. `on_event` is called (any thread) with `elected` once this master
  /// leads and with `lost` (at most once, after which nothing more is reported) if it must step down. Call once.
  virtual void contend(master_location self, std::function<void(contender_event, const std::string& why)> on_event)
    = 0;
  /// Leaves the election at once (ZooKeeper: closes the session, so the next leader takes over without waiting
  /// for the session timeout). No callback after this returns. Idempotent.
  virtual void withdraw() = 0;
  /// ZooKeeper: the path of this contender's ephemeral election node once `elected` was reported ("" before, and
  /// for the other kinds). The node lives exactly as long as the session that won the election, so the registry
  /// fences its writes with it (registry_store::fence). Any thread.
  virtual std::string election_node() const;
};

class master_detector {
public:
  virtual ~master_detector();
  /// Calls `on_change` (any thread) with the current leader soon after the call (an empty location: no leader
  /// known yet), and again after every change. Several watchers may be added.
  virtual void watch(std::function<void(const master_location&)> on_change) = 0;
  /// Stops every callback of this detector (no callback after this returns). Idempotent; the destructor calls it.
  virtual void close() = 0;
  /// For messages: "127.0.0.1:5050" or "zk://127.0.0.1:2181/mesoscaf".
  virtual std::string describe() const = 0;
};

/// ZooKeeper client settings shared by contenders, detectors and the ZooKeeper registry store.
struct zookeeper_options {
  /// Session timeout asked of the server (Mesos' --zk_session_timeout, default 10 s). The server clamps it to
  /// [2, 20] x its tickTime.
  caf::timespan session_timeout = std::chrono::seconds(10);
};

/// A parsed `zk://host:port[,host:port...]/path` URL.
struct zookeeper_url {
  std::string servers;      // "host:port,host:port" as the C client takes it
  std::string path;         // "/mesoscaf" (never ends with '/', never empty)
  std::string credentials;  // "user:password" from zk://user:password@hosts/path (digest scheme); "" = none
};

/// `text` with the password of a zk://user:password@... URL replaced by "***" (for logs, /flags and errors).
/// Other text is returned as it is.
std::string redact_zookeeper_url(const std::string& text);

/// Parses `zk://...`; returns "" or why the text is not a ZooKeeper URL (no hosts, bad port, no or bad path).
std::string parse_zookeeper_url(const std::string& text, zookeeper_url& out);

/// True if `text` starts with "zk://".
bool is_zookeeper_url(const std::string& text);

// -- standalone -------------------------------------------------------------------------------------------------

/// Always names `leader` (built from host:port, or an in-process handle).
std::shared_ptr<master_detector> make_standalone_detector(master_location leader);
/// Reports `elected` at once.
std::shared_ptr<master_contender> make_standalone_contender();

// -- in-process (tests) ----------------------------------------------------------------------------------------

/// One election among contenders in this process: the earliest contender still in leads. Thread-safe.
class in_process_election : public std::enable_shared_from_this<in_process_election> {
public:
  static std::shared_ptr<in_process_election> make();
  virtual ~in_process_election();
  virtual std::shared_ptr<master_contender> contender() = 0;
  virtual std::shared_ptr<master_detector> detector() = 0;
  /// Test hook: the leading contender loses its session (it gets `lost`, leaves; the next one is elected).
  virtual void expire_leader() = 0;
};

// -- by URL -----------------------------------------------------------------------------------------------------

/// `host:port` -> standalone detector; `zk://...` -> ZooKeeper detector. Null and `error` set on a bad URL.
std::shared_ptr<master_detector> make_master_detector(const std::string& url, const zookeeper_options& zk,
                                                      std::string& error);

/// ZooKeeper contender / detector for a parsed URL (actors/ha/zookeeper_election.cpp).
std::shared_ptr<master_contender> make_zookeeper_contender(const zookeeper_url& url, const zookeeper_options& zk);
std::shared_ptr<master_detector> make_zookeeper_detector(const zookeeper_url& url, const zookeeper_options& zk);

/// A unique ID for a master run (host:port plus a random UUID).
std::string make_master_run_id(const std::string& host, uint16_t port);

} // namespace mesoscaf
