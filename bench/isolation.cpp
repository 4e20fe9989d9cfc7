// bench=isolation: 1,000 trivial tasks (`true`) with the cgroups isolators against the same with the posix ones, in
// the same run, and both against the spawn floor. Each isolated task gets a control group of its own (cpu, memory,
// pids; created, joined before exec, killed and removed when it ends), so this is the cost of 1,000 isolated
// containers at task granularity.
// It runs bench_launch (next to this program) once per isolation on a `mesoscaf local --agents=1` cluster (the
// cgroups run under a cgroups root of its own) and reads its key=value lines; bench_launch measures the floor
// (posix_spawn + waitpid of `/bin/sh -c true`, two in flight) in each run. Needs root for the cgroups run.
// Usage: bench_isolation [--tasks=N]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <unistd.h>

namespace {

// The key=value pairs of the first line of `out` starting with `prefix`.
std::map<std::string, std::string> pairs_of(const std::string& out, const std::string& prefix) {
  std::map<std::string, std::string> result;
  std::istringstream lines{out};
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(prefix, 0) != 0)
      continue;
    std::istringstream words{line};
    std::string w;
    while (words >> w)
      if (auto eq = w.find('='); eq != std::string::npos)
        result[w.substr(0, eq)] = w.substr(eq + 1);
    break;
  }
  return result;
}

std::string run(const std::string& cmd) {
  std::string out;
  std::unique_ptr<FILE, int (*)(FILE*)> p{::popen(cmd.c_str(), "r"), ::pclose};
  if (!p)
    return out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p.get())) > 0)
    out.append(buf, n);
  return out;
}

} // namespace

int main(int argc, char** argv) {
  int tasks = 1000;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--tasks=", 8) == 0) {
      tasks = std::atoi(argv[i] + 8);
    } else {
      std::cerr << "usage: bench_isolation [--tasks=N]\n";
      return 2;
    }
  }
  if (tasks < 1) {
    std::cerr << "bench_isolation: --tasks must be >= 1\n";
    return 2;
  }
  if (::geteuid() != 0) {
    std::cerr << "bench_isolation: the cgroups run needs root\n";
    return 1;
  }
  char self[4096];
  auto n = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0)
    return 1;
  self[n] = '\0';
  std::string dir{self};
  dir = dir.substr(0, dir.rfind('/'));
  auto launch = dir + "/bench_launch --agents=1 --tasks=" + std::to_string(tasks);
  auto root = "mesoscaf-bench-" + std::to_string(::getpid());
  auto posix_out = run(launch + " --cluster-flag=--isolation=posix/cpu,posix/mem 2>&1");
  auto cgroups_out = run(launch + " --cluster-flag=--isolation=cgroups/cpu,cgroups/mem,cgroups/pids,disk/du"
                         + " --cluster-flag=--cgroups-root=" + root + " 2>&1");
  auto posix = pairs_of(posix_out, "bench=launch tasks=");
  auto cg = pairs_of(cgroups_out, "bench=launch tasks=");
  if (posix.count("seconds") == 0 || cg.count("seconds") == 0) {
    std::cerr << "bench_isolation: a run failed\n--- posix:\n" << posix_out << "--- cgroups:\n" << cgroups_out;
    return 1;
  }
  double posix_s = std::atof(posix["seconds"].c_str());
  double cg_s = std::atof(cg["seconds"].c_str());
  double floor_s = std::atof(cg["floor_seconds"].c_str());
  std::printf("bench=isolation tasks=%d cgroups_seconds=%.3f posix_seconds=%.3f ratio_cgroups_vs_posix=%.2f\n", tasks,
              cg_s, posix_s, cg_s / posix_s);
  std::printf("bench=isolation floor_seconds=%.3f ratio_cgroups_vs_floor=%.2f ratio_posix_vs_floor=%.2f\n", floor_s,
              cg_s / floor_s, posix_s / std::atof(posix["floor_seconds"].c_str()));
  std::printf("bench=isolation isolated_tasks_per_s=%.0f seconds_per_1000_isolated=%.2f\n", tasks / cg_s,
              cg_s * 1000.0 / tasks);
  // The agents removed their containers' groups; their roots go here.
  run("for d in /sys/fs/cgroup/*/" + root + " /sys/fs/cgroup/" + root + "; do [ -d \"$d\" ] && rmdir \"$d\"/agent0 \"$d\"; done 2>/dev/null");
  return 0;
}
