// Isolation at the agent: the `usage` query and, after recovery, the destruction of containers nobody owns.
// The work is the containerizer's (containerizer/containerizer_actor.hpp); the agent only names what is whose.
#include "actors/agent/agent_state.hpp"

#include "config/support/logging.hpp"

namespace mesoscaf::agent_internal {

caf::typed_response_promise<std::vector<container_usage>> on_usage(agent_ptr self) {
  auto& st = self->state;
  auto rp = self->make_response_promise<std::vector<container_usage>>();
  if (!st.containerizer) {  // its restart is pending: nothing measurable runs under our eyes
    rp.deliver(std::vector<container_usage>{});
    return rp;
  }
  self->request(st.containerizer, st.opts.request_timeout, atom::usage_v)
    .then(
      [self, rp](std::vector<container_usage>& xs) mutable {
        auto& st = self->state;
        for (auto& u : xs)
          if (auto i = st.by_container.find(u.container); i != st.by_container.end()) {
            u.framework = i->second.first;
            u.executor = i->second.second;
          }
        rp.deliver(std::move(xs));
      },
      [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
  return rp;
}

void destroy_orphan_containers(agent_ptr self, std::vector<container_id> orphans) {
  auto& st = self->state;
  if (orphans.empty() || !st.containerizer || !st.opts.control_groups || !st.opts.isolation.uses_cgroups())
    return;
  self->request(st.containerizer, st.opts.request_timeout, atom::recover_v, std::move(orphans))
    .then(
      [](int32_t n) {
        if (n > 0)
          LOG_INFO(component, "destroyed " << n << " orphaned container(s) of an earlier agent process");
      },
      [self](caf::error& err) { LOG_WARN(component, "cannot destroy orphaned containers: " << render(self, err)); });
}

void update_container_limits(agent_ptr self, const executor_entry& e) {
  auto& st = self->state;
  // The command executor's tasks have groups of their own (containerizer/isolation.hpp). A DEFAULT executor's
  // tasks also have, nested in one for the whole group (its live tasks together).
  bool group = e.info.type == executor_type::default_executor;
  if ((e.command && !group) || !st.containerizer || !st.opts.control_groups || !st.opts.isolation.uses_cgroups())
    return;
  resource_set tasks;
  for (auto& [key, t] : st.tasks)
    if (key.first == e.framework && t.executor == e.info.id && t.launched && !is_terminal(t.state))
      tasks += t.info.resources;
  if (group)
    self->send(st.containerizer, atom::update_v, e.container, e.info.resources, tasks);
  else
    self->send(st.containerizer, atom::update_v, e.container, e.info.resources + tasks);
}

} // namespace mesoscaf::agent_internal
