#define CAF_SUITE actors_executor_driver
#include "test.hpp"

#include "test_helpers.hpp"

#include "actors/sdk/executor_driver.hpp"
#include "fake_agent.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <thread>

// The callback driver against a fake agent in the same (real) actor system.

using namespace mesoscaf;
using namespace std::chrono_literals;


namespace {

struct config : test::threaded_config {};

// Stands in for "connect to the agent's endpoint again": counts the attempts and hands over `next` once set.
// Shared with the driver's actor (it calls `get` from its thread and may outlive the fixture's members).
struct reconnect_ctl {
  std::atomic<int> calls{0};
  std::mutex mtx;
  agent_actor next;

  void offer(agent_actor hdl) {
    std::lock_guard<std::mutex> guard{mtx};
    next = std::move(hdl);
  }

  agent_actor get() {
    ++calls;
    std::lock_guard<std::mutex> guard{mtx};
    return next;
  }
};

// Runs each task at once: RUNNING, then FINISHED (tasks with data "hold": RUNNING only); echoes framework
// messages; stops on shutdown.
struct echo_executor : executor {
  std::mutex mtx;
  std::vector<std::string> calls;
  executor_registration reg;

  void note(std::string what) {
    std::lock_guard<std::mutex> guard{mtx};
    calls.push_back(std::move(what));
  }

  bool called(const std::string& what) {
    std::lock_guard<std::mutex> guard{mtx};
    return std::find(calls.begin(), calls.end(), what) != calls.end();
  }

  void registered(executor_driver&, const executor_registration& r) override {
    {
      std::lock_guard<std::mutex> guard{mtx};
      reg = r;
    }
    note("registered");
  }
  void launch_task(executor_driver& d, const task_info& t) override {
    task_status s;
    s.task = t.id;
    s.state = task_state::running;
    d.send_status_update(s);
    if (t.data != "hold") {
      s.state = task_state::finished;
      s.data = t.data;
      d.send_status_update(s);
    }
    note("launch " + t.id.value);  // after the sends: tests wait for this, then call stop()
  }
  void kill_task(executor_driver& d, const task_id& id) override {
    note("kill " + id.value);
  }
  void framework_message(executor_driver& d, const std::string& data) override {
    note("message " + data);
    d.send_framework_message("echo:" + data);
  }
  void shutdown(executor_driver& d) override {
    note("shutdown");
    d.stop();
  }
  void error(executor_driver&, const std::string& message) override {
    note("error");
  }
  void disconnected(executor_driver&) override {
    note("disconnected");
  }
  void reregistered(executor_driver&, const executor_registration&) override {
    note("reregistered");
  }
};

struct fixture {
  config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  agent_actor agent;
  executor_actor exec_hdl;
  echo_executor exec;
  std::unique_ptr<executor_driver> driver;
  std::vector<status_update> updates;
  std::vector<std::string> messages;
  std::shared_ptr<reconnect_ctl> ctl = std::make_shared<reconnect_ctl>();
  agent_actor agent2;

  void start(int drop_acks = 0, std::chrono::milliseconds resend_interval = std::chrono::milliseconds(100),
             bool checkpoint = false, std::chrono::milliseconds recovery_timeout = 60s) {
    executor_registration reply;
    reply.agent = agent_id{"agent-9"};
    reply.sandbox = "/tmp";
    agent = sys.spawn(test::fake_agent, caf::actor_cast<caf::actor>(self), reply, drop_acks);
    executor_environment env;
    env.framework = framework_id{"fw-9"};
    env.executor = executor_id{"exec-9"};
    env.agent = agent_id{"agent-9"};
    env.checkpoint = checkpoint;
    env.recovery_timeout = recovery_timeout;
    executor_driver_options opts;
    if (checkpoint) {
      auto keep = ctl;  // the functor holds the control block: the driver may call it until it is gone
      opts.reconnect = [keep] { return keep->get(); };
    }
    opts.resend_interval = resend_interval;
    opts.drain_timeout = 2s;
    opts.shutdown_grace = 500ms;
    driver = std::make_unique<executor_driver>(sys, exec, env, agent, opts);
    CHECK_EQUAL(driver->start(), driver_status::running);
    bool registered = false;
    self->receive([&](atom::reg_exec, const framework_id&, const executor_id&, const executor_actor& h, const std::string&) {
      exec_hdl = h;
      registered = true;
    },
                  caf::after(30s) >> [] {});
    REQUIRE(registered);
  }

