// bench=recovery: the figures of issue 4, with real `mesoscaf master` / `mesoscaf agent` processes on loopback and
// scheduler_drivers in this process.
// (a) Agent restart: N frameworks (one command executor each) run 100 `sleep` tasks in all (checkpointed); the agent
//     is killed (-9) and restarted on its work dir. Measured from the restart (spawn) until the master lists the
//     agent connected again (it re-registers once its executors re-registered) and until all tasks reconcile
//     TASK_RUNNING. Baseline: a fresh agent's start until registration, in the same run (ratio = restart / fresh).
// (b) Frozen agent: SIGSTOP until the partition-aware framework gets TASK_UNREACHABLE, with a tight master
//     configuration (--agent-ping-timeout=200ms --max-agent-ping-timeouts=2) and, with --default-config, the
//     default one (15s x 5: about 75 s). Ratio = measured / (ping timeout x max pings).
// Usage: bench_recovery [--tasks=N] [--frameworks=N] [--runs=N] [--default-config]
#include "actors/sdk/scheduler_driver.hpp"
#include "containerizer/launcher.hpp"
#include "child_process.hpp"
#include "test_helpers.hpp"

#include <caf/actor_system.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace mesoscaf;
using namespace mesoscaf::test;
using namespace std::chrono;

namespace {

const std::string bin = MESOSCAF_BINARY;
using clock_type = steady_clock;

double ms_since(clock_type::time_point t) {
  return duration<double, std::milli>(clock_type::now() - t).count();
}

double median(std::vector<double> xs) {
  if (xs.empty())
    return 0;
  std::sort(xs.begin(), xs.end());
  return xs[xs.size() / 2];
}

bool eventually(const std::function<bool()>& pred, milliseconds limit, milliseconds step = milliseconds(5)) {
  auto deadline = clock_type::now() + limit;
  for (;;) {
    if (pred())
      return true;
    if (clock_type::now() >= deadline)
      return false;
    std::this_thread::sleep_for(step);
  }
}

std::string read_proc(pid_t pid, const char* name) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/" + name, std::ios::binary};
  std::string s{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  std::replace(s.begin(), s.end(), '\0', ' ');
  return s;
}

/// SIGKILLs every process whose command line or environment names `dir` (what a failed run may leave).
void kill_leftovers(const std::string& dir) {
  if (auto d = ::opendir("/proc")) {
    while (auto e = ::readdir(d)) {
      pid_t pid = std::atoi(e->d_name);
      if (pid <= 0 || pid == ::getpid())
        continue;
      if (read_proc(pid, "cmdline").find(dir) != std::string::npos
          || read_proc(pid, "environ").find(dir) != std::string::npos)
        ::kill(pid, SIGKILL);
    }
    ::closedir(d);
  }
}

/// Launches queued tasks on offers; records updates.
struct recorder : scheduler {
  std::mutex mtx;
  std::condition_variable cv;
  std::vector<task_info> pending;
  std::vector<task_status> updates;
  bool subscribed = false;

  void registered(scheduler_driver*, const framework_id&) override {
    std::lock_guard<std::mutex> g{mtx};
    subscribed = true;
    cv.notify_all();
  }
  void resource_offers(scheduler_driver* d, const std::vector<offer>& offers) override {
    for (auto& o : offers) {
      std::vector<task_info> batch;
      {
        std::lock_guard<std::mutex> g{mtx};
        auto left = o.resources;
        while (!pending.empty() && left.contains(pending.back().resources)) {
          left -= pending.back().resources;
          batch.push_back(std::move(pending.back()));
          pending.pop_back();
        }
      }
      if (batch.empty())
        d->decline_offer(o.id, filters{0});
      else
        d->launch_tasks({o.id}, batch, filters{0});
    }
  }
  void status_update(scheduler_driver*, const task_status& s) override {
    std::lock_guard<std::mutex> g{mtx};
    updates.push_back(s);
    cv.notify_all();
  }
  bool wait(const std::function<bool()>& pred, milliseconds limit) {
    std::unique_lock<std::mutex> g{mtx};
    return cv.wait_for(g, limit, pred);
  }
  /// Tasks whose latest update at index >= from is `state`.
  size_t count_latest(task_state state, size_t from = 0) {
    std::map<std::string, task_state> latest;
    for (size_t i = from; i < updates.size(); ++i)
      latest[updates[i].task.value] = updates[i].state;
    return static_cast<size_t>(
      std::count_if(latest.begin(), latest.end(), [&](auto& kv) { return kv.second == state; }));
  }
};

struct fw {
  std::unique_ptr<recorder> rec = std::make_unique<recorder>();
  std::unique_ptr<scheduler_driver> driver;
  std::vector<std::string> tasks;
  ~fw() {
    driver.reset();
  }
};

struct cluster {
  caf::actor_system& sys;
  std::string dir;
  std::unique_ptr<child_process> master;
  std::string master_addr;
  master_actor master_handle;
  std::vector<std::unique_ptr<child_process>> agents;
  int runs = 0;

