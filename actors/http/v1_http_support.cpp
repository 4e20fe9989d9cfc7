#include "actors/http/v1_http_support.hpp"

#include "config/support/logging.hpp"

#include <caf/actor_system.hpp>
#include <caf/error.hpp>
#include <caf/message.hpp>
#include "messages/mesos_v1/recordio.hpp"

#include <vector>

namespace mesoscaf::http {

using mesos_v1::codec;

std::string refusal_text(caf::actor_system& sys, const caf::error& err) {
  const auto& ctx = err.context();
  if (ctx.size() == 1 && ctx.match_element<std::string>(0))
    return ctx.get_as<std::string>(0);
  return sys.render(err);
}

response plain(int status, const std::string& message) {
  return response::text(message, status);
}

uint32_t mesos_logging_level() {
  switch (log::current_level()) {
    case log::level::debug:
      return 1;
    case log::level::trace:
      return 2;
    default:
      return 0;
  }
}

std::string header(const request& req, const std::string& name) {
  auto i = req.headers.find(name);
  return i == req.headers.end() ? std::string{} : i->second;
}

namespace {

/// Whether a comma-separated `Accept` value lists `type` (parameters ignored).
bool lists_type(const std::string& accept, const std::string& type) {
  std::size_t start = 0;
  while (start <= accept.size()) {
    auto comma = accept.find(',', start);
    auto item = accept.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    auto base = item.substr(0, item.find(';'));
    base.erase(0, base.find_first_not_of(' '));
    base.erase(base.find_last_not_of(' ') + 1);
    if (base == type)
      return true;
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
  return false;
}

std::optional<codec> codec_from_accept(const std::string& accept, codec body) {
  if (accept.empty())
    return body;
  bool json = false, proto = false, any = false;
  std::size_t start = 0;
  while (start <= accept.size()) {
    auto comma = accept.find(',', start);
    auto item = accept.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    auto c = mesos_v1::codec_of(item);
    auto base = item.substr(0, item.find(';'));
    base.erase(0, base.find_first_not_of(' '));
    base.erase(base.find_last_not_of(' ') + 1);
    if (c == codec::json)
      json = true;
    else if (c == codec::protobuf)
      proto = true;
    else if (base == "*/*" || base == "application/*")
      any = true;
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
  if ((body == codec::json && (json || any)) || (body == codec::protobuf && (proto || any)))
    return body;
  if (json)
    return codec::json;
  if (proto)
    return codec::protobuf;
  return std::nullopt;
}

} // namespace

std::optional<codec> accepted_codec(const request& req, codec body) {
  return codec_from_accept(header(req, "accept"), body);
}

std::optional<stream_format> accepted_stream_format(const request& req, codec body) {
  auto accept = header(req, "accept");
  if (lists_type(accept, "application/recordio")) {
    auto c = codec_from_accept(header(req, "message-accept"), body);
    if (!c)
      return std::nullopt;
    return stream_format{*c, true};
  }
  auto c = codec_from_accept(accept, body);
  if (!c)
    return std::nullopt;
  return stream_format{*c, false};
}

void set_stream_type(response& res, const stream_format& f) {
  if (f.recordio_type) {
    res.content_type = "application/recordio";
    res.headers.emplace_back("Message-Content-Type", mesos_v1::content_type(f.codec));
  } else {
    res.content_type = mesos_v1::content_type(f.codec);
  }
}

std::variant<std::pair<codec, std::string>, response> call_body(const request& req, std::size_t max_record) {
  auto type = header(req, "content-type");
  if (type.empty())
    return plain(400, "Expecting 'Content-Type' to be present");
  if (auto c = mesos_v1::codec_of(type))
    return std::make_pair(*c, req.body);
  if (type.substr(0, type.find(';')) != "application/recordio")
    return plain(415, "Expecting 'Content-Type' of application/json or application/x-protobuf (or "
                      "application/recordio with a Message-Content-Type of either), not '" + type.substr(0, 100) + "'");
  auto inner = mesos_v1::codec_of(header(req, "message-content-type"));
  if (!inner)
    return plain(415, "Expecting 'Message-Content-Type' of application/json or application/x-protobuf");
  mesos_v1::recordio_reader reader{max_record};
  std::vector<std::string> records;
  if (!reader.feed(req.body, records, 2))
    return plain(400, "Failed to read the RecordIO body: " + reader.error());
  if (records.size() != 1 || reader.pending() != 0)
    return plain(400, "Expecting exactly one RecordIO record in the body, found "
                        + std::to_string(records.size()) + (reader.pending() ? " and an incomplete one" : ""));
  return std::make_pair(*inner, std::move(records[0]));
}

} // namespace mesoscaf::http
