#pragma once
// How the durable registry stores (SQLite, ZooKeeper) lay the registry out: one record per agent (keyed by its
// ID: admitted, unreachable or gone) and one per role with a weight or quota. A record is a version byte followed
// by CAF's binary encoding; decoding checks everything, so a corrupt or foreign record is a clear load error.
// A store keeps a mirror of what it holds and, for a batch, writes the final record of every key the batch
// touched (upsert or delete), so a batch maps 1:1 to one transaction / multi-op of the underlying store.
// Internal to the store implementations.
#include "messages/registry.hpp"

#include <set>
#include <string>
#include <vector>

namespace mesoscaf {

/// Version byte of every record written by this code (bump when a record's layout changes).
constexpr char registry_record_version = 2;   // 2: compact resources

enum class registry_agent_state : uint8_t { admitted = 0, unreachable = 1, gone = 2 };

struct registry_agent_record {
  registry_agent_state state = registry_agent_state::admitted;
  double time = 0;   // unreachable / gone: when
  agent_info info;   // admitted / unreachable (gone: only the ID)

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, registry_agent_record& x) {
    // The agent's fields one by one, without its address (learnt anew at each registration): the bytes of
    // version-2 records stay as they were.
    return f(caf::meta::type_name("registry_agent_record"), x.state, x.time, x.info.id, x.info.hostname,
             x.info.port, x.info.total, x.info.attributes);
  }
};

struct registry_role_record {
  double weight = 1.0;
  quota_info quota;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, registry_role_record& x) {
    return f(caf::meta::type_name("registry_role_record"), x.weight, x.quota);
  }
};

std::string encode_registry_record(const registry_agent_record& x);
std::string encode_registry_record(const registry_role_record& x);
/// "" or why `bytes` is not a valid record.
std::string decode_registry_record(const std::string& bytes, registry_agent_record& out);
std::string decode_registry_record(const std::string& bytes, registry_role_record& out);

/// The record of `id` in `reg`; false if the registry does not know the agent.
bool registry_agent_record_of(const registry_data& reg, const agent_id& id, registry_agent_record& out);
/// The record of `role` in `reg`; false if the role has neither weight nor quota.
bool registry_role_record_of(const registry_data& reg, const std::string& role, registry_role_record& out);

/// Adds a loaded record to `reg`; "" or why it is invalid (key/ID mismatch, bad state, time or resources,
/// duplicate). `key` is the agent ID / role the store filed it under.
std::string add_loaded_registry_record(registry_data& reg, const std::string& key, const registry_agent_record& rec);
std::string add_loaded_registry_record(registry_data& reg, const std::string& key, const registry_role_record& rec);

/// The agent IDs and roles `ops` touch (each once, sorted).
void touched_keys(const std::vector<registry_operation>& ops, std::set<agent_id>& agents,
                  std::set<std::string>& roles);

/// Applies `ops` to a copy of `mirror`; "" and `out` set, or the error of the first op that does not apply.
std::string apply_batch(const registry_data& mirror, const std::vector<registry_operation>& ops,
                        registry_data& out);

} // namespace mesoscaf
