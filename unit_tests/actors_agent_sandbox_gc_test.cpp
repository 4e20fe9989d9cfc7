#define CAF_SUITE actors_agent_sandbox_gc
#include "test.hpp"

#include "actors/agent/sandbox_gc.hpp"

#include <algorithm>

using namespace mesoscaf;
using namespace std::chrono_literals;

namespace {

sandbox_gc::time_point at(std::chrono::seconds s) {
  return sandbox_gc::time_point{} + s;
}

bool has(const std::vector<std::string>& xs, const std::string& x) {
  return std::find(xs.begin(), xs.end(), x) != xs.end();
}

} // namespace

TEST(the allowed age shrinks as the disk fills and is never negative) {
  auto week = sandbox_gc::duration{std::chrono::hours(168)};
  CHECK(sandbox_gc::allowed_age(week, 0.1, 0.0) == std::chrono::duration_cast<sandbox_gc::duration>(week * 0.9));
  CHECK(sandbox_gc::allowed_age(100s, 0.1, 0.5) == sandbox_gc::duration{40s});
  CHECK(sandbox_gc::allowed_age(100s, 0.1, 0.95) == sandbox_gc::duration{0});
  CHECK(sandbox_gc::allowed_age(100s, 0.0, 2.0) == sandbox_gc::duration{0});  // usage clamped to 1
  CHECK(sandbox_gc::allowed_age(100s, 0.0, -1.0) == sandbox_gc::duration{100s});
}

TEST(a sandbox is due once its allowed age has passed and only once) {
  sandbox_gc gc{100s, 0.0};
  gc.schedule("/w/a", at(0s));
  gc.schedule("/w/b", at(50s));
  CHECK(gc.due(at(99s), 0.0).empty());
  auto first = gc.due(at(100s), 0.0);
  CHECK_EQUAL(first, std::vector<std::string>{"/w/a"});
  CHECK(!gc.scheduled("/w/a"));
  CHECK(gc.due(at(120s), 0.0).empty());
  CHECK_EQUAL(gc.due(at(150s), 0.0), std::vector<std::string>{"/w/b"});
  CHECK_EQUAL(gc.size(), 0u);
}

TEST(a fuller disk makes sandboxes due sooner) {
  sandbox_gc gc{100s, 0.1};
  gc.schedule("/w/old", at(0s));
  gc.schedule("/w/new", at(60s));
  // 0.9 * 100 s allowed on an empty disk; 0.4 * 100 s at 50% usage.
  CHECK(gc.due(at(70s), 0.0).empty());
  CHECK_EQUAL(gc.due(at(70s), 0.5), std::vector<std::string>{"/w/old"});
  CHECK(gc.due(at(99s), 0.5).empty());
  CHECK_EQUAL(gc.due(at(100s), 0.5), std::vector<std::string>{"/w/new"});
}

TEST(due returns the oldest first) {
  sandbox_gc gc{10s, 0.0};
  gc.schedule("/w/b", at(5s));
  gc.schedule("/w/a", at(1s));
  CHECK_EQUAL(gc.due(at(100s), 0.0), (std::vector<std::string>{"/w/a", "/w/b"}));
}

TEST(an unscheduled sandbox is never due) {
  sandbox_gc gc{10s, 0.0};
  gc.schedule("/w/live", at(0s));
  CHECK(gc.unschedule("/w/live"));
  CHECK(!gc.unschedule("/w/live"));
  CHECK(gc.due(at(100s), 1.0).empty());
}

TEST(scheduling again keeps the later time) {
  sandbox_gc gc{10s, 0.0};
  gc.schedule("/w/x", at(0s));
  gc.schedule("/w/x", at(50s));
  gc.schedule("/w/x", at(20s));
  CHECK(gc.due(at(55s), 0.0).empty());
  CHECK(has(gc.due(at(60s), 0.0), "/w/x"));
}

TEST(a full disk with headroom makes everything due at once) {
  sandbox_gc gc{std::chrono::hours(168), 0.1};
  gc.schedule("/w/x", at(100s));
  CHECK(gc.due(at(100s), 0.5).empty());
  CHECK(has(gc.due(at(100s), 0.9), "/w/x"));
}
