#define CAF_SUITE allocator_hierarchical
#include "test.hpp"

#include "allocator/hierarchical_allocator.hpp"

#include <chrono>
#include <cmath>
#include <limits>
#include <map>
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

framework_info in_roles(std::vector<std::string> roles, std::vector<std::string> caps = {}) {
  framework_info info;
  info.roles = std::move(roles);
  info.capabilities = std::move(caps);
  return info;
}

framework_id fw(const std::string& x) {
  return framework_id{x};
}

agent_id ag(const std::string& x) {
  return agent_id{x};
}

struct fixture {
  hierarchical_allocator alloc;
  hierarchical_allocator::time_point now{std::chrono::hours(1)};

  // Runs and returns the allocations as "framework@agent" -> resources.
  std::map<std::string, resource_set> run() {
    std::map<std::string, resource_set> result;
    for (auto& a : alloc.allocate(now)) {
      auto key = a.framework.value + "@" + a.agent.value + (a.role == "*" ? "" : ":" + a.role);
      CHECK_EQUAL(result.count(key), 0u);
      result[key] = a.resources;
    }
    return result;
  }

  // Snapshot of the observable state, to prove that rejected calls change nothing.
  std::string snapshot(const std::vector<std::string>& fws, const std::vector<std::string>& agents) {
    std::string out;
    for (auto& f : fws) {
      out += f + (alloc.is_active(fw(f)) ? " active" : " inactive")
             + (alloc.is_suppressed(fw(f)) ? " suppressed" : "") + " filters="
             + std::to_string(alloc.filter_count(fw(f))) + ";";
      for (auto& a : agents)
        out += f + "@" + a + "=" + alloc.allocated(fw(f), ag(a)).to_string() + ";";
    }
    for (auto& a : agents)
      out += a + " free=" + alloc.available(ag(a)).to_string() + ";";
    out += "offerable=" + std::to_string(alloc.offerable_agent_count());
    return out;
  }
};

} // namespace

FIXTURE_SCOPE(hierarchical_tests, fixture)

TEST(an agent is offered whole to one framework) {
  CHECK_EQUAL(alloc.add_framework(fw("a")), "");
  CHECK_EQUAL(alloc.add_agent(ag("s1"), res("cpus:4;mem:4096;ports:[31000-31009]")), "");
  auto r = run();
  REQUIRE_EQUAL(r.size(), 1u);
  CHECK_EQUAL(r["a@s1"], res("cpus:4;mem:4096;ports:[31000-31009]"));
  CHECK_EQUAL(alloc.allocated(fw("a"), ag("s1")), res("cpus:4;mem:4096;ports:[31000-31009]"));
  CHECK(alloc.available(ag("s1")).empty());
  CHECK_EQUAL(alloc.offerable_agent_count(), 0u);
  // Nothing left: a second run offers nothing.
  CHECK(run().empty());
  CHECK_EQUAL(alloc.allocation_runs(), 2u);
}

TEST(agents go to the framework with the lowest dominant share) {
  CHECK_EQUAL(alloc.add_framework(fw("a")), "");
  CHECK_EQUAL(alloc.add_framework(fw("b")), "");
  CHECK_EQUAL(alloc.add_agent(ag("s1"), res("cpus:2;mem:1024")), "");
  CHECK_EQUAL(alloc.add_agent(ag("s2"), res("cpus:2;mem:1024")), "");
  CHECK_EQUAL(alloc.add_agent(ag("s3"), res("cpus:1;mem:512")), "");
  auto r = run();
  // s1 -> a (tie, lowest ID), s2 -> b (a now has 0.4), s3 -> a or b: both at 0.4, a by ID.
  CHECK_EQUAL(r.size(), 3u);
  CHECK_EQUAL(r.count("a@s1"), 1u);
  CHECK_EQUAL(r.count("b@s2"), 1u);
  CHECK_EQUAL(r.count("a@s3"), 1u);
  CHECK_EQUAL(alloc.dominant_share(fw("a")), 0.6);
  CHECK_EQUAL(alloc.dominant_share(fw("b")), 0.4);
}

TEST(the DRF paper example reaches its steady state) {
  // One agent <9 CPU, 18 GB>. A runs tasks of <1 CPU, 4 GB>, B tasks of <3 CPU, 1 GB>. Each framework
  // launches one task per offer and declines the rest with refuse_seconds 0.
  CHECK_EQUAL(alloc.add_agent(ag("s1"), res("cpus:9;mem:18432")), "");
  CHECK_EQUAL(alloc.add_framework(fw("A")), "");
  CHECK_EQUAL(alloc.add_framework(fw("B")), "");
  std::map<std::string, resource_set> task{{"A", res("cpus:1;mem:4096")}, {"B", res("cpus:3;mem:1024")}};
  std::map<std::string, int> tasks;
  int idle_rounds = 0;
  for (int round = 0; round < 50 && idle_rounds < 3; ++round) {
    bool launched = false;
    for (auto& a : alloc.allocate(now)) {
      auto& t = task[a.framework.value];
      auto rest = a.resources;
      if (a.resources.contains(t)) {
        ++tasks[a.framework.value];
        rest -= t;
        launched = true;
      }
      if (!rest.empty())
        CHECK_EQUAL(alloc.recover(a.framework, a.agent, "*", rest, 0, now), "");
    }
    idle_rounds = launched ? 0 : idle_rounds + 1;
  }
  CHECK_EQUAL(tasks["A"], 3);
  CHECK_EQUAL(tasks["B"], 2);
  CHECK_EQUAL(alloc.allocated(fw("A"), ag("s1")), res("cpus:3;mem:12288"));
  CHECK_EQUAL(alloc.allocated(fw("B"), ag("s1")), res("cpus:6;mem:2048"));
  CHECK(std::abs(alloc.dominant_share(fw("A")) - 2.0 / 3) < 1e-9);
  CHECK(std::abs(alloc.dominant_share(fw("B")) - 2.0 / 3) < 1e-9);
  CHECK_EQUAL(alloc.available(ag("s1")), res("mem:4096"));
}

TEST(a filter keeps declined resources from the framework until it expires) {
  CHECK_EQUAL(alloc.add_framework(fw("a")), "");
  CHECK_EQUAL(alloc.add_framework(fw("b")), "");
  CHECK_EQUAL(alloc.add_agent(ag("s1"), res("cpus:4;mem:4096")), "");
  auto r = run();
  REQUIRE_EQUAL(r.count("a@s1"), 1u);
  CHECK_EQUAL(alloc.recover(fw("a"), ag("s1"), "*", res("cpus:4;mem:4096"), 5, now), "");
  CHECK_EQUAL(alloc.filter_count(fw("a")), 1u);
  // a is filtered: b gets the agent although a's share is as low.
  r = run();
  CHECK_EQUAL(r.count("b@s1"), 1u);
  CHECK_EQUAL(alloc.recover(fw("b"), ag("s1"), "*", res("cpus:4;mem:4096"), 10, now), "");
  // Both filtered: nothing is offered, the agent stays free.
  CHECK(run().empty());
  CHECK_EQUAL(alloc.available(ag("s1")), res("cpus:4;mem:4096"));
  // Just before a's filter expires: still nothing.
  now += 4999ms;
  CHECK(run().empty());
  // At expiry: a again, and its expired filter is gone.
  now += 1ms;
  r = run();
  CHECK_EQUAL(r.count("a@s1"), 1u);
  CHECK_EQUAL(alloc.filter_count(fw("a")), 0u);
  CHECK_EQUAL(alloc.filter_count(fw("b")), 1u);
}

