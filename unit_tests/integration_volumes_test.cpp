// Integration: reservations and persistent volumes across real processes. A master and an agent run as `mesoscaf`
// daemons; the framework is a typed scheduler actor in this process, connected over loopback. It reserves
// resources for its role, creates a volume, writes a file into it from one task and reads it from later tasks, also
// after the agent was SIGKILLed and restarted with the same work directory. Bounded waits throughout.
#define CAF_SUITE integration_volumes
#include "config/support/files.hpp"
#include "test.hpp"

#include "child_process.hpp"
#include "test_helpers.hpp"

#include "actors/interfaces.hpp"
#include "containerizer/volumes.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include <chrono>
#include <condition_variable>
#include <csignal>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>
#include <fstream>
#include <algorithm>

using namespace mesoscaf;
using namespace mesoscaf::test;
using namespace std::chrono;

namespace {

const std::string bin = MESOSCAF_BINARY;
constexpr auto wait_limit = seconds(60);

const std::string agent_resources = "cpus:2;mem:1024;disk:1000";
const std::string reserve_text = "cpus(eng,dynamic):1;mem(eng,dynamic):256;disk(eng,dynamic):100";
const std::string volume_text = "disk(eng,dynamic)[vol1:data]:64";

resource_set rs(const std::string& text) {
  auto r = resource_set::parse(text);
  if (!r)
    CAF_FAIL("bad test resources " << text);
  return *r;
}

// What the scheduler actor received, for the test thread (offers, rescinds, status updates, errors).
struct inbox {
  std::mutex mtx;
  std::condition_variable cv;
  std::vector<offer> offers;          // outstanding (not rescinded, not yet taken)
  std::vector<task_status> updates;   // every update, in order
  std::vector<std::string> errors;

  void add_offers(const std::vector<offer>& os) {
    std::lock_guard<std::mutex> g{mtx};
    offers.insert(offers.end(), os.begin(), os.end());
    cv.notify_all();
  }
  void rescind(const offer_id& id) {
    std::lock_guard<std::mutex> g{mtx};
    offers.erase(std::remove_if(offers.begin(), offers.end(), [&](const offer& o) { return o.id == id; }),
                 offers.end());
  }
  void add_update(const task_status& s) {
    std::lock_guard<std::mutex> g{mtx};
    updates.push_back(s);
    cv.notify_all();
  }
  void add_error(const std::string& e) {
    std::lock_guard<std::mutex> g{mtx};
    errors.push_back(e);
    cv.notify_all();
  }

  // The master may split an agent's resources over several offers (e.g. what a task returned and the rest):
  // waits until the outstanding offers of `agent` together satisfy `pred`, then takes all of them.
  std::vector<offer> take_agent_offers(const std::string& agent, const std::function<bool(const resource_set&)>& pred,
                                       milliseconds limit) {
    std::unique_lock<std::mutex> g{mtx};
    std::vector<offer> result;
    cv.wait_for(g, limit, [&] {
      resource_set sum;
      for (auto& o : offers)
        if (o.agent.value == agent)
          sum += o.resources;
      if (!pred(sum))
        return false;
      for (auto i = offers.begin(); i != offers.end();) {
        if (i->agent.value == agent) {
          result.push_back(*i);
          i = offers.erase(i);
        } else {
          ++i;
        }
      }
      return true;
    });
    return result;
  }

  // All outstanding offers (for declining them).
  std::vector<offer> take_all_offers() {
    std::lock_guard<std::mutex> g{mtx};
    auto result = std::move(offers);
    offers.clear();
    return result;
  }

  // Waits for a terminal update of `task`.
  std::optional<task_status> wait_terminal(const std::string& task, milliseconds limit) {
    std::unique_lock<std::mutex> g{mtx};
    std::optional<task_status> result;
    cv.wait_for(g, limit, [&] {
      for (auto& s : updates)
        if (s.task.value == task && is_terminal(s.state)) {
          result = s;
          return true;
        }
      return false;
    });
    return result;
  }

