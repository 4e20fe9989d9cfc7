// libFuzzer harness: every message type as a peer's bytes reach it, through CAF's binary deserializer (and our
// compact codec for the bulky ones). The first byte picks the type; a malformed message must be an error, never a
// crash or a huge allocation. Run: scripts/fuzz messages [SECONDS].
#include "messages/agent_info.hpp"
#include "messages/framework_info.hpp"
#include "messages/launch_spec.hpp"
#include "messages/master_location.hpp"
#include "messages/offer.hpp"
#include "messages/quota.hpp"
#include "messages/registry.hpp"
#include "messages/resource_operations.hpp"
#include "messages/resource_statistics.hpp"
#include "messages/snapshot.hpp"
#include "messages/state_view.hpp"
#include "messages/task_info.hpp"
#include "messages/task_status.hpp"

#include <caf/binary_deserializer.hpp>

#include "messages/finite_doubles.hpp"

#include <cstddef>
#include <cstdint>

namespace {

template <class T>
void decode(const char* data, size_t size) {
  caf::binary_deserializer source{nullptr, data, size};
  T x;
  auto err = source(x);
  (void) err;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mesoscaf::use_finite_doubles();   // as every mesoscaf program does
  if (size == 0)
    return 0;
  auto* bytes = reinterpret_cast<const char*>(data) + 1;
  auto n = size - 1;
  using namespace mesoscaf;
  switch (data[0] % 20) {
    case 0: decode<agent_info>(bytes, n); break;
    case 1: decode<agent_reregistration>(bytes, n); break;
    case 2: decode<framework_info>(bytes, n); break;
    case 3: decode<task_info>(bytes, n); break;
    case 4: decode<task_status>(bytes, n); break;
    case 5: decode<status_update>(bytes, n); break;
    case 6: decode<offer>(bytes, n); break;
    case 7: decode<offer_operation>(bytes, n); break;
    case 8: decode<quota_info>(bytes, n); break;
    case 9: decode<registry_operation>(bytes, n); break;
    case 10: decode<master_location>(bytes, n); break;
    case 11: decode<executor_registration>(bytes, n); break;
    case 12: decode<launch_spec>(bytes, n); break;
    case 13: decode<resource_statistics>(bytes, n); break;
    case 14: decode<resource_set>(bytes, n); break;
    case 15: decode<master_state_view>(bytes, n); break;
    case 16: decode<agent_state_view>(bytes, n); break;
    case 17: decode<agent_snapshot>(bytes, n); break;
    case 18: decode<filters>(bytes, n); break;
    default: decode<registry_data>(bytes, n); break;
  }
  return 0;
}
