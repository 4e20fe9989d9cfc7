#define CAF_SUITE actors_master
#include "deterministic_fixture.hpp"

#include "actors/master/master.hpp"
#include "messages/resource_operations.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <tuple>

using namespace mesoscaf;

namespace {

// -- full-interface mocks: every message is recorded; messages the master must never send FAIL -------------

struct sched_state {
  static inline const char* name = "mock_scheduler";
  std::vector<std::vector<offer>> offers;
  std::vector<offer_id> rescinded;
  std::vector<task_status> updates;
  std::vector<std::tuple<agent_id, executor_id, std::string>> messages;
  std::vector<agent_id> lost_agents;
  std::vector<std::tuple<executor_id, agent_id, int32_t>> lost_executors;
  std::vector<std::string> errors;
  std::vector<framework_id> replaced;
};

scheduler_actor::behavior_type mock_scheduler(scheduler_actor::stateful_pointer<sched_state> self) {
  return {
    [=](atom::offers, const std::vector<offer>& xs) { self->state.offers.push_back(xs); },
    [=](atom::rescind, const offer_id& id) { self->state.rescinded.push_back(id); },
    [=](atom::update, const task_status& s) { self->state.updates.push_back(s); },
    [=](atom::fw_msg, const agent_id& a, const executor_id& e, const std::string& d) {
      self->state.messages.emplace_back(a, e, d);
    },
    [=](atom::agent_lost, const agent_id& a) { self->state.lost_agents.push_back(a); },
    [=](atom::exec_lost, const executor_id& e, const agent_id& a, int32_t st) {
      self->state.lost_executors.emplace_back(e, a, st);
    },
    [=](atom::error, const std::string& msg) { self->state.errors.push_back(msg); },
    [=](atom::replaced, const framework_id& f) { self->state.replaced.push_back(f); },
  };
}

struct agent_mock_state {
  static inline const char* name = "mock_agent";
  std::vector<std::pair<framework_info, task_info>> runs;
  std::vector<std::pair<executor_info, task_group_info>> groups;  // LAUNCH_GROUP, as received
  std::vector<std::pair<framework_id, task_id>> kills;
  std::vector<double> kill_graces;  // of kills that carried a kill policy
  std::vector<std::tuple<framework_id, task_id, std::string>> acks;
  std::vector<std::tuple<framework_id, executor_id, std::string>> messages;
  std::vector<framework_id> shutdowns;
  std::vector<std::pair<framework_id, offer_operation>> ops;
  std::vector<std::string> order;   // "op:RESERVE", "run:<task>": apply_op must come before the tasks using it
  bool answer_pings = true;
  size_t pings = 0;
  std::vector<framework_id> resends;
  std::vector<std::pair<framework_id, executor_id>> exec_shutdowns;
  size_t rereg_requests = 0;
  std::vector<std::string> told_gone;   // shutdown(reason): the operator marked the agent gone
};

agent_actor::behavior_type mock_agent(agent_actor::stateful_pointer<agent_mock_state> self) {
  return {
    [=](atom::run_task, const framework_info& fi, const task_info& ti) {
      self->state.runs.emplace_back(fi, ti);
      self->state.order.push_back("run:" + ti.id.value);
    },
    [=](atom::run_task, const framework_info&, const executor_info& e, const task_group_info& g) {
      self->state.groups.emplace_back(e, g);
    },
    [=](atom::kill_task, const framework_id& f, const task_id& t) { self->state.kills.emplace_back(f, t); },
    [=](atom::kill_task, const framework_id& f, const task_id& t, const kill_policy& p) {
      self->state.kills.emplace_back(f, t);
      self->state.kill_graces.push_back(p.grace_period);
    },
    [=](atom::ack, const framework_id& f, const task_id& t, const std::string& u) {
      self->state.acks.emplace_back(f, t, u);
    },
    [=](atom::fw_msg, const framework_id& f, const executor_id& e, const std::string& d) {
      self->state.messages.emplace_back(f, e, d);
    },
    [=](atom::shutdown_fw, const framework_id& f) { self->state.shutdowns.push_back(f); },
    [=](atom::shutdown, const framework_id& f, const executor_id& e) { self->state.exec_shutdowns.emplace_back(f, e); },
    [=](atom::shutdown, const std::string& why) { self->state.told_gone.push_back(why); },
    [=](atom::apply_op, const framework_id& f, const offer_operation& op) {
      self->state.ops.emplace_back(f, op);
      self->state.order.push_back(std::string{"op:"} + operation_name(op.type));
    },
    [=](atom::ping) -> caf::result<agent_id> {
      ++self->state.pings;
      if (self->state.answer_pings)
        return agent_id{"whoever"};
      // Never answered (the promise is dropped: keeping it in the state would be a reference cycle that keeps
      // this actor and the actor system alive).
      return self->make_response_promise<agent_id>();
    },
    [=](atom::resend, const framework_id& f) { self->state.resends.push_back(f); },
    [=](atom::rereg_agent) { ++self->state.rereg_requests; },
    [=](atom::leader, const master_location&) { CAF_FAIL("the master must not send leader to an agent"); },
    [=](atom::rereg_exec, const framework_id&, const executor_id&, const executor_actor&,
        const std::vector<task_info>&, const std::vector<status_update>&, const std::string&) -> executor_registration {
      CAF_FAIL("the master must not send rereg_exec to an agent");
      return {};
    },
    [=](atom::reg_exec, const framework_id&, const executor_id&, const executor_actor&, const std::string&) -> executor_registration {
      CAF_FAIL("the master must not send reg_exec to an agent");
      return {};
    },
    [=](atom::update, const status_update&) { CAF_FAIL("the master must not send update to an agent"); },
    [=](atom::exec_msg, const framework_id&, const executor_id&, const std::string&) {
      CAF_FAIL("the master must not send exec_msg to an agent");
    },
    [=](atom::exited, const container_id&, int32_t) { CAF_FAIL("the master must not send exited"); },
    [=](atom::tick) { CAF_FAIL("the master must not send tick to an agent"); },
    [=](atom::state) -> agent_snapshot {
      CAF_FAIL("the master must not ask an agent for its state");
      return {};
    },
    [=](atom::usage) -> std::vector<container_usage> {
      CAF_FAIL("the master must not ask an agent for its usage");
      return {};
    },
    [](atom::state_page) { return agent_state_view{}; },
    [](atom::metrics) { return std::vector<metric_sample>{}; },
  };
}

struct alloc_state {
  static inline const char* name = "mock_allocator";
  std::vector<std::pair<framework_id, framework_info>> added_fws;
  std::vector<std::pair<framework_id, framework_info>> updated_fws;
  std::vector<framework_id> removed_fws;
  std::vector<framework_id> activated;
  std::vector<framework_id> deactivated;
  std::vector<std::pair<agent_id, resource_set>> added_agents;
  std::vector<agent_id> removed_agents;
  std::vector<std::tuple<agent_id, resource_set, std::vector<allocation>>> readded_agents;
  std::vector<agent_id> deactivated_agents;
  std::vector<agent_id> activated_agents;
  // (framework, agent, resources, refuse seconds, role)
  std::vector<std::tuple<framework_id, agent_id, resource_set, double, std::string>> recovered;
  std::vector<std::pair<framework_id, std::vector<std::string>>> revived;
  std::vector<std::pair<framework_id, std::vector<std::string>>> suppressed;
  // (framework, agent, role, consumed, produced)
  std::vector<std::tuple<framework_id, agent_id, std::string, resource_set, resource_set>> updates;
  std::vector<std::pair<std::string, double>> weights;
  std::vector<std::pair<std::string, quota_info>> quotas;
  std::vector<role_summary> roles;
  // The operator's conversions of free resources: what each agent has free (tests set it), and each applied one.
  std::map<agent_id, resource_set> free_pool;
  std::vector<std::tuple<agent_id, resource_set, resource_set>> free_updates;
};

allocator_actor::behavior_type mock_allocator(allocator_actor::stateful_pointer<alloc_state> self) {
  return {
    [=](atom::add_fw, const framework_id& f, const framework_info& fi) { self->state.added_fws.emplace_back(f, fi); },
    [=](atom::remove_fw, const framework_id& f) { self->state.removed_fws.push_back(f); },
    [=](atom::update_fw, const framework_id& f, const framework_info& fi) {
      self->state.updated_fws.emplace_back(f, fi);
    },
    [=](atom::activate, const framework_id& f) { self->state.activated.push_back(f); },
    [=](atom::deactivate, const framework_id& f) { self->state.deactivated.push_back(f); },
    [=](atom::add_agent, const agent_id& a, const resource_set& r) { self->state.added_agents.emplace_back(a, r); },
    [=](atom::remove_agent, const agent_id& a) { self->state.removed_agents.push_back(a); },
    [=](atom::add_agent, const agent_id& a, const resource_set& r, const std::vector<allocation>& used,
        bool active) {
      self->state.readded_agents.emplace_back(a, r, used);
      if (!active)
        self->state.deactivated_agents.push_back(a);
    },
    [=](atom::deactivate_agent, const agent_id& a) { self->state.deactivated_agents.push_back(a); },
    [=](atom::activate_agent, const agent_id& a) { self->state.activated_agents.push_back(a); },
    [=](atom::recover, const framework_id& f, const agent_id& a, const std::string& role, const resource_set& r,
        double s) {
      self->state.recovered.emplace_back(f, a, r, s, role);
      self->state.free_pool[a] += r;
    },
    [=](atom::revive, const framework_id& f, const std::vector<std::string>& roles) {
      self->state.revived.emplace_back(f, roles);
    },
    [=](atom::suppress, const framework_id& f, const std::vector<std::string>& roles) {
      self->state.suppressed.emplace_back(f, roles);
    },
    [=](atom::update_alloc, const framework_id& f, const agent_id& a, const std::string& role,
        const resource_set& consumed, const resource_set& produced) {
      self->state.updates.emplace_back(f, a, role, consumed, produced);
    },
    [=](atom::update_alloc, const agent_id& a, const resource_set& consumed, const resource_set& produced,
        const std::vector<allocation>& returned) -> caf::result<bool> {
      auto& pool = self->state.free_pool[a];
      for (const auto& r : returned) {
        self->state.recovered.emplace_back(r.framework, r.agent, r.resources, 0, r.role);
        pool += r.resources;
      }
      if (!pool.contains(consumed))
        return caf::make_error(caf::sec::runtime_error, "resources " + consumed.to_string() + " are not free");
      pool = pool - consumed + produced;
      self->state.free_updates.emplace_back(a, consumed, produced);
      return true;
    },
    // Validation stand-ins for the real allocator's: weights finite and > 0, quota roles not "*".
    [=](atom::set_weight, const std::string& role, double w) -> caf::result<bool> {
      if (!(w > 0) || !std::isfinite(w))
        return caf::make_error(caf::sec::invalid_argument, "invalid weight " + std::to_string(w));
      self->state.weights.emplace_back(role, w);
      return true;
    },
    [=](atom::set_quota, const std::string& role, const quota_info& q) -> caf::result<bool> {
      if (role == "*" || !valid_role_name(role))
        return caf::make_error(caf::sec::invalid_argument, "invalid role '" + role + "' for quota");
      self->state.quotas.emplace_back(role, q);
      return true;
    },
    [=](atom::roles) { return self->state.roles; },
    [=](atom::tick) { CAF_FAIL("the master must not send tick to the allocator"); },
    [=](atom::allocate) { CAF_FAIL("the master must not send allocate to the allocator"); },
  };
}

resource_set res(const std::string& text) {
  auto r = resource_set::parse(text);
  if (!r)
    CAF_FAIL("bad resources in test: " << text);
  return *r;
}

// Asks the master and returns the answer. Unlike the fixture's request<T>(), this never fires timers, so it
// also works with the real allocator's periodic timer (docs/CAF_PITFALLS.md §9).
template <class T, class Fixture, class... Ts>
T ask(Fixture& fx, Ts&&... xs) {
  T result;
  auto hdl = fx.self->request(fx.master, caf::infinite, std::forward<Ts>(xs)...);
  fx.sched.run();
  hdl.receive([&](const T& x) { result = x; },
              [&](const caf::error& err) { CAF_FAIL("request failed: " << fx.sys.render(err)); });
  return result;
}

struct fixture : mesoscaf::test::deterministic_fixture {
  allocator_actor alloc;
  master_actor master;

  fixture(master_options opts = {}) {
    alloc = sys.spawn(mock_allocator);
    master = spawn_master(sys, std::move(opts), alloc);
    sched.run();
  }

  /// For options that need the actor system (e.g. a registrar).
  using options_maker = std::function<master_options(caf::actor_system&)>;
  explicit fixture(const options_maker& make) {
    alloc = sys.spawn(mock_allocator);
    master = spawn_master(sys, make(sys), alloc);
    sched.run();
  }

  /// The master starts (and restarts) its mock allocators itself; `allocs` lists them, newest last.
  std::vector<allocator_actor> allocs;
  struct supervised {};
  explicit fixture(supervised) {
    master = spawn_master(sys, master_options{}, [this](caf::actor_system& s, const allocation_listener_actor&) {
      allocs.push_back(s.spawn(mock_allocator));
      return allocs.back();
    });
    sched.run(); // the master starts its allocator as it initializes
    REQUIRE_EQUAL(allocs.size(), 1u);
    alloc = allocs.back();
  }

  /// Kills the current allocator (as a crash would); `alloc` becomes the master's new one, if it started one.
  void kill_allocator() {
    caf::anon_send_exit(alloc, caf::exit_reason::kill);
    sched.run();
    alloc = allocs.back();
  }

  ~fixture() {
    caf::anon_send_exit(master, caf::exit_reason::user_shutdown);
    sched.run();
  }

  template <class State, class Handle>
  State& state_of(const Handle& h) {
    return deref<caf::stateful_actor<State, typename Handle::base>>(h).state;
  }
  sched_state& sst(const scheduler_actor& s) { return state_of<sched_state>(s); }
  agent_mock_state& ast(const agent_actor& a) { return state_of<agent_mock_state>(a); }
  alloc_state& alst() { return state_of<alloc_state>(alloc); }

  template <class Source, class... Ts>
  void send_from(const Source& src, Ts&&... xs) {
    caf::send_as(src, master, std::forward<Ts>(xs)...);
    sched.run();
  }

  master_snapshot state() { return ask<master_snapshot>(*this, atom::state_v); }

  agent_actor new_agent() { return sys.spawn(mock_agent); }
  scheduler_actor new_scheduler() { return sys.spawn(mock_scheduler); }

  agent_id register_agent(const agent_actor& a, const std::string& resources = "cpus:4;mem:1024",
                          std::string host = "host1") {
    agent_info info;
    info.hostname = std::move(host);
    info.total = res(resources);
    return ask<agent_id>(*this, atom::reg_agent_v, info, a);
  }

  framework_id subscribe(const scheduler_actor& s, std::string name = "fw", std::vector<std::string> roles = {}) {
    framework_info fi;
    fi.name = std::move(name);
    fi.roles = std::move(roles);
    return ask<framework_id>(*this, atom::subscribe_v, fi, s);
  }

  // Runs a request that must fail; returns the error's text.
  template <class T, class... Ts>
  std::string request_error(Ts&&... xs) {
    std::string result;
    auto hdl = self->request(master, caf::infinite, std::forward<Ts>(xs)...);
    sched.run();
    hdl.receive([&](const T&) { CAF_FAIL("request should have failed"); },
                [&](const caf::error& err) { result = sys.render(err); });
    return result;
  }

  // The allocator offers `r` of `aid` to `fid`; returns the offer the scheduler got.
  offer offer_to(const scheduler_actor& s, const framework_id& fid, const agent_id& aid, const std::string& r,
                 const std::string& role = "*") {
    send_from(alloc, atom::allocate_v, std::vector<allocation>{allocation{fid, aid, role, res(r)}});
    auto& got = sst(s).offers;
    REQUIRE(!got.empty());
    REQUIRE_EQUAL(got.back().size(), 1u);
    return got.back().front();
  }

  static task_info task(const std::string& id, const agent_id& aid, const std::string& r) {
    task_info t;
    t.id = task_id{id};
    t.name = id;
    t.agent = aid;
    t.resources = res(r);
    command_info c;
    c.value = "sleep 1";
    t.command = c;
    return t;
  }

  static std::vector<offer_operation> launch(std::vector<task_info> tasks) {
    offer_operation op;
    op.tasks = std::move(tasks);
    return {op};
  }

  void accept(const scheduler_actor& s, const framework_id& fid, std::vector<offer_id> ids,
              std::vector<task_info> tasks, double refuse = 5) {
    send_from(s, atom::accept_v, fid, std::move(ids), launch(std::move(tasks)), filters{refuse});
  }

  status_update update(const framework_id& fid, const task_id& tid, task_state st, std::string uuid) {
    status_update su;
    su.framework = fid;
    su.status.task = tid;
    su.status.state = st;
    su.status.uuid = std::move(uuid);
    su.status.source = status_source::executor;
    return su;
  }
};

const task_summary* find_task(const master_snapshot& s, const std::string& id) {
  for (const auto& t : s.tasks)
    if (t.id.value == id)
      return &t;
  return nullptr;
}

} // namespace

FIXTURE_SCOPE(master_tests, fixture)

TEST(agent registration assigns an ID and adds the agent to the allocator) {
  auto a = new_agent();
  auto aid = register_agent(a);
  CHECK(!aid.empty());
  REQUIRE_EQUAL(alst().added_agents.size(), 1u);
  CHECK_EQUAL(alst().added_agents[0].first, aid);
  CHECK_EQUAL(alst().added_agents[0].second, res("cpus:4;mem:1024"));
  // A retry from the same agent is idempotent.
  CHECK_EQUAL(register_agent(a), aid);
  CHECK_EQUAL(alst().added_agents.size(), 1u);
  auto s = state();
  REQUIRE_EQUAL(s.agents.size(), 1u);
  CHECK_EQUAL(s.agents[0].id, aid);
  CHECK_EQUAL(s.agents[0].total, res("cpus:4;mem:1024"));
}

TEST(agent registration with bad input is refused) {
  agent_info info;
  info.hostname = "h";
  auto err = request_error<agent_id>(atom::reg_agent_v, info, new_agent());
  CHECK_NOT_EQUAL(err.find("no resources"), std::string::npos);
  info.total = res("cpus:1");
  info.id = agent_id{"../x"};
  err = request_error<agent_id>(atom::reg_agent_v, info, new_agent());
  CHECK_NOT_EQUAL(err.find("agent ID"), std::string::npos);
  err = request_error<agent_id>(atom::reg_agent_v, info, agent_actor{});
  CHECK_NOT_EQUAL(err.find("no agent handle"), std::string::npos);
  CHECK(alst().added_agents.empty());
  CHECK(state().agents.empty());
}

TEST(subscription assigns an ID and adds the framework and is idempotent) {
  auto s = new_scheduler();
  auto fid = subscribe(s, "alpha");
  CHECK(!fid.empty());
  REQUIRE_EQUAL(alst().added_fws.size(), 1u);
  CHECK_EQUAL(alst().added_fws[0].first, fid);
  CHECK_EQUAL(alst().added_fws[0].second.name, "alpha");
  CHECK_EQUAL(alst().added_fws[0].second.id, fid);
  // Same scheduler, same (or empty) ID: the same framework.
  framework_info again;
  again.id = fid;
  CHECK_EQUAL(ask<framework_id>(*this, atom::subscribe_v, again, s), fid);
  CHECK_EQUAL(subscribe(s), fid);
  CHECK_EQUAL(alst().added_fws.size(), 1u);
  // Another scheduler of another principal cannot take the framework over (same principal: failover, below).
  again.principal = "mallory";
  auto err = request_error<framework_id>(atom::subscribe_v, again, new_scheduler());
  CHECK_NOT_EQUAL(err.find("another principal"), std::string::npos);
  CHECK_EQUAL(state().frameworks.size(), 1u);
}

