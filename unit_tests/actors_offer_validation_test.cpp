#define CAF_SUITE actors_offer_validation
#include "test.hpp"

#include "actors/master/offer_validation.hpp"

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include <cmath>
#include <limits>

using namespace mesoscaf;

namespace {

resource_set res(const std::string& text) {
  std::string err;
  auto r = resource_set::parse(text, &err);
  if (!r)
    CAF_FAIL("bad resource text in test: " << text << ": " << err);
  return *r;
}

// A resource_set as it could arrive from the wire: raw items, bypassing every member function.
resource_set raw(std::vector<resource> items) {
  std::vector<char> buf;
  caf::binary_serializer sink{nullptr, buf};
  if (auto err = sink(items))
    CAF_FAIL("serialize failed");
  resource_set out;
  caf::binary_deserializer source{nullptr, buf};
  if (auto err = source(out))
    CAF_FAIL("deserialize failed");
  return out;
}

resource scalar_item(std::string name, milli value) {
  resource r;
  r.name = std::move(name);
  r.scalar = value;
  return r;
}

struct fixture {
  framework_id fw1{"fw1"};
  framework_id fw2{"fw2"};
  agent_id a1{"a1"};
  agent_id a2{"a2"};
  offer_table outstanding;
  retired_offers retired;
  std::unordered_set<task_id> live;
  live_task_query is_live = [this](const task_id& t) { return live.count(t) > 0; };

  fixture() {
    add_offer("o1", fw1, a1, "cpus:4;mem:1024");
    add_offer("o2", fw1, a1, "cpus:2;mem:512;ports:[31000-31009]");
    add_offer("o3", fw1, a2, "cpus:4;mem:1024");
    add_offer("o4", fw2, a1, "cpus:1;mem:128");
  }

  void add_offer(std::string id, framework_id fw, agent_id agent, const std::string& r) {
    offer o;
    o.id = offer_id{id};
    o.framework = std::move(fw);
    o.agent = std::move(agent);
    o.resources = res(r);
    outstanding.emplace(o.id, o);
  }

  task_info task(std::string id, const std::string& r, agent_id agent = agent_id{"a1"}) {
    task_info t;
    t.id = task_id{std::move(id)};
    t.name = "t";
    t.agent = std::move(agent);
    t.resources = res(r);
    command_info c;
    c.value = "true";
    t.command = c;
    return t;
  }

  static std::vector<offer_operation> launch(std::vector<task_info> tasks) {
    offer_operation op;
    op.type = operation_type::launch;
    op.tasks = std::move(tasks);
    return {op};
  }

  accept_verdict accept(const framework_id& fw, std::vector<std::string> ids, std::vector<task_info> tasks) {
    std::vector<offer_id> oids;
    for (auto& i : ids)
      oids.emplace_back(i);
    return validate_accept(fw, oids, launch(std::move(tasks)), outstanding, retired, is_live);
  }
};

} // namespace

FIXTURE_SCOPE(offer_validation_tests, fixture)

TEST(safe ids) {
  CHECK(is_safe_id("task-1_a.b"));
  CHECK(is_safe_id(std::string(200, 'x')));
  CHECK(!is_safe_id(std::string(201, 'x')));
  CHECK(!is_safe_id(""));
  CHECK(!is_safe_id("."));
  CHECK(!is_safe_id(".."));
  CHECK(is_safe_id("..."));
  CHECK(!is_safe_id("a/b"));
  CHECK(!is_safe_id("../etc"));
  CHECK(!is_safe_id("a b"));
  CHECK(!is_safe_id(std::string("a\0b", 3)));
  CHECK(check_safe_id("task ID", "ok").empty());
  CHECK_NOT_EQUAL(check_safe_id("task ID", "a/b").find("task ID 'a/b'"), std::string::npos);
}

TEST(refuse seconds) {
  std::string err;
  // value_or: the CHECK macros keep references to temporaries.
  double five = checked_refuse_seconds(5.0).value_or(-1);
  double zero = checked_refuse_seconds(0.0).value_or(-1);
  double huge = checked_refuse_seconds(1e300).value_or(-1);
  double inf = checked_refuse_seconds(std::numeric_limits<double>::infinity()).value_or(-1);
  CHECK_EQUAL(five, 5.0);
  CHECK_EQUAL(zero, 0.0);
  CHECK_EQUAL(huge, max_refuse_seconds);
  CHECK_EQUAL(inf, max_refuse_seconds);
  CHECK(!checked_refuse_seconds(-1.0, &err));
  CHECK_NOT_EQUAL(err.find("negative"), std::string::npos);
  CHECK(!checked_refuse_seconds(std::nan(""), &err));
  CHECK_NOT_EQUAL(err.find("NaN"), std::string::npos);
  // With an explicit cap (the allocator's configured maximum).
  double capped = checked_refuse_seconds(1e6, 100.0).value_or(-1);
  double below = checked_refuse_seconds(50.0, 100.0).value_or(-1);
  double bad_cap = checked_refuse_seconds(1e300, std::nan("")).value_or(-1);
  CHECK_EQUAL(capped, 100.0);
  CHECK_EQUAL(below, 50.0);
  CHECK_EQUAL(bad_cap, max_refuse_seconds);
  CHECK(!checked_refuse_seconds(-1.0, 100.0, &err));
}

