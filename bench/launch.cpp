// bench=launch: 1,000 trivial tasks (`true`) through a local cluster with 2 agents, from subscription to the last
// TASK_FINISHED, against the physical floor measured in the same run: 1,000 posix_spawn+waitpid of the same
// command (`/bin/sh -c true`, as the command executor runs it) from one process, two in flight (2 cores).
//
// The cluster is a real `mesoscaf local --agents=2` process; this process is the framework, a typed actor
// implementing scheduler_actor connected over loopback. It runs twice: sandboxes on tmpfs (/dev/shm; the
// headline ratio) and on disk ($TMPDIR or /tmp).
// With --tls, a third run uses mutual TLS (certificates made by `mesoscaf certs`): the framework, the cluster and
// every executor connection; tls_ratio is its time over the plaintext tmpfs run of the same invocation.
// With --api=http the framework is instead a client of Mesos' v1 scheduler API (POST /api/v1/scheduler on the
// cluster's master), once with JSON and once with protobuf, against the CAF driver's run in the same invocation
// (http_ratio): one SUBSCRIBE stream read as it arrives, calls (ACCEPT, DECLINE, ACKNOWLEDGE) sent from a
// second thread over one kept-alive connection, as a framework on mesos-go does.
// Usage: bench_launch [--tasks=N] [--agents=N] [--task-cpus=X] [--tls] [--api=caf|http] [--cluster-flag=FLAG]...
// (FLAG goes to `mesoscaf local`, e.g. --cluster-flag=--scheduler.max-threads=1, to compare scheduler settings)
#include "actors/interfaces.hpp"
#include "containerizer/launcher.hpp"
#include "actors/tls.hpp"
#include "child_process.hpp"
#include "http_test_client.hpp"
#include "messages/mesos_v1/recordio.hpp"
#include "messages/mesos_v1/scheduler.pb.h"
#include "messages/mesos_v1/wire_codec.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <thread>
#include <cstring>
#include <dirent.h>
#include <filesystem>
#include <fstream>
#include <memory>
#include <iostream>
#include <spawn.h>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <vector>

extern char** environ;

using namespace mesoscaf;
using namespace std::chrono;

namespace {

double spawn_floor(int n) {
  const char* argv[] = {"/bin/sh", "-c", "true", nullptr};
  auto spawn_one = [&] {
    pid_t pid;
    if (posix_spawn(&pid, "/bin/sh", nullptr, nullptr, const_cast<char**>(argv), environ) != 0) {
      std::perror("posix_spawn");
      std::exit(1);
    }
    return pid;
  };
  auto start = steady_clock::now();
  int started = 0, done = 0, in_flight = 0;
  while (done < n) {
    while (in_flight < 2 && started < n) {
      spawn_one();
      ++started;
      ++in_flight;
    }
    int status;
    if (::waitpid(-1, &status, 0) > 0) {
      ++done;
      --in_flight;
    }
  }
  return duration<double>(steady_clock::now() - start).count();
}

long peak_rss_kb(pid_t pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/status"};
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0)
      return std::stol(line.substr(6));
  return -1;
}