  std::string describe_errors() {
    std::lock_guard<std::mutex> g{mtx};
    std::string result;
    for (auto& e : errors)
      result += e + "; ";
    return result;
  }
};

using inbox_ptr = std::shared_ptr<inbox>;

// The framework ID, known once subscribed; acks carry it. Shared between the test thread and the actor: written
// before anything is launched, so before any update that needs it can arrive.
struct framework_ref {
  framework_id id;
};
using framework_ref_ptr = std::shared_ptr<framework_ref>;

// Records everything for the test thread; acknowledges every update at once (the agent resends unacknowledged
// ones).
scheduler_actor::behavior_type test_scheduler(scheduler_actor::pointer self, master_actor master, inbox_ptr box,
                                              framework_ref_ptr fw) {
  return {
    [=](atom::offers, const std::vector<offer>& os) { box->add_offers(os); },
    [=](atom::rescind, const offer_id& id) { box->rescind(id); },
    [=](atom::update, const task_status& s) {
      box->add_update(s);
      if (!s.uuid.empty())
        self->send(master, atom::ack_v, fw->id, s.agent, s.task, s.uuid);
    },
    [=](atom::fw_msg, const agent_id&, const executor_id&, const std::string&) {},
    [=](atom::agent_lost, const agent_id&) {},
    [=](atom::exec_lost, const executor_id&, const agent_id&, int32_t) {},
    [=](atom::error, const std::string& what) { box->add_error(what); },
    [=](atom::replaced, const framework_id&) { box->add_error("replaced"); },
  };
}

task_info volume_task(const std::string& id, const std::string& cmd, const std::string& resources,
                      const agent_id& agent) {
  auto t = shell_task(id, cmd);
  t.agent = agent;
  t.resources = rs(resources);
  return t;
}

offer_operation launch(std::vector<task_info> tasks) {
  offer_operation op;
  op.type = operation_type::launch;
  op.tasks = std::move(tasks);
  return op;
}

offer_operation conversion(operation_type t, const std::string& text) {
  offer_operation op;
  op.type = t;
  op.resources = rs(text);
  return op;
}

struct fixture {
  temp_dir dir{"mesoscaf-vol"};
  std::unique_ptr<child_process> master_proc;
  std::unique_ptr<child_process> agent_proc;
  std::string master_host = "127.0.0.1";
  uint16_t master_port = 0;
  int agent_runs = 0;

  threaded_config cfg{true};
  std::unique_ptr<caf::actor_system> sys;
  master_actor master;
  inbox_ptr box = std::make_shared<inbox>();
  scheduler_actor sched;
  framework_id fw;

  fixture() {
    master_proc = std::make_unique<child_process>(
      std::vector<std::string>{bin, "master", "--port=0", "--work-dir=" + dir / "master"}, dir / "master.log");
    auto m = master_proc->wait_for_line("master listening on 127\\.0\\.0\\.1:([0-9]+)", wait_limit);
    REQUIRE(m);
    master_port = static_cast<uint16_t>(std::stoi((*m)[1]));
    sys = std::make_unique<caf::actor_system>(cfg);
  }

  ~fixture() {
    if (sched) {
      if (master && !fw.empty())
        caf::send_as(sched, master, atom::teardown_v, fw);
      caf::anon_send_exit(sched, caf::exit_reason::user_shutdown);
    }
    sched = nullptr;
    master = nullptr;
    sys.reset();
    if (agent_proc) {
      agent_proc->signal(SIGTERM);
      agent_proc->wait_exit(seconds(30));
    }
    master_proc->signal(SIGTERM);
    master_proc->wait_exit(seconds(30));
  }

  // Starts (or restarts) the agent on the same work directory; returns its agent ID.
  std::string start_agent(const std::string& resources = agent_resources) {
    auto log = dir / ("agent" + std::to_string(agent_runs++) + ".log");
    agent_proc = std::make_unique<child_process>(
      std::vector<std::string>{bin, "agent", "--master=" + master_host + ":" + std::to_string(master_port),
                               "--port=0", "--work-dir=" + dir / "agent", "--resources=" + resources},
      log);
    auto r = agent_proc->wait_for_line("agent registered with id ([-0-9a-zA-Z]+)", wait_limit);
    if (!r)
      MESSAGE("agent output:\n" << agent_proc->output());
    REQUIRE(r);
    return (*r)[1];
  }