TEST(a valid launch uses part of two offers on one agent) {
  auto v = accept(fw1, {"o1", "o2"}, {task("t1", "cpus:3;mem:1000"), task("t2", "cpus:2;mem:500;ports:[31000-31000]")});
  REQUIRE(v.offers.ok);
  CHECK_EQUAL(v.offers.agent, a1);
  CHECK_EQUAL(v.offers.total, res("cpus:6;mem:1536;ports:[31000-31009]"));
  REQUIRE_EQUAL(v.tasks.size(), 2u);
  CHECK(v.tasks[0].kind == verdict_kind::ok);
  CHECK(v.tasks[1].kind == verdict_kind::ok);
  CHECK_EQUAL(v.launch.size(), 2u);
  CHECK_EQUAL(v.used, res("cpus:5;mem:1500;ports:[31000-31000]"));
  CHECK(v.operation_errors.empty());
}

TEST(unknown offer drops every task) {
  auto v = accept(fw1, {"nope"}, {task("t1", "cpus:1")});
  CHECK(!v.offers.ok);
  CHECK_NOT_EQUAL(v.offers.message.find("unknown offer nope"), std::string::npos);
  REQUIRE_EQUAL(v.tasks.size(), 1u);
  CHECK(v.tasks[0].kind == verdict_kind::dropped);
  CHECK(v.tasks[0].reason == task_reason::invalid_offers);
  CHECK(v.launch.empty());
  CHECK(v.used.empty());
}

TEST(no offers at all is invalid) {
  auto v = accept(fw1, {}, {task("t1", "cpus:1")});
  CHECK(!v.offers.ok);
  CHECK(v.tasks[0].kind == verdict_kind::dropped);
}

TEST(an already used offer is refused with a clear message) {
  outstanding.erase(offer_id{"o1"});
  retired.insert(offer_id{"o1"});
  auto v = accept(fw1, {"o1"}, {task("t1", "cpus:1")});
  CHECK(!v.offers.ok);
  CHECK_NOT_EQUAL(v.offers.message.find("no longer valid"), std::string::npos);
  CHECK(v.tasks[0].kind == verdict_kind::dropped);
}

TEST(the same offer twice in one call is refused) {
  auto v = accept(fw1, {"o1", "o1"}, {task("t1", "cpus:5")});
  CHECK(!v.offers.ok);
  CHECK_NOT_EQUAL(v.offers.message.find("more than once"), std::string::npos);
  CHECK(v.launch.empty());
}

TEST(an offer of another framework is refused without naming its owner) {
  auto v = accept(fw2, {"o1"}, {task("t1", "cpus:1")});
  CHECK(!v.offers.ok);
  CHECK_NOT_EQUAL(v.offers.message.find("does not belong"), std::string::npos);
  CHECK_EQUAL(v.offers.message.find("fw1"), std::string::npos);
  CHECK(v.tasks[0].kind == verdict_kind::dropped);
  CHECK(v.launch.empty());
  // Mixing one's own with another's is refused as a whole.
  auto w = accept(fw1, {"o1", "o4"}, {task("t1", "cpus:1")});
  CHECK(!w.offers.ok);
  CHECK(w.launch.empty());
}

TEST(offers on two agents are refused) {
  auto v = accept(fw1, {"o1", "o3"}, {task("t1", "cpus:1")});
  CHECK(!v.offers.ok);
  CHECK_NOT_EQUAL(v.offers.message.find("more than one agent"), std::string::npos);
  CHECK(v.tasks[0].kind == verdict_kind::dropped);
}

TEST(resources not contained in the offers) {
  auto v = accept(fw1, {"o1"}, {task("t1", "cpus:5")});
  REQUIRE(v.offers.ok);
  CHECK(v.tasks[0].kind == verdict_kind::error);
  CHECK(v.tasks[0].reason == task_reason::invalid_resources);
  CHECK_NOT_EQUAL(v.tasks[0].message.find("not contained"), std::string::npos);
  // A resource the offer does not have at all.
  auto w = accept(fw1, {"o1"}, {task("t1", "gpus:1")});
  CHECK(w.tasks[0].kind == verdict_kind::error);
  // A reserved role the offer does not have.
  auto x = accept(fw1, {"o1"}, {task("t1", "cpus(eng):1")});
  CHECK(x.tasks[0].kind == verdict_kind::error);
}

TEST(the sum of tasks must fit; later tasks are refused when earlier ones used the room) {
  auto v = accept(fw1, {"o1"}, {task("t1", "cpus:3"), task("t2", "cpus:2"), task("t3", "cpus:1")});
  REQUIRE(v.offers.ok);
  REQUIRE_EQUAL(v.tasks.size(), 3u);
  CHECK(v.tasks[0].kind == verdict_kind::ok);
  CHECK(v.tasks[1].kind == verdict_kind::error);
  CHECK(v.tasks[2].kind == verdict_kind::ok);
  CHECK_EQUAL(v.used, res("cpus:4"));
  REQUIRE_EQUAL(v.launch.size(), 2u);
  CHECK_EQUAL(v.launch[0].id, task_id{"t1"});
  CHECK_EQUAL(v.launch[1].id, task_id{"t3"});
}