TEST(allocations become offers in one message per framework) {
  auto a1 = new_agent();
  auto a2 = new_agent();
  auto aid1 = register_agent(a1, "cpus:4;mem:1024", "h1");
  auto aid2 = register_agent(a2, "cpus:2;mem:512", "h2");
  auto s1 = new_scheduler();
  auto s2 = new_scheduler();
  auto f1 = subscribe(s1);
  auto f2 = subscribe(s2);
  send_from(alloc, atom::allocate_v,
            std::vector<allocation>{{f1, aid1, "*", res("cpus:4;mem:1024")}, {f2, aid2, "*", res("cpus:1")},
                                    {f1, aid2, "*", res("mem:512")}});
  REQUIRE_EQUAL(sst(s1).offers.size(), 1u);
  REQUIRE_EQUAL(sst(s2).offers.size(), 1u);
  const auto& o1 = sst(s1).offers[0];
  REQUIRE_EQUAL(o1.size(), 2u);
  CHECK_EQUAL(o1[0].agent, aid1);
  CHECK_EQUAL(o1[0].hostname, "h1");
  CHECK_EQUAL(o1[0].framework, f1);
  CHECK_EQUAL(o1[0].resources, res("cpus:4;mem:1024"));
  CHECK_EQUAL(o1[1].agent, aid2);
  CHECK_NOT_EQUAL(o1[0].id, o1[1].id);
  REQUIRE_EQUAL(sst(s2).offers[0].size(), 1u);
  CHECK_EQUAL(sst(s2).offers[0][0].resources, res("cpus:1"));
  auto st = state();
  CHECK_EQUAL(st.outstanding_offers, 3u);
  auto fw1 = std::find_if(st.frameworks.begin(), st.frameworks.end(), [&](const auto& f) { return f.id == f1; });
  REQUIRE(fw1 != st.frameworks.end());
  CHECK_EQUAL(fw1->offered, res("cpus:4;mem:1536"));
}

TEST(allocate from anyone but the allocator is ignored) {
  auto aid = register_agent(new_agent());
  auto s = new_scheduler();
  auto fid = subscribe(s);
  send_from(s, atom::allocate_v, std::vector<allocation>{{fid, aid, "*", res("cpus:4")}});
  CHECK(sst(s).offers.empty());
  CHECK_EQUAL(state().outstanding_offers, 0u);
}

TEST(accept launch runs the task on the agent and recovers the rest) {
  auto a = new_agent();
  auto aid = register_agent(a);
  auto s = new_scheduler();
  auto fid = subscribe(s, "alpha");
  auto o = offer_to(s, fid, aid, "cpus:4;mem:1024");
  accept(s, fid, {o.id}, {task("t1", aid, "cpus:1;mem:128")}, 7);
  REQUIRE_EQUAL(ast(a).runs.size(), 1u);
  CHECK_EQUAL(ast(a).runs[0].first.id, fid);
  CHECK_EQUAL(ast(a).runs[0].first.name, "alpha");
  CHECK_EQUAL(ast(a).runs[0].second.id, task_id{"t1"});
  REQUIRE_EQUAL(alst().recovered.size(), 1u);
  CHECK_EQUAL(std::get<0>(alst().recovered[0]), fid);
  CHECK_EQUAL(std::get<1>(alst().recovered[0]), aid);
  CHECK_EQUAL(std::get<2>(alst().recovered[0]), res("cpus:3;mem:896"));
  CHECK_EQUAL(std::get<3>(alst().recovered[0]), 7.0);
  CHECK(sst(s).updates.empty());
  CHECK(sst(s).errors.empty());
  auto st = state();
  CHECK_EQUAL(st.outstanding_offers, 0u);
  auto t = find_task(st, "t1");
  REQUIRE(t != nullptr);
  CHECK(t->state == task_state::staging);
  REQUIRE_EQUAL(st.frameworks.size(), 1u);
  CHECK_EQUAL(st.frameworks[0].used, res("cpus:1;mem:128"));
  CHECK_EQUAL(st.frameworks[0].dominant_share, 0.25);
  CHECK_EQUAL(st.agents[0].used, res("cpus:1;mem:128"));
  // The offer is used up: a second accept of it drops the task.
  accept(s, fid, {o.id}, {task("t2", aid, "cpus:1")});
  CHECK_EQUAL(ast(a).runs.size(), 1u);
  REQUIRE_EQUAL(sst(s).updates.size(), 1u);
  CHECK(sst(s).updates[0].state == task_state::dropped);
}

TEST(invalid tasks get TASK_ERROR and never reach the agent) {
  auto a = new_agent();
  auto aid = register_agent(a);
  auto s = new_scheduler();
  auto fid = subscribe(s);
  auto o = offer_to(s, fid, aid, "cpus:4;mem:1024");
  auto no_cmd = task("t2", aid, "cpus:1");
  no_cmd.command = caf::none;
  accept(s, fid, {o.id}, {task("../t1", aid, "cpus:1"), no_cmd, task("t3", aid, "cpus:99")}, 0);
  CHECK(ast(a).runs.empty());
  REQUIRE_EQUAL(sst(s).updates.size(), 3u);
  for (const auto& u : sst(s).updates) {
    CHECK(u.state == task_state::error);
    CHECK(u.source == status_source::master);
    CHECK(u.uuid.empty());
    CHECK(!u.message.empty());
  }
  CHECK(sst(s).updates[2].reason == task_reason::invalid_resources);
  // The offer was used: everything goes back.
  REQUIRE_EQUAL(alst().recovered.size(), 1u);
  CHECK_EQUAL(std::get<2>(alst().recovered[0]), res("cpus:4;mem:1024"));
}

TEST(invalid offers drop the tasks and change nothing) {
  auto a = new_agent();
  auto aid = register_agent(a);
  auto s = new_scheduler();
  auto fid = subscribe(s);
  auto o = offer_to(s, fid, aid, "cpus:4;mem:1024");
  accept(s, fid, {o.id, offer_id{"bogus"}}, {task("t1", aid, "cpus:1")});
  CHECK(ast(a).runs.empty());
  REQUIRE_EQUAL(sst(s).updates.size(), 1u);
  CHECK(sst(s).updates[0].state == task_state::dropped);
  CHECK(sst(s).updates[0].reason == task_reason::invalid_offers);
  CHECK_EQUAL(sst(s).errors.size(), 1u);
  CHECK(alst().recovered.empty());
  CHECK_EQUAL(state().outstanding_offers, 1u);
  // The good offer still works.
  accept(s, fid, {o.id}, {task("t1", aid, "cpus:1")});
  CHECK_EQUAL(ast(a).runs.size(), 1u);
}

TEST(a framework cannot use another framework offer) {
  auto a = new_agent();
  auto aid = register_agent(a);
  auto s1 = new_scheduler();
  auto s2 = new_scheduler();
  auto f1 = subscribe(s1);
  auto f2 = subscribe(s2);
  auto o = offer_to(s1, f1, aid, "cpus:4;mem:1024");
  // With its own ID: the offer is not its own.
  accept(s2, f2, {o.id}, {task("evil", aid, "cpus:1")});
  CHECK(ast(a).runs.empty());
  REQUIRE_EQUAL(sst(s2).updates.size(), 1u);
  CHECK(sst(s2).updates[0].state == task_state::dropped);
  // Impersonating the owner: refused before anything is looked at.
  accept(s2, f1, {o.id}, {task("evil", aid, "cpus:1")});
  send_from(s2, atom::decline_v, f1, std::vector<offer_id>{o.id}, filters{});
  send_from(s2, atom::teardown_v, f1);
  CHECK(ast(a).runs.empty());
  CHECK_GREATER_OR_EQUAL(sst(s2).errors.size(), 3u);
  CHECK(sst(s1).updates.empty());
  CHECK(sst(s1).errors.empty());
  CHECK(alst().recovered.empty());
  CHECK(alst().removed_fws.empty());
  auto st = state();
  CHECK_EQUAL(st.outstanding_offers, 1u);
  CHECK_EQUAL(st.frameworks.size(), 2u);
  // The owner still can.
  accept(s1, f1, {o.id}, {task("good", aid, "cpus:1")});
  REQUIRE_EQUAL(ast(a).runs.size(), 1u);
  CHECK_EQUAL(ast(a).runs[0].second.id, task_id{"good"});
}

TEST(calls from unknown senders or with unknown ids are refused) {
  auto s = new_scheduler();
  auto stranger = new_scheduler();
  auto fid = subscribe(s);
  send_from(stranger, atom::revive_v, fid);
  send_from(s, atom::revive_v, framework_id{"nope"});
  CHECK(alst().revived.empty());
  CHECK_EQUAL(sst(stranger).errors.size(), 1u);
  REQUIRE_EQUAL(sst(s).errors.size(), 1u);
  CHECK_NOT_EQUAL(sst(s).errors[0].find("unknown framework"), std::string::npos);
  send_from(s, atom::revive_v, fid);
  send_from(s, atom::suppress_v, fid);
  CHECK_EQUAL(alst().revived.size(), 1u);
  CHECK_EQUAL(alst().suppressed.size(), 1u);
}

TEST(decline recovers with the filter and validates refuse seconds) {
  auto aid = register_agent(new_agent());
  auto s = new_scheduler();
  auto fid = subscribe(s);
  auto o = offer_to(s, fid, aid, "cpus:4;mem:1024");
  send_from(s, atom::decline_v, fid, std::vector<offer_id>{o.id}, filters{std::nan("")});
  send_from(s, atom::decline_v, fid, std::vector<offer_id>{o.id}, filters{-3});
  CHECK_EQUAL(sst(s).errors.size(), 2u);
  CHECK(alst().recovered.empty());
  send_from(s, atom::decline_v, fid, std::vector<offer_id>{o.id}, filters{1e12});
  REQUIRE_EQUAL(alst().recovered.size(), 1u);
  CHECK_EQUAL(std::get<2>(alst().recovered[0]), res("cpus:4;mem:1024"));
  CHECK_EQUAL(std::get<3>(alst().recovered[0]), max_refuse_seconds);
  CHECK_EQUAL(state().outstanding_offers, 0u);
  // Declining again: a clear error, nothing recovered twice.
  send_from(s, atom::decline_v, fid, std::vector<offer_id>{o.id}, filters{});
  CHECK_EQUAL(alst().recovered.size(), 1u);
  CHECK_EQUAL(sst(s).errors.size(), 3u);
}

TEST(status updates go to the scheduler and acks back to the agent) {
  auto a = new_agent();
  auto aid = register_agent(a);
  auto s = new_scheduler();
  auto fid = subscribe(s);
  auto o = offer_to(s, fid, aid, "cpus:4;mem:1024");
  accept(s, fid, {o.id}, {task("t1", aid, "cpus:1")});
  send_from(a, atom::update_v, update(fid, task_id{"t1"}, task_state::running, "u-1"));
  REQUIRE_EQUAL(sst(s).updates.size(), 1u);
  CHECK(sst(s).updates[0].state == task_state::running);
  CHECK_EQUAL(sst(s).updates[0].uuid, "u-1");
  CHECK_EQUAL(sst(s).updates[0].agent, aid);
  CHECK(find_task(state(), "t1")->state == task_state::running);
  send_from(s, atom::ack_v, fid, aid, task_id{"t1"}, std::string{"u-1"});
  REQUIRE_EQUAL(ast(a).acks.size(), 1u);
  CHECK_EQUAL(ast(a).acks[0], std::make_tuple(fid, task_id{"t1"}, std::string{"u-1"}));
  // An update from an actor that is not a registered agent is ignored.
  auto impostor = new_agent();
  send_from(impostor, atom::update_v, update(fid, task_id{"t1"}, task_state::failed, "u-2"));
  CHECK_EQUAL(sst(s).updates.size(), 1u);
  CHECK(find_task(state(), "t1")->state == task_state::running);
  // A registered agent cannot update another agent's task.
  auto b = new_agent();
  register_agent(b);
  send_from(b, atom::update_v, update(fid, task_id{"t1"}, task_state::failed, "u-3"));
  CHECK_EQUAL(sst(s).updates.size(), 1u);
  CHECK(alst().recovered.size() == 1u);  // only the accept's remainder
}

TEST(a terminal update recovers the resources at once and keeps the task as completed) {
  auto a = new_agent();
  auto aid = register_agent(a);
  auto s = new_scheduler();
  auto fid = subscribe(s);
  auto o = offer_to(s, fid, aid, "cpus:4;mem:1024");
  accept(s, fid, {o.id}, {task("t1", aid, "cpus:1;mem:100")});
  alst().recovered.clear();
  send_from(a, atom::update_v, update(fid, task_id{"t1"}, task_state::finished, "u-1"));
  REQUIRE_EQUAL(alst().recovered.size(), 1u);
  CHECK_EQUAL(std::get<2>(alst().recovered[0]), res("cpus:1;mem:100"));
  CHECK_EQUAL(std::get<3>(alst().recovered[0]), 0.0);
  auto st = state();
  CHECK(st.frameworks[0].used.empty());
  CHECK(st.agents[0].used.empty());
  REQUIRE(find_task(st, "t1") != nullptr);
  CHECK(find_task(st, "t1")->state == task_state::finished);
  // The agent resends the unacknowledged update: forwarded again, not recovered twice.
  send_from(a, atom::update_v, update(fid, task_id{"t1"}, task_state::finished, "u-1"));
  CHECK_EQUAL(sst(s).updates.size(), 2u);
  CHECK_EQUAL(alst().recovered.size(), 1u);
  // The ID is free again.
  auto o2 = offer_to(s, fid, aid, "cpus:3");
  accept(s, fid, {o2.id}, {task("t1", aid, "cpus:1")});
  CHECK_EQUAL(ast(a).runs.size(), 2u);
}

TEST(kill goes to the agent and an unknown task is reported lost) {
  auto a = new_agent();
  auto aid = register_agent(a);
  auto s = new_scheduler();
  auto fid = subscribe(s);
  auto o = offer_to(s, fid, aid, "cpus:4;mem:1024");
  accept(s, fid, {o.id}, {task("t1", aid, "cpus:1")});
  send_from(s, atom::kill_v, fid, task_id{"t1"}, agent_id{});
  REQUIRE_EQUAL(ast(a).kills.size(), 1u);
  CHECK_EQUAL(ast(a).kills[0], std::make_pair(fid, task_id{"t1"}));
  send_from(s, atom::kill_v, fid, task_id{"ghost"}, agent_id{});
  CHECK_EQUAL(ast(a).kills.size(), 1u);
  REQUIRE_EQUAL(sst(s).updates.size(), 1u);
  CHECK(sst(s).updates[0].state == task_state::lost);
  CHECK_EQUAL(sst(s).updates[0].task, task_id{"ghost"});
}

TEST(a kill call with its own grace period reaches the agent and a bad one is refused) {
  auto a = new_agent();
  auto aid = register_agent(a);
  auto s = new_scheduler();
  auto fid = subscribe(s);
  auto o = offer_to(s, fid, aid, "cpus:4;mem:1024");
  accept(s, fid, {o.id}, {task("t1", aid, "cpus:1")});
  send_from(s, atom::kill_v, fid, task_id{"t1"}, agent_id{}, kill_policy{7.5});
  REQUIRE_EQUAL(ast(a).kill_graces.size(), 1u);
  CHECK_EQUAL(ast(a).kill_graces[0], 7.5);
  send_from(s, atom::kill_v, fid, task_id{"t1"}, agent_id{}, kill_policy{-1});
  send_from(s, atom::kill_v, fid, task_id{"t1"}, agent_id{}, kill_policy{std::nan("")});
  CHECK_EQUAL(ast(a).kill_graces.size(), 1u);
  CHECK_EQUAL(ast(a).kills.size(), 1u);
  REQUIRE_EQUAL(sst(s).errors.size(), 2u);
  CHECK(sst(s).errors[0].find("grace period") != std::string::npos);
}

TEST(a task whose uri health check or kill policy is invalid ends TASK_ERROR and nothing launches) {
  auto a = new_agent();
  auto aid = register_agent(a);
  auto s = new_scheduler();
  auto fid = subscribe(s);
  auto o = offer_to(s, fid, aid, "cpus:4;mem:1024;ports:[31000-31010]");
  auto bad_uri = task("u", aid, "cpus:1");
  bad_uri.command->uris.push_back(command_uri{"http://h/x.tgz", false, true, false, "../../x"});
  auto bad_port = task("p", aid, "cpus:1;ports:[31000-31000]");
  bad_port.health_check = health_check{};
  bad_port.health_check->type = health_check::kind::tcp;
  bad_port.health_check->port = 31005;
  auto bad_grace = task("g", aid, "cpus:1");
  bad_grace.kill_policy = kill_policy{-3};
  auto good = task("ok", aid, "cpus:1;ports:[31001-31001]");
  good.health_check = health_check{};
  good.health_check->type = health_check::kind::tcp;
  good.health_check->port = 31001;
  good.labels = {{"tier", "web"}};
  accept(s, fid, {o.id}, {bad_uri, bad_port, bad_grace, good});
  std::map<std::string, task_status> by_id;
  for (auto& u : sst(s).updates)
    by_id[u.task.value] = u;
  for (auto id : {"u", "p", "g"}) {
    REQUIRE_EQUAL(by_id.count(id), 1u);
    CHECK(by_id[id].state == task_state::error);
  }
  CHECK(by_id["u"].message.find("inside the sandbox") != std::string::npos);
  CHECK(by_id["p"].message.find("not one of the task's ports") != std::string::npos);
  CHECK(by_id["g"].message.find("grace period") != std::string::npos);
  CHECK_EQUAL(by_id.count("ok"), 0u);
  REQUIRE_EQUAL(ast(a).runs.size(), 1u);
  CHECK_EQUAL(ast(a).runs[0].second.id, task_id{"ok"});
  CHECK_EQUAL(ast(a).runs[0].second.labels.size(), 1u);
}

TEST(update_framework changes roles in the allocator and rescinds offers of roles left) {
  auto a = new_agent();
  auto aid = register_agent(a);
  auto s = new_scheduler();
  auto fid = subscribe(s, "fw", {"web", "batch"});
  auto o = offer_to(s, fid, aid, "cpus:1;mem:64", "batch");
  framework_info fi;
  fi.id = fid;
  fi.name = "fw renamed";
  fi.roles = {"web", "analytics"};
  fi.labels = {{"team", "data"}};
  send_from(s, atom::update_fw_v, fi);
  CHECK(sst(s).errors.empty());
  REQUIRE_EQUAL(alst().updated_fws.size(), 1u);
  CHECK_EQUAL(alst().updated_fws[0].first, fid);
  CHECK_EQUAL(alst().updated_fws[0].second.roles, (std::vector<std::string>{"web", "analytics"}));
  REQUIRE_EQUAL(sst(s).rescinded.size(), 1u);
  CHECK_EQUAL(sst(s).rescinded[0], o.id);
  // What may not change, another sender, and bad roles: refused, nothing changes.
  auto other = new_scheduler();
  send_from(other, atom::update_fw_v, fi);
  CHECK_EQUAL(sst(other).errors.size(), 1u);
  auto bad = fi;
  bad.user = "root-please";
  send_from(s, atom::update_fw_v, bad);
  bad = fi;
  bad.roles = {"a", "a"};
  send_from(s, atom::update_fw_v, bad);
  bad = fi;
  bad.failover_timeout = std::nan("");
  send_from(s, atom::update_fw_v, bad);
  CHECK_EQUAL(sst(s).errors.size(), 3u);
  CHECK_EQUAL(alst().updated_fws.size(), 1u);
}

TEST(framework and executor messages are relayed) {
  auto a = new_agent();
  auto aid = register_agent(a);
  auto s = new_scheduler();
  auto fid = subscribe(s);
  send_from(s, atom::fw_msg_v, fid, aid, executor_id{"e1"}, std::string{"hello"});
  REQUIRE_EQUAL(ast(a).messages.size(), 1u);
  CHECK_EQUAL(ast(a).messages[0], std::make_tuple(fid, executor_id{"e1"}, std::string{"hello"}));
  send_from(a, atom::exec_msg_v, fid, aid, executor_id{"e1"}, std::string{"hi back"});
  REQUIRE_EQUAL(sst(s).messages.size(), 1u);
  CHECK_EQUAL(sst(s).messages[0], std::make_tuple(aid, executor_id{"e1"}, std::string{"hi back"}));
  send_from(a, atom::exec_lost_v, fid, aid, executor_id{"e1"}, int32_t{9});
  REQUIRE_EQUAL(sst(s).lost_executors.size(), 1u);
  // To an unknown agent: an error.
  send_from(s, atom::fw_msg_v, fid, agent_id{"nope"}, executor_id{"e1"}, std::string{"x"});
  CHECK_EQUAL(sst(s).errors.size(), 1u);
}

namespace {

struct listener_state {
  std::vector<operator_event> events;
};

operator_listener_actor::behavior_type operator_listener(operator_listener_actor::stateful_pointer<listener_state> self) {
  return {[=](atom::op_event, const operator_event& e) { self->state.events.push_back(e); }};
}

} // namespace

