// The scheduler driver against a mock master in a real (threaded) actor system: subscription, offers,
// launch with the agent filled in, implicit acks, teardown on stop, master loss, bad addresses.
#define CAF_SUITE actors_scheduler_driver
#include "actors/sdk/framework_config.hpp"
#include "test.hpp"

#include "actors/ha/leader_election.hpp"
#include "actors/sdk/scheduler_driver.hpp"
#include "config/daemon_config.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

using namespace mesoscaf;
using namespace std::chrono_literals;

namespace {

/// Thread-safe event log shared by the mock master, the test scheduler and the test body.
struct recorder {
  std::mutex mtx;
  std::condition_variable cv;
  std::vector<std::string> events;
  scheduler_actor sched;
  std::vector<offer_operation> ops;
  std::vector<offer_id> accepted;
  int standby_refusals = 0;  // subscriptions the mock master refuses as a standby master would
  int slow_answers = 0;      // subscriptions answered only after `answer_delay` (a master under load)
  std::chrono::milliseconds answer_delay{0};
  bool offer_before_answer = false;  // the master's first offer (naming the framework) overtakes the answer

  void add(std::string e) {
    std::lock_guard<std::mutex> guard{mtx};
    events.push_back(std::move(e));
    cv.notify_all();
  }
  bool wait_for(const std::string& e, std::chrono::milliseconds timeout = 30s) {
    std::unique_lock<std::mutex> guard{mtx};
    return cv.wait_for(guard, timeout,
                       [&] { return std::find(events.begin(), events.end(), e) != events.end(); });
  }
  bool has(const std::string& e) {
    std::lock_guard<std::mutex> guard{mtx};
    return std::find(events.begin(), events.end(), e) != events.end();
  }
  size_t count(const std::string& e) {
    std::lock_guard<std::mutex> guard{mtx};
    return static_cast<size_t>(std::count(events.begin(), events.end(), e));
  }
  bool wait_count(const std::string& e, size_t n, std::chrono::milliseconds timeout = 30s) {
    std::unique_lock<std::mutex> guard{mtx};
    return cv.wait_for(guard, timeout,
                       [&] { return static_cast<size_t>(std::count(events.begin(), events.end(), e)) >= n; });
  }
};

struct mock_master_state {
  static inline const char* name = "mock-master";
};

offer make_offer(const std::string& id, const std::string& agent);

master_actor::behavior_type mock_master(master_actor::stateful_pointer<mock_master_state> self,
                                        std::shared_ptr<recorder> rec) {
  return {
    [=](atom::reg_agent, const agent_info&, const agent_actor&) { return agent_id{"a1"}; },
    [=](atom::update, const status_update&) {},
    [=](atom::exec_msg, const framework_id&, const agent_id&, const executor_id&, const std::string&) {},
    [=](atom::exec_lost, const framework_id&, const agent_id&, const executor_id&, int32_t) {},
    [=](atom::subscribe, const framework_info& fi, const scheduler_actor& s) -> caf::result<framework_id> {
      bool standby = false;
      {
        std::lock_guard<std::mutex> guard{rec->mtx};
        if (rec->standby_refusals > 0) {
          --rec->standby_refusals;
          standby = true;
        } else {
          rec->sched = s;
        }
      }
      rec->add("subscribe " + fi.name + " id=" + fi.id.value);
      if (standby)
        return caf::make_error(caf::sec::unavailable_or_would_block, "not the leading master; the leader is unknown");
      bool slow = false;
      bool offer_first = false;
      std::chrono::milliseconds delay{0};
      {
        std::lock_guard<std::mutex> guard{rec->mtx};
        if (rec->slow_answers > 0) {
          --rec->slow_answers;
          slow = true;
        }
        offer_first = rec->offer_before_answer;
        rec->offer_before_answer = false;
        delay = rec->answer_delay;
      }
      if (offer_first)
        self->send(s, atom::offers_v, std::vector<offer>{make_offer("o1", "a1")});
      if (!slow)
        return framework_id{"fw-1"};
      // Answered later, from a helper actor, as a busy master's answer comes late.
      auto rp = self->make_response_promise<framework_id>();
      self->system().spawn([rp, delay](caf::event_based_actor* helper) mutable -> caf::behavior {
        helper->delayed_send(helper, delay, caf::ok_atom::value);
        return {[=](caf::ok_atom) mutable {
          rp.deliver(framework_id{"fw-1"});
          helper->quit();
        }};
      });
      return rp;
    },
    [=](atom::teardown, const framework_id& id) { rec->add("teardown " + id.value); },
    [=](atom::accept, const framework_id& id, const std::vector<offer_id>& offers,
        const std::vector<offer_operation>& ops, const filters&) {
      {
        std::lock_guard<std::mutex> guard{rec->mtx};
        rec->ops = ops;
        rec->accepted = offers;
      }
      rec->add("accept " + id.value + " " + offers.at(0).value);
    },
    [=](atom::decline, const framework_id& id, const std::vector<offer_id>& offers, const filters& f) {
      rec->add("decline " + id.value + " " + offers.at(0).value + " " + std::to_string(int(f.refuse_seconds)));
    },
    [=](atom::revive, const framework_id& id) { rec->add("revive " + id.value); },
    [=](atom::suppress, const framework_id& id) { rec->add("suppress " + id.value); },
    [=](atom::revive, const framework_id& id, const std::vector<std::string>& roles) {
      std::string text;
      for (const auto& r : roles)
        text += " " + r;
      rec->add("revive-roles " + id.value + text);
    },
    [=](atom::suppress, const framework_id& id, const std::vector<std::string>& roles) {
      std::string text;
      for (const auto& r : roles)
        text += " " + r;
      rec->add("suppress-roles " + id.value + text);
    },
    [=](atom::set_weight, const std::string&, double) { return true; },
    [=](atom::set_quota, const std::string&, const quota_info&) { return true; },
    [=](atom::timeout, const offer_id&) {},
    [=](atom::kill, const framework_id& id, const task_id& t, const agent_id& a) {
      rec->add("kill " + id.value + " " + t.value + " " + a.value);
    },
    [=](atom::kill, const framework_id& id, const task_id& t, const agent_id& a, const kill_policy& p) {
      rec->add("kill " + id.value + " " + t.value + " " + a.value + " grace " + std::to_string(p.grace_period));
    },
    [=](atom::update_fw, const framework_info& info) {
      rec->add("update_fw " + info.id.value + " roles " + std::to_string(info.roles.size()));
    },
    [=](atom::ack, const framework_id& id, const agent_id& a, const task_id& t, const std::string& uuid) {
      rec->add("ack " + id.value + " " + a.value + " " + t.value + " " + uuid);
    },
    [=](atom::fw_msg, const framework_id& id, const agent_id& a, const executor_id& e, const std::string& data) {
      rec->add("fwmsg " + id.value + " " + a.value + " " + e.value + " " + data);
    },
    [=](atom::watch, const operator_listener_actor&) { return true; },
    [=](atom::apply_op, const agent_id&, const offer_operation&, const std::string&) { return true; },
    [=](atom::remove_agent, const agent_id&, const std::string&) { return true; },
    [=](atom::shutdown, const framework_id& id, const executor_id& e, const agent_id& a) {
      rec->add("shutdown " + id.value + " " + e.value + " " + a.value);
    },
    [=](atom::reconcile, const framework_id& id, const std::vector<task_status>& statuses) {
      std::string text;
      for (const auto& st : statuses)
        text += " " + st.task.value + "@" + st.agent.value;
      rec->add("reconcile " + id.value + text);
    },
    [=](atom::rereg_agent, const agent_reregistration&, const agent_actor&) { return agent_id{"a1"}; },
    [=](atom::health) {},
    [=](atom::unreachable) {},
    [=](atom::failover, const framework_id&, uint64_t) {},
    [=](atom::state) { return master_snapshot{}; },
    [=](atom::state_page, const state_cursor&) { return master_state_view{}; },
    [=](atom::metrics) { return std::vector<metric_sample>{}; },
    [=](atom::teardown, const framework_id&, const std::string&) { return false; },
    [=](atom::allocate, const std::vector<allocation>&) {},
    [=](atom::rereg_deadline, uint64_t) {},
    [=](atom::elected) {},
    [=](atom::stepdown, const std::string&) {},
    [=](atom::leader, const master_location&) {},
  };
}

/// Records callbacks; launches one task on the first offer (without setting its agent).
struct test_scheduler : scheduler {
  std::shared_ptr<recorder> rec;
  explicit test_scheduler(std::shared_ptr<recorder> r) : rec(std::move(r)) {}
  void registered(scheduler_driver*, const framework_id& id) override { rec->add("registered " + id.value); }
  void resource_offers(scheduler_driver* d, const std::vector<offer>& offers) override {
    rec->add("offers " + std::to_string(offers.size()));
    task_info t;
    t.name = "t";
    t.id = task_id{"t1"};
    t.resources = resource_set::scalar("cpus", 1);
    command_info c;
    c.value = "true";
    t.command = c;
    d->launch_tasks({offers.at(0).id}, {t});
    for (size_t i = 1; i < offers.size(); ++i)
      d->decline_offer(offers[i].id, filters{0});
  }
  void status_update(scheduler_driver*, const task_status& s) override {
    rec->add(std::string{"update "} + to_string(s.state) + " " + s.task.value);
  }
  void framework_message(scheduler_driver* d, const agent_id& a, const executor_id& e,
                         const std::string& data) override {
    rec->add("message " + data);
    d->send_framework_message(a, e, "echo:" + data); // callable from inside a callback
  }
  void disconnected(scheduler_driver*) override { rec->add("disconnected"); }
  void error(scheduler_driver*, const std::string& msg) override {
    rec->add("error");
    rec->add("error: " + msg);
  }
};

/// A detector the test drives from its own thread: `set` names a leader to every watcher (thread-safe, as the
/// ZooKeeper detector's callbacks come from the client's thread).
class test_detector : public master_detector {
public:
  void watch(std::function<void(const master_location&)> f) override {
    master_location now;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      if (closed_)
        return;
      watchers_.push_back(f);
      now = current_;
    }
    f(now);
  }
  void close() override {
    std::lock_guard<std::mutex> guard{mtx_};
    closed_ = true;
    watchers_.clear();
  }
  std::string describe() const override { return "test detector"; }
  void set(master_location loc) {
    std::vector<std::function<void(const master_location&)>> ws;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      current_ = loc;
      ws = watchers_;
    }
    for (auto& w : ws)
      w(loc);
  }
  bool closed() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return closed_;
  }

