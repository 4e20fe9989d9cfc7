#define CAF_SUITE actors_cluster_state
#include "test.hpp"

#include "actors/master/cluster_state.hpp"

#include <set>

using namespace mesoscaf;

namespace {

resource_set res(const std::string& text) {
  auto r = resource_set::parse(text);
  if (!r)
    CAF_FAIL("bad resources in test: " << text);
  return *r;
}

struct fixture {
  cluster_state reg{registry_limits{2, 2, 2}};
  framework_id f1{"f1"};
  agent_id a1{"a1"};

  fixture() {
    agent_info ai;
    ai.id = a1;
    ai.total = res("cpus:4;mem:1000");
    REQUIRE(reg.add_agent(ai).empty());
    framework_info fi;
    fi.id = f1;
    REQUIRE(reg.add_framework(fi).empty());
  }

  // Every test ends with the live task counts the registry keeps (for the metrics) equal to a walk.
  ~fixture() {
    CHECK(reg.live_tasks_by_state() == reg.count_live_tasks_by_state());
  }

  offer make_offer(const std::string& id, const std::string& r) {
    offer o;
    o.id = offer_id{id};
    o.framework = f1;
    o.agent = a1;
    o.resources = res(r);
    return o;
  }

  task_info task(const std::string& id, const std::string& r) {
    task_info t;
    t.id = task_id{id};
    t.agent = a1;
    t.resources = res(r);
    return t;
  }
};

} // namespace

FIXTURE_SCOPE(cluster_state_tests, fixture)

TEST(bad registrations change nothing) {
  agent_info ai;
  ai.id = a1;
  ai.total = res("cpus:1");
  CHECK(!reg.add_agent(ai).empty());      // known
  ai.id = agent_id{".."};
  CHECK(!reg.add_agent(ai).empty());      // unsafe
  ai.id = agent_id{"a2"};
  ai.total = resource_set{};
  CHECK(!reg.add_agent(ai).empty());      // no resources
  CHECK_EQUAL(reg.agents().size(), 1u);
  framework_info fi;
  fi.id = f1;
  CHECK(!reg.add_framework(fi).empty());
  fi.id = framework_id{};
  CHECK(!reg.add_framework(fi).empty());
  CHECK_EQUAL(reg.frameworks().size(), 1u);
}

TEST(offers are counted on framework and agent once) {
  CHECK(reg.add_offer(make_offer("o1", "cpus:2")).empty());
  CHECK(!reg.add_offer(make_offer("o1", "cpus:2")).empty());   // duplicate ID
  CHECK_EQUAL(reg.framework(f1)->offered, res("cpus:2"));
  CHECK_EQUAL(reg.agent(a1)->offered, res("cpus:2"));
  auto o = reg.remove_offer(offer_id{"o1"});
  REQUIRE(o.has_value());
  CHECK(reg.framework(f1)->offered.empty());
  CHECK(reg.agent(a1)->offered.empty());
  CHECK(!reg.remove_offer(offer_id{"o1"}).has_value());
  CHECK_EQUAL(reg.retired().count(offer_id{"o1"}), 1u);
  // A retired ID is not reused.
  CHECK(!reg.add_offer(make_offer("o1", "cpus:1")).empty());
}

TEST(retired offers are bounded) {
  for (auto id : {"a", "b", "c"}) {
    REQUIRE(reg.add_offer(make_offer(id, "cpus:1")).empty());
    reg.remove_offer(offer_id{id});
  }
  CHECK_EQUAL(reg.retired().size(), 2u);
  CHECK_EQUAL(reg.retired().count(offer_id{"a"}), 0u);
}

