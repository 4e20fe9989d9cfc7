// Integration across nodes: every daemon runs in its own network namespace with its own address on a bridge
// (unit_tests/virtual_network.hpp), as on separate machines; this process (the frameworks, ZooKeeper) sits on the
// bridge's host address. Partitions are real: a node's link taken down, or iptables drops in one direction.
// Covered: the core loop across three nodes (agents bound to their own address, and to every interface with an
// advertised one), an agent cut off from its master (partition-aware and not), a leader cut off from ZooKeeper
// while its agents still reach it, a one-way partition, and an agent that comes back on a new address.
// Needs root, iproute2 and iptables (scripts/setup installs them); without them the tests fail with the reason.
#define CAF_SUITE integration_multinode
#include "test.hpp"

#include "child_process.hpp"
#include "process_cluster.hpp"
#include "process_scan.hpp"
#include "test_helpers.hpp"
#include "virtual_network.hpp"
#include "zookeeper_server.hpp"

#include "actors/sdk/scheduler_driver.hpp"

#include <caf/actor_system.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using namespace mesoscaf;
using namespace mesoscaf::test;
using namespace std::chrono;

namespace {

const std::string bin = MESOSCAF_BINARY;
constexpr auto wait_limit = process_wait_limit;
const std::string fast_pings = "--agent-ping-timeout=500ms";
const std::string few_misses = "--max-agent-ping-timeouts=2";

struct node_master {
  std::unique_ptr<child_process> proc;
  int node = 0;
  std::string endpoint;  // advertised ip:port (what frameworks and agents dial)
  master_actor handle;
};

struct fixture : process_fixture_base {
  threaded_config cfg{true};  // with middleman heartbeats, like every mesoscaf process
  caf::actor_system sys{cfg};
  std::unique_ptr<virtual_network> net;
  std::unique_ptr<zookeeper_server> zk;
  std::string zk_url;
  std::vector<node_master> masters;
  std::string master_arg;        // --master= of agents and frameworks: ip:port or zk://...

  fixture() : process_fixture_base("mesoscaf-multinode") {
  }

  ~fixture() {
    if (net)
      for (int i = 0; i < net->size(); ++i) {
        try {
          net->heal(i);
          net->clear_drops(i);
        } catch (const std::exception&) {
        }
      }
    stop_frameworks_and_agents();
    for (auto& m : masters) {
      m.handle = nullptr;
      if (m.proc && m.proc->running())
        m.proc->signal(SIGTERM);
    }
    for (auto& m : masters)
      if (m.proc)
        m.proc->wait_exit(seconds(20));
    zk.reset();
    kill_leftovers_and_keep_logs();
    net.reset();  // kills whatever still runs in a namespace
  }

  bool make_network(int nodes) {
    try {
      net = std::make_unique<virtual_network>(nodes);
    } catch (const std::exception& e) {
      MESSAGE("cannot build the virtual network: " << e.what());
      return false;
    }
    MESSAGE("virtual network: host " << net->host_ip() << ", nodes " << net->ip(0) << " .. "
                                     << net->ip(nodes - 1));
    return true;
  }

  bool start_zookeeper() {
    try {
      zk = std::make_unique<zookeeper_server>(1, dir / "zk", net->host_ip());
    } catch (const std::exception& e) {
      MESSAGE("cannot start ZooKeeper: " << e.what());
      return false;
    }
    zk_url = zk->url();
    MESSAGE("ZooKeeper at " << zk->servers());
    return true;
  }

  /// The ZooKeeper client port (the first server's).
  int zk_port() const {
    auto s = zk->servers();
    auto colon = s.find(':');
    return std::stoi(s.substr(colon + 1, s.find(',') - colon - 1));
  }

