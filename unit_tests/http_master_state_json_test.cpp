// The master's /state, /tasks and /frameworks written from shared views (messages/state_view.hpp): each view's
// JSON is written once and spliced into later answers; the answers are valid JSON with Mesos' fields; a task
// that ended while the pages were fetched is listed once, as it ended.
#define CAF_SUITE http_master_state_json
#include "test.hpp"

#include "actors/http/state_json.hpp"

#include <nlohmann/json.hpp>

#include <string>

using namespace mesoscaf;
using nlohmann::json;

namespace {

task_view make_task(const std::string& id, task_state state, double updated) {
  task_view t;
  t.id = task_id{id};
  t.name = "task " + id;
  t.framework = framework_id{"f1"};
  t.agent = agent_id{"a1"};
  t.state = state;
  t.resources = *resource_set::parse("cpus:0.5;mem:32");
  t.role = "*";
  t.launched = 100;
  t.updated = updated;
  t.user = "alice";
  return t;
}

struct fixture {
  http::master_state s;
  http::daemon_identity me{"m1", "host", "127.0.0.1", 5050, 5040, 1, {}};

  fixture() {
    framework_view f;
    f.info.id = framework_id{"f1"};
    f.info.name = "one";
    f.info.user = "alice";
    s.first.frameworks.push_back(f);
    master_state_view page;
    agent_view a;
    a.info.id = agent_id{"a1"};
    a.info.hostname = "h1";
    a.info.total = *resource_set::parse("cpus:4;mem:1024;ports:[31000-31009]");
    page.agents.push_back(agent_ref{a});
    page.tasks.push_back(task_ref{make_task("live", task_state::running, 150)});
    page.offers.push_back(offer_ref{offer_view{offer_id{"o1"}, framework_id{"f1"}, agent_id{"a1"}, "*",
                                               *resource_set::parse("cpus:1")}});
    page.completed.push_back(task_ref{make_task("done", task_state::finished, 120)});
    s.pages.push_back(page);
    s.fetch_started = 200;
  }

  json state() {
    return json::parse(http::master_state_json(s, me));
  }

  static json find_task(const json& list, const std::string& id) {
    for (auto& t : list)
      if (t.at("id") == id)
        return t;
    return json{};
  }
};

} // namespace

FIXTURE_SCOPE(master_state_json_tests, fixture)

TEST(the state lists agents frameworks tasks and offers with mesos fields) {
  auto j = state();
  REQUIRE_EQUAL(j.at("slaves").size(), 1u);
  CHECK_EQUAL(j.at("slaves")[0].at("hostname").get<std::string>(), "h1");
  CHECK_EQUAL(j.at("slaves")[0].at("resources").at("ports").get<std::string>(), "[31000-31009]");
  REQUIRE_EQUAL(j.at("frameworks").size(), 1u);
  auto& f = j.at("frameworks")[0];
  REQUIRE_EQUAL(f.at("tasks").size(), 1u);
  CHECK_EQUAL(f.at("tasks")[0].at("state").get<std::string>(), "TASK_RUNNING");
  CHECK_EQUAL(f.at("tasks")[0].at("user").get<std::string>(), "alice");
  CHECK_EQUAL(f.at("tasks")[0].at("resources").at("mem").get<double>(), 32.0);
  REQUIRE_EQUAL(f.at("completed_tasks").size(), 1u);
  CHECK_EQUAL(f.at("completed_tasks")[0].at("state").get<std::string>(), "TASK_FINISHED");
  REQUIRE_EQUAL(f.at("offers").size(), 1u);
  CHECK_EQUAL(f.at("offers")[0].at("id").get<std::string>(), "o1");
}

TEST(a view is written once and its json reused by later answers) {
  auto first = http::master_state_json(s, me);
  auto& live = s.pages[0].tasks[0];
  // The record now holds its JSON: asking again does not write it again.
  bool rendered_again = false;
  auto& kept = live.record()->rendered([&rendered_again](const task_view&) {
    rendered_again = true;
    return std::string{};
  });
  CHECK(!rendered_again);
  CHECK(json::parse(kept).at("id") == "live");
  CHECK(first.find(kept) != std::string::npos);
  // Same views, same answer; the spliced values keep the separators right in every list.
  CHECK_EQUAL(http::master_state_json(s, me), first);
  s.pages[0].tasks.push_back(task_ref{make_task("second", task_state::staging, 160)});
  auto j = state();
  CHECK_EQUAL(j.at("frameworks")[0].at("tasks").size(), 2u);
  auto tasks = json::parse(http::master_tasks_json(s, 10, 0, true));
  CHECK_EQUAL(tasks.at("tasks").size(), 3u);
}

TEST(a task that ended during the fetch is listed once as it ended) {
  // Listed live by an agent's page, then completed (after the fetch began) by a later page.
  s.pages[0].tasks.push_back(task_ref{make_task("ended", task_state::running, 150)});
  master_state_view later;
  later.completed.push_back(task_ref{make_task("ended", task_state::failed, 250)});
  s.pages.push_back(later);
  // Unacknowledged in the header page, acknowledged (completed) before its completed page.
  auto acked = make_task("acked", task_state::killed, 190);
  s.first.frameworks[0].unacknowledged.push_back(task_ref{acked});
  s.pages.back().completed.push_back(task_ref{acked});
  auto j = state();
  auto& f = j.at("frameworks")[0];
  CHECK(find_task(f.at("tasks"), "ended").is_null());
  CHECK_EQUAL(find_task(f.at("completed_tasks"), "ended").at("state").get<std::string>(), "TASK_FAILED");
  std::size_t acked_listed = 0;
  for (auto& t : f.at("completed_tasks"))
    acked_listed += t.at("id") == "acked" ? 1 : 0;
  CHECK_EQUAL(acked_listed, 1u);
  CHECK(!find_task(f.at("tasks"), "live").is_null());
}

TEST(a task that ended before the fetch and a live task of the same id are both listed) {
  // Task IDs may be reused once the old task ended: the old one is history, the new one runs.
  master_state_view later;
  later.completed.push_back(task_ref{make_task("live", task_state::finished, 110)});
  s.pages.push_back(later);
  auto j = state();
  auto& f = j.at("frameworks")[0];
  CHECK(!find_task(f.at("tasks"), "live").is_null());
  CHECK(!find_task(f.at("completed_tasks"), "live").is_null());
}

FIXTURE_SCOPE_END()