TEST(duplicate task ids within the call and against live tasks) {
  live.insert(task_id{"running"});
  auto v = accept(fw1, {"o1"}, {task("t1", "cpus:1"), task("t1", "cpus:1"), task("running", "cpus:1")});
  REQUIRE_EQUAL(v.tasks.size(), 3u);
  CHECK(v.tasks[0].kind == verdict_kind::ok);
  CHECK(v.tasks[1].kind == verdict_kind::error);
  CHECK_NOT_EQUAL(v.tasks[1].message.find("twice"), std::string::npos);
  CHECK(v.tasks[2].kind == verdict_kind::error);
  CHECK_NOT_EQUAL(v.tasks[2].message.find("already used"), std::string::npos);
  CHECK_EQUAL(v.launch.size(), 1u);
  CHECK_EQUAL(v.used, res("cpus:1"));
}

TEST(empty resources are refused) {
  auto t = task("t1", "cpus:1");
  t.resources = resource_set{};
  auto v = accept(fw1, {"o1"}, {t});
  CHECK(v.tasks[0].kind == verdict_kind::error);
  CHECK(v.tasks[0].reason == task_reason::invalid_resources);
  CHECK_NOT_EQUAL(v.tasks[0].message.find("no resources"), std::string::npos);
}

TEST(negative and nan resources are refused) {
  // NaN never becomes a resource: parse refuses it, scalar() yields nothing (then "no resources").
  CHECK(!resource_set::parse("cpus:nan"));
  CHECK(!resource_set::parse("cpus:-1"));
  auto t = task("t1", "cpus:1");
  t.resources = resource_set::scalar("cpus", std::nan(""));
  auto v = accept(fw1, {"o1"}, {t});
  CHECK(v.tasks[0].kind == verdict_kind::error);
  // A negative scalar as it could come off the wire: would otherwise *grow* the offer on subtraction.
  t.resources = raw({scalar_item("cpus", -1000)});
  CHECK(!t.resources.validate().empty());
  v = accept(fw1, {"o1"}, {t});
  CHECK(v.tasks[0].kind == verdict_kind::error);
  CHECK(v.tasks[0].reason == task_reason::invalid_resources);
  CHECK_NOT_EQUAL(v.tasks[0].message.find("invalid"), std::string::npos);
  CHECK(v.used.empty());
  // Unsorted / duplicated raw entries.
  t.resources = raw({scalar_item("mem", 1000), scalar_item("cpus", 1000)});
  CHECK(accept(fw1, {"o1"}, {t}).tasks[0].kind == verdict_kind::error);
}

TEST(command or executor and exactly one) {
  auto none = task("t1", "cpus:1");
  none.command = caf::none;
  auto v = accept(fw1, {"o1"}, {none});
  CHECK(v.tasks[0].kind == verdict_kind::error);
  CHECK_NOT_EQUAL(v.tasks[0].message.find("neither"), std::string::npos);
  auto both = task("t2", "cpus:1");
  executor_info ex;
  ex.id = executor_id{"e1"};
  ex.command.value = "./my-executor";
  both.executor = ex;
  v = accept(fw1, {"o1"}, {both});
  CHECK(v.tasks[0].kind == verdict_kind::error);
  CHECK_NOT_EQUAL(v.tasks[0].message.find("both"), std::string::npos);
  auto exec_only = both;
  exec_only.command = caf::none;
  v = accept(fw1, {"o1"}, {exec_only});
  CHECK(v.tasks[0].kind == verdict_kind::ok);
  REQUIRE_EQUAL(v.launch.size(), 1u);
  // The master fills in the executor's framework.
  CHECK_EQUAL(v.launch[0].executor->framework, fw1);
  auto empty_cmd = task("t3", "cpus:1");
  empty_cmd.command->value.clear();
  CHECK(accept(fw1, {"o1"}, {empty_cmd}).tasks[0].kind == verdict_kind::error);
}

TEST(executor checks) {
  auto t = task("t1", "cpus:1");
  t.command = caf::none;
  executor_info ex;
  ex.id = executor_id{"../escape"};
  ex.command.value = "x";
  t.executor = ex;
  CHECK(accept(fw1, {"o1"}, {t}).tasks[0].kind == verdict_kind::error);
  t.executor->id = executor_id{"e1"};
  t.executor->framework = fw2;  // claims to be another framework's executor
  auto v = accept(fw1, {"o1"}, {t});
  CHECK(v.tasks[0].kind == verdict_kind::error);
  CHECK_NOT_EQUAL(v.tasks[0].message.find("not the caller"), std::string::npos);
  t.executor->framework = fw1;
  t.executor->resources = raw({scalar_item("cpus", -5)});
  CHECK(accept(fw1, {"o1"}, {t}).tasks[0].kind == verdict_kind::error);
}

TEST(unsafe task ids) {
  for (auto bad : {std::string{""}, std::string{"."}, std::string{".."}, std::string{"a/b"}, std::string(201, 'a'),
                   std::string{"x y"}, std::string{"t\n"}}) {
    auto v = accept(fw1, {"o1"}, {task(bad, "cpus:1")});
    CHECK(v.tasks[0].kind == verdict_kind::error);
    CHECK(v.tasks[0].reason == task_reason::task_invalid);
    CHECK(v.launch.empty());
  }
}

