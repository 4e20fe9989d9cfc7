#define CAF_SUITE master_state_pages
#include "test.hpp"

#include "actors/master/master_metrics.hpp"
#include "actors/master/state_pages.hpp"

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/deep_to_string.hpp>

#include <map>
#include <set>

using namespace mesoscaf;

namespace {

resource_set res(const std::string& text) {
  auto r = resource_set::parse(text);
  if (!r)
    CAF_FAIL("bad resources in test: " << text);
  return *r;
}

struct fixture {
  cluster_state reg{registry_limits{100, 100, 100}};
  framework_id f1{"f1"};

  fixture() {
    framework_info fi;
    fi.id = f1;
    fi.user = "alice";
    REQUIRE(reg.add_framework(fi).empty());
    for (int a = 0; a < 5; ++a)
      add_agent("a" + std::to_string(a), 3);
  }

  ~fixture() {
    CHECK(reg.live_tasks_by_state() == reg.count_live_tasks_by_state());
  }

  void add_agent(const std::string& id, int tasks) {
    agent_info ai;
    ai.id = agent_id{id};
    ai.total = res("cpus:4;mem:1000");
    REQUIRE(reg.add_agent(ai).empty());
    for (int t = 0; t < tasks; ++t) {
      task_info ti;
      ti.id = task_id{id + "-t" + std::to_string(t)};
      ti.name = "task " + ti.id.value;
      ti.agent = ai.id;
      ti.resources = res("cpus:0.5;mem:10");
      REQUIRE(reg.add_task(f1, ti).empty());
    }
  }

  void finish(const std::string& id) {
    reg.update_task(f1, task_id{id}, task_state::finished, task_reason::none, "", false);
    reg.note_terminal_update(f1, task_id{id}, task_state::finished, "u-" + id);
    REQUIRE(reg.acknowledge(f1, task_id{id}, "u-" + id));
  }

  /// Every page from the start; checks each page's cost.
  std::vector<master_state_view> all_pages(std::size_t budget) {
    std::vector<master_state_view> pages;
    state_cursor at;
    for (int guard = 0; guard < 1000; ++guard) {
      master_state_view p;
      fill_state_page(reg, at, budget, p);
      pages.push_back(p);
      if (p.done)
        break;
      at = p.next;
    }
    return pages;
  }
};

} // namespace

FIXTURE_SCOPE(state_pages_tests, fixture)

TEST(pages list every agent and task once and stay within their budget) {
  finish("a1-t0");
  finish("a3-t2");
  auto pages = all_pages(4);
  REQUIRE(pages.back().done);
  CHECK_EQUAL(pages.front().frameworks.size(), 1u);
  CHECK_EQUAL(pages.front().frameworks[0].info.user, "alice");
  CHECK(pages.front().frameworks[0].registered > 1.6e9);   // when it subscribed, seconds since the epoch
  std::vector<std::string> agents;
  std::multiset<std::string> live, completed;
  for (auto& p : pages) {
    // An agent goes whole into a page: at most the budget plus one agent's tasks.
    CHECK(p.agents.size() + p.tasks.size() <= 4u + 3u);
    for (auto& a : p.agents) {
      agents.push_back(a->info.id.value);
      CHECK(a->registered > 1.6e9);
    }
    for (auto& t : p.tasks)
      live.insert(t->id.value);
    for (auto& t : p.completed)
      completed.insert(t->id.value);
  }
  CHECK_EQUAL(agents, (std::vector<std::string>{"a0", "a1", "a2", "a3", "a4"}));
  CHECK_EQUAL(live.size(), 13u);
  CHECK_EQUAL(std::set<std::string>(live.begin(), live.end()).size(), 13u);
  CHECK_EQUAL(live.count("a1-t0"), 0u);
  CHECK_EQUAL(completed, (std::multiset<std::string>{"a1-t0", "a3-t2"}));
  for (auto& p : pages)
    for (auto& t : p.tasks)
      if (t->id.value == "a2-t1") {
        CHECK_EQUAL(t->name, "task a2-t1");
        CHECK_EQUAL(t->user, "alice");
        CHECK(t->state == task_state::staging);
        CHECK(t->launched > 0);
      }
}

