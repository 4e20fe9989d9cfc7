// Blocking-but-fast reads of /proc and statvfs; called once at agent start-up.
#include "containerizer/machine_resources.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <sched.h>
#include <sys/statvfs.h>

namespace mesoscaf {

namespace {

constexpr uint64_t mib = 1024 * 1024;

unsigned detect_cpus() {
  cpu_set_t mask;
  CPU_ZERO(&mask);
  // The affinity mask respects taskset/cgroup cpusets, unlike hardware_concurrency.
  if (sched_getaffinity(0, sizeof(mask), &mask) == 0) {
    int n = CPU_COUNT(&mask);
    if (n > 0)
      return static_cast<unsigned>(n);
  }
  auto n = std::thread::hardware_concurrency();
  return n > 0 ? n : 1;
}

// MemTotal in bytes, 0 if unknown.
uint64_t read_mem_total() {
  std::ifstream in("/proc/meminfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("MemTotal:", 0) == 0) {
      std::istringstream ss(line.substr(9));
      uint64_t kb = 0;
      if (ss >> kb)
        return kb * 1024;
    }
  }
  return 0;
}

} // namespace

resource_set detect_machine_resources(const std::string& work_dir) {
  resource_set result = resource_set::scalar("cpus", detect_cpus());
  if (uint64_t total = read_mem_total(); total > 0) {
    constexpr uint64_t reserve = 1024 * mib;
    uint64_t usable = total >= 2 * reserve ? total - reserve : total / 2;
    result += resource_set::scalar("mem", std::max<uint64_t>(usable / mib, 1));
  }
  // The work directory may not exist yet (the agent creates it): measure its nearest existing ancestor.
  struct statvfs fs {};
  std::filesystem::path dir = work_dir.empty() ? std::filesystem::path{"."} : std::filesystem::path{work_dir};
  bool ok = false;
  for (int depth = 0; depth < 64 && !ok; ++depth) {
    ok = statvfs(dir.c_str(), &fs) == 0;
    if (!ok) {
      if (!dir.has_parent_path() || dir.parent_path() == dir)
        break;
      dir = dir.parent_path();
    }
  }
  if (ok) {
    uint64_t avail = static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
    uint64_t headroom = std::min<uint64_t>(avail / 10, 5 * 1024 * mib);
    uint64_t disk_mb = (avail - headroom) / mib;
    if (disk_mb > 0)
      result += resource_set::scalar("disk", static_cast<double>(disk_mb));
  }
  result += resource_set::range("ports", 31000, 32000);
  return result;
}

} // namespace mesoscaf