TEST(control characters in task and executor names are refused) {
  for (auto bad : {std::string{"line\nbreak"}, std::string{"tab\there"}, std::string{"del\x7f"},
                   std::string{"esc\x1b[31m"}}) {
    auto t = task("t1", "cpus:1");
    t.name = bad;
    auto v = accept(fw1, {"o1"}, {t});
    CHECK(v.tasks[0].kind == verdict_kind::error);
    CHECK(v.tasks[0].reason == task_reason::task_invalid);
    CHECK_NOT_EQUAL(v.tasks[0].message.find("task name has a control character"), std::string::npos);
    CHECK(v.launch.empty());
  }
  auto t = task("t1", "cpus:1");
  t.command->user = "root\n";
  CHECK_NOT_EQUAL(accept(fw1, {"o1"}, {t}).tasks[0].message.find("command user has a control character (0x0a)"),
                  std::string::npos);
  t = task("t1", "cpus:1");
  t.command = caf::none;
  executor_info ex;
  ex.id = executor_id{"e1"};
  ex.name = "exec\r";
  ex.command.value = "./my-executor";
  t.executor = ex;
  CHECK_NOT_EQUAL(accept(fw1, {"o1"}, {t}).tasks[0].message.find("executor name has a control character (0x0d)"),
                  std::string::npos);
  // Printable names, spaces and UTF-8 included, are fine.
  t = task("t1", "cpus:1");
  t.name = "my task \xc3\xa9";
  CHECK(accept(fw1, {"o1"}, {t}).tasks[0].kind == verdict_kind::ok);
}

TEST(ports beyond 65535 and wrong types of known resources are refused) {
  auto t = task("t1", "cpus:1");
  t.resources = res("cpus:1") + resource_set::range("ports", 31000, 70000);   // range() does not apply the rule
  auto v = accept(fw1, {"o2"}, {t});
  CHECK(v.tasks[0].kind == verdict_kind::error);
  CHECK(v.tasks[0].reason == task_reason::invalid_resources);
  CHECK_NOT_EQUAL(v.tasks[0].message.find("ports must lie within 0-65535"), std::string::npos);
  t.resources = res("cpus:1") + resource_set::set("mem", {"a"});
  v = accept(fw1, {"o2"}, {t});
  CHECK(v.tasks[0].kind == verdict_kind::error);
  CHECK_NOT_EQUAL(v.tasks[0].message.find("'mem' must be a scalar"), std::string::npos);
}

TEST(framework text with control characters is refused) {
  framework_info fi;
  fi.name = "ok name";
  fi.user = "alice";
  fi.roles = {"eng"};
  CHECK_EQUAL(check_framework_text(fi), "");
  auto bad = fi;
  bad.name = "evil\nname";
  CHECK_EQUAL(check_framework_text(bad), "framework name has a control character (0x0a) at byte 4");
  bad = fi;
  bad.user = "a\x7f";
  CHECK_NOT_EQUAL(check_framework_text(bad).find("framework user"), std::string::npos);
  bad = fi;
  bad.id = framework_id{"id\x01"};
  CHECK_NOT_EQUAL(check_framework_text(bad).find("framework ID"), std::string::npos);
  bad = fi;
  bad.principal = "p\t";
  CHECK_NOT_EQUAL(check_framework_text(bad).find("framework principal"), std::string::npos);
  bad = fi;
  bad.capabilities = {"PARTITION_AWARE\n"};
  CHECK_NOT_EQUAL(check_framework_text(bad).find("framework capability"), std::string::npos);
}

TEST(task agent must be the offers agent) {
  auto v = accept(fw1, {"o1"}, {task("t1", "cpus:1", agent_id{"a2"})});
  CHECK(v.tasks[0].kind == verdict_kind::error);
  CHECK_NOT_EQUAL(v.tasks[0].message.find("agent"), std::string::npos);
  auto w = accept(fw1, {"o1"}, {task("t1", "cpus:1", agent_id{})});
  CHECK(w.tasks[0].kind == verdict_kind::error);
}

TEST(a refused conversion refuses the whole call) {
  auto ops = launch({task("t1", "cpus:1")});
  offer_operation reserve;
  reserve.type = operation_type::reserve;
  reserve.resources = res("cpus(eng):1");   // static: not something RESERVE can make
  ops.push_back(reserve);
  ops.push_back(launch({task("t2", "cpus:1")})[0]);
  auto v = validate_accept(fw1, {offer_id{"o1"}}, ops, outstanding, retired, is_live);
  REQUIRE_EQUAL(v.operation_errors.size(), 1u);
  CHECK_NOT_EQUAL(v.operation_errors[0].find("operation 2 (RESERVE)"), std::string::npos);
  CHECK(v.launch.empty());
  CHECK(v.conversions.empty());
  CHECK(v.used.empty());
  CHECK_EQUAL(v.remaining, res("cpus:4;mem:1024"));
  REQUIRE_EQUAL(v.tasks.size(), 2u);
  for (const auto& t : v.tasks)
    CHECK(t.kind == verdict_kind::dropped);
}

TEST(no operations uses nothing) {
  auto v = validate_accept(fw1, {offer_id{"o1"}}, {}, outstanding, retired, is_live);
  CHECK(v.offers.ok);
  CHECK(v.tasks.empty());
  CHECK(v.used.empty());
  CHECK_EQUAL(v.offers.total, res("cpus:4;mem:1024"));
}