  cluster(caf::actor_system& sys, std::string dir) : sys(sys), dir(std::move(dir)) {}

  ~cluster() {
    for (auto& a : agents)
      if (a && a->running()) {
        a->signal(SIGCONT);
        a->signal(SIGTERM);
        a->wait_exit(seconds(20));
      }
    master_handle = nullptr;
    if (master) {
      master->signal(SIGTERM);
      master->wait_exit(seconds(20));
    }
    kill_leftovers(dir);
  }

  bool start_master(std::vector<std::string> flags) {
    std::vector<std::string> argv{bin, "master", "--port=0", "--work-dir=" + dir + "/master"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    master = std::make_unique<child_process>(argv, dir + "/master.log");
    auto m = master->wait_for_line("master listening on (127\\.0\\.0\\.1:([0-9]+))", seconds(60));
    if (!m) {
      std::cerr << "master did not start:\n" << master->output();
      return false;
    }
    master_addr = (*m)[1];
    auto h = sys.middleman().remote_actor<master_actor>("127.0.0.1", static_cast<uint16_t>(std::stoi((*m)[2])));
    if (!h) {
      std::cerr << "cannot reach the master: " << sys.render(h.error()) << "\n";
      return false;
    }
    master_handle = *h;
    return true;
  }

  std::optional<master_snapshot> state() {
    caf::scoped_actor self{sys};
    std::optional<master_snapshot> result;
    self->request(master_handle, seconds(10), atom::state_v)
      .receive([&](const master_snapshot& s) { result = s; }, [](const caf::error&) {});
    return result;
  }

  bool connected(const std::string& id) {
    auto s = state();
    if (s)
      for (auto& a : s->agents)
        if (a.id.value == id)
          return a.connected;
    return false;
  }

  /// Starts agent `i` on <dir>/agent<i>; returns its ID ("" on failure) and the time from spawn until the
  /// master lists it connected in `*ms`.
  std::string start_agent(size_t i, const std::string& resources, double* ms) {
    if (agents.size() <= i)
      agents.resize(i + 1);
    auto t0 = clock_type::now();
    agents[i] = std::make_unique<child_process>(
      std::vector<std::string>{bin, "agent", "--master=" + master_addr, "--port=0",
                               "--work-dir=" + dir + "/agent" + std::to_string(i), "--resources=" + resources},
      dir + "/agent" + std::to_string(i) + "-" + std::to_string(runs++) + ".log");
    auto r = agents[i]->wait_for_line("agent registered with id ([-0-9a-zA-Z._]+)", seconds(60));
    if (!r) {
      std::cerr << "agent did not start:\n" << agents[i]->output();
      return "";
    }
    std::string id = (*r)[1];
    if (!eventually([&] { return connected(id); }, seconds(60))) {
      std::cerr << "the master does not list agent " << id << " as connected\n" << agents[i]->output();
      return "";
    }
    *ms = ms_since(t0);
    return id;
  }

  std::unique_ptr<fw> add_framework(const std::string& name, bool partition_aware) {
    auto f = std::make_unique<fw>();
    framework_info fi;
    fi.name = name;
    fi.user = current_user_name();  // agents run tasks as their framework's user
    fi.checkpoint = true;
    fi.failover_timeout = 600;
    if (partition_aware)
      fi.capabilities.push_back("PARTITION_AWARE");
    f->driver = std::make_unique<scheduler_driver>(sys, f->rec.get(), fi, master_addr);
    f->driver->start();
    auto& rec = *f->rec;
    if (!rec.wait([&] { return rec.subscribed; }, seconds(30))) {
      std::cerr << "framework " << name << " did not subscribe: " << f->driver->abort_reason() << "\n";
      return nullptr;
    }
    return f;
  }
};

task_info sleep_task(const std::string& id) {
  auto t = shell_task(id, "sleep 3600");
  t.resources = *resource_set::parse("cpus:0.01;mem:1");
  return t;
}

/// Reconciles every framework's tasks (explicitly) until all answers are TASK_RUNNING.
bool all_reconciled_running(std::vector<std::unique_ptr<fw>>& fws, const std::string& agent, milliseconds limit) {
  auto deadline = clock_type::now() + limit;
  while (clock_type::now() < deadline) {
    std::vector<size_t> marks;
    for (auto& f : fws) {
      std::lock_guard<std::mutex> g{f->rec->mtx};
      marks.push_back(f->rec->updates.size());
    }
    for (auto& f : fws) {
      std::vector<task_status> ask;
      for (auto& t : f->tasks) {
        task_status s;
        s.task = task_id{t};
        s.agent = agent_id{agent};
        ask.push_back(s);
      }
      f->driver->reconcile_tasks(ask);
    }
    bool all = true;
    for (size_t i = 0; i < fws.size(); ++i) {
      auto& rec = *fws[i]->rec;
      auto n = fws[i]->tasks.size();
      auto from = marks[i];
      // Wait for n answers (reconciliation reason) after the mark.
      bool answered = rec.wait(
        [&] {
          size_t k = 0;
          for (size_t j = from; j < rec.updates.size(); ++j)
            if (rec.updates[j].reason == task_reason::reconciliation)
              ++k;
          return k >= n;
        },
        milliseconds(2000));
      std::lock_guard<std::mutex> g{rec.mtx};
      if (!answered || rec.count_latest(task_state::running, from) < n)
        all = false;
    }
    if (all)
      return true;
    std::this_thread::sleep_for(milliseconds(10));
  }
  return false;
}

std::string make_dir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl = std::string{tmp ? tmp : "/tmp"} + "/mesoscaf-bench-recovery-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    std::perror("mkdtemp");
    std::exit(1);
  }
  return tmpl;
}