  /// Starts a master on `node`: standalone bound to the node's address, or with --zk bound to every interface
  /// and advertising the node's address (a wildcard is not dialable: ZooKeeper must carry the advertised one).
  /// Waits until it leads or stands by.
  bool start_master(int node, std::vector<std::string> flags = {}) {
    node_master m;
    m.node = node;
    std::vector<std::string> argv{bin, "master", "--port=0",
                                  "--work-dir=" + dir / ("master-node" + std::to_string(node))};
    if (zk) {
      argv.insert(argv.end(), {"--ip=0.0.0.0", "--advertise-ip=" + net->ip(node), "--zk=" + zk_url,
                               "--zk-session-timeout=2s"});
    } else {
      argv.push_back("--ip=" + net->ip(node));
    }
    argv.insert(argv.end(), flags.begin(), flags.end());
    m.proc = std::make_unique<child_process>(net->in_node(node, argv),
                                             dir / ("master-node" + std::to_string(node) + ".log"));
    auto l = m.proc->wait_for_line("master listening on ([0-9.]+):([0-9]+)", seconds(60));
    if (!l) {
      MESSAGE("master output:\n" << m.proc->output());
      return false;
    }
    auto port = static_cast<uint16_t>(std::stoi((*l)[2]));
    m.endpoint = net->ip(node) + ":" + std::to_string(port);
    if (!m.proc->wait_for_line("master (elected leader at|standing by)", seconds(60))) {
      MESSAGE("master on node " << node << " neither leads nor stands by:\n" << m.proc->output());
      return false;
    }
    auto h = sys.middleman().remote_actor<master_actor>(net->ip(node), port);
    if (!h) {
      MESSAGE("cannot reach the master at " << m.endpoint << ": " << sys.render(h.error()));
      return false;
    }
    m.handle = *h;
    if (!zk)
      master_arg = m.endpoint;
    else
      master_arg = zk_url;
    masters.push_back(std::move(m));
    return true;
  }

  std::optional<master_snapshot> state_of(size_t i) {
    if (i >= masters.size() || !masters[i].handle || !masters[i].proc->running())
      return std::nullopt;
    caf::scoped_actor self{sys};
    std::optional<master_snapshot> result;
    self->request(masters[i].handle, seconds(5), atom::state_v)
      .receive([&](const master_snapshot& s) { result = s; }, [](const caf::error&) {});
    return result;
  }

  std::optional<agent_summary> agent_at(size_t master, const std::string& id) {
    if (auto s = state_of(master))
      for (auto& a : s->agents)
        if (a.id.value == id)
          return a;
    return std::nullopt;
  }

  bool agent_connected(size_t master, const std::string& id) {
    auto a = agent_at(master, id);
    return a && a->connected;
  }

  bool agent_unreachable(size_t master, const std::string& id) {
    auto s = state_of(master);
    return s && std::any_of(s->unreachable.begin(), s->unreachable.end(), [&](auto& a) { return a.value == id; });
  }

  std::optional<size_t> leader_now() {
    std::optional<size_t> result;
    for (size_t i = 0; i < masters.size(); ++i)
      if (auto s = state_of(i); s && s->leading) {
        if (result)
          return std::nullopt;
        result = i;
      }
    return result;
  }

  /// Starts agent `i` on `node` (again, on its work dir, if it ran before) bound to `ip` (default: the node's
  /// address); returns the ID it prints ("" on failure).
  std::string start_agent(size_t i, int node, std::vector<std::string> flags = {}, std::string ip = "") {
    auto& a = agent_slot(i);
    a.flags = std::move(flags);
    std::vector<std::string> argv{bin,
                                  "agent",
                                  "--master=" + master_arg,
                                  "--ip=" + (ip.empty() ? net->ip(node) : ip),
                                  "--port=0",
                                  "--work-dir=" + a.work_dir,
                                  "--resources=cpus:4;mem:4096;disk:1000"};
    if (zk)
      argv.push_back("--zk-session-timeout=2s");
    argv.insert(argv.end(), a.flags.begin(), a.flags.end());
    return start_agent_process(i, net->in_node(node, argv));
  }

  framework* add_framework(const fw_options& o) {
    return process_fixture_base::add_framework(sys, master_arg, o);
  }

  /// A task that ends on its own (TASK_FINISHED), pinned to `agent`.
  task_info quick(const std::string& id, const std::string& agent) {
    return make_task(id, "echo ran " + id, "cpus:0.1;mem:16", agent);
  }

