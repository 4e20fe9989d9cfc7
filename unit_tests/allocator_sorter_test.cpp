#define CAF_SUITE allocator_sorter
#include "test.hpp"

#include "allocator/drf_sorter.hpp"

#include <map>
#include <memory>
#include <string>
#include <vector>

using namespace mesoscaf;

namespace {

resource_set res(const std::string& text) {
  auto r = resource_set::parse(text);
  REQUIRE(r.has_value());
  return *r;
}

struct fixture {
  std::unique_ptr<sorter> impl = std::make_unique<drf_sorter>();
  sorter& s = *impl; // the tests use the interface only
  std::map<sorter::client, std::string> names;

  fixture() {
    s.add_total(res("cpus:10;mem:100"));
  }

  // Adds client `name` in `role`; the test names clients uniquely.
  sorter::client add(const std::string& role, const std::string& name) {
    auto c = s.add_client(s.add_role(role), name);
    names[c] = name;
    return c;
  }

  // Whom the predicates made by `recording` were asked, in order.
  std::vector<sorter::client> asked;

  // A predicate for find() that records whom it is asked and takes whom `take` takes.
  template <class F>
  auto recording(F take) {
    return [this, take](sorter::client x) {
      asked.push_back(x);
      return take(x);
    };
  }

  // The order as "a,b,c".
  std::string order() {
    std::string out;
    for (auto c : s.sort())
      out += (out.empty() ? "" : ",") + names.at(c);
    return out;
  }
};

} // namespace

FIXTURE_SCOPE(sorter_tests, fixture)

TEST(clients are ordered by dominant share) {
  auto a = add("*", "a");
  auto b = add("*", "b");
  auto c = add("*", "c");
  s.allocated(a, res("cpus:5"));         // 0.5
  s.allocated(b, res("mem:20"));         // 0.2
  s.allocated(c, res("cpus:1;mem:40"));  // 0.4 (mem dominates)
  CHECK_EQUAL(order(), "b,c,a");
  CHECK_EQUAL(s.share(a), 0.5);
  CHECK_EQUAL(s.share(c), 0.4);
  // Giving back moves a client forward.
  s.unallocated(a, res("cpus:4"));       // 0.1
  CHECK_EQUAL(order(), "a,b,c");
}

TEST(ties go by name whatever the order of arrival) {
  add("*", "c");
  auto a = add("*", "a");
  auto b = add("*", "b");
  CHECK_EQUAL(order(), "a,b,c");
  s.allocated(a, res("cpus:2"));
  s.allocated(b, res("mem:20"));  // both 0.2
  CHECK_EQUAL(order(), "c,a,b");
}

TEST(the weight of a role divides its share) {
  auto x = add("r1", "x");
  auto y = add("r2", "y");
  s.allocated(x, res("cpus:4"));  // 0.4
  s.allocated(y, res("cpus:3"));  // 0.3
  CHECK_EQUAL(order(), "y,x");
  s.set_weight(s.find_role("r1"), 2);  // 0.4 / 2 = 0.2
  CHECK_EQUAL(s.weight(s.find_role("r1")), 2.0);
  CHECK_EQUAL(s.role_share(s.find_role("r1")), 0.2);
  CHECK_EQUAL(order(), "x,y");
  // The weight orders roles, not the clients inside one role.
  CHECK_EQUAL(s.share(x), 0.4);
}

TEST(the share of a parent role counts its children) {
  auto prod = add("eng/prod", "prod");
  auto dev = add("eng/dev", "dev");
  auto ops = add("ops", "ops");
  s.allocated(prod, res("cpus:3"));  // eng: 0.3
  s.allocated(ops, res("cpus:2"));   // ops: 0.2
  // Flat DRF would say dev (0), ops (0.2), prod (0.3); eng as a whole is above ops.
  CHECK_EQUAL(order(), "ops,dev,prod");
  CHECK_EQUAL(s.role_share(s.find_role("eng")), 0.3);
  CHECK_EQUAL(s.role_share(s.find_role("eng/dev")), 0.0);
  // dev's allocation counts for eng too: eng 0.3 + 0.05 stays above ops.
  s.allocated(dev, res("mem:5"));
  CHECK_EQUAL(s.role_share(s.find_role("eng")), 0.3);
  s.allocated(dev, res("cpus:1"));
  CHECK_EQUAL(s.role_share(s.find_role("eng")), 0.4);
  CHECK_EQUAL(order(), "ops,dev,prod");
  s.unallocated(prod, res("cpus:3"));  // eng: 0.1
  CHECK_EQUAL(order(), "prod,dev,ops");
}

