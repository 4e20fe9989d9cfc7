#pragma once
// A standby master's heap, faulted in ahead of need. After a failover the new leader takes every agent's
// re-registration at once; on a fresh heap each new page costs a page fault (several microseconds on virtual
// machines), and those faults were half of the re-registration phase. While it stands by, a master therefore
// touches --standby-heap of memory on an idle-priority thread and hands it back to the allocator, which keeps
// it (jemalloc: no decay to the kernel) until the master has recovered; then the allocator's normal decay
// returns what is left unused.
//
// Only with jemalloc (the daemons link it; apps/CMakeLists.txt): the binary sets jemalloc's start-up options
// (heap_reserve.cpp) so that one arena serves every thread (memory touched by one thread is reused by the
// others) and a large free extent may be split for small requests. Without jemalloc, hold() does nothing.
#include <cstddef>

namespace mesoscaf::heap_reserve {

/// Starts touching `bytes` of heap on a background thread of idle priority (SCHED_IDLE: it takes no CPU from
/// anything else) and keeps freed memory with the allocator. Returns false if the allocator cannot keep it (not
/// jemalloc) or bytes is 0. Call once.
bool hold(std::size_t bytes);

/// The reserve is no longer needed: the allocator returns unused memory to the kernel again (its normal decay).
/// Does not block (a warm-up still running stops at its next block). Safe to call more than once, or without
/// hold().
void release();

} // namespace mesoscaf::heap_reserve