TEST(a filter does not hold back offers larger than what was declined) {
  CHECK_EQUAL(alloc.add_framework(fw("a")), "");
  CHECK_EQUAL(alloc.add_agent(ag("s1"), res("cpus:4;mem:4096")), "");
  run();
  // a keeps half, declines the other half for a long time.
  CHECK_EQUAL(alloc.recover(fw("a"), ag("s1"), "*", res("cpus:2;mem:2048"), 1000, now), "");
  CHECK(run().empty());
  // Its task ends: now more is free than was declined, so the filter does not match.
  CHECK_EQUAL(alloc.recover(fw("a"), ag("s1"), "*", res("cpus:2;mem:2048"), 0, now), "");
  auto r = run();
  CHECK_EQUAL(r["a@s1"], res("cpus:4;mem:4096"));
}

TEST(refuse_seconds 0 installs no filter) {
  CHECK_EQUAL(alloc.add_framework(fw("a")), "");
  CHECK_EQUAL(alloc.add_agent(ag("s1"), res("cpus:1;mem:64")), "");
  run();
  CHECK_EQUAL(alloc.recover(fw("a"), ag("s1"), "*", res("cpus:1;mem:64"), 0, now), "");
  CHECK_EQUAL(alloc.filter_count(fw("a")), 0u);
  CHECK_EQUAL(run().count("a@s1"), 1u);
}

TEST(suppress stops offers and revive restores them and clears filters) {
  CHECK_EQUAL(alloc.add_framework(fw("a")), "");
  CHECK_EQUAL(alloc.add_agent(ag("s1"), res("cpus:2;mem:512")), "");
  CHECK_EQUAL(alloc.add_agent(ag("s2"), res("cpus:2;mem:512")), "");
  auto r = run();
  CHECK_EQUAL(r.size(), 2u);
  CHECK_EQUAL(alloc.recover(fw("a"), ag("s1"), "*", res("cpus:2;mem:512"), 3600, now), "");
  CHECK_EQUAL(alloc.suppress(fw("a")), "");
  CHECK(alloc.is_suppressed(fw("a")));
  CHECK_EQUAL(alloc.recover(fw("a"), ag("s2"), "*", res("cpus:2;mem:512"), 0, now), "");
  // Suppressed: s2 is not filtered but is still not offered.
  CHECK(run().empty());
  CHECK_EQUAL(alloc.revive(fw("a")), "");
  CHECK(!alloc.is_suppressed(fw("a")));
  CHECK_EQUAL(alloc.filter_count(fw("a")), 0u);
  // Revived: both agents, including the filtered s1, are offered again.
  r = run();
  CHECK_EQUAL(r.size(), 2u);
  CHECK_EQUAL(r.count("a@s1"), 1u);
  CHECK_EQUAL(r.count("a@s2"), 1u);
}

TEST(inactive frameworks get nothing until activated) {
  CHECK_EQUAL(alloc.add_framework(fw("a")), "");
  CHECK_EQUAL(alloc.deactivate_framework(fw("a")), "");
  CHECK(!alloc.is_active(fw("a")));
  CHECK_EQUAL(alloc.add_agent(ag("s1"), res("cpus:2;mem:512")), "");
  CHECK(run().empty());
  CHECK_EQUAL(alloc.activate_framework(fw("a")), "");
  CHECK_EQUAL(run().count("a@s1"), 1u);
}

TEST(removing an agent drops its allocations) {
  CHECK_EQUAL(alloc.add_framework(fw("a")), "");
  CHECK_EQUAL(alloc.add_framework(fw("b")), "");
  CHECK_EQUAL(alloc.add_agent(ag("s1"), res("cpus:4;mem:1024")), "");
  CHECK_EQUAL(alloc.add_agent(ag("s2"), res("cpus:4;mem:1024")), "");
  run();  // s1 -> a, s2 -> b
  CHECK_EQUAL(alloc.recover(fw("a"), ag("s1"), "*", res("cpus:1;mem:512"), 60, now), "");
  CHECK_EQUAL(alloc.dominant_share(fw("b")), 0.5);
  CHECK_EQUAL(alloc.remove_agent(ag("s2")), "");
  CHECK(!alloc.has_agent(ag("s2")));
  CHECK_EQUAL(alloc.agent_count(), 1u);
  CHECK(alloc.allocated(fw("b")).empty());
  CHECK_EQUAL(alloc.dominant_share(fw("b")), 0.0);
  // Totals shrank too: a holds 3 of the 4 cpus left (and half the memory).
  CHECK_EQUAL(alloc.dominant_share(fw("a")), 0.75);
  CHECK_EQUAL(alloc.remove_agent(ag("s2")), "unknown agent 's2'");
  CHECK_EQUAL(alloc.recover(fw("b"), ag("s2"), "*", res("cpus:1"), 0, now), "unknown agent 's2'");
  // Removing the agent with a's filter and re-adding one with the same ID starts clean.
  CHECK_EQUAL(alloc.remove_agent(ag("s1")), "");
  CHECK_EQUAL(alloc.filter_count(fw("a")), 0u);
  CHECK_EQUAL(alloc.add_agent(ag("s1"), res("cpus:1;mem:128")), "");
  CHECK_EQUAL(run().count("a@s1"), 1u);
}

TEST(removing a framework returns its resources to the agents) {
  CHECK_EQUAL(alloc.add_framework(fw("a")), "");
  CHECK_EQUAL(alloc.add_agent(ag("s1"), res("cpus:4;mem:1024")), "");
  run();
  CHECK_EQUAL(alloc.recover(fw("a"), ag("s1"), "*", res("cpus:1;mem:24"), 60, now), "");
  CHECK_EQUAL(alloc.remove_framework(fw("a")), "");
  CHECK(!alloc.has_framework(fw("a")));
  CHECK_EQUAL(alloc.available(ag("s1")), res("cpus:4;mem:1024"));
  CHECK_EQUAL(alloc.remove_framework(fw("a")), "unknown framework 'a'");
  // A new framework (even with the old ID) gets everything, with no leftover filter.
  CHECK_EQUAL(alloc.add_framework(fw("b")), "");
  CHECK_EQUAL(alloc.add_framework(fw("a")), "");
  CHECK_EQUAL(alloc.filter_count(fw("a")), 0u);
  CHECK_EQUAL(alloc.dominant_share(fw("a")), 0.0);
  auto r = run();
  CHECK_EQUAL(r["a@s1"], res("cpus:4;mem:1024"));
}

