// libFuzzer harness: the resource parser (flags, offers, `mesoscaf execute --resources`) and the arithmetic on
// whatever it accepts. Run: scripts/fuzz resources [SECONDS].
#include "messages/resources.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text{reinterpret_cast<const char*>(data), size};
  std::string error;
  auto r = mesoscaf::resource_set::parse(text, &error);
  if (!r)
    return 0;
  // What it accepted prints, parses again and behaves under arithmetic with itself.
  auto printed = r->to_string();
  auto again = mesoscaf::resource_set::parse(printed, &error);
  if (!again)
    __builtin_trap();   // it printed something it refuses to read
  auto sum = *r + *again;
  auto diff = sum - *r;
  (void) diff.to_string();
  (void) sum.contains(*r);
  return 0;
}
