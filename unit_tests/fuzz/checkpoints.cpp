// libFuzzer harness: the checkpoint records an agent reads back when it recovers (actors/agent/agent_checkpoint.hpp):
// agent, framework, executor and task records and the status update log. A damaged file must be an error, never a
// crash or a huge allocation, and whatever is accepted must encode and decode again. Run: scripts/fuzz checkpoints.
#include "actors/agent/agent_checkpoint.hpp"

#include "messages/finite_doubles.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace {

template <class Record>
void round_trip(const std::string& bytes) {
  Record x;
  if (!mesoscaf::decode_record(bytes, x).empty())
    return;
  auto again = mesoscaf::encode_frame(x);
  Record y;
  if (!mesoscaf::decode_record(again, y).empty())
    __builtin_trap();   // what we accepted, we can write and read back
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mesoscaf::use_finite_doubles();   // as every mesoscaf program does
  if (size == 0)
    return 0;
  std::string bytes{reinterpret_cast<const char*>(data) + 1, size - 1};
  switch (data[0] % 5) {
    case 0: round_trip<mesoscaf::agent_record>(bytes); break;
    case 1: round_trip<mesoscaf::framework_info>(bytes); break;
    case 2: round_trip<mesoscaf::executor_record>(bytes); break;
    case 3: round_trip<mesoscaf::task_record>(bytes); break;
    default: {
      std::vector<mesoscaf::update_record> log;
      bool truncated = false;
      auto err = mesoscaf::decode_update_log(bytes, log, &truncated);
      (void) err;
      break;
    }
  }
  return 0;
}