  ~fixture() {
    driver.reset();  // aborts if still running, joins
    if (agent)
      self->send_exit(agent, caf::exit_reason::kill);
    if (agent2)
      self->send_exit(agent2, caf::exit_reason::kill);
  }

  // Polls `pred` (e.g. a callback of the executor, which runs on the driver's thread) until it holds or `limit`
  // passes (generous: CI machines are loaded).
  template <class Pred>
  static bool eventually(Pred pred, std::chrono::milliseconds limit = 15s) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
      if (std::chrono::steady_clock::now() >= deadline)
        return false;
      std::this_thread::sleep_for(2ms);
    }
    return true;
  }

  template <class Pred>
  bool collect(Pred done, std::chrono::milliseconds limit = 30s) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0)
        return false;
      self->receive([&](atom::update, const status_update& u) { updates.push_back(u); },
                    [&](atom::exec_msg, const framework_id&, const executor_id&, const std::string& m) {
                      messages.push_back(m);
                    },
                    caf::after(left) >> [] {});
    }
    return true;
  }
};

} // namespace

FIXTURE_SCOPE(executor_driver_tests, fixture)

TEST(environment parsing) {
  std::map<std::string, std::string> vars{{env_agent_endpoint, "127.0.0.1:5051"},
                                          {env_framework_id, "fw"},
                                          {env_executor_id, "ex"},
                                          {env_agent_id, "ag"},
                                          {env_sandbox, "/sb"}};
  auto get = [&](const char* name) -> const char* {
    auto i = vars.find(name);
    return i == vars.end() ? nullptr : i->second.c_str();
  };
  executor_environment env;
  CHECK_EQUAL(read_executor_environment(env, get), "");
  CHECK_EQUAL(env.agent_host, "127.0.0.1");
  CHECK_EQUAL(env.agent_port, 5051);
  CHECK_EQUAL(env.framework.value, "fw");
  CHECK_EQUAL(env.executor.value, "ex");
  CHECK_EQUAL(env.agent.value, "ag");
  CHECK_EQUAL(env.sandbox, "/sb");
  vars[env_agent_endpoint] = "[::1]:80";
  CHECK_EQUAL(read_executor_environment(env, get), "");
  CHECK_EQUAL(env.agent_host, "::1");
  for (auto bad : {"", "nohost", ":5051", "h:0", "h:99999", "h:12a", "h:"}) {
    vars[env_agent_endpoint] = bad;
    executor_environment e2;
    CHECK_NOT_EQUAL(read_executor_environment(e2, get), "");
    CHECK_EQUAL(e2.agent_port, 0);  // unchanged on error
  }
  // Checkpointing: missing = off, 15 minutes.
  vars[env_agent_endpoint] = "h:1";
  CHECK_EQUAL(read_executor_environment(env, get), "");
  CHECK(!env.checkpoint);
  CHECK_EQUAL(env.recovery_timeout.count(), 900000);
  vars[env_checkpoint] = "1";
  vars[env_recovery_timeout] = "2500";
  CHECK_EQUAL(read_executor_environment(env, get), "");
  CHECK(env.checkpoint);
  CHECK_EQUAL(env.recovery_timeout.count(), 2500);
  vars[env_checkpoint] = "0";
  CHECK_EQUAL(read_executor_environment(env, get), "");
  CHECK(!env.checkpoint);
  for (auto bad : {"yes", "2", "true", " 1"}) {
    vars[env_checkpoint] = bad;
    executor_environment e2;
    auto err = read_executor_environment(e2, get);
    CHECK(err.find(env_checkpoint) != std::string::npos);
    CHECK_EQUAL(e2.agent_port, 0);  // unchanged on error
  }
  vars[env_checkpoint] = "1";
  for (auto bad : {"-5", "10s", "1.5", "abc", "9999999999999"}) {
    vars[env_recovery_timeout] = bad;
    executor_environment e2;
    auto err = read_executor_environment(e2, get);
    CHECK(err.find(env_recovery_timeout) != std::string::npos);
    CHECK_EQUAL(e2.agent_port, 0);
  }
  vars.erase(env_recovery_timeout);
  vars.erase(env_framework_id);
  CHECK(read_executor_environment(env, get).find(env_framework_id) != std::string::npos);
}