TEST(a task shows the user it was launched as) {
  // Its command's user wins over its framework's.
  task_info ti;
  ti.id = task_id{"as-bob"};
  ti.agent = agent_id{"a0"};
  ti.resources = res("cpus:0.1;mem:1");
  ti.command = command_info{};
  ti.command->user = "bob";
  REQUIRE(reg.add_task(f1, ti).empty());
  // The framework fails over with another user: tasks launched before keep theirs, as in Mesos.
  framework_info fi;
  fi.id = f1;
  fi.user = "carol";
  REQUIRE(reg.update_framework_info(fi));
  ti.id = task_id{"as-carol"};
  ti.command->user.clear();
  REQUIRE(reg.add_task(f1, ti).empty());
  finish("a4-t0");
  std::map<std::string, std::string> user;
  for (auto& p : all_pages(1000)) {
    for (auto& t : p.tasks)
      user[t->id.value] = t->user;
    for (auto& t : p.completed)
      user[t->id.value] = t->user;
  }
  CHECK_EQUAL(user["as-bob"], "bob");
  CHECK_EQUAL(user["as-carol"], "carol");
  CHECK_EQUAL(user["a1-t1"], "alice");
  CHECK_EQUAL(user["a4-t0"], "alice");
}

TEST(a page never repeats or skips an agent when the state changes between pages) {
  master_state_view first;
  fill_state_page(reg, state_cursor{}, 5, first);
  master_state_view second;
  fill_state_page(reg, first.next, 5, second);
  REQUIRE(!second.done);
  REQUIRE_EQUAL(second.agents.size(), 2u);  // a0 and a1 (1 + 3 tasks each: the budget of 5 is reached after two)
  // Between pages: an agent sorted before the cursor and one after it register; one after it goes.
  add_agent("a00", 1);
  add_agent("a9", 1);
  REQUIRE(reg.remove_agent(agent_id{"a3"}, task_state::lost, task_reason::none, "gone").has_value());
  std::vector<std::string> rest;
  for (auto at = second.next; at.phase != state_cursor::done;) {
    master_state_view p;
    fill_state_page(reg, at, 5, p);
    for (auto& a : p.agents)
      rest.push_back(a->info.id.value);
    at = p.next;
  }
  CHECK_EQUAL(rest, (std::vector<std::string>{"a2", "a4", "a9"}));
}

TEST(the completed history is paged by sequence number while it moves) {
  cluster_state small{registry_limits{3, 100, 100}};
  std::swap(reg, small);
  framework_info fi;
  fi.id = f1;
  REQUIRE(reg.add_framework(fi).empty());
  add_agent("b", 6);
  for (int t = 0; t < 3; ++t)
    finish("b-t" + std::to_string(t));
  state_cursor at{state_cursor::completed, {}, reg.completed_first_seq()};
  master_state_view p1;
  fill_state_page(reg, at, 1, p1);
  REQUIRE_EQUAL(p1.completed.size(), 1u);
  CHECK_EQUAL(p1.completed[0]->id.value, "b-t0");
  // Two more end: b-t0 and b-t1 leave the history (its limit is 3); the next page starts at the oldest left.
  finish("b-t3");
  finish("b-t4");
  master_state_view p2;
  fill_state_page(reg, p1.next, 10, p2);
  std::vector<std::string> ids;
  for (auto& t : p2.completed)
    ids.push_back(t->id.value);
  CHECK_EQUAL(ids, (std::vector<std::string>{"b-t2", "b-t3", "b-t4"}));
  CHECK(p2.done);
}

