// libFuzzer harness: values operators type into flags and config files (sizes, host:port). The first byte picks
// the parser. Run: scripts/fuzz config_values [SECONDS].
#include "config/support/byte_size.hpp"
#include "config/support/network_address.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  std::string text{reinterpret_cast<const char*>(data) + 1, size - 1};
  switch (data[0] % 2) {
    case 0: {
      auto bytes = mesoscaf::parse_byte_size(text);
      (void) bytes;
      break;
    }
    default: {
      std::string host;
      uint16_t port = 0;
      std::string error;
      if (mesoscaf::parse_host_port(text, host, port, &error) && port == 0)
        __builtin_trap();   // port 0 is refused
      break;
    }
  }
  return 0;
}
