#define CAF_SUITE allocator_drf_sorter
#include "test.hpp"

#include "allocator/drf_sorter.hpp"

#include <algorithm>
#include <string>
#include <vector>

using namespace mesoscaf;

namespace {

resource_set res(const std::string& text) {
  auto r = resource_set::parse(text);
  REQUIRE(r.has_value());
  return *r;
}

using names = std::vector<std::string>;

struct fixture {
  drf_sorter s;
  drf_sorter::client a = drf_sorter::npos;
  drf_sorter::client b = drf_sorter::npos;
  drf_sorter::client c = drf_sorter::npos;

  fixture() {
    s.set_total(res("cpus:10;mem:1000"));
    a = s.add("a");
    b = s.add("b");
    c = s.add("c");
    s.activate(a);
    s.activate(b);
    s.activate(c);
  }
};

} // namespace

FIXTURE_SCOPE(drf_sorter_tests, fixture)

TEST(clients are added once and looked up by name) {
  CHECK_EQUAL(s.size(), 3u);
  CHECK_EQUAL(s.add("a"), drf_sorter::npos);
  CHECK_EQUAL(s.add(""), drf_sorter::npos);
  CHECK_EQUAL(s.find("b"), b);
  CHECK_EQUAL(s.find("nope"), drf_sorter::npos);
  CHECK_EQUAL(s.name(c), "c");
  CHECK(s.remove(b));
  CHECK(!s.remove(b));
  CHECK_EQUAL(s.find("b"), drf_sorter::npos);
  CHECK_EQUAL(s.size(), 2u);
  CHECK_EQUAL(s.sorted(), (names{"a", "c"}));
}

TEST(dominant share is the largest fraction of any scalar) {
  s.allocated(a, res("cpus:2;mem:100"));  // 0.2 cpus, 0.1 mem
  s.allocated(b, res("cpus:1;mem:500"));  // 0.1 cpus, 0.5 mem
  CHECK_EQUAL(s.share(a), 0.2);
  CHECK_EQUAL(s.share(b), 0.5);
  CHECK_EQUAL(s.share(c), 0.0);
  CHECK_EQUAL(s.allocated_milli(a, "cpus"), 2000);
  CHECK_EQUAL(s.total_milli("mem"), 1000000);
  // Resources the cluster has none of do not count (no division by zero).
  s.allocated(c, res("gpus:1"));
  CHECK_EQUAL(s.share(c), 0.0);
}

TEST(order is ascending share and updates when allocations change) {
  CHECK_EQUAL(s.sorted(), (names{"a", "b", "c"}));  // all zero: by name
  s.allocated(a, res("cpus:5"));
  CHECK_EQUAL(s.sorted(), (names{"b", "c", "a"}));
  s.allocated(b, res("mem:600"));
  CHECK_EQUAL(s.sorted(), (names{"c", "a", "b"}));
  s.unallocated(b, res("mem:600"));
  CHECK_EQUAL(s.sorted(), (names{"b", "c", "a"}));
  s.unallocated(a, res("cpus:5"));
  CHECK_EQUAL(s.sorted(), (names{"a", "b", "c"}));
  // Taking back more than allocated clamps at zero instead of going negative.
  s.unallocated(a, res("cpus:1"));
  CHECK_EQUAL(s.allocated_milli(a, "cpus"), 0);
  CHECK_EQUAL(s.share(a), 0.0);
}

TEST(ties are broken by client name deterministically) {
  s.allocated(c, res("cpus:1"));
  s.allocated(a, res("cpus:1"));
  s.allocated(b, res("mem:100"));   // same share 0.1 via another resource
  CHECK_EQUAL(s.sorted(), (names{"a", "b", "c"}));
  auto d = s.add("0d");
  s.activate(d);
  s.allocated(d, res("cpus:1"));
  CHECK_EQUAL(s.sorted(), (names{"0d", "a", "b", "c"}));
}

TEST(inactive clients leave the order but keep their allocation) {
  s.allocated(b, res("cpus:3"));
  s.deactivate(a);
  CHECK(!s.active(a));
  CHECK_EQUAL(s.sorted(), (names{"c", "b"}));
  s.allocated(a, res("cpus:1"));  // an inactive client may still hold resources
  s.activate(a);
  CHECK_EQUAL(s.sorted(), (names{"c", "a", "b"}));
  s.deactivate(a);
  s.deactivate(a);  // idempotent
  s.activate(a);
  s.activate(a);
  CHECK_EQUAL(s.sorted(), (names{"c", "a", "b"}));
}

