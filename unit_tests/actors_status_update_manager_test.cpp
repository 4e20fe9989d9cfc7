#define CAF_SUITE actors_status_update_manager
#include "test.hpp"

#include "actors/agent/status_update_manager.hpp"

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

update_record upd(const std::string& fw, const std::string& task, task_state st, const std::string& uuid) {
  update_record r;
  r.update = make_update(fw, task, st, uuid);
  return r;
}

update_record ack(const std::string& uuid) {
  update_record r;
  r.is_ack = true;
  r.uuid = uuid;
  return r;
}

std::vector<std::string> uuids(const std::vector<status_update>& xs) {
  std::vector<std::string> result;
  for (auto& x : xs)
    result.push_back(x.status.uuid);
  return result;
}

const framework_id f{"f"};
const task_id t{"t"};
const sum::time_point t0 = sum::time_point{} + 1h;

} // namespace

TEST(the first update is forwarded at once and acknowledged) {
  sum m{2s, 60s};
  std::optional<status_update> fwd;
  CHECK(m.add(make_update("f", "t", task_state::running, "u1"), t0, &fwd) == sum::add_result::added);
  REQUIRE(fwd.has_value());
  CHECK_EQUAL(fwd->status.uuid, "u1");
  CHECK(fwd->latest_state == task_state::running);
  CHECK_EQUAL(m.pending(), 1u);
  CHECK_EQUAL(m.pending(f, t), 1u);
  REQUIRE(m.next_retry().has_value());
  CHECK(*m.next_retry() == t0 + 2s);
  auto r = m.acknowledge(f, t, "u1", t0 + 1s);
  CHECK(r.matched);
  CHECK(!r.next.has_value());
  CHECK(!r.stream_done);
  CHECK_EQUAL(m.pending(), 0u);
  CHECK(!m.next_retry().has_value());
  // A non-terminal stream stays known (duplicates are still recognised).
  CHECK_EQUAL(m.streams(), 1u);
  CHECK(m.latest_state(f, t) == task_state::running);
}

TEST(invalid and duplicate updates are not recorded) {
  sum m{2s, 60s};
  std::optional<status_update> fwd;
  CHECK(m.add(make_update("", "t", task_state::running, "u1"), t0, &fwd) == sum::add_result::invalid);
  CHECK(m.add(make_update("f", "", task_state::running, "u1"), t0, &fwd) == sum::add_result::invalid);
  CHECK(m.add(make_update("f", "t", task_state::running, ""), t0, &fwd) == sum::add_result::invalid);
  CHECK(!fwd.has_value());
  CHECK_EQUAL(m.pending(), 0u);
  CHECK_EQUAL(m.streams(), 0u);
  CHECK(m.add(make_update("f", "t", task_state::running, "u1"), t0, &fwd) == sum::add_result::added);
  CHECK(fwd.has_value());
  CHECK(m.add(make_update("f", "t", task_state::running, "u1"), t0, &fwd) == sum::add_result::duplicate);
  CHECK(!fwd.has_value());
  CHECK_EQUAL(m.pending(), 1u);
  // Still a duplicate after the ack: the executor may resend an update we already took over.
  CHECK(m.acknowledge(f, t, "u1", t0).matched);
  CHECK(m.add(make_update("f", "t", task_state::running, "u1"), t0, &fwd) == sum::add_result::duplicate);
  CHECK(!fwd.has_value());
  CHECK_EQUAL(m.pending(), 0u);
  // Same uuid on another task is a different update.
  CHECK(m.add(make_update("f", "t2", task_state::running, "u1"), t0) == sum::add_result::added);
}

