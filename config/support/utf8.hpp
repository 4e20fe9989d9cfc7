#pragma once
// Text from clients is whatever bytes they sent: JSON writers replace what is not UTF-8 (header only, so every
// layer that writes JSON can use it).
#include <cstddef>
#include <string>
#include <string_view>

namespace mesoscaf {

/// `text` unchanged if it is valid UTF-8 (`*changed` false), else with each invalid byte replaced by U+FFFD.
inline std::string utf8_clean(std::string_view text, bool* changed = nullptr) {
  auto sequence_at = [&](std::size_t i) -> std::size_t {
    auto c = static_cast<unsigned char>(text[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (n == 0 || i + n > text.size())
      return 0;
    for (std::size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(text[i + k]) >> 6) != 0x2)
        return 0;
    return n;
  };
  std::string out;
  out.reserve(text.size());
  bool replaced = false;
  for (std::size_t i = 0; i < text.size();) {
    if (auto n = sequence_at(i)) {
      out.append(text.data() + i, n);
      i += n;
    } else {
      out += "\xef\xbf\xbd";
      replaced = true;
      ++i;
    }
  }
  if (changed)
    *changed = replaced;
  return out;
}

/// True if every byte is ASCII (the common case, which needs no check).
inline bool is_ascii(std::string_view text) {
  for (char c : text)
    if (static_cast<unsigned char>(c) >= 0x80)
      return false;
  return true;
}

} // namespace mesoscaf
