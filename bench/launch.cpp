// bench=launch: 1,000 trivial tasks (`true`) through a local cluster with 2 agents, from subscription to the last
// TASK_FINISHED, against the physical floor measured in the same run: 1,000 posix_spawn+waitpid of the same
// command (`/bin/sh -c true`, as the command executor runs it) from one process, two in flight (2 cores).
//
// The cluster is a real `mesoscaf local --agents=2` process; this process is the framework, a typed actor
// implementing scheduler_actor connected over loopback.
// Usage: bench_launch [--tasks=N] [--agents=N] [--cluster-flag=FLAG]...  (FLAG goes to `mesoscaf local`, e.g.
// --cluster-flag=--scheduler.max-threads=1, to compare scheduler settings in one run)
#include "actors/interfaces.hpp"
#include "child_process.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <iostream>
#include <spawn.h>
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
};

scheduler_actor::behavior_type bench_scheduler(scheduler_actor::stateful_pointer<bench_state> self,
                                               master_actor master, int tasks, caf::actor reporter) {
  self->state.master = master;
  self->state.total = tasks;
  self->state.reporter = reporter;
  framework_info fi;
  fi.name = "bench-launch";
  fi.user = "bench";
  scheduler_actor me = self;
  self->request(master, seconds(30), atom::subscribe_v, fi, me)
    .then([=](const framework_id& id) { self->state.id = id; },
          [=](const caf::error& err) {
            std::cerr << "subscribe failed: " << caf::to_string(err) << "\n";
            self->quit(err);
          });
  auto task_res = *resource_set::parse("cpus:0.05;mem:1");
  return {
    [=](atom::offers, const std::vector<offer>& offers) {
      auto& st = self->state;
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
      if (!s.uuid.empty())
        self->send(st.master, atom::ack_v, st.id, s.agent, s.task, s.uuid);
      if (s.state == task_state::finished)
        ++st.finished;
      else if (is_terminal(s.state)) {
        ++st.failed;
        std::cerr << "task " << s.task << " ended " << to_string(s.state) << ": " << s.message << "\n";
      }
      if (st.finished + st.failed == st.total)
        caf::anon_send(st.reporter, caf::ok_atom::value, st.finished, st.failed);
    },
    [=](atom::fw_msg, const agent_id&, const executor_id&, const std::string&) {},
    [=](atom::agent_lost, const agent_id&) {},
    [=](atom::exec_lost, const executor_id&, const agent_id&, int32_t) {},
    [=](atom::error, const std::string& what) { std::cerr << "master error: " << what << "\n"; },
  };
}

} // namespace

int main(int argc, char** argv) {
  int tasks = 1000;
  int agents = 2;
  std::vector<std::string> cluster_flags;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--tasks=", 8) == 0)
      tasks = std::atoi(argv[i] + 8);
    else if (std::strncmp(argv[i], "--agents=", 9) == 0)
      agents = std::atoi(argv[i] + 9);
    else if (std::strncmp(argv[i], "--cluster-flag=", 15) == 0)
      cluster_flags.emplace_back(argv[i] + 15);
    else {
      std::cerr << "usage: bench_launch [--tasks=N] [--agents=N] [--cluster-flag=FLAG]...\n";
      return 2;
    }
  }
  double floor = spawn_floor(tasks);

  test::temp_dir dir{"mesoscaf-bench"};
  std::vector<std::string> cluster_argv{MESOSCAF_BINARY, "local", "--agents=" + std::to_string(agents), "--port=0",
                                       "--work-dir=" + dir.path(), "--resources=cpus:2;mem:2048;disk:1000"};
  cluster_argv.insert(cluster_argv.end(), cluster_flags.begin(), cluster_flags.end());
  test::child_process cluster{cluster_argv, dir / "cluster.log"};
  auto m = cluster.wait_for_line("master listening on 127\\.0\\.0\\.1:([0-9]+)", seconds(60));
  if (!m) {
    std::cerr << "cluster did not start:\n" << cluster.output();
    return 1;
  }
  auto port = static_cast<uint16_t>(std::stoi((*m)[1]));

  caf::actor_system_config cfg;
  add_message_types(cfg);
  cfg.load<caf::io::middleman>();
  cfg.set("scheduler.max-threads", 1);
  cfg.set("scheduler.policy", caf::atom("sharing"));
  caf::actor_system sys{cfg};
  auto master = sys.middleman().remote_actor<master_actor>("127.0.0.1", port);
  if (!master) {
    std::cerr << "cannot connect to master: " << sys.render(master.error()) << "\n";
    return 1;
  }
  // Wait until both agents registered, so that the measurement starts with a ready cluster.
  caf::scoped_actor self{sys};
  for (int i = 0; i < 600; ++i) {
    size_t n = 0;
    self->request(*master, seconds(5), atom::state_v)
      .receive([&](const master_snapshot& s) { n = s.agents.size(); }, [&](const caf::error&) {});
    if (n >= static_cast<size_t>(agents))
      break;
    std::this_thread::sleep_for(milliseconds(100));
  }
  auto start = steady_clock::now();
  auto sched = sys.spawn(bench_scheduler, *master, tasks, caf::actor{self});
  int finished = 0, failed = 0;
  bool done = false;
  self->receive_while([&] { return !done; })(
    [&](caf::ok_atom, int f, int e) {
      finished = f;
      failed = e;
      done = true;
    },
    caf::after(seconds(300)) >> [&] { done = true; });
  double secs = duration<double>(steady_clock::now() - start).count();
  long cluster_rss = peak_rss_kb(cluster.pid());
  long exec_rss = 0;
  for (auto child : children_of(cluster.pid()))
    exec_rss = std::max(exec_rss, peak_rss_kb(child));
  self->send_exit(sched, caf::exit_reason::user_shutdown);
  cluster.signal(SIGTERM);
  cluster.wait_exit(seconds(20));
  if (finished != tasks) {
    std::cerr << "only " << finished << " of " << tasks << " tasks finished (" << failed << " failed)\n";
    std::cerr << cluster.output().substr(0, 4000);
    return 1;
  }
  std::printf("bench=launch tasks=%d seconds=%.3f floor_seconds=%.3f ratio=%.2f tasks_per_s=%.0f\n", tasks, secs,
              floor, secs / floor, tasks / secs);
  std::printf("bench=launch peak_rss_kb_master_and_agents=%ld peak_rss_kb_executor=%ld agents=%d\n", cluster_rss,
              exec_rss, agents);
  return 0;
}
