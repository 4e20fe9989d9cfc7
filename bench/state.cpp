// bench=state: the master's HTTP /state and /metrics on a large cluster, and what serving them costs the master's
// other work. In one process: a real master actor (with its allocator) and its HTTP server (actors/http/), 10,000
// simulated agents (typed actors answering as agents do) that re-register with 10 running tasks each over 10
// frameworks, whose schedulers are actors here too; then 100,000 more tasks run and finish (their updates are
// acknowledged), so the master keeps 100,000 running and 100,000 completed tasks (Mesos' shape for its /state work:
// 1.86 s per /state after its 2018 improvements).
//  - state_ms / metrics_ms: one client's GET, median of 5, to the last byte, as `curl -o /dev/null` reads it
//    (bytes of the answer too); state_first_ms: the first /state, which also writes every task's JSON (later
//    answers reuse what did not change);
//  - pause_max_ms / pause_p99_ms: a probe agent sends a status update every 2 ms for one of its tasks and its
//    scheduler timestamps the arrival: the delay the master adds to status updates. Measured for 5 s while 4
//    clients fetch /state in a loop, and for 5 s without them (baseline_*, same run);
//  - floor_*: meanwhile, how late a plain thread at the master's priority wakes from 2 ms sleeps. The clients
//    share the master's 2 cores here, and no thread of that priority waits less for a core than this floor;
//  --clients-nice=N runs the 4 looping clients at that niceness (default 0): real clients would be on other
//    machines; 19 shows what serving /state itself costs the master.
//  - v1_get_state_{json,protobuf}_ms: the same state through Mesos' v1 operator API (POST /api/v1 GET_STATE),
//    median of 3, against state_ms of the same run (Mesos 1.7 on its benchmark's shape: 9.6 s JSON, 5.7 s
//    protobuf);
//  --threads=N: the actor system's workers (default 1 with the sharing policy, as `mesoscaf master` runs).
// Usage: bench_state [--agents=10000] [--tasks-per-agent=10] [--clients-nice=0] [--threads=1]
// Output: bench=state agents=N tasks_running=M tasks_completed=K state_ms=X ... speedup=Y pause_max_ms=Z ...
#include "actors/http/daemon_http.hpp"
#include "actors/interfaces.hpp"
#include "actors/master/master.hpp"
#include "actors/process_defaults.hpp"
#include "http_test_client.hpp"
#include "test_helpers.hpp"

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace mesoscaf;
using namespace std::chrono;