TEST(task lifecycle releases resources once) {
  REQUIRE(reg.add_task(f1, task("t1", "cpus:1;mem:100")).empty());
  CHECK(!reg.add_task(f1, task("t1", "cpus:1")).empty());
  CHECK_EQUAL(reg.framework(f1)->used, res("cpus:1;mem:100"));
  CHECK_EQUAL(reg.agent(a1)->used, res("cpus:1;mem:100"));
  auto u = reg.update_task(f1, task_id{"t1"}, task_state::running, task_reason::none, "");
  CHECK(u.known);
  CHECK(!u.terminal);
  u = reg.update_task(f1, task_id{"t1"}, task_state::finished, task_reason::none, "done");
  CHECK(u.terminal);
  CHECK(reg.framework(f1)->used.empty());
  CHECK(reg.agent(a1)->used.empty());
  CHECK(!reg.is_live(f1, task_id{"t1"}));
  REQUIRE(reg.ended_task(f1, task_id{"t1"}) != nullptr);
  CHECK(reg.ended_task(f1, task_id{"t1"})->state == task_state::finished);
  u = reg.update_task(f1, task_id{"t1"}, task_state::finished, task_reason::none, "again");
  CHECK(!u.known);
}

TEST(allocations on an agent sum its tasks executors and offers per framework and role) {
  CHECK(reg.allocations_on(agent_id{"nope"}).empty());
  CHECK(reg.allocations_on(a1).empty());
  REQUIRE(reg.add_task(f1, task("t1", "cpus:1;mem:100"), "web").empty());
  REQUIRE(reg.add_task(f1, task("t2", "cpus:0.5"), "web").empty());
  REQUIRE(reg.add_task(f1, task("t3", "mem:10")).empty());
  executor_info ei;
  ei.id = executor_id{"e1"};
  ei.resources = res("cpus:0.1;mem:32");
  REQUIRE(reg.add_executor(f1, a1, ei, "web").empty());
  auto o = make_offer("o1", "cpus:2");
  o.role = "web";
  REQUIRE(reg.add_offer(o).empty());
  REQUIRE(reg.update_task(f1, task_id{"t3"}, task_state::finished, task_reason::none, "").terminal);
  auto got = reg.allocations_on(a1);
  REQUIRE_EQUAL(got.size(), 1u); // t3 ended: nothing left in role "*"
  CHECK_EQUAL(got[0].framework, f1);
  CHECK_EQUAL(got[0].agent, a1);
  CHECK_EQUAL(got[0].role, "web");
  CHECK_EQUAL(got[0].resources, res("cpus:3.6;mem:132"));
  REQUIRE(reg.remove_offer(offer_id{"o1"}).has_value());
  got = reg.allocations_on(a1);
  REQUIRE_EQUAL(got.size(), 1u);
  CHECK_EQUAL(got[0].resources, res("cpus:1.6;mem:132"));
}

TEST(removing an agent ends its tasks and retires its offers) {
  REQUIRE(reg.add_task(f1, task("t1", "cpus:1")).empty());
  REQUIRE(reg.add_offer(make_offer("o1", "cpus:3")).empty());
  auto r = reg.remove_agent(a1, task_state::lost, task_reason::agent_removed, "gone");
  REQUIRE(r.has_value());
  CHECK_EQUAL(r->offers.size(), 1u);
  REQUIRE_EQUAL(r->tasks.size(), 1u);
  CHECK(r->tasks[0].state == task_state::lost);
  CHECK(reg.framework(f1)->used.empty());
  CHECK(reg.framework(f1)->offered.empty());
  CHECK(reg.offers().empty());
  CHECK(reg.agents().empty());
}

TEST(removing a framework returns its offers tasks and agents) {
  REQUIRE(reg.add_task(f1, task("t1", "cpus:1")).empty());
  REQUIRE(reg.add_offer(make_offer("o1", "cpus:3")).empty());
  auto r = reg.remove_framework(f1);
  REQUIRE(r.has_value());
  CHECK_EQUAL(r->offers.size(), 1u);
  CHECK_EQUAL(r->tasks.size(), 1u);
  CHECK_EQUAL(r->agents.count(a1), 1u);
  CHECK(reg.agent(a1)->used.empty());
  CHECK(reg.agent(a1)->offered.empty());
  CHECK(reg.was_removed(f1));
  framework_info fi;
  fi.id = f1;
  CHECK(!reg.add_framework(fi).empty());
}

