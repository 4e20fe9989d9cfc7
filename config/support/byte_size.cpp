#include "config/support/byte_size.hpp"

#include <charconv>
#include <limits>

namespace mesoscaf {

std::optional<uint64_t> parse_byte_size(const std::string& text) {
  uint64_t value = 0;
  auto* end = text.data() + text.size();
  auto [rest, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc{} || rest == text.data())
    return std::nullopt;
  std::string unit{rest, end};
  unsigned shift = 0;
  if (unit.empty() || unit == "B")
    shift = 0;
  else if (unit == "K" || unit == "KiB")
    shift = 10;
  else if (unit == "M" || unit == "MiB")
    shift = 20;
  else if (unit == "G" || unit == "GiB")
    shift = 30;
  else
    return std::nullopt;
  if (value > (std::numeric_limits<uint64_t>::max() >> shift))
    return std::nullopt;
  return value << shift;
}

} // namespace mesoscaf
