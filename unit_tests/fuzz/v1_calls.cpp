// libFuzzer harness: the v1 scheduler API's reading of a call (messages/mesos_v1/): the input is read as Mesos'
// JSON and as protobuf, and every operation of a call that decodes is converted to ours. Nothing may crash, and
// whatever converts must be valid in our own terms (resources that pass validate()). The RecordIO reader gets
// the same bytes. Run: scripts/fuzz v1_calls.
#include "messages/mesos_v1/convert.hpp"
#include "messages/mesos_v1/recordio.hpp"
#include "messages/mesos_v1/scheduler.pb.h"
#include "messages/mesos_v1/wire_codec.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace {

void convert_call(const mesos::v1::scheduler::Call& call) {
  using namespace mesoscaf;
  for (const auto& op : call.accept().operations()) {
    offer_operation out;
    if (!mesos_v1::from_v1(op, out).empty())
      continue;
    if (!out.resources.validate().empty())
      __builtin_trap();
    for (const auto& t : out.tasks)
      if (!t.resources.validate().empty())
        __builtin_trap();
  }
  framework_info info;
  (void) mesos_v1::from_v1(call.subscribe().framework_info(), info);
  filters f;
  if (mesos_v1::from_v1(call.decline().filters(), f).empty() && !(f.refuse_seconds >= 0))
    __builtin_trap();
  // What decodes re-encodes, in both codecs.
  (void) mesos_v1::to_json(call);
  (void) call.SerializeAsString();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes{reinterpret_cast<const char*>(data), size};
  for (auto codec : {mesoscaf::mesos_v1::codec::json, mesoscaf::mesos_v1::codec::protobuf}) {
    mesos::v1::scheduler::Call call;
    if (mesoscaf::mesos_v1::decode(codec, bytes, call).empty())
      convert_call(call);
  }
  mesoscaf::mesos_v1::recordio_reader reader{1 << 16};
  std::vector<std::string> records;
  if (reader.feed(bytes, records))
    for (const auto& r : records)
      if (r.size() > (1 << 16))
        __builtin_trap();
  return 0;
}