  void subscribe() {
    auto handle = sys->middleman().remote_actor<master_actor>(master_host, master_port);
    REQUIRE(handle);
    master = *handle;
    auto ref = std::make_shared<framework_ref>();
    sched = sys->spawn(test_scheduler, master, box, ref);
    framework_info fi;
    fi.name = "volumes-test";
    fi.roles = {"eng"};
    caf::scoped_actor self{*sys};
    self->request(master, seconds(30), atom::subscribe_v, fi, sched)
      .receive([&](const framework_id& id) { fw = id; },
               [&](const caf::error& err) { FAIL("subscribe failed: " << sys->render(err)); });
    REQUIRE(!fw.empty());
    ref->id = fw;
  }

  void accept(const std::vector<offer>& os, std::vector<offer_operation> ops) {
    std::vector<offer_id> ids;
    for (auto& o : os)
      ids.push_back(o.id);
    // The master takes calls of a framework only from its scheduler actor.
    caf::send_as(sched, master, atom::accept_v, fw, ids, std::move(ops), filters{});
  }

  // Waits until the offers of `agent` together satisfy `pred` and takes them (all of that agent's offers).
  std::vector<offer> wait_offers(const std::string& agent, const std::function<bool(const resource_set&)>& pred,
                                 const char* what) {
    auto os = box->take_agent_offers(agent, pred, wait_limit);
    if (os.empty()) {
      std::string seen;
      for (auto& o : box->take_all_offers())
        seen += o.agent.value + " role=" + o.role + " " + o.resources.to_string() + "; ";
      FAIL("no offers " << what << " from agent " << agent << " within the limit; outstanding: " << seen
                        << " errors: " << box->describe_errors());
    }
    resource_set sum;
    for (auto& o : os)
      sum += o.resources;
    MESSAGE(os.size() << " offer(s) " << what << ": " << sum.to_string());
    return os;
  }

  static resource_set sum_of(const std::vector<offer>& os) {
    resource_set sum;
    for (auto& o : os)
      sum += o.resources;
    return sum;
  }

  task_status wait_done(const std::string& task) {
    auto s = box->wait_terminal(task, wait_limit);
    if (!s)
      FAIL("task " << task << " did not end in time; errors: " << box->describe_errors());
    return *s;
  }
};

} // namespace

FIXTURE_SCOPE(integration_volumes_tests, fixture)

