#define CAF_SUITE config_task_group_file
#include "test.hpp"

#include "config/task_group_file.hpp"

using namespace mesoscaf;

namespace {

bool mentions(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

std::string parse_error(const std::string& text) {
  task_group_info g;
  g.tasks.resize(1);  // must stay untouched on errors
  auto err = parse_task_group_json(text, g);
  if (err.empty())
    CAF_FAIL("accepted: " << text);
  CHECK_EQUAL(g.tasks.size(), 1u);
  return err;
}

} // namespace

TEST(mesos task group json is read with its resources command and policy) {
  const char* text = R"({"tasks": [
    {"name": "web", "task_id": {"value": "web-1"}, "agent_id": {"value": ""},
     "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.5}},
                   {"name": "mem", "type": "SCALAR", "scalar": {"value": 64}},
                   {"name": "ports", "type": "RANGES", "ranges": {"range": [{"begin": 31000, "end": 31001}]}}],
     "command": {"value": "python3 -m http.server 31000",
                 "environment": {"variables": [{"name": "MODE", "value": "prod"}]},
                 "uris": [{"value": "http://example.org/app.tgz", "extract": true, "cache": true}]},
     "kill_policy": {"grace_period": {"nanoseconds": 2500000000}},
     "labels": {"labels": [{"key": "tier", "value": "web"}]}},
    {"name": "sidecar", "resources": "cpus:0.1;mem:32",
     "command": {"shell": false, "value": "/bin/sleep", "arguments": ["sleep", "100"]}}],
   "failure_policy": "KEEP_RUNNING"})";
  task_group_info g;
  auto err = parse_task_group_json(text, g);
  REQUIRE_EQUAL(err, "");
  REQUIRE_EQUAL(g.tasks.size(), 2u);
  CHECK(g.on_failure == group_failure_policy::keep_running);
  const auto& web = g.tasks[0];
  CHECK_EQUAL(web.id, task_id{"web-1"});
  CHECK_EQUAL(web.name, "web");
  auto expected = *resource_set::parse("cpus:0.5;mem:64;ports:[31000-31001]");
  CHECK_EQUAL(web.resources, expected);
  REQUIRE(web.command);
  CHECK(web.command->shell);
  CHECK_EQUAL(web.command->environment.at("MODE"), "prod");
  REQUIRE_EQUAL(web.command->uris.size(), 1u);
  CHECK(web.command->uris[0].cache);
  REQUIRE(web.kill_policy);
  CHECK_EQUAL(web.kill_policy->grace_period, 2.5);
  REQUIRE_EQUAL(web.labels.size(), 1u);
  CHECK_EQUAL(web.labels[0].key, "tier");
  const auto& side = g.tasks[1];
  CHECK_EQUAL(side.id, task_id{"sidecar"});  // the name, without a task_id
  CHECK(!side.command->shell);
  std::vector<std::string> argv{"sleep", "100"};
  CHECK_EQUAL(side.command->arguments, argv);
  task_group_info plain;
  REQUIRE_EQUAL(parse_task_group_json(R"({"tasks": [{"name": "a", "resources": "cpus:1", "command": {"value": "true"}}]})",
                                      plain),
                "");
  CHECK(plain.on_failure == group_failure_policy::kill_group);  // Mesos' rule by default
}

TEST(bad group files are refused naming the place) {
  CHECK(mentions(parse_error("{"), "not valid JSON"));
  CHECK(mentions(parse_error("[]"), "group: not an object"));
  CHECK(mentions(parse_error(R"({"tasks": []})"), "the group has no tasks"));
  CHECK(mentions(parse_error(R"({"task": []})"), "unknown key 'task'"));
  auto dup = R"({"tasks": [{"name": "a", "resources": "cpus:1", "command": {"value": "true"}},
                           {"name": "a", "resources": "cpus:1", "command": {"value": "true"}}]})";
  CHECK(mentions(parse_error(dup), "tasks[1].task_id: task ID 'a' appears twice in the group"));
  CHECK(mentions(parse_error(R"({"tasks": [{"name": "../x", "resources": "cpus:1", "command": {"value": "true"}}]})"),
                 "tasks[0].task_id"));
  CHECK(mentions(parse_error(R"({"tasks": [{"name": "a", "resources": "cpus:-1", "command": {"value": "true"}}]})"),
                 "tasks[0].resources"));
  CHECK(mentions(parse_error(R"({"tasks": [{"name": "a", "resources": [{"name": "cpus", "type": "SCALAR",
                 "scalar": {"value": "lots"}}], "command": {"value": "true"}}]})"),
                 "tasks[0].resources[0].scalar.value: not a number"));
  CHECK(mentions(parse_error(R"({"tasks": [{"name": "a", "resources": [{"name": "gpus", "type": "SET"}],
                 "command": {"value": "true"}}]})"),
                 "'SET' is not supported"));
  CHECK(mentions(parse_error(R"({"tasks": [{"name": "a", "resources": "cpus:1"}]})"), "tasks[0]: no command"));
  CHECK(mentions(parse_error(R"({"tasks": [{"name": "a", "resources": "cpus:1", "command": {"value": ""}}]})"),
                 "the command is empty"));
  CHECK(mentions(parse_error(R"({"tasks": [{"name": "a", "resources": "cpus:1", "command": {"value": "true",
                 "uris": [{"value": "ftp://x/y"}]}}]})"),
                 "tasks[0]"));
  CHECK(mentions(parse_error(R"({"tasks": [{"name": "a", "resources": "cpus:1", "command": {"value": "true"},
                 "kill_policy": {"grace_period": {"nanoseconds": -1}}}]})"),
                 "grace"));
  CHECK(mentions(parse_error(R"({"tasks": [{"name": "a", "agent_id": {"value": "x"}, "resources": "cpus:1",
                 "command": {"value": "true"}}]})"),
                 "agent_id: must be empty"));
  CHECK(mentions(parse_error(R"({"tasks": [{"name": "a", "resources": "cpus:1", "command": {"value": "true"}}],
                 "failure_policy": "SOMETIMES"})"),
                 "is not KILL_GROUP or KEEP_RUNNING"));
  std::string many = R"({"tasks": [)";
  for (int i = 0; i < 257; ++i)
    many += std::string(i > 0 ? "," : "") + R"({"name": "t)" + std::to_string(i)
            + R"(", "resources": "cpus:1", "command": {"value": "true"}})";
  CHECK(mentions(parse_error(many + "]}"), "more than 256 tasks"));
  // Deep nesting is refused by the parser, before anything copies it (copies recurse).
  std::string deep = R"({"tasks": [{"name": )" + std::string(100000, '[') + std::string(100000, ']') + "}]}";
  CHECK(mentions(parse_error(deep), "nested deeper than 32 levels"));
}
