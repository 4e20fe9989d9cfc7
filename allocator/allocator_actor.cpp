#include "allocator/allocator_actor.hpp"

#include "config/support/logging.hpp"

#include <caf/all.hpp>

#include <utility>

namespace mesoscaf {

namespace {

constexpr const char* component = "allocator";

void run_allocation(allocator_pointer self) {
  auto allocations = self->state.alloc.allocate(self->clock().now());
  if (allocations.empty())
    return;
  LOG_DEBUG(component, "run " << self->state.alloc.allocation_runs() << ": " << allocations.size()
                              << " allocation(s)");
  self->state.allocations_sent += allocations.size();
  self->send(self->state.listener, atom::allocate_v, std::move(allocations));
}

/// Asks for a run soon. The marker goes behind whatever is already in the mailbox, so a burst of events
/// (many agents registering, many tasks ending) leads to one run instead of one per event.
void request_run(allocator_pointer self) {
  if (self->state.run_pending)
    return;
  self->state.run_pending = true;
  self->send(self, atom::allocate_v);
}

void report(const char* what, const std::string& err) {
  if (!err.empty())
    LOG_WARN(component, what << " rejected: " << err);
}

} // namespace

allocator_actor::behavior_type allocator(allocator_pointer self, allocation_listener_actor listener,
                                         allocator_options opts) {
  if (opts.interval <= caf::timespan::zero()) {
    LOG_WARN(component, "allocation interval must be > 0; using 1s");
    opts.interval = std::chrono::seconds(1);
  }
  self->state.alloc = hierarchical_allocator{std::move(opts.config)};
  self->state.listener = listener;
  self->state.interval = opts.interval;
  if (listener) {
    // The master owns us; without it we have nothing to do, and our periodic timer would keep the
    // actor system alive (caf-notes pitfall 10).
    self->monitor(listener);
    self->set_down_handler([self](const caf::down_msg& msg) {
      if (msg.source == self->state.listener.address()) {
        LOG_INFO(component, "listener is down; allocator quits");
        self->quit(msg.reason);
      }
    });
  }
  self->delayed_send(self, opts.interval, atom::tick_v);
  return {
    [self](atom::add_fw, const framework_id& id, const framework_info& info) {
      auto err = self->state.alloc.add_framework(id, info);
      report("add_fw", err);
      if (err.empty())
        request_run(self);
    },
    [self](atom::update_fw, const framework_id& id, const framework_info& info) {
      auto err = self->state.alloc.update_framework(id, info);
      report("update_fw", err);
      if (err.empty())
        request_run(self);  // a new role may be offered at once
    },
    [self](atom::remove_fw, const framework_id& id) {
      auto err = self->state.alloc.remove_framework(id);
      report("remove_fw", err);
      if (err.empty())
        request_run(self); // its resources are free again
    },
    [self](atom::activate, const framework_id& id) {
      auto err = self->state.alloc.activate_framework(id);
      report("activate", err);
      if (err.empty())
        request_run(self);
    },
    [self](atom::deactivate, const framework_id& id) {
      report("deactivate", self->state.alloc.deactivate_framework(id));
    },
    [self](atom::add_agent, const agent_id& id, const resource_set& total) {
      auto err = self->state.alloc.add_agent(id, total);
      report("add_agent", err);
      if (err.empty())
        request_run(self);
    },
    [self](atom::add_agent, const agent_id& id, const resource_set& total, const std::vector<allocation>& used,
           bool active) {
      size_t ignored = 0;
      auto err = self->state.alloc.add_agent(id, total, used, &ignored);
      report("add_agent", err);
      // In the same step: a run asked for in between must not offer an agent that is to start inactive.
      if (err.empty() && !active)
        report("deactivate_agent", self->state.alloc.deactivate_agent(id));
      if (ignored > 0)
        LOG_INFO(component, "agent " << id << ": " << ignored << " allocation(s) in use ignored (unknown framework "
                                     << "or role, or beyond the total)");
      if (err.empty())
        request_run(self);
    },
    [self](atom::deactivate_agent, const agent_id& id) {
      report("deactivate_agent", self->state.alloc.deactivate_agent(id));
    },
    [self](atom::activate_agent, const agent_id& id) {
      auto err = self->state.alloc.activate_agent(id);
      report("activate_agent", err);
      if (err.empty())
        request_run(self);
    },
    [self](atom::remove_agent, const agent_id& id) {
      report("remove_agent", self->state.alloc.remove_agent(id));
    },
    [self](atom::recover, const framework_id& fw, const agent_id& agent, const std::string& role,
           const resource_set& resources, double refuse_seconds) {
      auto err = self->state.alloc.recover(fw, agent, role, resources, refuse_seconds, self->clock().now());
      report("recover", err);
      if (err.empty())
        request_run(self);
    },
    [self](atom::revive, const framework_id& id, const std::vector<std::string>& roles) {
      auto err = self->state.alloc.revive(id, roles);
      report("revive", err);
      if (err.empty())
        request_run(self);
    },
    [self](atom::suppress, const framework_id& id, const std::vector<std::string>& roles) {
      report("suppress", self->state.alloc.suppress(id, roles));
    },
    [self](atom::update_alloc, const framework_id& fw, const agent_id& agent, const std::string& role,
           const resource_set& consumed, const resource_set& produced) {
      auto err = self->state.alloc.update_allocation(fw, agent, role, consumed, produced);
      report("update_alloc", err);
      if (err.empty())
        request_run(self); // the converted resources may now suit other clients once they come back
    },
    [self](atom::update_alloc, const agent_id& agent, const resource_set& consumed, const resource_set& produced,
           const std::vector<allocation>& returned) -> caf::result<bool> {
      auto& alloc = self->state.alloc;
      for (const auto& a : returned) {
        report("recover", alloc.recover(a.framework, a.agent, a.role, a.resources, 0, self->clock().now()));
        request_run(self);
      }
      if (!alloc.available(agent).contains(consumed))
        return caf::make_error(caf::sec::runtime_error, "resources " + consumed.to_string()
                                                          + " are not free on agent " + agent.value
                                                          + " (in use by tasks or executors)");
      if (auto err = alloc.update_available(agent, consumed, produced); !err.empty())
        return caf::make_error(caf::sec::invalid_argument, err);
      LOG_INFO(component, "free " << consumed << " of agent " << agent << " now " << produced);
      request_run(self);
      return true;
    },
    [self](atom::set_weight, const std::string& role, double weight) -> caf::result<bool> {
      auto err = self->state.alloc.set_weight(role, weight);
      if (!err.empty())
        return caf::make_error(caf::sec::invalid_argument, err);
      LOG_INFO(component, "weight of role '" << role << "' set to " << weight);
      request_run(self);
      return true;
    },
    [self](atom::set_quota, const std::string& role, const quota_info& quota) -> caf::result<bool> {
      auto err = self->state.alloc.set_quota(role, quota);
      if (!err.empty())
        return caf::make_error(caf::sec::invalid_argument, err);
      LOG_INFO(component, "quota of role '" << role << "' set to guarantee " << quota.guarantee << ", limit "
                                            << quota.limit);
      request_run(self);
      return true;
    },
    [self](atom::roles) { return self->state.alloc.roles(); },
    [self](atom::tick) {
      run_allocation(self);
      // Re-armed only while we live: after quit() no handler runs, so the timer chain ends.
      self->delayed_send(self, self->state.interval, atom::tick_v);
    },
    [self](atom::allocate) {
      self->state.run_pending = false;
      run_allocation(self);
    },
  };
}

allocator_actor spawn_allocator(caf::actor_system& sys, allocation_listener_actor listener,
                                allocator_options opts) {
  return sys.spawn(allocator, std::move(listener), std::move(opts));
}

} // namespace mesoscaf