// User+system CPU seconds a process has used so far.
double cpu_seconds(pid_t pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/stat"};
  std::string stat;
  std::getline(in, stat);
  auto close = stat.rfind(')');
  if (close == std::string::npos)
    return 0;
  std::istringstream fields{stat.substr(close + 2)};
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; fields >> field; ++i) {  // field 3 is the state; utime is 14, stime 15
    if (i == 14)
      utime = std::stoull(field);
    else if (i == 15) {
      stime = std::stoull(field);
      break;
    }
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

std::vector<pid_t> children_of(pid_t parent) {
  std::vector<pid_t> result;
  if (auto dir = opendir("/proc")) {
    while (auto e = readdir(dir)) {
      pid_t pid = std::atoi(e->d_name);
      if (pid <= 0)
        continue;
      std::ifstream in{"/proc/" + std::to_string(pid) + "/stat"};
      std::string stat;
      std::getline(in, stat);
      auto close = stat.rfind(')');
      if (close == std::string::npos)
        continue;
      char state;
      int ppid = 0;
      if (std::sscanf(stat.c_str() + close + 1, " %c %d", &state, &ppid) == 2 && ppid == parent)
        result.push_back(pid);
    }
    closedir(dir);
  }
  return result;
}

struct bench_state {
  static inline const char* name = "bench-scheduler";
  master_actor master;
  framework_id id;
  int total = 0;
  int launched = 0;
  int finished = 0;
  int failed = 0;
  caf::actor reporter;
  // Longest pause between two status updates: a stall (e.g. waiting for a timer) shows up here.
  steady_clock::time_point last_update = steady_clock::now();
  double max_gap_ms = 0;
  int offers = 0;
};

scheduler_actor::behavior_type bench_scheduler(scheduler_actor::stateful_pointer<bench_state> self,
                                               master_actor master, int tasks, double task_cpus,
                                               bool checkpoint, caf::actor reporter) {
  self->state.master = master;
  self->state.total = tasks;
  self->state.reporter = reporter;
  framework_info fi;
  fi.name = "bench-launch";
  fi.user = current_user_name();  // agents run tasks as their framework's user
  // With checkpointing every task record and status update is written (and synced) before it goes on.
  fi.checkpoint = checkpoint;
  scheduler_actor me = self;
  self->request(master, seconds(30), atom::subscribe_v, fi, me)
    .then([=](const framework_id& id) { self->state.id = id; },
          [=](const caf::error& err) {
            std::cerr << "subscribe failed: " << caf::to_string(err) << "\n";
            self->quit(err);
          });
  auto task_res = *resource_set::parse("cpus:" + std::to_string(task_cpus) + ";mem:1");
  return {
    [=](atom::offers, const std::vector<offer>& offers) {
      auto& st = self->state;
      st.offers += static_cast<int>(offers.size());
      for (auto& o : offers) {
        std::vector<task_info> batch;
        auto left = o.resources;
        while (st.launched < st.total && left.contains(task_res)) {
          task_info t;
          t.name = "true";
          t.id = task_id{"t" + std::to_string(st.launched++)};
          t.agent = o.agent;
          t.resources = task_res;
          command_info c;
          c.value = "true";
          t.command = c;
          batch.push_back(std::move(t));
          left -= task_res;
        }
        offer_operation op;
        op.tasks = std::move(batch);
        filters f;
        f.refuse_seconds = 0;
        if (op.tasks.empty())
          self->send(st.master, atom::decline_v, st.id, std::vector<offer_id>{o.id}, f);
        else
          self->send(st.master, atom::accept_v, st.id, std::vector<offer_id>{o.id},
                     std::vector<offer_operation>{std::move(op)}, f);
      }
    },
    [=](atom::rescind, const offer_id&) {},
    [=](atom::update, const task_status& s) {
      auto& st = self->state;
      auto now = steady_clock::now();
      st.max_gap_ms = std::max(st.max_gap_ms, duration<double, std::milli>(now - st.last_update).count());
      st.last_update = now;
      if (!s.uuid.empty())
        self->send(st.master, atom::ack_v, st.id, s.agent, s.task, s.uuid);
      if (s.state == task_state::finished)
        ++st.finished;
      else if (is_terminal(s.state)) {
        ++st.failed;
        std::cerr << "task " << s.task << " ended " << to_string(s.state) << ": " << s.message << "\n";
      }
      if (st.finished + st.failed == st.total)
        caf::anon_send(st.reporter, caf::ok_atom::value, st.finished, st.failed, st.max_gap_ms, st.offers);
    },
    [=](atom::fw_msg, const agent_id&, const executor_id&, const std::string&) {},
    [=](atom::agent_lost, const agent_id&) {},
    [=](atom::exec_lost, const executor_id&, const agent_id&, int32_t) {},
    [=](atom::error, const std::string& what) { std::cerr << "master error: " << what << "\n"; },
    [=](atom::replaced, const framework_id&) { std::cerr << "framework failed over to another scheduler\n"; },
  };
}

// -- the framework on the v1 HTTP API ---------------------------------------------------------------------

namespace sched = ::mesos::v1::scheduler;
namespace v1 = mesoscaf::mesos_v1;

/// Calls go out from their own thread over one kept-alive connection, so reading the stream never waits on them.
class call_sender {
public:
  call_sender(std::string endpoint, v1::codec codec) : conn_(std::move(endpoint)), codec_(codec) {
    thread_ = std::thread([this] { run(); });
  }
  ~call_sender() {
    {
      std::lock_guard<std::mutex> guard{mtx_};
      stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  void send(const std::string& stream_id, const sched::Call& call) {
    {
      std::lock_guard<std::mutex> guard{mtx_};
      queue_.emplace_back(stream_id, v1::encode(codec_, call));
    }
    cv_.notify_one();
  }
  int failures() const { return failures_; }

private:
  void run() {
    for (;;) {
      std::unique_lock<std::mutex> guard{mtx_};
      cv_.wait(guard, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty())
        return;
      auto [stream_id, body] = std::move(queue_.front());
      queue_.pop_front();
      guard.unlock();
      auto r = conn_.request("POST", "/api/v1/scheduler", body, v1::content_type(codec_),
                             {{"Mesos-Stream-Id", stream_id}});
      if (r.status != 202 && ++failures_ <= 5)
        std::cerr << "call refused: " << r.status << " " << r.body << r.error << "\n";
    }
  }

  test::http_connection conn_;
  v1::codec codec_;
  std::mutex mtx_;
  std::condition_variable cv_;
  std::deque<std::pair<std::string, std::string>> queue_;
  bool stop_ = false;
  std::atomic<int> failures_{0};
  std::thread thread_;
};

struct http_framework_result {
  int finished = 0;
  int failed = 0;
  int offers = 0;
  double max_gap_ms = 0;
  std::string error;
};

http_framework_result http_framework(const std::string& endpoint, v1::codec codec, int total, double task_cpus) {
  http_framework_result out;
  sched::Call sub;
  sub.set_type(sched::Call::SUBSCRIBE);
  auto* fi = sub.mutable_subscribe()->mutable_framework_info();
  fi->set_user(current_user_name());
  fi->set_name("bench-launch-http");
  test::http_stream stream{endpoint, "/api/v1/scheduler", v1::encode(codec, sub), v1::content_type(codec)};
  if (stream.status() != 200) {
    out.error = "SUBSCRIBE answered " + std::to_string(stream.status()) + " " + stream.error();
    return out;
  }
  auto stream_id = stream.headers().at("mesos-stream-id");
  call_sender calls{endpoint, codec};
  v1::recordio_reader reader;
  std::vector<std::string> records;
  std::string fid;
  int launched = 0;
  auto last_update = steady_clock::now();
  auto with_framework = [&](sched::Call c) {
    c.mutable_framework_id()->set_value(fid);
    return c;
  };
  while (out.finished + out.failed < total) {
    auto bytes = stream.read_some(seconds(300));
    if (bytes.empty() || !reader.feed(bytes, records)) {
      out.error = "the event stream ended: " + stream.error() + reader.error();
      return out;
    }
    for (auto& record : records) {
      sched::Event e;
      if (auto err = v1::decode(codec, record, e); !err.empty()) {
        out.error = "bad event: " + err;
        return out;
      }
      switch (e.type()) {
        case sched::Event::SUBSCRIBED:
          fid = e.subscribed().framework_id().value();
          break;
        case sched::Event::OFFERS:
          for (const auto& o : e.offers().offers()) {
            ++out.offers;
            double cpus = 0, mem = 0;
            for (const auto& r : o.resources()) {
              if (r.name() == "cpus")
                cpus += r.scalar().value();
              else if (r.name() == "mem")
                mem += r.scalar().value();
            }
            sched::Call c;
            c.mutable_accept()->add_offer_ids()->set_value(o.id().value());
            c.mutable_accept()->mutable_filters()->set_refuse_seconds(0);
            auto* launch = c.mutable_accept()->add_operations();
            launch->set_type(::mesos::v1::Offer::Operation::LAUNCH);
            while (launched < total && cpus >= task_cpus - 1e-9 && mem >= 1) {
              auto* t = launch->mutable_launch()->add_task_infos();
              t->set_name("true");
              t->mutable_task_id()->set_value("t" + std::to_string(launched++));
              *t->mutable_agent_id() = o.agent_id();
              for (auto [name, value] : {std::pair<const char*, double>{"cpus", task_cpus}, {"mem", 1.0}}) {
                auto* r = t->add_resources();
                r->set_name(name);
                r->set_type(::mesos::v1::Value::SCALAR);
                r->mutable_scalar()->set_value(value);
              }
              t->mutable_command()->set_value("true");
              cpus -= task_cpus;
              mem -= 1;
            }
            if (launch->launch().task_infos_size() == 0) {
              sched::Call d;
              d.set_type(sched::Call::DECLINE);
              d.mutable_decline()->add_offer_ids()->set_value(o.id().value());
              d.mutable_decline()->mutable_filters()->set_refuse_seconds(0);
              calls.send(stream_id, with_framework(d));
            } else {
              c.set_type(sched::Call::ACCEPT);
              calls.send(stream_id, with_framework(c));
            }
          }
          break;
        case sched::Event::UPDATE: {
          const auto& s = e.update().status();
          auto now = steady_clock::now();
          out.max_gap_ms = std::max(out.max_gap_ms, duration<double, std::milli>(now - last_update).count());
          last_update = now;
          if (s.has_uuid()) {
            sched::Call ack;
            ack.set_type(sched::Call::ACKNOWLEDGE);
            *ack.mutable_acknowledge()->mutable_agent_id() = s.agent_id();
            *ack.mutable_acknowledge()->mutable_task_id() = s.task_id();
            ack.mutable_acknowledge()->set_uuid(s.uuid());
            calls.send(stream_id, with_framework(ack));
          }
          if (s.state() == ::mesos::v1::TASK_FINISHED)
            ++out.finished;
          else if (s.state() == ::mesos::v1::TASK_FAILED || s.state() == ::mesos::v1::TASK_KILLED
                   || s.state() == ::mesos::v1::TASK_ERROR || s.state() == ::mesos::v1::TASK_LOST
                   || s.state() == ::mesos::v1::TASK_DROPPED) {
            if (++out.failed <= 5)
              std::cerr << "task " << s.task_id().value() << " ended " << ::mesos::v1::TaskState_Name(s.state())
                        << ": " << s.message() << "\n";
          }
          break;
        }
        default:
          break;
      }
    }
    records.clear();
  }
  sched::Call teardown;
  teardown.set_type(sched::Call::TEARDOWN);
  calls.send(stream_id, with_framework(teardown));
  return out;
}

struct cluster_run {
  bool ok = false;
  double seconds = 0;
  double cpu_cluster = 0;
  double cpu_executors = 0;
  long rss_cluster_kb = 0;
  long rss_executor_kb = 0;
  int offers = 0;
  double max_gap_ms = 0;
};

struct bench_options {
  int tasks = 1000;
  int agents = 2;
  // Each agent has cpus:2, so task_cpus sets how many tasks run at once per agent (default 0.25: 8 per agent).
  double task_cpus = 0.25;
  std::vector<std::string> cluster_flags;
  bool checkpoint = false;   // --checkpoint: the framework asks agents to checkpoint its tasks
  bool tls = false;          // --tls: also a run on mutual TLS
  bool http = false;         // --api=http: also runs with a framework on the v1 HTTP API (JSON, protobuf)
};

enum class framework_kind { caf_driver, http_json, http_protobuf };

// Starts `mesoscaf local` with its work dir (and so every sandbox) under `base`, runs the tasks, stops it.
cluster_run run_cluster(caf::actor_system& sys, const bench_options& opts, const std::string& base,
                        const std::vector<std::string>& extra_flags = {},
                        framework_kind kind = framework_kind::caf_driver) {
  cluster_run result;
  std::string tmpl = base + "/mesoscaf-bench-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    std::perror("mkdtemp");
    return result;
  }
  std::string dir = tmpl;
  std::vector<std::string> argv{MESOSCAF_BINARY, "local", "--agents=" + std::to_string(opts.agents), "--port=0",
                                "--work-dir=" + dir + "/cluster", "--resources=cpus:2;mem:2048;disk:1000"};
  argv.insert(argv.end(), opts.cluster_flags.begin(), opts.cluster_flags.end());
  argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
  auto cluster = std::make_unique<test::child_process>(argv, dir + "/cluster.log");
  auto cleanup = [&] {
    cluster.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  };
  auto m = cluster->wait_for_line("master listening on 127\\.0\\.0\\.1:([0-9]+)", seconds(60));
  if (!m) {
    std::cerr << "cluster did not start:\n" << cluster->output();
    cleanup();
    return result;
  }
  auto port = static_cast<uint16_t>(std::stoi((*m)[1]));
  std::string master_http;
  if (kind != framework_kind::caf_driver) {
    auto mh = cluster->wait_for_line("master http listening on (127\\.0\\.0\\.1:[0-9]+)", seconds(60));
    if (!mh) {
      std::cerr << "the cluster serves no HTTP:\n" << cluster->output();
      cleanup();
      return result;
    }
    master_http = (*mh)[1];
  }
  auto master = connect_actor<master_actor>(sys, "127.0.0.1", port);
  if (!master) {
    std::cerr << "cannot connect to master: " << sys.render(master.error()) << "\n";
    cleanup();
    return result;
  }
  // Wait until the agents registered, so that the measurement starts with a ready cluster.
  caf::scoped_actor self{sys};
  for (int i = 0; i < 600; ++i) {
    size_t n = 0;
    self->request(*master, seconds(5), atom::state_v)
      .receive([&](const master_snapshot& s) { n = s.agents.size(); }, [&](const caf::error&) {});
    if (n >= static_cast<size_t>(opts.agents))
      break;
    std::this_thread::sleep_for(milliseconds(100));
  }
  auto start = steady_clock::now();
  int finished = 0, failed = 0;
  scheduler_actor sched;
  if (kind == framework_kind::caf_driver) {
    sched = sys.spawn(bench_scheduler, *master, opts.tasks, opts.task_cpus, opts.checkpoint, caf::actor{self});
    bool done = false;
    self->receive_while([&] { return !done; })(
      [&](caf::ok_atom, int f, int e, double gap, int o) {
        finished = f;
        failed = e;
        result.max_gap_ms = gap;
        result.offers = o;
        done = true;
      },
      caf::after(seconds(300)) >> [&] { done = true; });
  } else {
    auto r = http_framework(master_http, kind == framework_kind::http_json ? v1::codec::json : v1::codec::protobuf,
                            opts.tasks, opts.task_cpus);
    if (!r.error.empty())
      std::cerr << "HTTP framework: " << r.error << "\n";
    finished = r.finished;
    failed = r.failed;
    result.max_gap_ms = r.max_gap_ms;
    result.offers = r.offers;
  }
  result.seconds = duration<double>(steady_clock::now() - start).count();
  result.rss_cluster_kb = peak_rss_kb(cluster->pid());
  result.cpu_cluster = cpu_seconds(cluster->pid());
  for (auto child : children_of(cluster->pid())) {
    result.rss_executor_kb = std::max(result.rss_executor_kb, peak_rss_kb(child));
    result.cpu_executors += cpu_seconds(child);
  }
  if (sched)
    self->send_exit(sched, caf::exit_reason::user_shutdown);
  cluster->signal(SIGTERM);
  cluster->wait_exit(seconds(20));
  if (finished != opts.tasks) {
    std::cerr << "only " << finished << " of " << opts.tasks << " tasks finished (" << failed << " failed)\n";
    std::cerr << cluster->output().substr(0, 4000);
  } else {
    result.ok = true;
  }
  cleanup();
  return result;
}

bool writable_dir(const std::string& path) {
  return ::access(path.c_str(), W_OK) == 0;
}

} // namespace

int main(int argc, char** argv) {
  bench_options opts;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--tasks=", 8) == 0)
      opts.tasks = std::atoi(argv[i] + 8);
    else if (std::strncmp(argv[i], "--agents=", 9) == 0)
      opts.agents = std::atoi(argv[i] + 9);
    else if (std::strncmp(argv[i], "--task-cpus=", 12) == 0)
      opts.task_cpus = std::atof(argv[i] + 12);
    else if (std::strncmp(argv[i], "--cluster-flag=", 15) == 0)
      opts.cluster_flags.emplace_back(argv[i] + 15);
    else if (std::strcmp(argv[i], "--checkpoint") == 0)
      opts.checkpoint = true;
    else if (std::strcmp(argv[i], "--tls") == 0)
      opts.tls = true;
    else if (std::strcmp(argv[i], "--api=http") == 0)
      opts.http = true;
    else if (std::strcmp(argv[i], "--api=caf") == 0)
      opts.http = false;
    else {
      std::cerr << "usage: bench_launch [--tasks=N] [--agents=N] [--task-cpus=X] [--cluster-flag=FLAG]... "
                   "[--checkpoint] [--tls] [--api=caf|http]\n";
      return 2;
    }
  }
  if (opts.tasks < 1 || opts.agents < 1 || !(opts.task_cpus > 0 && opts.task_cpus <= 2)) {
    std::cerr << "bench_launch: --tasks and --agents must be >= 1, --task-cpus in (0, 2]\n";
    return 2;
  }
  double floor = spawn_floor(opts.tasks);

  caf::actor_system_config cfg;
  add_message_types(cfg);
  cfg.load<caf::io::middleman>();
  cfg.set("scheduler.max-threads", 1);
  cfg.set("scheduler.policy", caf::atom("sharing"));
  caf::actor_system sys{cfg};

  // Sandboxes on tmpfs measure the scheduling path against the spawn floor; sandboxes on disk add the file
  // system's cost of a directory and two files per task (large on this VM's ext4 after many deletions).
  const char* tmp = std::getenv("TMPDIR");
  std::string disk_base = tmp ? tmp : "/tmp";
  std::string tmpfs_base = writable_dir("/dev/shm") ? "/dev/shm" : disk_base;
  auto in_memory = run_cluster(sys, opts, tmpfs_base);
  if (opts.http) {
    // The same cluster on tmpfs with a framework on the v1 HTTP API, against the CAF driver's run just made.
    auto json = run_cluster(sys, opts, tmpfs_base, {}, framework_kind::http_json);
    auto proto = run_cluster(sys, opts, tmpfs_base, {}, framework_kind::http_protobuf);
    if (!in_memory.ok || !json.ok || !proto.ok)
      return 1;
    for (auto& [name, run] : {std::pair<const char*, cluster_run&>{"json", json}, {"protobuf", proto}})
      std::printf("bench=launch api=http codec=%s tasks=%d seconds=%.3f caf_driver_seconds=%.3f http_ratio=%.2f "
                  "floor_ratio=%.2f tasks_per_s=%.0f cpu_s_master_and_agents=%.2f caf_cpu_s_master_and_agents=%.2f "
                  "offers=%d max_update_gap_ms=%.1f\n",
                  name, opts.tasks, run.seconds, in_memory.seconds, run.seconds / in_memory.seconds,
                  run.seconds / floor, opts.tasks / run.seconds, run.cpu_cluster, in_memory.cpu_cluster, run.offers,
                  run.max_gap_ms);
  }
  auto on_disk = run_cluster(sys, opts, disk_base);
  if (!in_memory.ok || !on_disk.ok)
    return 1;
  if (opts.tls) {
    // The operator's way: `mesoscaf certs`, one certificate for the cluster and one for this framework.
    std::string certs = tmpfs_base + "/mesoscaf-bench-certs-XXXXXX";
    if (::mkdtemp(certs.data()) == nullptr) {
      std::perror("mkdtemp");
      return 1;
    }
    for (auto cmd : {std::string{"create-ca"}, std::string{"create --name=cluster"},
                     std::string{"create --name=framework"}}) {
      auto line = std::string{MESOSCAF_BINARY} + " certs " + cmd + " --dir=" + certs + " > /dev/null";
      if (std::system(line.c_str()) != 0) {
        std::cerr << "bench_launch: " << line << " failed\n";
        return 1;
      }
    }
    caf::actor_system_config tls_cfg;
    add_message_types(tls_cfg);
    tls_cfg.load<caf::io::middleman>();
    tls_cfg.set("scheduler.max-threads", 1);
    tls_cfg.set("scheduler.policy", caf::atom("sharing"));
    use_tls(tls_cfg, {certs + "/framework.pem", certs + "/framework-key.pem", certs + "/ca.pem"});
    caf::actor_system tls_sys{tls_cfg};
    auto on_tls = run_cluster(tls_sys, opts, tmpfs_base,
                              {"--tls-cert=" + certs + "/cluster.pem", "--tls-key=" + certs + "/cluster-key.pem",
                               "--tls-ca=" + certs + "/ca.pem"});
    std::error_code ec;
    std::filesystem::remove_all(certs, ec);
    if (!on_tls.ok)
      return 1;
    std::printf("bench=launch tls=1 sandboxes=%s seconds=%.3f plain_seconds=%.3f tls_ratio=%.2f ratio=%.2f "
                "tasks_per_s=%.0f cpu_s_master_and_agents=%.2f plain_cpu_s_master_and_agents=%.2f "
                "cpu_s_executors=%.2f plain_cpu_s_executors=%.2f\n",
                tmpfs_base.c_str(), on_tls.seconds, in_memory.seconds, on_tls.seconds / in_memory.seconds,
                on_tls.seconds / floor, opts.tasks / on_tls.seconds, on_tls.cpu_cluster, in_memory.cpu_cluster,
                on_tls.cpu_executors, in_memory.cpu_executors);
  }
  auto& r = in_memory;
  if (opts.checkpoint)
    std::printf("bench=launch checkpoint=1\n");
  std::printf("bench=launch tasks=%d seconds=%.3f floor_seconds=%.3f ratio=%.2f tasks_per_s=%.0f\n", opts.tasks,
              r.seconds, floor, r.seconds / floor, opts.tasks / r.seconds);
  std::printf("bench=launch sandboxes=%s seconds=%.3f ratio=%.2f tasks_per_s=%.0f\n", tmpfs_base.c_str(),
              r.seconds, r.seconds / floor, opts.tasks / r.seconds);
  std::printf("bench=launch sandboxes=%s seconds=%.3f ratio=%.2f tasks_per_s=%.0f\n", disk_base.c_str(),
              on_disk.seconds, on_disk.seconds / floor, opts.tasks / on_disk.seconds);
  // CPU time of the tmpfs run (executors: their own, not their tasks').
  std::printf("bench=launch cpu_s_master_and_agents=%.2f cpu_s_executors=%.2f\n", r.cpu_cluster, r.cpu_executors);
  std::printf("bench=launch peak_rss_kb_master_and_agents=%ld peak_rss_kb_executor=%ld agents=%d "
              "tasks_in_flight=%d offers=%d max_update_gap_ms=%.1f\n",
              std::max(r.rss_cluster_kb, on_disk.rss_cluster_kb), std::max(r.rss_executor_kb, on_disk.rss_executor_kb),
              opts.agents, opts.agents * static_cast<int>(2 / opts.task_cpus + 1e-9), r.offers, r.max_gap_ms);
  return 0;
}