namespace {

task_info with_executor(task_info t, const std::string& eid, const resource_set& r) {
  t.command = caf::none;
  executor_info ex;
  ex.id = executor_id{eid};
  ex.command.value = "./my-executor";
  ex.resources = r;
  t.executor = ex;
  return t;
}

} // namespace

TEST(a new executor needs room for task plus executor resources) {
  // o1: cpus:4;mem:1024. Executor takes cpus:1;mem:512, each task cpus:1.
  auto e = res("cpus:1;mem:512");
  auto v = accept(fw1, {"o1"},
                  {with_executor(task("t1", "cpus:1"), "e1", e), with_executor(task("t2", "cpus:1"), "e1", e),
                   with_executor(task("t3", "cpus:1;mem:600"), "e2", e)});
  REQUIRE_EQUAL(v.tasks.size(), 3u);
  CHECK(v.tasks[0].kind == verdict_kind::ok);
  CHECK(v.tasks[1].kind == verdict_kind::ok);   // same executor: only its own resources
  // e2 would need cpus:2;mem:1112 but only cpus:1;mem:512 remain.
  CHECK(v.tasks[2].kind == verdict_kind::error);
  CHECK(v.tasks[2].reason == task_reason::invalid_resources);
  CHECK_NOT_EQUAL(v.tasks[2].message.find("executor"), std::string::npos);
  CHECK_EQUAL(v.used, res("cpus:3;mem:512"));
  REQUIRE_EQUAL(v.executors.size(), 1u);
  CHECK_EQUAL(v.executors[0].id, executor_id{"e1"});
  CHECK_EQUAL(v.executors[0].framework, fw1);
}

TEST(a running executor is not counted again and must match) {
  executor_info running_e;
  running_e.id = executor_id{"e1"};
  running_e.framework = fw1;
  running_e.command.value = "./my-executor";
  running_e.resources = res("cpus:1;mem:512");
  executor_query running = [&](const agent_id& a, const executor_id& id) -> const executor_info* {
    return a == a1 && id == running_e.id ? &running_e : nullptr;
  };
  auto same = with_executor(task("t1", "cpus:4;mem:1024"), "e1", running_e.resources);
  auto other = with_executor(task("t2", "cpus:1"), "e1", res("cpus:2"));
  auto v = validate_accept(fw1, {offer_id{"o1"}}, launch({same, other}), outstanding, retired, is_live, running);
  REQUIRE_EQUAL(v.tasks.size(), 2u);
  CHECK(v.tasks[0].kind == verdict_kind::ok);   // the whole offer for the task: the executor already runs
  CHECK(v.tasks[1].kind == verdict_kind::error);
  CHECK(v.tasks[1].reason == task_reason::task_invalid);
  CHECK_NOT_EQUAL(v.tasks[1].message.find("different executor_info"), std::string::npos);
  CHECK(v.executors.empty());
  CHECK_EQUAL(v.used, res("cpus:4;mem:1024"));
  // Within one call too: a second task naming e3 differently is refused.
  auto first = with_executor(task("t3", "cpus:1"), "e3", res("cpus:1"));
  auto second = with_executor(task("t4", "cpus:1"), "e3", res("cpus:1"));
  second.executor->name = "renamed";
  v = accept(fw1, {"o1"}, {first, second});
  CHECK(v.tasks[0].kind == verdict_kind::ok);
  CHECK(v.tasks[1].kind == verdict_kind::error);
  CHECK_EQUAL(v.used, res("cpus:2"));
}

FIXTURE_SCOPE_END()

// -- operations (issue 3): RESERVE / UNRESERVE / CREATE / DESTROY then LAUNCH, in order ---------------------

namespace {

offer_operation op(operation_type type, const std::string& r) {
  offer_operation o;
  o.type = type;
  o.resources = res(r);
  return o;
}

struct ops_fixture : fixture {
  // Agent a3: 8 cpus, 2 GB, 1000 disk, of which a static cpus(eng):1, a dynamic disk(eng,dynamic):200 and a
  // volume v0 on 100 of eng's disk; the offer o5 (role eng) holds all of it but the volume (in use).
  resource_set agent_total = res("cpus:7;cpus(eng):1;mem:2048;disk:700;disk(eng,dynamic):200;"
                                 "disk(eng,dynamic)[v0:old]:100");

  ops_fixture() {
    add_role_offer("o5", fw1, agent_id{"a3"}, "cpus:7;cpus(eng):1;mem:2048;disk:700;disk(eng,dynamic):200", "eng");
    add_role_offer("o6", fw1, agent_id{"a3"}, "disk(eng,dynamic)[v0:old]:100", "eng");
    add_role_offer("o7", fw1, agent_id{"a3"}, "cpus:1", "ops");
  }

  void add_role_offer(std::string id, framework_id fw, agent_id agent, const std::string& r, std::string role) {
    add_offer(id, fw, agent, r);
    outstanding[offer_id{id}].role = std::move(role);
  }

  accept_verdict run(std::vector<std::string> ids, std::vector<offer_operation> ops) {
    std::vector<offer_id> oids;
    for (auto& i : ids)
      oids.emplace_back(i);
    return validate_accept(fw1, oids, ops, outstanding, retired, is_live, {}, agent_total);
  }

