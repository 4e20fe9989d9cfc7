// Integration: peers that try to hurt a daemon over its actor port (issue 17), against a real master and a real
// agent running a task of `mesoscaf execute`. Each attack must fail to do harm: the daemon refuses it, stays
// small and keeps serving, and the task keeps running. Bounded waits throughout.
#define CAF_SUITE integration_hostile_peers
#include "test.hpp"

#include "child_process.hpp"
#include "http_test_client.hpp"
#include "process_scan.hpp"
#include "test_helpers.hpp"

#include "actors/interfaces.hpp"

#include <caf/actor_system.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/io/basp/header.hpp>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace mesoscaf::test;
using namespace std::chrono;
using json = nlohmann::json;

namespace {

const std::string bin = MESOSCAF_BINARY;

/// Resident memory of a process in MiB (0 if it is gone).
long rss_mib(pid_t pid) {
  auto status = read_proc(pid, "status");
  auto at = status.find("VmRSS:");
  return at == std::string::npos ? 0 : std::stol(status.substr(at + 6)) / 1024;
}

/// A TCP connection to 127.0.0.1:`port`, or -1.
int connect_to(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd >= 0 && connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0)
    return fd;
  if (fd >= 0)
    close(fd);
  return -1;
}

/// Reads and drops what the peer sends until it closes the connection: true if it did within `limit`.
bool closed_by_peer(int fd, milliseconds limit) {
  auto deadline = steady_clock::now() + limit;
  char buf[4096];
  while (steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0)
      continue;
    auto n = read(fd, buf, sizeof(buf));
    if (n <= 0)
      return true;
  }
  return false;
}

/// The 32 bytes of a BASP header (CAF's own serializer) for a message to actor 1 announcing `payload_len` bytes.
std::vector<char> header_announcing(uint32_t payload_len) {
  caf::io::basp::header hdr{caf::io::basp::message_type::direct_message, 0, payload_len, 0, 0, 1};
  std::vector<char> buf;
  caf::binary_serializer sink{nullptr, buf};
  auto err = sink(hdr);
  if (err || buf.size() != caf::io::basp::header_size)
    CAF_FAIL("cannot write a BASP header");
  return buf;
}

struct fixture {
  temp_dir dir{"mesoscaf-hostile"};
  std::unique_ptr<child_process> master;
  std::unique_ptr<child_process> agent;
  std::unique_ptr<child_process> task;
  std::string master_addr, master_http;
  uint16_t master_port = 0;
  uint16_t agent_port = 0;

  fixture() {
    master = std::make_unique<child_process>(
      std::vector<std::string>{bin, "master", "--port=0", "--http-port=0", "--work-dir=" + dir / "master"},
      dir / "master.log");
    auto m = master->wait_for_line("master listening on (127\\.0\\.0\\.1:([0-9]+))", seconds(60));
    REQUIRE(m);
    master_addr = (*m)[1];
    master_port = static_cast<uint16_t>(std::stoi((*m)[2]));
    auto mh = master->wait_for_line("master http listening on (127\\.0\\.0\\.1:[0-9]+)", seconds(60));
    REQUIRE(mh);
    master_http = (*mh)[1];
    agent = std::make_unique<child_process>(
      std::vector<std::string>{bin, "agent", "--master=" + master_addr, "--port=0", "--http-port=0",
                               "--work-dir=" + dir / "agent", "--resources=cpus:2;mem:1024;disk:1000"},
      dir / "agent.log");
    REQUIRE(agent->wait_for_line("agent registered with id", seconds(60)));
    task = std::make_unique<child_process>(
      std::vector<std::string>{bin, "execute", "--master=" + master_addr, "--name=victim", "--command=sleep 300",
                               "--resources=cpus:0.5;mem:64"},
      dir / "execute.log");
    REQUIRE(eventually([&] { return task_running(); }, seconds(60)));
    auto slaves = json::parse(http_get(master_http, "/slaves").body, nullptr, false);
    REQUIRE(slaves.is_object() && slaves["slaves"].size() == 1u);
    agent_port = slaves["slaves"][0].value("agent_port", uint16_t{0});
    REQUIRE(agent_port != 0);
  }

  bool task_running() {
    auto j = json::parse(http_get(master_http, "/tasks").body, nullptr, false);
    return j.is_object() && j["tasks"].size() == 1u && j["tasks"][0]["state"] == "TASK_RUNNING";
  }

