#define CAF_SUITE actors_agent_health
#include "test.hpp"

#include "actors/master/agent_health.hpp"

using namespace mesoscaf;
using namespace std::chrono_literals;

namespace {

struct fixture {
  agent_health::time_point t0{std::chrono::hours(1)};
  agent_id a{"a"};
  agent_id b{"b"};
  agent_id c{"c"};
};

} // namespace

FIXTURE_SCOPE(agent_health_tests, fixture)

TEST(misses in a row queue an agent once and a reply resets them) {
  agent_health h{3};
  h.track(a);
  CHECK(!h.miss(a));
  CHECK(!h.miss(a));
  CHECK_EQUAL(h.misses(a), 2);
  h.reset(a);
  CHECK_EQUAL(h.misses(a), 0);
  CHECK(!h.miss(a));
  CHECK(!h.miss(a));
  CHECK(h.miss(a));     // the third in a row
  CHECK(h.queued(a));
  CHECK(!h.miss(a));    // already queued
  CHECK_EQUAL(h.queue_size(), 1u);
  // A reply while queued: reachable after all.
  h.reset(a);
  CHECK(!h.queued(a));
  CHECK_EQUAL(h.queue_size(), 0u);
  CHECK(!h.next_removal(t0));
  CHECK(!h.next_removal_time(t0));
  // Unknown agents are ignored; forget drops everything.
  CHECK(!h.miss(b));
  CHECK(!h.tracked(b));
  for (int i = 0; i < 3; ++i)
    h.miss(a);
  h.forget(a);
  CHECK(!h.queued(a));
  CHECK(!h.tracked(a));
}

TEST(without a limit every queued agent is removed at once in order) {
  agent_health h{1};
  for (auto& x : {a, b, c}) {
    h.track(x);
    CHECK(h.miss(x));
  }
  CHECK(h.next_removal_time(t0) == t0);
  CHECK_EQUAL(*h.next_removal(t0), a);
  CHECK_EQUAL(*h.next_removal(t0), b);
  CHECK_EQUAL(*h.next_removal(t0), c);
  CHECK(!h.next_removal(t0));
}

TEST(the rate limit allows n removals in any window of the period) {
  agent_health h{1, 2, std::chrono::duration_cast<agent_health::duration>(10s)};
  for (auto& x : {a, b, c}) {
    h.track(x);
    h.miss(x);
  }
  CHECK_EQUAL(*h.next_removal(t0), a);
  CHECK_EQUAL(*h.next_removal(t0 + 1s), b);
  CHECK(!h.next_removal(t0 + 2s));
  CHECK(h.next_removal_time(t0 + 2s) == t0 + 10s);
  CHECK(!h.next_removal(t0 + 9s));
  CHECK_EQUAL(*h.next_removal(t0 + 10s), c);
  // Re-registration (track) takes an agent out of the queue.
  h.track(a);
  h.miss(a);
  h.track(a);
  CHECK(!h.next_removal_time(t0 + 100s));
}

TEST(a limit with count 0 or no period means no limit) {
  agent_health h{1, 0, std::chrono::duration_cast<agent_health::duration>(10s)};
  agent_health h2{0, 5, agent_health::duration::zero()};
  for (auto* x : {&h, &h2})
    for (auto& id : {a, b}) {
      x->track(id);
      CHECK(x->miss(id));   // max_misses 0 counts as 1
    }
  for (auto* x : {&h, &h2}) {
    CHECK(x->next_removal(t0));
    CHECK(x->next_removal(t0));
  }
}

FIXTURE_SCOPE_END()