namespace {

constexpr int frameworks = 10;

double now_s() {
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

/// Shared with the simulated actors: progress counters and the probe's samples.
struct shared {
  std::atomic<int> reregistered{0};
  std::atomic<int> subscribed{0};
  std::atomic<int> acked{0};
  std::atomic<bool> probing{false};
  std::mutex mtx;
  std::vector<double> delays_ms;   // probe update: agent send -> scheduler receive
};

struct sim_agent_state {
  static inline const char* name = "sim-agent";
  agent_reregistration rereg;
  std::vector<reregistered_task> to_finish;  // started after re-registration, then finished
  std::shared_ptr<shared> sh;
  master_actor master;
  uint64_t seq = 0;
  bool probe = false;
};

status_update make_update(const agent_id& agent, const reregistered_task& t, task_state s, std::string uuid) {
  status_update u;
  u.framework = t.framework;
  u.status.task = t.info.id;
  u.status.state = s;
  u.status.agent = agent;
  u.status.uuid = std::move(uuid);
  u.status.timestamp = now_s();
  u.latest_state = s;
  return u;
}

agent_actor::behavior_type sim_agent(agent_actor::stateful_pointer<sim_agent_state> self, agent_reregistration r,
                                     std::vector<reregistered_task> to_finish, std::shared_ptr<shared> sh,
                                     master_actor master, bool probe) {
  auto& st = self->state;
  st.rereg = std::move(r);
  st.to_finish = std::move(to_finish);
  st.sh = std::move(sh);
  st.master = std::move(master);
  st.probe = probe;
  self->request(st.master, seconds(600), atom::rereg_agent_v, st.rereg, agent_actor{self})
    .then([self](const agent_id&) { ++self->state.sh->reregistered; },
          [](const caf::error& e) { std::cerr << "re-registration failed\n"; });
  return {
    [](atom::run_task, const framework_info&, const task_info&) {},
    [](atom::run_task, const framework_info&, const executor_info&, const task_group_info&) {},
    [](atom::kill_task, const framework_id&, const task_id&) {},
    [](atom::kill_task, const framework_id&, const task_id&, const kill_policy&) {},
    [](atom::ack, const framework_id&, const task_id&, const std::string&) {},
    [](atom::fw_msg, const framework_id&, const executor_id&, const std::string&) {},
    [](atom::apply_op, const framework_id&, const offer_operation&) {},
    [](atom::shutdown_fw, const framework_id&) {},
    [](atom::shutdown, const std::string&) {},
    [](atom::shutdown, const framework_id&, const executor_id&) {},
    [self](atom::ping) { return self->state.rereg.info.id; },
    // The bench's cue to run the tasks that will end: each reported running, then finished (acknowledged by
    // its scheduler, so the master moves it to its completed history).
    [self](atom::resend, const framework_id&) {
      auto& st = self->state;
      for (auto& t : st.to_finish) {
        self->send(st.master, atom::update_v, make_update(st.rereg.info.id, t, task_state::finished,
                                                          "u-" + t.info.id.value));
      }
    },
    [](atom::rereg_agent) {},
    [](atom::leader, const master_location&) {},
    [](atom::reg_exec, const framework_id&, const executor_id&,
       const executor_actor&, const std::string&) -> caf::result<executor_registration> {
      return caf::make_error(caf::sec::unexpected_message, "simulated agent runs no executors");
    },
    [](atom::rereg_exec, const framework_id&, const executor_id&, const executor_actor&,
       const std::vector<task_info>&, const std::vector<status_update>&, const std::string&) -> caf::result<executor_registration> {
      return caf::make_error(caf::sec::unexpected_message, "simulated agent runs no executors");
    },
    [](atom::update, const status_update&) {},
    [](atom::exec_msg, const framework_id&, const executor_id&, const std::string&) {},
    [](atom::exited, const container_id&, int32_t) {},
    // The probe: one status update every 2 ms while probing (its own task, state unchanged, no ack needed).
    [self](atom::tick) {
      auto& st = self->state;
      if (!st.probe || !st.sh->probing)
        return;
      self->send(st.master, atom::update_v, make_update(st.rereg.info.id, st.rereg.tasks[0], task_state::running, ""));
      self->delayed_send(self, milliseconds(2), atom::tick_v);
    },
    [](atom::state) { return agent_snapshot{}; },
    [](atom::usage) { return std::vector<container_usage>{}; },
    [](atom::state_page) { return agent_state_view{}; },
    [](atom::metrics) { return std::vector<metric_sample>{}; },
  };
}

struct sim_scheduler_state {
  static inline const char* name = "sim-scheduler";
  framework_id id;
  std::shared_ptr<shared> sh;
  master_actor master;
};

scheduler_actor::behavior_type sim_scheduler(scheduler_actor::stateful_pointer<sim_scheduler_state> self,
                                             framework_id id, std::shared_ptr<shared> sh, master_actor master) {
  self->state.id = std::move(id);
  self->state.sh = std::move(sh);
  self->state.master = std::move(master);
  return {
    [](atom::offers, const std::vector<offer>&) {},
    [](atom::rescind, const offer_id&) {},
    [self](atom::update, const task_status& s) {
      auto& st = self->state;
      if (!s.uuid.empty()) {
        self->send(st.master, atom::ack_v, st.id, s.agent, s.task, s.uuid);
        ++st.sh->acked;
      } else if (st.sh->probing) {
        std::lock_guard<std::mutex> guard{st.sh->mtx};
        st.sh->delays_ms.push_back((now_s() - s.timestamp) * 1000.0);
      }
    },
    [](atom::fw_msg, const agent_id&, const executor_id&, const std::string&) {},
    [](atom::agent_lost, const agent_id&) {},
    [](atom::exec_lost, const executor_id&, const agent_id&, int32_t) {},
    [](atom::error, const std::string&) {},
    [](atom::replaced, const framework_id&) {},
  };
}

bool wait_until(const std::function<bool()>& pred, seconds limit) {
  auto deadline = steady_clock::now() + limit;
  while (!pred()) {
    if (steady_clock::now() > deadline)
      return false;
    std::this_thread::sleep_for(milliseconds(20));
  }
  return true;
}

struct timing {
  double median_ms = 0;
  size_t bytes = 0;
};

/// One GET by curl (scripts/setup installs it), the body dropped: the time to its last byte in ms, or -1.
double curl_get(const std::string& endpoint, const std::string& target, std::size_t* bytes = nullptr,
                int nice = 0) {
  auto cmd = (nice != 0 ? "nice -n " + std::to_string(nice) + " " : std::string{}) + "curl -s -f -o /dev/null -w '%{time_total} %{size_download}' 'http://" + endpoint + target + "'";
  std::unique_ptr<FILE, int (*)(FILE*)> p{popen(cmd.c_str(), "r"), pclose};
  double seconds = -1;
  std::size_t size = 0;
  if (!p || std::fscanf(p.get(), "%lf %zu", &seconds, &size) != 2)
    return -1;
  if (bytes != nullptr)
    *bytes = size;
  return seconds * 1000;
}

/// Median time to the last byte of `runs` GETs, read by curl as an operator would (`curl -o /dev/null`).
timing time_get(const std::string& endpoint, const std::string& target, int runs = 5) {
  std::vector<double> ms;
  timing t;
  for (int i = 0; i < runs; ++i) {
    auto took = curl_get(endpoint, target, &t.bytes);
    if (took < 0)
      std::cerr << target << ": curl failed\n";
    ms.push_back(took);
  }
  std::sort(ms.begin(), ms.end());
  t.median_ms = ms[ms.size() / 2];
  return t;
}

struct pause_figures {
  double max_ms = 0;
  double p99_ms = 0;
  size_t samples = 0;
  size_t over_10ms = 0;
};

pause_figures figures_of(std::vector<double> d) {
  pause_figures f;
  if (d.empty())
    return f;
  std::sort(d.begin(), d.end());
  f.samples = d.size();
  f.max_ms = d.back();
  f.p99_ms = d[std::min(d.size() - 1, d.size() * 99 / 100)];
  f.over_10ms = static_cast<size_t>(std::count_if(d.begin(), d.end(), [](double x) { return x > 10; }));
  return f;
}

/// The probe's delays over `window`, and the floor: how late a plain thread of the master's priority wakes from
/// 2 ms sleeps meanwhile (no actors, no locks), the delay the OS alone adds on these 2 cores under the same load.
std::pair<pause_figures, pause_figures> probe_for(shared& sh, const agent_actor& probe, seconds window) {
  {
    std::lock_guard<std::mutex> guard{sh.mtx};
    sh.delays_ms.clear();
  }
  sh.probing = true;
  caf::anon_send(probe, atom::tick_v);
  std::vector<double> floor;
  std::thread sleeper{[&] {
    auto end = steady_clock::now() + window;
    while (steady_clock::now() < end) {
      auto t = steady_clock::now();
      std::this_thread::sleep_for(milliseconds(2));
      floor.push_back(duration<double, std::milli>(steady_clock::now() - t).count() - 2);
    }
  }};
  sleeper.join();
  sh.probing = false;
  std::this_thread::sleep_for(milliseconds(100));
  std::vector<double> d;
  {
    std::lock_guard<std::mutex> guard{sh.mtx};
    d = sh.delays_ms;
  }
  return {figures_of(std::move(d)), figures_of(std::move(floor))};
}

} // namespace

int main(int argc, char** argv) {
  int agents = 10000;
  int tasks_per_agent = 10;
  int clients_nice = 0;
  int threads = 1;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--agents=", 0) == 0)
      agents = std::stoi(a.substr(9));
    else if (a.rfind("--tasks-per-agent=", 0) == 0)
      tasks_per_agent = std::stoi(a.substr(18));
    else if (a.rfind("--clients-nice=", 0) == 0)
      clients_nice = std::stoi(a.substr(15));
    else if (a.rfind("--threads=", 0) == 0)
      threads = std::stoi(a.substr(10));
    else {
      std::cerr << "usage: bench_state [--agents=10000] [--tasks-per-agent=10] [--clients-nice=0] [--threads=1]\n";
      return 2;
    }
  }
  // The scheduler as `mesoscaf master` runs it (actors/process_defaults.hpp: sharing, 1 worker by default).
  struct daemon_like_config : caf::actor_system_config {
    explicit daemon_like_config(int threads) {
      set_process_defaults(*this, threads);
    }
  } cfg{threads};
  caf::actor_system sys{cfg};
  master_options mopts;
  mopts.limits.completed_tasks = static_cast<size_t>(agents) * tasks_per_agent + 1000;
  mopts.agent_ping_timeout = caf::timespan{0};   // no health checks: the simulated agents are always there
  auto master = spawn_master(sys, mopts);
  auto sh = std::make_shared<shared>();
  std::vector<framework_info> fws;
  for (int f = 0; f < frameworks; ++f) {
    framework_info fi;
    fi.id = framework_id{"bench-fw-" + std::to_string(f)};
    fi.name = "bench-" + std::to_string(f);
    fi.user = "bench";
    fi.failover_timeout = 3600;
    fws.push_back(fi);
  }
  // Agents: running tasks reported at re-registration; as many again are started and finished afterwards.
  auto t0 = steady_clock::now();
  std::vector<agent_actor> sims;
  for (int i = 0; i < agents; ++i) {
    agent_reregistration r;
    r.info.id = agent_id{"sim-agent-" + std::to_string(i)};
    r.info.hostname = "sim-" + std::to_string(i) + ".bench";
    r.info.address = "10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250);
    r.info.port = 5051;
    r.info.http_port = 5051;
    r.info.total = *resource_set::parse("cpus:" + std::to_string(2 * tasks_per_agent / 10.0 + 1) + ";mem:"
                                        + std::to_string(32 * tasks_per_agent + 1024) + ";disk:10000;ports:[31000-32000]");
    r.frameworks = fws;
    std::vector<reregistered_task> finish;
    for (int j = 0; j < 2 * tasks_per_agent; ++j) {
      reregistered_task t;
      t.framework = fws[static_cast<size_t>(j % frameworks)].id;
      t.info = test::shell_task("t-" + std::to_string(i) + "-" + std::to_string(j), "sleep 3600");
      t.info.agent = r.info.id;
      t.info.resources = *resource_set::parse("cpus:0.1;mem:16");
      t.info.role = "*";
      t.state = task_state::running;
      r.tasks.push_back(t);
      if (j >= tasks_per_agent)
        finish.push_back(t);
    }
    sims.push_back(sys.spawn(sim_agent, std::move(r), std::move(finish), sh, master, i == 0));
  }
  if (!wait_until([&] { return sh->reregistered == agents; }, seconds(600))) {
    std::cerr << "agents did not re-register: " << sh->reregistered << "/" << agents << "\n";
    return 1;
  }
  std::vector<scheduler_actor> scheds;
  for (auto& fi : fws) {
    auto s = sys.spawn(sim_scheduler, fi.id, sh, master);
    scheds.push_back(s);
    caf::scoped_actor self{sys};
    self->request(master, seconds(60), atom::subscribe_v, fi, s)
      .receive([&](const framework_id&) { ++sh->subscribed; },
               [&](const caf::error& e) { std::cerr << "subscribe failed: " << sys.render(e) << "\n"; });
  }
  for (auto& a : sims)
    caf::anon_send(a, atom::resend_v, framework_id{});
  auto finished = static_cast<int>(agents) * tasks_per_agent;
  if (!wait_until([&] { return sh->acked >= finished; }, seconds(600))) {
    std::cerr << "tasks did not finish: " << sh->acked << "/" << finished << "\n";
    return 1;
  }
  std::cerr << "set-up took " << duration<double>(steady_clock::now() - t0).count() << " s\n";
  // The HTTP server, as a master daemon runs it.
  http::server_options so;
  so.address = "127.0.0.1";
  http::server web{so};
  http::endpoint_options eo;
  eo.identity = {"bench-master", "bench", "127.0.0.1", 5050, 0, 0, {{"port", "5050"}}};
  http::add_master_routes(web, sys, master, eo);
  if (auto err = web.start(); !err.empty()) {
    std::cerr << err << "\n";
    return 1;
  }
  auto endpoint = "127.0.0.1:" + std::to_string(web.port());
  // The shape the master reports, once it has applied every update (the schedulers' count runs ahead of it).
  auto metric = [&](const std::string& name) {
    auto body = test::http_get(endpoint, "/metrics/snapshot").body;
    auto pos = body.find("\"" + name + "\":");
    return pos == std::string::npos ? -1.0 : std::atof(body.c_str() + pos + name.size() + 3);
  };
  double running = -1;
  wait_until([&] { return (running = metric("master/tasks_running")) == finished; }, seconds(120));
  // The first answer writes every task's JSON (later ones reuse it): timed on its own, and its body checked.
  auto cold_start = steady_clock::now();
  auto first = test::http_get(endpoint, "/state");
  auto cold_ms = duration<double, std::milli>(steady_clock::now() - cold_start).count();
  auto& body = first.body;
  auto state = time_get(endpoint, "/state", 5);
  // What the answer holds: each task's state appears twice (its state and its one status).
  std::size_t finished_in_state = 0, running_in_state = 0;
  for (auto pos = body.find("\"TASK_FINISHED\""); pos != std::string::npos; pos = body.find("\"TASK_FINISHED\"", pos + 1))
    ++finished_in_state;
  for (auto pos = body.find("\"TASK_RUNNING\""); pos != std::string::npos; pos = body.find("\"TASK_RUNNING\"", pos + 1))
    ++running_in_state;
  body.clear();
  // Mesos' v1 operator API: the same state as a GET_STATE response, in each codec.
  auto v1_get_state = [&](const std::string& accept, std::size_t& bytes) {
    std::vector<double> ms;
    for (int i = 0; i < 3; ++i) {
      auto t = steady_clock::now();
      auto r = test::http_request("POST", endpoint, "/api/v1", R"({"type": "GET_STATE"})", "application/json",
                                  seconds(300), {{"Accept", accept}});
      ms.push_back(duration<double, std::milli>(steady_clock::now() - t).count());
      if (r.status != 200)
        std::cerr << "GET_STATE (" << accept << "): " << r.status << " " << r.error << "\n";
      bytes = r.body.size();
    }
    std::sort(ms.begin(), ms.end());
    return ms[1];
  };
  std::size_t v1_json_bytes = 0, v1_proto_bytes = 0;
  auto v1_json_ms = v1_get_state("application/json", v1_json_bytes);
  auto v1_proto_ms = v1_get_state("application/x-protobuf", v1_proto_bytes);
  auto prom = time_get(endpoint, "/metrics");
  auto snapshot = time_get(endpoint, "/metrics/snapshot");
  // Pauses: without and with 4 clients fetching /state in a loop.
  auto [baseline, baseline_floor] = probe_for(*sh, sims[0], seconds(5));
  std::atomic<bool> loading{true};
  std::atomic<int> fetched{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c)
    clients.emplace_back([&] {
      while (loading)
        if (curl_get(endpoint, "/state", nullptr, clients_nice) >= 0)
          ++fetched;
    });
  std::this_thread::sleep_for(milliseconds(500));
  auto [loaded, floor] = probe_for(*sh, sims[0], seconds(5));
  loading = false;
  for (auto& c : clients)
    c.join();
  const double mesos_ms = 1860;
  std::printf("bench=state agents=%d tasks_running=%.0f tasks_completed=%d state_ms=%.1f state_first_ms=%.1f state_bytes=%zu "
              "metrics_ms=%.2f metrics_snapshot_ms=%.2f mesos_state_ms=%.0f speedup=%.1f pause_max_ms=%.2f "
              "pause_p99_ms=%.2f baseline_pause_max_ms=%.2f baseline_pause_p99_ms=%.2f state_fetches=%d "
              "probe_samples=%zu pauses_over_10ms=%zu floor_max_ms=%.2f floor_p99_ms=%.2f floor_over_10ms=%zu "
              "baseline_floor_max_ms=%.2f clients_nice=%d threads=%d state_running=%zu state_finished=%zu\n",
              agents, running, finished, state.median_ms, cold_ms, state.bytes, prom.median_ms, snapshot.median_ms, mesos_ms,
              mesos_ms / state.median_ms, loaded.max_ms, loaded.p99_ms, baseline.max_ms, baseline.p99_ms,
              fetched.load(), loaded.samples, loaded.over_10ms, floor.max_ms, floor.p99_ms, floor.over_10ms,
              baseline_floor.max_ms, clients_nice, threads, running_in_state / 2, finished_in_state / 2);
  std::printf("bench=state api=v1 v1_get_state_json_ms=%.1f v1_get_state_protobuf_ms=%.1f state_ms=%.1f "
              "json_ratio=%.2f protobuf_ratio=%.2f v1_json_bytes=%zu v1_protobuf_bytes=%zu mesos_v1_json_ms=9600 "
              "mesos_v1_protobuf_ms=5700 speedup_json=%.1f speedup_protobuf=%.1f\n",
              v1_json_ms, v1_proto_ms, state.median_ms, v1_json_ms / state.median_ms, v1_proto_ms / state.median_ms,
              v1_json_bytes, v1_proto_bytes, 9600 / v1_json_ms, 5700 / v1_proto_ms);
  web.stop();
  for (auto& a : sims)
    caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  for (auto& s : scheds)
    caf::anon_send_exit(s, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(master, caf::exit_reason::user_shutdown);
  return 0;
}