TEST(the next update waits for the ack of the previous) {
  sum m{2s, 60s};
  std::optional<status_update> fwd;
  m.add(make_update("f", "t", task_state::starting, "u1"), t0, &fwd);
  CHECK(fwd.has_value());
  CHECK(m.add(make_update("f", "t", task_state::running, "u2"), t0 + 1s, &fwd) == sum::add_result::added);
  CHECK(!fwd.has_value());
  CHECK(m.add(make_update("f", "t", task_state::finished, "u3"), t0 + 1s, &fwd) == sum::add_result::added);
  CHECK(!fwd.has_value());
  CHECK_EQUAL(uuids(m.pending_updates(f, t)), (std::vector<std::string>{"u1", "u2", "u3"}));
  CHECK(m.latest_state(f, t) == task_state::finished);
  // Only the head is resent, carrying the newest state.
  auto d = m.due(t0 + 2s);
  REQUIRE_EQUAL(d.size(), 1u);
  CHECK_EQUAL(d[0].status.uuid, "u1");
  CHECK(d[0].status.state == task_state::starting);
  CHECK(d[0].latest_state == task_state::finished);
  // Acking the head hands out the next one, stamped; its retry restarts from the initial interval.
  auto r = m.acknowledge(f, t, "u1", t0 + 3s);
  CHECK(r.matched);
  REQUIRE(r.next.has_value());
  CHECK_EQUAL(r.next->status.uuid, "u2");
  CHECK(r.next->latest_state == task_state::finished);
  CHECK(!r.stream_done);
  CHECK(*m.next_retry() == t0 + 5s);
  r = m.acknowledge(f, t, "u2", t0 + 4s);
  REQUIRE(r.next.has_value());
  CHECK_EQUAL(r.next->status.uuid, "u3");
  r = m.acknowledge(f, t, "u3", t0 + 5s);
  CHECK(r.matched);
  CHECK(!r.next.has_value());
  CHECK(r.stream_done);
  CHECK_EQUAL(m.streams(), 0u);
  CHECK(!m.latest_state(f, t).has_value());
}

TEST(duplicate and unexpected acks are ignored) {
  sum m{2s, 60s};
  m.add(make_update("f", "t", task_state::running, "u1"), t0);
  m.add(make_update("f", "t", task_state::finished, "u2"), t0);
  // Not the head: ignored, nothing changes.
  auto r = m.acknowledge(f, t, "u2", t0);
  CHECK(!r.matched);
  CHECK(!r.next.has_value());
  CHECK(!r.stream_done);
  CHECK_EQUAL(m.pending(f, t), 2u);
  CHECK(!m.acknowledge(f, t, "nope", t0).matched);
  CHECK(!m.acknowledge(framework_id{"g"}, t, "u1", t0).matched);
  CHECK(!m.acknowledge(f, task_id{"x"}, "u1", t0).matched);
  CHECK_EQUAL(m.pending(), 2u);
  CHECK(*m.next_retry() == t0 + 2s);
  CHECK(m.acknowledge(f, t, "u1", t0).matched);
  // Duplicate ack of u1.
  r = m.acknowledge(f, t, "u1", t0);
  CHECK(!r.matched);
  CHECK(!r.next.has_value());
  CHECK_EQUAL(uuids(m.pending_updates(f, t)), std::vector<std::string>{"u2"});
  CHECK(m.acknowledge(f, t, "u2", t0).stream_done);
  // After the stream is forgotten, a late duplicate ack is still harmless.
  CHECK(!m.acknowledge(f, t, "u2", t0).matched);
  CHECK_EQUAL(m.streams(), 0u);
}

TEST(backoff doubles up to max) {
  sum m{2s, 5s};
  m.add(make_update("f", "t", task_state::running, "u1"), t0);
  REQUIRE(m.next_retry().has_value());
  CHECK(*m.next_retry() == t0 + 2s);
  CHECK(m.due(t0 + 1s).empty());
  CHECK_EQUAL(uuids(m.due(t0 + 2s)), std::vector<std::string>{"u1"});
  // Next interval 4s.
  CHECK(*m.next_retry() == t0 + 6s);
  CHECK(m.due(t0 + 5s).empty());
  CHECK_EQUAL(m.due(t0 + 6s).size(), 1u);
  // Next interval capped at 5s (not 8s).
  CHECK(*m.next_retry() == t0 + 11s);
  CHECK(m.due(t0 + 10s).empty());
  CHECK_EQUAL(m.due(t0 + 11s).size(), 1u);
  CHECK(*m.next_retry() == t0 + 16s);
  // Acknowledged: nothing more to resend.
  m.acknowledge(f, t, "u1", t0 + 12s);
  CHECK(m.due(t0 + 100s).empty());
  CHECK(!m.next_retry().has_value());
}