TEST(reconnect backoff doubles up to its maximum) {
  reconnect_backoff b;
  std::vector<long> delays;
  for (int i = 0; i < 7; ++i)
    delays.push_back(static_cast<long>(b.next().count()));
  CHECK_EQUAL(delays, (std::vector<long>{100, 200, 400, 800, 1000, 1000, 1000}));
  b.reset();
  CHECK_EQUAL(b.next().count(), 100);
  reconnect_backoff odd{std::chrono::milliseconds(300), std::chrono::milliseconds(500)};
  CHECK_EQUAL(odd.next().count(), 300);
  CHECK_EQUAL(odd.next().count(), 500);
  CHECK_EQUAL(odd.next().count(), 500);
}

TEST(connection errors are told apart from refusals) {
  CHECK(is_connection_error(caf::make_error(caf::sec::request_timeout)));
  CHECK(is_connection_error(caf::make_error(caf::exit_reason::remote_link_unreachable)));
  CHECK(is_connection_error(caf::make_error(caf::sec::cannot_connect_to_node)));
  CHECK(!is_connection_error(caf::make_error(caf::sec::invalid_argument, "unknown executor")));
  CHECK(!is_connection_error(caf::make_error(caf::sec::runtime_error)));
}

TEST(status update outbox) {
  status_update_outbox box{framework_id{"f"}, agent_id{"a"}, executor_id{"e"}};
  task_status s;
  s.task = task_id{"t"};
  s.state = task_state::running;
  auto u1 = box.add(s);
  auto u2 = box.add(s);
  CHECK_EQUAL(u1.framework.value, "f");
  CHECK_EQUAL(u1.status.agent.value, "a");
  CHECK_EQUAL(u1.status.executor.value, "e");
  CHECK_EQUAL(u1.status.source, status_source::executor);
  CHECK_NOT_EQUAL(u1.status.uuid, u2.status.uuid);
  CHECK_EQUAL(box.pending().size(), 2u);
  CHECK(!box.ack(task_id{"other"}, u1.status.uuid));
  CHECK(box.ack(task_id{"t"}, u1.status.uuid));
  CHECK(!box.ack(task_id{"t"}, u1.status.uuid));
  CHECK_EQUAL(box.pending().size(), 1u);
  CHECK_EQUAL(box.pending().front().status.uuid, u2.status.uuid);
}

TEST(registration launch updates and acknowledgements) {
  // A resend interval far above the 300 ms watched below: only a missing ack, not a slow one, causes a resend.
  start(0, std::chrono::seconds(5));
  REQUIRE(eventually([&] { return exec.called("registered"); }));
  {
    std::lock_guard<std::mutex> guard{exec.mtx};
    CHECK_EQUAL(exec.reg.agent.value, "agent-9");
    CHECK_EQUAL(exec.reg.sandbox, "/tmp");
    CHECK_EQUAL(exec.reg.framework.value, "fw-9");
  }
  task_info t;
  t.id = task_id{"t1"};
  t.data = "payload";
  self->send(exec_hdl, atom::launch_v, t);
  REQUIRE(collect([&] { return updates.size() >= 2; }));
  CHECK_EQUAL(updates[0].status.state, task_state::running);
  CHECK_EQUAL(updates[1].status.state, task_state::finished);
  CHECK_EQUAL(updates[1].status.data, "payload");
  for (auto& u : updates) {
    CHECK_EQUAL(u.framework.value, "fw-9");
    CHECK_EQUAL(u.status.agent.value, "agent-9");
    CHECK_EQUAL(u.status.executor.value, "exec-9");
    CHECK_EQUAL(u.status.source, status_source::executor);
    CHECK(!u.status.uuid.empty());
  }
  // Acknowledged: nothing is resent.
  collect([] { return false; }, 300ms);
  CHECK_EQUAL(updates.size(), 2u);
  self->send(exec_hdl, atom::kill_task_v, task_id{"t1"});
  self->send(exec_hdl, atom::fw_msg_v, std::string{"hi"});
  REQUIRE(collect([&] { return !messages.empty(); }));
  CHECK_EQUAL(messages.front(), "echo:hi");
  CHECK(exec.called("kill t1"));
  CHECK(exec.called("message hi"));
  CHECK_EQUAL(driver->stop(), driver_status::running);
  CHECK_EQUAL(driver->join(), driver_status::stopped);
  CHECK_EQUAL(driver->abort_reason(), "");
  CHECK_EQUAL(driver->send_status_update(task_status{}), driver_status::stopped);
}