private:
  mutable std::mutex mtx_;
  bool closed_ = false;
  master_location current_;
  std::vector<std::function<void(const master_location&)>> watchers_;
};

master_location in_process(const std::string& id, const master_actor& m) {
  master_location loc;
  loc.id = id;
  loc.handle = caf::actor_cast<caf::actor>(m);
  return loc;
}

struct fixture {
  framework_config cfg;
  caf::actor_system sys{cfg};
  std::shared_ptr<recorder> rec = std::make_shared<recorder>();
  master_actor master = sys.spawn(mock_master, rec);
  test_scheduler sched{rec};

  ~fixture() {
    caf::anon_send_exit(master, caf::exit_reason::user_shutdown);
  }

  framework_info fw() {
    framework_info f;
    f.name = "test-fw";
    return f;
  }

  scheduler_actor sched_handle() {
    std::lock_guard<std::mutex> guard{rec->mtx};
    return rec->sched;
  }
};

offer make_offer(const std::string& id, const std::string& agent) {
  offer o;
  o.id = offer_id{id};
  o.framework = framework_id{"fw-1"};
  o.agent = agent_id{agent};
  o.resources = resource_set::scalar("cpus", 2);
  return o;
}

} // namespace

FIXTURE_SCOPE(scheduler_driver_tests, fixture)