TEST(due only returns heads of due streams) {
  sum m{2s, 60s};
  m.add(make_update("f", "t", task_state::running, "u1"), t0);
  m.add(make_update("f", "t", task_state::finished, "u2"), t0);
  m.add(make_update("f", "other", task_state::running, "v1"), t0 + 1s);
  CHECK_EQUAL(uuids(m.due(t0 + 2s)), std::vector<std::string>{"u1"});
  CHECK_EQUAL(uuids(m.due(t0 + 3s)), std::vector<std::string>{"v1"});
  // Both due again later: key order (framework, task).
  CHECK_EQUAL(uuids(m.due(t0 + 100s)), (std::vector<std::string>{"v1", "u1"}));
}

TEST(heads resets the timers and can be limited to one framework) {
  sum m{2s, 60s};
  m.add(make_update("f", "t", task_state::running, "u1"), t0);
  m.add(make_update("f", "t", task_state::finished, "u2"), t0);
  m.add(make_update("g", "t", task_state::running, "w1"), t0);
  m.add(make_update("f", "a", task_state::running, "v1"), t0);
  m.due(t0 + 2s);
  m.due(t0 + 6s); // intervals now 8s
  auto all = m.heads(t0 + 7s);
  CHECK_EQUAL(uuids(all), (std::vector<std::string>{"v1", "u1", "w1"}));
  CHECK(all[1].latest_state == task_state::finished);
  CHECK(*m.next_retry() == t0 + 9s);
  // Only framework f; g's timer is untouched.
  auto fs = m.heads(f, t0 + 8s);
  CHECK_EQUAL(uuids(fs), (std::vector<std::string>{"v1", "u1"}));
  CHECK_EQUAL(uuids(m.due(t0 + 9s)), std::vector<std::string>{"w1"});
  CHECK(m.heads(framework_id{"zzz"}, t0).empty());
  // Acked streams have no head.
  m.acknowledge(framework_id{"g"}, t, "w1", t0 + 9s);
  CHECK(m.heads(framework_id{"g"}, t0 + 9s).empty());
}

TEST(terminal acknowledgement ends the stream) {
  sum m{2s, 60s};
  m.add(make_update("f", "t", task_state::finished, "u1"), t0);
  auto r = m.acknowledge(f, t, "u1", t0);
  CHECK(r.matched);
  CHECK(r.stream_done);
  CHECK_EQUAL(m.pending(), 0u);
  CHECK_EQUAL(m.streams(), 0u);
  CHECK(!m.next_retry().has_value());
}

TEST(remove framework and task drop their streams only) {
  sum m{2s, 60s};
  m.add(make_update("f", "t", task_state::running, "u1"), t0);
  m.add(make_update("f", "t2", task_state::running, "u3"), t0);
  m.add(make_update("g", "t", task_state::running, "u2"), t0);
  m.remove_task(f, task_id{"t2"});
  CHECK_EQUAL(m.pending(), 2u);
  CHECK(!m.latest_state(f, task_id{"t2"}).has_value());
  m.remove_framework(f);
  CHECK_EQUAL(m.pending(), 1u);
  CHECK_EQUAL(m.pending(f, t), 0u);
  CHECK_EQUAL(uuids(m.due(t0 + 2s)), std::vector<std::string>{"u2"});
  m.remove_task(f, task_id{"none"}); // unknown: fine
  CHECK_EQUAL(m.streams(), 1u);
}

TEST(a reused task ID keeps its stream live after the old terminal update is acknowledged) {
  sum m{2s, 60s};
  // The old incarnation's terminal update is still pending when the new one reports.
  m.add(make_update("f", "t", task_state::finished, "old"), t0);
  m.add(make_update("f", "t", task_state::running, "new"), t0);
  CHECK_EQUAL(uuids(m.pending_updates(f, t)), (std::vector<std::string>{"old", "new"}));
  auto r = m.acknowledge(f, t, "old", t0);
  CHECK(!r.stream_done);
  REQUIRE(r.next.has_value());
  CHECK_EQUAL(r.next->status.uuid, "new");
  r = m.acknowledge(f, t, "new", t0);
  CHECK(r.matched);
  CHECK(!r.stream_done);
  // Still tracked (the new incarnation is not terminal): a resent "new" is recognised as a duplicate.
  CHECK_EQUAL(m.streams(), 1u);
  CHECK(m.add(make_update("f", "t", task_state::running, "new"), t0) == sum::add_result::duplicate);
  CHECK(m.pending_updates(f, task_id{"x"}).empty());
}