TEST(a change of totals re-sorts every client) {
  s.allocated(a, res("cpus:2"));    // 0.2
  s.allocated(b, res("mem:300"));   // 0.3
  CHECK_EQUAL(s.sorted(), (names{"c", "a", "b"}));
  s.add_total(res("mem:2000"));     // mem total 3000: b drops to 0.1
  CHECK_EQUAL(s.share(b), 0.1);
  CHECK_EQUAL(s.sorted(), (names{"c", "b", "a"}));
  s.remove_total(res("cpus:8"));    // cpus total 2: a at 1.0
  CHECK_EQUAL(s.share(a), 1.0);
  CHECK_EQUAL(s.sorted(), (names{"c", "b", "a"}));
  s.allocated(c, res("cpus:2;mem:3000"));  // c at 1.0, ties with a and goes after it by name
  CHECK_EQUAL(s.sorted(), (names{"b", "a", "c"}));
}

TEST(weights divide the share) {
  s.allocated(a, res("cpus:4"));  // 0.4
  s.allocated(b, res("cpus:3"));  // 0.3
  CHECK_EQUAL(s.sorted(), (names{"c", "b", "a"}));
  CHECK(s.set_weight(a, 2.0));    // 0.2
  CHECK_EQUAL(s.weight(a), 2.0);
  CHECK_EQUAL(s.share(a), 0.2);
  CHECK_EQUAL(s.sorted(), (names{"c", "a", "b"}));
  CHECK(!s.set_weight(b, 0.0));
  CHECK(!s.set_weight(b, -1.0));
  CHECK(!s.set_weight(b, std::numeric_limits<double>::quiet_NaN()));
  CHECK(!s.set_weight(b, std::numeric_limits<double>::infinity()));
  CHECK(!s.set_weight(drf_sorter::npos, 1.0));
  CHECK_EQUAL(s.weight(b), 1.0);
}

TEST(find_first returns the lowest share client satisfying the predicate) {
  s.allocated(a, res("cpus:1"));
  s.allocated(b, res("cpus:2"));
  s.allocated(c, res("cpus:3"));
  CHECK_EQUAL(s.find_first([&](drf_sorter::client x) { return true; }), a);
  CHECK_EQUAL(s.find_first([&](drf_sorter::client x) { return x != a; }), b);
  CHECK_EQUAL(s.find_first([&](drf_sorter::client x) { return false; }), drf_sorter::npos);
  s.deactivate(b);
  CHECK_EQUAL(s.find_first([&](drf_sorter::client x) { return x != a; }), c);
}

TEST(handles are reused after removal without stale state) {
  s.allocated(b, res("cpus:5"));
  CHECK(s.remove(b));
  auto d = s.add("d");
  CHECK_EQUAL(d, b);  // the freed slot
  CHECK(!s.active(d));
  CHECK_EQUAL(s.share(d), 0.0);
  CHECK_EQUAL(s.weight(d), 1.0);
  s.activate(d);
  CHECK_EQUAL(s.sorted(), (names{"a", "c", "d"}));
}

TEST(many clients stay ordered under random updates) {
  drf_sorter big;
  big.set_total(res("cpus:1000;mem:1000000"));
  // Independent model of every client's allocation, in whole cpus and mem units.
  struct model {
    std::string name;
    long long cpus = 0;
    long long mem = 0;
  };
  std::vector<drf_sorter::client> cs;
  std::vector<model> ms;
  for (int i = 0; i < 200; ++i) {
    ms.push_back(model{"fw" + std::to_string(1000 + i)});
    cs.push_back(big.add(ms.back().name));
    big.activate(cs.back());
  }
  uint32_t x = 12345;
  for (int i = 0; i < 2000; ++i) {
    x = x * 1103515245u + 12345u;
    auto k = (x >> 8) % cs.size();
    if ((x >> 3) % 3 == 0) {
      big.unallocated(cs[k], res("cpus:1"));
      ms[k].cpus = std::max(0LL, ms[k].cpus - 1);  // never below zero
    } else {
      auto mem = (x >> 4) % 2000;
      big.allocated(cs[k], res("cpus:1;mem:" + std::to_string(mem)));
      ms[k].cpus += 1;
      ms[k].mem += mem;
    }
  }
  // Dominant share = max(cpus / 1000, mem / 1000000); scaled by 1000000 it is an exact integer, so ties are
  // exact too and break by name.
  auto key = [](const model& m) { return std::max(m.cpus * 1000, m.mem); };
  std::sort(ms.begin(), ms.end(), [&](const model& l, const model& r) {
    return key(l) != key(r) ? key(l) < key(r) : l.name < r.name;
  });
  names expected;
  for (const auto& m : ms)
    expected.push_back(m.name);
  auto order = big.sorted();
  REQUIRE_EQUAL(order.size(), 200u);
  CHECK_EQUAL(order, expected);
  // The shares really differ, so the order is not just by name.
  CHECK_LESS(key(ms.front()), key(ms.back()));
}

FIXTURE_SCOPE_END()
