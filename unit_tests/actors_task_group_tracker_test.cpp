#define CAF_SUITE actors_task_group_tracker
#include "test.hpp"

#include "actors/sdk/task_group_tracker.hpp"

using namespace mesoscaf;

namespace {

std::vector<task_id> ids(std::initializer_list<const char*> names) {
  std::vector<task_id> out;
  for (auto* n : names)
    out.emplace_back(n);
  return out;
}

} // namespace

TEST(a group starts only when its last task is ready) {
  task_group_tracker g;
  REQUIRE(g.add(ids({"a", "b", "c"}), group_failure_policy::kill_group));
  CHECK(!g.ready(task_id{"a"}));
  CHECK(!g.ready(task_id{"a"}));  // twice is still one
  CHECK(!g.ready(task_id{"c"}));
  CHECK(!g.started(task_id{"a"}));
  CHECK(g.ready(task_id{"b"}));
  CHECK(g.started(task_id{"c"}));
  CHECK(!g.ready(task_id{"b"}));  // started once only
  auto members = g.members(task_id{"b"});
  CHECK(members == ids({"a", "b", "c"}));
  CHECK(!g.ready(task_id{"stranger"}));
}

TEST(bad groups are not recorded) {
  task_group_tracker g;
  CHECK(!g.add({}, group_failure_policy::kill_group));
  CHECK(!g.add(ids({"a", "a"}), group_failure_policy::kill_group));
  REQUIRE(g.add(ids({"a"}), group_failure_policy::kill_group));
  CHECK(!g.add(ids({"b", "a"}), group_failure_policy::kill_group));
  CHECK(!g.contains(task_id{"b"}));
  CHECK_EQUAL(g.size(), 1u);
}

TEST(a task that fails kills the others under kill_group but a finished one does not) {
  task_group_tracker g;
  REQUIRE(g.add(ids({"web", "sidecar", "log"}), group_failure_policy::kill_group));
  for (auto* t : {"web", "sidecar", "log"})
    g.ready(task_id{t});
  CHECK(g.ended(task_id{"log"}, task_state::finished).empty());
  auto killed = g.ended(task_id{"sidecar"}, task_state::failed);
  CHECK(killed == ids({"web"}));
  CHECK(g.ended(task_id{"web"}, task_state::killed).empty());
  CHECK_EQUAL(g.size(), 0u);
  CHECK(!g.contains(task_id{"web"}));
}

TEST(keep_running leaves the others alone once started but not before) {
  task_group_tracker g;
  REQUIRE(g.add(ids({"a", "b"}), group_failure_policy::keep_running));
  // Before the start: all or none, whatever the policy.
  auto before_start = g.ended(task_id{"a"}, task_state::failed);
  CHECK(before_start == ids({"b"}));
  REQUIRE(g.add(ids({"c", "d"}), group_failure_policy::keep_running));
  g.ready(task_id{"c"});
  g.ready(task_id{"d"});
  CHECK(g.ended(task_id{"c"}, task_state::failed).empty());
  CHECK(g.killed(task_id{"d"}).empty());
}

TEST(a kill call takes the group along under kill_group) {
  task_group_tracker g;
  REQUIRE(g.add(ids({"a", "b", "c"}), group_failure_policy::kill_group));
  auto with_b = g.killed(task_id{"b"});
  CHECK(with_b == ids({"a", "c"}));
  CHECK(g.killed(task_id{"nobody"}).empty());
  CHECK(g.ended(task_id{"nobody"}, task_state::failed).empty());
}