TEST(a framework remembers every agent it ran a task on until it is removed) {
  agent_info ai;
  ai.id = agent_id{"a2"};
  ai.total = res("cpus:4");
  REQUIRE(reg.add_agent(ai).empty());
  auto t2 = task("t2", "cpus:1");
  t2.agent = ai.id;
  REQUIRE(reg.add_task(f1, task("t1", "cpus:1")).empty());
  REQUIRE(reg.add_task(f1, t2).empty());
  // Both tasks end: no live task anywhere, but both agents may still run its executors.
  reg.update_task(f1, task_id{"t1"}, task_state::finished, task_reason::none, "");
  reg.update_task(f1, task_id{"t2"}, task_state::failed, task_reason::none, "");
  CHECK_EQUAL(reg.framework(f1)->agents.size(), 2u);
  // A removed agent is forgotten (its ID is never reused).
  REQUIRE(reg.remove_agent(ai.id, task_state::lost, task_reason::agent_removed, "gone").has_value());
  auto r = reg.remove_framework(f1);
  REQUIRE(r.has_value());
  CHECK(r->tasks.empty());
  CHECK_EQUAL(r->agents, std::set<agent_id>{a1});
}

TEST(executors are counted once and released once) {
  executor_info e;
  e.id = executor_id{"e1"};
  e.resources = res("cpus:0.5;mem:100");
  CHECK(!reg.add_executor(framework_id{"nope"}, a1, e).empty());
  CHECK(!reg.add_executor(f1, agent_id{"nope"}, e).empty());
  REQUIRE(reg.add_executor(f1, a1, e).empty());
  CHECK(!reg.add_executor(f1, a1, e).empty());   // already running
  CHECK_EQUAL(reg.framework(f1)->used, res("cpus:0.5;mem:100"));
  CHECK_EQUAL(reg.agent(a1)->used, res("cpus:0.5;mem:100"));
  REQUIRE(reg.executor(f1, a1, e.id) != nullptr);
  CHECK(reg.executor(f1, agent_id{"a2"}, e.id) == nullptr);
  auto gone = reg.remove_executor(f1, a1, e.id);
  REQUIRE(gone.has_value());
  CHECK_EQUAL(gone->resources, e.resources);
  CHECK(!reg.remove_executor(f1, a1, e.id).has_value());
  CHECK(reg.framework(f1)->used.empty());
  CHECK(reg.agent(a1)->used.empty());
  // Removing the framework hands back its executors and releases them on the agent.
  REQUIRE(reg.add_executor(f1, a1, e).empty());
  auto r = reg.remove_framework(f1);
  REQUIRE(r.has_value());
  REQUIRE_EQUAL(r->executors.size(), 1u);
  CHECK_EQUAL(r->executors[0].first, a1);
  CHECK(reg.agent(a1)->used.empty());
  CHECK(reg.agent(a1)->executors.empty());
}

TEST(removing an agent drops its executors from the framework) {
  executor_info e;
  e.id = executor_id{"e1"};
  e.resources = res("cpus:1");
  REQUIRE(reg.add_executor(f1, a1, e).empty());
  auto r = reg.remove_agent(a1, task_state::lost, task_reason::agent_removed, "gone");
  REQUIRE(r.has_value());
  REQUIRE_EQUAL(r->executors.size(), 1u);
  CHECK_EQUAL(r->executors[0].first, f1);
  CHECK(reg.framework(f1)->used.empty());
  CHECK(reg.framework(f1)->executors.empty());
}

TEST(tasks and executors remember their allocation role) {
  REQUIRE(reg.add_task(f1, task("t1", "cpus:1"), "eng").empty());
  REQUIRE(reg.add_task(f1, task("t2", "cpus:1")).empty());
  CHECK_EQUAL(reg.live_task(f1, task_id{"t1"})->role, "eng");
  CHECK_EQUAL(reg.live_task(f1, task_id{"t2"})->role, "*");
  auto u = reg.update_task(f1, task_id{"t1"}, task_state::finished, task_reason::none, "");
  REQUIRE(u.terminal);
  CHECK_EQUAL(u.task.role, "eng");
  executor_info e;
  e.id = executor_id{"e1"};
  e.resources = res("cpus:0.5");
  executor_info e2 = e;
  e2.id = executor_id{"e2"};
  REQUIRE(reg.add_executor(f1, a1, e, "ops").empty());
  REQUIRE(reg.add_executor(f1, a1, e2, "eng/prod").empty());
  CHECK_EQUAL(reg.executor_role(f1, a1, e.id), "ops");
  CHECK_EQUAL(reg.executor_role(f1, a1, executor_id{"nope"}), "*");
  REQUIRE(reg.remove_executor(f1, a1, e.id).has_value());
  CHECK_EQUAL(reg.executor_role(f1, a1, e.id), "*");   // forgotten with the executor
  auto r = reg.remove_framework(f1);
  REQUIRE(r.has_value());
  REQUIRE_EQUAL(r->executors.size(), 1u);
  REQUIRE_EQUAL(r->executor_roles.size(), 1u);
  CHECK_EQUAL(r->executor_roles[0], "eng/prod");
}

