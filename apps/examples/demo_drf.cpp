// The example of the DRF paper (Ghodsi et al., NSDI 2011, section 4) on a real cluster: one agent with
// <9 CPUs, 18 GB>; framework drf-a runs tasks of <1 CPU, 4 GB>, drf-b tasks of <3 CPUs, 1 GB>. Each launches ONE
// long task (`sleep 600`) per offer and returns the rest at once (refuse_seconds=0), so every allocation goes
// to the framework with the lowest dominant share. DRF's answer: drf-a 3 tasks, drf-b 2 tasks, both with a
// dominant share of 2/3. At steady state (no task of either fits any more) the demo prints one line per
// framework,
//   framework drf-a: tasks=3 dominant_share=0.667
//   framework drf-b: tasks=2 dominant_share=0.667
// then tears both frameworks down (killing their tasks) and exits 0 (1 on timeout or failure).
//
//   demo_drf [--master=HOST:PORT] [--timeout=SECONDS]
// Without --master it starts an in-process cluster with one agent `cpus:9;mem:18432`. With --master the
// cluster must consist of exactly such an agent (e.g. `mesoscaf local --agents=1 --resources="cpus:9;mem:18432"`).
#include "example_common.hpp"

#include <cmath>
#include <cstdio>
#include <functional>
#include <vector>
#include <iostream>
#include <mutex>
#include <thread>

using namespace mesoscaf;

namespace {

const char* usage = "usage: demo_drf [--master=HOST:PORT] [--timeout=SECONDS]\n";

constexpr double cluster_cpus = 9;
constexpr double cluster_mem = 18432;

// The paper's walk-through starts with both frameworks present. A framework that subscribes first would
// otherwise fill the agent before the other exists, so each holds its offers until both are subscribed.
class start_gate {
public:
  using release_fn = std::function<void()>;

  explicit start_gate(int expected) : expected_(expected) {}

  /// Called once per framework when it subscribed, with what to run when everyone has.
  void arrive(release_fn on_open) {
    std::vector<release_fn> to_run;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      waiting_.push_back(std::move(on_open));
      if (++arrived_ == expected_)
        to_run.swap(waiting_);
    }
    for (auto& f : to_run)
      f();
  }

  bool open() {
    std::lock_guard<std::mutex> guard{mtx_};
    return arrived_ >= expected_;
  }

private:
  std::mutex mtx_;
  int expected_;
  int arrived_ = 0;
  std::vector<release_fn> waiting_;
};

class drf_framework : public scheduler {
public:
  drf_framework(std::string name, double cpus, double mem, start_gate& gate)
    : name_(std::move(name)), cpus_(cpus), mem_(mem), gate_(gate) {
    task_resources_ = resource_set::scalar("cpus", cpus) + resource_set::scalar("mem", mem);
  }

  void registered(scheduler_driver* driver, const framework_id&) override {
    gate_.arrive([this, driver] {
      std::vector<offer> held;
      {
        std::lock_guard<std::mutex> guard{offers_mtx_};
        held.swap(held_);
      }
      handle_offers(driver, held);
    });
  }

  void resource_offers(scheduler_driver* driver, const std::vector<offer>& offers) override {
    {
      std::lock_guard<std::mutex> guard{offers_mtx_};
      if (!gate_.open()) {
        held_.insert(held_.end(), offers.begin(), offers.end());
        return;
      }
    }
    handle_offers(driver, offers);
  }

  void handle_offers(scheduler_driver* driver, const std::vector<offer>& offers) {
    std::lock_guard<std::mutex> guard{offers_mtx_};
    for (auto& o : offers) {
      if (!o.resources.contains(task_resources_)) {
        // Cannot fit our task: leave these resources to the others for a while.
        driver->decline_offer(o.id, filters{5});
        continue;
      }
      task_info t;
      t.id = task_id{name_ + "-" + std::to_string(++launched_)};
      t.name = t.id.value;
      t.agent = o.agent;
      t.resources = task_resources_;
      command_info c;
      c.value = "sleep 600";
      t.command = c;
      {
        std::lock_guard<std::mutex> guard{mtx_};
        ++pending_;
      }
      std::cout << name_ << ": launching " << t.id << " <" << cpus_ << " CPU, " << mem_ << " MB>" << std::endl;
      // One task per offer; the rest of the offer comes back at once (refuse_seconds = 0).
      driver->launch_tasks({o.id}, {t}, filters{0});
    }
  }

