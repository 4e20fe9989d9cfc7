#define CAF_SUITE actors_status_update_manager
#include "test.hpp"

#include "actors/status_update_manager.hpp"

using namespace mesoscaf;
using namespace std::chrono_literals;

namespace {

using sum = status_update_manager;

status_update make_update(const std::string& fw, const std::string& task, task_state st, const std::string& uuid) {
  status_update u;
  u.framework = framework_id{fw};
  u.status.task = task_id{task};
  u.status.state = st;
  u.status.uuid = uuid;
  return u;
}

std::vector<std::string> uuids(const std::vector<status_update>& xs) {
  std::vector<std::string> result;
  for (auto& x : xs)
    result.push_back(x.status.uuid);
  return result;
}

const sum::time_point t0 = sum::time_point{} + 1h;

} // namespace

TEST(add and acknowledge) {
  sum m{2s, 60s};
  CHECK(m.add(make_update("f", "t", task_state::running, "u1"), t0) == sum::add_result::added);
  CHECK_EQUAL(m.pending(), 1u);
  CHECK_EQUAL(m.pending(framework_id{"f"}, task_id{"t"}), 1u);
  auto acked = m.acknowledge(framework_id{"f"}, task_id{"t"}, "u1");
  REQUIRE(acked.has_value());
  CHECK_EQUAL(acked->status.uuid, "u1");
  CHECK_EQUAL(m.pending(), 0u);
  CHECK(!m.next_retry().has_value());
}

TEST(invalid and duplicate updates are not recorded) {
  sum m{2s, 60s};
  CHECK(m.add(make_update("", "t", task_state::running, "u1"), t0) == sum::add_result::invalid);
  CHECK(m.add(make_update("f", "", task_state::running, "u1"), t0) == sum::add_result::invalid);
  CHECK(m.add(make_update("f", "t", task_state::running, ""), t0) == sum::add_result::invalid);
  CHECK_EQUAL(m.pending(), 0u);
  CHECK(m.add(make_update("f", "t", task_state::running, "u1"), t0) == sum::add_result::added);
  CHECK(m.add(make_update("f", "t", task_state::running, "u1"), t0) == sum::add_result::duplicate);
  CHECK_EQUAL(m.pending(), 1u);
  // Still a duplicate after the ack: the executor may resend an update we already took over.
  CHECK(m.acknowledge(framework_id{"f"}, task_id{"t"}, "u1").has_value());
  CHECK(m.add(make_update("f", "t", task_state::running, "u1"), t0) == sum::add_result::duplicate);
  CHECK_EQUAL(m.pending(), 0u);
  // Same uuid on another task is a different update.
  CHECK(m.add(make_update("f", "t2", task_state::running, "u1"), t0) == sum::add_result::added);
}

TEST(unknown and duplicate acks are ignored) {
  sum m{2s, 60s};
  m.add(make_update("f", "t", task_state::running, "u1"), t0);
  CHECK(!m.acknowledge(framework_id{"f"}, task_id{"t"}, "nope").has_value());
  CHECK(!m.acknowledge(framework_id{"g"}, task_id{"t"}, "u1").has_value());
  CHECK(!m.acknowledge(framework_id{"f"}, task_id{"x"}, "u1").has_value());
  CHECK_EQUAL(m.pending(), 1u);
  CHECK(m.acknowledge(framework_id{"f"}, task_id{"t"}, "u1").has_value());
  CHECK(!m.acknowledge(framework_id{"f"}, task_id{"t"}, "u1").has_value());
  CHECK_EQUAL(m.pending(), 0u);
}

TEST(retries back off exponentially up to the maximum) {
  sum m{2s, 5s};
  m.add(make_update("f", "t", task_state::running, "u1"), t0);
  REQUIRE(m.next_retry().has_value());
  CHECK(*m.next_retry() == t0 + 2s);
  CHECK(m.due(t0 + 1s).empty());
  CHECK_EQUAL(uuids(m.due(t0 + 2s)), std::vector<std::string>{"u1"});
  // Next interval 4s.
  CHECK(m.due(t0 + 5s).empty());
  CHECK_EQUAL(m.due(t0 + 6s).size(), 1u);
  // Next interval capped at 5s.
  CHECK(*m.next_retry() == t0 + 11s);
  CHECK(m.due(t0 + 10s).empty());
  CHECK_EQUAL(m.due(t0 + 11s).size(), 1u);
  CHECK(*m.next_retry() == t0 + 16s);
  // Acknowledged: nothing more to resend.
  m.acknowledge(framework_id{"f"}, task_id{"t"}, "u1");
  CHECK(m.due(t0 + 100s).empty());
}