TEST(operators following the master see frameworks agents and tasks change in order) {
  auto listener = sys.spawn(operator_listener);
  bool counted = false;
  // Asked from this test's own actor (this process): counted.
  auto watch = self->request(master, caf::infinite, atom::watch_v, listener);
  sched.run();
  watch.receive([&](bool ok) { counted = ok; }, [](const caf::error& err) { CAF_FAIL(err); });
  CHECK(counted);
  auto& seen = deref<caf::stateful_actor<listener_state, operator_listener_actor::base>>(listener).state.events;
  auto a = new_agent();
  auto aid = register_agent(a);
  auto s = new_scheduler();
  auto fid = subscribe(s);
  auto o = offer_to(s, fid, aid, "cpus:4;mem:1024");
  accept(s, fid, {o.id}, {task("t1", aid, "cpus:1")});
  send_from(a, atom::update_v, update(fid, task_id{"t1"}, task_state::running, "u-1"));
  send_from(a, atom::update_v, update(fid, task_id{"t1"}, task_state::finished, "u-2"));
  send_from(s, atom::teardown_v, fid);
  std::vector<std::string> kinds;
  for (const auto& e : seen) {
    switch (e.type) {
      case operator_event_type::agent_added:
        kinds.push_back("agent_added " + e.agent->info.id.value);
        break;
      case operator_event_type::framework_added:
        kinds.push_back("framework_added " + e.fw.info.id.value);
        break;
      case operator_event_type::task_added:
        kinds.push_back("task_added " + e.task->id.value + " " + to_string(e.task->state));
        break;
      case operator_event_type::task_updated:
        kinds.push_back("task_updated " + e.status.task.value + " " + to_string(e.state));
        break;
      case operator_event_type::framework_removed:
        kinds.push_back("framework_removed " + e.fw.info.id.value);
        break;
      default:
        kinds.push_back("other");
    }
  }
  std::vector<std::string> expected{"agent_added " + aid.value, "framework_added " + fid.value,
                                    "task_added t1 TASK_STAGING", "task_updated t1 TASK_RUNNING",
                                    "task_updated t1 TASK_FINISHED", "framework_removed " + fid.value};
  CHECK_EQUAL(kinds, expected);
  // A listener that ends is forgotten; the master goes on.
  caf::anon_send_exit(listener, caf::exit_reason::user_shutdown);
  sched.run();
  auto b = new_agent();
  register_agent(b);
  CHECK(state().agents.size() >= 2u);
}

TEST(a framework shuts down one of its executors through the master) {
  auto a = new_agent();
  auto aid = register_agent(a);
  auto s = new_scheduler();
  auto fid = subscribe(s);
  send_from(s, atom::shutdown_v, fid, executor_id{"e1"}, aid);
  REQUIRE_EQUAL(ast(a).exec_shutdowns.size(), 1u);
  CHECK_EQUAL(ast(a).exec_shutdowns[0], std::make_pair(fid, executor_id{"e1"}));
  // Another framework's scheduler, or an unknown agent: refused, nothing reaches the agent.
  auto other = new_scheduler();
  subscribe(other);
  send_from(other, atom::shutdown_v, fid, executor_id{"e1"}, aid);
  send_from(s, atom::shutdown_v, fid, executor_id{"e1"}, agent_id{"nope"});
  CHECK_EQUAL(ast(a).exec_shutdowns.size(), 1u);
  CHECK_EQUAL(sst(s).errors.size(), 1u);
}

TEST(a lost scheduler removes its framework everywhere) {
  auto a = new_agent();
  auto aid = register_agent(a);
  auto s = new_scheduler();
  auto fid = subscribe(s);
  auto o = offer_to(s, fid, aid, "cpus:4;mem:1024");
  accept(s, fid, {o.id}, {task("t1", aid, "cpus:1")});
  auto o2 = offer_to(s, fid, aid, "cpus:3");
  alst().recovered.clear();
  caf::anon_send_exit(s, caf::exit_reason::user_shutdown);
  sched.run();
  REQUIRE_EQUAL(ast(a).shutdowns.size(), 1u);
  CHECK_EQUAL(ast(a).shutdowns[0], fid);
  REQUIRE_EQUAL(alst().removed_fws.size(), 1u);
  CHECK_EQUAL(alst().removed_fws[0], fid);
  REQUIRE_EQUAL(alst().recovered.size(), 1u);   // the outstanding offer
  CHECK_EQUAL(std::get<2>(alst().recovered[0]), o2.resources);
  auto st = state();
  CHECK(st.frameworks.empty());
  CHECK_EQUAL(st.outstanding_offers, 0u);
  CHECK(st.agents[0].used.empty());
  // The agent's retried update for the removed framework is acknowledged by the master.
  send_from(a, atom::update_v, update(fid, task_id{"t1"}, task_state::killed, "u-9"));
  REQUIRE_EQUAL(ast(a).acks.size(), 1u);
  // The removed framework cannot come back with the same ID.
  framework_info fi;
  fi.id = fid;
  auto err = request_error<framework_id>(atom::subscribe_v, fi, new_scheduler());
  CHECK_NOT_EQUAL(err.find("removed"), std::string::npos);
}

TEST(teardown by the scheduler removes the framework) {
  auto a = new_agent();
  auto aid = register_agent(a);
  auto s = new_scheduler();
  auto fid = subscribe(s);
  auto o = offer_to(s, fid, aid, "cpus:4");
  accept(s, fid, {o.id}, {task("t1", aid, "cpus:1")});
  send_from(s, atom::teardown_v, fid);
  CHECK_EQUAL(ast(a).shutdowns.size(), 1u);
  CHECK_EQUAL(alst().removed_fws.size(), 1u);
  // Later calls with the old ID get a clear error.
  send_from(s, atom::revive_v, fid);
  REQUIRE_EQUAL(sst(s).errors.size(), 1u);
  CHECK_NOT_EQUAL(sst(s).errors[0].find("removed"), std::string::npos);
}

TEST(a disconnected agent stays registered but its offers are rescinded and it is deactivated) {
  auto a = new_agent();
  auto aid = register_agent(a);
  auto other = new_agent();
  auto other_id = register_agent(other);
  auto s = new_scheduler();
  auto fid = subscribe(s);
  auto o = offer_to(s, fid, aid, "cpus:4;mem:1024");
  accept(s, fid, {o.id}, {task("t1", aid, "cpus:1")});
  auto o2 = offer_to(s, fid, aid, "cpus:3");
  auto o3 = offer_to(s, fid, other_id, "cpus:4");
  alst().recovered.clear();
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  sched.run();
  // Nothing is lost yet: the task stays, the agent stays (it may come back), only its offer goes.
  CHECK(sst(s).updates.empty());
  CHECK(sst(s).lost_agents.empty());
  REQUIRE_EQUAL(sst(s).rescinded.size(), 1u);
  CHECK_EQUAL(sst(s).rescinded[0], o2.id);
  REQUIRE_EQUAL(alst().recovered.size(), 1u);
  CHECK_EQUAL(std::get<2>(alst().recovered[0]), o2.resources);
  REQUIRE_EQUAL(alst().deactivated_agents.size(), 1u);
  CHECK_EQUAL(alst().deactivated_agents[0], aid);
  CHECK(alst().removed_agents.empty());
  auto st = state();
  REQUIRE_EQUAL(st.agents.size(), 2u);
  for (const auto& ag : st.agents)
    CHECK_EQUAL(ag.connected, ag.id != aid);
  CHECK_EQUAL(st.outstanding_offers, 1u);
  CHECK(find_task(st, "t1")->state == task_state::staging);
  // The rescinded offer cannot be used; the other agent's offer still can.
  accept(s, fid, {o2.id}, {task("t2", aid, "cpus:1")});
  CHECK(sst(s).updates.back().state == task_state::dropped);
  accept(s, fid, {o3.id}, {task("t3", other_id, "cpus:1")});
  CHECK_EQUAL(ast(other).runs.size(), 1u);
  // An allocation made before the allocator saw the deactivation is given back, not offered.
  alst().recovered.clear();
  send_from(alloc, atom::allocate_v, std::vector<allocation>{{fid, aid, "*", res("cpus:2")}});
  CHECK_EQUAL(state().outstanding_offers, 0u);
  REQUIRE_EQUAL(alst().recovered.size(), 1u);
  CHECK_EQUAL(std::get<2>(alst().recovered[0]), res("cpus:2"));
}

// -- fixes: shutdown of idle agents, executor resources, stale updates, refuse cap, agent ID takeover ---------

namespace {

task_info executor_task(const std::string& id, const agent_id& aid, const std::string& r, const std::string& eid,
                        const std::string& er) {
  auto t = fixture::task(id, aid, r);
  t.command = caf::none;
  executor_info e;
  e.id = executor_id{eid};
  e.name = "custom";
  e.command.value = "./my-executor";
  e.resources = res(er);
  t.executor = e;
  return t;
}

} // namespace

TEST(teardown shuts the framework down on agents whose tasks all ended) {
  auto a = new_agent();
  auto aid = register_agent(a);
  auto b = new_agent();
  auto bid = register_agent(b);
  auto s = new_scheduler();
  auto fid = subscribe(s);
  accept(s, fid, {offer_to(s, fid, aid, "cpus:4").id}, {task("t1", aid, "cpus:1")});
  accept(s, fid, {offer_to(s, fid, bid, "cpus:4").id}, {task("t2", bid, "cpus:1")});
  // t1 ended: agent a has no live task of the framework, but its executor may still run.
  send_from(a, atom::update_v, update(fid, task_id{"t1"}, task_state::finished, "u-1"));
  send_from(s, atom::teardown_v, fid);
  REQUIRE_EQUAL(ast(a).shutdowns.size(), 1u);
  CHECK_EQUAL(ast(a).shutdowns[0], fid);
  REQUIRE_EQUAL(ast(b).shutdowns.size(), 1u);
}

TEST(a lost scheduler shuts the framework down on agents whose tasks ended but not on agents that never ran it) {
  auto a = new_agent();
  auto aid = register_agent(a);
  auto idle = new_agent();
  register_agent(idle);
  auto s = new_scheduler();
  auto fid = subscribe(s);
  accept(s, fid, {offer_to(s, fid, aid, "cpus:4").id}, {task("t1", aid, "cpus:1")});
  send_from(a, atom::update_v, update(fid, task_id{"t1"}, task_state::failed, "u-1"));
  caf::anon_send_exit(s, caf::exit_reason::user_shutdown);
  sched.run();
  REQUIRE_EQUAL(ast(a).shutdowns.size(), 1u);
  // An agent that never ran anything of the framework is not bothered.
  CHECK(ast(idle).shutdowns.empty());
}

TEST(a new executor needs room for its own resources and counts as used) {
  auto a = new_agent();
  auto aid = register_agent(a);
  auto s = new_scheduler();
  auto fid = subscribe(s);
  auto o = offer_to(s, fid, aid, "cpus:4;mem:1024");
  accept(s, fid, {o.id},
         {executor_task("t1", aid, "cpus:1;mem:128", "e1", "cpus:1;mem:256"),
          executor_task("t2", aid, "cpus:1;mem:128", "e1", "cpus:1;mem:256")});
  REQUIRE_EQUAL(ast(a).runs.size(), 2u);
  CHECK(sst(s).updates.empty());
  REQUIRE_EQUAL(alst().recovered.size(), 1u);
  // Executor once plus two tasks.
  CHECK_EQUAL(std::get<2>(alst().recovered[0]), res("cpus:1;mem:512"));
  auto st = state();
  CHECK_EQUAL(st.agents[0].used, res("cpus:3;mem:512"));
  CHECK_EQUAL(st.frameworks[0].used, res("cpus:3;mem:512"));
  // The executor runs: the next task on it only needs its own resources.
  auto o2 = offer_to(s, fid, aid, "cpus:1;mem:128");
  accept(s, fid, {o2.id}, {executor_task("t3", aid, "cpus:1;mem:128", "e1", "cpus:1;mem:256")});
  CHECK_EQUAL(ast(a).runs.size(), 3u);
  CHECK(sst(s).updates.empty());
  // A new executor that does not fit with its task: TASK_ERROR, everything goes back.
  auto o3 = offer_to(s, fid, aid, "cpus:1;mem:256");
  alst().recovered.clear();
  accept(s, fid, {o3.id}, {executor_task("t4", aid, "cpus:1;mem:128", "e2", "cpus:0.5")});
  CHECK_EQUAL(ast(a).runs.size(), 3u);
  REQUIRE_EQUAL(sst(s).updates.size(), 1u);
  CHECK(sst(s).updates[0].state == task_state::error);
  CHECK(sst(s).updates[0].reason == task_reason::invalid_resources);
  REQUIRE_EQUAL(alst().recovered.size(), 1u);
  CHECK_EQUAL(std::get<2>(alst().recovered[0]), res("cpus:1;mem:256"));
}

TEST(a task with a running executor ID but a different executor info gets TASK_ERROR) {
  auto a = new_agent();
  auto aid = register_agent(a);
  auto s = new_scheduler();
  auto fid = subscribe(s);
  accept(s, fid, {offer_to(s, fid, aid, "cpus:4;mem:1024").id},
         {executor_task("t1", aid, "cpus:1", "e1", "cpus:1")});
  REQUIRE_EQUAL(ast(a).runs.size(), 1u);
  auto other = executor_task("t2", aid, "cpus:1", "e1", "cpus:1");
  other.executor->command.value = "./another-executor";
  accept(s, fid, {offer_to(s, fid, aid, "cpus:2").id}, {other});
  CHECK_EQUAL(ast(a).runs.size(), 1u);
  REQUIRE_EQUAL(sst(s).updates.size(), 1u);
  CHECK(sst(s).updates[0].state == task_state::error);
  CHECK_NOT_EQUAL(sst(s).updates[0].message.find("different executor"), std::string::npos);
}

TEST(a task group reaches the agent in one message and a bad one changes nothing) {
  auto a = new_agent();
  auto aid = register_agent(a);
  auto s = new_scheduler();
  auto fid = subscribe(s);
  executor_info pod;
  pod.id = executor_id{"pod"};
  pod.type = executor_type::default_executor;
  pod.resources = res("cpus:0.5;mem:32");
  offer_operation op;
  op.type = operation_type::launch_group;
  op.executor = pod;
  op.tasks = {task("web", aid, "cpus:1;mem:128"), task("sidecar", aid, "cpus:1;mem:64")};
  auto o = offer_to(s, fid, aid, "cpus:4;mem:1024");
  alst().recovered.clear();
  send_from(s, atom::accept_v, fid, std::vector<offer_id>{o.id}, std::vector<offer_operation>{op}, filters{5});
  CHECK(ast(a).runs.empty());
  REQUIRE_EQUAL(ast(a).groups.size(), 1u);
  const auto& [exec, group] = ast(a).groups[0];
  CHECK_EQUAL(exec.id, executor_id{"pod"});
  CHECK_EQUAL(exec.framework, fid);
  REQUIRE_EQUAL(group.tasks.size(), 2u);
  CHECK_EQUAL(group.tasks[1].id, task_id{"sidecar"});
  CHECK_EQUAL(group.tasks[1].executor->id, executor_id{"pod"});
  CHECK(sst(s).updates.empty());
  REQUIRE_EQUAL(alst().recovered.size(), 1u);
  CHECK_EQUAL(std::get<2>(alst().recovered[0]), res("cpus:1.5;mem:800"));
  auto st = state();
  CHECK_EQUAL(st.frameworks[0].used, res("cpus:2.5;mem:224"));
  // Duplicate task IDs: every task of the group gets TASK_ERROR, nothing reaches the agent, all goes back.
  auto o2 = offer_to(s, fid, aid, "cpus:1.5;mem:800");
  op.tasks = {task("x", aid, "cpus:0.5"), task("x", aid, "cpus:0.5")};
  alst().recovered.clear();
  send_from(s, atom::accept_v, fid, std::vector<offer_id>{o2.id}, std::vector<offer_operation>{op}, filters{5});
  CHECK_EQUAL(ast(a).groups.size(), 1u);
  REQUIRE_EQUAL(sst(s).updates.size(), 2u);
  for (const auto& u : sst(s).updates) {
    CHECK(u.state == task_state::error);
    CHECK(u.reason == task_reason::task_group_invalid);
    CHECK_NOT_EQUAL(u.message.find("appears twice in the task group"), std::string::npos);
  }
  REQUIRE_EQUAL(alst().recovered.size(), 1u);
  CHECK_EQUAL(std::get<2>(alst().recovered[0]), res("cpus:1.5;mem:800"));
  auto after = state();
  CHECK_EQUAL(after.frameworks[0].used, res("cpus:2.5;mem:224"));
}

TEST(a lost executor returns its resources exactly once) {
  auto a = new_agent();
  auto aid = register_agent(a);
  auto s = new_scheduler();
  auto fid = subscribe(s);
  accept(s, fid, {offer_to(s, fid, aid, "cpus:4;mem:1024").id},
         {executor_task("t1", aid, "cpus:1;mem:100", "e1", "cpus:0.5;mem:64")});
  send_from(a, atom::update_v, update(fid, task_id{"t1"}, task_state::finished, "u-1"));
  alst().recovered.clear();
  auto before = state();
  CHECK_EQUAL(before.agents[0].used, res("cpus:0.5;mem:64"));
  send_from(a, atom::exec_lost_v, fid, aid, executor_id{"e1"}, int32_t{0});
  REQUIRE_EQUAL(alst().recovered.size(), 1u);
  CHECK_EQUAL(std::get<0>(alst().recovered[0]), fid);
  CHECK_EQUAL(std::get<1>(alst().recovered[0]), aid);
  CHECK_EQUAL(std::get<2>(alst().recovered[0]), res("cpus:0.5;mem:64"));
  auto after = state();
  CHECK(after.agents[0].used.empty());
  REQUIRE_EQUAL(sst(s).lost_executors.size(), 1u);
  // A repeat (or an executor the master never knew) recovers nothing.
  send_from(a, atom::exec_lost_v, fid, aid, executor_id{"e1"}, int32_t{0});
  send_from(a, atom::exec_lost_v, fid, aid, executor_id{"e9"}, int32_t{0});
  CHECK_EQUAL(alst().recovered.size(), 1u);
  // Another agent cannot make the master forget this agent's executors.
  accept(s, fid, {offer_to(s, fid, aid, "cpus:3;mem:900").id},
         {executor_task("t2", aid, "cpus:1", "e1", "cpus:0.5;mem:64")});
  alst().recovered.clear();
  auto b = new_agent();
  register_agent(b);
  send_from(b, atom::exec_lost_v, fid, agent_id{}, executor_id{"e1"}, int32_t{0});
  CHECK(alst().recovered.empty());
  CHECK_EQUAL(state().agents.size(), 2u);
}

TEST(framework removal recovers its executors once) {
  auto a = new_agent();
  auto aid = register_agent(a);
  auto s = new_scheduler();
  auto fid = subscribe(s);
  accept(s, fid, {offer_to(s, fid, aid, "cpus:4;mem:1024").id},
         {executor_task("t1", aid, "cpus:1", "e1", "cpus:0.5;mem:64")});
  alst().recovered.clear();
  send_from(s, atom::teardown_v, fid);
  REQUIRE_EQUAL(alst().recovered.size(), 1u);
  CHECK_EQUAL(std::get<2>(alst().recovered[0]), res("cpus:0.5;mem:64"));
  auto st = state();
  CHECK(st.agents[0].used.empty());
  // The agent's exec_lost after the removal recovers nothing more.
  send_from(a, atom::exec_lost_v, fid, aid, executor_id{"e1"}, int32_t{0});
  CHECK_EQUAL(alst().recovered.size(), 1u);
}

TEST(a stale update from another agent is acknowledged and leaves the live task alone) {
  auto a = new_agent();
  auto aid = register_agent(a);
  auto b = new_agent();
  register_agent(b);
  auto s = new_scheduler();
  auto fid = subscribe(s);
  accept(s, fid, {offer_to(s, fid, aid, "cpus:4").id}, {task("t1", aid, "cpus:1")});
  alst().recovered.clear();
  send_from(b, atom::update_v, update(fid, task_id{"t1"}, task_state::failed, "u-old"));
  REQUIRE_EQUAL(ast(b).acks.size(), 1u);
  CHECK_EQUAL(ast(b).acks[0], std::make_tuple(fid, task_id{"t1"}, std::string{"u-old"}));
  CHECK(ast(a).acks.empty());
  CHECK(sst(s).updates.empty());
  CHECK(alst().recovered.empty());
  CHECK(find_task(state(), "t1")->state == task_state::staging);
}

TEST(agent registration with an ID in use is refused and an unknown ID gets a fresh one) {
  auto a = new_agent();
  auto aid = register_agent(a);
  auto s = new_scheduler();
  auto fid = subscribe(s);
  accept(s, fid, {offer_to(s, fid, aid, "cpus:4").id}, {task("t1", aid, "cpus:1")});
  agent_info info;
  info.hostname = "evil";
  info.id = aid;
  info.total = res("cpus:64");
  auto err = request_error<agent_id>(atom::reg_agent_v, info, new_agent());
  CHECK_NOT_EQUAL(err.find("in use"), std::string::npos);
  CHECK(sst(s).updates.empty());
  CHECK(sst(s).lost_agents.empty());
  CHECK(alst().removed_agents.empty());
  CHECK_EQUAL(alst().added_agents.size(), 1u);
  auto st = state();
  REQUIRE_EQUAL(st.agents.size(), 1u);
  CHECK_EQUAL(st.agents[0].hostname, "host1");
  CHECK(find_task(st, "t1")->state == task_state::staging);
  // An unknown (e.g. removed) ID: a new agent with a new ID.
  info.id = agent_id{"old-agent"};
  info.hostname = "h2";
  auto fresh = ask<agent_id>(*this, atom::reg_agent_v, info, new_agent());
  CHECK(!fresh.empty());
  CHECK_NOT_EQUAL(fresh, agent_id{"old-agent"});
  CHECK_NOT_EQUAL(fresh, aid);
  CHECK_EQUAL(state().agents.size(), 2u);
}

