#pragma once
// What the v1 APIs' session actors share (internal to actors/http/): the tie between a session and its HTTP
// stream, and sending one event on it.
#include "actors/http/event_stream.hpp"
#include "messages/mesos_v1/recordio.hpp"
#include "messages/mesos_v1/wire_codec.hpp"
#include "messages/type_ids.hpp"

#include <caf/actor.hpp>
#include <caf/actor_cast.hpp>
#include <caf/send.hpp>

#include <functional>
#include <memory>

namespace mesoscaf::http {

/// However the session ends, its stream ends with it and `on_exit` runs (the HTTP layer forgets the session); the
/// client leaving sends the session `exited`.
template <class Self>
void tie_to_stream(Self* self, const std::shared_ptr<event_stream>& stream, std::function<void()> on_exit) {
  self->attach_functor([on_exit = std::move(on_exit), stream] {
    stream->finish();
    if (on_exit)
      on_exit();
  });
  stream->on_close([me = caf::actor_cast<caf::actor>(self)] { caf::anon_send(me, atom::exited_v); });
}

/// One event as a RecordIO record in the stream's codec; false if the client is gone or too far behind.
template <class Event>
bool push_event(event_stream& stream, mesos_v1::codec codec, const Event& e) {
  return stream.push(mesos_v1::recordio_frame(mesos_v1::encode(codec, e)));
}

} // namespace mesoscaf::http
