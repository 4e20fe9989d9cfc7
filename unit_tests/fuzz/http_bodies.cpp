// libFuzzer harness: the bodies operators send to the master's HTTP API (PUT /weights, POST /quota). The first
// byte picks the parser; whatever it accepts must be finite and non-negative. Run: scripts/fuzz http_bodies.
#include "actors/http/state_json.hpp"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  std::string body{reinterpret_cast<const char*>(data) + 1, size - 1};
  if (data[0] % 2 == 0) {
    std::vector<std::pair<std::string, double>> weights;
    if (mesoscaf::http::parse_weights(body, weights).empty())
      for (auto& [role, w] : weights)
        if (!std::isfinite(w) || w <= 0)
          __builtin_trap();   // weights must be finite and positive
  } else {
    std::string role;
    mesoscaf::quota_info quota;
    auto err = mesoscaf::http::parse_quota(body, role, quota);
    (void) err;
  }
  return 0;
}