TEST(conversions change the agent total but not its quantities) {
  resource_conversion c;
  c.consumed = res("cpus:1");
  c.produced = res("cpus(eng,dynamic):1");
  REQUIRE(reg.apply_conversion(a1, c).empty());
  CHECK_EQUAL(reg.agent(a1)->info.total, res("cpus:3;cpus(eng,dynamic):1;mem:1000"));
  // Not contained (already converted) or unknown agent: an error and nothing changes.
  c.consumed = res("cpus:4");
  CHECK(!reg.apply_conversion(a1, c).empty());
  CHECK(!reg.apply_conversion(agent_id{"nope"}, c).empty());
  CHECK_EQUAL(reg.agent(a1)->info.total, res("cpus:3;cpus(eng,dynamic):1;mem:1000"));
  CHECK_EQUAL(reg.cluster_total().scalar_milli("cpus"), 4000);
}

TEST(snapshot and dominant share) {
  REQUIRE(reg.add_task(f1, task("t1", "cpus:1;mem:500")).empty());
  auto s = reg.snapshot();
  REQUIRE_EQUAL(s.frameworks.size(), 1u);
  CHECK_EQUAL(s.frameworks[0].dominant_share, 0.5);
  CHECK_EQUAL(s.tasks.size(), 1u);
  CHECK_EQUAL(s.agents[0].used, res("cpus:1;mem:500"));
  CHECK_EQUAL(cluster_state::dominant_share(res("cpus:1"), resource_set{}), 0.0);
}

// -- issue 4: unreachable agents and re-registration ----------------------------------------------------------

namespace {

framework_id add_pa(cluster_state& reg) {
  framework_info fi;
  fi.id = framework_id{"pa"};
  fi.capabilities = {"PARTITION_AWARE"};
  REQUIRE(reg.add_framework(fi).empty());
  return fi.id;
}

reregistered_task reported(const framework_id& fw, task_info t, task_state st) {
  reregistered_task r;
  r.framework = fw;
  r.info = std::move(t);
  r.state = st;
  return r;
}

} // namespace

TEST(an unreachable agent keeps partition aware tasks as unreachable and loses the others) {
  auto pa = add_pa(reg);
  REQUIRE(reg.add_task(f1, task("n1", "cpus:1")).empty());
  REQUIRE(reg.add_task(pa, task("p1", "cpus:1"), "eng").empty());
  executor_info e;
  e.id = executor_id{"e1"};
  e.resources = res("cpus:0.5");
  REQUIRE(reg.add_executor(pa, a1, e).empty());
  REQUIRE(reg.add_offer(make_offer("o1", "cpus:1")).empty());
  CHECK(!reg.mark_unreachable(agent_id{"nope"}, 1, "x"));
  auto r = reg.mark_unreachable(a1, 7.5, "gone quiet");
  REQUIRE(r.has_value());
  REQUIRE_EQUAL(r->lost.size(), 1u);
  CHECK(r->lost[0].state == task_state::lost);
  CHECK(r->lost[0].reason == task_reason::agent_removed);
  REQUIRE_EQUAL(r->unreachable.size(), 1u);
  CHECK(r->unreachable[0].state == task_state::unreachable);
  CHECK_EQUAL(r->offers.size(), 1u);
  CHECK_EQUAL(r->executors.size(), 1u);
  CHECK(reg.agent(a1) == nullptr);
  CHECK(reg.is_unreachable(a1));
  CHECK_EQUAL(reg.unreachable_agents().at(a1).time, 7.5);
  CHECK(reg.live_task(pa, task_id{"p1"}) == nullptr);
  REQUIRE(reg.unreachable_task(pa, task_id{"p1"}) != nullptr);
  CHECK_EQUAL(reg.unreachable_task(pa, task_id{"p1"})->role, "eng");
  CHECK(reg.framework(pa)->used.empty());
  CHECK(reg.completed_task(f1, task_id{"n1"})->state == task_state::lost);
  auto snap = reg.snapshot();
  CHECK_EQUAL(snap.unreachable_agents, 1u);
  CHECK(snap.agents.empty());
  // Removing the framework ends its unreachable tasks too.
  auto rf = reg.remove_framework(pa);
  REQUIRE(rf.has_value());
  REQUIRE_EQUAL(rf->tasks.size(), 1u);
  CHECK(rf->tasks[0].state == task_state::killed);
}