TEST(unacknowledged updates are resent until acknowledged and stop waits for them) {
  start(/*drop_acks=*/3);
  task_info t;
  t.id = task_id{"t2"};
  self->send(exec_hdl, atom::launch_v, t);
  REQUIRE(eventually([&] { return exec.called("launch t2"); }));
  driver->stop();  // must not end before both updates are acknowledged
  CHECK_EQUAL(driver->join(), driver_status::stopped);
  collect([] { return false; }, 100ms);
  std::map<std::string, int> per_uuid;
  for (auto& u : updates)
    ++per_uuid[u.status.uuid];
  CHECK_EQUAL(per_uuid.size(), 2u);
  CHECK_GREATER_OR_EQUAL(updates.size(), 5u);  // 3 dropped + 2 acknowledged
}

TEST(the first launch counts as registered when it overtakes the agent answer) {
  // The agent never answers; the launch it sends only to registered executors lets the updates go out.
  agent = sys.spawn(test::fake_agent_mute, caf::actor_cast<caf::actor>(self), executor_registration{});
  executor_environment env;
  env.framework = framework_id{"fw-9"};
  env.executor = executor_id{"exec-9"};
  env.agent = agent_id{"agent-9"};
  executor_driver_options opts;
  opts.registration_timeout = 60s;  // no repeated request during the test
  opts.resend_interval = 5s;        // an update seen below was sent once, not resent
  driver = std::make_unique<executor_driver>(sys, exec, env, agent, opts);
  CHECK_EQUAL(&driver->system(), &sys);
  REQUIRE_EQUAL(driver->start(), driver_status::running);
  self->receive([&](atom::reg_exec, const framework_id&, const executor_id&, const executor_actor& h, const std::string&) { exec_hdl = h; },
                caf::after(30s) >> [] {});
  REQUIRE(exec_hdl);
  task_info t;
  t.id = task_id{"t1"};
  self->send(exec_hdl, atom::launch_v, t);
  REQUIRE(collect([&] { return updates.size() >= 2; }));
  CHECK_EQUAL(updates[0].status.state, task_state::running);
  CHECK_EQUAL(updates[1].status.state, task_state::finished);
  CHECK_EQUAL(updates[1].status.agent.value, "agent-9");
  CHECK(!exec.called("registered"));  // that callback still waits for the answer
  CHECK_EQUAL(driver->stop(), driver_status::running);
  CHECK_EQUAL(driver->join(), driver_status::stopped);
}

TEST(the own actor system of a driver has the scheduler threads asked for) {
  executor_driver_options opts;
  opts.scheduler_threads = 1;
  executor_driver one{exec, opts};
  CHECK_EQUAL(one.system().scheduler().num_workers(), 1u);
  executor_driver two{exec};
  CHECK_EQUAL(two.system().scheduler().num_workers(), 2u);
}

TEST(shutdown calls the callback and ends the driver) {
  start();
  self->send(exec_hdl, atom::shutdown_v);
  CHECK_EQUAL(driver->join(), driver_status::stopped);
  CHECK(exec.called("shutdown"));
}

TEST(losing the agent aborts the driver) {
  start();
  self->send_exit(agent, caf::exit_reason::kill);
  CHECK_EQUAL(driver->join(), driver_status::aborted);
  CHECK(exec.called("error"));
  CHECK(driver->abort_reason().find("lost the connection") != std::string::npos);
  MESSAGE("abort reason: " << driver->abort_reason());
}

TEST(a driver without an agent aborts at start) {
  executor_driver d{sys, exec, executor_environment{}, agent_actor{}};
  CHECK_EQUAL(d.start(), driver_status::aborted);
  CHECK_EQUAL(d.run(), driver_status::aborted);
  CHECK(!d.abort_reason().empty());
}

