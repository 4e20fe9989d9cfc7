// libFuzzer harness: the records a master reads back from its registry store (SQLite rows, ZooKeeper nodes).
// A damaged or hostile record must be an error, never a crash or a huge allocation. Run: scripts/fuzz records.
#include "actors/ha/registry_records.hpp"

#include "messages/finite_doubles.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mesoscaf::use_finite_doubles();   // as every mesoscaf program does
  if (size == 0)
    return 0;
  std::string bytes{reinterpret_cast<const char*>(data) + 1, size - 1};
  if (data[0] % 2 == 0) {
    mesoscaf::registry_agent_record agent;
    if (mesoscaf::decode_registry_record(bytes, agent).empty())
      (void) mesoscaf::encode_registry_record(agent);
  } else {
    mesoscaf::registry_role_record role;
    if (mesoscaf::decode_registry_record(bytes, role).empty())
      (void) mesoscaf::encode_registry_record(role);
  }
  return 0;
}