TEST(a readmitted agent brings partition aware tasks back and the others are to be killed) {
  auto pa = add_pa(reg);
  auto p1 = task("p1", "cpus:1");
  auto p2 = task("p2", "cpus:1");
  auto n1 = task("n1", "cpus:1");
  REQUIRE(reg.add_task(pa, p1, "eng").empty());
  REQUIRE(reg.add_task(pa, p2, "eng").empty());
  REQUIRE(reg.add_task(f1, n1).empty());
  REQUIRE(reg.mark_unreachable(a1, 1, "x"));
  agent_reregistration r;
  r.info.id = a1;
  r.info.total = res("cpus:4;mem:1000");
  executor_info e;
  e.id = executor_id{"e1"};
  e.framework = pa;
  e.role = "eng";
  e.resources = res("cpus:0.5");
  r.executors = {e};
  r.tasks = {reported(pa, p1, task_state::running), reported(f1, n1, task_state::running),
             reported(framework_id{"ghost"}, n1, task_state::running)};
  reregistration_result out;
  REQUIRE(reg.reregister_agent(r, out).empty());
  CHECK(out.how == reregistration_result::kind::readmitted);
  CHECK(!reg.is_unreachable(a1));
  REQUIRE(reg.live_task(pa, task_id{"p1"}) != nullptr);
  CHECK(reg.live_task(pa, task_id{"p1"})->state == task_state::running);
  CHECK_EQUAL(reg.live_task(pa, task_id{"p1"})->role, "eng");
  // p2 was not reported: gone.
  REQUIRE_EQUAL(out.ended.size(), 1u);
  CHECK_EQUAL(out.ended[0].info.id, task_id{"p2"});
  CHECK(out.ended[0].state == task_state::gone);
  CHECK(reg.unreachable_task(pa, task_id{"p2"}) == nullptr);
  CHECK_EQUAL(out.kill, (std::vector<std::pair<framework_id, task_id>>{{f1, task_id{"n1"}}}));
  CHECK_EQUAL(out.shutdown, std::set<framework_id>{framework_id{"ghost"}});
  REQUIRE_EQUAL(out.used.size(), 1u);
  CHECK_EQUAL(out.used[0].framework, pa);
  CHECK_EQUAL(out.used[0].role, "eng");
  CHECK_EQUAL(out.used[0].resources, res("cpus:1.5"));
  CHECK_EQUAL(reg.agent(a1)->used, res("cpus:1.5"));
}

TEST(a readmitted agent resends the end of a task that ended before it was unreachable) {
  auto pa = add_pa(reg);
  auto p1 = task("p1", "cpus:1");
  REQUIRE(reg.add_task(pa, p1).empty());
  reg.update_task(pa, task_id{"p1"}, task_state::finished, task_reason::none, "");
  REQUIRE(reg.mark_unreachable(a1, 1, "x"));
  agent_reregistration r;
  r.info.id = a1;
  r.info.total = res("cpus:4;mem:1000");
  r.tasks = {reported(pa, p1, task_state::finished)};
  reregistration_result out;
  REQUIRE(reg.reregister_agent(r, out).empty());
  CHECK(out.how == reregistration_result::kind::readmitted);
  // Neither killed nor swallowed: the framework has not heard of its end, the agent's resend must reach it.
  CHECK(out.kill.empty());
  CHECK(out.swallow.empty());
  REQUIRE(reg.unacknowledged_task(pa, task_id{"p1"}) != nullptr);
  CHECK(reg.unacknowledged_task(pa, task_id{"p1"})->state == task_state::finished);
  CHECK(reg.live_task(pa, task_id{"p1"}) == nullptr);
}

