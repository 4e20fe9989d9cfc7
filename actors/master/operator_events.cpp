// The master's changes as events for operators following it (the v1 operator API's SUBSCRIBE stream). Each
// publish_* builds its event only when someone listens, from the registry entry as it is after the change.
#include "actors/master/operator_events.hpp"

#include "actors/master/state_pages.hpp"
#include "config/support/logging.hpp"

#include <caf/all.hpp>

namespace mesoscaf {

namespace {

constexpr const char* component = "master";
/// Mesos' --max_operator_event_stream_subscribers default.
constexpr std::size_t max_operator_listeners = 1000;

template <class MakeEvent>
void publish(master_pointer self, MakeEvent make) {
  auto& listeners = self->state.operator_listeners;
  if (listeners.empty())
    return;
  auto e = make();
  for (const auto& l : listeners)
    self->send(l, atom::op_event_v, e);
}

} // namespace

caf::result<bool> watch(master_pointer self, const operator_listener_actor& listener) {
  auto& src = self->current_sender();
  if (!listener || !src || src->node() != self->node()) {
    LOG_WARN(component, "refused a watch from " << (src ? "a remote actor" : "an anonymous sender")
                                                << ": only the master's own HTTP layer follows its changes");
    return caf::make_error(caf::sec::invalid_argument, "watch: only actors of the master's process may watch");
  }
  // Each listener costs a copy of every change: bounded as Mesos bounds its operator event streams.
  if (self->state.operator_listeners.size() >= max_operator_listeners) {
    LOG_WARN(component, "refused an operator subscription: " << max_operator_listeners << " are open");
    return caf::make_error(caf::sec::invalid_argument, "too many operator subscribers (at most "
                                                         + std::to_string(max_operator_listeners) + ")");
  }
  self->state.operator_listeners.push_back(listener);
  self->monitor(listener);
  return true;
}

bool forget_listener(master_pointer self, const caf::actor_addr& addr) {
  auto& ls = self->state.operator_listeners;
  auto i = std::find_if(ls.begin(), ls.end(), [&](const auto& l) { return l.address() == addr; });
  if (i == ls.end())
    return false;
  ls.erase(i);
  return true;
}

void publish_task_added(master_pointer self, const framework_id& fid, const task_id& tid) {
  const auto* t = self->state.reg.live_task(fid, tid);
  if (t == nullptr)
    return;
  publish(self, [&] {
    operator_event e;
    e.type = operator_event_type::task_added;
    e.task = view_of(*t);
    return e;
  });
}

void publish_task_updated(master_pointer self, const framework_id& fid, const task_status& status,
                          task_state latest) {
  publish(self, [&] {
    operator_event e;
    e.type = operator_event_type::task_updated;
    e.framework = fid;
    e.status = status;
    e.state = latest;
    return e;
  });
}

void publish_agent_added(master_pointer self, const agent_id& aid) {
  const auto* a = self->state.reg.agent(aid);
  if (a == nullptr)
    return;
  publish(self, [&] {
    operator_event e;
    e.type = operator_event_type::agent_added;
    e.agent = view_of(*a);
    return e;
  });
}

void publish_agent_removed(master_pointer self, const agent_id& aid) {
  publish(self, [&] {
    operator_event e;
    e.type = operator_event_type::agent_removed;
    e.removed_agent = aid;
    return e;
  });
}

void publish_framework(master_pointer self, const framework_id& fid, operator_event_type type) {
  const auto* f = self->state.reg.framework(fid);
  if (f == nullptr)
    return;
  publish(self, [&] {
    operator_event e;
    e.type = type;
    e.fw = view_of(self->state.reg, *f);
    return e;
  });
}

void publish_framework_removed(master_pointer self, const framework_info& info) {
  publish(self, [&] {
    operator_event e;
    e.type = operator_event_type::framework_removed;
    e.fw.info = info;
    return e;
  });
}

} // namespace mesoscaf