TEST(bad input is rejected and changes nothing) {
  CHECK_EQUAL(alloc.add_framework(fw("a")), "");
  CHECK_EQUAL(alloc.add_agent(ag("s1"), res("cpus:4;mem:1024")), "");
  CHECK_EQUAL(alloc.add_agent(ag("s2"), res("cpus:4;mem:1024")), "");
  run();
  CHECK_EQUAL(alloc.recover(fw("a"), ag("s2"), "*", res("cpus:4;mem:1024"), 0, now), "");
  std::vector<std::string> fws{"a"};
  std::vector<std::string> agents{"s1", "s2"};
  auto before = snapshot(fws, agents);
  auto nan = std::numeric_limits<double>::quiet_NaN();
  auto inf = std::numeric_limits<double>::infinity();
  auto rejected = [&](const std::string& err) {
    CHECK(!err.empty());
    MESSAGE("rejected: " << err);
  };
  rejected(alloc.add_framework(fw("a")));
  rejected(alloc.add_framework(fw("")));
  rejected(alloc.remove_framework(fw("x")));
  rejected(alloc.activate_framework(fw("x")));
  rejected(alloc.deactivate_framework(fw("x")));
  rejected(alloc.suppress(fw("x")));
  rejected(alloc.revive(fw("x")));
  rejected(alloc.set_weight("*", 0));
  rejected(alloc.set_weight("eng", -1));
  rejected(alloc.set_weight("eng", nan));
  rejected(alloc.set_weight("eng", inf));
  rejected(alloc.set_weight("bad//role", 1));
  rejected(alloc.set_weight("", 1));
  rejected(alloc.suppress(fw("a"), {"eng"}));
  rejected(alloc.revive(fw("a"), {"eng"}));
  rejected(alloc.recover(fw("a"), ag("s1"), "eng", res("cpus:1"), 0, now));
  rejected(alloc.add_agent(ag("s1"), res("cpus:1")));
  rejected(alloc.add_agent(ag(""), res("cpus:1")));
  rejected(alloc.remove_agent(ag("x")));
  rejected(alloc.recover(fw("x"), ag("s1"), "*", res("cpus:1"), 0, now));
  rejected(alloc.recover(fw("a"), ag("x"), "*", res("cpus:1"), 0, now));
  // More than allocated, something never allocated, and something allocated on another agent.
  rejected(alloc.recover(fw("a"), ag("s1"), "*", res("cpus:5"), 0, now));
  rejected(alloc.recover(fw("a"), ag("s1"), "*", res("gpus:1"), 0, now));
  rejected(alloc.recover(fw("a"), ag("s2"), "*", res("cpus:1"), 0, now));
  rejected(alloc.recover(fw("a"), ag("s1"), "*", res("cpus:1"), -1, now));
  rejected(alloc.recover(fw("a"), ag("s1"), "*", res("cpus:1"), nan, now));
  rejected(alloc.recover(fw("a"), ag("s1"), "*", res("cpus:1"), inf, now));
  rejected(alloc.recover(fw("a"), ag("s1"), "*", res("cpus:1"), 1e12, now));
  CHECK_EQUAL(snapshot(fws, agents), before);
  // The state still works afterwards.
  CHECK_EQUAL(alloc.recover(fw("a"), ag("s1"), "*", res("cpus:1"), 0, now), "");
  CHECK_EQUAL(alloc.available(ag("s1")), res("cpus:1"));
}

TEST(only allocatable free resources are offered) {
  CHECK_EQUAL(alloc.add_framework(fw("a")), "");
  // Below both minimums (cpus 0.01, mem 32 MB): never offered.
  CHECK_EQUAL(alloc.add_agent(ag("tiny"), res("cpus:0.009;mem:31;disk:100000")), "");
  CHECK(!alloc.is_allocatable(res("cpus:0.009;mem:31;disk:100000")));
  CHECK(run().empty());
  CHECK_EQUAL(alloc.offerable_agent_count(), 0u);
  // Either minimum is enough.
  CHECK_EQUAL(alloc.add_agent(ag("c"), res("cpus:0.01")), "");
  CHECK_EQUAL(alloc.add_agent(ag("m"), res("mem:32")), "");
  auto r = run();
  CHECK_EQUAL(r.size(), 2u);
  CHECK_EQUAL(r.count("a@c"), 1u);
  CHECK_EQUAL(r.count("a@m"), 1u);
  // A small remainder returned by a framework is not offered until enough comes back.
  CHECK_EQUAL(alloc.add_agent(ag("s"), res("cpus:2;mem:1024")), "");
  r = run();
  CHECK_EQUAL(r.count("a@s"), 1u);
  CHECK_EQUAL(alloc.recover(fw("a"), ag("s"), "*", res("mem:16"), 0, now), "");
  CHECK(run().empty());
  CHECK_EQUAL(alloc.recover(fw("a"), ag("s"), "*", res("mem:16"), 0, now), "");
  r = run();  // (not run()["a@s"] inside CHECK_EQUAL: the macro keeps a reference into the temporary)
  CHECK_EQUAL(r["a@s"], res("mem:32"));
}

TEST(a configured minimum replaces the default) {
  allocator_config cfg;
  cfg.min_allocatable = {{{"cpus", 1000}, {"mem", 1024000}}};  // cpus >= 1 AND mem >= 1 GB
  hierarchical_allocator strict{cfg};
  CHECK_EQUAL(strict.add_framework(fw("a")), "");
  CHECK_EQUAL(strict.add_agent(ag("s1"), res("cpus:8;mem:512")), "");
  CHECK(strict.allocate(now).empty());
  CHECK_EQUAL(strict.add_agent(ag("s2"), res("cpus:1;mem:1024")), "");
  CHECK_EQUAL(strict.allocate(now).size(), 1u);
}

TEST(weights favour a role) {
  CHECK_EQUAL(alloc.add_framework(fw("a"), in_roles({"ra"})), "");
  CHECK_EQUAL(alloc.add_framework(fw("b"), in_roles({"rb"})), "");
  CHECK_EQUAL(alloc.set_weight("rb", 3), "");
  CHECK_EQUAL(alloc.weight("rb"), 3.0);
  for (int i = 0; i < 8; ++i)
    CHECK_EQUAL(alloc.add_agent(ag("s" + std::to_string(i)), res("cpus:1;mem:128")), "");
  run();
  // b may hold three times a's share: 6 of 8 agents against 2.
  CHECK_EQUAL(alloc.allocated(fw("a")).scalar_value("cpus"), 2.0);
  CHECK_EQUAL(alloc.allocated(fw("b")).scalar_value("cpus"), 6.0);
}

