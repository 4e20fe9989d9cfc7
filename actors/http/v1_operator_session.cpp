#include "actors/http/v1_operator_session.hpp"

#include "actors/http/v1_master_state.hpp"
#include "actors/http/v1_session_support.hpp"
#include "config/support/logging.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <vector>

namespace mesoscaf::http {

namespace {

constexpr const char* component = "v1-operator";

struct session_state {
  v1_operator_session_options opts;
  bool live = false;                  // SUBSCRIBED is out: events go straight to the stream
  std::vector<operator_event> held;   // until then
  static inline const char* name = "v1-operator-session";
};

using session_pointer = v1_operator_session_actor::stateful_pointer<session_state>;

/// Sends one event; false (and the session ends) if the subscriber is gone or too far behind.
bool emit(session_pointer self, const v1_master::Event& e) {
  auto& st = self->state;
  if (push_event(*st.opts.stream, st.opts.codec, e))
    return true;
  self->quit();
  return false;
}

bool emit(session_pointer self, const operator_event& change) {
  v1_master::Event e;
  to_v1_event(change, &e);
  return emit(self, e);
}

} // namespace

v1_operator_session_actor spawn_v1_operator_session(caf::actor_system& sys, v1_operator_session_options opts) {
  auto fn = [](session_pointer self, v1_operator_session_options o) -> v1_operator_session_actor::behavior_type {
    self->state.opts = std::move(o);
    tie_to_stream(self, self->state.opts.stream, self->state.opts.on_exit);
    // Without a master there is nothing to follow: the operator reconnects (to the next leader).
    self->monitor(self->state.opts.master);
    self->set_down_handler([self](const caf::down_msg&) { self->quit(); });
    return {
      [self](atom::subscribe) -> caf::result<bool> {
        auto rp = self->make_response_promise<bool>();
        auto me = caf::actor_cast<operator_listener_actor>(self);
        self->request(self->state.opts.master, self->state.opts.timeout, atom::watch_v, me)
          .then([rp](bool ok) mutable { rp.deliver(ok); },
                [self, rp](caf::error& err) mutable {
                  rp.deliver(err);
                  self->quit();
                });
        return rp;
      },
      [self](atom::op_event, operator_event& change) {
        auto& st = self->state;
        if (st.live) {
          emit(self, change);
          return;
        }
        if (st.held.size() >= st.opts.max_held) {
          LOG_WARN(component, "an operator's stream ends: more than " << st.opts.max_held
                                                                      << " changes while its state was read");
          self->quit();
          return;
        }
        st.held.push_back(std::move(change));
      },
      [self](atom::resume) {
        auto& st = self->state;
        st.live = true;
        auto held = std::move(st.held);
        st.held.clear();
        for (const auto& change : held)
          if (!emit(self, change))
            return;
        self->delayed_send(self, st.opts.heartbeat, atom::tick_v);
      },
      [self](atom::tick) {
        v1_master::Event e;
        e.set_type(v1_master::Event::HEARTBEAT);
        if (emit(self, e))
          self->delayed_send(self, self->state.opts.heartbeat, atom::tick_v);
      },
      [self](atom::exited) { self->quit(); },
    };
  };
  return sys.spawn(fn, std::move(opts));
}

} // namespace mesoscaf::http