TEST(an allocation for an agent the master does not know never becomes an offer) {
  auto s = new_scheduler();
  auto fid = subscribe(s);
  send_from(alloc, atom::allocate_v, std::vector<allocation>{{fid, agent_id{"ghost"}, "*", res("cpus:1")}});
  CHECK(sst(s).offers.empty());
  CHECK_EQUAL(state().outstanding_offers, 0u);
  CHECK(alst().recovered.empty());
}

TEST(a disconnected agent ID cannot be taken by a fresh registration) {
  auto a = new_agent();
  auto aid = register_agent(a);
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  sched.run();
  agent_info info;
  info.hostname = "host1";
  info.id = aid;
  info.total = res("cpus:4");
  auto err = request_error<agent_id>(atom::reg_agent_v, info, new_agent());
  CHECK_NOT_EQUAL(err.find("in use"), std::string::npos);
  CHECK_EQUAL(alst().added_agents.size(), 1u);
}

FIXTURE_SCOPE_END()

// -- with the real allocator ----------------------------------------------------------------------------------

namespace {

struct real_fixture : mesoscaf::test::deterministic_fixture {
  master_actor master;
  real_fixture() {
    master = spawn_master(sys, master_options{});
    sched.run();
  }
  ~real_fixture() {
    // The allocator's periodic timer must be gone before the fixture's run() (docs/CAF_PITFALLS.md §9).
    caf::anon_send_exit(master, caf::exit_reason::user_shutdown);
    sched.run();
  }
};

} // namespace

// -- the refuse cap follows the allocator's configuration ------------------------------------------------------

namespace {

master_options capped_options() {
  master_options opts;
  opts.allocator.max_refuse_seconds = 100;
  // Not the 1 s default, so the decline floor test proves the floor follows this option.
  opts.allocation_interval = std::chrono::seconds(3);
  return opts;
}

struct capped_fixture : fixture {
  capped_fixture() : fixture(capped_options()) {}
};

struct supervised_fixture : fixture {
  supervised_fixture() : fixture(supervised{}) {}
};

} // namespace

FIXTURE_SCOPE(master_supervision_tests, supervised_fixture)

TEST(a dead allocator is restarted and rebuilt from the master s state and the master keeps serving) {
  auto a = new_agent();
  auto aid = register_agent(a);
  auto s = new_scheduler();
  auto fid = subscribe(s, "fw", {"web"});
  CHECK(ask<bool>(*this, atom::set_weight_v, std::string{"web"}, 2.0)); // (rescinds offers of role web)
  auto o1 = offer_to(s, fid, aid, "cpus:1;mem:100", "web");
  accept(s, fid, {o1.id}, {task("t1", aid, "cpus:1;mem:100")});
  REQUIRE_EQUAL(ast(a).runs.size(), 1u);
  auto o2 = offer_to(s, fid, aid, "cpus:2", "web"); // outstanding across the restart
  send_from(s, atom::suppress_v, fid);
  auto first = alloc;
  kill_allocator();
  REQUIRE_EQUAL(allocs.size(), 2u);
  CHECK_NOT_EQUAL(alloc.address(), first.address());
  auto& rebuilt = alst();
  REQUIRE_EQUAL(rebuilt.weights.size(), 1u);
  CHECK_EQUAL(rebuilt.weights[0].first, "web");
  CHECK_EQUAL(rebuilt.weights[0].second, 2.0);
  REQUIRE_EQUAL(rebuilt.added_fws.size(), 1u);
  CHECK_EQUAL(rebuilt.added_fws[0].first, fid);
  CHECK(rebuilt.deactivated.empty());
  REQUIRE_EQUAL(rebuilt.suppressed.size(), 1u);
  CHECK_EQUAL(rebuilt.suppressed[0].second, std::vector<std::string>{"web"});
  // The agent with what is allocated on it: the running task and the outstanding offer.
  REQUIRE_EQUAL(rebuilt.readded_agents.size(), 1u);
  CHECK_EQUAL(std::get<0>(rebuilt.readded_agents[0]), aid);
  CHECK_EQUAL(std::get<1>(rebuilt.readded_agents[0]), res("cpus:4;mem:1024"));
  auto used = std::get<2>(rebuilt.readded_agents[0]);
  REQUIRE_EQUAL(used.size(), 1u);
  CHECK_EQUAL(used[0].framework, fid);
  CHECK_EQUAL(used[0].role, "web");
  CHECK_EQUAL(used[0].resources, res("cpus:3;mem:100"));
  CHECK(rebuilt.deactivated_agents.empty()); // offered again at once
  // The old offer is still good, and its unused part goes back to the new allocator.
  accept(s, fid, {o2.id}, {task("t2", aid, "cpus:1")});
  CHECK_EQUAL(ast(a).runs.size(), 2u);
  REQUIRE_EQUAL(rebuilt.recovered.size(), 1u);
  CHECK_EQUAL(std::get<2>(rebuilt.recovered[0]), res("cpus:1"));
  // Offers come from the new allocator now; nothing was lost.
  send_from(s, atom::revive_v, fid);
  auto o3 = offer_to(s, fid, aid, "mem:500", "web");
  CHECK_EQUAL(o3.agent, aid);
  auto snap = state();
  CHECK_EQUAL(snap.tasks.size(), 2u);
}

TEST(the master stops when its allocator keeps dying) {
  for (int i = 0; i < 5; ++i)
    kill_allocator();
  CHECK_EQUAL(allocs.size(), 6u);
  CHECK_EQUAL(state().frameworks.size(), 0u); // still serving after 5 restarts in a minute
  kill_allocator(); // the sixth within the window: the budget is spent
  CHECK_EQUAL(allocs.size(), 6u);
  CHECK_NOT_EQUAL(request_error<master_snapshot>(atom::state_v), "");
}

FIXTURE_SCOPE_END()

namespace {

} // namespace

FIXTURE_SCOPE(master_refuse_cap_tests, capped_fixture)

TEST(refuse seconds are clamped to the allocator cap) {
  auto a = new_agent();
  auto aid = register_agent(a);
  auto s = new_scheduler();
  auto fid = subscribe(s);
  auto o = offer_to(s, fid, aid, "cpus:4");
  send_from(s, atom::decline_v, fid, std::vector<offer_id>{o.id}, filters{1e6});
  REQUIRE_EQUAL(alst().recovered.size(), 1u);
  CHECK_EQUAL(std::get<3>(alst().recovered[0]), 100.0);
  auto o2 = offer_to(s, fid, aid, "cpus:4");
  accept(s, fid, {o2.id}, {task("t1", aid, "cpus:1")}, 5000);
  REQUIRE_EQUAL(alst().recovered.size(), 2u);
  CHECK_EQUAL(std::get<3>(alst().recovered[1]), 100.0);
}

TEST(a decline holds the resources back for at least one allocation interval but an accept remainder does not) {
  auto aid = register_agent(new_agent());
  auto s = new_scheduler();
  auto fid = subscribe(s);
  auto o = offer_to(s, fid, aid, "cpus:4");
  // Without this floor a framework declining with refuse_seconds=0 would be re-offered the same resources at once.
  send_from(s, atom::decline_v, fid, std::vector<offer_id>{o.id}, filters{0});
  REQUIRE_EQUAL(alst().recovered.size(), 1u);
  CHECK_EQUAL(std::get<3>(alst().recovered[0]), 3.0);  // capped_options' allocation interval
  auto o2 = offer_to(s, fid, aid, "cpus:4");
  accept(s, fid, {o2.id}, {task("t1", aid, "cpus:1")}, 0);
  REQUIRE_EQUAL(alst().recovered.size(), 2u);
  CHECK_EQUAL(std::get<3>(alst().recovered[1]), 0.0);
}

FIXTURE_SCOPE_END()

FIXTURE_SCOPE(master_real_allocator_tests, real_fixture)

TEST(with the real allocator a framework gets offers and a task launches) {
  auto a = sys.spawn(mock_agent);
  agent_info info;
  info.hostname = "h";
  info.total = res("cpus:2;mem:512");
  auto aid = ask<agent_id>(*this, atom::reg_agent_v, info, a);
  auto s = sys.spawn(mock_scheduler);
  framework_info fi;
  fi.name = "real";
  auto fid = ask<framework_id>(*this, atom::subscribe_v, fi, s);
  sched.run();
  for (int i = 0; i < 3 && deref<caf::stateful_actor<sched_state, scheduler_actor::base>>(s).state.offers.empty();
       ++i) {
    advance_time(std::chrono::seconds(1));
    sched.run();
  }
  auto& offers = deref<caf::stateful_actor<sched_state, scheduler_actor::base>>(s).state.offers;
  REQUIRE(!offers.empty());
  REQUIRE_EQUAL(offers[0].size(), 1u);
  auto o = offers[0][0];
  CHECK_EQUAL(o.agent, aid);
  CHECK_EQUAL(o.resources.scalar_value("cpus"), 2.0);
  caf::send_as(s, master, atom::accept_v, fid, std::vector<offer_id>{o.id},
               fixture::launch({fixture::task("t1", aid, "cpus:1;mem:128")}), filters{0});
  sched.run();
  auto& runs = deref<caf::stateful_actor<agent_mock_state, agent_actor::base>>(a).state.runs;
  REQUIRE_EQUAL(runs.size(), 1u);
  CHECK_EQUAL(runs[0].second.id, task_id{"t1"});
  auto st = ask<master_snapshot>(*this, atom::state_v);
  CHECK_EQUAL(st.frameworks[0].used, res("cpus:1;mem:128"));
}

TEST(with the real allocator a reservation is made and operator changes are validated) {
  auto a = sys.spawn(mock_agent);
  agent_info info;
  info.hostname = "h";
  info.total = res("cpus:2;mem:512");
  auto aid = ask<agent_id>(*this, atom::reg_agent_v, info, a);
  auto s = sys.spawn(mock_scheduler);
  framework_info fi;
  fi.name = "real";
  fi.roles = {"eng"};
  auto fid = ask<framework_id>(*this, atom::subscribe_v, fi, s);
  sched.run();
  auto& sst = deref<caf::stateful_actor<sched_state, scheduler_actor::base>>(s).state;
  for (int i = 0; i < 3 && sst.offers.empty(); ++i) {
    advance_time(std::chrono::seconds(1));
    sched.run();
  }
  REQUIRE(!sst.offers.empty());
  auto o = sst.offers[0].at(0);
  CHECK_EQUAL(o.role, "eng");
  offer_operation reserve;
  reserve.type = operation_type::reserve;
  reserve.resources = res("cpus(eng,dynamic):1");
  auto op = fixture::launch({fixture::task("t1", aid, "cpus(eng,dynamic):1;mem:128")}).front();
  caf::send_as(s, master, atom::accept_v, fid, std::vector<offer_id>{o.id},
               std::vector<offer_operation>{reserve, op}, filters{0});
  sched.run();
  CHECK(sst.errors.empty());
  auto& ast = deref<caf::stateful_actor<agent_mock_state, agent_actor::base>>(a).state;
  CHECK_EQUAL(ast.order, (std::vector<std::string>{"op:RESERVE", "run:t1"}));
  auto st = ask<master_snapshot>(*this, atom::state_v);
  REQUIRE_EQUAL(st.agents.size(), 1u);
  CHECK_EQUAL(st.agents[0].total, res("cpus:1;cpus(eng,dynamic):1;mem:512"));
  // The allocator's errors reach the operator; valid changes show up in the state's roles.
  quota_info bad;
  bad.guarantee = res("cpus:2");
  bad.limit = res("cpus:1");
  std::string err;
  auto hdl = self->request(master, caf::infinite, atom::set_quota_v, std::string{"eng"}, bad);
  sched.run();
  hdl.receive([&](bool) { CAF_FAIL("a guarantee above the limit must be refused"); },
             [&](const caf::error& e) { err = sys.render(e); });
  CHECK(!err.empty());
  MESSAGE("quota error: " << err);
  CHECK(ask<bool>(*this, atom::set_weight_v, std::string{"eng"}, 2.5));
  st = ask<master_snapshot>(*this, atom::state_v);
  auto eng = std::find_if(st.roles.begin(), st.roles.end(), [](const role_summary& r) { return r.name == "eng"; });
  REQUIRE(eng != st.roles.end());
  CHECK_EQUAL(eng->weight, 2.5);
}

FIXTURE_SCOPE_END()

// -- issue 3: roles, operations, offer timeout, operator changes ------------------------------------------------

namespace {

offer_operation conversion(operation_type type, const std::string& r) {
  offer_operation op;
  op.type = type;
  op.resources = res(r);
  return op;
}

offer_operation launch_op(std::vector<task_info> tasks) {
  offer_operation op;
  op.tasks = std::move(tasks);
  return op;
}

bool has_error(const sched_state& st, const std::string& needle) {
  for (const auto& e : st.errors)
    if (e.find(needle) != std::string::npos)
      return true;
  return false;
}

} // namespace

FIXTURE_SCOPE(master_roles_tests, fixture)

TEST(subscription with control characters in its name or ID is refused with a clear error) {
  framework_info fi;
  fi.name = "bad\nname";
  auto err = request_error<framework_id>(atom::subscribe_v, fi, new_scheduler());
  MESSAGE(err);
  CHECK_NOT_EQUAL(err.find("subscribe: framework name has a control character (0x0a)"), std::string::npos);
  fi.name = "fine";
  fi.id = framework_id{"fw\x1b"};
  err = request_error<framework_id>(atom::subscribe_v, fi, new_scheduler());
  CHECK_NOT_EQUAL(err.find("subscribe: framework ID has a control character (0x1b)"), std::string::npos);
  CHECK(alst().added_fws.empty());
  CHECK(state().frameworks.empty());
}

TEST(subscription with invalid or repeated roles is refused with a clear error) {
  framework_info fi;
  fi.name = "bad";
  fi.roles = {"eng", "../etc"};
  auto err = request_error<framework_id>(atom::subscribe_v, fi, new_scheduler());
  CHECK_NOT_EQUAL(err.find("invalid role '../etc'"), std::string::npos);
  fi.roles = {"eng", "", "ops"};
  err = request_error<framework_id>(atom::subscribe_v, fi, new_scheduler());
  CHECK_NOT_EQUAL(err.find("invalid role ''"), std::string::npos);
  fi.roles = {"eng", "eng"};
  err = request_error<framework_id>(atom::subscribe_v, fi, new_scheduler());
  CHECK_NOT_EQUAL(err.find("listed twice"), std::string::npos);
  CHECK(alst().added_fws.empty());
  CHECK(state().frameworks.empty());
  // Several valid roles, including nested ones.
  auto fid = subscribe(new_scheduler(), "multi", {"eng/prod", "ops", "*"});
  REQUIRE_EQUAL(alst().added_fws.size(), 1u);
  CHECK_EQUAL(alst().added_fws[0].first, fid);
  CHECK_EQUAL(alst().added_fws[0].second.roles, (std::vector<std::string>{"eng/prod", "ops", "*"}));
}

TEST(offers carry the allocation role and every recovery names it) {
  auto a = new_agent();
  auto aid = register_agent(a, "cpus:4;mem:1024");
  auto s = new_scheduler();
  auto fid = subscribe(s, "fw", {"eng", "ops"});
  // Declined offer: recovered in its role.
  auto o1 = offer_to(s, fid, aid, "cpus:1", "ops");
  CHECK_EQUAL(o1.role, "ops");
  send_from(s, atom::decline_v, fid, std::vector<offer_id>{o1.id}, filters{0});
  REQUIRE_EQUAL(alst().recovered.size(), 1u);
  CHECK_EQUAL(std::get<4>(alst().recovered[0]), "ops");
  // Accepted offer: the remainder and, when the task ends, its resources go back in the offer's role.
  auto o2 = offer_to(s, fid, aid, "cpus:3;mem:1024", "eng");
  CHECK_EQUAL(o2.role, "eng");
  accept(s, fid, {o2.id}, {task("t1", aid, "cpus:1;mem:100")});
  REQUIRE_EQUAL(alst().recovered.size(), 2u);
  CHECK_EQUAL(std::get<2>(alst().recovered[1]), res("cpus:2;mem:924"));
  CHECK_EQUAL(std::get<4>(alst().recovered[1]), "eng");
  send_from(a, atom::update_v, update(fid, task_id{"t1"}, task_state::finished, "u1"));
  REQUIRE_EQUAL(alst().recovered.size(), 3u);
  CHECK_EQUAL(std::get<2>(alst().recovered[2]), res("cpus:1;mem:100"));
  CHECK_EQUAL(std::get<4>(alst().recovered[2]), "eng");
  // An outstanding offer of a removed framework: recovered in its role too.
  auto o3 = offer_to(s, fid, aid, "cpus:1", "ops");
  send_from(s, atom::teardown_v, fid);
  REQUIRE_EQUAL(alst().recovered.size(), 4u);
  CHECK_EQUAL(std::get<2>(alst().recovered[3]), o3.resources);
  CHECK_EQUAL(std::get<4>(alst().recovered[3]), "ops");
}

TEST(an executor started in a role is recovered in that role) {
  auto a = new_agent();
  auto aid = register_agent(a, "cpus:4;mem:1024");
  auto s = new_scheduler();
  auto fid = subscribe(s, "fw", {"eng"});
  auto o = offer_to(s, fid, aid, "cpus:4;mem:1024", "eng");
  auto t = task("t1", aid, "cpus:1;mem:100");
  t.command = caf::none;
  executor_info e;
  e.id = executor_id{"e1"};
  e.command.value = "run-executor";
  e.resources = res("cpus:0.5;mem:64");
  t.executor = e;
  accept(s, fid, {o.id}, {t});
  REQUIRE_EQUAL(ast(a).runs.size(), 1u);
  alst().recovered.clear();
  send_from(a, atom::exec_lost_v, fid, aid, executor_id{"e1"}, int32_t{0});
  REQUIRE_EQUAL(alst().recovered.size(), 1u);
  CHECK_EQUAL(std::get<2>(alst().recovered[0]), res("cpus:0.5;mem:64"));
  CHECK_EQUAL(std::get<4>(alst().recovered[0]), "eng");
}

TEST(reserve create and a launch using the new volume are applied in order) {
  auto a = new_agent();
  auto aid = register_agent(a, "cpus:4;mem:1024;disk:1000");
  auto s = new_scheduler();
  auto fid = subscribe(s, "fw", {"eng"});
  auto o = offer_to(s, fid, aid, "cpus:4;mem:1024;disk:1000", "eng");
  auto t = task("writer", aid, "cpus(eng,dynamic):1;disk(eng,dynamic)[v1:data]:100");
  std::vector<offer_operation> ops{conversion(operation_type::reserve, "cpus(eng,dynamic):1;disk(eng,dynamic):500"),
                                   conversion(operation_type::create, "disk(eng,dynamic)[v1:data]:100"),
                                   launch_op({t})};
  send_from(s, atom::accept_v, fid, std::vector<offer_id>{o.id}, ops, filters{2});
  CHECK(sst(s).errors.empty());
  CHECK(sst(s).updates.empty());
  // The allocator: one update per conversion, in the offer's role, then the remainder.
  REQUIRE_EQUAL(alst().updates.size(), 2u);
  CHECK_EQUAL(std::get<0>(alst().updates[0]), fid);
  CHECK_EQUAL(std::get<1>(alst().updates[0]), aid);
  CHECK_EQUAL(std::get<2>(alst().updates[0]), "eng");
  CHECK_EQUAL(std::get<3>(alst().updates[0]), res("cpus:1;disk:500"));
  CHECK_EQUAL(std::get<4>(alst().updates[0]), res("cpus(eng,dynamic):1;disk(eng,dynamic):500"));
  CHECK_EQUAL(std::get<3>(alst().updates[1]), res("disk(eng,dynamic):100"));
  CHECK_EQUAL(std::get<4>(alst().updates[1]), res("disk(eng,dynamic)[v1:data]:100"));
  REQUIRE_EQUAL(alst().recovered.size(), 1u);
  CHECK_EQUAL(std::get<2>(alst().recovered[0]), res("cpus:3;mem:1024;disk:500;disk(eng,dynamic):400"));
  CHECK_EQUAL(std::get<3>(alst().recovered[0]), 2.0);
  CHECK_EQUAL(std::get<4>(alst().recovered[0]), "eng");
  // The agent: both operations, then the task.
  CHECK_EQUAL(ast(a).order, (std::vector<std::string>{"op:RESERVE", "op:CREATE", "run:writer"}));
  REQUIRE_EQUAL(ast(a).ops.size(), 2u);
  CHECK_EQUAL(ast(a).ops[1].first, fid);
  CHECK_EQUAL(ast(a).ops[1].second.resources, res("disk(eng,dynamic)[v1:data]:100"));
  // The master's view of the agent: same quantities, new shape.
  auto st = state();
  REQUIRE_EQUAL(st.agents.size(), 1u);
  CHECK_EQUAL(st.agents[0].total,
              res("cpus:3;mem:1024;disk:500;cpus(eng,dynamic):1;disk(eng,dynamic):400;disk(eng,dynamic)[v1:data]:100"));
  CHECK_EQUAL(st.agents[0].used, t.resources);
  // The volume exists now: creating it again on the next offer is refused as a whole.
  alst().recovered.clear();
  auto o2 = offer_to(s, fid, aid, "disk(eng,dynamic):400", "eng");
  send_from(s, atom::accept_v, fid, std::vector<offer_id>{o2.id},
            std::vector<offer_operation>{conversion(operation_type::create, "disk(eng,dynamic)[v1:other]:10")},
            filters{0});
  CHECK(has_error(sst(s), "already exists"));
  CHECK_EQUAL(alst().updates.size(), 2u);
  CHECK_EQUAL(ast(a).ops.size(), 2u);
  REQUIRE_EQUAL(alst().recovered.size(), 1u);
  CHECK_EQUAL(std::get<2>(alst().recovered[0]), res("disk(eng,dynamic):400"));
}

