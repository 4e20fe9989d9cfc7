#define CAF_SUITE allocator_actor
#include "deterministic_fixture.hpp"

#include "allocator/allocator_actor.hpp"

#include <chrono>
#include <string>
#include <vector>

using namespace mesoscaf;
using namespace std::chrono_literals;

namespace {

resource_set res(const std::string& text) {
  auto r = resource_set::parse(text);
  REQUIRE(r.has_value());
  return *r;
}

// The master's side of the protocol (its full allocation_listener interface): records what it receives.
struct mock_listener_state {
  static inline const char* name = "mock_listener";
  std::vector<std::vector<allocation>> received;
};

using mock_listener_actor = caf::stateful_actor<mock_listener_state, allocation_listener_actor::base>;

allocation_listener_actor::behavior_type
mock_listener(allocation_listener_actor::stateful_pointer<mock_listener_state> self) {
  return {
    [self](atom::allocate, const std::vector<allocation>& xs) { self->state.received.push_back(xs); },
  };
}

using allocator_impl = caf::stateful_actor<allocator_state, allocator_actor::base>;

struct fixture : test::deterministic_fixture {
  allocation_listener_actor listener;
  allocator_actor aut;
  framework_id fw{"fw1"};
  agent_id agent{"agent1"};

  fixture() {
    listener = sys.spawn(mock_listener);
  }

  void start(allocator_options opts = {}) {
    aut = spawn_allocator(sys, listener, std::move(opts));
    sched.run();
  }