TEST(after a failover a task an agent reports ended stays until its end is acknowledged) {
  cluster_state fresh;
  agent_info ai;
  ai.id = a1;
  ai.total = res("cpus:4;mem:1000");
  registry_data data;
  data.admitted[a1] = ai;
  fresh.recover(data);
  framework_info fi;
  fi.id = f1;
  agent_reregistration r;
  r.info = ai;
  r.frameworks = {fi};
  r.tasks = {reported(f1, task("done", "cpus:1"), task_state::finished),
             reported(f1, task("runs", "cpus:1"), task_state::running)};
  reregistration_result out;
  REQUIRE(fresh.reregister_agent(r, out).empty());
  CHECK(out.how == reregistration_result::kind::admitted);
  CHECK(fresh.live_tasks_by_state() == fresh.count_live_tasks_by_state());
  CHECK_EQUAL(fresh.live_tasks_by_state()[static_cast<std::size_t>(task_state::running)], 1u);
  REQUIRE(fresh.unacknowledged_task(f1, task_id{"done"}) != nullptr);
  CHECK(fresh.unacknowledged_task(f1, task_id{"done"})->state == task_state::finished);
  CHECK(fresh.live_task(f1, task_id{"runs"}) != nullptr);
  CHECK_EQUAL(fresh.agent(a1)->used, res("cpus:1"));   // only the running task counts
  fresh.note_terminal_update(f1, task_id{"done"}, task_state::finished, "u1");
  CHECK(fresh.acknowledge(f1, task_id{"done"}, "u1"));
  CHECK(fresh.completed_task(f1, task_id{"done"}) != nullptr);
}

TEST(a known agent re-registering has its tasks and executors reconciled) {
  auto pa = add_pa(reg);
  REQUIRE(reg.add_task(f1, task("t1", "cpus:1")).empty());
  REQUIRE(reg.add_task(f1, task("t2", "cpus:1")).empty());
  REQUIRE(reg.add_task(pa, task("p1", "cpus:1"), "eng").empty());
  executor_info e;
  e.id = executor_id{"e1"};
  e.resources = res("cpus:0.5");
  REQUIRE(reg.add_executor(f1, a1, e, "ops").empty());
  REQUIRE(reg.set_agent_connected(a1, false));
  agent_reregistration r;
  r.info.id = a1;
  r.info.hostname = "new-name";
  r.info.total = res("cpus:4;mem:1000");
  r.tasks = {reported(f1, task("t1", "cpus:1"), task_state::finished),
             reported(f1, task("zz", "cpus:1"), task_state::running),
             reported(f1, task("done", "cpus:1"), task_state::finished)};
  reregistration_result out;
  REQUIRE(reg.reregister_agent(r, out).empty());
  CHECK(out.how == reregistration_result::kind::known);
  CHECK(!out.was_connected);
  CHECK(reg.agent(a1)->connected);
  CHECK_EQUAL(reg.agent(a1)->info.hostname, "new-name");
  CHECK(reg.live_task(f1, task_id{"t1"}) == nullptr);   // finished (the small history may have dropped it)
  REQUIRE_EQUAL(out.ended.size(), 2u);   // t2 lost, p1 gone
  for (const auto& t : out.ended)
    CHECK(t.state == (t.framework == pa ? task_state::gone : task_state::lost));
  // t1, t2, p1 and the executor are free again.
  CHECK_EQUAL(out.freed.size(), 4u);
  CHECK(reg.agent(a1)->used.empty());
  CHECK_EQUAL(out.kill, (std::vector<std::pair<framework_id, task_id>>{{f1, task_id{"zz"}}}));
  CHECK(out.shutdown.empty());
  CHECK(out.used.empty());
}