TEST(a stream resends all its pending updates in order) {
  sum m{2s, 60s};
  m.add(make_update("f", "t", task_state::starting, "u1"), t0);
  m.add(make_update("f", "t", task_state::running, "u2"), t0 + 1s);
  m.add(make_update("f", "t", task_state::finished, "u3"), t0 + 1s);
  m.add(make_update("f", "other", task_state::running, "v1"), t0 + 1s);
  CHECK_EQUAL(m.pending(), 4u);
  // The stream of "t" is due at t0+2s (its first update), "other" at t0+3s.
  CHECK_EQUAL(uuids(m.due(t0 + 2s)), (std::vector<std::string>{"u1", "u2", "u3"}));
  // Acknowledging a later update first keeps the others pending.
  CHECK(m.acknowledge(framework_id{"f"}, task_id{"t"}, "u2").has_value());
  CHECK_EQUAL(uuids(m.due(t0 + 6s)), (std::vector<std::string>{"v1", "u1", "u3"}));
}

TEST(all pending resets the timers) {
  sum m{2s, 60s};
  m.add(make_update("f", "t", task_state::running, "u1"), t0);
  m.due(t0 + 2s);
  m.due(t0 + 6s);  // interval now 8s
  auto all = m.all_pending(t0 + 7s);
  CHECK_EQUAL(uuids(all), std::vector<std::string>{"u1"});
  CHECK(*m.next_retry() == t0 + 9s);
}

TEST(terminal acknowledgement ends the stream) {
  sum m{2s, 60s};
  m.add(make_update("f", "t", task_state::finished, "u1"), t0);
  CHECK(m.acknowledge(framework_id{"f"}, task_id{"t"}, "u1").has_value());
  CHECK_EQUAL(m.pending(), 0u);
  CHECK(!m.next_retry().has_value());
}

TEST(remove framework drops its streams only) {
  sum m{2s, 60s};
  m.add(make_update("f", "t", task_state::running, "u1"), t0);
  m.add(make_update("g", "t", task_state::running, "u2"), t0);
  m.remove_framework(framework_id{"f"});
  CHECK_EQUAL(m.pending(), 1u);
  CHECK_EQUAL(m.pending(framework_id{"f"}, task_id{"t"}), 0u);
  CHECK_EQUAL(uuids(m.due(t0 + 2s)), std::vector<std::string>{"u2"});
}

TEST(a stream is forgotten when its terminal update is acknowledged before an earlier one) {
  sum m{2s, 60s};
  m.add(make_update("f", "t", task_state::running, "u1"), t0);
  m.add(make_update("f", "t", task_state::finished, "u2"), t0);
  CHECK_EQUAL(m.streams(), 1u);
  CHECK(m.acknowledge(framework_id{"f"}, task_id{"t"}, "u2").has_value());
  CHECK_EQUAL(m.streams(), 1u);
  CHECK(m.acknowledge(framework_id{"f"}, task_id{"t"}, "u1").has_value());
  CHECK_EQUAL(m.pending(), 0u);
  CHECK_EQUAL(m.streams(), 0u);
}

TEST(a reused task ID keeps its stream live after the old terminal update is acknowledged) {
  sum m{2s, 60s};
  // The old incarnation's terminal update is still pending when the new one reports.
  m.add(make_update("f", "t", task_state::finished, "old"), t0);
  m.add(make_update("f", "t", task_state::running, "new"), t0);
  CHECK_EQUAL(uuids(m.pending_updates(framework_id{"f"}, task_id{"t"})), (std::vector<std::string>{"old", "new"}));
  CHECK(m.acknowledge(framework_id{"f"}, task_id{"t"}, "old").has_value());
  CHECK(m.acknowledge(framework_id{"f"}, task_id{"t"}, "new").has_value());
  // Still tracked (the new incarnation is not terminal): a resent "new" is recognised as a duplicate.
  CHECK_EQUAL(m.streams(), 1u);
  CHECK(m.add(make_update("f", "t", task_state::running, "new"), t0) == sum::add_result::duplicate);
  CHECK(m.pending_updates(framework_id{"f"}, task_id{"x"}).empty());
}