  void status_update(scheduler_driver*, const task_status& s) override {
    std::lock_guard<std::mutex> guard{mtx_};
    if (s.state == task_state::running) {
      ++running_;
      --pending_;
    } else if (is_terminal(s.state)) {
      if (s.state != task_state::killed)
        std::cout << name_ << ": task " << s.task << " ended " << to_string(s.state) << ": " << s.message
                  << std::endl;
      failed_ = failed_ || !stopping_;
      --running_;
    }
  }

  void error(scheduler_driver*, const std::string& message) override {
    std::cout << name_ << ": error: " << message << std::endl;
    std::lock_guard<std::mutex> guard{mtx_};
    failed_ = true;
  }

  // -- for main (thread-safe) ---------------------------------------------------------------------------------
  int running() {
    std::lock_guard<std::mutex> guard{mtx_};
    return running_;
  }
  int pending() {
    std::lock_guard<std::mutex> guard{mtx_};
    return pending_;
  }
  bool failed() {
    std::lock_guard<std::mutex> guard{mtx_};
    return failed_;
  }
  void set_stopping() {
    std::lock_guard<std::mutex> guard{mtx_};
    stopping_ = true;
  }
  double dominant_share(int tasks) const {
    return std::max(tasks * cpus_ / cluster_cpus, tasks * mem_ / cluster_mem);
  }
  const std::string& name() const { return name_; }
  double cpus() const { return cpus_; }
  double mem() const { return mem_; }

private:
  std::string name_;
  double cpus_;
  double mem_;
  resource_set task_resources_;
  start_gate& gate_;
  std::mutex offers_mtx_;   // offers are handled on the driver's thread or, once, on the other framework's
  std::vector<offer> held_; // offers received before both frameworks subscribed
  int launched_ = 0;        // guarded by offers_mtx_
  std::mutex mtx_;
  int pending_ = 0;
  int running_ = 0;
  bool failed_ = false;
  bool stopping_ = false;
};

} // namespace

int main(int argc, char** argv) {
  auto flags = examples::parse_flags(argc, argv, {"master", "timeout"}, usage);
  if (!flags)
    return 2;
  auto timeout = examples::parse_count((*flags)["timeout"].empty() ? "60" : (*flags)["timeout"], 1, 3600);
  if (!timeout) {
    std::cerr << "--timeout must be 1..3600 seconds\n";
    return 2;
  }
  examples::environment env;
  local_cluster_options copts;
  copts.agents = 1;
  copts.agent_resources = *resource_set::parse("cpus:9;mem:18432");
  copts.allocation_interval = std::chrono::milliseconds(100);
  if (!env.start((*flags)["master"], copts))
    return 1;

  start_gate gate{2};
  drf_framework a{"drf-a", 1, 4096, gate};
  drf_framework b{"drf-b", 3, 1024, gate};
  framework_info fa;
  fa.name = "drf-a";
  framework_info fb;
  fb.name = "drf-b";
  auto da = env.make_driver(&a, fa);
  auto db = env.make_driver(&b, fb);
  da->start();
  db->start();

  // Steady state: every launched task runs, and what is left of the cluster fits neither framework's task.
  auto steady = [&] {
    int ra = a.running(), rb = b.running();
    if (a.pending() > 0 || b.pending() > 0)
      return false;
    double free_cpus = cluster_cpus - ra * a.cpus() - rb * b.cpus();
    double free_mem = cluster_mem - ra * a.mem() - rb * b.mem();
    auto fits = [&](const drf_framework& f) { return free_cpus >= f.cpus() - 1e-9 && free_mem >= f.mem() - 1e-9; };
    return ra + rb > 0 && !fits(a) && !fits(b);
  };
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(*timeout);
  bool reached = false;
  while (std::chrono::steady_clock::now() < deadline && !a.failed() && !b.failed()) {
    if (steady()) {
      // Hold for a moment to be sure nothing else starts.
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      if (steady()) {
        reached = true;
        break;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  int rc = 0;
  if (reached) {
    for (auto* f : {&a, &b}) {
      int n = f->running();
      char share[32];
      std::snprintf(share, sizeof(share), "%.3f", f->dominant_share(n));
      std::cout << "framework " << f->name() << ": tasks=" << n << " dominant_share=" << share << std::endl;
    }
  } else {
    std::cout << "demo_drf: no steady state within " << *timeout << " s (drf-a running " << a.running()
              << ", drf-b running " << b.running() << ")" << std::endl;
    rc = 1;
  }
  // Tear down: without failover, stop() removes each framework at the master, which kills its tasks.
  a.set_stopping();
  b.set_stopping();
  da->stop();
  db->stop();
  da->join();
  db->join();
  da.reset();
  db.reset();
  std::cout << "demo_drf: frameworks torn down" << std::endl;
  return rc;
}
