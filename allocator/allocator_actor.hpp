#pragma once
// The allocator actor: a thin shell around hierarchical_allocator. It turns events into allocation runs
// (coalesced: a burst of events causes one run) and runs periodically; results go to the listener (the
// master) as `(atom::allocate, std::vector<allocation>)`, only when non-empty.
#include "actors/interfaces.hpp"
#include "allocator/hierarchical_allocator.hpp"

#include <caf/fwd.hpp>
#include <caf/timespan.hpp>

#include <chrono>
#include <cstdint>

namespace mesoscaf {

struct allocator_options {
  /// Period of the batch allocation run (Mesos' --allocation_interval). Must be > 0.
  caf::timespan interval = std::chrono::seconds(1);
  allocator_config config;
};

struct allocator_state {
  static inline const char* name = "allocator";
  hierarchical_allocator alloc;
  allocation_listener_actor listener;
  caf::timespan interval{};
  // True while an `allocate` marker is in our mailbox: later events then need no marker of their own.
  bool run_pending = false;
  uint64_t allocations_sent = 0;
};

using allocator_pointer = allocator_actor::stateful_pointer<allocator_state>;

/// The behaviour; usable with `sys.spawn(allocator, listener, opts)` or `self->spawn(...)`. The actor
/// monitors `listener` and quits when it goes down, so a dead master never leaves it (and its periodic
/// timer) keeping the actor system alive. Owners should still send it an exit on shutdown.
allocator_actor::behavior_type allocator(allocator_pointer self, allocation_listener_actor listener,
                                         allocator_options opts);

/// Spawns the allocator. An interval <= 0 is replaced by the default (1 s) with a warning.
allocator_actor spawn_allocator(caf::actor_system& sys, allocation_listener_actor listener,
                                allocator_options opts = {});

} // namespace mesoscaf