TEST(the driver subscribes and reports the framework id) {
  scheduler_driver driver{sys, &sched, fw(), master};
  CHECK(driver.start() == driver_status::running);
  CHECK(rec->wait_for("subscribe test-fw id="));
  CHECK(rec->wait_for("registered fw-1"));
  CHECK_EQUAL(driver.id().value, "fw-1");
  CHECK(driver.stop() == driver_status::stopped);
  CHECK(driver.join() == driver_status::stopped);
  CHECK(rec->wait_for("teardown fw-1"));
}

TEST(launch fills in the agent of the offer and extra offers are declined) {
  scheduler_driver driver{sys, &sched, fw(), master};
  driver.start();
  REQUIRE(rec->wait_for("registered fw-1"));
  caf::anon_send(sched_handle(), atom::offers_v, std::vector<offer>{make_offer("o1", "a1"), make_offer("o2", "a2")});
  CHECK(rec->wait_for("offers 2"));
  CHECK(rec->wait_for("accept fw-1 o1"));
  CHECK(rec->wait_for("decline fw-1 o2 0"));
  std::lock_guard<std::mutex> guard{rec->mtx};
  REQUIRE_EQUAL(rec->ops.size(), 1u);
  CHECK(rec->ops[0].type == operation_type::launch);
  REQUIRE_EQUAL(rec->ops[0].tasks.size(), 1u);
  CHECK_EQUAL(rec->ops[0].tasks[0].agent.value, "a1");
}

