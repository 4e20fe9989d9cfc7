#pragma once
// Buffers for large answers (/state of a big cluster is tens of megabytes), kept allocated from one answer to the
// next. A fresh buffer of that size costs more in page faults than writing the answer into it (about 3 ms per
// MiB on the 2-core VMs we run on: bench/state.cpp), and the allocator hands such buffers back to the system
// when freed, so every answer would pay it again.
#include <cstddef>
#include <string>

namespace mesoscaf::http {

/// An empty string whose capacity is at least `expected` bytes: a kept buffer when one is free.
std::string take_body_buffer(std::size_t expected);

/// Keeps `body`'s memory for a later answer if it is large (at least 1 MiB) and fewer than a few are kept.
void return_body_buffer(std::string&& body);

} // namespace mesoscaf::http