TEST(a refused operation refuses the whole accept and the offers come back) {
  auto a = new_agent();
  auto aid = register_agent(a, "cpus(eng):1;cpus:3;mem:1024;disk:100");
  auto s = new_scheduler();
  auto fid = subscribe(s, "fw", {"eng", "ops"});
  struct bad_case {
    offer_operation op;
    std::string needle;
  };
  std::vector<bad_case> cases{
    {conversion(operation_type::reserve, "cpus(ops,dynamic):1"), "differs from the offer's role"},
    {conversion(operation_type::unreserve, "cpus(eng):1"), "statically reserved"},
    {conversion(operation_type::destroy, "disk:10"), "not a volume"},
    {conversion(operation_type::reserve, "cpus(eng,dynamic):10"), "not in the offer"},
    {conversion(operation_type::create, "disk(eng,dynamic)[v1:data]:10"), "not in the offer"},
  };
  for (const auto& c : cases) {
    MESSAGE("case " << operation_name(c.op.type) << " " << c.op.resources);
    sst(s).errors.clear();
    sst(s).updates.clear();
    alst().recovered.clear();
    auto o = offer_to(s, fid, aid, "cpus(eng):1;cpus:3;mem:1024;disk:100", "eng");
    // A valid LAUNCH before the bad operation: not launched either (all or nothing).
    std::vector<offer_operation> ops{launch_op({task("t-" + std::to_string(sst(s).offers.size()), aid, "cpus:1")}),
                                     c.op};
    send_from(s, atom::accept_v, fid, std::vector<offer_id>{o.id}, ops, filters{0});
    CHECK(has_error(sst(s), c.needle));
    CHECK(has_error(sst(s), "nothing was done"));
    REQUIRE_EQUAL(sst(s).updates.size(), 1u);
    CHECK(sst(s).updates[0].state == task_state::dropped);
    CHECK(ast(a).runs.empty());
    CHECK(ast(a).ops.empty());
    CHECK(alst().updates.empty());
    REQUIRE_EQUAL(alst().recovered.size(), 1u);
    CHECK_EQUAL(std::get<2>(alst().recovered[0]), o.resources);
    CHECK_EQUAL(std::get<4>(alst().recovered[0]), "eng");
    CHECK_EQUAL(state().outstanding_offers, 0u);
  }
  auto st = state();
  REQUIRE_EQUAL(st.agents.size(), 1u);
  CHECK_EQUAL(st.agents[0].total, res("cpus(eng):1;cpus:3;mem:1024;disk:100"));
}

TEST(operator reservations and volumes convert free resources and take offers back only when needed) {
  auto a = new_agent();
  auto aid = register_agent(a, "cpus:4;mem:1024;disk:1000");
  alst().free_pool[aid] = res("cpus:4;mem:1024;disk:1000");
  auto s = new_scheduler();
  auto fid = subscribe(s, "fw", {"eng"});
  // Free: applied at once, no offer touched.
  auto reserve = conversion(operation_type::reserve, "cpus(eng,dynamic):1;disk(eng,dynamic):500");
  CHECK(ask<bool>(*this, atom::apply_op_v, aid, reserve, std::string{"ops"}));
  REQUIRE_EQUAL(alst().free_updates.size(), 1u);
  CHECK_EQUAL(std::get<1>(alst().free_updates[0]), res("cpus:1;disk:500"));
  CHECK_EQUAL(std::get<2>(alst().free_updates[0]), reserve.resources);
  REQUIRE_EQUAL(ast(a).ops.size(), 1u);
  CHECK(ast(a).ops[0].first.empty());
  CHECK_EQUAL(ast(a).ops[0].second.resources, reserve.resources);
  CHECK(ask<bool>(*this, atom::apply_op_v, aid, conversion(operation_type::create, "disk(eng,dynamic)[v1:data]:100"),
                  std::string{"ops"}));
  auto now_total = state().agents[0].total;   // CHECK_EQUAL keeps references: no temporaries
  CHECK_EQUAL(now_total,
              res("cpus:3;mem:1024;disk:500;cpus(eng,dynamic):1;disk(eng,dynamic):400;disk(eng,dynamic)[v1:data]:100"));
  // Offered: only the offer holding what is missing comes back, in the allocator's step that converts.
  alst().free_pool[aid] -= res("cpus:3;mem:1024");
  auto with_cpus = offer_to(s, fid, aid, "cpus:3");
  auto with_mem = offer_to(s, fid, aid, "mem:1024");
  alst().recovered.clear();
  CHECK(ask<bool>(*this, atom::apply_op_v, aid, conversion(operation_type::reserve, "cpus(eng,dynamic):2"),
                  std::string{"ops"}));
  CHECK_EQUAL(sst(s).rescinded, std::vector<offer_id>{with_cpus.id});
  REQUIRE_EQUAL(alst().recovered.size(), 1u);   // with the conversion, not as a recover of its own
  CHECK_EQUAL(std::get<2>(alst().recovered[0]), res("cpus:3"));
  CHECK_EQUAL(alst().free_updates.size(), 3u);
  CHECK_EQUAL(ast(a).ops.size(), 3u);
  // Not free even with every offer back (a task uses it): refused before any offer is taken.
  auto t = task("user", aid, "cpus:1");
  accept(s, fid, {with_mem.id}, {});
  auto o3 = offer_to(s, fid, aid, "cpus:1");
  accept(s, fid, {o3.id}, {t});
  auto e0 = request_error<bool>(atom::apply_op_v, aid, conversion(operation_type::reserve, "cpus(eng,dynamic):1"),
                                std::string{"ops"});
  MESSAGE(e0);
  CHECK(e0.find("not free") != std::string::npos);
  CHECK_EQUAL(sst(s).rescinded.size(), 1u);
  // Refusals change nothing: in use (not free even without offers), invalid, unknown agent, a launch.
  alst().free_pool[aid] -= res("disk(eng,dynamic)[v1:data]:100");
  alst().free_pool[aid] += res("cpus:1");   // the task's cpu, as the master sees it: the allocator says no
  auto total = state().agents[0].total;
  auto e1 = request_error<bool>(atom::apply_op_v, aid, conversion(operation_type::destroy, "disk(eng,dynamic)[v1:data]:100"),
                                std::string{"ops"});
  CHECK(e1.find("not free") != std::string::npos);   // the allocator refused: our view is back as it was
  auto e2 = request_error<bool>(atom::apply_op_v, aid, conversion(operation_type::unreserve, "cpus:1"),
                                std::string{"ops"});
  CHECK(!e2.empty());
  auto e3 = request_error<bool>(atom::apply_op_v, agent_id{"nope"}, reserve, std::string{"ops"});
  CHECK(e3.find("unknown agent") != std::string::npos);
  auto e4 = request_error<bool>(atom::apply_op_v, aid, launch_op({task("t", aid, "cpus:1")}), std::string{"ops"});
  CHECK(e4.find("cannot launch") != std::string::npos);
  auto e5 = request_error<bool>(atom::apply_op_v, aid, conversion(operation_type::reserve, "cpus(eng,dynamic):50"),
                                std::string{"ops"});
  CHECK(!e5.empty());
  CHECK_EQUAL(alst().free_updates.size(), 3u);
  CHECK_EQUAL(ast(a).ops.size(), 3u);
  auto after = state().agents[0].total;
  CHECK_EQUAL(after, total);
}

TEST(offers on two roles cannot be accepted together and stay outstanding) {
  auto a = new_agent();
  auto aid = register_agent(a, "cpus:4;mem:1024");
  auto s = new_scheduler();
  auto fid = subscribe(s, "fw", {"eng", "ops"});
  auto o1 = offer_to(s, fid, aid, "cpus:2", "eng");
  auto o2 = offer_to(s, fid, aid, "cpus:2", "ops");
  accept(s, fid, {o1.id, o2.id}, {task("t1", aid, "cpus:3")});
  CHECK(has_error(sst(s), "more than one role"));
  REQUIRE_EQUAL(sst(s).updates.size(), 1u);
  CHECK(sst(s).updates[0].state == task_state::dropped);
  CHECK(ast(a).runs.empty());
  CHECK(alst().recovered.empty());
  CHECK_EQUAL(state().outstanding_offers, 2u);
}

TEST(per role suppress and revive are checked and forwarded) {
  auto s = new_scheduler();
  auto fid = subscribe(s, "fw", {"eng", "ops"});
  send_from(s, atom::suppress_v, fid, std::vector<std::string>{"eng"});
  send_from(s, atom::revive_v, fid, std::vector<std::string>{"ops", "eng"});
  REQUIRE_EQUAL(alst().suppressed.size(), 1u);
  CHECK_EQUAL(alst().suppressed[0].first, fid);
  CHECK_EQUAL(alst().suppressed[0].second, (std::vector<std::string>{"eng"}));
  REQUIRE_EQUAL(alst().revived.size(), 1u);
  CHECK_EQUAL(alst().revived[0].second, (std::vector<std::string>{"ops", "eng"}));
  // A role the framework does not have: refused, nothing forwarded.
  send_from(s, atom::suppress_v, fid, std::vector<std::string>{"eng", "dev"});
  CHECK(has_error(sst(s), "not subscribed to role 'dev'"));
  CHECK_EQUAL(alst().suppressed.size(), 1u);
  // The role-less calls mean all roles (empty list).
  send_from(s, atom::suppress_v, fid);
  send_from(s, atom::revive_v, fid);
  REQUIRE_EQUAL(alst().suppressed.size(), 2u);
  CHECK(alst().suppressed[1].second.empty());
  REQUIRE_EQUAL(alst().revived.size(), 2u);
  CHECK(alst().revived[1].second.empty());
  // Someone else's framework: refused.
  auto stranger = new_scheduler();
  send_from(stranger, atom::revive_v, fid, std::vector<std::string>{"eng"});
  CHECK_EQUAL(alst().revived.size(), 2u);
  CHECK_EQUAL(sst(stranger).errors.size(), 1u);
}

TEST(set weight rescinds the offers of the role subtree and replies errors for bad input) {
  auto a = new_agent();
  auto aid = register_agent(a, "cpus:8;mem:1024");
  auto s = new_scheduler();
  auto fid = subscribe(s, "fw", {"eng", "eng/prod", "engineering", "ops"});
  auto o_eng = offer_to(s, fid, aid, "cpus:1", "eng");
  auto o_prod = offer_to(s, fid, aid, "cpus:1", "eng/prod");
  auto o_other = offer_to(s, fid, aid, "cpus:1", "engineering");
  auto o_ops = offer_to(s, fid, aid, "cpus:1", "ops");
  // Bad input: the allocator's error comes back, nothing is rescinded.
  auto err = request_error<bool>(atom::set_weight_v, std::string{"eng"}, -1.0);
  CHECK_NOT_EQUAL(err.find("invalid weight"), std::string::npos);
  CHECK(sst(s).rescinded.empty());
  CHECK_EQUAL(state().outstanding_offers, 4u);
  CHECK(ask<bool>(*this, atom::set_weight_v, std::string{"eng"}, 2.0));
  REQUIRE_EQUAL(alst().weights.size(), 1u);
  CHECK_EQUAL(alst().weights[0], std::make_pair(std::string{"eng"}, 2.0));
  auto rescinded = sst(s).rescinded;
  std::sort(rescinded.begin(), rescinded.end());
  auto expected = std::vector<offer_id>{o_eng.id, o_prod.id};
  std::sort(expected.begin(), expected.end());
  CHECK_EQUAL(rescinded, expected);
  CHECK_EQUAL(state().outstanding_offers, 2u);
  // Recovered without a filter, each in its own role.
  REQUIRE_EQUAL(alst().recovered.size(), 2u);
  for (const auto& r : alst().recovered) {
    CHECK_EQUAL(std::get<3>(r), 0.0);
    CHECK(std::get<4>(r) == "eng" || std::get<4>(r) == "eng/prod");
  }
  // The untouched offers are still usable.
  accept(s, fid, {o_other.id, o_ops.id}, {task("t1", aid, "cpus:1")});
  CHECK(has_error(sst(s), "more than one role"));
  accept(s, fid, {o_other.id}, {task("t1", aid, "cpus:1")});
  CHECK_EQUAL(ast(a).runs.size(), 1u);
}

TEST(set quota rescinds every outstanding offer and replies errors for bad input) {
  auto aid = register_agent(new_agent(), "cpus:8;mem:1024");
  auto s1 = new_scheduler();
  auto s2 = new_scheduler();
  auto f1 = subscribe(s1, "a", {"eng"});
  auto f2 = subscribe(s2, "b", {"ops"});
  offer_to(s1, f1, aid, "cpus:1", "eng");
  offer_to(s2, f2, aid, "cpus:1", "ops");
  quota_info q;
  q.guarantee = res("cpus:2");
  auto err = request_error<bool>(atom::set_quota_v, std::string{"*"}, q);
  CHECK_NOT_EQUAL(err.find("invalid role"), std::string::npos);
  CHECK(alst().quotas.empty());
  CHECK_EQUAL(state().outstanding_offers, 2u);
  CHECK(ask<bool>(*this, atom::set_quota_v, std::string{"eng"}, q));
  REQUIRE_EQUAL(alst().quotas.size(), 1u);
  CHECK_EQUAL(alst().quotas[0].first, "eng");
  CHECK_EQUAL(alst().quotas[0].second.guarantee, res("cpus:2"));
  CHECK_EQUAL(sst(s1).rescinded.size(), 1u);
  CHECK_EQUAL(sst(s2).rescinded.size(), 1u);
  CHECK_EQUAL(state().outstanding_offers, 0u);
  REQUIRE_EQUAL(alst().recovered.size(), 2u);
  CHECK_EQUAL(std::get<3>(alst().recovered[0]), 0.0);
  CHECK_EQUAL(std::get<3>(alst().recovered[1]), 0.0);
}

TEST(the state includes the allocator roles) {
  role_summary r;
  r.name = "eng";
  r.weight = 3;
  r.allocated = res("cpus:1");
  alst().roles = {r};
  auto st = state();
  REQUIRE_EQUAL(st.roles.size(), 1u);
  CHECK_EQUAL(st.roles[0].name, "eng");
  CHECK_EQUAL(st.roles[0].weight, 3.0);
  CHECK_EQUAL(st.roles[0].allocated, res("cpus:1"));
}

FIXTURE_SCOPE_END()

// -- offer timeout and weights at start -------------------------------------------------------------------------

namespace {

master_options timeout_options() {
  master_options opts;
  opts.offer_timeout = std::chrono::seconds(10);
  opts.weights = {{"eng", 2.0}, {"ops", 0.5}};
  return opts;
}

struct timeout_fixture : fixture {
  timeout_fixture() : fixture(timeout_options()) {}
};

} // namespace

FIXTURE_SCOPE(master_offer_timeout_tests, timeout_fixture)

TEST(weights given at start reach the allocator) {
  CHECK_EQUAL(alst().weights,
              (std::vector<std::pair<std::string, double>>{{"eng", 2.0}, {"ops", 0.5}}));
}

TEST(an unanswered offer is rescinded after the offer timeout and recovered without filter) {
  auto aid = register_agent(new_agent(), "cpus:4;mem:1024");
  auto s = new_scheduler();
  auto fid = subscribe(s, "fw", {"eng"});
  auto o = offer_to(s, fid, aid, "cpus:4;mem:1024", "eng");
  advance_time(std::chrono::seconds(9));
  sched.run();
  CHECK(sst(s).rescinded.empty());
  CHECK_EQUAL(state().outstanding_offers, 1u);
  // A forged timeout from someone else changes nothing.
  send_from(s, atom::timeout_v, o.id);
  CHECK(sst(s).rescinded.empty());
  advance_time(std::chrono::seconds(2));
  sched.run();
  REQUIRE_EQUAL(sst(s).rescinded.size(), 1u);
  CHECK_EQUAL(sst(s).rescinded[0], o.id);
  CHECK_EQUAL(state().outstanding_offers, 0u);
  REQUIRE_EQUAL(alst().recovered.size(), 1u);
  CHECK_EQUAL(std::get<2>(alst().recovered[0]), o.resources);
  CHECK_EQUAL(std::get<3>(alst().recovered[0]), 0.0);
  CHECK_EQUAL(std::get<4>(alst().recovered[0]), "eng");
  // Using it afterwards is a clear error.
  accept(s, fid, {o.id}, {task("t1", aid, "cpus:1")});
  CHECK(has_error(sst(s), "no longer valid"));
}

TEST(an answered offer is not touched by its timeout) {
  auto aid = register_agent(new_agent(), "cpus:4;mem:1024");
  auto s = new_scheduler();
  auto fid = subscribe(s);
  auto o1 = offer_to(s, fid, aid, "cpus:2");
  auto o2 = offer_to(s, fid, aid, "cpus:2");
  send_from(s, atom::decline_v, fid, std::vector<offer_id>{o1.id}, filters{0});
  accept(s, fid, {o2.id}, {task("t1", aid, "cpus:1")});
  REQUIRE_EQUAL(alst().recovered.size(), 2u);
  advance_time(std::chrono::seconds(11));
  sched.run();
  CHECK(sst(s).rescinded.empty());
  CHECK_EQUAL(alst().recovered.size(), 2u);
}

FIXTURE_SCOPE_END()

// -- issue 4: agent health, re-registration, status update booking, reconciliation, framework failover ------------

namespace {

master_options health_options() {
  master_options opts;
  opts.agent_ping_timeout = std::chrono::seconds(10);
  opts.max_agent_ping_timeouts = 3;
  return opts;
}

struct health_fixture : fixture {
  health_fixture(master_options opts = health_options()) : fixture(std::move(opts)) {}
  explicit health_fixture(const options_maker& make) : fixture(make) {}

  // n health rounds (one ping timeout each).
  void rounds(int n) {
    for (int i = 0; i < n; ++i) {
      advance_time(std::chrono::seconds(10));
      sched.run();
    }
  }

  framework_id subscribe_fw(const scheduler_actor& s, bool partition_aware, double failover_timeout = 0,
                            std::string principal = "p", const framework_id& id = framework_id{}) {
    framework_info fi;
    fi.id = id;
    fi.name = partition_aware ? "pa" : "plain";
    fi.principal = std::move(principal);
    fi.failover_timeout = failover_timeout;
    if (partition_aware)
      fi.capabilities.push_back("PARTITION_AWARE");
    return ask<framework_id>(*this, atom::subscribe_v, fi, s);
  }

  // Launches task `id` of `fid` on `aid` through an offer of `r`.
  task_info launch_task(const scheduler_actor& s, const framework_id& fid, const agent_id& aid,
                        const std::string& id, const std::string& r = "cpus:1", const std::string& role = "*") {
    auto o = offer_to(s, fid, aid, r, role);
    auto t = task(id, aid, r);
    accept(s, fid, {o.id}, {t});
    t.role = role;
    return t;
  }

  static reregistered_task reported(const framework_id& fid, task_info info, task_state st) {
    reregistered_task t;
    t.framework = fid;
    t.info = std::move(info);
    t.state = st;
    return t;
  }