  task_info on_a3(std::string id, const std::string& r) { return task(std::move(id), r, agent_id{"a3"}); }

  static void refused(const accept_verdict& v, const std::string& needle) {
    CHECK(v.offers.ok);
    REQUIRE_EQUAL(v.operation_errors.size(), 1u);
    CHECK_NOT_EQUAL(v.operation_errors[0].find(needle), std::string::npos);
    if (v.operation_errors[0].find(needle) == std::string::npos)
      MESSAGE("error was: " << v.operation_errors[0]);
    CHECK(v.conversions.empty());
    CHECK(v.launch.empty());
  }
};

} // namespace

FIXTURE_SCOPE(offer_operation_tests, ops_fixture)

TEST(offers keep their role and offers of two roles are refused) {
  auto v = run({"o5"}, {});
  REQUIRE(v.offers.ok);
  CHECK_EQUAL(v.offers.role, "eng");
  auto w = run({"o5", "o7"}, launch({on_a3("t1", "cpus:1")}));
  CHECK(!w.offers.ok);
  CHECK_NOT_EQUAL(w.offers.message.find("more than one role"), std::string::npos);
  REQUIRE_EQUAL(w.tasks.size(), 1u);
  CHECK(w.tasks[0].kind == verdict_kind::dropped);
  // Offers without a role (older code paths) count as "*".
  auto u = run({"o1"}, {});
  CHECK_EQUAL(u.offers.role, "*");
}

TEST(reserve for another role than the offer is refused) {
  refused(run({"o5"}, {op(operation_type::reserve, "cpus(ops,dynamic):1")}), "differs from the offer's role");
  refused(run({"o5"}, {op(operation_type::reserve, "cpus(eng):1")}), "dynamic");
  refused(run({"o5"}, {op(operation_type::reserve, "cpus(eng,dynamic):8")}), "not in the offer");
}

TEST(unreserve of a static reservation is refused) {
  refused(run({"o5"}, {op(operation_type::unreserve, "cpus(eng):1")}), "statically reserved");
  refused(run({"o5"}, {op(operation_type::unreserve, "cpus:1")}), "not reserved");
}

TEST(create of an existing or repeated volume id is refused) {
  refused(run({"o5"}, {op(operation_type::create, "disk(eng,dynamic)[v0:x]:10")}), "already exists");
  // Twice in one call, in two operations: the second sees the agent total after the first.
  refused(run({"o5"}, {op(operation_type::create, "disk(eng,dynamic)[v1:a]:10"),
                       op(operation_type::create, "disk(eng,dynamic)[v1:b]:10")}),
          "already exists");
  // On unreserved disk: not in the offer as reserved disk.
  refused(run({"o5"}, {op(operation_type::create, "disk(eng,dynamic)[v2:a]:300")}), "not in the offer");
}

TEST(destroy of something that is not a volume is refused) {
  refused(run({"o5"}, {op(operation_type::destroy, "disk(eng,dynamic):10")}), "not a volume");
  // A volume that is not in these offers (it is in o6).
  refused(run({"o5"}, {op(operation_type::destroy, "disk(eng,dynamic)[v0:old]:100")}), "not in the offer");
}

TEST(resources not in the offer are refused for every operation) {
  refused(run({"o5"}, {op(operation_type::reserve, "mem(eng,dynamic):4096")}), "not in the offer");
  refused(run({"o5"}, {op(operation_type::unreserve, "disk(eng,dynamic):201")}), "not in the offer");
}

TEST(a launch uses what earlier operations produced) {
  auto writer = on_a3("writer", "cpus(eng,dynamic):1;disk(eng,dynamic)[v1:data]:50");
  auto v = run({"o5"}, {op(operation_type::reserve, "cpus(eng,dynamic):1;disk(eng,dynamic):100"),
                        op(operation_type::create, "disk(eng,dynamic)[v1:data]:50"), launch({writer})[0]});
  REQUIRE(v.offers.ok);
  CHECK(v.operation_errors.empty());
  REQUIRE_EQUAL(v.conversions.size(), 2u);
  CHECK(v.conversions[0].operation.type == operation_type::reserve);
  CHECK_EQUAL(v.conversions[0].change.consumed, res("cpus:1;disk:100"));
  CHECK_EQUAL(v.conversions[1].change.produced, res("disk(eng,dynamic)[v1:data]:50"));
  REQUIRE_EQUAL(v.launch.size(), 1u);
  CHECK_EQUAL(v.used, writer.resources);
  CHECK_EQUAL(v.remaining, res("cpus:6;cpus(eng):1;mem:2048;disk:600;disk(eng,dynamic):250"));
  CHECK(v.agent_total.has_volume("v1"));
  CHECK(v.agent_total.has_volume("v0"));
  CHECK_EQUAL(v.agent_total.scalar_milli("disk"), agent_total.scalar_milli("disk"));
  // The same task before the CREATE: the volume does not exist yet, so the task gets TASK_ERROR alone.
  auto w = run({"o5"}, {op(operation_type::reserve, "cpus(eng,dynamic):1;disk(eng,dynamic):100"), launch({writer})[0],
                        op(operation_type::create, "disk(eng,dynamic)[v1:data]:50")});
  CHECK(w.operation_errors.empty());
  REQUIRE_EQUAL(w.tasks.size(), 1u);
  CHECK(w.tasks[0].kind == verdict_kind::error);
  CHECK(w.launch.empty());
  CHECK_EQUAL(w.conversions.size(), 2u);
}