  bool finished(framework& f, const std::string& task) {
    if (f.rec->wait_state(task, task_state::finished))
      return true;
    MESSAGE("task " << task << " did not finish: " << f.rec->history(task));
    return false;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(multinode_tests, fixture)

// 1. The core loop across three nodes. Agent a is bound to its node's address only: its executors must dial that
//    address (before the fix they dialled 127.0.0.1, where it does not listen, and every task failed). Agent b
//    listens on every interface and advertises its node's address with a hostname of its own. The master lists
//    each agent at the address it advertises, offers name each agent's hostname, and `mesoscaf execute` from
//    this host runs a task through the master on its node.
TEST(tasks run on agents that each have their own address) {
  ENSURE(make_network(3));
  ENSURE(start_master(0));
  auto a = start_agent(0, 1);
  ENSURE(!a.empty());
  auto b = start_agent(1, 2, {"--advertise-ip=" + net->ip(2), "--hostname=node-b"}, "0.0.0.0");
  ENSURE(!b.empty());
  auto f = add_framework(fw_options{});
  ENSURE(f);
  launch(*f, {quick("a1", a), quick("a2", a), quick("b1", b), quick("b2", b)});
  for (auto t : {"a1", "a2", "b1", "b2"})
    CHECK(finished(*f, t));
  auto sa = agent_at(0, a);
  auto sb = agent_at(0, b);
  ENSURE(sa && sb);
  CHECK_EQUAL(sa->address, net->ip(1));
  CHECK_EQUAL(sb->address, net->ip(2));
  CHECK_EQUAL(sb->hostname, "node-b");
  CHECK_NOT_EQUAL(sa->port, 0);
  {
    std::lock_guard<std::mutex> g{f->rec->mtx};
    CHECK_EQUAL(f->rec->offered_hosts[b], "node-b");
    CHECK_EQUAL(f->rec->offered_hosts[a], sa->hostname);
  }
  // The executors of agent a were told its own address, not loopback.
  auto log = agents[0]->proc->output();
  CHECK_NOT_EQUAL(log.find("listening for executors on " + net->ip(1)), std::string::npos);
  // A third-party client from this host: mesoscaf execute.
  auto r = run_to_completion({bin, "execute", "--master=" + master_arg, "--name=hello", "--command=echo hi",
                              "--resources=cpus:0.1;mem:16", "--timeout=60s"},
                             dir / "execute.log", seconds(90));
  if (r.exit_code != 0)
    MESSAGE("execute output:\n" << r.output);
  CHECK_EQUAL(r.exit_code, 0);
  CHECK_NOT_EQUAL(r.output.find("TASK_FINISHED"), std::string::npos);
}

// 2. An agent whose link is cut (nothing crosses either way) past the ping timeouts: the partition-aware
//    framework sees TASK_UNREACHABLE, the other TASK_LOST. When the link is back the agent re-registers: the
//    partition-aware task reconciles TASK_RUNNING (the same process), the other is killed on the agent and its
//    framework heard of it once (TASK_LOST only).
TEST(an agent cut off from its master is unreachable then back) {
  ENSURE(make_network(2));
  ENSURE(start_master(0, {fast_pings, few_misses}));
  auto id = start_agent(0, 1);
  ENSURE(!id.empty());
  partition_frameworks p;
  ENSURE(start_partition_frameworks(sys, master_arg, p));
  net->cut(1);
  ENSURE(partitioned(p));
  CHECK(agent_unreachable(0, id));
  // Nothing crossed, but the agent's side went on: the task still runs there.
  CHECK(alive(p.aware_pid));

  net->heal(1);
  bool back = eventually([&] { return agent_connected(0, id); }, wait_limit, milliseconds(200));
  if (!back)
    MESSAGE("agent output:\n" << agents[0]->proc->output());
  ENSURE(back);
  CHECK(reconcile_until(*p.aware, {"pa-task"}, id, task_state::running));
  CHECK(alive(p.aware_pid));
  check_lost_task_killed(p);
}

// 3. The leader cut off from ZooKeeper (iptables on its node, ZooKeeper's port only) while its agents and
//    frameworks still reach it: it steps down (`master lost leadership`, exit 1), the master on the other node
//    is elected and announces its advertised address (both masters listen on 0.0.0.0), and the agents and the
//    framework follow it; the tasks keep running, the same processes.
TEST(a leader cut off from zookeeper steps down and everyone follows the next) {
  ENSURE(make_network(4));
  ENSURE(start_zookeeper());
  ENSURE(start_master(0));
  ENSURE(start_master(1));
  std::optional<size_t> l;
  ENSURE(eventually([&] { return (l = leader_now()).has_value(); }, wait_limit, milliseconds(100)));
  auto a = start_agent(0, 2);
  ENSURE(!a.empty());
  auto b = start_agent(1, 3);
  ENSURE(!b.empty());
  fw_options o;
  o.name = "follows-the-leader";
  o.failover_timeout = 120;
  auto f = add_framework(o);
  ENSURE(f);
  launch(*f, {sleeper("on-a", a), sleeper("on-b", b)});
  ENSURE(running(*f, "on-a"));
  ENSURE(running(*f, "on-b"));
  auto pid_a = task_pid("on-a");
  auto pid_b = task_pid("on-b");
  auto next = *l == 0 ? size_t{1} : size_t{0};
  auto& old_leader = masters[*l];
  MESSAGE("leader on node " << old_leader.node << " (" << old_leader.endpoint << "): cutting it off from ZooKeeper");
  net->drop_outgoing(old_leader.node, net->host_ip(), zk_port());
  net->drop_incoming(old_leader.node, net->host_ip(), zk_port());
  auto lost = old_leader.proc->wait_for_line("master lost leadership: (.*)", seconds(30));
  if (!lost)
    MESSAGE("leader output:\n" << old_leader.proc->output());
  ENSURE(lost);
  auto code = old_leader.proc->wait_exit(seconds(10));
  CHECK(code && *code == 1);
  auto elected = masters[next].proc->wait_for_line("master elected leader at ([0-9.]+):([0-9]+)", wait_limit);
  if (!elected)
    MESSAGE("standby output:\n" << masters[next].proc->output());
  ENSURE(elected);
  CHECK_EQUAL((*elected)[1].str(), net->ip(masters[next].node));
  bool followed = eventually([&] { return agent_connected(next, a) && agent_connected(next, b); }, wait_limit,
                             milliseconds(200));
  if (!followed)
    MESSAGE("agent a output:\n" << agents[0]->proc->output());
  ENSURE(followed);
  auto s = state_of(next);
  ENSURE(s);
  CHECK(std::any_of(s->frameworks.begin(), s->frameworks.end(), [&](auto& fw) { return fw.id == f->id; }));
  CHECK(reconcile_until(*f, {"on-a"}, a, task_state::running));
  CHECK(reconcile_until(*f, {"on-b"}, b, task_state::running));
  CHECK(alive(pid_a));
  CHECK(alive(pid_b));
  // And new work goes through the new leader.
  launch(*f, {quick("after", b)});
  CHECK(finished(*f, "after"));
}

// 4. A one-way partition: everything the agent sends to the master is dropped, while the master's packets still
//    arrive. The master hears no answer to its pings: the agent is unreachable and the partition-aware task
//    TASK_UNREACHABLE. Once the drop is lifted the agent re-registers and the task is RUNNING, the same process.
TEST(an agent whose packets to the master are dropped is unreachable then back) {
  ENSURE(make_network(2));
  ENSURE(start_master(0, {fast_pings, few_misses}));
  auto id = start_agent(0, 1);
  ENSURE(!id.empty());
  fw_options pa;
  pa.name = "one-way";
  pa.partition_aware = true;
  auto f = add_framework(pa);
  ENSURE(f);
  launch(*f, {sleeper("t")});
  ENSURE(running(*f, "t"));
  auto pid = task_pid("t");
  net->drop_outgoing(1, net->ip(0));
  auto unreachable = f->rec->wait_state("t", task_state::unreachable);
  if (!unreachable)
    MESSAGE("t: " << f->rec->history("t"));
  ENSURE(unreachable);
  CHECK(agent_unreachable(0, id));
  net->clear_drops(1);
  bool back = eventually([&] { return agent_connected(0, id); }, wait_limit, milliseconds(200));
  if (!back)
    MESSAGE("agent output:\n" << agents[0]->proc->output());
  ENSURE(back);
  CHECK(reconcile_until(*f, {"t"}, id, task_state::running));
  CHECK(alive(pid));
  auto h = f->rec->updates_of("t");
  CHECK(std::none_of(h.begin(), h.end(), [](const task_status& s) { return is_terminal(s.state); }));
}

// 5. An agent that comes back on a new address: killed (-9), its node renumbered, restarted on the same work dir
//    bound to the new address. It keeps its agent ID, the master lists it at the new address, its running task
//    goes on (its executor follows the agent to the new address), and new tasks run there.
TEST(an agent that comes back on a new address keeps its id and its tasks) {
  ENSURE(make_network(2));
  ENSURE(start_master(0));
  auto id = start_agent(0, 1);
  ENSURE(!id.empty());
  fw_options o;
  o.name = "moving-agent";
  o.failover_timeout = 120;
  auto f = add_framework(o);
  ENSURE(f);
  launch(*f, {sleeper("stays", id)});
  ENSURE(running(*f, "stays"));
  auto pid = task_pid("stays");
  agents[0]->proc->signal(SIGKILL);
  ENSURE(agents[0]->proc->wait_exit(seconds(20)));
  auto old_ip = net->ip(1);
  net->readdress(1, 101);
  MESSAGE("agent node renumbered " << old_ip << " -> " << net->ip(1));
  auto again = start_agent(0, 1);
  CHECK_EQUAL(again, id);
  ENSURE(eventually(
    [&] {
      auto s = agent_at(0, id);
      return s && s->connected && s->address == net->ip(1);
    },
    wait_limit, milliseconds(200)));
  CHECK(reconcile_until(*f, {"stays"}, id, task_state::running));
  CHECK(alive(pid));
  launch(*f, {quick("there", id)});
  CHECK(finished(*f, "there"));
  auto h = f->rec->updates_of("stays");
  CHECK(std::none_of(h.begin(), h.end(), [](const task_status& s) { return is_terminal(s.state); }));
}

CAF_TEST_FIXTURE_SCOPE_END()
