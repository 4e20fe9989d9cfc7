#include "messages/resource_statistics.hpp"

#include <cstdio>

namespace mesoscaf {

namespace {

std::string bytes(uint64_t n) {
  char buf[32];
  if (n >= (uint64_t{1} << 30))
    std::snprintf(buf, sizeof(buf), "%.1fGB", static_cast<double>(n) / (1 << 30));
  else if (n >= (uint64_t{1} << 20))
    std::snprintf(buf, sizeof(buf), "%.1fMB", static_cast<double>(n) / (1 << 20));
  else
    std::snprintf(buf, sizeof(buf), "%.1fKB", static_cast<double>(n) / 1024);
  return buf;
}

} // namespace

std::string to_string(const resource_statistics& x) {
  char cpu[64];
  std::snprintf(cpu, sizeof(cpu), "cpu_user=%.2fs cpu_system=%.2fs", x.cpus_user_time_secs, x.cpus_system_time_secs);
  std::string s = cpu;
  s += " mem_rss=" + bytes(x.mem_rss_bytes);
  s += " mem_peak=" + bytes(x.mem_peak_bytes);
  s += " processes=" + std::to_string(x.processes);
  s += " disk_used=" + bytes(x.disk_used_bytes);
  return s;
}

} // namespace mesoscaf