TEST(pages share a task view until the task changes) {
  auto find = [](const std::vector<master_state_view>& pages, const std::string& id) {
    for (auto& p : pages)
      for (auto* list : {&p.tasks, &p.completed})
        for (auto& t : *list)
          if (t->id.value == id)
            return t;
    return task_ref{};
  };
  auto before = all_pages(100);
  auto running = find(before, "a2-t1"), idle = find(before, "a2-t2");
  REQUIRE(running && idle);
  REQUIRE(reg.update_task(f1, task_id{"a2-t1"}, task_state::running, task_reason::none, "", false).known);
  finish("a4-t0");
  auto after = all_pages(100);
  // Unchanged: the same record, so a reader's rendering of it stays valid.
  CHECK(find(after, "a2-t2").same(idle));
  // Changed: a new record showing the change; the old one still shows what it showed.
  auto now = find(after, "a2-t1");
  REQUIRE(now);
  CHECK(!now.same(running));
  CHECK(now->state == task_state::running);
  CHECK(running->state == task_state::staging);
  auto ended = find(after, "a4-t0");
  REQUIRE(ended);
  CHECK(ended->state == task_state::finished);
  CHECK(!ended.same(find(before, "a4-t0")));
  // A finished task's record is reused by later pages of the history.
  CHECK(find(all_pages(100), "a4-t0").same(ended));
}

TEST(a task record renders once and is serialized by value) {
  task_view v;
  v.id = task_id{"t"};
  v.user = "bob";
  task_ref ref{v};
  int renders = 0;
  auto render = [&renders](const task_view& x) {
    ++renders;
    return x.id.value + "/" + x.user;
  };
  CHECK_EQUAL(ref.record()->rendered(render), "t/bob");
  CHECK_EQUAL(ref.record()->rendered(render), "t/bob");
  CHECK_EQUAL(renders, 1);
  CHECK_EQUAL(caf::deep_to_string(ref), caf::deep_to_string(v));
  // Across nodes a reader gets its own record holding the same view.
  std::vector<char> buf;
  caf::binary_serializer sink{nullptr, buf};
  REQUIRE(!sink(ref));
  task_ref copy;
  caf::binary_deserializer source{nullptr, buf};
  REQUIRE(!source(copy));
  REQUIRE(copy);
  CHECK(!copy.same(ref));
  CHECK_EQUAL(copy->id.value, "t");
  CHECK_EQUAL(copy->user, "bob");
}

TEST(master metrics count tasks agents and resources) {
  finish("a0-t0");
  REQUIRE(reg.update_task(f1, task_id{"a0-t1"}, task_state::running, task_reason::none, "", false).known);
  master_counters c;
  c.count_terminal(task_state::finished);
  c.count_terminal(task_state::failed);
  c.count_terminal(task_state::running);   // not terminal: not counted
  master_gauge_inputs in;
  in.elected = true;
  in.uptime_secs = 12;
  auto samples = master_metrics(reg, c, in);
  std::map<std::string, double> m;
  for (auto& s : samples)
    m[s.name] = s.value;
  CHECK(m.size() >= 30u);
  CHECK_EQUAL(m["master/elected"], 1.0);
  CHECK_EQUAL(m["master/uptime_secs"], 12.0);
  CHECK_EQUAL(m["master/slaves_active"], 5.0);
  CHECK_EQUAL(m["master/tasks_running"], 1.0);
  CHECK_EQUAL(m["master/tasks_staging"], 13.0);
  CHECK_EQUAL(m["master/tasks_finished"], 1.0);
  CHECK_EQUAL(m["master/tasks_failed"], 1.0);
  CHECK_EQUAL(m["master/tasks_killed"], 0.0);
  CHECK_EQUAL(m["master/cpus_total"], 20.0);
  CHECK_EQUAL(m["master/cpus_used"], 7.0);
  CHECK_EQUAL(m["master/mem_used"], 140.0);
  CHECK_EQUAL(m["master/cpus_percent"], 0.35);
  CHECK_EQUAL(m["allocator/mesos/resources/cpus/total"], 20.0);
  CHECK(std::is_sorted(samples.begin(), samples.end(), [](auto& a, auto& b) { return a.name < b.name; }));
}

FIXTURE_SCOPE_END()