TEST(status updates are acknowledged after the callback and kill uses the known agent) {
  scheduler_driver driver{sys, &sched, fw(), master};
  driver.start();
  REQUIRE(rec->wait_for("registered fw-1"));
  task_status s;
  s.task = task_id{"t1"};
  s.state = task_state::running;
  s.agent = agent_id{"a7"};
  s.uuid = "u-1";
  caf::anon_send(sched_handle(), atom::update_v, s);
  CHECK(rec->wait_for("update TASK_RUNNING t1"));
  CHECK(rec->wait_for("ack fw-1 a7 t1 u-1"));
  // An update without uuid needs no ack.
  s.uuid.clear();
  s.state = task_state::staging;
  caf::anon_send(sched_handle(), atom::update_v, s);
  CHECK(rec->wait_for("update TASK_STAGING t1"));
  driver.kill_task(task_id{"t1"});
  CHECK(rec->wait_for("kill fw-1 t1 a7"));
  driver.revive_offers();
  driver.suppress_offers();
  CHECK(rec->wait_for("revive fw-1"));
  CHECK(rec->wait_for("suppress fw-1"));
  std::lock_guard<std::mutex> guard{rec->mtx};
  CHECK_EQUAL(std::count_if(rec->events.begin(), rec->events.end(),
                            [](const std::string& e) { return e.rfind("ack ", 0) == 0; }),
              1);
}

TEST(per role suppress and revive and accept with operations reach the master) {
  scheduler_driver driver{sys, &sched, fw(), master};
  driver.start();
  REQUIRE(rec->wait_for("registered fw-1"));
  driver.suppress_offers({"eng", "ops"});
  driver.revive_offers(std::vector<std::string>{"eng/prod"});
  CHECK(rec->wait_for("suppress-roles fw-1 eng ops"));
  CHECK(rec->wait_for("revive-roles fw-1 eng/prod"));
  // accept_offers: the operations reach the master unchanged and in order.
  offer_operation reserve;
  reserve.type = operation_type::reserve;
  reserve.resources = *resource_set::parse("cpus(eng,dynamic):1");
  offer_operation launch;
  task_info t;
  t.id = task_id{"t9"};
  t.resources = *resource_set::parse("cpus(eng,dynamic):1");
  command_info c;
  c.value = "true";
  t.command = c;
  launch.tasks = {t};
  driver.accept_offers({offer_id{"o9"}}, {reserve, launch}, filters{1});
  CHECK(rec->wait_for("accept fw-1 o9"));
  std::lock_guard<std::mutex> guard{rec->mtx};
  REQUIRE_EQUAL(rec->ops.size(), 2u);
  CHECK(rec->ops[0].type == operation_type::reserve);
  CHECK_EQUAL(rec->ops[0].resources, reserve.resources);
  CHECK(rec->ops[1].type == operation_type::launch);
  REQUIRE_EQUAL(rec->ops[1].tasks.size(), 1u);
  CHECK_EQUAL(rec->ops[1].tasks[0].id.value, "t9");
}

TEST(explicit acknowledgements are not sent implicitly) {
  driver_options opts;
  opts.implicit_acknowledgements = false;
  scheduler_driver driver{sys, &sched, fw(), master, opts};
  driver.start();
  REQUIRE(rec->wait_for("registered fw-1"));
  task_status s;
  s.task = task_id{"t2"};
  s.state = task_state::finished;
  s.agent = agent_id{"a1"};
  s.uuid = "u-2";
  caf::anon_send(sched_handle(), atom::update_v, s);
  CHECK(rec->wait_for("update TASK_FINISHED t2"));
  // Ordering round trip instead of a sleep: an implicit ack would leave the driver's actor right after the
  // callback, so it reaches the master before this later message takes the same actor-to-master path.
  driver.send_framework_message(agent_id{"a1"}, executor_id{"e1"}, "sync");
  REQUIRE(rec->wait_for("fwmsg fw-1 a1 e1 sync"));
  CHECK(!rec->has("ack fw-1 a1 t2 u-2"));
  driver.acknowledge_status_update(s);
  CHECK(rec->wait_for("ack fw-1 a1 t2 u-2"));
}

