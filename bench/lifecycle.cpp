// bench=lifecycle (issue: the task's life). Two questions, each against a baseline measured in the same run:
//  1. What do health checks cost? N tasks (`sleep`, default 200) run on a real `mesoscaf local --agents=1`; the
//     CPU used by the cluster process (master + agent) and its command executor (with the check processes it
//     reaped) over a window is measured with no checks, then with a COMMAND check (`true`) every second per task.
//     check_cpu_ratio = with / without; cpu_per_check_ms = the extra CPU per check, against the physical floor
//     measured in the same run: the CPU of one posix_spawn + waitpid of `/bin/sh -c true` (spawn_floor_cpu_ms).
//  2. What does the fetcher cost? Time from launch to TASK_RUNNING of a task with no URI, with a 50 MB artifact
//     (file://, not cached) and with the same artifact cached (cache=true, after a first run filled the cache).
// This process is the framework (the C++ scheduler driver over loopback).
// Usage: bench_lifecycle [--tasks=N] [--window=SECONDS] [--artifact-mb=N] [--repeats=N]
#include "actors/sdk/framework_config.hpp"
#include "actors/sdk/scheduler_driver.hpp"
#include "child_process.hpp"

#include <caf/actor_system.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <dirent.h>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

extern char** environ;

using namespace mesoscaf;
using namespace std::chrono;

