// Integration: the agent's work dir on a small tmpfs (2 MB), with real processes. A full disk never stops the agent:
// a task fills the disk, the next one fails with the reason, both reach their framework, the agent lives on, and a
// kill -9 plus restart on the same full work dir starts, re-registers and answers new tasks. And sandbox GC: with
// --gc-delay=2s, the sandbox of a finished executor (and an old one found on disk at start) goes, a live one stays.
// Mounting needs root (as CI runs it); without root the tests fail with a message saying so.
#define CAF_SUITE integration_disk
#include "test.hpp"

#include "child_process.hpp"
#include "process_cluster.hpp"
#include "process_scan.hpp"
#include "test_helpers.hpp"

#include <caf/actor_system.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>

#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utime.h>

using namespace mesoscaf;
using namespace mesoscaf::test;
using namespace std::chrono;
namespace fs = std::filesystem;

namespace {

const std::string bin = MESOSCAF_BINARY;

bool terminal_of(framework& f, const std::string& task, task_status* out = nullptr) {
  bool ok = f.rec->wait([&] { return f.rec->ended.count(task) != 0; });
  if (ok && out) {
    for (auto& s : f.rec->updates_of(task))
      if (is_terminal(s.state))
        *out = s;
  }
  return ok;
}

struct fixture : process_fixture_base {
  threaded_config cfg{true};
  caf::actor_system sys{cfg};
  std::unique_ptr<child_process> master_proc;
  std::string master_addr;
  master_actor master;
  std::string mounted;  // the tmpfs mount point, unmounted at the end whatever happened

  fixture() : process_fixture_base("mesoscaf-disk") {
  }

  ~fixture() {
    stop_frameworks_and_agents();
    master = nullptr;
    if (master_proc) {
      master_proc->signal(SIGTERM);
      master_proc->wait_exit(seconds(20));
    }
    kill_leftovers_and_keep_logs();
    if (!mounted.empty() && ::umount2(mounted.c_str(), MNT_DETACH) != 0)
      MESSAGE("cannot unmount " << mounted << ": " << std::strerror(errno));
  }

  // A 2 MB tmpfs as agent 0's work dir.
  bool mount_small_work_dir() {
    if (::geteuid() != 0) {
      MESSAGE("this test mounts a tmpfs and must run as root (CI does); it cannot run as uid " << ::geteuid());
      return false;
    }
    auto target = dir / "agent0";
    fs::create_directories(target);
    if (::mount("tmpfs", target.c_str(), "tmpfs", 0, "size=2m") != 0) {
      MESSAGE("mount -t tmpfs -o size=2m tmpfs " << target << ": " << std::strerror(errno));
      return false;
    }
    mounted = target;
    return true;
  }

  bool start_master() {
    std::vector<std::string> argv{bin, "master", "--port=0", "--work-dir=" + dir / "master"};
    master_proc = std::make_unique<child_process>(argv, dir / "master.log");
    auto m = master_proc->wait_for_line("master listening on (127\\.0\\.0\\.1:([0-9]+))", seconds(60));
    if (!m) {
      MESSAGE("master output:\n" << master_proc->output());
      return false;
    }
    master_addr = (*m)[1];
    auto h = sys.middleman().remote_actor<master_actor>("127.0.0.1", static_cast<uint16_t>(std::stoi((*m)[2])));
    if (!h)
      return false;
    master = *h;
    return true;
  }

  bool agent_connected(const std::string& id) {
    caf::scoped_actor self{sys};
    bool result = false;
    self->request(master, seconds(10), atom::state_v)
      .receive(
        [&](const master_snapshot& s) {
          for (auto& a : s.agents)
            if (a.id.value == id)
              result = a.connected;
        },
        [](const caf::error&) {});
    return result;
  }

  std::string start_agent(std::vector<std::string> flags = {}) {
    auto& a = agent_slot(0);
    if (a.runs == 0) {
      a.flags = std::move(flags);
      a.flags.push_back("--resources=cpus:4;mem:4096;disk:1000");
    }
    std::vector<std::string> argv{bin, "agent", "--master=" + master_addr, "--port=0", "--work-dir=" + a.work_dir};
    argv.insert(argv.end(), a.flags.begin(), a.flags.end());
    return start_agent_process(0, std::move(argv));
  }

  framework* add_framework(const std::string& name) {
    fw_options o;
    o.name = name;
    return process_fixture_base::add_framework(sys, master_addr, o);
  }

