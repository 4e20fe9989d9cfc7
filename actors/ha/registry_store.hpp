#pragma once
// Where the registry (messages/registry.hpp) is kept. Calls BLOCK (disk, SQLite, ZooKeeper): only the registrar's
// detached store worker calls them. Every store passes the same contract tests (unit_tests/actors_registry_store_test.cpp).
//  - in-memory: `mesoscaf local`'s default and tests; a master restart loses it (like Mesos' --registry=in_memory);
//  - SQLite: a single master with a --work-dir (<work_dir>/registry.sqlite; one transaction per batch);
//  - ZooKeeper: HA masters (one znode per agent / role under <path>/registry, a batch is one or more zoo_multi).
#include "actors/ha/leader_election.hpp"
#include "messages/registry.hpp"

#include <memory>
#include <string>
#include <vector>

namespace mesoscaf {

class registry_store {
public:
  virtual ~registry_store();
  /// Reads the whole registry. Returns "" or an error (unreadable / corrupt store: the master must not lead).
  virtual std::string load(registry_data& out) = 0;
  /// Makes `ops` durable, in order. They were checked with apply_registry_operation against the registry as
  /// loaded plus every earlier batch, so they apply. Returns "" once durable, or an error.
  virtual std::string save(const std::vector<registry_operation>& ops) = 0;
  /// "in_memory", "sqlite:/path", "zookeeper:zk://..." for messages.
  virtual std::string describe() const = 0;
  /// From now on a batch is written only while `node` exists, checked in the same transaction: the elected
  /// master's election node (master_contender::election_node). A leader whose ZooKeeper session ended, but which
  /// has not noticed yet, can then no longer change the registry its successor reads. Only the ZooKeeper store
  /// fences (the others serve a single master); "" = no fence. Any thread.
  virtual void fence(const std::string& node);
};

std::shared_ptr<registry_store> make_in_memory_registry_store();
/// Opens (creating if missing) a SQLite database file. Null and `error` set if it cannot be opened, or if it is
/// empty or holds another registry than the one `<path>.id` names (a truncated, lost or swapped file), unless
/// `allow_empty` (--registry-allow-empty: the operator resets the registry, or takes the one found).
std::shared_ptr<registry_store> make_sqlite_registry_store(const std::string& path, std::string& error,
                                                           bool allow_empty = false);
/// Keeps the registry under `<url.path>/registry` in ZooKeeper (its own session). Null and `error` set if the
/// session cannot be established within the session timeout.
std::shared_ptr<registry_store> make_zookeeper_registry_store(const zookeeper_url& url, const zookeeper_options& zk,
                                                              std::string& error);

} // namespace mesoscaf