  /// Sends a header announcing almost 4 GiB to `port` of `victim`: the connection must be closed at once, the
  /// victim must stay small (without the bound it zero-filled 4 GiB) and refuse it in its log.
  void oversize_header_is_refused(uint16_t port, child_process& victim, const std::string& who) {
    auto before = rss_mib(victim.pid());
    int fd = connect_to(port);
    REQUIRE(fd >= 0);
    auto bytes = header_announcing(0xFFFFFF00u);
    REQUIRE_EQUAL(write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
    CHECK(closed_by_peer(fd, seconds(10)));
    close(fd);
    auto after = rss_mib(victim.pid());
    MESSAGE(who << " resident memory: " << before << " MiB before, " << after << " MiB after");
    CHECK_LESS(after, before + 64);
    CHECK(victim.wait_for_line("refused a message of 4294967040 bytes from a peer", seconds(10)));
  }
};

} // namespace

FIXTURE_SCOPE(hostile_peer_tests, fixture)

TEST(a header announcing 4 GiB closes its connection and costs the master nothing) {
  oversize_header_is_refused(master_port, *master, "master");
  // The master still serves, and the task it knows about still runs.
  CHECK_EQUAL(http_get(master_http, "/health").status, 200);
  CHECK(task_running());
}

TEST(a header announcing 4 GiB closes its connection and costs the agent nothing) {
  oversize_header_is_refused(agent_port, *agent, "agent");
  // The agent is still registered and its task still runs, as the master sees them after a few pings.
  std::this_thread::sleep_for(seconds(2));
  auto slaves = json::parse(http_get(master_http, "/slaves").body, nullptr, false);
  REQUIRE(slaves.is_object() && slaves["slaves"].size() == 1u);
  CHECK_EQUAL(slaves["slaves"][0].value("active", false), true);
  CHECK(task_running());
}

TEST(forged election news from a peer is ignored) {
  // A peer that reaches the master's port sends what only the master's own election actors may send: without
  // the check, `stepdown` made the master quit.
  mesoscaf::test::threaded_config cfg{true};
  caf::actor_system sys{cfg};
  auto m = sys.middleman().remote_actor<mesoscaf::master_actor>("127.0.0.1", master_port);
  REQUIRE(m);
  caf::scoped_actor self{sys};
  mesoscaf::master_location elsewhere;
  elsewhere.id = "intruder";
  elsewhere.host = "10.9.9.9";
  elsewhere.port = 5050;
  self->send(*m, mesoscaf::atom::leader_v, elsewhere);
  self->send(*m, mesoscaf::atom::elected_v);
  self->send(*m, mesoscaf::atom::stepdown_v, std::string{"forged by a peer"});
  caf::anon_send(*m, mesoscaf::atom::stepdown_v, std::string{"forged anonymously"});
  CHECK(master->wait_for_line("ignored 'stepdown' from a remote actor", seconds(10)));
  CHECK(master->wait_for_line("ignored 'stepdown' from an anonymous sender", seconds(10)));
  CHECK(master->wait_for_line("ignored 'leader' from a remote actor", seconds(10)));
  CHECK(master->wait_for_line("ignored 'elected' from a remote actor", seconds(10)));
  // Still the leader, still serving, and its task still runs.
  CHECK(master->running());
  auto redirect = http_get(master_http, "/master/redirect");
  auto location = redirect.headers["location"];
  CHECK_EQUAL(location, "//" + master_http);
  CHECK(task_running());
}

TEST(forged leader news cannot send an agent to another master) {
  // Only the agent's own detector names the master. Without the check, a peer named a "master" of its own and
  // the agent left the real one to register there.
  mesoscaf::test::threaded_config cfg{true};
  caf::actor_system sys{cfg};
  auto a = sys.middleman().remote_actor<mesoscaf::agent_actor>("127.0.0.1", agent_port);
  REQUIRE(a);
  caf::scoped_actor self{sys};
  mesoscaf::master_location elsewhere;
  elsewhere.id = "intruder";
  elsewhere.host = "127.0.0.1";
  elsewhere.port = 9;   // discard: nothing answers as a master there
  self->send(*a, mesoscaf::atom::leader_v, elsewhere);
  caf::anon_send(*a, mesoscaf::atom::leader_v, elsewhere);
  CHECK(agent->wait_for_line("ignoring leader from .*only this agent's own master detector sends it", seconds(10)));
  CHECK(agent->wait_for_line("ignoring leader from an anonymous sender", seconds(10)));
  std::this_thread::sleep_for(seconds(2));
  CHECK(agent->output().find("leading master is now 127.0.0.1:9") == std::string::npos);
  auto slaves = json::parse(http_get(master_http, "/slaves").body, nullptr, false);
  REQUIRE(slaves.is_object() && slaves["slaves"].size() == 1u);
  CHECK_EQUAL(slaves["slaves"][0].value("active", false), true);
  CHECK(task_running());
}