  ~fixture() {
    // The allocator re-arms its tick forever: stop it before the fixture's teardown runs all timeouts.
    if (aut)
      caf::anon_send_exit(aut, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(listener, caf::exit_reason::user_shutdown);
    sched.run();
  }

  std::vector<std::vector<allocation>>& received() {
    return deref<mock_listener_actor>(listener).state.received;
  }

  hierarchical_allocator& logic() {
    return deref<allocator_impl>(aut).state.alloc;
  }

  // Expects the allocator's own "run now" marker and then its message to the listener.
  void expect_run_with_allocations() {
    expect((atom::allocate), from(aut).to(aut).with(_));
    expect((atom::allocate, std::vector<allocation>), from(aut).to(listener).with(_, _));
  }

  // The agent is registered and fully offered to fw.
  void setup_allocated() {
    self->send(aut, atom::add_agent_v, agent, res("cpus:4;mem:2048"));
    self->send(aut, atom::add_fw_v, fw, framework_info{});
    expect((atom::add_agent, agent_id, resource_set), from(self).to(aut).with(_, agent, _));
    expect((atom::add_fw, framework_id, framework_info), from(self).to(aut).with(_, fw, _));
    expect_run_with_allocations();
  }
};

} // namespace

FIXTURE_SCOPE(allocator_actor_tests, fixture)

TEST(adding an agent and a framework leads to one allocation of the whole agent) {
  start();
  setup_allocated();
  // One run for both events (coalesced), so nothing else is queued.
  CHECK(sched.jobs.empty());
  REQUIRE_EQUAL(received().size(), 1u);
  REQUIRE_EQUAL(received()[0].size(), 1u);
  auto& a = received()[0][0];
  CHECK_EQUAL(a.framework, fw);
  CHECK_EQUAL(a.agent, agent);
  CHECK_EQUAL(a.resources, res("cpus:4;mem:2048"));
  CHECK_EQUAL(logic().allocated(fw, agent), res("cpus:4;mem:2048"));
}

TEST(a burst of events causes a single allocation run) {
  start();
  for (int i = 0; i < 5; ++i)
    self->send(aut, atom::add_agent_v, agent_id{"a" + std::to_string(i)}, res("cpus:1;mem:256"));
  self->send(aut, atom::add_fw_v, fw, framework_info{});
  sched.run();
  CHECK_EQUAL(logic().allocation_runs(), 1u);
  REQUIRE_EQUAL(received().size(), 1u);
  CHECK_EQUAL(received()[0].size(), 5u);
}

TEST(recovered resources are offered again without waiting for the interval) {
  start();
  setup_allocated();
  self->send(aut, atom::recover_v, fw, agent, std::string{"*"}, res("cpus:1;mem:512"), 0.0);
  expect((atom::recover, framework_id, agent_id, std::string, resource_set, double),
         from(self).to(aut).with(_, fw, agent, _, _, 0.0));
  expect_run_with_allocations();
  REQUIRE_EQUAL(received().size(), 2u);
  REQUIRE_EQUAL(received()[1].size(), 1u);
  CHECK_EQUAL(received()[1][0].resources, res("cpus:1;mem:512"));
  CHECK_EQUAL(logic().allocated(fw, agent), res("cpus:4;mem:2048"));
}

TEST(the periodic tick offers resources whose filter expired) {
  start();
  setup_allocated();
  // Declined for 1.5 s: the run right after the decline offers nothing, so nothing is sent.
  self->send(aut, atom::recover_v, fw, agent, std::string{"*"}, res("cpus:4;mem:2048"), 1.5);
  sched.run();
  CHECK_EQUAL(received().size(), 1u);
  CHECK_EQUAL(logic().filter_count(fw), 1u);
  // The tick at +1 s still finds the filter in force.
  advance_time(1s);
  expect((atom::tick), from(aut).to(aut).with(_));
  CHECK(sched.jobs.empty());
  CHECK_EQUAL(received().size(), 1u);
  // The tick at +2 s finds it expired and offers the agent again.
  advance_time(1s);
  expect((atom::tick), from(aut).to(aut).with(_));
  expect((atom::allocate, std::vector<allocation>), from(aut).to(listener).with(_, _));
  REQUIRE_EQUAL(received().size(), 2u);
  CHECK_EQUAL(received()[1][0].resources, res("cpus:4;mem:2048"));
}

TEST(the interval is configurable) {
  allocator_options opts;
  opts.interval = 250ms;
  start(opts);
  setup_allocated();
  self->send(aut, atom::recover_v, fw, agent, std::string{"*"}, res("cpus:4;mem:2048"), 0.6);
  sched.run();
  auto runs = logic().allocation_runs();
  advance_time(250ms);
  sched.run();
  advance_time(250ms);
  sched.run();
  CHECK_EQUAL(logic().allocation_runs(), runs + 2);
  CHECK_EQUAL(received().size(), 1u);  // 0.5 s < 0.6 s
  advance_time(250ms);
  expect((atom::tick), from(aut).to(aut).with(_));
  expect((atom::allocate, std::vector<allocation>), from(aut).to(listener).with(_, _));
  CHECK_EQUAL(received().size(), 2u);
}

TEST(suppress and revive) {
  start();
  setup_allocated();
  self->send(aut, atom::suppress_v, fw, std::vector<std::string>{});
  self->send(aut, atom::recover_v, fw, agent, std::string{"*"}, res("cpus:4;mem:2048"), 0.0);
  sched.run();
  advance_time(1s);
  sched.run();
  CHECK_EQUAL(received().size(), 1u);
  CHECK(logic().is_suppressed(fw));
  self->send(aut, atom::revive_v, fw, std::vector<std::string>{});
  expect((atom::revive, framework_id, std::vector<std::string>), from(self).to(aut).with(_, fw, _));
  expect_run_with_allocations();
  CHECK_EQUAL(received().size(), 2u);
}

TEST(bad input is ignored and the actor keeps working) {
  start();
  setup_allocated();
  self->send(aut, atom::recover_v, framework_id{"nope"}, agent, std::string{"*"}, res("cpus:1"), 0.0);
  self->send(aut, atom::recover_v, fw, agent, std::string{"*"}, res("cpus:100"), 0.0);
  self->send(aut, atom::recover_v, fw, agent, std::string{"*"}, res("cpus:1"), -3.0);
  self->send(aut, atom::remove_agent_v, agent_id{"nope"});
  sched.run();
  CHECK_EQUAL(received().size(), 1u);
  CHECK_EQUAL(logic().allocated(fw, agent), res("cpus:4;mem:2048"));
  // Still alive and correct.
  self->send(aut, atom::remove_fw_v, fw);
  self->send(aut, atom::add_fw_v, framework_id{"fw2"}, framework_info{});
  sched.run();
  REQUIRE_EQUAL(received().size(), 2u);
  CHECK_EQUAL(received()[1][0].framework, framework_id{"fw2"});
}

TEST(operators set weights and quotas and read the roles) {
  start();
  self->send(aut, atom::set_weight_v, std::string{"eng"}, 2.0);
  sched.run();
  bool ok = false;
  self->receive([&](bool x) { ok = x; }, [&](const caf::error& err) { FAIL("unexpected error: " << to_string(err)); });
  CHECK(ok);
  // Bad input: an error reply, nothing changes.
  self->send(aut, atom::set_weight_v, std::string{"eng"}, -1.0);
  sched.run();
  bool got_error = false;
  self->receive([&](bool) { FAIL("expected an error"); }, [&](const caf::error&) { got_error = true; });
  CHECK(got_error);
  self->send(aut, atom::set_quota_v, std::string{"eng"}, quota_info{res("cpus:1"), res("cpus:2")});
  sched.run();
  self->receive([&](bool x) { ok = x; }, [&](const caf::error& err) { FAIL("unexpected error: " << to_string(err)); });
  CHECK(ok);
  self->send(aut, atom::set_quota_v, std::string{"*"}, quota_info{res("cpus:1"), {}});
  sched.run();
  got_error = false;
  self->receive([&](bool) { FAIL("expected an error"); }, [&](const caf::error&) { got_error = true; });
  CHECK(got_error);
  self->send(aut, atom::roles_v);
  sched.run();
  std::vector<role_summary> roles;
  self->receive([&](const std::vector<role_summary>& xs) { roles = xs; },
                [&](const caf::error& err) { FAIL("unexpected error: " << to_string(err)); });
  REQUIRE_EQUAL(roles.size(), 1u);
  CHECK_EQUAL(roles[0].name, "eng");
  CHECK_EQUAL(roles[0].weight, 2.0);
  CHECK_EQUAL(roles[0].quota.limit, res("cpus:2"));
}

TEST(update_alloc changes the agent total) {
  start();
  framework_info info;
  info.roles = {"eng"};
  self->send(aut, atom::add_agent_v, agent, res("cpus:4;mem:2048"));
  self->send(aut, atom::add_fw_v, fw, info);
  sched.run();
  REQUIRE_EQUAL(received().size(), 1u);
  CHECK_EQUAL(received()[0][0].role, "eng");
  self->send(aut, atom::update_alloc_v, fw, agent, std::string{"eng"}, res("cpus:1"), res("cpus(eng,dynamic):1"));
  sched.run();
  CHECK_EQUAL(logic().total(agent), res("cpus:3;cpus(eng,dynamic):1;mem:2048"));
  // Bad: quantities differ; ignored.
  self->send(aut, atom::update_alloc_v, fw, agent, std::string{"eng"}, res("cpus:1"), res("cpus(eng,dynamic):2"));
  sched.run();
  CHECK_EQUAL(logic().total(agent), res("cpus:3;cpus(eng,dynamic):1;mem:2048"));
}

TEST(an operator conversion takes back the returned offers in the same step and is refused if not free) {
  start();
  setup_allocated();   // everything is offered to fw
  auto error_of = [&] {
    std::string text;
    self->receive([&](bool) { FAIL("expected an error"); }, [&](const caf::error& err) { text = to_string(err); });
    return text;
  };
  // Without the offer back, nothing is free: refused, nothing changes.
  self->send(aut, atom::update_alloc_v, agent, res("cpus:1"), res("cpus(eng,dynamic):1"), std::vector<allocation>{});
  sched.run();
  CHECK(error_of().find("not free") != std::string::npos);
  CHECK_EQUAL(logic().total(agent), res("cpus:4;mem:2048"));
  // With the offer returned in the same message: converted before any allocation run could hand it out again.
  auto runs = logic().allocation_runs();
  std::vector<allocation> back{allocation{fw, agent, "*", res("cpus:4;mem:2048")}};
  self->send(aut, atom::update_alloc_v, agent, res("cpus:1"), res("cpus(eng,dynamic):1"), back);
  expect((atom::update_alloc, agent_id, resource_set, resource_set, std::vector<allocation>),
         from(self).to(aut).with(_, agent, _, _, _));
  bool ok = false;
  self->receive([&](bool x) { ok = x; }, [&](const caf::error& err) { FAIL("unexpected error: " << to_string(err)); });
  CHECK(ok);
  CHECK_EQUAL(logic().allocation_runs(), runs);
  CHECK_EQUAL(logic().total(agent), res("cpus:3;cpus(eng,dynamic):1;mem:2048"));
  CHECK_EQUAL(logic().available(agent), res("cpus:3;cpus(eng,dynamic):1;mem:2048"));
  // An invalid conversion (quantities differ) is an invalid_argument, not a conflict.
  sched.run();   // the run the returned offer asked for: fw holds the agent again
  std::vector<allocation> again{allocation{fw, agent, "*", logic().allocated(fw, agent)}};
  self->send(aut, atom::update_alloc_v, agent, res("cpus:1"), res("cpus(eng,dynamic):2"), again);
  sched.run();
  auto err = error_of();
  CHECK(err.find("invalid_argument") != std::string::npos);
}

TEST(agents come back with allocations in use and can be deactivated and activated) {
  start();
  self->send(aut, atom::add_fw_v, fw, framework_info{});
  sched.run();
  std::vector<allocation> used{{fw, agent, "*", res("cpus:1;mem:512")}, {framework_id{"ghost"}, agent, "*",
                                                                           res("cpus:1")}};
  self->send(aut, atom::add_agent_v, agent, res("cpus:4;mem:2048"), used, true);
  sched.run();
  CHECK_EQUAL(logic().allocated(fw, agent), res("cpus:4;mem:2048"));
  REQUIRE_EQUAL(received().size(), 1u);
  CHECK_EQUAL(received()[0][0].resources, res("cpus:3;mem:1536"));
  self->send(aut, atom::deactivate_agent_v, agent);
  self->send(aut, atom::recover_v, fw, agent, std::string{"*"}, res("cpus:4;mem:2048"), 0.0);
  sched.run();
  CHECK(!logic().is_agent_active(agent));
  CHECK_EQUAL(received().size(), 1u);   // nothing of an inactive agent is offered
  self->send(aut, atom::activate_agent_v, agent);
  sched.run();
  REQUIRE_EQUAL(received().size(), 2u);
  CHECK_EQUAL(received()[1][0].resources, res("cpus:4;mem:2048"));
}

TEST(an agent added inactive is offered only once activated) {
  start();
  self->send(aut, atom::add_fw_v, fw, framework_info{});
  sched.run();
  std::vector<allocation> used{{fw, agent, "*", res("cpus:1;mem:512")}};
  self->send(aut, atom::add_agent_v, agent, res("cpus:4;mem:2048"), used, false);
  sched.run();
  CHECK(!logic().is_agent_active(agent));
  CHECK_EQUAL(logic().allocated(fw, agent), res("cpus:1;mem:512"));   // its tasks count at once
  CHECK(received().empty());
  self->send(aut, atom::activate_agent_v, agent);
  sched.run();
  REQUIRE_EQUAL(received().size(), 1u);
  CHECK_EQUAL(received()[0][0].resources, res("cpus:3;mem:1536"));
}

TEST(the allocator quits when its listener goes down) {
  start();
  self->monitor(aut);
  caf::anon_send_exit(listener, caf::exit_reason::user_shutdown);
  sched.run();
  expect((caf::down_msg), from(aut).to(self).with(_));
}

FIXTURE_SCOPE_END()