TEST(with checkpointing losing the agent does not abort and the driver re-registers) {
  // The first agent acknowledges nothing: every update must travel with the re-registration.
  start(/*drop_acks=*/1000000, 5s, /*checkpoint=*/true);
  task_info held;
  held.id = task_id{"held"};
  held.data = "hold";
  task_info done;
  done.id = task_id{"done"};
  self->send(exec_hdl, atom::launch_v, held);
  self->send(exec_hdl, atom::launch_v, done);
  REQUIRE(collect([&] { return updates.size() >= 3; }));  // held RUNNING, done RUNNING + FINISHED
  self->send_exit(agent, caf::exit_reason::kill);
  agent = nullptr;
  REQUIRE(eventually([&] { return exec.called("disconnected") && ctl->calls.load() >= 2; }));
  CHECK_EQUAL(driver->status(), driver_status::running);
  CHECK(!exec.called("error"));
  CHECK(!exec.called("shutdown"));
  // Updates sent while disconnected are queued.
  task_status progress;
  progress.task = task_id{"held"};
  progress.state = task_state::running;
  progress.message = "while away";
  CHECK_EQUAL(driver->send_status_update(progress), driver_status::running);
  executor_registration reply;
  reply.agent = agent_id{"agent-9"};
  agent2 = sys.spawn(test::fake_agent, caf::actor_cast<caf::actor>(self), reply, 0);
  ctl->offer(agent2);
  std::vector<task_info> rereg_tasks;
  std::vector<status_update> rereg_updates;
  bool reregistered = false;
  self->receive(
    [&](atom::rereg_exec, const framework_id& fw, const executor_id& ex, const executor_actor& hdl,
        const std::vector<task_info>& tasks, const std::vector<status_update>& upds, const std::string&) {
      reregistered = fw.value == "fw-9" && ex.value == "exec-9" && hdl == exec_hdl;
      rereg_tasks = tasks;
      rereg_updates = upds;
    },
    caf::after(30s) >> [] {});
  REQUIRE(reregistered);
  // Only the task not reported terminal; every unacknowledged update, the queued one included.
  REQUIRE_EQUAL(rereg_tasks.size(), 1u);
  CHECK_EQUAL(rereg_tasks[0].id.value, "held");
  CHECK_EQUAL(rereg_tasks[0].data, "hold");
  REQUIRE_EQUAL(rereg_updates.size(), 4u);
  CHECK_EQUAL(rereg_updates[3].status.message, "while away");
  // After the reply: all four resent to the new agent with the same uuids.
  std::set<std::string> expected;
  for (auto& u : rereg_updates)
    expected.insert(u.status.uuid);
  updates.clear();
  REQUIRE(collect([&] {
    std::set<std::string> seen;
    for (auto& u : updates)
      seen.insert(u.status.uuid);
    return std::includes(seen.begin(), seen.end(), expected.begin(), expected.end());
  }));
  REQUIRE(eventually([&] { return exec.called("reregistered"); }));
  // The new agent carries the traffic now.
  self->send(exec_hdl, atom::fw_msg_v, std::string{"again"});
  REQUIRE(collect([&] { return !messages.empty(); }));
  CHECK_EQUAL(messages.front(), "echo:again");
  CHECK_EQUAL(driver->stop(), driver_status::running);
  CHECK_EQUAL(driver->join(), driver_status::stopped);
  CHECK(!exec.called("error"));
}

TEST(with checkpointing a refused re-registration aborts the driver after the shutdown callback) {
  start(0, 100ms, /*checkpoint=*/true);
  executor_registration reply;
  agent2 = sys.spawn(test::fake_agent_ex, caf::actor_cast<caf::actor>(self), reply, 0, true);
  ctl->offer(agent2);
  self->send_exit(agent, caf::exit_reason::kill);
  agent = nullptr;
  CHECK_EQUAL(driver->join(), driver_status::aborted);
  CHECK(exec.called("shutdown"));
  CHECK(exec.called("error"));
  CHECK(driver->abort_reason().find("refused") != std::string::npos);
  MESSAGE("abort reason: " << driver->abort_reason());
}

TEST(with checkpointing the recovery timeout aborts the driver after the shutdown callback) {
  start(0, 100ms, /*checkpoint=*/true, /*recovery_timeout=*/500ms);
  self->send_exit(agent, caf::exit_reason::kill);
  agent = nullptr;
  CHECK_EQUAL(driver->join(), driver_status::aborted);
  CHECK(exec.called("disconnected"));
  CHECK(exec.called("shutdown"));
  CHECK(exec.called("error"));
  CHECK_GREATER_OR_EQUAL(ctl->calls.load(), 1);
  CHECK(driver->abort_reason().find("recovery timeout") != std::string::npos);
}

FIXTURE_SCOPE_END()