TEST(recover from a log with acks duplicates and unknown acks) {
  sum m{2s, 60s};
  std::vector<update_record> log{
    upd("f", "t", task_state::starting, "u1"),
    ack("u1"),
    upd("f", "t", task_state::running, "u2"),
    upd("f", "t", task_state::running, "u2"), // the executor resent it
    ack("bogus"),                              // ack of an unknown uuid
    upd("f", "t", task_state::finished, "u3"),
    upd("f", "t", task_state::starting, "u1"), // duplicate of an acknowledged update
  };
  CHECK(m.recover(f, t, log, t0));
  CHECK_EQUAL(uuids(m.pending_updates(f, t)), (std::vector<std::string>{"u2", "u3"}));
  CHECK(m.latest_state(f, t) == task_state::finished);
  // The head is due at once.
  REQUIRE(m.next_retry().has_value());
  CHECK(*m.next_retry() == t0);
  auto d = m.due(t0);
  REQUIRE_EQUAL(d.size(), 1u);
  CHECK_EQUAL(d[0].status.uuid, "u2");
  CHECK(d[0].latest_state == task_state::finished);
  // Recovered seen set: the executor resending u1 / u3 is a duplicate.
  CHECK(m.add(make_update("f", "t", task_state::starting, "u1"), t0) == sum::add_result::duplicate);
  CHECK(m.add(make_update("f", "t", task_state::finished, "u3"), t0) == sum::add_result::duplicate);
  // Acks continue from the recovered head.
  CHECK(!m.acknowledge(f, t, "u3", t0).matched);
  auto r = m.acknowledge(f, t, "u2", t0);
  REQUIRE(r.next.has_value());
  CHECK_EQUAL(r.next->status.uuid, "u3");
  CHECK(m.acknowledge(f, t, "u3", t0).stream_done);
}

TEST(recover of a fully acknowledged terminal log tracks nothing) {
  sum m{2s, 60s};
  std::vector<update_record> log{upd("f", "t", task_state::running, "u1"), ack("u1"),
                                 upd("f", "t", task_state::finished, "u2"), ack("u2")};
  CHECK(m.recover(f, t, log, t0));
  CHECK_EQUAL(m.streams(), 0u);
  CHECK_EQUAL(m.pending(), 0u);
  // Fully acked but not terminal: the stream is kept (latest state known), nothing pending.
  std::vector<update_record> log2{upd("f", "t2", task_state::running, "v1"), ack("v1")};
  CHECK(m.recover(f, task_id{"t2"}, log2, t0));
  CHECK_EQUAL(m.streams(), 1u);
  CHECK_EQUAL(m.pending(), 0u);
  CHECK(m.latest_state(f, task_id{"t2"}) == task_state::running);
  CHECK(!m.next_retry().has_value());
}

TEST(recover rejects empty IDs and skips foreign records) {
  sum m{2s, 60s};
  std::vector<update_record> log{upd("f", "t", task_state::running, "u1")};
  CHECK(!m.recover(framework_id{}, t, log, t0));
  CHECK(!m.recover(f, task_id{}, log, t0));
  CHECK_EQUAL(m.streams(), 0u);
  // Records of another task or without uuid are not this stream's.
  std::vector<update_record> log2{upd("f", "other", task_state::running, "x1"),
                                  upd("f", "t", task_state::running, ""),
                                  upd("f", "t", task_state::running, "u1")};
  CHECK(m.recover(f, t, log2, t0));
  CHECK_EQUAL(uuids(m.pending_updates(f, t)), std::vector<std::string>{"u1"});
  CHECK_EQUAL(m.streams(), 1u);
  // An empty log creates nothing.
  CHECK(m.recover(f, task_id{"e"}, {}, t0));
  CHECK_EQUAL(m.streams(), 1u);
}