TEST(framework messages reach the callback and can be answered from it) {
  scheduler_driver driver{sys, &sched, fw(), master};
  driver.start();
  REQUIRE(rec->wait_for("registered fw-1"));
  caf::anon_send(sched_handle(), atom::fw_msg_v, agent_id{"a1"}, executor_id{"e1"}, std::string{"hi"});
  CHECK(rec->wait_for("message hi"));
  CHECK(rec->wait_for("fwmsg fw-1 a1 e1 echo:hi"));
}

TEST(losing the master calls disconnected) {
  scheduler_driver driver{sys, &sched, fw(), master};
  driver.start();
  REQUIRE(rec->wait_for("registered fw-1"));
  caf::anon_send_exit(master, caf::exit_reason::user_shutdown);
  CHECK(rec->wait_for("disconnected"));
  CHECK(driver.status() == driver_status::running);
  CHECK(driver.stop() == driver_status::stopped);
  CHECK(driver.join() == driver_status::stopped);
}

TEST(a malformed master address aborts at start) {
  scheduler_driver driver{sys, &sched, fw(), std::string{"no-port-here"}};
  CHECK(driver.start() == driver_status::aborted);
  CHECK(rec->has("error"));
  CHECK(driver.abort_reason().find("bad master address") != std::string::npos);
  CHECK(driver.join() == driver_status::aborted);
}

TEST(an unreachable master aborts after the configured attempts) {
  driver_options opts;
  opts.connect_attempts = 1;
  opts.request_timeout = 2000ms;
  scheduler_driver driver{sys, &sched, fw(), std::string{"127.0.0.1:1"}, opts};
  CHECK(driver.start() == driver_status::running);
  CHECK(driver.join() == driver_status::aborted);
  CHECK(rec->has("error"));
  MESSAGE("abort reason: " << driver.abort_reason());
  CHECK(driver.abort_reason().find("cannot connect") != std::string::npos);
}

TEST(abort ends the driver without a teardown) {
  scheduler_driver driver{sys, &sched, fw(), master};
  driver.start();
  REQUIRE(rec->wait_for("registered fw-1"));
  CHECK(driver.abort() == driver_status::aborted);
  CHECK(driver.join() == driver_status::aborted);
  // Ordering round trip instead of a sleep: the driver's actor is gone once join() returns, so a teardown it
  // sent is already in the master's mailbox and is handled before this later request is answered.
  caf::scoped_actor self{sys};
  bool answered = false;
  self->request(master, 30s, atom::state_v)
    .receive([&](const master_snapshot&) { answered = true; }, [](const caf::error&) {});
  REQUIRE(answered);
  CHECK(!rec->has("teardown fw-1"));
  CHECK(driver.launch_tasks({offer_id{"x"}}, {}) == driver_status::aborted);
}

TEST(replaced calls error and aborts the driver without a teardown) {
  scheduler_driver driver{sys, &sched, fw(), master};
  driver.start();
  REQUIRE(rec->wait_for("registered fw-1"));
  caf::anon_send(sched_handle(), atom::replaced_v, framework_id{"fw-1"});
  CHECK(rec->wait_for("error: framework failed over to another scheduler"));
  CHECK(driver.join() == driver_status::aborted);
  CHECK(driver.abort_reason().find("failed over") != std::string::npos);
  caf::scoped_actor self{sys};
  bool answered = false;
  self->request(master, 30s, atom::state_v)
    .receive([&](const master_snapshot&) { answered = true; }, [](const caf::error&) {});
  REQUIRE(answered);
  CHECK(!rec->has("teardown fw-1"));
  CHECK(driver.launch_tasks({offer_id{"x"}}, {}) == driver_status::aborted);
}

