// bench=load (issue 22): N frameworks subscribing and launching one task each at once against a real
// `mesoscaf local --agents=2` cluster, N = 200, 500, 1,000 (--frameworks=N for one size). The frameworks are
// scheduler drivers in this process (unit_tests/load_harness.hpp). Per size, on a fresh cluster:
//   subscribe_p50_ms / _p99_ms / _max_ms   start() to the registered callback
//   subscribe_idle_ms, p50_ratio           baseline: one framework alone on the idle cluster (median of 5), and
//                                          the loaded p50 against it
//   master_max_pause_ms                    the longest round trip of a `state` request to the master, asked every
//                                          20 ms during the run (how long the master actor kept others waiting)
//   tasks_per_s, seconds, failures, subscribed_twice, relaunched   (failures and subscribed_twice must be 0)
// Usage: bench_load [--frameworks=N] [--command=CMD]
#include "actors/interfaces.hpp"
#include "child_process.hpp"
#include "load_harness.hpp"

#include "messages/snapshot.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include <atomic>
#include <csignal>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

using namespace mesoscaf;
using namespace mesoscaf::test;
using namespace std::chrono;

namespace {

struct bench_config : caf::actor_system_config {
  bench_config() {
    mesoscaf::add_message_types(*this);
    load<caf::io::middleman>();
    set("scheduler.max-threads", 2);
    set("scheduler.policy", caf::atom("sharing"));
    set("middleman.heartbeat-interval", caf::timespan{milliseconds(1000)});
  }
};

struct cluster {
  temp_dir dir{"mesoscaf-bench-load"};
  std::unique_ptr<child_process> proc;
  std::string master;
  uint16_t port = 0;

  cluster() {
    proc = std::make_unique<child_process>(
      std::vector<std::string>{MESOSCAF_BINARY, "local", "--agents=2", "--port=0", "--work-dir=" + dir / "cluster",
                               "--resources=cpus:4;mem:4096;disk:1000"},
      dir / "cluster.log");
    auto m = proc->wait_for_line("master listening on (127\\.0\\.0\\.1:([0-9]+))", seconds(60));
    if (!m) {
      std::cerr << "bench_load: the cluster did not start:\n" << proc->output();
      std::exit(1);
    }
    master = (*m)[1];
    port = static_cast<uint16_t>(std::stoi((*m)[2]));
  }
  ~cluster() {
    proc->signal(SIGTERM);
    proc->wait_exit(seconds(60));
  }
};

void run_size(caf::actor_system& sys, int n, const std::string& command) {
  cluster c;
  load_options one;
  one.frameworks = 1;
  one.master = c.master;
  one.command = command;
  std::vector<double> idle;
  for (int i = 0; i < 5; ++i) {
    auto r = run_load(sys, one);
    if (!r.subscribe_ms.empty())
      idle.push_back(r.subscribe_ms.front());
  }
  auto idle_ms = percentile(idle, 50);
  // The probe: how long the master takes to answer a small request while the load runs.
  auto m = sys.middleman().remote_actor<master_actor>("127.0.0.1", c.port);
  if (!m) {
    std::cerr << "bench_load: cannot reach the master: " << sys.render(m.error()) << "\n";
    std::exit(1);
  }
  std::atomic<bool> probing{true};
  std::atomic<double> max_pause_ms{0};
  std::thread probe{[&] {
    caf::scoped_actor self{sys};
    while (probing) {
      auto t = steady_clock::now();
      self->request(*m, seconds(60), atom::state_v).receive([](const master_snapshot&) {}, [](const caf::error&) {});
      auto ms = duration<double, std::milli>(steady_clock::now() - t).count();
      if (ms > max_pause_ms)
        max_pause_ms = ms;
      std::this_thread::sleep_for(milliseconds(20));
    }
  }};
  load_options o;
  o.frameworks = n;
  o.master = c.master;
  o.command = command;
  o.limit = seconds(120);   // frameworks still running then count as failures
  auto r = run_load(sys, o);
  probing = false;
  probe.join();
  auto p50 = percentile(r.subscribe_ms, 50);
  std::printf("bench=load frameworks=%d subscribe_p50_ms=%.1f subscribe_p99_ms=%.1f subscribe_max_ms=%.1f "
              "subscribe_idle_ms=%.1f p50_ratio=%.1f master_max_pause_ms=%.1f tasks_per_s=%.0f seconds=%.2f "
              "failures=%d subscribed_twice=%d relaunched=%d\n",
              n, p50, percentile(r.subscribe_ms, 99), percentile(r.subscribe_ms, 100), idle_ms,
              idle_ms > 0 ? p50 / idle_ms : 0.0, max_pause_ms.load(), r.finished / std::max(r.seconds, 1e-9),
              r.seconds, r.failures(), r.subscribed_twice, r.relaunched);
  std::fflush(stdout);
  for (size_t i = 0; i < r.problems.size() && i < 10; ++i)
    std::cerr << "bench_load: " << r.problems[i] << "\n";
}

} // namespace

int main(int argc, char** argv) {
  std::vector<int> sizes{200, 500, 1000};
  std::string command = "sleep 0.2";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--frameworks=", 0) == 0 && std::atoi(a.c_str() + 13) > 0)
      sizes = {std::atoi(a.c_str() + 13)};
    else if (a.rfind("--command=", 0) == 0)
      command = a.substr(10);
    else {
      std::cerr << "usage: bench_load [--frameworks=N] [--command=CMD]\n";
      return 2;
    }
  }
  bench_config cfg;
  caf::actor_system sys{cfg};
  for (auto n : sizes)
    run_size(sys, n, command);
  return 0;
}
