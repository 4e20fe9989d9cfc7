#define CAF_SUITE actors_agent_checkpoint_retries
#include "test.hpp"

#include "actors/agent/checkpoint_retries.hpp"

using namespace mesoscaf;
using namespace std::chrono_literals;

namespace {

using tp = checkpoint_retries::time_point;

checkpoint_retries::job job(std::string bytes, std::vector<std::string>* done = nullptr) {
  checkpoint_retries::job j;
  j.bytes = bytes;
  j.append = true;
  if (done)
    j.then = [done, bytes](const std::string&) { done->push_back(bytes); };
  return j;
}

} // namespace

TEST(a failed write is retried with doubling backoff until it succeeds) {
  checkpoint_retries r{1s, 4s};
  tp t0{};
  std::vector<std::string> done;
  auto seq = r.next_seq();
  CHECK(r.failed("log", seq, job("a", &done), "No space left on device", t0));
  CHECK(r.pending("log"));
  CHECK(r.due(t0).empty());
  auto due = r.due(t0 + 1s);
  REQUIRE_EQUAL(due.size(), 1u);
  CHECK_EQUAL(due[0].work.bytes, "a");
  CHECK(r.due(t0 + 1s).empty());  // one retry in flight per path
  bool recovered = true;
  CHECK(!r.retry_done("log", due[0].attempt, "No space left on device", t0 + 1s, &recovered));
  CHECK(!recovered);
  CHECK(r.due(t0 + 2s).empty());  // backed off to 2 s
  due = r.due(t0 + 3s);
  REQUIRE_EQUAL(due.size(), 1u);
  auto j = r.retry_done("log", due[0].attempt, "", t0 + 3s, &recovered);
  REQUIRE(j.has_value());
  CHECK(recovered);
  j->then("");
  CHECK_EQUAL(done, std::vector<std::string>{"a"});
  CHECK(!r.pending("log"));
}

TEST(writes of a failing path keep their order) {
  checkpoint_retries r{1s, 4s};
  tp t0{};
  std::vector<std::string> done;
  auto s1 = r.next_seq();
  auto s2 = r.next_seq();
  // Both were in flight when the first failed; a third comes while the path is failing.
  CHECK(r.failed("log", s1, job("1", &done), "full", t0));
  CHECK(!r.failed("log", s2, job("2", &done), "full", t0));
  r.enqueue("log", job("3", &done));
  for (auto expected : {"1", "2", "3"}) {
    auto due = r.due(t0 + 10s);
    REQUIRE_EQUAL(due.size(), 1u);
    CHECK_EQUAL(due[0].work.bytes, expected);
    auto j = r.retry_done("log", due[0].attempt, "", t0 + 10s, nullptr);
    REQUIRE(j.has_value());
    j->then("");
  }
  CHECK_EQUAL(done, (std::vector<std::string>{"1", "2", "3"}));
  CHECK(!r.pending("log"));
}

TEST(paths back off independently) {
  checkpoint_retries r{1s, 4s};
  tp t0{};
  r.failed("a", r.next_seq(), job("a"), "full", t0);
  r.failed("b", r.next_seq(), job("b"), "full", t0 + 500ms);
  CHECK_EQUAL(r.due(t0 + 1s).size(), 1u);
  CHECK_EQUAL(r.due(t0 + 1500ms).size(), 1u);
  CHECK_EQUAL(r.failing_paths(), 2u);
}

TEST(waiting for a path runs once it is written or forgotten) {
  checkpoint_retries r{1s, 4s};
  tp t0{};
  int acked = 0;
  CHECK(!r.when_written("log", [&] { ++acked; }));  // nothing waiting: the caller runs it now
  r.failed("fw/t1/log", r.next_seq(), job("x"), "full", t0);
  r.failed("fw/t2/log", r.next_seq(), job("y"), "full", t0);
  CHECK(r.when_written("fw/t1/log", [&] { ++acked; }));
  CHECK(r.when_written("fw/t2/log", [&] { ++acked; }));
  auto due = r.due(t0 + 1s);
  REQUIRE_EQUAL(due.size(), 2u);
  auto j = r.retry_done("fw/t1/log", due[0].attempt, "", t0 + 1s, nullptr);
  REQUIRE(j.has_value());
  j->then("");
  CHECK_EQUAL(acked, 1);
  // Removing the task's directory drops its writes (a late answer is ignored) and releases whoever waited.
  auto released = r.forget("fw/t2");
  REQUIRE_EQUAL(released.size(), 1u);
  released[0]();
  CHECK_EQUAL(acked, 2);
  CHECK(!r.retry_done("fw/t2/log", due[1].attempt, "", t0 + 1s, nullptr));
  CHECK_EQUAL(r.failing_paths(), 0u);
}

TEST(forget leaves paths that only share a prefix) {
  checkpoint_retries r;
  tp t0{};
  r.failed("fw/t1", r.next_seq(), job("x"), "full", t0);
  r.failed("fw/t10/log", r.next_seq(), job("y"), "full", t0);
  r.forget("fw/t1");
  CHECK(!r.pending("fw/t1"));
  CHECK(r.pending("fw/t10/log"));
}