TEST(a run visits only agents with free resources at scale) {
  // 2,000 agents, 200 frameworks: everything is handed out in one run, then later runs see nothing to do.
  for (int i = 0; i < 200; ++i)
    REQUIRE_EQUAL(alloc.add_framework(fw("fw" + std::to_string(1000 + i))), "");
  for (int i = 0; i < 2000; ++i)
    REQUIRE_EQUAL(alloc.add_agent(ag("agent" + std::to_string(10000 + i)), res("cpus:8;mem:16384")), "");
  auto first = alloc.allocate(now);
  CHECK_EQUAL(first.size(), 2000u);
  CHECK_EQUAL(alloc.offerable_agent_count(), 0u);
  // DRF spreads evenly: 10 agents each.
  bool even = true;
  for (int i = 0; i < 200; ++i)
    even = even && alloc.allocated(fw("fw" + std::to_string(1000 + i))).scalar_value("cpus") == 80.0;
  CHECK(even);
  CHECK(alloc.allocate(now).empty());
  CHECK_EQUAL(alloc.recover(first[7].framework, first[7].agent, "*", first[7].resources, 0, now), "");
  CHECK_EQUAL(alloc.offerable_agent_count(), 1u);
  auto second = alloc.allocate(now);
  REQUIRE_EQUAL(second.size(), 1u);
  // The framework that gave it back has the lowest share now, so it gets it again.
  CHECK_EQUAL(second[0].framework, first[7].framework);
}

TEST(sibling roles share by subtree and not by framework count) {
  // eng has two frameworks (in eng/a and eng/b), ops one: eng's subtree and ops get half each.
  CHECK_EQUAL(alloc.add_framework(fw("ea"), in_roles({"eng/a"})), "");
  CHECK_EQUAL(alloc.add_framework(fw("eb"), in_roles({"eng/b"})), "");
  CHECK_EQUAL(alloc.add_framework(fw("o"), in_roles({"ops"})), "");
  CHECK(alloc.has_role("eng"));
  for (int i = 0; i < 6; ++i)
    CHECK_EQUAL(alloc.add_agent(ag("s" + std::to_string(i)), res("cpus:1;mem:128")), "");
  auto r = run();
  CHECK_EQUAL(r.size(), 6u);
  CHECK_EQUAL(alloc.allocated(fw("o")).scalar_value("cpus"), 3.0);
  CHECK_EQUAL(alloc.allocated(fw("ea")).scalar_value("cpus"), 2.0);
  CHECK_EQUAL(alloc.allocated(fw("eb")).scalar_value("cpus"), 1.0);
  CHECK_EQUAL(alloc.role_allocated("eng"), res("cpus:3;mem:384"));
  CHECK_EQUAL(alloc.role_share("eng"), 0.5);
  // Allocations carry the framework's role.
  CHECK_EQUAL(r.count("ea@s0:eng/a"), 1u);
}

TEST(a role weight applies among siblings inside a subtree) {
  CHECK_EQUAL(alloc.add_framework(fw("a"), in_roles({"eng/a"})), "");
  CHECK_EQUAL(alloc.add_framework(fw("b"), in_roles({"eng/b"})), "");
  CHECK_EQUAL(alloc.set_weight("eng/b", 3), "");
  for (int i = 0; i < 8; ++i)
    CHECK_EQUAL(alloc.add_agent(ag("s" + std::to_string(i)), res("cpus:1;mem:128")), "");
  run();
  CHECK_EQUAL(alloc.allocated(fw("a")).scalar_value("cpus"), 2.0);
  CHECK_EQUAL(alloc.allocated(fw("b")).scalar_value("cpus"), 6.0);
}

TEST(a framework with several roles is one client per role) {
  CHECK_EQUAL(alloc.add_framework(fw("m"), in_roles({"x", "y"})), "");
  CHECK_EQUAL(alloc.add_framework(fw("n"), in_roles({"x"})), "");
  CHECK_EQUAL(alloc.framework_roles(fw("m")), (std::vector<std::string>{"x", "y"}));
  // s1 is reserved to y: only m (as a y client) may have it.
  CHECK_EQUAL(alloc.add_agent(ag("s1"), res("cpus(y):2;mem(y):256")), "");
  CHECK_EQUAL(alloc.add_agent(ag("s2"), res("cpus:2;mem:256")), "");
  CHECK_EQUAL(alloc.add_agent(ag("s3"), res("cpus:2;mem:256")), "");
  auto r = run();
  CHECK_EQUAL(r["m@s1:y"], res("cpus(y):2;mem(y):256"));
  // Roles x and y: s2 goes to role x (tie, by name) and there to m (tie, by ID); s3 to the role with the lower
  // share: y holds s1 already, so x again, where n has less.
  CHECK_EQUAL(r["m@s2:x"], res("cpus:2;mem:256"));
  CHECK_EQUAL(r["n@s3:x"], res("cpus:2;mem:256"));
  CHECK_EQUAL(alloc.allocated(fw("m"), ag("s1"), "y"), res("cpus(y):2;mem(y):256"));
  CHECK(alloc.allocated(fw("m"), ag("s1"), "x").empty());
  // Recovering needs the right role.
  CHECK(!alloc.recover(fw("m"), ag("s1"), "x", res("cpus(y):2"), 0, now).empty());
  CHECK(!alloc.recover(fw("n"), ag("s1"), "y", res("cpus(y):2"), 0, now).empty());
  CHECK_EQUAL(alloc.recover(fw("m"), ag("s1"), "y", res("cpus(y):2"), 0, now), "");
  // m holds mem 512 of 768 (both roles) and cpus 2 of 6.
  CHECK(std::abs(alloc.dominant_share(fw("m")) - 2.0 / 3) < 1e-9);
}

TEST(update_framework adds and retires roles) {
  CHECK_EQUAL(alloc.add_framework(fw("m"), in_roles({"x"})), "");
  CHECK_EQUAL(alloc.add_agent(ag("s1"), res("cpus(y):2;mem(y):256")), "");
  CHECK_EQUAL(alloc.add_agent(ag("s2"), res("cpus(x):1;mem(x):64")), "");
  auto r = run();
  CHECK_EQUAL(r.size(), 1u);  // only x's reservation: nobody is in role y
  CHECK_EQUAL(r["m@s2:x"], res("cpus(x):1;mem(x):64"));
  // Taking up role y brings its reservation.
  CHECK_EQUAL(alloc.update_framework(fw("m"), in_roles({"x", "y"})), "");
  CHECK_EQUAL(alloc.framework_roles(fw("m")), (std::vector<std::string>{"x", "y"}));
  r = run();
  CHECK_EQUAL(r["m@s1:y"], res("cpus(y):2;mem(y):256"));
  // Leaving x: what it holds there stays accounted and can still be recovered, but x is offered no more.
  CHECK_EQUAL(alloc.update_framework(fw("m"), in_roles({"y"})), "");
  CHECK_EQUAL(alloc.framework_roles(fw("m")), (std::vector<std::string>{"y"}));
  CHECK_EQUAL(alloc.allocated(fw("m"), ag("s2"), "x"), res("cpus(x):1;mem(x):64"));
  CHECK(!alloc.revive(fw("m"), {"x"}).empty());
  CHECK_EQUAL(alloc.recover(fw("m"), ag("s2"), "x", res("cpus(x):1;mem(x):64"), 0, now), "");
  CHECK(run().empty());
  // Back in x: offered again.
  CHECK_EQUAL(alloc.update_framework(fw("m"), in_roles({"x", "y"})), "");
  r = run();
  CHECK_EQUAL(r["m@s2:x"], res("cpus(x):1;mem(x):64"));
  // Bad input changes nothing.
  auto before = snapshot({"m"}, {"s1", "s2"});
  CHECK(!alloc.update_framework(fw("m"), in_roles({"x", "x"})).empty());
  CHECK(!alloc.update_framework(fw("m"), in_roles({"bad role"})).empty());
  CHECK(!alloc.update_framework(fw("ghost"), in_roles({"x"})).empty());
  CHECK_EQUAL(snapshot({"m"}, {"s1", "s2"}), before);
  CHECK_EQUAL(alloc.framework_roles(fw("m")), (std::vector<std::string>{"x", "y"}));
}

