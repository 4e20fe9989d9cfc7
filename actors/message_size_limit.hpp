#pragma once
// The largest message a peer may send to this process over the middleman (`--max-message-size`). A larger one
// closes its connection before anything is allocated for it (actors/message_size_limit.cpp says how).
#include <cstdint>

namespace mesoscaf {

constexpr uint32_t default_max_message_size = 64u << 20;   // 64 MiB

void set_max_message_size(uint32_t bytes);
uint32_t max_message_size();

} // namespace mesoscaf