TEST(the own clients of a role are one more sibling of its sub-roles) {
  auto own = add("eng", "own");
  auto sub = add("eng/prod", "sub");
  s.allocated(own, res("cpus:2"));  // the group of eng's own clients: 0.2
  s.allocated(sub, res("cpus:1"));  // eng/prod: 0.1
  CHECK_EQUAL(order(), "sub,own");
  s.allocated(sub, res("cpus:2"));  // eng/prod: 0.3
  CHECK_EQUAL(order(), "own,sub");
}

TEST(inactive clients are skipped but their allocation counts) {
  auto a = add("eng", "a");
  auto b = add("eng", "b");
  auto c = add("ops", "c");
  s.allocated(a, res("cpus:1"));
  s.allocated(b, res("cpus:3"));
  s.allocated(c, res("cpus:2"));
  CHECK_EQUAL(order(), "c,a,b");
  s.deactivate(a);
  CHECK(!s.is_active(a));
  CHECK_EQUAL(order(), "c,b");
  CHECK_EQUAL(s.role_share(s.find_role("eng")), 0.4);
  s.deactivate(b);
  CHECK_EQUAL(order(), "c");  // eng has no active client: it leaves the order
  s.activate(a);
  CHECK_EQUAL(order(), "c,a");
  s.activate(b);
  CHECK_EQUAL(order(), "c,a,b");
}

TEST(a removed client leaves the order and the shares of its roles) {
  auto a = add("eng/prod", "a");
  auto b = add("ops", "b");
  s.allocated(a, res("cpus:1"));
  s.allocated(b, res("cpus:2"));
  CHECK_EQUAL(order(), "a,b");
  s.remove_client(a);
  names.erase(a);
  CHECK_EQUAL(order(), "b");
  CHECK_EQUAL(s.role_share(s.find_role("eng")), 0.0);
  CHECK_EQUAL(s.role_share(s.find_role("eng/prod")), 0.0);
  // The handle is reused, with nothing allocated.
  auto c = add("ops", "c");
  CHECK_EQUAL(c, a);
  CHECK_EQUAL(s.share(c), 0.0);
  CHECK_EQUAL(order(), "c,b");
}

TEST(an ineligible role leaves the order with its subtree) {
  auto a = add("eng/prod", "a");
  auto b = add("ops", "b");
  s.allocated(b, res("cpus:1"));
  CHECK_EQUAL(order(), "a,b");
  s.set_eligible(s.find_role("eng"), false);
  CHECK_EQUAL(order(), "b");
  // A search started at the role itself still looks inside it.
  s.begin_pass();
  auto any = [](sorter::client) { return true; };
  CHECK_EQUAL(s.find(s.find_role("eng"), any), a);
  s.set_eligible(s.find_role("eng"), true);
  CHECK_EQUAL(order(), "a,b");
}

TEST(a search pass rules out refused and served clients until the next pass) {
  auto a = add("*", "a");
  auto b = add("*", "b");
  auto c = add("*", "c");
  auto only_c = recording([c](sorter::client x) { return x == c; });
  s.begin_pass();
  CHECK_EQUAL(s.find(s.root(), only_c), c);
  CHECK_EQUAL(asked, (std::vector<sorter::client>{a, b, c}));
  // a and b were refused: they are not asked again in this pass.
  asked.clear();
  CHECK_EQUAL(s.find(s.root(), only_c), c);
  CHECK_EQUAL(asked, (std::vector<sorter::client>{c}));
  s.rule_out(c);
  asked.clear();
  CHECK_EQUAL(s.find(s.root(), only_c), sorter::none);
  CHECK(asked.empty());
  // A new pass asks everyone again.
  s.begin_pass();
  auto all = [&](sorter::client x) { return x == a; };
  CHECK_EQUAL(s.find(s.root(), all), a);
}