TEST(reserved resources go only to the role and its sub roles) {
  CHECK_EQUAL(alloc.add_framework(fw("other"), in_roles({"engineering"})), "");
  CHECK_EQUAL(alloc.add_framework(fw("star"), in_roles({"*"})), "");
  CHECK_EQUAL(alloc.add_framework(fw("parent"), in_roles({"eng"})), "");
  CHECK_EQUAL(alloc.add_agent(ag("s1"), res("cpus(eng/prod):2;mem(eng/prod):256")), "");
  // Nobody but eng/prod's subtree may take it: not the parent, not a name sharing the prefix, not "*".
  CHECK(run().empty());
  CHECK_EQUAL(alloc.add_framework(fw("deep"), in_roles({"eng/prod/web"})), "");
  auto r = run();
  CHECK_EQUAL(r.size(), 1u);
  CHECK_EQUAL(r["deep@s1:eng/prod/web"], res("cpus(eng/prod):2;mem(eng/prod):256"));
  // A mixed agent: unreserved to anyone, the reserved part only to the role.
  CHECK_EQUAL(alloc.add_agent(ag("s2"), res("cpus:1;mem:128;cpus(eng):3;mem(eng):64")), "");
  r = run();
  for (auto& [key, what] : r) {
    if (key.rfind("parent@", 0) == 0 || key.rfind("deep@", 0) == 0)
      continue;
    CHECK_EQUAL(what.unreserved(), what);  // others never see eng's reservation
  }
  resource_set reserved_given;
  for (auto& [key, what] : r)
    reserved_given += what.reserved("eng");
  CHECK_EQUAL(reserved_given, res("cpus(eng):3;mem(eng):64"));
  CHECK(alloc.available(ag("s2")).empty());
}

TEST(quota guarantees are served first) {
  CHECK_EQUAL(alloc.add_framework(fw("a"), in_roles({"a"})), "");
  CHECK_EQUAL(alloc.add_framework(fw("q"), in_roles({"q"})), "");
  CHECK_EQUAL(alloc.set_quota("q", quota_info{res("cpus:3"), {}}), "");
  for (int i = 0; i < 4; ++i)
    CHECK_EQUAL(alloc.add_agent(ag("s" + std::to_string(i)), res("cpus:1;mem:256")), "");
  run();
  // Plain DRF would split 2:2; q's guarantee of 3 cpus comes first.
  CHECK_EQUAL(alloc.allocated(fw("q")).scalar_value("cpus"), 3.0);
  CHECK_EQUAL(alloc.allocated(fw("a")).scalar_value("cpus"), 1.0);
  CHECK_EQUAL(alloc.consumed_quota("q"), res("cpus:3;mem:768"));
}

TEST(a guarantee is capped at what is missing) {
  CHECK_EQUAL(alloc.add_framework(fw("a"), in_roles({"a"})), "");
  CHECK_EQUAL(alloc.add_framework(fw("q"), in_roles({"q"})), "");
  CHECK_EQUAL(alloc.set_quota("q", quota_info{res("cpus:1.5"), res("cpus:1.5")}), "");
  CHECK_EQUAL(alloc.add_agent(ag("s1"), res("cpus:4;mem:1024")), "");
  auto r = run();
  CHECK_EQUAL(r["q@s1:q"].scalar_value("cpus"), 1.5);
  CHECK_EQUAL(r["a@s1:a"].scalar_value("cpus"), 2.5);
}

TEST(limits are never exceeded) {
  CHECK_EQUAL(alloc.add_framework(fw("l"), in_roles({"l/sub"})), "");
  CHECK_EQUAL(alloc.add_framework(fw("z"), in_roles({"z"})), "");
  CHECK_EQUAL(alloc.set_quota("l", quota_info{{}, res("cpus:1.5;mem:512")}), "");
  CHECK_EQUAL(alloc.add_agent(ag("s1"), res("cpus:4;mem:1024")), "");
  auto r = run();
  CHECK_EQUAL(r["l@s1:l/sub"], res("cpus:1.5;mem:512"));
  CHECK_EQUAL(r["z@s1:z"], res("cpus:2.5;mem:512"));
  for (int i = 2; i < 6; ++i)
    CHECK_EQUAL(alloc.add_agent(ag("s" + std::to_string(i)), res("cpus:4;mem:1024")), "");
  r = run();
  CHECK_EQUAL(r.size(), 4u);
  for (auto& kv : r)
    CHECK_EQUAL(kv.first.rfind("z@", 0), 0u);
  CHECK_EQUAL(alloc.allocated(fw("l")), res("cpus:1.5;mem:512"));
  // Giving back lets it grow again, never beyond the limit.
  CHECK_EQUAL(alloc.recover(fw("l"), ag("s1"), "l/sub", res("cpus:1"), 0, now), "");
  CHECK_EQUAL(alloc.recover(fw("z"), ag("s2"), "z", res("cpus:4;mem:1024"), 3600, now), "");
  r = run();
  CHECK_EQUAL(alloc.allocated(fw("l")).scalar_value("cpus"), 1.5);
  CHECK_EQUAL(alloc.allocated(fw("l")).scalar_value("mem"), 512.0);
}

TEST(headroom for unsatisfied guarantees is held back) {
  CHECK_EQUAL(alloc.add_framework(fw("a"), in_roles({"a"})), "");
  CHECK_EQUAL(alloc.set_quota("q", quota_info{res("cpus:2"), {}}), "");
  for (int i = 0; i < 4; ++i)
    CHECK_EQUAL(alloc.add_agent(ag("s" + std::to_string(i)), res("cpus:1;mem:128")), "");
  run();
  // q has no framework yet, but 2 cpus stay free for it.
  CHECK_EQUAL(alloc.allocated(fw("a")).scalar_value("cpus"), 2.0);
  CHECK_EQUAL(alloc.allocated(fw("a")).scalar_value("mem"), 512.0);
  CHECK(run().empty());
  CHECK_EQUAL(alloc.add_framework(fw("q"), in_roles({"q"})), "");
  run();
  CHECK_EQUAL(alloc.allocated(fw("q")), res("cpus:2"));
}

TEST(unallocated reservations count towards a guarantee) {
  CHECK_EQUAL(alloc.add_framework(fw("a"), in_roles({"a"})), "");
  CHECK_EQUAL(alloc.set_quota("q", quota_info{res("cpus:2"), {}}), "");
  CHECK_EQUAL(alloc.add_agent(ag("r"), res("cpus(q/x):2;mem(q/x):64")), "");
  CHECK_EQUAL(alloc.add_agent(ag("s"), res("cpus:2;mem:128")), "");
  CHECK_EQUAL(alloc.consumed_quota("q"), res("cpus:2;mem:64"));
  run();
  // q is satisfied by its reservation, so no headroom is held back.
  CHECK_EQUAL(alloc.allocated(fw("a")), res("cpus:2;mem:128"));
}