  static agent_reregistration rereg(const agent_id& aid, std::vector<reregistered_task> tasks,
                                    std::vector<executor_info> execs = {}, const std::string& r = "cpus:4;mem:1024",
                                    std::string host = "host1") {
    agent_reregistration x;
    x.info.id = aid;
    x.info.hostname = std::move(host);
    x.info.total = res(r);
    x.tasks = std::move(tasks);
    x.executors = std::move(execs);
    return x;
  }

  agent_id reregister(const agent_actor& a, const agent_reregistration& x) {
    return ask<agent_id>(*this, atom::rereg_agent_v, x, a);
  }

  // Silences the agent until the master marks it unreachable (3 misses: 4 rounds).
  void make_unreachable(const agent_actor& a) {
    ast(a).answer_pings = false;
    rounds(4);
  }

  const task_status* last_update(const scheduler_actor& s, const std::string& tid) {
    const auto& ups = sst(s).updates;
    for (auto i = ups.rbegin(); i != ups.rend(); ++i)
      if (i->task.value == tid)
        return &*i;
    return nullptr;
  }
};

} // namespace

FIXTURE_SCOPE(master_health_tests, health_fixture)

TEST(the launched task and its executor carry the allocation role) {
  auto a = new_agent();
  auto aid = register_agent(a);
  auto s = new_scheduler();
  auto fid = subscribe(s, "fw", {"eng"});
  auto o = offer_to(s, fid, aid, "cpus:2", "eng");
  accept(s, fid, {o.id}, {master_tests::executor_task("t1", aid, "cpus:1", "e1", "cpus:0.5")});
  REQUIRE_EQUAL(ast(a).runs.size(), 1u);
  CHECK_EQUAL(ast(a).runs[0].second.role, "eng");
  REQUIRE(ast(a).runs[0].second.executor);
  CHECK_EQUAL(ast(a).runs[0].second.executor->role, "eng");
}

TEST(answering agents are pinged every round and stay) {
  auto a = new_agent();
  auto aid = register_agent(a);
  CHECK_EQUAL(ast(a).pings, 0u);
  rounds(1);
  CHECK_EQUAL(ast(a).pings, 1u);
  rounds(9);
  CHECK_EQUAL(ast(a).pings, 10u);
  CHECK(alst().removed_agents.empty());
  CHECK_EQUAL(state().agents.size(), 1u);
  // A forged health message is ignored (no extra ping).
  send_from(new_scheduler(), atom::health_v);
  CHECK_EQUAL(ast(a).pings, 10u);
  (void) aid;
}

TEST(an agent that misses its pings becomes unreachable and its tasks unreachable or lost) {
  auto a = new_agent();
  auto aid = register_agent(a);
  auto other = new_agent();
  auto other_id = register_agent(other, "cpus:4;mem:1024", "host2");
  auto spa = new_scheduler();
  auto fpa = subscribe_fw(spa, true);
  auto snp = new_scheduler();
  auto fnp = subscribe_fw(snp, false);
  launch_task(spa, fpa, aid, "p1");
  launch_task(snp, fnp, aid, "n1");
  auto o = offer_to(snp, fnp, aid, "cpus:1");
  ast(a).answer_pings = false;
  rounds(2);   // one miss so far (the second ping is still out)
  // A reply resets the count: the second ping's miss and a reply, then nothing for a long time.
  ast(a).answer_pings = true;
  rounds(6);
  CHECK(alst().removed_agents.empty());
  make_unreachable(a);
  REQUIRE_EQUAL(alst().removed_agents.size(), 1u);
  CHECK_EQUAL(alst().removed_agents[0], aid);
  auto p1 = last_update(spa, "p1");
  REQUIRE(p1 != nullptr);
  CHECK(p1->state == task_state::unreachable);
  CHECK(p1->source == status_source::master);
  auto n1 = last_update(snp, "n1");
  REQUIRE(n1 != nullptr);
  CHECK(n1->state == task_state::lost);
  CHECK(n1->reason == task_reason::agent_removed);
  CHECK_EQUAL(sst(snp).rescinded, std::vector<offer_id>{o.id});
  CHECK_EQUAL(sst(spa).lost_agents, std::vector<agent_id>{aid});
  CHECK_EQUAL(sst(snp).lost_agents, std::vector<agent_id>{aid});
  auto st = state();
  REQUIRE_EQUAL(st.agents.size(), 1u);
  CHECK_EQUAL(st.agents[0].id, other_id);
  CHECK_EQUAL(st.unreachable_agents, 1u);
  CHECK_EQUAL(st.unreachable, std::vector<agent_id>{aid});
  CHECK(find_task(st, "p1")->state == task_state::unreachable);
  CHECK(find_task(st, "n1")->state == task_state::lost);
  // The other agent answered all along.
  CHECK_EQUAL(ast(other).pings, ast(a).pings);
  // No further pings to the unreachable agent.
  auto pings = ast(a).pings;
  rounds(2);
  CHECK_EQUAL(ast(a).pings, pings);
}

TEST(the operator marks an agent gone its tasks end and it cannot come back) {
  auto a = new_agent();
  auto aid = register_agent(a);
  auto other = new_agent();
  register_agent(other, "cpus:4;mem:1024", "host2");
  auto spa = new_scheduler();
  auto fpa = subscribe_fw(spa, true);
  auto snp = new_scheduler();
  auto fnp = subscribe_fw(snp, false);
  launch_task(spa, fpa, aid, "p1");
  auto n1 = launch_task(snp, fnp, aid, "n1");
  auto o = offer_to(snp, fnp, aid, "cpus:1");
  CHECK(ask<bool>(*this, atom::remove_agent_v, aid, std::string{"test"}));
  // Partition-aware frameworks learn the precise end, the others TASK_LOST; both with the operator as reason.
  REQUIRE(last_update(spa, "p1") != nullptr);
  CHECK(last_update(spa, "p1")->state == task_state::gone_by_operator);
  CHECK(last_update(spa, "p1")->reason == task_reason::agent_removed_by_operator);
  REQUIRE(last_update(snp, "n1") != nullptr);
  CHECK(last_update(snp, "n1")->state == task_state::lost);
  CHECK(last_update(snp, "n1")->reason == task_reason::agent_removed_by_operator);
  CHECK_EQUAL(sst(snp).rescinded, std::vector<offer_id>{o.id});
  CHECK_EQUAL(sst(spa).lost_agents, std::vector<agent_id>{aid});
  CHECK_EQUAL(alst().removed_agents, std::vector<agent_id>{aid});
  REQUIRE_EQUAL(ast(a).told_gone.size(), 1u);
  CHECK(ast(a).told_gone[0].find("removed by the operator") != std::string::npos);
  auto st = state();
  CHECK_EQUAL(st.agents.size(), 1u);
  CHECK(st.unreachable.empty());
  CHECK(find_task(st, "p1")->state == task_state::gone_by_operator);
  CHECK(find_task(st, "n1")->state == task_state::lost);
  // Marking it again is fine; an agent never seen is not.
  CHECK(ask<bool>(*this, atom::remove_agent_v, aid, std::string{"test"}));
  CHECK(!ask<bool>(*this, atom::remove_agent_v, agent_id{"never-seen"}, std::string{"test"}));
  // No pings for it any more; coming back with its ID is refused and it is told to stop again.
  auto pings = ast(a).pings;
  rounds(2);
  CHECK_EQUAL(ast(a).pings, pings);
  auto err = request_error<agent_id>(atom::rereg_agent_v, rereg(aid, {reported(fnp, n1, task_state::running)}), a);
  CHECK(err.find("gone") != std::string::npos);
  CHECK_EQUAL(ast(a).told_gone.size(), 1u);   // the test sent it, not the agent
  caf::send_as(caf::actor_cast<caf::actor>(a), master, atom::rereg_agent_v, rereg(aid, {reported(fnp, n1, task_state::running)}), a);
  sched.run();
  CHECK_EQUAL(ast(a).told_gone.size(), 2u);
  CHECK_EQUAL(state().agents.size(), 1u);
}

TEST(an unreachable agent marked gone ends its unreachable tasks and leaves the unreachable list) {
  auto a = new_agent();
  auto aid = register_agent(a);
  auto spa = new_scheduler();
  auto fpa = subscribe_fw(spa, true);
  launch_task(spa, fpa, aid, "p1");
  make_unreachable(a);
  REQUIRE(last_update(spa, "p1") != nullptr);
  REQUIRE(last_update(spa, "p1")->state == task_state::unreachable);
  auto lost_before = sst(spa).lost_agents.size();
  CHECK(ask<bool>(*this, atom::remove_agent_v, aid, std::string{"test"}));
  CHECK(last_update(spa, "p1")->state == task_state::gone_by_operator);
  // It was reported lost when it became unreachable: not again.
  CHECK_EQUAL(sst(spa).lost_agents.size(), lost_before);
  auto st = state();
  CHECK(st.unreachable.empty());
  CHECK(find_task(st, "p1")->state == task_state::gone_by_operator);
  // Its task ID is free again (an unreachable task's ID was kept for its return).
  auto b = new_agent();
  auto bid = register_agent(b, "cpus:4;mem:1024", "host2");
  launch_task(spa, fpa, bid, "p1");
  CHECK(find_task(state(), "p1")->state == task_state::staging);
}

TEST(a disconnected agent misses every round without pings and then becomes unreachable) {
  auto a = new_agent();
  auto aid = register_agent(a);
  auto s = new_scheduler();
  auto fid = subscribe_fw(s, false);
  launch_task(s, fid, aid, "t1");
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  sched.run();
  rounds(2);
  CHECK(alst().removed_agents.empty());
  CHECK(sst(s).updates.empty());
  rounds(1);
  REQUIRE_EQUAL(alst().removed_agents.size(), 1u);
  REQUIRE(last_update(s, "t1") != nullptr);
  CHECK(last_update(s, "t1")->state == task_state::lost);
}

TEST(an update from an agent the master does not have registered asks it to re-register once per round) {
  auto a = new_agent();
  auto aid = register_agent(a);
  auto s = new_scheduler();
  auto fid = subscribe_fw(s, true);
  launch_task(s, fid, aid, "t1");
  make_unreachable(a);
  send_from(a, atom::update_v, update(fid, task_id{"t1"}, task_state::running, "u1"));
  send_from(a, atom::update_v, update(fid, task_id{"t1"}, task_state::running, "u1"));
  send_from(a, atom::exec_msg_v, fid, aid, executor_id{"e"}, std::string{"x"});
  CHECK_EQUAL(ast(a).rereg_requests, 1u);
  CHECK(ast(a).acks.empty());
  CHECK(last_update(s, "t1")->state == task_state::unreachable);
  rounds(1);
  send_from(a, atom::update_v, update(fid, task_id{"t1"}, task_state::running, "u1"));
  CHECK_EQUAL(ast(a).rereg_requests, 2u);
}

TEST(a known agent re-registers with a new handle and its tasks are reconciled) {
  auto a = new_agent();
  auto aid = register_agent(a);
  auto spa = new_scheduler();
  auto fpa = subscribe_fw(spa, true);
  auto snp = new_scheduler();
  auto fnp = subscribe_fw(snp, false);
  auto t1 = launch_task(snp, fnp, aid, "t1");
  auto t2 = launch_task(snp, fnp, aid, "t2");
  auto p1 = launch_task(spa, fpa, aid, "p1");
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  sched.run();
  rounds(2);   // two misses
  auto ghost = task("g1", aid, "cpus:1");
  alst().recovered.clear();
  auto b = new_agent();
  CHECK_EQUAL(reregister(b, rereg(aid, {reported(fnp, t1, task_state::running),
                                       reported(fnp, ghost, task_state::running),
                                       reported(framework_id{"never"}, ghost, task_state::running)})),
              aid);
  // Reported state adopted; t2 and p1 unknown to the agent: LOST / GONE (partition-aware).
  auto st = state();
  CHECK(find_task(st, "t1")->state == task_state::running);
  REQUIRE(last_update(snp, "t2") != nullptr);
  CHECK(last_update(snp, "t2")->state == task_state::lost);
  CHECK(last_update(snp, "t2")->reason == task_reason::agent_restarted);
  REQUIRE(last_update(spa, "p1") != nullptr);
  CHECK(last_update(spa, "p1")->state == task_state::gone);
  CHECK(last_update(snp, "t1") == nullptr);
  CHECK_EQUAL(alst().recovered.size(), 2u);
  // The task the master does not know is killed; the unknown framework shut down.
  CHECK_EQUAL(ast(b).kills, (std::vector<std::pair<framework_id, task_id>>{{fnp, task_id{"g1"}}}));
  CHECK_EQUAL(ast(b).shutdowns, std::vector<framework_id>{framework_id{"never"}});
  CHECK_EQUAL(alst().activated_agents, std::vector<agent_id>{aid});
  REQUIRE_EQUAL(st.agents.size(), 1u);
  CHECK(st.agents[0].connected);
  // Misses were reset: two more silent rounds do not make it unreachable, and the new handle is pinged.
  ast(b).answer_pings = false;
  rounds(3);
  CHECK(alst().removed_agents.empty());
  CHECK_EQUAL(ast(b).pings, 3u);
  // Updates from the new handle are taken.
  send_from(b, atom::update_v, update(fnp, task_id{"t1"}, task_state::finished, "u9"));
  CHECK(last_update(snp, "t1")->state == task_state::finished);
  (void) t2;
  (void) p1;
}

TEST(an unreachable agent is readmitted with its ID and only partition aware tasks live on) {
  auto a = new_agent();
  auto aid = register_agent(a);
  auto spa = new_scheduler();
  auto fpa = subscribe_fw(spa, true);
  auto snp = new_scheduler();
  auto fnp = subscribe_fw(snp, false);
  auto o = offer_to(spa, fpa, aid, "cpus:2");
  auto pt = master_tests::executor_task("p1", aid, "cpus:1", "e1", "cpus:0.5");
  accept(spa, fpa, {o.id}, {pt});
  auto n1 = launch_task(snp, fnp, aid, "n1");
  make_unreachable(a);
  REQUIRE_EQUAL(alst().removed_agents.size(), 1u);
  auto updates_pa = sst(spa).updates.size();
  auto updates_np = sst(snp).updates.size();
  pt.role = "*";
  pt.executor->role = "*";
  auto e1 = *pt.executor;
  e1.framework = fpa;
  auto b = new_agent();
  CHECK_EQUAL(reregister(b, rereg(aid, {reported(fpa, pt, task_state::running),
                                       reported(fnp, n1, task_state::running)},
                                  {e1})),
              aid);
  // Partition-aware task live again, silently; the other was LOST already and is killed on the agent.
  CHECK_EQUAL(sst(spa).updates.size(), updates_pa);
  CHECK_EQUAL(sst(snp).updates.size(), updates_np);
  CHECK_EQUAL(ast(b).kills, (std::vector<std::pair<framework_id, task_id>>{{fnp, task_id{"n1"}}}));
  CHECK(ast(b).shutdowns.empty());
  REQUIRE_EQUAL(alst().readded_agents.size(), 1u);
  CHECK_EQUAL(std::get<0>(alst().readded_agents[0]), aid);
  const auto& used = std::get<2>(alst().readded_agents[0]);
  REQUIRE_EQUAL(used.size(), 1u);
  CHECK_EQUAL(used[0].framework, fpa);
  CHECK_EQUAL(used[0].role, "*");
  CHECK_EQUAL(used[0].resources, res("cpus:1.5"));
  auto st = state();
  CHECK_EQUAL(st.unreachable_agents, 0u);
  REQUIRE_EQUAL(st.agents.size(), 1u);
  CHECK_EQUAL(st.agents[0].used, res("cpus:1.5"));
  CHECK(find_task(st, "p1")->state == task_state::running);
  CHECK(find_task(st, "n1")->state == task_state::lost);
  // The killed task's updates are acknowledged by the master and never reach its framework.
  send_from(b, atom::update_v, update(fnp, task_id{"n1"}, task_state::running, "u1"));
  send_from(b, atom::update_v, update(fnp, task_id{"n1"}, task_state::killed, "u2"));
  CHECK_EQUAL(sst(snp).updates.size(), updates_np);
  CHECK_EQUAL(ast(b).acks, (std::vector<std::tuple<framework_id, task_id, std::string>>{
                             {fnp, task_id{"n1"}, "u1"}, {fnp, task_id{"n1"}, "u2"}}));
  // The partition-aware task's updates flow as usual.
  send_from(b, atom::update_v, update(fpa, task_id{"p1"}, task_state::finished, "u3"));
  CHECK(last_update(spa, "p1")->state == task_state::finished);
}

TEST(the ID of an unreachable task cannot be launched again until its agent is back) {
  auto a = new_agent();
  auto aid = register_agent(a);
  auto other = new_agent();
  auto oid = register_agent(other);
  auto s = new_scheduler();
  auto fid = subscribe_fw(s, true);
  launch_task(s, fid, aid, "p1");
  ast(other).answer_pings = true;
  ast(a).answer_pings = false;
  rounds(4);
  REQUIRE(last_update(s, "p1") != nullptr);
  REQUIRE(last_update(s, "p1")->state == task_state::unreachable);
  // Reusing the ID elsewhere would leave two incarnations when the agent returns.
  launch_task(s, fid, oid, "p1");
  REQUIRE(last_update(s, "p1") != nullptr);
  CHECK(last_update(s, "p1")->state == task_state::error);
  CHECK(ast(other).runs.empty());
}

TEST(an agent with an unknown ID is admitted with it and tasks of unknown or removed frameworks are shut down) {
  auto s = new_scheduler();
  auto fid = subscribe_fw(s, false);
  auto gone = new_scheduler();
  auto gone_id = subscribe_fw(gone, false);
  send_from(gone, atom::teardown_v, gone_id);
  auto b = new_agent();
  agent_id aid{"from-before"};
  auto t1 = task("t1", aid, "cpus:1");
  auto t2 = task("t2", aid, "cpus:1");
  auto t3 = task("t3", aid, "cpus:1");
  CHECK_EQUAL(reregister(b, rereg(aid, {reported(fid, t1, task_state::running),
                                       reported(gone_id, t2, task_state::running),
                                       reported(framework_id{"never"}, t3, task_state::running)})),
              aid);
  auto st = state();
  REQUIRE_EQUAL(st.agents.size(), 1u);
  CHECK_EQUAL(st.agents[0].id, aid);
  CHECK(find_task(st, "t1")->state == task_state::running);
  std::vector<framework_id> shut = ast(b).shutdowns;
  std::sort(shut.begin(), shut.end());
  std::vector<framework_id> expected{gone_id, framework_id{"never"}};
  std::sort(expected.begin(), expected.end());
  CHECK_EQUAL(shut, expected);
  REQUIRE_EQUAL(alst().readded_agents.size(), 1u);
  const auto& used = std::get<2>(alst().readded_agents[0]);
  REQUIRE_EQUAL(used.size(), 1u);
  CHECK_EQUAL(used[0].framework, fid);
  CHECK_EQUAL(used[0].agent, aid);
  CHECK_EQUAL(used[0].role, "*");
  CHECK_EQUAL(used[0].resources, res("cpus:1"));
  // Bad input changes nothing.
  auto x = rereg(agent_id{}, {});
  CHECK_NOT_EQUAL(request_error<agent_id>(atom::rereg_agent_v, x, new_agent()).find("no agent ID"),
                  std::string::npos);
  x = rereg(agent_id{"../x"}, {});
  request_error<agent_id>(atom::rereg_agent_v, x, new_agent());
  // Another host claiming a connected agent's ID is refused.
  x = rereg(aid, {}, {}, "cpus:4;mem:1024", "evil");
  CHECK_NOT_EQUAL(request_error<agent_id>(atom::rereg_agent_v, x, new_agent()).find("in use"), std::string::npos);
  CHECK_EQUAL(state().agents.size(), 1u);
  CHECK(find_task(state(), "t1")->state == task_state::running);
}

TEST(updates are booked by their latest state and resources recovered once) {
  auto a = new_agent();
  auto aid = register_agent(a);
  auto s = new_scheduler();
  auto fid = subscribe_fw(s, false);
  auto t = launch_task(s, fid, aid, "t1", "cpus:2");
  alst().recovered.clear();
  auto su = update(fid, task_id{"t1"}, task_state::running, "u1");
  su.latest_state = task_state::finished;
  send_from(a, atom::update_v, su);
  // The framework sees RUNNING first; the master already knows the task finished.
  REQUIRE_EQUAL(sst(s).updates.size(), 1u);
  CHECK(sst(s).updates[0].state == task_state::running);
  CHECK(find_task(state(), "t1")->state == task_state::finished);
  REQUIRE_EQUAL(alst().recovered.size(), 1u);
  CHECK_EQUAL(std::get<2>(alst().recovered[0]), res("cpus:2"));
  // The retry and the FINISHED update are forwarded, nothing recovered again.
  send_from(a, atom::update_v, su);
  auto fin = update(fid, task_id{"t1"}, task_state::finished, "u2");
  fin.latest_state = task_state::finished;
  send_from(a, atom::update_v, fin);
  REQUIRE_EQUAL(sst(s).updates.size(), 3u);
  CHECK(sst(s).updates[2].state == task_state::finished);
  CHECK_EQUAL(alst().recovered.size(), 1u);
  CHECK(ast(a).acks.empty());
  (void) t;
}

