#define CAF_SUITE actors_reconciliation
#include "test.hpp"

#include "actors/master/reconciliation.hpp"

#include <map>

using namespace mesoscaf;

namespace {

resource_set res(const std::string& text) {
  auto r = resource_set::parse(text);
  if (!r)
    CAF_FAIL("bad resources in test: " << text);
  return *r;
}

struct fixture {
  cluster_state reg;
  framework_id pa{"pa"};
  framework_id np{"np"};
  agent_id reg_agent{"registered"};
  agent_id unr_agent{"unreachable"};
  agent_id rec_agent{"recovered"};

  fixture() {
    for (const auto& id : {reg_agent, unr_agent}) {
      agent_info ai;
      ai.id = id;
      ai.total = res("cpus:8");
      REQUIRE(reg.add_agent(ai).empty());
    }
    framework_info fi;
    fi.id = pa;
    fi.capabilities = {"PARTITION_AWARE"};
    REQUIRE(reg.add_framework(fi).empty());
    fi.id = np;
    fi.capabilities.clear();
    REQUIRE(reg.add_framework(fi).empty());
    add(pa, "live", reg_agent, task_state::running);
    add(pa, "unr", unr_agent, task_state::running);
    add(np, "nlive", reg_agent, task_state::starting);
    add(np, "nunr", unr_agent, task_state::running);
    REQUIRE(reg.mark_unreachable(unr_agent, 1.0, "test"));
    agent_info rec;
    rec.id = rec_agent;
    reg.mark_recovered(rec);
  }

  void add(const framework_id& fw, const std::string& id, const agent_id& aid, task_state st) {
    task_info t;
    t.id = task_id{id};
    t.agent = aid;
    t.resources = res("cpus:1");
    REQUIRE(reg.add_task(fw, t).empty());
    reg.update_task(fw, t.id, st, task_reason::none, "");
  }

  std::map<std::string, task_state> run(const framework_id& fw, std::vector<std::pair<std::string, agent_id>> q) {
    std::vector<task_status> asked;
    for (auto& [t, a] : q) {
      task_status s;
      s.task = task_id{t};
      s.agent = a;
      asked.push_back(s);
    }
    std::map<std::string, task_state> out;
    for (const auto& s : reconcile_tasks(reg, fw, asked, 42.0)) {
      CHECK(s.source == status_source::master);
      CHECK(s.reason == task_reason::reconciliation);
      CHECK(s.uuid.empty());
      CHECK_EQUAL(s.timestamp, 42.0);
      CHECK_EQUAL(out.count(s.task.value), 0u);
      out[s.task.value] = s.state;
    }
    return out;
  }
};

} // namespace

FIXTURE_SCOPE(reconciliation_tests, fixture)

TEST(implicit reconciliation answers every live and unreachable task) {
  auto a = run(pa, {});
  CHECK_EQUAL(a.size(), 2u);
  CHECK(a["live"] == task_state::running);
  CHECK(a["unr"] == task_state::unreachable);
  auto b = run(np, {});
  CHECK_EQUAL(b.size(), 1u);   // its task on the unreachable agent is lost (completed)
  CHECK(b["nlive"] == task_state::starting);
}

TEST(explicit reconciliation of a partition aware framework follows the matrix) {
  auto a = run(pa, {{"live", agent_id{}},
                    {"unr", unr_agent},
                    {"x", reg_agent},
                    {"y", unr_agent},
                    {"z", agent_id{"nobody"}},
                    {"w", agent_id{}},
                    {"r", rec_agent}});
  CHECK_EQUAL(a.size(), 5u);
  CHECK(a["live"] == task_state::running);
  CHECK(a["unr"] == task_state::unreachable);
  CHECK(a["x"] == task_state::gone);
  CHECK(a["y"] == task_state::unreachable);
  CHECK(a["z"] == task_state::unknown);
  CHECK_EQUAL(a.count("w"), 0u);   // no agent given while one is still recovering: it may bring the task
  CHECK_EQUAL(a.count("r"), 0u);   // recovered agent not back yet: no answer
}

TEST(a task with no agent given is unknown once no agent is recovering) {
  REQUIRE(reg.mark_recovering_unreachable(rec_agent, 2.0));   // did not come back in time
  REQUIRE(reg.recovering().empty());
  auto a = run(pa, {{"w", agent_id{}}});
  CHECK(a["w"] == task_state::unknown);
  auto b = run(np, {{"w", agent_id{}}});
  CHECK(b["w"] == task_state::lost);
}

TEST(a task whose end is not acknowledged yet is answered with that end) {
  add(pa, "done", reg_agent, task_state::finished);
  add(np, "failed", reg_agent, task_state::failed);
  auto a = run(pa, {{"done", reg_agent}});
  CHECK(a["done"] == task_state::finished);   // not GONE: the task really finished
  auto b = run(np, {{"failed", agent_id{}}});
  CHECK(b["failed"] == task_state::failed);   // not LOST
  auto implicit = run(pa, {});
  CHECK(implicit["done"] == task_state::finished);
  // Once acknowledged it is history: asked explicitly, its end again (not GONE: a question sent before the end
  // and answered after the acknowledgement must not name another state); implicit reconciliation omits it.
  reg.note_terminal_update(pa, task_id{"done"}, task_state::finished, "u1");
  REQUIRE(reg.acknowledge(pa, task_id{"done"}, "u1"));
  CHECK(run(pa, {{"done", reg_agent}})["done"] == task_state::finished);
  CHECK_EQUAL(run(pa, {}).count("done"), 0u);
}

TEST(explicit reconciliation of other frameworks answers lost instead) {
  auto a = run(np, {{"nlive", reg_agent},
                    {"nunr", unr_agent},
                    {"x", reg_agent},
                    {"y", unr_agent},
                    {"z", agent_id{"nobody"}},
                    {"r", rec_agent}});
  CHECK_EQUAL(a.size(), 5u);
  CHECK(a["nlive"] == task_state::starting);
  CHECK(a["nunr"] == task_state::lost);
  CHECK(a["x"] == task_state::lost);
  CHECK(a["y"] == task_state::lost);
  CHECK(a["z"] == task_state::lost);
  CHECK_EQUAL(a.count("r"), 0u);
}

TEST(an unknown framework gets no answers) {
  CHECK(run(framework_id{"nope"}, {}).empty());
  CHECK(run(framework_id{"nope"}, {{"x", reg_agent}}).empty());
}

FIXTURE_SCOPE_END()