TEST(filters are per role) {
  CHECK_EQUAL(alloc.add_framework(fw("m"), in_roles({"x", "y"})), "");
  CHECK_EQUAL(alloc.add_agent(ag("s1"), res("cpus:2;mem:256")), "");
  auto r = run();
  REQUIRE_EQUAL(r.count("m@s1:x"), 1u);
  CHECK_EQUAL(alloc.recover(fw("m"), ag("s1"), "x", res("cpus:2;mem:256"), 100, now), "");
  CHECK_EQUAL(alloc.filter_count(fw("m"), "x"), 1u);
  CHECK_EQUAL(alloc.filter_count(fw("m"), "y"), 0u);
  r = run();
  CHECK_EQUAL(r.count("m@s1:y"), 1u);
  CHECK_EQUAL(alloc.recover(fw("m"), ag("s1"), "y", res("cpus:2;mem:256"), 100, now), "");
  CHECK(run().empty());
  CHECK_EQUAL(alloc.filter_count(fw("m")), 2u);
}

TEST(suppress and revive work per role) {
  CHECK_EQUAL(alloc.add_framework(fw("m"), in_roles({"x", "y"})), "");
  CHECK_EQUAL(alloc.suppress(fw("m"), {"x"}), "");
  CHECK(alloc.is_suppressed(fw("m"), "x"));
  CHECK(!alloc.is_suppressed(fw("m"), "y"));
  CHECK(!alloc.is_suppressed(fw("m")));
  CHECK_EQUAL(alloc.add_agent(ag("s1"), res("cpus:2;mem:256")), "");
  CHECK_EQUAL(alloc.add_agent(ag("s2"), res("cpus:2;mem:256")), "");
  auto r = run();
  CHECK_EQUAL(r.count("m@s1:y"), 1u);
  CHECK_EQUAL(r.count("m@s2:y"), 1u);
  CHECK_EQUAL(alloc.recover(fw("m"), ag("s1"), "y", res("cpus:2;mem:256"), 100, now), "");
  CHECK_EQUAL(alloc.suppress(fw("m"), {"y"}), "");
  CHECK(alloc.is_suppressed(fw("m")));
  CHECK(run().empty());
  // Unknown role: error, nothing changes.
  CHECK(!alloc.revive(fw("m"), {"x", "nope"}).empty());
  CHECK(alloc.is_suppressed(fw("m"), "x"));
  CHECK_EQUAL(alloc.revive(fw("m"), {"x"}), "");
  r = run();
  CHECK_EQUAL(r.count("m@s1:x"), 1u);
  // Reviving x left y's filter alone; reviving everything clears it.
  CHECK_EQUAL(alloc.filter_count(fw("m"), "y"), 1u);
  CHECK_EQUAL(alloc.revive(fw("m")), "");
  CHECK_EQUAL(alloc.filter_count(fw("m")), 0u);
  CHECK(!alloc.is_suppressed(fw("m"), "y"));
}

TEST(gpu agents go only to gpu capable frameworks) {
  CHECK_EQUAL(alloc.add_framework(fw("plain")), "");
  CHECK_EQUAL(alloc.add_agent(ag("g"), res("cpus:4;mem:1024;gpus:1")), "");
  CHECK(run().empty());
  CHECK_EQUAL(alloc.add_framework(fw("gpu"), in_roles({}, {"GPU_RESOURCES"})), "");
  auto r = run();
  CHECK_EQUAL(r["gpu@g"], res("cpus:4;mem:1024;gpus:1"));
}

TEST(update_allocation changes the allocation and the agent total) {
  CHECK_EQUAL(alloc.add_framework(fw("e"), in_roles({"eng"})), "");
  CHECK_EQUAL(alloc.add_agent(ag("s1"), res("cpus:4;mem:1024")), "");
  run();
  std::vector<std::string> fws{"e"};
  std::vector<std::string> agents{"s1"};
  auto before = snapshot(fws, agents);
  auto total_before = alloc.total(ag("s1"));
  // Bad: quantities differ, not allocated, reserved to a role the allocation may not hold, unknown role.
  CHECK(!alloc.update_allocation(fw("e"), ag("s1"), "eng", res("cpus:1"), res("cpus(eng,dynamic):2")).empty());
  CHECK(!alloc.update_allocation(fw("e"), ag("s1"), "eng", res("cpus:8"), res("cpus(eng,dynamic):8")).empty());
  CHECK(!alloc.update_allocation(fw("e"), ag("s1"), "eng", res("cpus:1"), res("cpus(ops,dynamic):1")).empty());
  CHECK(!alloc.update_allocation(fw("e"), ag("s1"), "ops", res("cpus:1"), res("cpus(eng,dynamic):1")).empty());
  CHECK(!alloc.update_allocation(fw("x"), ag("s1"), "eng", res("cpus:1"), res("cpus(eng,dynamic):1")).empty());
  CHECK(!alloc.update_allocation(fw("e"), ag("x"), "eng", res("cpus:1"), res("cpus(eng,dynamic):1")).empty());
  CHECK_EQUAL(snapshot(fws, agents), before);
  CHECK_EQUAL(alloc.total(ag("s1")), total_before);
  // RESERVE 2 cpus.
  CHECK_EQUAL(alloc.update_allocation(fw("e"), ag("s1"), "eng", res("cpus:2"), res("cpus(eng,dynamic):2")), "");
  CHECK_EQUAL(alloc.total(ag("s1")), res("cpus:2;cpus(eng,dynamic):2;mem:1024"));
  CHECK_EQUAL(alloc.allocated(fw("e"), ag("s1"), "eng"), res("cpus:2;cpus(eng,dynamic):2;mem:1024"));
  CHECK_EQUAL(alloc.dominant_share(fw("e")), 1.0);
  // Everything comes back with a long filter: another role sees only the unreserved part.
  CHECK_EQUAL(alloc.recover(fw("e"), ag("s1"), "eng", res("cpus:2;cpus(eng,dynamic):2;mem:1024"), 3600, now), "");
  CHECK_EQUAL(alloc.consumed_quota("eng"), res("cpus:2"));
  CHECK_EQUAL(alloc.add_framework(fw("o"), in_roles({"ops"})), "");
  auto r = run();
  CHECK_EQUAL(r["o@s1:ops"], res("cpus:2;mem:1024"));
  CHECK_EQUAL(alloc.available(ag("s1")), res("cpus(eng,dynamic):2"));
  // The reservation is e's: revived, it gets it.
  CHECK_EQUAL(alloc.revive(fw("e")), "");
  r = run();
  CHECK_EQUAL(r["e@s1:eng"], res("cpus(eng,dynamic):2"));
  // UNRESERVE it again.
  CHECK_EQUAL(alloc.update_allocation(fw("e"), ag("s1"), "eng", res("cpus(eng,dynamic):2"), res("cpus:2")), "");
  CHECK_EQUAL(alloc.total(ag("s1")), res("cpus:4;mem:1024"));
  CHECK(alloc.consumed_quota("eng") == res("cpus:2"));
}