TEST(clients ruled out when a pass begins are never asked in it) {
  auto a = add("*", "a");
  auto b = add("*", "b");
  auto c = add("*", "c");
  auto any = recording([](sorter::client) { return true; });
  std::vector<uint64_t> bits(1, 0);
  bits[0] |= uint64_t{1} << a;
  bits[0] |= uint64_t{1} << b;
  s.begin_pass(bits);
  CHECK_EQUAL(s.find(s.root(), any), c);
  CHECK_EQUAL(asked, (std::vector<sorter::client>{c}));
  // The next pass starts from its own bits only.
  s.begin_pass();
  CHECK_EQUAL(s.find(s.root(), any), a);
}

TEST(a search follows the hierarchical order) {
  auto prod = add("eng/prod", "prod");
  add("eng/dev", "dev");
  auto ops = add("ops", "ops");
  s.allocated(prod, res("cpus:3"));
  s.allocated(ops, res("cpus:2"));
  auto refuse = recording([](sorter::client) { return false; });
  s.begin_pass();
  CHECK_EQUAL(s.find(s.root(), refuse), sorter::none);
  std::string seen;
  for (auto c : asked)
    seen += (seen.empty() ? "" : ",") + names.at(c);
  CHECK_EQUAL(seen, "ops,dev,prod");
}

TEST(a change of the total re-keys every share) {
  auto a = add("*", "a");
  auto b = add("*", "b");
  s.allocated(a, res("cpus:5"));   // 0.5
  s.allocated(b, res("mem:40"));   // 0.4
  CHECK_EQUAL(order(), "b,a");
  s.add_total(res("cpus:10"));     // a: 5/20 = 0.25
  CHECK_EQUAL(s.share(a), 0.25);
  CHECK_EQUAL(order(), "a,b");
  s.remove_total(res("cpus:10"));
  CHECK_EQUAL(order(), "b,a");
  CHECK_EQUAL(s.share_of(res("cpus:1;mem:50")), 0.5);
}

TEST(amounts by dimension count like the resource sets they stand for and add up per subtree) {
  auto a = add("eng/prod", "a");
  auto b = add("eng/dev", "b");
  auto cpus = s.dimension("cpus");
  auto mem = s.dimension("mem");
  CHECK_NOT_EQUAL(cpus, mem);
  CHECK_EQUAL(s.dimension("cpus"), cpus); // stable
  auto gpus = s.dimension("gpus");        // new names get the next number
  CHECK_EQUAL(gpus, std::max(cpus, mem) + 1);
  s.allocated(a, sorter::quantities{{cpus, 4000}, {mem, 10000}}); // cpus:4;mem:10 -> 0.4
  s.allocated(b, res("cpus:1;mem:30"));                           // 0.3
  CHECK_EQUAL(s.share(a), 0.4);
  CHECK_EQUAL(order(), "b,a");
  auto eng = s.find_role("eng");
  CHECK_EQUAL(s.subtree_allocated(eng, cpus), 5000);
  CHECK_EQUAL(s.subtree_allocated(eng, mem), 40000);
  CHECK_EQUAL(s.subtree_allocated(s.find_role("eng/prod"), mem), 10000);
  CHECK_EQUAL(s.subtree_allocated(eng, gpus), 0);
  s.unallocated(a, sorter::quantities{{cpus, 4000}, {mem, 10000}});
  CHECK_EQUAL(s.share(a), 0.0);
  CHECK_EQUAL(order(), "a,b");
  CHECK_EQUAL(s.subtree_allocated(eng, cpus), 1000);
  s.remove_client(b); // what it held leaves its roles
  CHECK_EQUAL(s.subtree_allocated(eng, mem), 0);
}

FIXTURE_SCOPE_END()