TEST(a volume keeps its data for later tasks and across an agent restart) {
  auto agent = start_agent();
  subscribe();

  // 1. Reserve, create the volume and write into it, in one ACCEPT.
  auto first = wait_offers(agent, [](const resource_set& r) { return r.contains(rs("cpus:1;mem:256;disk:100")); },
                           "with unreserved cpus/mem/disk");
  accept(first, {conversion(operation_type::reserve, reserve_text), conversion(operation_type::create, volume_text),
                 launch({volume_task("writer", "echo hello > data/f",
                                     "cpus(eng,dynamic):0.25;mem(eng,dynamic):32;" + volume_text, first[0].agent)})});
  auto w = wait_done("writer");
  MESSAGE("writer: " << to_string(w.state) << " " << w.message);
  REQUIRE_EQUAL(w.state, task_state::finished);
  auto vol_file = dir / "agent/volumes/roles/eng/vol1/f";
  CHECK_EQUAL(read_file(vol_file), "hello\n");

  // 2. The volume comes back in an offer; a later task reads the file, a task on a fresh volume does not find it.
  auto has_vol1 = [](const resource_set& r) {
    return r.contains(rs(volume_text)) && r.contains(rs("cpus(eng,dynamic):0.5;mem(eng,dynamic):64;"
                                                        "disk(eng,dynamic):16"));
  };
  auto second = wait_offers(agent, has_vol1, "with volume vol1");
  for (auto& o : second)
    CHECK_EQUAL(o.role, "eng");
  accept(second, {conversion(operation_type::create, "disk(eng,dynamic)[vol2:data]:16"),
                  launch({volume_task("reader", "grep -q hello data/f",
                                      "cpus(eng,dynamic):0.25;mem(eng,dynamic):32;" + volume_text, second[0].agent),
                          volume_task("control", "grep -q hello data/f",
                                      "cpus(eng,dynamic):0.25;mem(eng,dynamic):32;disk(eng,dynamic)[vol2:data]:16",
                                      second[0].agent)})});
  auto r = wait_done("reader");
  MESSAGE("reader: " << to_string(r.state) << " " << r.message);
  CHECK_EQUAL(r.state, task_state::finished);
  auto c = wait_done("control");
  MESSAGE("control: " << to_string(c.state) << " " << c.message);
  CHECK_EQUAL(c.state, task_state::failed);

  // 3. SIGKILL the agent and restart it on the same work directory: it keeps the reservation and the volumes.
  agent_proc->signal(SIGKILL);
  REQUIRE(agent_proc->wait_exit(seconds(30)));
  auto checkpoint = read_file(dir / "agent/meta/resources");
  MESSAGE("checkpoint: " << checkpoint);
  CHECK(rs(checkpoint.substr(0, checkpoint.find('\n'))).has_volume("vol1"));
  auto agent2 = start_agent();
  CHECK(agent_proc->output().find("agent recovered resources=") != std::string::npos);
  auto third = wait_offers(agent2, has_vol1, "with volume vol1 after the restart");
  auto third_sum = sum_of(third);
  CHECK(third_sum.contains(rs("cpus(eng,dynamic):1;mem(eng,dynamic):256")));
  CHECK(third_sum.has_volume("vol2"));
  accept(third, {launch({volume_task("after-restart", "grep -q hello data/f",
                                     "cpus(eng,dynamic):0.25;mem(eng,dynamic):32;" + volume_text, third[0].agent)})});
  auto a = wait_done("after-restart");
  MESSAGE("after-restart: " << to_string(a.state) << " " << a.message);
  CHECK_EQUAL(a.state, task_state::finished);

  // 4. Destroying the volume deletes its data.
  auto fourth = wait_offers(agent2, has_vol1, "with volume vol1 to destroy");
  accept(fourth, {conversion(operation_type::destroy, volume_text)});
  // The agent logs this once the checkpoint is written and the directory is moved away (deletion follows).
  CHECK(agent_proc->wait_for_line("destroyed volume vol1", wait_limit));
  CHECK_EQUAL(read_file(vol_file), "");
  auto after = read_file(dir / "agent/meta/resources");
  CHECK(!rs(after.substr(0, after.find('\n'))).has_volume("vol1"));
}

TEST(an agent restarted with other resources than its checkpoint refuses to start) {
  // The checkpoint a previous run with one dynamic reservation would have left.
  REQUIRE_EQUAL(write_file_atomically(dir / "agent/meta/resources", "cpus:1;cpus(eng,dynamic):1;mem:1024;disk:1000\n"),
                "");
  auto r = run_to_completion({bin, "agent", "--master=" + master_host + ":" + std::to_string(master_port),
                              "--port=0", "--work-dir=" + dir / "agent", "--resources=cpus:4;mem:1024;disk:1000"},
                             dir / "incompatible.log", seconds(60));
  MESSAGE(r.output);
  CHECK_EQUAL(r.exit_code, 1);
  // The error names both sides.
  CHECK(r.output.find("cpus:4") != std::string::npos);
  CHECK(r.output.find("cpus(eng,dynamic):1") != std::string::npos);
  CHECK(r.output.find("agent registered") == std::string::npos);
  // The same quantities are fine: the agent registers with the checkpointed reservation.
  auto again = start_agent("cpus:2;mem:1024;disk:1000");
  CHECK(!again.empty());
  auto line = agent_proc->wait_for_line("agent recovered resources=(.*) from", seconds(5));
  REQUIRE(line);
  CHECK_EQUAL(rs((*line)[1]), rs("cpus:1;cpus(eng,dynamic):1;mem:1024;disk:1000"));
}

FIXTURE_SCOPE_END()