TEST(reconcile_tasks sends implicit and explicit reconciliation to the master) {
  scheduler_driver driver{sys, &sched, fw(), master};
  driver.start();
  REQUIRE(rec->wait_for("registered fw-1"));
  CHECK(driver.reconcile_tasks({}) == driver_status::running);
  CHECK(rec->wait_for("reconcile fw-1"));
  task_status a;
  a.task = task_id{"t1"};
  a.agent = agent_id{"a3"};
  task_status b;
  b.task = task_id{"t2"};
  driver.reconcile_tasks({a, b});
  CHECK(rec->wait_for("reconcile fw-1 t1@a3 t2@"));
  // The answers are plain updates without uuid: delivered, never acknowledged.
  task_status answer;
  answer.task = task_id{"t1"};
  answer.agent = agent_id{"a3"};
  answer.state = task_state::running;
  answer.source = status_source::master;
  answer.reason = task_reason::reconciliation;
  caf::anon_send(sched_handle(), atom::update_v, answer);
  CHECK(rec->wait_for("update TASK_RUNNING t1"));
  driver.send_framework_message(agent_id{"a3"}, executor_id{"e1"}, "sync");
  REQUIRE(rec->wait_for("fwmsg fw-1 a3 e1 sync"));
  std::lock_guard<std::mutex> guard{rec->mtx};
  CHECK_EQUAL(std::count_if(rec->events.begin(), rec->events.end(),
                            [](const std::string& e) { return e.rfind("ack ", 0) == 0; }),
              0);
}

TEST(stop with failover leaves the framework registered) {
  scheduler_driver driver{sys, &sched, fw(), master};
  driver.start();
  REQUIRE(rec->wait_for("registered fw-1"));
  CHECK(driver.stop(true) == driver_status::stopped);
  CHECK(driver.join() == driver_status::stopped);
  caf::scoped_actor self{sys};
  bool answered = false;
  self->request(master, 30s, atom::state_v)
    .receive([&](const master_snapshot&) { answered = true; }, [](const caf::error&) {});
  REQUIRE(answered);
  CHECK(!rec->has("teardown fw-1"));
  // The framework ID stays available to the next scheduler instance.
  CHECK_EQUAL(driver.id().value, "fw-1");
}

TEST(a new driver resubscribes with a given framework id) {
  auto f = fw();
  f.id = framework_id{"fw-1"};
  f.failover_timeout = 60;
  scheduler_driver driver{sys, &sched, f, master};
  driver.start();
  CHECK(rec->wait_for("subscribe test-fw id=fw-1"));
  CHECK(rec->wait_for("registered fw-1"));
}

// -- issue 22: under load nothing is dropped ------------------------------------------------------------------

// The master's first offer overtakes its (slow) answer to the subscription: the offer names the framework, the
// driver takes it as the answer, and the launch the scheduler makes on it reaches the master.
TEST(offers that overtake the subscription answer are used and their launch reaches the master) {
  {
    std::lock_guard<std::mutex> guard{rec->mtx};
    rec->slow_answers = 1;
    rec->answer_delay = 300ms;
    rec->offer_before_answer = true;
  }
  scheduler_driver driver{sys, &sched, fw(), master};
  driver.start();
  CHECK(rec->wait_for("offers 1"));
  CHECK(rec->wait_for("accept fw-1 o1"));
  CHECK(rec->wait_for("registered fw-1"));
  std::this_thread::sleep_for(500ms);   // the late answer came meanwhile: changes nothing
  CHECK_EQUAL(rec->count("registered fw-1"), 1u);
  CHECK_EQUAL(rec->count("subscribe test-fw id="), 1u);
  CHECK(!rec->has("update TASK_DROPPED t1"));
  CHECK(driver.status() == driver_status::running);
}

