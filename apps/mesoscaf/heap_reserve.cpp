#include "apps/mesoscaf/heap_reserve.hpp"

#include "config/support/logging.hpp"

#include <jemalloc/jemalloc.h>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <pthread.h>
#include <sched.h>
#include <sys/types.h>
#include <unistd.h>

// jemalloc reads these start-up options before main (every subcommand of this binary gets them). One arena for
// every thread: pages one thread faulted in are reused by all (the default gives each thread one of 4 x cores
// arenas). Free extents of any size may be split for small requests: the default refuses extents more than 64
// times the request, which would leave a coalesced reserve unused and fault in fresh pages instead.
extern "C" {
const char* malloc_conf = "narenas:1,lg_extent_max_active_fit:30";
}

namespace mesoscaf::heap_reserve {

namespace {

constexpr const char* component = "heap";

struct shared_state {
  std::mutex mtx;
  bool held = false;           // hold() succeeded: decay is off
  bool warming = false;        // the warm-up thread still runs
  bool released = false;
  std::atomic<bool> stop{false};
  ssize_t dirty_decay_ms = 10000;   // the allocator's own settings, restored on release
  ssize_t muzzy_decay_ms = 0;
};

shared_state& shared() {
  static auto* s = new shared_state;   // never destroyed: the detached warm-up thread may outlive main
  return *s;
}

/// Sets both decay times on every arena, and as the default of arenas created later. False if jemalloc refuses.
bool set_decay(ssize_t dirty, ssize_t muzzy) {
  unsigned narenas = 0;
  size_t len = sizeof narenas;
  if (mallctl("arenas.narenas", &narenas, &len, nullptr, 0) != 0)
    return false;
  for (unsigned i = 0; i < narenas; ++i) {
    // Arenas not initialized yet refuse: they take the defaults below when they are.
    auto prefix = "arena." + std::to_string(i);
    mallctl((prefix + ".dirty_decay_ms").c_str(), nullptr, nullptr, &dirty, sizeof dirty);
    mallctl((prefix + ".muzzy_decay_ms").c_str(), nullptr, nullptr, &muzzy, sizeof muzzy);
  }
  return mallctl("arenas.dirty_decay_ms", nullptr, nullptr, &dirty, sizeof dirty) == 0
         && mallctl("arenas.muzzy_decay_ms", nullptr, nullptr, &muzzy, sizeof muzzy) == 0;
}

void restore_decay(shared_state& s) {
  if (!set_decay(s.dirty_decay_ms, s.muzzy_decay_ms))
    LOG_WARN(component, "cannot restore the allocator's decay; unused memory stays with the process");
}

void warm_up(std::size_t bytes) {
  auto& s = shared();
  // Only when nothing else wants the CPU: a standby has time, and the leader's work must not wait for this.
  sched_param param{};
  pthread_setschedparam(pthread_self(), SCHED_IDLE, &param);
  constexpr std::size_t block = std::size_t{1} << 20;   // below jemalloc's oversize threshold (own arena)
  auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  std::vector<void*> blocks;
  blocks.reserve(bytes / block + 1);
  for (std::size_t done = 0; done < bytes && !s.stop.load(); done += block) {
    auto* p = std::malloc(block);
    if (p == nullptr)
      break;
    // volatile: the stores must happen although the memory is freed unread.
    auto* bytes_of = static_cast<volatile char*>(p);
    for (std::size_t k = 0; k < block; k += page)
      bytes_of[k] = 0;
    blocks.push_back(p);
  }
  auto touched = blocks.size() * block;
  for (auto* p : blocks)
    std::free(p);   // back to the arena as dirty pages, kept (decay off)
  std::lock_guard<std::mutex> guard{s.mtx};
  s.warming = false;
  if (s.released)
    restore_decay(s);
  else
    LOG_INFO(component, "standby heap reserve ready: " << (touched >> 20) << " MiB faulted in");
}

} // namespace

bool hold(std::size_t bytes) {
  auto& s = shared();
  if (bytes == 0)
    return false;
  std::lock_guard<std::mutex> guard{s.mtx};
  if (s.held || s.released)
    return false;
  unsigned narenas = 0;
  size_t len = sizeof narenas;
  if (mallctl("opt.narenas", &narenas, &len, nullptr, 0) != 0 || narenas != 1) {
    // MALLOC_CONF from the environment overrides ours: memory touched here would sit in another arena.
    LOG_WARN(component, "no standby heap reserve: jemalloc runs " << narenas << " arenas, not 1");
    return false;
  }
  len = sizeof s.dirty_decay_ms;
  mallctl("opt.dirty_decay_ms", &s.dirty_decay_ms, &len, nullptr, 0);
  len = sizeof s.muzzy_decay_ms;
  mallctl("opt.muzzy_decay_ms", &s.muzzy_decay_ms, &len, nullptr, 0);
  if (!set_decay(-1, -1)) {
    LOG_WARN(component, "no standby heap reserve: jemalloc refuses to keep freed memory");
    return false;
  }
  s.held = true;
  s.warming = true;
  std::thread{warm_up, bytes}.detach();
  return true;
}

void release() {
  auto& s = shared();
  std::lock_guard<std::mutex> guard{s.mtx};
  if (s.released || !s.held)
    return;
  s.released = true;
  s.stop = true;
  if (!s.warming)
    restore_decay(s);   // otherwise the warm-up thread restores it when it stops
  LOG_INFO(component, "standby heap reserve released: the allocator returns unused memory again");
}

} // namespace mesoscaf::heap_reserve