TEST(bad re-registrations change nothing) {
  agent_reregistration r;
  r.info.id = agent_id{"../x"};
  r.info.total = res("cpus:1");
  reregistration_result out;
  CHECK(!reg.reregister_agent(r, out).empty());
  r.info.id = agent_id{"fresh"};
  r.info.total = resource_set{};
  CHECK(!reg.reregister_agent(r, out).empty());
  CHECK(reg.agent(agent_id{"fresh"}) == nullptr);
  CHECK_EQUAL(reg.agents().size(), 1u);
  // A task or executor with resources that could not come out of parse (negative, unsorted) refuses it all.
  r.info.total = res("cpus:1");
  auto bad = task("t-bad", "cpus:1");
  resource neg;
  neg.name = "mem";
  neg.scalar = -5;
  bad.resources = resource_set{};
  const_cast<std::vector<resource>&>(bad.resources.items()).push_back(neg);
  r.tasks = {reported(f1, task("t-ok", "cpus:0.5"), task_state::running), reported(f1, bad, task_state::running)};
  auto msg = reg.reregister_agent(r, out);
  CHECK_NOT_EQUAL(msg.find("t-bad has invalid resources"), std::string::npos);
  CHECK(reg.agent(agent_id{"fresh"}) == nullptr);
  CHECK(reg.live_task(f1, task_id{"t-ok"}) == nullptr);
  r.tasks.clear();
  executor_info e;
  e.id = executor_id{"e-bad"};
  e.framework = f1;
  e.resources = bad.resources;
  r.executors = {e};
  CHECK_NOT_EQUAL(reg.reregister_agent(r, out).find("e-bad has invalid resources"), std::string::npos);
  CHECK(reg.agent(agent_id{"fresh"}) == nullptr);
  r.executors.clear();
  // A fresh ID is admitted.
  r.info.total = res("cpus:1");
  CHECK(reg.reregister_agent(r, out).empty());
  CHECK(out.how == reregistration_result::kind::admitted);
  CHECK_EQUAL(reg.agents().size(), 2u);
}

TEST(framework activity and failover settings) {
  CHECK(reg.set_framework_active(f1, false));
  CHECK(!reg.snapshot().frameworks[0].active);
  CHECK(!reg.set_framework_active(framework_id{"nope"}, false));
  framework_info fi;
  fi.id = f1;
  fi.name = "renamed";
  fi.roles = {"other"};
  fi.failover_timeout = 30;
  CHECK(reg.update_framework_info(fi));
  CHECK_EQUAL(reg.framework(f1)->info.name, "renamed");
  CHECK_EQUAL(reg.framework(f1)->info.failover_timeout, 30.0);
  CHECK(reg.framework(f1)->info.roles.empty());   // roles stay
}

// -- issue 21: a task that ended stays with its framework until the framework acknowledges its end -------------

TEST(an ended task waits for the acknowledgement of its terminal update) {
  REQUIRE(reg.add_task(f1, task("t1", "cpus:1")).empty());
  reg.update_task(f1, task_id{"t1"}, task_state::running, task_reason::none, "");
  auto u = reg.update_task(f1, task_id{"t1"}, task_state::finished, task_reason::none, "done");
  CHECK(u.terminal);
  CHECK(reg.framework(f1)->used.empty());   // counts towards nothing the allocator offers
  REQUIRE(reg.unacknowledged_task(f1, task_id{"t1"}) != nullptr);
  CHECK(reg.completed_task(f1, task_id{"t1"}) == nullptr);
  CHECK_EQUAL(reg.snapshot().tasks.size(), 1u);
  // Nothing went out yet, and acknowledgements of other updates do not end it.
  CHECK(!reg.acknowledge(f1, task_id{"t1"}, "u-running"));
  reg.note_terminal_update(f1, task_id{"t1"}, task_state::failed, "u-wrong-state");   // not its end: ignored
  reg.note_terminal_update(f1, task_id{"t1"}, task_state::finished, "u-finished");
  CHECK(!reg.acknowledge(f1, task_id{"t1"}, "u-running"));
  CHECK(!reg.acknowledge(f1, task_id{"other"}, "u-finished"));
  CHECK(reg.unacknowledged_task(f1, task_id{"t1"}) != nullptr);
  CHECK(reg.acknowledge(f1, task_id{"t1"}, "u-finished"));
  CHECK(reg.unacknowledged_task(f1, task_id{"t1"}) == nullptr);
  REQUIRE(reg.completed_task(f1, task_id{"t1"}) != nullptr);
  CHECK(reg.completed_task(f1, task_id{"t1"})->state == task_state::finished);
  CHECK(!reg.acknowledge(f1, task_id{"t1"}, "u-finished"));   // once
}