TEST(a launch before a conversion consumes first and the conversion sees the rest) {
  // The task takes all 7 unreserved cpus; a RESERVE of one more afterwards finds none.
  auto v = run({"o5"}, {launch({on_a3("big", "cpus:7")})[0], op(operation_type::reserve, "cpus(eng,dynamic):1")});
  refused(v, "not in the offer");
  REQUIRE_EQUAL(v.tasks.size(), 1u);
  CHECK(v.tasks[0].kind == verdict_kind::dropped);
  CHECK(v.used.empty());
  CHECK_EQUAL(v.agent_total, agent_total);
}

TEST(a volume is used and destroyed whole) {
  // Half of v0 for one task would leave the other half to be offered again: a second task would share the
  // directory, or a DESTROY of the rest would delete it under the first task.
  auto v = run({"o6"}, launch({on_a3("half", "disk(eng,dynamic)[v0:old]:50")}));
  REQUIRE_EQUAL(v.tasks.size(), 1u);
  CHECK(v.tasks[0].kind == verdict_kind::error);
  CHECK_NOT_EQUAL(v.tasks[0].message.find("whole"), std::string::npos);
  CHECK(v.launch.empty());
  CHECK_EQUAL(v.remaining, res("disk(eng,dynamic)[v0:old]:100"));
  refused(run({"o6"}, {op(operation_type::destroy, "disk(eng,dynamic)[v0:old]:40")}), "whole");
  // The whole volume is fine.
  auto w = run({"o6"}, launch({on_a3("all", "disk(eng,dynamic)[v0:old]:100")}));
  REQUIRE_EQUAL(w.launch.size(), 1u);
  CHECK(w.remaining.empty());
}

TEST(destroy then unreserve returns a volume to unreserved disk) {
  auto v = run({"o6", "o5"}, {op(operation_type::destroy, "disk(eng,dynamic)[v0:old]:100"),
                              op(operation_type::unreserve, "disk(eng,dynamic):300")});
  REQUIRE(v.offers.ok);
  CHECK(v.operation_errors.empty());
  CHECK_EQUAL(v.conversions.size(), 2u);
  CHECK_EQUAL(v.remaining, res("cpus:7;cpus(eng):1;mem:2048;disk:1000"));
  CHECK(!v.agent_total.has_volume("v0"));
  CHECK_EQUAL(v.agent_total, res("cpus:7;cpus(eng):1;mem:2048;disk:1000"));
}

// -- LAUNCH_GROUP --

namespace {

executor_info default_executor(const std::string& id, const std::string& r = "cpus:0.1;mem:32") {
  executor_info e;
  e.id = executor_id{id};
  e.type = executor_type::default_executor;
  e.resources = res(r);
  return e;
}

offer_operation group_op(std::vector<task_info> tasks, std::optional<executor_info> ex) {
  offer_operation op;
  op.type = operation_type::launch_group;
  op.tasks = std::move(tasks);
  if (ex)
    op.executor = *ex;
  return op;
}

} // namespace

TEST(a valid group launches as one with its executor and every task names it) {
  auto op = group_op({task("g1", "cpus:1;mem:128"), task("g2", "cpus:1;mem:128")}, default_executor("pod"));
  op.on_failure = group_failure_policy::keep_running;
  auto v = validate_accept(fw1, {offer_id{"o1"}}, {op}, outstanding, retired, is_live);
  REQUIRE(v.offers.ok);
  REQUIRE_EQUAL(v.tasks.size(), 2u);
  CHECK(v.tasks[0].kind == verdict_kind::ok);
  CHECK(v.tasks[1].kind == verdict_kind::ok);
  CHECK(v.launch.empty());
  REQUIRE_EQUAL(v.groups.size(), 1u);
  const auto& g = v.groups[0];
  CHECK_EQUAL(g.executor.id, executor_id{"pod"});
  CHECK_EQUAL(g.executor.framework, fw1);
  CHECK(g.group.on_failure == group_failure_policy::keep_running);
  REQUIRE_EQUAL(g.group.tasks.size(), 2u);
  for (const auto& t : g.group.tasks) {
    REQUIRE(t.executor);
    CHECK_EQUAL(t.executor->id, executor_id{"pod"});
    CHECK(t.executor->type == executor_type::default_executor);
    CHECK(t.command);
  }
  REQUIRE_EQUAL(v.executors.size(), 1u);
  CHECK_EQUAL(v.used, res("cpus:2.1;mem:288"));
  CHECK_EQUAL(v.remaining, res("cpus:1.9;mem:736"));
}

TEST(a group with duplicate task IDs fails whole and uses nothing) {
  auto op = group_op({task("same", "cpus:1"), task("other", "cpus:1"), task("same", "cpus:1")},
                     default_executor("pod"));
  auto v = validate_accept(fw1, {offer_id{"o1"}}, {op}, outstanding, retired, is_live);
  REQUIRE_EQUAL(v.tasks.size(), 3u);
  for (const auto& t : v.tasks) {
    CHECK(t.kind == verdict_kind::error);
    CHECK(t.reason == task_reason::task_group_invalid);
    CHECK_NOT_EQUAL(t.message.find("task ID same appears twice in the task group"), std::string::npos);
  }
  CHECK(v.groups.empty());
  CHECK(v.executors.empty());
  CHECK(v.used.empty());
  CHECK_EQUAL(v.remaining, res("cpus:4;mem:1024"));
}