TEST(a terminal update for a task the master ended otherwise is acknowledged and not forwarded) {
  auto a = new_agent();
  auto aid = register_agent(a);
  auto s = new_scheduler();
  auto fid = subscribe_fw(s, false);
  launch_task(s, fid, aid, "t1");
  // The master ends the task itself (the agent does not report it after re-registering).
  CHECK_EQUAL(reregister(a, rereg(aid, {})), aid);
  REQUIRE_EQUAL(sst(s).updates.size(), 1u);
  CHECK(sst(s).updates[0].state == task_state::lost);
  send_from(a, atom::update_v, update(fid, task_id{"t1"}, task_state::failed, "u1"));
  CHECK_EQUAL(sst(s).updates.size(), 1u);
  CHECK_EQUAL(ast(a).acks, (std::vector<std::tuple<framework_id, task_id, std::string>>{
                             {fid, task_id{"t1"}, "u1"}}));
}

TEST(reconciliation answers per the matrix for partition aware and other frameworks) {
  auto a = new_agent();
  auto aid = register_agent(a);
  auto u = new_agent();
  auto uid = register_agent(u, "cpus:4;mem:1024", "host2");
  auto spa = new_scheduler();
  auto fpa = subscribe_fw(spa, true);
  auto snp = new_scheduler();
  auto fnp = subscribe_fw(snp, false);
  launch_task(spa, fpa, aid, "live");
  launch_task(spa, fpa, uid, "unr");
  launch_task(snp, fnp, aid, "nlive");
  send_from(a, atom::update_v, update(fpa, task_id{"live"}, task_state::running, "u1"));
  // Only u goes silent.
  make_unreachable(u);
  REQUIRE_EQUAL(state().unreachable_agents, 1u);
  auto ask_about = [](std::vector<std::pair<std::string, agent_id>> xs) {
    std::vector<task_status> out;
    for (auto& [t, ag] : xs) {
      task_status s;
      s.task = task_id{t};
      s.agent = ag;
      out.push_back(s);
    }
    return out;
  };
  auto answers = [&](const scheduler_actor& s, const framework_id& fid, std::vector<task_status> q) {
    auto before = sst(s).updates.size();
    send_from(s, atom::reconcile_v, fid, std::move(q));
    std::map<std::string, task_state> out;
    for (size_t i = before; i < sst(s).updates.size(); ++i) {
      const auto& x = sst(s).updates[i];
      CHECK(x.source == status_source::master);
      CHECK(x.reason == task_reason::reconciliation);
      CHECK(x.uuid.empty());
      out[x.task.value] = x.state;
    }
    return out;
  };
  // Implicit: every live and unreachable task.
  auto imp = answers(spa, fpa, {});
  CHECK_EQUAL(imp.size(), 2u);
  CHECK(imp["live"] == task_state::running);
  CHECK(imp["unr"] == task_state::unreachable);
  auto q = ask_about({{"live", aid}, {"unr", uid}, {"x", aid}, {"y", uid}, {"z", agent_id{"nope"}}, {"w", {}}});
  auto pa = answers(spa, fpa, q);
  CHECK_EQUAL(pa.size(), 6u);
  CHECK(pa["live"] == task_state::running);
  CHECK(pa["unr"] == task_state::unreachable);
  CHECK(pa["x"] == task_state::gone);
  CHECK(pa["y"] == task_state::unreachable);
  CHECK(pa["z"] == task_state::unknown);
  CHECK(pa["w"] == task_state::unknown);
  auto np = answers(snp, fnp, ask_about({{"nlive", aid}, {"x", aid}, {"y", uid}, {"z", agent_id{"nope"}}}));
  CHECK_EQUAL(np.size(), 4u);
  CHECK(np["nlive"] == task_state::staging);
  CHECK(np["x"] == task_state::lost);
  CHECK(np["y"] == task_state::lost);
  CHECK(np["z"] == task_state::lost);
  auto npi = answers(snp, fnp, {});
  CHECK_EQUAL(npi.size(), 1u);
  // Only the framework's scheduler may ask.
  send_from(spa, atom::reconcile_v, fnp, std::vector<task_status>{});
  CHECK(!sst(spa).errors.empty());
}

TEST(a disconnected framework keeps its tasks and a new scheduler takes it over) {
  auto a = new_agent();
  auto aid = register_agent(a);
  auto s = new_scheduler();
  auto fid = subscribe_fw(s, false, 60);
  launch_task(s, fid, aid, "t1");
  auto o = offer_to(s, fid, aid, "cpus:2");
  alst().recovered.clear();
  caf::anon_send_exit(s, caf::exit_reason::user_shutdown);
  sched.run();
  CHECK(alst().removed_fws.empty());
  CHECK_EQUAL(alst().deactivated, std::vector<framework_id>{fid});
  REQUIRE_EQUAL(alst().recovered.size(), 1u);
  CHECK_EQUAL(std::get<2>(alst().recovered[0]), o.resources);
  CHECK(ast(a).shutdowns.empty());
  auto st = state();
  REQUIRE_EQUAL(st.frameworks.size(), 1u);
  CHECK(!st.frameworks[0].active);
  CHECK(find_task(st, "t1") != nullptr);
  // Updates meanwhile: nobody acknowledges them (the agent keeps them for the next scheduler).
  send_from(a, atom::update_v, update(fid, task_id{"t1"}, task_state::running, "u1"));
  CHECK(ast(a).acks.empty());
  // Allocations in flight for the disconnected framework go back.
  alst().recovered.clear();
  send_from(alloc, atom::allocate_v, std::vector<allocation>{{fid, aid, "*", res("cpus:1")}});
  CHECK_EQUAL(alst().recovered.size(), 1u);
  // Another principal cannot take it.
  auto thief = new_scheduler();
  framework_info fi;
  fi.id = fid;
  fi.principal = "other";
  fi.failover_timeout = 60;
  CHECK_NOT_EQUAL(request_error<framework_id>(atom::subscribe_v, fi, thief).find("principal"), std::string::npos);
  // Within the timeout, a new scheduler takes over.
  advance_time(std::chrono::seconds(30));
  sched.run();
  auto s2 = new_scheduler();
  CHECK_EQUAL(subscribe_fw(s2, false, 60, "p", fid), fid);
  CHECK_EQUAL(alst().activated, std::vector<framework_id>{fid});
  CHECK_EQUAL(ast(a).resends, std::vector<framework_id>{fid});
  send_from(a, atom::update_v, update(fid, task_id{"t1"}, task_state::running, "u1"));
  REQUIRE_EQUAL(sst(s2).updates.size(), 1u);
  send_from(s2, atom::ack_v, fid, aid, task_id{"t1"}, std::string{"u1"});
  CHECK_EQUAL(ast(a).acks.size(), 1u);
  // The old timer is void.
  advance_time(std::chrono::seconds(40));
  sched.run();
  CHECK(alst().removed_fws.empty());
  CHECK(state().frameworks[0].active);
}

TEST(a live scheduler is replaced by a new one with the same framework ID) {
  auto a = new_agent();
  auto aid = register_agent(a);
  auto s = new_scheduler();
  auto fid = subscribe_fw(s, true, 60);
  launch_task(s, fid, aid, "t1");
  auto o = offer_to(s, fid, aid, "cpus:2");
  auto s2 = new_scheduler();
  CHECK_EQUAL(subscribe_fw(s2, true, 60, "p", fid), fid);
  CHECK_EQUAL(sst(s).replaced, std::vector<framework_id>{fid});
  CHECK_EQUAL(sst(s).rescinded, std::vector<offer_id>{o.id});
  CHECK(alst().activated.empty());   // it never stopped being active
  CHECK_EQUAL(ast(a).resends, std::vector<framework_id>{fid});
  // The old one is no longer the framework's scheduler; the new one is.
  send_from(s, atom::revive_v, fid);
  CHECK(!sst(s).errors.empty());
  send_from(s2, atom::revive_v, fid);
  CHECK(sst(s2).errors.empty());
  // The old one going down later changes nothing.
  caf::anon_send_exit(s, caf::exit_reason::user_shutdown);
  sched.run();
  CHECK(state().frameworks[0].active);
}

TEST(a framework not taken over within its failover timeout is removed and cannot come back) {
  auto a = new_agent();
  auto aid = register_agent(a);
  auto s = new_scheduler();
  auto fid = subscribe_fw(s, false, 20);
  launch_task(s, fid, aid, "t1");
  caf::anon_send_exit(s, caf::exit_reason::user_shutdown);
  sched.run();
  advance_time(std::chrono::seconds(19));
  sched.run();
  CHECK(alst().removed_fws.empty());
  advance_time(std::chrono::seconds(2));
  sched.run();
  CHECK_EQUAL(alst().removed_fws, std::vector<framework_id>{fid});
  CHECK_EQUAL(ast(a).shutdowns, std::vector<framework_id>{fid});
  CHECK(state().frameworks.empty());
  framework_info fi;
  fi.id = fid;
  fi.principal = "p";
  CHECK_NOT_EQUAL(request_error<framework_id>(atom::subscribe_v, fi, new_scheduler()).find("removed"),
                  std::string::npos);
  // A forged failover message does nothing.
  auto s3 = new_scheduler();
  auto f3 = subscribe_fw(s3, false, 20);
  send_from(s3, atom::failover_v, f3, uint64_t{1});
  CHECK_EQUAL(alst().removed_fws.size(), 1u);
}

FIXTURE_SCOPE_END()

namespace {

master_options rate_options() {
  auto opts = health_options();
  opts.removal_limit_count = 1;
  opts.removal_limit_period = std::chrono::seconds(60);
  return opts;
}

struct rate_fixture : health_fixture {
  rate_fixture() : health_fixture(rate_options()) {}
};

master_options no_health_options() {
  master_options opts;
  opts.agent_ping_timeout = caf::timespan{0};
  return opts;
}

struct no_health_fixture : health_fixture {
  no_health_fixture() : health_fixture(no_health_options()) {}
};

} // namespace

FIXTURE_SCOPE(master_removal_rate_tests, rate_fixture)

TEST(agents are marked unreachable no faster than the removal rate limit) {
  auto a = new_agent();
  register_agent(a);
  auto b = new_agent();
  register_agent(b, "cpus:4;mem:1024", "host2");
  ast(a).answer_pings = false;
  ast(b).answer_pings = false;
  rounds(4);
  CHECK_EQUAL(alst().removed_agents.size(), 1u);
  rounds(5);   // 50 s later: still one
  CHECK_EQUAL(alst().removed_agents.size(), 1u);
  rounds(1);   // 60 s after the first
  CHECK_EQUAL(alst().removed_agents.size(), 2u);
  CHECK_EQUAL(state().unreachable_agents, 2u);
}

TEST(a queued agent that answers again is not marked unreachable) {
  auto a = new_agent();
  register_agent(a);
  auto b = new_agent();
  register_agent(b, "cpus:4;mem:1024", "host2");
  ast(a).answer_pings = false;
  ast(b).answer_pings = false;
  rounds(4);
  REQUIRE_EQUAL(alst().removed_agents.size(), 1u);
  CHECK_EQUAL(state().unreachable, std::vector<agent_id>{alst().removed_agents[0]});
  // Whichever is still waiting answers now.
  ast(a).answer_pings = true;
  ast(b).answer_pings = true;
  rounds(8);
  CHECK_EQUAL(alst().removed_agents.size(), 1u);
  CHECK_EQUAL(state().agents.size(), 1u);
}

FIXTURE_SCOPE_END()

FIXTURE_SCOPE(master_no_health_tests, no_health_fixture)

TEST(with a ping timeout of 0 agents are never pinged) {
  auto a = new_agent();
  register_agent(a);
  ast(a).answer_pings = false;
  rounds(20);
  CHECK_EQUAL(ast(a).pings, 0u);
  CHECK(alst().removed_agents.empty());
}

FIXTURE_SCOPE_END()

namespace {

master_options short_history_options() {
  auto opts = health_options();
  opts.limits.completed_tasks = 1;  // the master forgets ended tasks quickly
  return opts;
}

struct short_history_fixture : health_fixture {
  short_history_fixture() : health_fixture(short_history_options()) {}
};

} // namespace

FIXTURE_SCOPE(master_short_history_tests, short_history_fixture)

TEST(the end reported by a readmitted agent of a task the master reported lost never reaches the framework) {
  auto a = new_agent();
  auto aid = register_agent(a);
  auto s = new_scheduler();
  auto fid = subscribe_fw(s, false);
  auto n1 = launch_task(s, fid, aid, "n1");
  auto n2 = launch_task(s, fid, aid, "n2");
  make_unreachable(a);
  // Both were reported TASK_LOST; only one of them is still in the (short) completed-task list.
  auto lost = sst(s).updates.size();
  REQUIRE(last_update(s, "n1") != nullptr);
  CHECK(last_update(s, "n1")->state == task_state::lost);
  auto b = new_agent();
  CHECK_EQUAL(reregister(b, rereg(aid, {reported(fid, n1, task_state::finished),
                                       reported(fid, n2, task_state::finished)})),
              aid);
  // The agent delivers both tasks' pending updates (RUNNING, then FINISHED): acknowledged, never forwarded, so the
  // framework keeps exactly one terminal state per task.
  for (auto* t : {&n1, &n2}) {
    auto run = update(fid, t->id, task_state::running, t->id.value + "-u1");
    run.latest_state = task_state::finished;
    send_from(b, atom::update_v, run);
    auto fin = update(fid, t->id, task_state::finished, t->id.value + "-u2");
    fin.latest_state = task_state::finished;
    send_from(b, atom::update_v, fin);
  }
  CHECK_EQUAL(sst(s).updates.size(), lost);
  CHECK_EQUAL(ast(b).acks.size(), 4u);
}

FIXTURE_SCOPE_END()

// -- leadership and the registry (issue 5) ---------------------------------------------------------------------

namespace {

/// Behind the registrar's interface: keeps the registry given, records every operation, answers at once, holds
/// the answers (`hold`), or fails every write (`fail`).
struct registrar_mock_state {
  static inline const char* name = "mock_registrar";
  registry_data data;
  std::vector<registry_operation> ops;
  bool hold = false;
  bool fail = false;
  std::vector<caf::typed_response_promise<bool>> held;
  size_t recovers = 0;
};

registrar_actor::behavior_type mock_registrar(registrar_actor::stateful_pointer<registrar_mock_state> self,
                                              registry_data data) {
  self->state.data = std::move(data);
  return {
    [=](atom::recover) -> registry_data {
      ++self->state.recovers;
      return self->state.data;
    },
    [=](atom::registry, const registry_operation& op) -> caf::result<bool> {
      if (op.role == "release-held") {
        // From the test, not the master: answer the held writes (promises are delivered in the actor's context).
        for (auto& rp : self->state.held)
          rp.deliver(true);
        self->state.held.clear();
        return true;
      }
      self->state.ops.push_back(op);
      if (self->state.fail)
        return caf::make_error(caf::sec::runtime_error, "the disk is on fire");
      if (self->state.hold) {
        auto rp = self->make_response_promise<bool>();
        self->state.held.push_back(rp);
        return rp;
      }
      return true;
    },
  };
}

agent_info registry_agent(const std::string& id, const std::string& host) {
  agent_info info;
  info.id = agent_id{id};
  info.hostname = host;
  info.total = res("cpus:4;mem:1024");
  return info;
}

struct ha_fixture : health_fixture {
  registrar_actor registrar;

  static registry_data default_registry() {
    registry_data d;
    d.admitted.emplace(agent_id{"agent-x"}, registry_agent("agent-x", "hx"));
    d.admitted.emplace(agent_id{"agent-y"}, registry_agent("agent-y", "hy"));
    registry_unreachable_agent u;
    u.info = registry_agent("agent-u", "hu");
    u.time = 1;
    d.unreachable.emplace(agent_id{"agent-u"}, u);
    d.gone.emplace(agent_id{"agent-g"}, 2.0);
    d.weights.emplace("eng", 3.0);
    return d;
  }

  // The registrar is spawned while the base class constructs the master, before this class's members exist:
  // `holder` carries it over.
  explicit ha_fixture(bool start_as_leader = true, registry_data data = default_registry(),
                      std::shared_ptr<registrar_actor> holder = std::make_shared<registrar_actor>(),
                      std::shared_ptr<size_t> recovered = std::make_shared<size_t>(0))
    : health_fixture([=](caf::actor_system& sys) {
        auto opts = health_options();
        opts.start_as_leader = start_as_leader;
        opts.agent_reregister_timeout = std::chrono::seconds(60);
        *holder = sys.spawn(mock_registrar, data);
        opts.registrar = *holder;
        opts.recovered = [recovered] { ++*recovered; };
        return opts;
      }) {
    registrar = *holder;
    recovered_calls = recovered;
  }

  /// How often the master said that no agent of the recovered registry is left to wait for.
  std::shared_ptr<size_t> recovered_calls;

  registrar_mock_state& rst() { return state_of<registrar_mock_state>(registrar); }

  std::vector<registry_operation> ops_of(registry_op_kind kind) {
    std::vector<registry_operation> out;
    for (const auto& op : rst().ops)
      if (op.kind == kind)
        out.push_back(op);
    return out;
  }

  framework_info framework(const std::string& id, bool partition_aware) {
    framework_info fi;
    fi.id = framework_id{id};
    fi.name = id;
    fi.principal = "p";
    if (partition_aware)
      fi.capabilities.push_back("PARTITION_AWARE");
    return fi;
  }
};

struct standby_fixture : ha_fixture {
  standby_fixture() : ha_fixture(false) {}
};

struct empty_standby_fixture : ha_fixture {
  empty_standby_fixture() : ha_fixture(false, registry_data{}) {}
};

} // namespace

namespace {

/// A master that starts its registrars (mocks over an empty registry) itself; `regs` lists them, newest last.
struct registrar_supervision_fixture : fixture {
  std::shared_ptr<std::vector<registrar_actor>> regs;

  explicit registrar_supervision_fixture(
    std::shared_ptr<std::vector<registrar_actor>> holder = std::make_shared<std::vector<registrar_actor>>())
    : fixture([holder](caf::actor_system&) {
        master_options opts;
        opts.make_registrar = [holder](caf::actor_system& sys) {
          holder->push_back(sys.spawn(mock_registrar, registry_data{}));
          return holder->back();
        };
        return opts;
      }),
      regs(holder) {
  }

  registrar_mock_state& rst() { return state_of<registrar_mock_state>(regs->back()); }

  void kill_registrar() {
    caf::anon_send_exit(regs->back(), caf::exit_reason::kill);
    sched.run();
  }
};

} // namespace

FIXTURE_SCOPE(master_registrar_supervision_tests, registrar_supervision_fixture)

TEST(a dead registrar is restarted and the writes it had not confirmed are sent to the new one) {
  auto a = new_agent();
  auto aid = register_agent(a);
  REQUIRE_EQUAL(rst().ops.size(), 1u); // its admission
  // The next admission is held by the registrar, which then dies: its promise is gone with it.
  rst().hold = true;
  agent_info info;
  info.hostname = "host2";
  info.total = res("cpus:2;mem:512");
  auto b = new_agent();
  auto pending = self->request(master, caf::infinite, atom::reg_agent_v, info, b);
  sched.run();
  REQUIRE_EQUAL(rst().held.size(), 1u);
  kill_registrar();
  REQUIRE_EQUAL(regs->size(), 2u);
  // The new registrar loaded the store first, then got the unconfirmed admission; the agent has its answer.
  CHECK_EQUAL(rst().recovers, 1u);
  REQUIRE_EQUAL(rst().ops.size(), 1u);
  CHECK(rst().ops[0].kind == registry_op_kind::admit);
  CHECK_EQUAL(rst().ops[0].agent.hostname, "host2");
  agent_id bid;
  pending.receive([&](const agent_id& id) { bid = id; },
                  [&](const caf::error& err) { CAF_FAIL("registration failed: " << sys.render(err)); });
  CHECK(!bid.empty());
  CHECK_NOT_EQUAL(bid, aid);
  // Still leading and writing: an operator change goes through the new registrar.
  CHECK(ask<bool>(*this, atom::set_weight_v, std::string{"eng"}, 2.0));
  CHECK_EQUAL(rst().ops.size(), 2u);
  auto snap = state();
  CHECK(snap.leading);
  CHECK_EQUAL(snap.agents.size(), 2u);
  CHECK_EQUAL(alst().added_agents.size(), 2u);
}