TEST(a state the master decides is completed at once) {
  REQUIRE(reg.add_task(f1, task("t1", "cpus:1")).empty());
  auto u = reg.update_task(f1, task_id{"t1"}, task_state::lost, task_reason::agent_removed, "gone", true);
  CHECK(u.terminal);
  CHECK(reg.unacknowledged_task(f1, task_id{"t1"}) == nullptr);
  REQUIRE(reg.completed_task(f1, task_id{"t1"}) != nullptr);
  CHECK(reg.completed_task(f1, task_id{"t1"})->ended_by_master);
}

TEST(unacknowledged tasks end with their agent or framework and stay while the agent is unreachable) {
  auto pa = add_pa(reg);
  REQUIRE(reg.add_task(pa, task("p1", "cpus:1")).empty());
  REQUIRE(reg.add_task(f1, task("t1", "cpus:1")).empty());
  REQUIRE(reg.add_task(f1, task("t2", "cpus:1")).empty());
  reg.update_task(pa, task_id{"p1"}, task_state::finished, task_reason::none, "");
  reg.update_task(f1, task_id{"t1"}, task_state::failed, task_reason::none, "");
  reg.update_task(f1, task_id{"t2"}, task_state::finished, task_reason::none, "");
  reg.note_terminal_update(f1, task_id{"t2"}, task_state::finished, "u-t2");   // went out, not acknowledged
  // Unreachable: the agent may come back and resend the updates.
  REQUIRE(reg.mark_unreachable(a1, 1, "x"));
  CHECK(reg.unacknowledged_task(pa, task_id{"p1"}) != nullptr);
  CHECK(reg.unacknowledged_task(f1, task_id{"t1"}) != nullptr);
  // Its framework removed: nothing left to acknowledge for it.
  REQUIRE(reg.remove_framework(pa));
  CHECK(reg.unacknowledged_task(pa, task_id{"p1"}) == nullptr);
  CHECK(reg.completed_task(pa, task_id{"p1"}) != nullptr);
  // Back, without the other tasks (it forgot their updates, e.g. no checkpoint): nothing left to acknowledge.
  // The end that never went out is told by the master (the state the agent had reported), the other not again.
  agent_reregistration r;
  r.info.id = a1;
  r.info.total = res("cpus:4;mem:1000");
  reregistration_result out;
  REQUIRE(reg.reregister_agent(r, out).empty());
  CHECK(reg.unacknowledged_task(f1, task_id{"t1"}) == nullptr);
  CHECK(reg.unacknowledged_task(f1, task_id{"t2"}) == nullptr);
  REQUIRE(reg.completed_task(f1, task_id{"t1"}) != nullptr);
  CHECK(reg.completed_task(f1, task_id{"t1"})->state == task_state::failed);
  REQUIRE_EQUAL(out.ended.size(), 1u);
  CHECK_EQUAL(out.ended[0].info.id, task_id{"t1"});
  CHECK(out.ended[0].state == task_state::failed);
}

TEST(removing an agent completes its unacknowledged tasks) {
  REQUIRE(reg.add_task(f1, task("t1", "cpus:1")).empty());
  reg.update_task(f1, task_id{"t1"}, task_state::finished, task_reason::none, "");
  REQUIRE(reg.remove_agent(a1, task_state::lost, task_reason::agent_removed, "bye"));
  CHECK(reg.unacknowledged_task(f1, task_id{"t1"}) == nullptr);
  REQUIRE(reg.completed_task(f1, task_id{"t1"}) != nullptr);
  CHECK(reg.completed_task(f1, task_id{"t1"})->state == task_state::finished);
}

FIXTURE_SCOPE_END()