/// (a) Returns false on failure.
bool bench_restart(caf::actor_system& sys, int tasks, int frameworks, int runs) {
  auto dir = make_dir();
  bool ok = false;
  {
    cluster c{sys, dir};
    if (!c.start_master({}))
      return false;
    const std::string resources = "cpus:8;mem:8192;disk:1000";
    // Baseline: fresh agents (new work dirs), start until the master lists them connected.
    std::vector<double> fresh;
    for (int i = 1; i <= 3; ++i) {
      double ms = 0;
      if (c.start_agent(static_cast<size_t>(i), resources, &ms).empty())
        return false;
      fresh.push_back(ms);
      c.agents[static_cast<size_t>(i)]->signal(SIGTERM);
      c.agents[static_cast<size_t>(i)]->wait_exit(seconds(20));
    }
    double ms0 = 0;
    auto id = c.start_agent(0, resources, &ms0);
    if (id.empty())
      return false;
    fresh.push_back(ms0);
    std::vector<std::unique_ptr<fw>> fws;
    for (int i = 0; i < frameworks; ++i) {
      auto f = c.add_framework("bench-recovery-" + std::to_string(i), false);
      if (!f)
        return false;
      for (int t = i; t < tasks; t += frameworks) {
        auto name = "task-" + std::to_string(t);
        f->tasks.push_back(name);
        std::lock_guard<std::mutex> g{f->rec->mtx};
        f->rec->pending.push_back(sleep_task(name));
      }
      f->driver->revive_offers();
      fws.push_back(std::move(f));
    }
    for (auto& f : fws) {
      auto& rec = *f->rec;
      auto n = f->tasks.size();
      if (!rec.wait([&] { return rec.count_latest(task_state::running) >= n; }, seconds(120))) {
        std::cerr << "tasks did not all start\n";
        return false;
      }
    }
    std::vector<double> registered, reconciled;
    for (int run = 0; run < runs; ++run) {
      c.agents[0]->signal(SIGKILL);
      c.agents[0]->wait_exit(seconds(20));
      if (!eventually([&] { return !c.connected(id); }, seconds(30))) {
        std::cerr << "the master did not notice the agent's death\n";
        return false;
      }
      auto t0 = clock_type::now();
      double ms = 0;
      auto id2 = c.start_agent(0, resources, &ms);
      if (id2 != id) {
        std::cerr << "the agent came back as '" << id2 << "', not " << id << "\n";
        return false;
      }
      registered.push_back(ms);
      if (!all_reconciled_running(fws, id, seconds(60))) {
        std::cerr << "not all tasks reconciled TASK_RUNNING after the restart\n" << c.agents[0]->output();
        return false;
      }
      reconciled.push_back(ms_since(t0));
    }
    auto base = median(fresh);
    std::printf("bench=recovery part=restart tasks=%d executors=%d runs=%d fresh_agent_registration_ms=%.0f "
                "restart_to_reregistered_ms=%.0f restart_to_all_running_ms=%.0f ratio_reregistered=%.2f "
                "ratio_all_running=%.2f\n",
                tasks, frameworks, runs, base, median(registered), median(reconciled),
                median(registered) / base, median(reconciled) / base);
    std::fflush(stdout);
    fws.clear();  // teardown: the tasks are killed
    ok = true;
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return ok;
}

/// (b) Returns false on failure.
bool bench_unreachable(caf::actor_system& sys, const std::string& config, milliseconds ping_timeout,
                       int max_pings, std::vector<std::string> master_flags) {
  auto dir = make_dir();
  bool ok = false;
  {
    cluster c{sys, dir};
    if (!c.start_master(master_flags))
      return false;
    double ms = 0;
    auto id = c.start_agent(0, "cpus:2;mem:1024;disk:100", &ms);
    if (id.empty())
      return false;
    auto f = c.add_framework("bench-unreachable", true);
    if (!f)
      return false;
    {
      std::lock_guard<std::mutex> g{f->rec->mtx};
      f->rec->pending.push_back(sleep_task("frozen"));
    }
    f->driver->revive_offers();
    auto& rec = *f->rec;
    if (!rec.wait([&] { return rec.count_latest(task_state::running) >= 1; }, seconds(60))) {
      std::cerr << "the task did not start\n";
      return false;
    }
    auto configured = static_cast<double>(ping_timeout.count()) * max_pings;
    auto t0 = clock_type::now();
    c.agents[0]->signal(SIGSTOP);
    bool got = rec.wait([&] { return rec.count_latest(task_state::unreachable) >= 1; },
                        milliseconds(static_cast<int64_t>(configured * 3) + 30000));
    auto elapsed = ms_since(t0);
    c.agents[0]->signal(SIGCONT);
    if (!got) {
      std::cerr << "no TASK_UNREACHABLE within " << elapsed << " ms\n";
      return false;
    }
    std::printf("bench=recovery part=unreachable config=%s ping_timeout_ms=%lld max_agent_ping_timeouts=%d "
                "configured_ms=%.0f sigstop_to_unreachable_ms=%.0f ratio=%.2f\n",
                config.c_str(), static_cast<long long>(ping_timeout.count()), max_pings, configured, elapsed,
                elapsed / configured);
    std::fflush(stdout);
    f.reset();
    ok = true;
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return ok;
}

} // namespace

int main(int argc, char** argv) {
  int tasks = 100;
  int frameworks = 10;
  int runs = 3;
  bool default_config = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--tasks=", 8) == 0)
      tasks = std::atoi(argv[i] + 8);
    else if (std::strncmp(argv[i], "--frameworks=", 13) == 0)
      frameworks = std::atoi(argv[i] + 13);
    else if (std::strncmp(argv[i], "--runs=", 7) == 0)
      runs = std::atoi(argv[i] + 7);
    else if (std::strcmp(argv[i], "--default-config") == 0)
      default_config = true;
    else {
      std::cerr << "usage: bench_recovery [--tasks=N] [--frameworks=N] [--runs=N] [--default-config]\n";
      return 2;
    }
  }
  if (tasks < 1 || frameworks < 1 || frameworks > tasks || runs < 1) {
    std::cerr << "bench_recovery: need 1 <= --frameworks <= --tasks and --runs >= 1\n";
    return 2;
  }
  threaded_config cfg{true};
  caf::actor_system sys{cfg};
  bool ok = bench_restart(sys, tasks, frameworks, runs);
  ok = bench_unreachable(sys, "tight", milliseconds(200), 2,
                         {"--agent-ping-timeout=200ms", "--max-agent-ping-timeouts=2"})
       && ok;
  if (default_config)
    ok = bench_unreachable(sys, "default", milliseconds(15000), 5, {}) && ok;
  return ok ? 0 : 1;
}