TEST(a process without the executor secret cannot take over a running executor) {
  // The IDs are public (the master's /tasks); the secret is only in the real executor's environment. Without
  // the check, a re-registration with these IDs made the agent send the executor's tasks to the intruder.
  auto tasks = json::parse(http_get(master_http, "/tasks").body, nullptr, false);
  REQUIRE(tasks.is_object() && tasks["tasks"].size() == 1u);
  mesoscaf::framework_id fw{tasks["tasks"][0].value("framework_id", std::string{})};
  mesoscaf::executor_id eid{"command-executor"};
  mesoscaf::test::threaded_config cfg{true};
  caf::actor_system sys{cfg};
  auto a = sys.middleman().remote_actor<mesoscaf::agent_actor>("127.0.0.1", agent_port);
  REQUIRE(a);
  caf::scoped_actor self{sys};
  // Posing as the executor: the scoped actor's handle stands in for an executor actor.
  auto as_executor = caf::actor_cast<mesoscaf::executor_actor>(self);
  int refused = 0;
  auto count_refusal = [&](auto&& handle) {
    handle.receive([](const mesoscaf::executor_registration&) {}, [&](const caf::error&) { ++refused; });
  };
  count_refusal(self->request(*a, seconds(10), mesoscaf::atom::reg_exec_v, fw, eid, as_executor, std::string{}));
  count_refusal(self->request(*a, seconds(10), mesoscaf::atom::rereg_exec_v, fw, eid, as_executor,
                              std::vector<mesoscaf::task_info>{}, std::vector<mesoscaf::status_update>{},
                              std::string(64, 'a')));
  CHECK_EQUAL(refused, 2);
  CHECK(agent->wait_for_line("refused an attempt to re-register as executor command-executor", seconds(10)));
  // The real executor keeps its task.
  std::this_thread::sleep_for(seconds(1));
  CHECK(task_running());
}

TEST(idle connection floods are closed and bounded while real peers stay) {
  // A master of its own with tight bounds: 20 connections, 2 s of silence.
  auto guarded = std::make_unique<child_process>(
    std::vector<std::string>{bin, "master", "--port=0", "--http-port=0", "--work-dir=" + dir / "guarded",
                             "--max-connections=20", "--handshake-timeout=2s"},
    dir / "guarded.log");
  auto m = guarded->wait_for_line("master listening on 127\\.0\\.0\\.1:([0-9]+)", seconds(60));
  REQUIRE(m);
  auto port = static_cast<uint16_t>(std::stoi((*m)[1]));
  // A real peer first: it sends heartbeats, so it outlives the flood's timeout.
  mesoscaf::test::threaded_config cfg{true};
  caf::actor_system sys{cfg};
  auto peer = sys.middleman().remote_actor<mesoscaf::master_actor>("127.0.0.1", port);
  REQUIRE(peer);
  // 19 more connections that send nothing fill the limit; the next ones are closed at once.
  std::vector<int> idle;
  for (int i = 0; i < 19; ++i) {
    int fd = connect_to(port);
    REQUIRE(fd >= 0);
    idle.push_back(fd);
  }
  std::this_thread::sleep_for(milliseconds(300));
  int extra = connect_to(port);
  REQUIRE(extra >= 0);
  CHECK(closed_by_peer(extra, seconds(5)));
  close(extra);
  CHECK(guarded->wait_for_line("refused a connection on port [0-9]+: 20 are open \\(--max-connections\\)",
                               seconds(10)));
  // The silent ones are closed after the timeout.
  int closed = 0;
  for (int fd : idle) {
    closed += closed_by_peer(fd, seconds(10)) ? 1 : 0;
    close(fd);
  }
  CHECK_EQUAL(closed, 19);
  CHECK(guarded->wait_for_line("closed [0-9]+ connection\\(s\\) that sent nothing", seconds(10)));
  // The real peer is still connected and served, and new peers get in again.
  caf::scoped_actor self{sys};
  bool answered = false;
  self->request(*peer, seconds(10), mesoscaf::atom::state_v)
    .receive([&](const mesoscaf::master_snapshot&) { answered = true; }, [](const caf::error&) {});
  CHECK(answered);
  int later = connect_to(port);
  REQUIRE(later >= 0);
  CHECK(!closed_by_peer(later, milliseconds(500)));
  close(later);
  CHECK(guarded->running());
}

FIXTURE_SCOPE_END()