namespace {

struct options {
  int tasks = 200;
  int window = 10;
  int artifact_mb = 50;
  int repeats = 3;
};

// User+system CPU seconds of a process, plus what its reaped children used.
double cpu_with_children(pid_t pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/stat"};
  std::string stat;
  std::getline(in, stat);
  auto close = stat.rfind(')');
  if (close == std::string::npos)
    return 0;
  std::vector<std::string> fields;
  std::string field;
  for (size_t i = close + 2; i <= stat.size(); ++i) {
    if (i == stat.size() || stat[i] == ' ') {
      fields.push_back(field);
      field.clear();
    } else {
      field += stat[i];
    }
  }
  // fields[0] is the state (stat field 3): utime, stime, cutime, cstime are fields 14-17.
  if (fields.size() < 15)
    return 0;
  double ticks = 0;
  for (int i = 11; i <= 14; ++i)
    ticks += std::stod(fields[i]);
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// The command executors running now.
std::vector<pid_t> executor_pids() {
  std::vector<pid_t> out;
  auto* d = ::opendir("/proc");
  if (d == nullptr)
    return out;
  while (auto* e = ::readdir(d)) {
    pid_t pid = std::atoi(e->d_name);
    if (pid <= 0)
      continue;
    std::ifstream in{"/proc/" + std::to_string(pid) + "/cmdline"};
    std::string cmdline{std::istreambuf_iterator<char>{in}, {}};
    if (cmdline.find(std::string{"command-executor"}) != std::string::npos)
      out.push_back(pid);
  }
  ::closedir(d);
  return out;
}

double cluster_cpu(pid_t cluster) {
  double total = cpu_with_children(cluster);
  for (auto pid : executor_pids())
    total += cpu_with_children(pid);
  return total;
}

/// Launches the tasks it is given from offers and records when each one reached TASK_RUNNING.
struct bench_scheduler : scheduler {
  std::mutex mtx;
  std::condition_variable cv;
  std::vector<task_info> pending;
  std::map<std::string, steady_clock::time_point> launched_at;
  std::map<std::string, double> running_after;  // seconds from launch to TASK_RUNNING
  std::map<std::string, task_state> last;

  void resource_offers(scheduler_driver* d, const std::vector<offer>& offers) override {
    std::lock_guard<std::mutex> guard{mtx};
    for (auto& o : offers) {
      auto left = o.resources;
      std::vector<task_info> batch;
      while (!pending.empty() && left.contains(pending.back().resources)) {
        left = left - pending.back().resources;
        batch.push_back(pending.back());
        launched_at[pending.back().id.value] = steady_clock::now();
        pending.pop_back();
      }
      if (batch.empty())
        d->decline_offer(o.id, filters{1});
      else
        d->launch_tasks({o.id}, batch, filters{0});
    }
  }

  void status_update(scheduler_driver*, const task_status& s) override {
    std::lock_guard<std::mutex> guard{mtx};
    last[s.task.value] = s.state;
    if (s.state == task_state::running && running_after.count(s.task.value) == 0) {
      auto i = launched_at.find(s.task.value);
      if (i != launched_at.end())
        running_after[s.task.value] = duration<double>(steady_clock::now() - i->second).count();
    }
    cv.notify_all();
  }

  void add(std::vector<task_info> tasks, scheduler_driver& d) {
    {
      std::lock_guard<std::mutex> guard{mtx};
      pending.insert(pending.end(), tasks.begin(), tasks.end());
    }
    d.revive_offers();
  }

  bool wait_running(size_t n, seconds limit) {
    std::unique_lock<std::mutex> guard{mtx};
    return cv.wait_for(guard, limit, [&] { return running_after.size() >= n; });
  }

  bool wait_state(const std::string& id, task_state st, seconds limit) {
    std::unique_lock<std::mutex> guard{mtx};
    return cv.wait_for(guard, limit, [&] { return last.count(id) > 0 && last[id] == st; });
  }
};

task_info sleeper(const std::string& id, bool with_check) {
  task_info t;
  t.id = task_id{id};
  t.name = id;
  t.resources = *resource_set::parse("cpus:0.01;mem:4");
  command_info c;
  c.value = "exec sleep 600";
  t.command = c;
  if (with_check) {
    health_check hc;
    hc.command.value = "true";
    hc.delay = 0;
    hc.interval = 1;
    hc.grace_period = 0;
    t.health_check = hc;
  }
  return t;
}

// CPU of the cluster over the window with N tasks running (with or without checks); the framework ends after.
double measure_checks(caf::actor_system& sys, const std::string& master, pid_t cluster, const options& o,
                      bool with_check) {
  bench_scheduler sched;
  framework_info fw;
  fw.name = with_check ? "bench-checks" : "bench-plain";
  scheduler_driver driver{sys, &sched, fw, master};
  if (driver.start() != driver_status::running) {
    std::cerr << "cannot subscribe: " << driver.abort_reason() << "\n";
    std::exit(1);
  }
  std::vector<task_info> tasks;
  for (int i = 0; i < o.tasks; ++i)
    tasks.push_back(sleeper((with_check ? "hc-" : "plain-") + std::to_string(i), with_check));
  sched.add(tasks, driver);
  if (!sched.wait_running(static_cast<size_t>(o.tasks), seconds(300))) {
    std::cerr << "tasks did not all start\n";
    std::exit(1);
  }
  std::this_thread::sleep_for(seconds(2));  // the launch's own work is over
  auto before = cluster_cpu(cluster);
  std::this_thread::sleep_for(seconds(o.window));
  auto used = cluster_cpu(cluster) - before;
  driver.stop();
  driver.join();
  // The executor kills its tasks and ends; wait for it so the next phase starts clean.
  for (int i = 0; i < 300 && !executor_pids().empty(); ++i)
    std::this_thread::sleep_for(milliseconds(100));
  return used;
}

// CPU (ours and the children's) per posix_spawn + waitpid of `/bin/sh -c true`, what a COMMAND check must cost.
double spawn_floor_cpu_ms(int n) {
  auto cpu = [] {
    rusage self{}, kids{};
    ::getrusage(RUSAGE_SELF, &self);
    ::getrusage(RUSAGE_CHILDREN, &kids);
    auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
    return secs(self.ru_utime) + secs(self.ru_stime) + secs(kids.ru_utime) + secs(kids.ru_stime);
  };
  const char* args[] = {"/bin/sh", "-c", "true", nullptr};
  auto before = cpu();
  for (int i = 0; i < n; ++i) {
    pid_t pid;
    if (::posix_spawn(&pid, "/bin/sh", nullptr, nullptr, const_cast<char**>(args), environ) == 0)
      ::waitpid(pid, nullptr, 0);
  }
  return (cpu() - before) / n * 1000;
}

double median(std::vector<double> xs) {
  std::sort(xs.begin(), xs.end());
  return xs.empty() ? 0 : xs[xs.size() / 2];
}

} // namespace

int main(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const char* prefix) { return std::atoi(a.substr(std::string{prefix}.size()).c_str()); };
    if (a.rfind("--tasks=", 0) == 0)
      o.tasks = value("--tasks=");
    else if (a.rfind("--window=", 0) == 0)
      o.window = value("--window=");
    else if (a.rfind("--artifact-mb=", 0) == 0)
      o.artifact_mb = value("--artifact-mb=");
    else if (a.rfind("--repeats=", 0) == 0)
      o.repeats = value("--repeats=");
    else {
      std::cerr << "usage: bench_lifecycle [--tasks=N] [--window=SECONDS] [--artifact-mb=N] [--repeats=N]\n";
      return 2;
    }
  }
  std::string tmpl = (std::filesystem::temp_directory_path() / "mesoscaf-lifecycle-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  std::string dir = tmpl;
  auto cluster = std::make_unique<test::child_process>(
    std::vector<std::string>{MESOSCAF_BINARY, "local", "--agents=1", "--port=0", "--http-port=0",
                             "--work-dir=" + dir + "/cluster",
                             "--resources=cpus:16;mem:65536;disk:100000;ports:[31000-32000]"},
    dir + "/cluster.log");
  auto m = cluster->wait_for_line("master listening on (127\\.0\\.0\\.1:[0-9]+)", seconds(60));
  if (!m) {
    std::cerr << "cluster did not start:\n" << cluster->output();
    return 1;
  }
  std::string master = (*m)[1];
  framework_config cfg;
  caf::actor_system sys{cfg};

  std::cout << "bench=lifecycle tasks=" << o.tasks << " window_s=" << o.window << std::endl;
  auto plain = measure_checks(sys, master, cluster->pid(), o, false);
  auto checked = measure_checks(sys, master, cluster->pid(), o, true);
  auto checks = static_cast<double>(o.tasks) * o.window;
  auto per_check = (checked - plain) / checks * 1000;
  auto floor = spawn_floor_cpu_ms(1000);
  std::printf("cpu_no_checks_s=%.3f\ncpu_with_checks_s=%.3f\ncheck_cpu_ratio=%.2f\ncpu_per_check_ms=%.3f\n"
              "spawn_floor_cpu_ms=%.3f\ncheck_vs_spawn_floor=%.2f\n",
              plain, checked, plain > 0 ? checked / plain : 0.0, per_check, floor, floor > 0 ? per_check / floor : 0.0);
  std::fflush(stdout);

  // The fetcher: no URI, a 50 MB artifact fetched each time, the same artifact from the cache.
  auto artifact = dir + "/artifact.bin";
  {
    std::ofstream out{artifact, std::ios::binary};
    std::string chunk(1 << 20, '\0');
    for (int i = 0; i < o.artifact_mb; ++i) {
      for (size_t j = 0; j < chunk.size(); j += 64)
        chunk[j] = static_cast<char>(i * 31 + j);
      out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    }
  }
  bench_scheduler sched;
  framework_info fw;
  fw.name = "bench-fetch";
  scheduler_driver driver{sys, &sched, fw, master};
  if (driver.start() != driver_status::running) {
    std::cerr << "cannot subscribe: " << driver.abort_reason() << "\n";
    return 1;
  }
  int n = 0;
  auto run_one = [&](const std::string& kind, bool with_uri, bool cache) {
    auto t = sleeper(kind + "-" + std::to_string(n++), false);
    t.resources = *resource_set::parse("cpus:0.01;mem:4;disk:" + std::to_string(o.artifact_mb * 2 + 10));
    if (with_uri) {
      command_uri u;
      u.value = "file://" + artifact;
      u.extract = false;
      u.cache = cache;
      t.command->uris.push_back(u);
    }
    sched.add({t}, driver);
    if (!sched.wait_state(t.id.value, task_state::running, seconds(120))) {
      std::cerr << "task " << t.id << " did not start\n";
      std::exit(1);
    }
    driver.kill_task(t.id);
    sched.wait_state(t.id.value, task_state::killed, seconds(60));
    std::lock_guard<std::mutex> guard{sched.mtx};
    return sched.running_after[t.id.value];
  };
  run_one("warm", false, false);
  run_one("fill", true, true);  // fills the cache
  std::vector<double> none, uncached, cached;
  for (int i = 0; i < o.repeats; ++i) {
    none.push_back(run_one("none", false, false));
    uncached.push_back(run_one("uncached", true, false));
    cached.push_back(run_one("cached", true, true));
  }
  driver.stop();
  driver.join();
  std::printf("launch_no_uri_ms=%.1f\nlaunch_uncached_%dmb_ms=%.1f\nlaunch_cached_%dmb_ms=%.1f\n"
              "uncached_vs_no_uri=%.2f\ncached_vs_no_uri=%.2f\ncached_vs_uncached=%.2f\n",
              median(none) * 1000, o.artifact_mb, median(uncached) * 1000, o.artifact_mb, median(cached) * 1000,
              median(uncached) / median(none), median(cached) / median(none), median(cached) / median(uncached));
  cluster.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return 0;
}
