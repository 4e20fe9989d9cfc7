#pragma once
// The registrar: the only way to change the registry. Keeps the registry in memory, checks each operation with
// apply_registry_operation (a bad one is refused at once and changes nothing), collects the operations that
// arrive while a write is under way into the next batch, writes each batch through the store on a detached worker
// (the store blocks), and answers every operation of a batch only once the batch is durable. A failed write fails
// every operation of its batch and every one after it (the master must step down: its view and the store's may
// differ). Mesos' registrar does the same.
#include "actors/interfaces.hpp"

#include <memory>

namespace caf {
class actor_system;
}

namespace mesoscaf {

class registry_store;

/// Spawns a registrar over `store`. The first request must be `recover` (load); operations before it are refused
/// (runtime_error). `detached` = false runs the store worker on the scheduler: for deterministic tests with a
/// store that does not block.
registrar_actor spawn_registrar(caf::actor_system& sys, std::shared_ptr<registry_store> store,
                                bool detached = true);

} // namespace mesoscaf
