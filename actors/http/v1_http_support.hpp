#pragma once
// What the v1 API endpoints share (internal to actors/http/): plain-text refusals as Mesos writes them, the
// call's codec and bytes (a body, or one RecordIO record), and the codec of the answer.
#include "actors/http/http_types.hpp"
#include "messages/mesos_v1/wire_codec.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace caf {
class actor_system;
class error;
} // namespace caf

namespace mesoscaf::http {

/// A refusal (or an empty answer) with its reason in plain text.
response plain(int status, const std::string& message);

/// An actor's refusal as text: its reason when the error carries one string (our actors' refusals do), else the
/// rendered error. Callers classify this text, never a rendering that embeds client-chosen IDs.
std::string refusal_text(caf::actor_system& sys, const caf::error& err);
/// Mesos' logging level (GET_LOGGING_LEVEL) is glog's verbosity: 0 normally, 1 at debug, 2 at trace.
uint32_t mesos_logging_level();
/// The value of a request header ("" if absent).
std::string header(const request& req, const std::string& name);
/// The codec the client accepts for the answer: the request's own if `Accept` allows it or says nothing, else
/// the one it lists. None: 406.
std::optional<mesos_v1::codec> accepted_codec(const request& req, mesos_v1::codec body);
/// How a stream's events reach the client: always RecordIO-framed, in `codec`. With `Accept: application/recordio`
/// (Mesos' streaming responses; the events' codec in `Message-Accept`) the answer's type says so, with the codec in
/// `Message-Content-Type`; otherwise its type is the codec's.
struct stream_format {
  mesos_v1::codec codec;
  bool recordio_type = false;
};
/// None: 406.
std::optional<stream_format> accepted_stream_format(const request& req, mesos_v1::codec body);
/// Content-Type (and Message-Content-Type) of a stream answer.
void set_stream_type(response& res, const stream_format& f);
/// The call's codec and bytes: the body, or the one record of an application/recordio body (its
/// Message-Content-Type names the codec), at most `max_record` bytes. A refusal (400, 415) otherwise.
std::variant<std::pair<mesos_v1::codec, std::string>, response> call_body(const request& req,
                                                                           std::size_t max_record);

/// The common opening of a v1 endpoint: POST only, the body read as a `Call` (`what` names it in refusals), and a
/// known call type. Fills `call` and `codec`; a refusal (405, 4xx) otherwise.
template <class Call>
std::optional<response> read_call(const request& req, std::size_t max_record, const char* what, Call& call,
                                  mesos_v1::codec& codec) {
  if (req.method != "POST")
    return plain(405, "Expecting 'POST', not '" + req.method + "'");
  auto body = call_body(req, max_record);
  if (auto* refusal = std::get_if<response>(&body))
    return std::move(*refusal);
  auto& [c, bytes] = std::get<std::pair<mesos_v1::codec, std::string>>(body);
  codec = c;
  if (auto err = mesos_v1::decode(c, bytes, call); !err.empty())
    return plain(400, std::string{"Failed to parse the body into a "} + what + " Call: " + err);
  if (!call.has_type() || call.type() == Call::UNKNOWN)
    return plain(400, "Expecting 'type' to be present and a known call type");
  return std::nullopt;
}

} // namespace mesoscaf::http