TEST(one bad task or a group too large fails every task of the group) {
  auto check_all = [](const accept_verdict& v, task_reason reason, const std::string& needle) {
    CHECK(v.groups.empty());
    CHECK(v.used.empty());
    for (const auto& t : v.tasks) {
      CHECK(t.kind == verdict_kind::error);
      CHECK(t.reason == reason);
      CHECK_NOT_EQUAL(t.message.find(needle), std::string::npos);
    }
  };
  auto bad_res = task("bad", "cpus:1");
  bad_res.resources = raw({scalar_item("cpus", milli{-1000})});
  check_all(validate_accept(fw1, {offer_id{"o1"}}, {group_op({task("ok", "cpus:1"), bad_res}, default_executor("p"))},
                            outstanding, retired, is_live),
            task_reason::invalid_resources, "task bad");
  check_all(validate_accept(fw1, {offer_id{"o1"}},
                            {group_op({task("a", "cpus:2"), task("b", "cpus:2")}, default_executor("p"))},
                            outstanding, retired, is_live),
            task_reason::invalid_resources, "not contained in what remains");
  auto with_exec = task("x", "cpus:1");
  with_exec.executor = default_executor("p");
  check_all(validate_accept(fw1, {offer_id{"o1"}}, {group_op({with_exec}, default_executor("p"))}, outstanding,
                            retired, is_live),
            task_reason::task_group_invalid, "names an executor");
  check_all(validate_accept(fw1, {offer_id{"o1"}}, {group_op({task("a", "cpus:1")}, std::nullopt)}, outstanding,
                            retired, is_live),
            task_reason::task_group_invalid, "needs its executor");
  auto custom = default_executor("p");
  custom.type = executor_type::custom;
  custom.command.value = "/bin/my-executor";
  check_all(validate_accept(fw1, {offer_id{"o1"}}, {group_op({task("a", "cpus:1")}, custom)}, outstanding, retired,
                            is_live),
            task_reason::task_group_invalid, "DEFAULT executor");
  // Our executor runs as the agent's user: a framework may not hand it an environment (LD_PRELOAD) or a user.
  auto env_exec = default_executor("p");
  env_exec.command.environment["LD_PRELOAD"] = "/tmp/evil.so";
  check_all(validate_accept(fw1, {offer_id{"o1"}}, {group_op({task("a", "cpus:1")}, env_exec)}, outstanding, retired,
                            is_live),
            task_reason::task_group_invalid, "takes no command, environment or user");
  live.insert(task_id{"running"});
  check_all(validate_accept(fw1, {offer_id{"o1"}}, {group_op({task("a", "cpus:1"), task("running", "cpus:1")},
                                                             default_executor("p"))},
                            outstanding, retired, is_live),
            task_reason::task_group_invalid, "already used by a live");
  auto v = validate_accept(fw1, {offer_id{"o1"}}, {group_op({}, default_executor("p"))}, outstanding, retired, is_live);
  CHECK(v.tasks.empty());
  CHECK(v.groups.empty());
}

TEST(a LAUNCH cannot use a DEFAULT executor and a group cannot reuse a custom executor ID) {
  auto t = task("solo", "cpus:1");
  t.command.reset();
  t.executor = default_executor("pod");
  auto v = accept(fw1, {"o1"}, {t});
  REQUIRE_EQUAL(v.tasks.size(), 1u);
  CHECK(v.tasks[0].kind == verdict_kind::error);
  CHECK_NOT_EQUAL(v.tasks[0].message.find("task groups only"), std::string::npos);
  executor_info custom;
  custom.id = executor_id{"pod"};
  custom.framework = fw1;
  custom.command.value = "/bin/my-executor";
  executor_query running = [&](const agent_id&, const executor_id& id) -> const executor_info* {
    return id == custom.id ? &custom : nullptr;
  };
  auto g = validate_accept(fw1, {offer_id{"o1"}}, {group_op({task("a", "cpus:1")}, default_executor("pod"))},
                           outstanding, retired, is_live, running);
  REQUIRE_EQUAL(g.tasks.size(), 1u);
  CHECK(g.tasks[0].reason == task_reason::task_group_invalid);
  CHECK_NOT_EQUAL(g.tasks[0].message.find("different executor_info"), std::string::npos);
}

TEST(a second group on a running default executor does not pay for the executor again) {
  auto pod = default_executor("pod");
  pod.framework = fw1;
  executor_query running = [&](const agent_id&, const executor_id& id) -> const executor_info* {
    return id == pod.id ? &pod : nullptr;
  };
  auto v = validate_accept(fw1, {offer_id{"o1"}}, {group_op({task("a", "cpus:1")}, default_executor("pod"))},
                           outstanding, retired, is_live, running);
  REQUIRE_EQUAL(v.groups.size(), 1u);
  CHECK(v.executors.empty());
  CHECK_EQUAL(v.used, res("cpus:1"));
}

FIXTURE_SCOPE_END()