TEST(update_available converts free resources of an agent and only those) {
  CHECK_EQUAL(alloc.add_agent(ag("s1"), res("cpus:4;mem:1024")), "");
  // Bad: unknown agent, quantities differ, nothing, more than the agent has.
  CHECK(!alloc.update_available(ag("x"), res("cpus:1"), res("cpus(eng,dynamic):1")).empty());
  CHECK(!alloc.update_available(ag("s1"), res("cpus:1"), res("cpus(eng,dynamic):2")).empty());
  CHECK(!alloc.update_available(ag("s1"), resource_set{}, resource_set{}).empty());
  CHECK(!alloc.update_available(ag("s1"), res("cpus:8"), res("cpus(eng,dynamic):8")).empty());
  CHECK_EQUAL(alloc.total(ag("s1")), res("cpus:4;mem:1024"));
  // RESERVE 2 free cpus for eng: a framework of another role is offered only the rest.
  CHECK_EQUAL(alloc.update_available(ag("s1"), res("cpus:2"), res("cpus(eng,dynamic):2")), "");
  CHECK_EQUAL(alloc.total(ag("s1")), res("cpus:2;cpus(eng,dynamic):2;mem:1024"));
  CHECK_EQUAL(alloc.available(ag("s1")), res("cpus:2;cpus(eng,dynamic):2;mem:1024"));
  CHECK_EQUAL(alloc.add_framework(fw("o"), in_roles({"ops"})), "");
  auto r = run();
  CHECK_EQUAL(r["o@s1:ops"], res("cpus:2;mem:1024"));
  // What is allocated is not free: refused, nothing changes.
  CHECK(!alloc.update_available(ag("s1"), res("cpus:2"), res("cpus(ops,dynamic):2")).empty());
  CHECK_EQUAL(alloc.available(ag("s1")), res("cpus(eng,dynamic):2"));
  // The reservation goes to eng; UNRESERVE of allocated resources is refused too.
  CHECK_EQUAL(alloc.add_framework(fw("e"), in_roles({"eng"})), "");
  r = run();
  CHECK_EQUAL(r["e@s1:eng"], res("cpus(eng,dynamic):2"));
  CHECK(!alloc.update_available(ag("s1"), res("cpus(eng,dynamic):2"), res("cpus:2")).empty());
  // Given back, it can be unreserved; the total is as before.
  CHECK_EQUAL(alloc.recover(fw("e"), ag("s1"), "eng", res("cpus(eng,dynamic):2"), 0, now), "");
  CHECK_EQUAL(alloc.update_available(ag("s1"), res("cpus(eng,dynamic):2"), res("cpus:2")), "");
  CHECK_EQUAL(alloc.total(ag("s1")), res("cpus:4;mem:1024"));
  CHECK_EQUAL(alloc.available(ag("s1")), res("cpus:2"));
}

TEST(quota input is validated) {
  auto rejected = [&](const std::string& err) {
    CHECK(!err.empty());
    MESSAGE("rejected: " << err);
  };
  CHECK_EQUAL(alloc.set_quota("eng", quota_info{res("cpus:4"), res("cpus:8")}), "");
  rejected(alloc.set_quota("*", quota_info{res("cpus:1"), {}}));
  rejected(alloc.set_quota("", quota_info{res("cpus:1"), {}}));
  rejected(alloc.set_quota("a//b", quota_info{res("cpus:1"), {}}));
  rejected(alloc.set_quota("x", quota_info{res("ports:[1-2]"), {}}));
  rejected(alloc.set_quota("x", quota_info{res("cpus(x):1"), {}}));
  rejected(alloc.set_quota("x", quota_info{res("cpus:2"), res("cpus:1")}));
  rejected(alloc.set_quota("eng/a", quota_info{{}, res("cpus:9")}));         // above the parent's limit
  rejected(alloc.set_quota("eng/a", quota_info{res("cpus:5"), {}}));         // above the parent's guarantee
  CHECK_EQUAL(alloc.set_quota("eng/a", quota_info{res("cpus:3"), {}}), "");
  rejected(alloc.set_quota("eng/b", quota_info{res("cpus:2"), {}}));         // 3 + 2 > 4
  rejected(alloc.set_quota("eng", quota_info{res("cpus:2"), res("cpus:8")})); // below the children's 3
  CHECK_EQUAL(alloc.set_quota("eng/a/x", quota_info{{}, res("cpus:1")}), "");
  rejected(alloc.set_quota("eng/a", quota_info{res("cpus:0.5"), res("cpus:0.5")})); // descendant limit 1 > 0.5
  CHECK_EQUAL(alloc.quota("eng").guarantee, res("cpus:4"));
  CHECK_EQUAL(alloc.quota("eng/a").guarantee, res("cpus:3"));
  // Removing a quota.
  CHECK_EQUAL(alloc.set_quota("eng/a/x", quota_info{}), "");
  CHECK(alloc.quota("eng/a/x").limit.empty());
}

TEST(roles lists every role with its numbers) {
  CHECK_EQUAL(alloc.add_framework(fw("a"), in_roles({"eng/a"})), "");
  CHECK_EQUAL(alloc.add_framework(fw("b"), in_roles({"ops", "eng"})), "");
  CHECK_EQUAL(alloc.set_weight("ops", 2), "");
  CHECK_EQUAL(alloc.set_quota("eng", quota_info{res("cpus:1"), {}}), "");
  CHECK_EQUAL(alloc.add_agent(ag("s1"), res("cpus:2;mem:256;cpus(eng/a):1")), "");
  run();
  auto rs = alloc.roles();
  std::vector<std::string> names;
  for (auto& r : rs)
    names.push_back(r.name);
  CHECK_EQUAL(names, (std::vector<std::string>{"eng", "eng/a", "ops"}));
  CHECK_EQUAL(rs[0].frameworks, (std::vector<framework_id>{fw("b")}));
  CHECK_EQUAL(rs[0].quota.guarantee, res("cpus:1"));
  CHECK_EQUAL(rs[0].reserved, res("cpus:1"));
  CHECK_EQUAL(rs[1].frameworks, (std::vector<framework_id>{fw("a")}));
  CHECK_EQUAL(rs[2].weight, 2.0);
  resource_set all;
  for (auto& r : rs)
    if (r.name != "eng/a")
      all += r.allocated;
  CHECK_EQUAL(all.scalar_value("cpus"), 3.0);
}