TEST(the master steps down when its registrar keeps dying) {
  for (int i = 0; i < 5; ++i)
    kill_registrar();
  CHECK_EQUAL(regs->size(), 6u);
  CHECK(state().leading);
  kill_registrar();
  CHECK_EQUAL(regs->size(), 6u);
  CHECK_NOT_EQUAL(request_error<master_snapshot>(atom::state_v), "");
}

FIXTURE_SCOPE_END()

FIXTURE_SCOPE(master_standby_tests, standby_fixture)

TEST(a standby master refuses agents and frameworks naming the leader until it is elected) {
  auto st = state();
  CHECK(!st.leading);
  CHECK_EQUAL(rst().recovers, 0u);
  master_location leader;
  leader.id = "other-run";
  leader.host = "10.0.0.2";
  leader.port = 5050;
  send_from(self, atom::leader_v, leader);
  CHECK_EQUAL(state().leader, "10.0.0.2:5050");
  agent_info info;
  info.hostname = "h";
  info.total = res("cpus:1;mem:64");
  auto a = new_agent();
  std::string err;
  auto hdl = self->request(master, caf::infinite, atom::reg_agent_v, info, a);
  sched.run();
  hdl.receive([&](const agent_id&) { CAF_FAIL("a standby master must not register agents"); },
              [&](const caf::error& e) {
                CHECK(e == caf::sec::unavailable_or_would_block);
                err = sys.render(e);
              });
  CHECK_NOT_EQUAL(err.find("not the leading master; the leader is 10.0.0.2:5050"), std::string::npos);
  auto x = rereg(agent_id{"agent-x"}, {});
  CHECK_NOT_EQUAL(request_error<agent_id>(atom::rereg_agent_v, x, a).find("not the leading master"),
                  std::string::npos);
  framework_info fi;
  fi.name = "fw";
  CHECK_NOT_EQUAL(request_error<framework_id>(atom::subscribe_v, fi, new_scheduler()).find("not the leading master"),
                  std::string::npos);
  // A status update from some agent is ignored: no re-registration request, nothing recorded.
  status_update su = update(framework_id{"f"}, task_id{"t"}, task_state::running, "u1");
  send_from(a, atom::update_v, su);
  CHECK_EQUAL(ast(a).rereg_requests, 0u);
  CHECK(rst().ops.empty());
  CHECK(alst().added_agents.empty());
  // Elected: it loads the registry, then serves.
  CHECK_EQUAL(*recovered_calls, 0u);
  send_from(self, atom::elected_v);
  CHECK_EQUAL(rst().recovers, 1u);
  CHECK(state().leading);
  CHECK(!register_agent(a).empty());
}

FIXTURE_SCOPE_END()

FIXTURE_SCOPE(master_empty_standby_tests, empty_standby_fixture)

TEST(a master elected with an empty registry tells the daemon at once that it has recovered) {
  CHECK_EQUAL(*recovered_calls, 0u);
  send_from(self, atom::elected_v);
  CHECK(state().leading);
  CHECK_EQUAL(*recovered_calls, 1u);
}

FIXTURE_SCOPE_END()

FIXTURE_SCOPE(master_failover_tests, ha_fixture)

TEST(a new leader recovers the registry and keeps tasks of frameworks that have not re-subscribed) {
  CHECK_EQUAL(rst().recovers, 1u);
  auto st = state();
  CHECK(st.leading);
  std::vector<agent_id> recovering{agent_id{"agent-x"}, agent_id{"agent-y"}};
  CHECK_EQUAL(st.recovering, recovering);
  CHECK_EQUAL(st.unreachable, std::vector<agent_id>{agent_id{"agent-u"}});
  // Weights come back from the registry.
  REQUIRE_EQUAL(alst().weights.size(), 1u);
  CHECK_EQUAL(alst().weights[0].first, "eng");
  CHECK_EQUAL(alst().weights[0].second, 3.0);
  // Agent X re-registers with a task of framework F, which has not subscribed with this master yet.
  auto fi = framework("fw-f", false);
  auto t1 = task("t1", agent_id{"agent-x"}, "cpus:1");
  auto x = rereg(agent_id{"agent-x"}, {reported(fi.id, t1, task_state::running)}, {}, "cpus:4;mem:1024", "hx");
  x.frameworks.push_back(fi);
  auto a = new_agent();
  CHECK_EQUAL(reregister(a, x), agent_id{"agent-x"});
  CHECK(ast(a).shutdowns.empty());
  CHECK(ast(a).kills.empty());
  st = state();
  CHECK_EQUAL(st.recovering, std::vector<agent_id>{agent_id{"agent-y"}});
  REQUIRE(find_task(st, "t1") != nullptr);
  CHECK(find_task(st, "t1")->state == task_state::running);
  // Known to the registry already: nothing written.
  CHECK(rst().ops.empty());
  // The allocator knows the framework (inactive) before the agent's allocation to it.
  REQUIRE_EQUAL(alst().added_fws.size(), 1u);
  CHECK_EQUAL(alst().added_fws[0].first, fi.id);
  CHECK_EQUAL(alst().deactivated, std::vector<framework_id>{fi.id});
  REQUIRE_EQUAL(alst().readded_agents.size(), 1u);
  REQUIRE_EQUAL(std::get<2>(alst().readded_agents[0]).size(), 1u);
  CHECK_EQUAL(std::get<2>(alst().readded_agents[0])[0].framework, fi.id);
  // Its scheduler re-subscribes with its ID: it takes the framework over and the agent resends pending updates.
  auto s = new_scheduler();
  CHECK_EQUAL(subscribe_fw(s, false, 0, "p", fi.id), fi.id);
  CHECK_EQUAL(ast(a).resends, std::vector<framework_id>{fi.id});
  CHECK_EQUAL(alst().activated, std::vector<framework_id>{fi.id});
  // A gone agent is refused (it must register as a new agent).
  auto g = rereg(agent_id{"agent-g"}, {});
  CHECK_NOT_EQUAL(request_error<agent_id>(atom::rereg_agent_v, g, new_agent()).find("gone"), std::string::npos);
}

// Issue 21: a task that finished while the leader was dead, reported terminal by its re-registering agent, is
// answered FINISHED (not LOST / GONE) until the framework acknowledges the agent's resent terminal update.
TEST(after a failover a task reported finished is answered finished until its end is acknowledged) {
  auto fi = framework("fw-f", false);
  auto done = task("done", agent_id{"agent-x"}, "cpus:1");
  auto x = rereg(agent_id{"agent-x"}, {reported(fi.id, done, task_state::finished)}, {}, "cpus:4;mem:1024", "hx");
  x.frameworks.push_back(fi);
  auto a = new_agent();
  CHECK_EQUAL(reregister(a, x), agent_id{"agent-x"});
  auto s = new_scheduler();
  CHECK_EQUAL(subscribe_fw(s, false, 0, "p", fi.id), fi.id);
  task_status q;
  q.task = task_id{"done"};
  q.agent = agent_id{"agent-x"};
  send_from(s, atom::reconcile_v, fi.id, std::vector<task_status>{q});
  REQUIRE_EQUAL(sst(s).updates.size(), 1u);
  CHECK(sst(s).updates[0].state == task_state::finished);   // was TASK_LOST: "unknown on a registered agent"
  CHECK(sst(s).updates[0].reason == task_reason::reconciliation);
  // Implicit reconciliation lists it too.
  send_from(s, atom::reconcile_v, fi.id, std::vector<task_status>{});
  REQUIRE_EQUAL(sst(s).updates.size(), 2u);
  CHECK(sst(s).updates[1].state == task_state::finished);
  // The agent resends the terminal update; the framework acknowledges it; then the task is history.
  send_from(a, atom::update_v, update(fi.id, task_id{"done"}, task_state::finished, "u-done"));
  REQUIRE_EQUAL(sst(s).updates.size(), 3u);
  CHECK_EQUAL(sst(s).updates[2].uuid, "u-done");
  send_from(s, atom::ack_v, fi.id, agent_id{"agent-x"}, task_id{"done"}, std::string{"u-done"});
  send_from(s, atom::reconcile_v, fi.id, std::vector<task_status>{});
  CHECK_EQUAL(sst(s).updates.size(), 3u);   // nothing live or unacknowledged left
}

// Issue 21: while agents of the recovered registry are still coming back, an unknown task gets no verdict: not
// from an explicit reconciliation without an agent ID, not from a kill. After the deadline the matrix applies.
TEST(no verdict on an unknown task while agents of the registry are still coming back) {
  auto s = new_scheduler();
  auto fid = subscribe_fw(s, false);
  task_status q;
  q.task = task_id{"somewhere"};
  send_from(s, atom::reconcile_v, fid, std::vector<task_status>{q});
  send_from(s, atom::kill_v, fid, task_id{"somewhere"}, agent_id{});
  CHECK(sst(s).updates.empty());
  advance_time(std::chrono::seconds(61));
  sched.run();
  CHECK(state().recovering.empty());
  auto before = sst(s).updates.size();
  send_from(s, atom::reconcile_v, fid, std::vector<task_status>{q});
  send_from(s, atom::kill_v, fid, task_id{"somewhere"}, agent_id{});
  size_t lost = 0;
  for (size_t i = before; i < sst(s).updates.size(); ++i)
    if (sst(s).updates[i].task == task_id{"somewhere"} && sst(s).updates[i].state == task_state::lost)
      ++lost;
  CHECK_EQUAL(lost, 2u);
}

TEST(agents that do not re-register within the timeout become unreachable and reconciliation answers then) {
  auto s = new_scheduler();
  auto fid = subscribe_fw(s, false);
  auto y = new_agent();
  CHECK_EQUAL(reregister(y, rereg(agent_id{"agent-y"}, {}, {}, "cpus:4;mem:1024", "hy")), agent_id{"agent-y"});
  // A task on X, not re-registered yet: the master does not know, so it does not answer.
  task_status q;
  q.task = task_id{"tx"};
  q.agent = agent_id{"agent-x"};
  send_from(s, atom::reconcile_v, fid, std::vector<task_status>{q});
  CHECK(sst(s).updates.empty());
  advance_time(std::chrono::seconds(61));
  sched.run();
  auto st = state();
  CHECK(st.recovering.empty());
  CHECK_NOT_EQUAL(std::find(st.unreachable.begin(), st.unreachable.end(), agent_id{"agent-x"}), st.unreachable.end());
  CHECK_EQUAL(std::find(st.unreachable.begin(), st.unreachable.end(), agent_id{"agent-y"}), st.unreachable.end());
  auto marks = ops_of(registry_op_kind::mark_unreachable);
  REQUIRE_EQUAL(marks.size(), 1u);
  CHECK_EQUAL(marks[0].id, agent_id{"agent-x"});
  CHECK_NOT_EQUAL(std::find(sst(s).lost_agents.begin(), sst(s).lost_agents.end(), agent_id{"agent-x"}),
                  sst(s).lost_agents.end());
  send_from(s, atom::reconcile_v, fid, std::vector<task_status>{q});
  REQUIRE_EQUAL(sst(s).updates.size(), 1u);
  CHECK(sst(s).updates[0].state == task_state::lost);
  // X comes back later: readmitted, and the registry says so. This master never knew (nor ended) its task, so
  // the task lives on.
  auto x = new_agent();
  auto tx = task("tx", agent_id{"agent-x"}, "cpus:1");
  CHECK_EQUAL(reregister(x, rereg(agent_id{"agent-x"}, {reported(fid, tx, task_state::running)}, {},
                                  "cpus:4;mem:1024", "hx")),
              agent_id{"agent-x"});
  CHECK(ast(x).kills.empty());
  REQUIRE(find_task(state(), "tx") != nullptr);
  CHECK(find_task(state(), "tx")->state == task_state::running);
  auto back = ops_of(registry_op_kind::mark_reachable);
  REQUIRE_EQUAL(back.size(), 1u);
  CHECK_EQUAL(back[0].agent.id, agent_id{"agent-x"});
  auto after = state().unreachable;
  CHECK_EQUAL(std::find(after.begin(), after.end(), agent_id{"agent-x"}), after.end());
}

TEST(the daemon is told once every agent of the recovered registry has re-registered) {
  CHECK_EQUAL(*recovered_calls, 0u);
  CHECK_EQUAL(reregister(new_agent(), rereg(agent_id{"agent-x"}, {}, {}, "cpus:4;mem:1024", "hx")),
              agent_id{"agent-x"});
  CHECK_EQUAL(*recovered_calls, 0u);   // agent-y is still awaited
  CHECK_EQUAL(reregister(new_agent(), rereg(agent_id{"agent-y"}, {}, {}, "cpus:4;mem:1024", "hy")),
              agent_id{"agent-y"});
  CHECK_EQUAL(*recovered_calls, 1u);
  // Later registrations are ordinary ones.
  CHECK(!register_agent(new_agent()).empty());
  CHECK_EQUAL(*recovered_calls, 1u);
}

TEST(the daemon is told once the last missing agent of the recovered registry is marked unreachable) {
  CHECK_EQUAL(reregister(new_agent(), rereg(agent_id{"agent-y"}, {}, {}, "cpus:4;mem:1024", "hy")),
              agent_id{"agent-y"});
  CHECK_EQUAL(*recovered_calls, 0u);
  advance_time(std::chrono::seconds(61));
  sched.run();
  CHECK(state().recovering.empty());
  CHECK_EQUAL(*recovered_calls, 1u);
  // It comes back later: readmitted, nothing more to tell.
  CHECK_EQUAL(reregister(new_agent(), rereg(agent_id{"agent-x"}, {}, {}, "cpus:4;mem:1024", "hx")),
              agent_id{"agent-x"});
  CHECK_EQUAL(*recovered_calls, 1u);
}

TEST(marking a recovering agent gone waits for the registry and reconciliation then answers for its tasks) {
  auto s = new_scheduler();
  auto fid = subscribe_fw(s, false);
  rst().hold = true;
  auto hdl = self->request(master, caf::infinite, atom::remove_agent_v, agent_id{"agent-x"}, std::string{"test"});
  sched.run();
  auto removes = ops_of(registry_op_kind::remove);
  REQUIRE_EQUAL(removes.size(), 1u);
  CHECK_EQUAL(removes[0].id, agent_id{"agent-x"});
  CHECK(self->mailbox().empty());
  // Nothing happened before the registry has it: still recovering, no framework told, a second call must retry.
  CHECK_EQUAL(state().recovering.size(), 2u);
  CHECK(sst(s).lost_agents.empty());
  auto busy = request_error<bool>(atom::remove_agent_v, agent_id{"agent-x"}, std::string{"test"});
  CHECK(busy.find("retry") != std::string::npos);
  registry_operation release;
  release.role = "release-held";
  self->send(registrar, atom::registry_v, release);
  sched.run();
  self->receive([](bool) {});
  bool done = false;
  hdl.receive([&](bool ok) { done = ok; }, [&](const caf::error& e) { CAF_FAIL(sys.render(e)); });
  CHECK(done);
  CHECK_EQUAL(state().recovering.size(), 1u);
  CHECK_EQUAL(sst(s).lost_agents, std::vector<agent_id>{agent_id{"agent-x"}});
  // Its tasks were never reported: reconciliation answers TASK_LOST (not partition-aware) for it.
  task_status q;
  q.task = task_id{"was-on-x"};
  q.agent = agent_id{"agent-x"};
  send_from(s, atom::reconcile_v, fid, std::vector<task_status>{q});
  REQUIRE_EQUAL(sst(s).updates.size(), 1u);
  CHECK(sst(s).updates[0].state == task_state::lost);
  CHECK(sst(s).updates[0].message.find("marked gone") != std::string::npos);
  // Coming back with its ID: refused, and the agent (the sender) is told to stop.
  auto a = new_agent();
  auto err = request_error<agent_id>(atom::rereg_agent_v, rereg(agent_id{"agent-x"}, {}, {}, "cpus:4;mem:1024", "hx"), a);
  CHECK(err.find("gone") != std::string::npos);
  CHECK(ast(a).told_gone.empty());   // the test's actor sent it, not the agent: the agent is not told
  caf::send_as(caf::actor_cast<caf::actor>(a), master, atom::rereg_agent_v, rereg(agent_id{"agent-x"}, {}, {}, "cpus:4;mem:1024", "hx"), a);
  sched.run();
  CHECK_EQUAL(ast(a).told_gone.size(), 1u);
}

TEST(a registration is answered only once the registry has it) {
  rst().hold = true;
  agent_info info;
  info.hostname = "new-host";
  info.total = res("cpus:2;mem:256");
  auto a = new_agent();
  auto hdl = self->request(master, caf::infinite, atom::reg_agent_v, info, a);
  sched.run();
  auto admits = ops_of(registry_op_kind::admit);
  REQUIRE_EQUAL(admits.size(), 1u);
  CHECK_EQUAL(admits[0].agent.hostname, "new-host");
  CHECK(self->mailbox().empty());
  // Nothing of it is offered before the agent has its answer (a launch could otherwise reach it first).
  CHECK(alst().added_agents.empty());
  // A retry while the write is under way waits too.
  auto hdl2 = self->request(master, caf::infinite, atom::reg_agent_v, info, a);
  sched.run();
  CHECK(self->mailbox().empty());
  CHECK_EQUAL(ops_of(registry_op_kind::admit).size(), 1u);
  registry_operation release;
  release.role = "release-held";
  self->send(registrar, atom::registry_v, release);
  sched.run();
  // The registrar's answer to the release itself.
  self->receive([](bool) {});
  agent_id first, second;
  hdl.receive([&](const agent_id& id) { first = id; }, [&](const caf::error& e) { CAF_FAIL(sys.render(e)); });
  hdl2.receive([&](const agent_id& id) { second = id; }, [&](const caf::error& e) { CAF_FAIL(sys.render(e)); });
  CHECK_EQUAL(first, admits[0].agent.id);
  CHECK_EQUAL(second, first);
  // Now the allocator has it, once.
  REQUIRE_EQUAL(alst().added_agents.size(), 1u);
  CHECK_EQUAL(alst().added_agents[0].first, first);
  CHECK_EQUAL(alst().added_agents[0].second, res("cpus:2;mem:256"));
}

TEST(a re-registration that waits for the registry is offered only after its answer) {
  rst().hold = true;
  // An agent this master never knew (its registry has no such ID) re-registers with its own ID: the admission
  // is written first.
  auto s = new_scheduler();
  auto fid = subscribe_fw(s, false);
  auto t = task("tn", agent_id{"agent-n"}, "cpus:1");
  auto a = new_agent();
  auto hdl = self->request(master, caf::infinite, atom::rereg_agent_v,
                           rereg(agent_id{"agent-n"}, {reported(fid, t, task_state::running)}, {}, "cpus:4;mem:1024",
                                 "hn"),
                           a);
  sched.run();
  REQUIRE_EQUAL(ops_of(registry_op_kind::admit).size(), 1u);
  CHECK(self->mailbox().empty());
  // The allocator counts its task already, but offers nothing of it while the answer waits.
  REQUIRE_EQUAL(alst().readded_agents.size(), 1u);
  CHECK_EQUAL(std::get<0>(alst().readded_agents[0]), agent_id{"agent-n"});
  CHECK_EQUAL(alst().deactivated_agents, std::vector<agent_id>{agent_id{"agent-n"}});
  CHECK(alst().activated_agents.empty());
  registry_operation release;
  release.role = "release-held";
  self->send(registrar, atom::registry_v, release);
  sched.run();
  self->receive([](bool) {});
  hdl.receive([&](const agent_id& id) { CHECK_EQUAL(id, agent_id{"agent-n"}); },
              [&](const caf::error& e) { CAF_FAIL(sys.render(e)); });
  CHECK_EQUAL(alst().activated_agents, std::vector<agent_id>{agent_id{"agent-n"}});
}

TEST(a failed registry write or a stepdown stops the master) {
  rst().fail = true;
  agent_info info;
  info.hostname = "h";
  info.total = res("cpus:2;mem:256");
  auto hdl = self->request(master, caf::infinite, atom::reg_agent_v, info, new_agent());
  sched.run();
  hdl.receive([&](const agent_id&) { CAF_FAIL("must not be answered with an ID"); }, [](const caf::error&) {});
  auto probe = self->request(master, caf::infinite, atom::state_v);
  sched.run();
  probe.receive([&](const master_snapshot&) { CAF_FAIL("the master must have stopped"); }, [](const caf::error&) {});
}

TEST(a stepdown stops the master at once) {
  send_from(self, atom::stepdown_v, std::string{"ZooKeeper session expired"});
  auto probe = self->request(master, caf::infinite, atom::state_v);
  sched.run();
  probe.receive([&](const master_snapshot&) { CAF_FAIL("the master must have stopped"); }, [](const caf::error&) {});
}

FIXTURE_SCOPE_END()