  std::string runs_dir(const framework& f) {
    auto& a = *agents.at(0);
    return a.work_dir + "/agents/" + a.id + "/frameworks/" + f.id.value + "/executors/command-executor/runs";
  }
};

} // namespace

FIXTURE_SCOPE(integration_disk_tests, fixture)

TEST(a full work dir never stops the agent) {
  ENSURE(mount_small_work_dir());
  ENSURE(start_master());
  ENSURE(!start_agent().empty());
  // The declared disk (1000 MB) does not fit the 2 MB file system: one warning at start.
  CHECK(agents[0]->proc->wait_for_line("declared disk .* is larger than the file system", seconds(5)).has_value());
  auto f = add_framework("disk-full");
  ENSURE(f);
  launch(*f, {make_task("filler", "head -c 4M /dev/zero > big; true")});
  task_status filler;
  bool filler_ended = terminal_of(*f, "filler", &filler);
  if (!filler_ended)
    MESSAGE("filler: " << f->rec->history("filler") << "\nagent output:\n" << agents[0]->proc->output());
  CHECK(filler_ended);
  launch(*f, {make_task("second", "echo hi")});
  task_status second;
  bool second_ended = terminal_of(*f, "second", &second);
  if (!second_ended)
    MESSAGE("second: " << f->rec->history("second") << "\nagent output:\n" << agents[0]->proc->output());
  CHECK(second_ended);
  MESSAGE("second ended " << to_string(second.state) << ": " << second.message);
  CHECK_EQUAL(second.state, task_state::failed);
  CHECK(second.message.find("No space left on device") != std::string::npos);
  std::this_thread::sleep_for(seconds(2));  // the agent keeps retrying its checkpoint writes meanwhile
  CHECK(agents[0]->proc->running());
  if (!agents[0]->proc->running())
    MESSAGE("agent output:\n" << agents[0]->proc->output());

  // kill -9 and a restart on the same full work dir: it starts and re-registers.
  agents[0]->proc->signal(SIGKILL);
  ENSURE(agents[0]->proc->wait_exit(seconds(20)).has_value());
  auto id = start_agent();
  ENSURE(!id.empty());
  CHECK(eventually([&] { return agent_connected(id); }, process_wait_limit, milliseconds(100)));
  launch(*f, {make_task("third", "echo again")});
  task_status third;
  CHECK(terminal_of(*f, "third", &third));
  MESSAGE("third ended " << to_string(third.state) << ": " << third.message);
  CHECK(agents[0]->proc->running());
  if (!agents[0]->proc->running())
    MESSAGE("agent output:\n" << agents[0]->proc->output());
}

TEST(sandboxes of finished executors are collected and live ones kept) {
  ENSURE(start_master());
  // A sandbox left by an earlier agent, a day old: collected after the start-up scan.
  auto& a = agent_slot(0);
  auto old_run = a.work_dir + "/agents/old-agent/frameworks/old-fw/executors/e/runs/c1";
  fs::create_directories(old_run);
  std::ofstream{old_run + "/stdout"} << "old";
  struct utimbuf day_old{::time(nullptr) - 86400, ::time(nullptr) - 86400};
  ::utime(old_run.c_str(), &day_old);
  ENSURE(!start_agent({"--gc-delay=2s", "--disk-watch-interval=500ms"}).empty());
  auto done = add_framework("done");
  auto live = add_framework("live");
  ENSURE(done && live);
  launch(*done, {make_task("short", "echo bye")});
  ENSURE(terminal_of(*done, "short"));
  launch(*live, {sleeper("sleeper")});
  ENSURE(running(*live, "sleeper"));
  auto done_runs = runs_dir(*done);
  auto live_runs = runs_dir(*live);
  CHECK(fs::exists(done_runs));
  CHECK(fs::exists(live_runs));
  // The finished framework's executor goes with it; its sandbox is due 2 s later.
  done->driver->stop();
  done->driver->join();
  auto gone = [&](const std::string& p) { return !fs::exists(p); };
  CHECK(eventually([&] { return gone(done_runs); }, seconds(20), milliseconds(200)));
  CHECK(eventually([&] { return gone(old_run); }, seconds(20), milliseconds(200)));
  CHECK(gone(a.work_dir + "/agents/old-agent/frameworks/old-fw"));  // empty parents go too
  // Well past the delay, with several GC rounds: the live task's sandbox stays.
  std::this_thread::sleep_for(seconds(3));
  CHECK(fs::exists(live_runs));
  CHECK(!fs::is_empty(live_runs));
  CHECK(alive(task_pid("sleeper")));
}

FIXTURE_SCOPE_END()