// An answer slower than the request timeout: the driver asks the same master again (the master answers a
// repeated subscription of the same scheduler with the same ID) instead of dropping it; an offer that came
// meanwhile named the framework, so the repeat carries its ID. Never a second framework, nothing dropped.
TEST(a subscription answer slower than the timeout is asked for again at the same master) {
  {
    std::lock_guard<std::mutex> guard{rec->mtx};
    rec->slow_answers = 1;
    rec->answer_delay = 1500ms;
  }
  driver_options opts;
  opts.request_timeout = 300ms;
  scheduler_driver driver{sys, &sched, fw(), master, opts};
  driver.start();
  CHECK(rec->wait_for("registered fw-1"));
  std::this_thread::sleep_for(1500ms);   // the slow answer arrives now: ignored
  CHECK_EQUAL(rec->count("registered fw-1"), 1u);
  CHECK_EQUAL(rec->count("subscribe test-fw id="), 2u);   // the first, and one repeat (answered at once)
  CHECK(!rec->has("disconnected"));
  CHECK(!rec->has("error"));
  CHECK(driver.status() == driver_status::running);
  // When an offer named the framework first, the timeout asks nothing again: it is subscribed.
  auto rec2 = std::make_shared<recorder>();
  {
    std::lock_guard<std::mutex> guard{rec2->mtx};
    rec2->slow_answers = 1;
    rec2->answer_delay = 1500ms;
    rec2->offer_before_answer = true;
  }
  auto master2 = sys.spawn(mock_master, rec2);
  test_scheduler sched2{rec2};
  scheduler_driver driver2{sys, &sched2, fw(), master2, opts};
  driver2.start();
  CHECK(rec2->wait_for("registered fw-1"));
  CHECK(rec2->wait_for("accept fw-1 o1"));
  std::this_thread::sleep_for(1500ms);
  CHECK_EQUAL(rec2->count("registered fw-1"), 1u);
  CHECK_EQUAL(rec2->count("subscribe test-fw id=fw-1") + rec2->count("subscribe test-fw id="), 1u);
  caf::anon_send_exit(master2, caf::exit_reason::user_shutdown);
}

// Calls made while the driver re-subscribes (a new leader, whose answer is slow) wait and reach the new master
// once it answered; a launch on an offer of the old master (void now) reaches no one, and the scheduler hears
// TASK_LOST for it (TASK_DROPPED for partition-aware frameworks).
TEST(calls during a re-subscription wait for it and a launch on a void offer is reported dropped) {
  auto det = std::make_shared<test_detector>();
  det->set(in_process("m1", master));
  scheduler_driver driver{sys, &sched, fw(), det};
  driver.start();
  REQUIRE(rec->wait_for("registered fw-1"));
  auto rec2 = std::make_shared<recorder>();
  {
    std::lock_guard<std::mutex> guard{rec2->mtx};
    rec2->slow_answers = 1;
    rec2->answer_delay = 1500ms;
  }
  auto master2 = sys.spawn(mock_master, rec2);
  det->set(in_process("m2", master2));
  REQUIRE(rec->wait_for("disconnected"));
  REQUIRE(rec2->wait_for("subscribe test-fw id=fw-1"));
  // While its answer is on the way:
  task_status q;
  q.task = task_id{"t9"};
  driver.reconcile_tasks({q});
  driver.revive_offers();
  driver.kill_task(task_id{"t9"});
  task_info t;
  t.id = task_id{"late"};
  t.name = "late";
  t.resources = resource_set::scalar("cpus", 1);
  command_info c;
  c.value = "true";
  t.command = c;
  driver.launch_tasks({offer_id{"old-offer"}}, {t});
  CHECK(rec->wait_for("update TASK_LOST late"));
  CHECK(!rec2->has("reconcile fw-1 t9@"));
  CHECK(rec->wait_count("registered fw-1", 2));
  CHECK(rec2->wait_for("reconcile fw-1 t9@"));
  CHECK(rec2->wait_for("revive fw-1"));
  CHECK(rec2->wait_for("kill fw-1 t9 "));
  {
    std::lock_guard<std::mutex> guard{rec2->mtx};
    CHECK(rec2->accepted.empty());   // the void offer never reached the new master
  }
  caf::anon_send_exit(master2, caf::exit_reason::user_shutdown);
}

// -- following the leading master ---------------------------------------------------------------------------

