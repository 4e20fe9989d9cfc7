#pragma once
// Sizes in flags and config files: "67108864", "64MiB", "512KiB", "1GiB" (also K, M, G; binary units).
#include <cstdint>
#include <optional>
#include <string>

namespace mesoscaf {

/// The size in bytes, or nullopt if `text` is not a whole number with an optional unit, or overflows.
std::optional<uint64_t> parse_byte_size(const std::string& text);

} // namespace mesoscaf
