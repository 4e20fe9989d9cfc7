#define CAF_SUITE actors_restart_policy
#include "test.hpp"

#include "actors/restart_policy.hpp"
#include "actors/unconfirmed_requests.hpp"

using namespace mesoscaf;
using namespace std::chrono_literals;

namespace {

restart_policy::limits limits(size_t n, restart_policy::duration window, restart_policy::duration min,
                              restart_policy::duration max) {
  restart_policy::limits l;
  l.max_restarts = n;
  l.window = window;
  l.backoff_min = min;
  l.backoff_max = max;
  return l;
}

} // namespace

TEST(restarts within the budget back off exponentially up to the maximum) {
  restart_policy p{limits(5, 60s, 100ms, 500ms)};
  restart_policy::time_point t0{};
  CHECK(p.on_failure(t0) == restart_policy::duration{100ms});
  CHECK(p.on_failure(t0 + 1s) == restart_policy::duration{200ms});
  CHECK(p.on_failure(t0 + 2s) == restart_policy::duration{400ms});
  CHECK(p.on_failure(t0 + 3s) == restart_policy::duration{500ms});
  CHECK_EQUAL(p.recent(t0 + 3s), 4u);
}

TEST(the budget is spent after max restarts within the window) {
  restart_policy p{limits(2, 10s, 0ms, 0ms)};
  restart_policy::time_point t0{};
  CHECK(p.on_failure(t0).has_value());
  CHECK(p.on_failure(t0 + 1s).has_value());
  CHECK(!p.on_failure(t0 + 2s).has_value());
  // Still spent while both restarts are inside the window.
  CHECK(!p.on_failure(t0 + 9s).has_value());
}

TEST(restarts older than the window no longer count) {
  restart_policy p{limits(2, 10s, 100ms, 1s)};
  restart_policy::time_point t0{};
  CHECK(p.on_failure(t0).has_value());
  CHECK(p.on_failure(t0 + 5s).has_value());
  // The first one left the window: one slot free, and the backoff follows what is still in the window.
  auto d = p.on_failure(t0 + 10s);
  REQUIRE(d.has_value());
  CHECK(*d == restart_policy::duration{200ms});
  CHECK_EQUAL(p.recent(t0 + 10s), 2u);
  CHECK_EQUAL(p.recent(t0 + 30s), 0u);
}

TEST(a budget of zero never restarts) {
  restart_policy p{limits(0, 10s, 0ms, 0ms)};
  CHECK(!p.on_failure(restart_policy::time_point{}).has_value());
}

TEST(unconfirmed requests are kept in order until taken and taken once) {
  mesoscaf::unconfirmed_requests<std::string> reqs;
  auto a = reqs.add("a");
  auto b = reqs.add("b");
  auto c = reqs.add("c");
  CHECK(a < b && b < c);
  REQUIRE(reqs.take(b).has_value());
  CHECK(!reqs.take(b).has_value()); // a second answer to the same request
  CHECK(reqs.find(b) == nullptr);
  REQUIRE(reqs.find(c) != nullptr);
  CHECK_EQUAL(*reqs.find(c), "c");
  std::string resent;
  reqs.for_each([&](uint64_t, const std::string& r) { resent += r; });
  CHECK_EQUAL(resent, "ac");
  CHECK_EQUAL(reqs.size(), 2u);
}