TEST(the driver follows the leader and re-subscribes with its framework id) {
  auto det = std::make_shared<test_detector>();
  det->set(in_process("m1", master));
  scheduler_driver driver{sys, &sched, fw(), det};
  CHECK(driver.start() == driver_status::running);
  REQUIRE(rec->wait_for("registered fw-1"));
  CHECK(rec->has("subscribe test-fw id="));
  // Another master is elected: the driver drops the old one, tells the scheduler, and subscribes again with the
  // framework ID it got.
  auto rec2 = std::make_shared<recorder>();
  auto master2 = sys.spawn(mock_master, rec2);
  det->set(in_process("m2", master2));
  CHECK(rec->wait_for("disconnected"));
  CHECK(rec2->wait_for("subscribe test-fw id=fw-1"));
  CHECK(rec->wait_count("registered fw-1", 2));
  // Commands now go to the new leader.
  driver.revive_offers();
  CHECK(rec2->wait_for("revive fw-1"));
  CHECK(!rec->has("revive fw-1"));
  // The same leader named again changes nothing.
  det->set(in_process("m2", master2));
  driver.suppress_offers();
  CHECK(rec2->wait_for("suppress fw-1"));
  CHECK_EQUAL(rec2->count("subscribe test-fw id=fw-1"), 1u);
  CHECK_EQUAL(rec->count("disconnected"), 1u);
  CHECK(driver.stop() == driver_status::stopped);
  CHECK(driver.join() == driver_status::stopped);
  CHECK(rec2->wait_for("teardown fw-1"));
  CHECK(det->closed());
  caf::anon_send_exit(master2, caf::exit_reason::user_shutdown);
}

TEST(a standby refusal is retried instead of aborting the driver) {
  auto det = std::make_shared<test_detector>();
  {
    std::lock_guard<std::mutex> guard{rec->mtx};
    rec->standby_refusals = 2;
  }
  det->set(in_process("m1", master));
  scheduler_driver driver{sys, &sched, fw(), det};
  driver.start();
  CHECK(rec->wait_for("registered fw-1"));
  CHECK_EQUAL(rec->count("subscribe test-fw id="), 3u);
  CHECK(!rec->has("error"));
  CHECK(driver.status() == driver_status::running);
}

TEST(a standby refusal at a fixed address is retried too) {
  {
    std::lock_guard<std::mutex> guard{rec->mtx};
    rec->standby_refusals = 1;
  }
  driver_options opts;
  opts.connect_attempts = 1;  // standby refusals do not count as failed attempts
  scheduler_driver driver{sys, &sched, fw(), master, opts};
  driver.start();
  CHECK(rec->wait_for("registered fw-1"));
  CHECK_EQUAL(rec->count("subscribe test-fw id="), 2u);
  CHECK(!rec->has("error"));
}

TEST(the driver waits while no leader is named and subscribes once one is) {
  auto det = std::make_shared<test_detector>();
  scheduler_driver driver{sys, &sched, fw(), det};
  driver.start();
  std::this_thread::sleep_for(300ms);
  CHECK(!rec->has("subscribe test-fw id="));
  CHECK(driver.status() == driver_status::running);
  det->set(in_process("m1", master));
  CHECK(rec->wait_for("registered fw-1"));
  // The leader is lost and none is known: disconnected, then back when one is named.
  det->set(master_location{});
  CHECK(rec->wait_for("disconnected"));
  auto rec2 = std::make_shared<recorder>();
  auto master2 = sys.spawn(mock_master, rec2);
  det->set(in_process("m2", master2));
  CHECK(rec2->wait_for("subscribe test-fw id=fw-1"));
  CHECK(rec->wait_count("registered fw-1", 2));
  caf::anon_send_exit(master2, caf::exit_reason::user_shutdown);
}

TEST(no leader named within the leader timeout aborts with a clear error) {
  auto det = std::make_shared<test_detector>();
  driver_options opts;
  opts.leader_timeout = 300ms;
  scheduler_driver driver{sys, &sched, fw(), det, opts};
  CHECK(driver.start() == driver_status::running);
  CHECK(driver.join() == driver_status::aborted);
  MESSAGE("abort reason: " << driver.abort_reason());
  CHECK(driver.abort_reason().find("no leading master") != std::string::npos);
  CHECK(driver.abort_reason().find("none named") != std::string::npos);
  CHECK(rec->has("error"));
  CHECK(det->closed());
}

TEST(a malformed zookeeper master url aborts at start) {
  scheduler_driver driver{sys, &sched, fw(), std::string{"zk:///no-hosts"}};
  CHECK(driver.start() == driver_status::aborted);
  CHECK(rec->has("error"));
  MESSAGE("abort reason: " << driver.abort_reason());
  CHECK(driver.abort_reason().find("bad master address") != std::string::npos);
}

FIXTURE_SCOPE_END()