// Runs skip an agent that nobody could take (see agent_state::dead); every event that can make someone eligible
// again must bring it back.
TEST(an agent that every framework declined comes back on every event that can change that) {
  CHECK_EQUAL(alloc.add_framework(fw("a")), "");
  CHECK_EQUAL(alloc.add_agent(ag("s1"), res("cpus:4;mem:4096")), "");
  CHECK_EQUAL(alloc.add_agent(ag("s2"), res("cpus:4;mem:4096")), "");
  auto decline_all = [&](const std::string& f) {
    for (auto& a : alloc.allocate(now)) {
      CHECK_EQUAL(a.framework.value, f);
      CHECK_EQUAL(alloc.recover(a.framework, a.agent, a.role, a.resources, 3600, now), "");
    }
  };
  decline_all("a");
  decline_all("a");
  CHECK(run().empty());
  CHECK(run().empty()); // skipped now
  // A new framework.
  CHECK_EQUAL(alloc.add_framework(fw("b")), "");
  auto r = run();
  CHECK_EQUAL(r.count("b@s1") + r.count("b@s2"), 2u);
  for (auto& [key, what] : r)
    CHECK_EQUAL(alloc.recover(fw("b"), ag(key.substr(2)), "*", what, 3600, now), "");
  CHECK(run().empty());
  // Revive.
  CHECK_EQUAL(alloc.revive(fw("a")), "");
  r = run();
  CHECK_EQUAL(r.count("a@s1") + r.count("a@s2"), 2u);
  for (auto& [key, what] : r)
    CHECK_EQUAL(alloc.recover(fw("a"), ag(key.substr(2)), "*", what, 3600, now), "");
  CHECK(run().empty());
  // Deactivate and activate.
  CHECK_EQUAL(alloc.deactivate_framework(fw("b")), "");
  CHECK(run().empty());
  CHECK_EQUAL(alloc.revive(fw("b")), "");
  CHECK(run().empty()); // b is inactive: revive alone gives it nothing
  CHECK_EQUAL(alloc.activate_framework(fw("b")), "");
  r = run();
  CHECK_EQUAL(r.count("b@s1") + r.count("b@s2"), 2u);
  // More free resources on one agent lift the filters there (the offer is larger than what was declined).
  CHECK_EQUAL(alloc.recover(fw("b"), ag("s1"), "*", res("cpus:1"), 3600, now), "");
  CHECK_EQUAL(alloc.recover(fw("b"), ag("s2"), "*", r["b@s2"], 3600, now), "");
  CHECK(run().empty()); // s1: cpus:1 declined by b, a filtered for the whole agent; s2 declined by both
  CHECK_EQUAL(alloc.recover(fw("b"), ag("s1"), "*", res("cpus:3;mem:4096"), 0, now), "");
  r = run();
  REQUIRE_EQUAL(r.size(), 1u);
  CHECK_EQUAL(r.begin()->second, res("cpus:4;mem:4096"));
  // A framework in another role.
  CHECK_EQUAL(alloc.recover(fw(r.begin()->first.substr(0, 1)), ag("s1"), "*", res("cpus:4;mem:4096"), 3600, now),
              "");
  CHECK(run().empty());
  CHECK_EQUAL(alloc.add_framework(fw("c"), in_roles({"ops"})), "");
  r = run();
  CHECK_EQUAL(r.count("c@s1:ops") + r.count("c@s2:ops"), 2u);
}

TEST(an agent added with allocations in use offers only the rest and ignores unknown frameworks) {
  CHECK_EQUAL(alloc.add_framework(fw("a"), in_roles({"eng"})), "");
  CHECK_EQUAL(alloc.add_framework(fw("b")), "");
  size_t ignored = 99;
  std::vector<allocation> used{{fw("a"), ag("s1"), "eng", res("cpus:1;mem:256")},
                               {fw("a"), ag("s1"), "eng", res("cpus:1")},
                               {fw("ghost"), ag("s1"), "*", res("cpus:1")},   // unknown framework
                               {fw("b"), ag("s1"), "ops", res("cpus:1")},     // not b's role
                               {fw("b"), ag("s9"), "*", res("cpus:1")},       // another agent
                               {fw("b"), ag("s1"), "*", res("cpus:100")}};    // more than there is
  CHECK_EQUAL(alloc.add_agent(ag("s1"), res("cpus:4;mem:1024"), used, &ignored), "");
  CHECK_EQUAL(ignored, 4u);
  CHECK_EQUAL(alloc.allocated(fw("a"), ag("s1"), "eng"), res("cpus:2;mem:256"));
  CHECK_EQUAL(alloc.available(ag("s1")), res("cpus:2;mem:768"));
  // b is below a's share: it gets the rest; a's allocation is recoverable as usual.
  auto r = run();
  REQUIRE_EQUAL(r.size(), 1u);
  CHECK_EQUAL(r["b@s1"], res("cpus:2;mem:768"));
  CHECK_EQUAL(alloc.recover(fw("a"), ag("s1"), "eng", res("cpus:2;mem:256"), 0, now), "");
  CHECK_EQUAL(alloc.available(ag("s1")), res("cpus:2;mem:256"));
  // The agent's ID is taken: refused, nothing changes.
  auto before = snapshot({"a", "b"}, {"s1"});
  CHECK_NOT_EQUAL(alloc.add_agent(ag("s1"), res("cpus:4"), used), "");
  CHECK_EQUAL(snapshot({"a", "b"}, {"s1"}), before);
}

TEST(a deactivated agent is offered to nobody and keeps its allocations until activated) {
  CHECK_EQUAL(alloc.add_framework(fw("a")), "");
  CHECK_EQUAL(alloc.add_agent(ag("s1"), res("cpus:4;mem:1024")), "");
  CHECK_EQUAL(alloc.add_agent(ag("s2"), res("cpus:4;mem:1024")), "");
  auto r = run();
  REQUIRE_EQUAL(r.size(), 2u);
  CHECK_EQUAL(alloc.deactivate_agent(ag("s1")), "");
  CHECK(!alloc.is_agent_active(ag("s1")));
  CHECK(alloc.is_agent_active(ag("s2")));
  CHECK_EQUAL(alloc.allocated(fw("a"), ag("s1")), res("cpus:4;mem:1024"));
  // Recovering works while inactive, but nothing of s1 is offered.
  CHECK_EQUAL(alloc.recover(fw("a"), ag("s1"), "*", res("cpus:3;mem:1024"), 0, now), "");
  CHECK_EQUAL(alloc.recover(fw("a"), ag("s2"), "*", res("cpus:4;mem:1024"), 0, now), "");
  CHECK_EQUAL(alloc.offerable_agent_count(), 1u);
  r = run();
  REQUIRE_EQUAL(r.size(), 1u);
  CHECK_EQUAL(r["a@s2"], res("cpus:4;mem:1024"));
  CHECK(run().empty());
  CHECK_EQUAL(alloc.activate_agent(ag("s1")), "");
  r = run();
  REQUIRE_EQUAL(r.size(), 1u);
  CHECK_EQUAL(r["a@s1"], res("cpus:3;mem:1024"));
  CHECK_EQUAL(alloc.allocated(fw("a"), ag("s1")), res("cpus:4;mem:1024"));
  // Unknown agents are refused; removal of an inactive agent works.
  CHECK_NOT_EQUAL(alloc.deactivate_agent(ag("nope")), "");
  CHECK_NOT_EQUAL(alloc.activate_agent(ag("nope")), "");
  CHECK_EQUAL(alloc.deactivate_agent(ag("s1")), "");
  CHECK_EQUAL(alloc.remove_agent(ag("s1")), "");
  CHECK(!alloc.has_agent(ag("s1")));
}

FIXTURE_SCOPE_END()
