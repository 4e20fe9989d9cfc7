#pragma once
// A Mesos v1 event stream (scheduler, executor or operator API) read event by event in the integration tests:
// RecordIO records of the stream's codec, decoded into `Event`. Bounded waits throughout.
#include "http_test_client.hpp"

#include "messages/mesos_v1/recordio.hpp"
#include "messages/mesos_v1/wire_codec.hpp"

#include <chrono>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mesoscaf::test {

template <class Event>
struct v1_event_reader {
  std::unique_ptr<http_stream> http;
  mesos_v1::codec codec = mesos_v1::codec::json;
  mesos_v1::recordio_reader records;
  std::vector<std::string> queued;

  /// The next event, or none within `timeout` (or if the stream ended).
  std::optional<Event> next(std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
    using namespace std::chrono;
    auto deadline = steady_clock::now() + timeout;
    while (queued.empty()) {
      auto left = duration_cast<milliseconds>(deadline - steady_clock::now());
      if (left.count() <= 0)
        return std::nullopt;
      auto bytes = http->read_some(left);
      if (bytes.empty() || !records.feed(bytes, queued))
        return std::nullopt;
    }
    Event e;
    auto err = mesos_v1::decode(codec, queued.front(), e);
    queued.erase(queued.begin());
    if (!err.empty()) {
      std::cerr << "undecodable event: " << err << "\n";
      return std::nullopt;
    }
    return e;
  }

  /// Skips events until one of `type` (HEARTBEATs and others in between are dropped).
  std::optional<Event> next_of(typename Event::Type type,
                               std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
    using namespace std::chrono;
    auto deadline = steady_clock::now() + timeout;
    while (steady_clock::now() < deadline) {
      auto e = next(duration_cast<milliseconds>(deadline - steady_clock::now()));
      if (!e)
        return std::nullopt;
      if (e->type() == type)
        return e;
    }
    return std::nullopt;
  }
};

} // namespace mesoscaf::test
