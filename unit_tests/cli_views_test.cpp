// What the operator CLI makes of the master's and agents' JSON (docs/HTTP.md), on fixture answers: tables, the
// task selection, the sandbox lookup, the tail of a file, the redirect location, the request bodies.
#define CAF_SUITE cli_views
#include "test.hpp"

#include "apps/mesoscaf/cli_views.hpp"
#include "apps/mesoscaf/http_client.hpp"
#include "apps/mesoscaf/master_endpoint.hpp"
#include "apps/mesoscaf/sandbox_files.hpp"

#include <sstream>

using namespace mesoscaf;

namespace {

/// A master's /state: one agent, one framework with a running and a finished task, a completed framework.
const json master_state = json::parse(R"({
  "version": "0.22.0", "leader": "master@10.0.0.1:5050",
  "leader_info": {"id": "m1", "hostname": "h", "ip": "10.0.0.1", "port": 5050, "http_port": 5040},
  "activated_slaves": 1, "deactivated_slaves": 0, "unreachable_slaves": 0,
  "slaves": [{"id": "a1", "hostname": "node1", "address": "10.0.0.2", "http_port": 5041, "port": 5041,
              "active": true, "resources": {"cpus": 4.0, "mem": 4096.0, "disk": 100.0, "ports": "[31000-32000]"},
              "used_resources": {"cpus": 0.5, "mem": 32.0, "disk": 0.0}}],
  "frameworks": [{"id": "fw1", "name": "web", "user": "alice", "role": "eng", "active": true,
                  "used_resources": {"cpus": 0.5, "mem": 32.0},
                  "tasks": [{"id": "t-run", "name": "server", "framework_id": "fw1", "slave_id": "a1",
                             "state": "TASK_RUNNING", "resources": {"cpus": 0.5, "mem": 32.0}}],
                  "unreachable_tasks": [],
                  "completed_tasks": [{"id": "t-done", "name": "batch", "framework_id": "fw1", "slave_id": "a1",
                                      "state": "TASK_FINISHED", "resources": {"cpus": 0.1, "mem": 16.0}}]}],
  "completed_frameworks": [{"id": "fw0", "name": "old", "user": "bob", "role": "*", "active": false,
                            "tasks": [], "completed_tasks": [{"id": "t-old", "name": "x", "framework_id": "fw0",
                                      "slave_id": "a9", "state": "TASK_KILLED", "resources": {}}]}],
  "orphan_tasks": []
})");

/// An agent's /state: the running task's executor and a completed executor.
const json agent_state = json::parse(R"({
  "id": "a1",
  "frameworks": [{"id": "fw1", "executors": [
      {"id": "t-run", "framework_id": "fw1", "directory": "/w/slaves/a1/frameworks/fw1/executors/t-run/runs/r1",
       "tasks": [{"id": "t-run", "state": "TASK_RUNNING"}], "queued_tasks": [], "completed_tasks": []},
      {"id": "t-cmd", "framework_id": "fw1", "directory": "/w/cmd",
       "tasks": [], "completed_tasks": [],
       "queued_tasks": [{"id": "t-cmd", "state": "TASK_STAGING", "directory": "/w/cmd/tasks/t-cmd"}]}],
    "completed_executors": [
      {"id": "t-done", "framework_id": "fw1", "directory": "/w/done",
       "tasks": [], "queued_tasks": [], "completed_tasks": [{"id": "t-done", "state": "TASK_FINISHED"}]}]}],
  "completed_frameworks": []
})");

std::string rendered(const text_table& t) {
  std::ostringstream os;
  write_table(os, t);
  return os.str();
}

} // namespace

TEST(a table aligns its columns without trailing blanks) {
  text_table t{{"ID", "NAME", "STATE"}, {{"t-1", "a\tb", "TASK_RUNNING"}, {"task-long", "x", "TASK_FINISHED"}}};
  CHECK_EQUAL(rendered(t), "ID         NAME  STATE\n"
                           "t-1        a?b   TASK_RUNNING\n"
                           "task-long  x     TASK_FINISHED\n");
  text_table empty_last{{"ROLE", "GUARANTEE", "LIMIT"}, {{"eng", "cpus:1", ""}}};
  CHECK_EQUAL(rendered(empty_last), "ROLE  GUARANTEE  LIMIT\n"
                                    "eng   cpus:1\n");
}

TEST(numbers print with at most three decimals) {
  CHECK_EQUAL(format_number(2), "2");
  CHECK_EQUAL(format_number(0.5), "0.5");
  CHECK_EQUAL(format_number(0.1), "0.1");
  CHECK_EQUAL(format_number(1024), "1024");
  CHECK_EQUAL(format_number(0.1234), "0.123");
  CHECK_EQUAL(resources_text(json{{"cpus", 1.0}, {"disk", 0.0}, {"mem", 512.0}, {"ports", "[31000-31001]"}}),
              "cpus:1;mem:512;ports:[31000-31001]");
}

TEST(live tasks by default and completed ones with all) {
  auto live = select_tasks(master_state, false);
  REQUIRE_EQUAL(live.size(), 1u);
  CHECK_EQUAL(live[0]["id"], "t-run");
  auto all = select_tasks(master_state, true);
  REQUIRE_EQUAL(all.size(), 3u);
  CHECK_EQUAL(all[1]["id"], "t-done");
  CHECK_EQUAL(all[2]["id"], "t-old");
  auto text = rendered(tasks_table(live));
  CHECK_EQUAL(text, "TASK ID  NAME    STATE         FRAMEWORK  AGENT  CPUS  MEM\n"
                    "t-run    server  TASK_RUNNING  fw1        a1     0.5   32\n");
}

TEST(agents show their HTTP address and used of total) {
  auto t = agents_table(json{{"slaves", master_state["slaves"]}});
  REQUIRE_EQUAL(t.rows.size(), 1u);
  CHECK_EQUAL(t.header[2], "ADDRESS");
  CHECK_EQUAL(t.rows[0][2], "10.0.0.2:5041");
  CHECK_EQUAL(t.rows[0][3], "yes");
  CHECK_EQUAL(t.rows[0][4], "0.5/4");
  CHECK_EQUAL(t.rows[0][5], "32/4096");
}

TEST(frameworks list live then completed ones) {
  auto t = frameworks_table(master_state);
  REQUIRE_EQUAL(t.rows.size(), 2u);
  CHECK_EQUAL(t.rows[0][0], "fw1");
  CHECK_EQUAL(t.rows[0][4], "yes");
  CHECK_EQUAL(t.rows[0][5], "1");
  CHECK_EQUAL(t.rows[1][0], "fw0");
  CHECK_EQUAL(t.rows[1][4], "completed");
}

TEST(quota and weights tables) {
  auto quota = quota_table(json::parse(R"({"infos": [{"role": "eng", "guarantee": {"cpus": 1, "mem": 512},
                                                       "limit": {}}]})"));
  REQUIRE_EQUAL(quota.rows.size(), 1u);
  CHECK_EQUAL(quota.rows[0][0], "eng");
  CHECK_EQUAL(quota.rows[0][1], "cpus:1;mem:512");
  auto weights = weights_table(json::parse(R"([{"role": "eng", "weight": 2.5}, {"role": "ops", "weight": 1}])"));
  REQUIRE_EQUAL(weights.rows.size(), 2u);
  CHECK_EQUAL(weights.rows[0][1], "2.5");
  CHECK_EQUAL(weights.rows[1][0], "ops");
  // Unexpected shapes print as empty tables, not crashes.
  CHECK(quota_table(json::array()).rows.empty());
  CHECK(weights_table(json::object()).rows.empty());
}

TEST(the state summary counts agents tasks and resources) {
  std::ostringstream os;
  write_state_summary(os, master_state);
  auto text = os.str();
  MESSAGE(text);
  CHECK_NOT_EQUAL(text.find("master@10.0.0.1:5050 (http 10.0.0.1:5040)"), std::string::npos);
  CHECK_NOT_EQUAL(text.find("1 active, 0 inactive"), std::string::npos);
  CHECK_NOT_EQUAL(text.find("TASK_FINISHED 1, TASK_KILLED 1, TASK_RUNNING 1"), std::string::npos);
  CHECK_NOT_EQUAL(text.find("cpus 0.5/4 used"), std::string::npos);
}

TEST(request bodies for quota and weights) {
  auto quota = quota_request("eng", *resource_set::parse("cpus:1;mem:512"));
  CHECK_EQUAL(quota, json::parse(R"({"role": "eng", "guarantee": {"cpus": 1.0, "mem": 512.0}})"));
  auto weights = weights_request({{"eng", 2.0}, {"ops", 0.5}});
  CHECK_EQUAL(weights, json::parse(R"([{"role": "eng", "weight": 2.0}, {"role": "ops", "weight": 0.5}])"));
}

TEST(a task is located through the master with its agent HTTP address) {
  auto running = locate_task(master_state, "t-run");
  REQUIRE(running);
  CHECK_EQUAL(running->framework, "fw1");
  CHECK_EQUAL(running->agent, "a1");
  CHECK_EQUAL(running->state, "TASK_RUNNING");
  CHECK_EQUAL(running->agent_http.host, "10.0.0.2");
  CHECK_EQUAL(running->agent_http.port, 5041);
  auto done = locate_task(master_state, "t-done");
  REQUIRE(done);
  CHECK_EQUAL(done->state, "TASK_FINISHED");
  auto old = locate_task(master_state, "t-old");   // its agent is gone: no address
  REQUIRE(old);
  CHECK_EQUAL(old->agent_http.port, 0);
  CHECK(!locate_task(master_state, "nope"));
}

TEST(the sandbox is the directory of the task or else of its executor) {
  auto running = find_sandbox(agent_state, "fw1", "t-run");
  REQUIRE(running);
  CHECK_EQUAL(running->directory, "/w/slaves/a1/frameworks/fw1/executors/t-run/runs/r1");
  CHECK_EQUAL(running->state, "TASK_RUNNING");
  auto done = find_sandbox(agent_state, "fw1", "t-done");
  REQUIRE(done);
  CHECK_EQUAL(done->directory, "/w/done");
  CHECK(is_terminal_task_state(done->state));
  CHECK(!is_terminal_task_state(running->state));
  auto command = find_sandbox(agent_state, "fw1", "t-cmd");   // the task names its own directory
  REQUIRE(command);
  CHECK_EQUAL(command->directory, "/w/cmd/tasks/t-cmd");
  CHECK(!find_sandbox(agent_state, "fw2", "t-run"));
  CHECK(!find_sandbox(agent_state, "fw1", "t-none"));
}

TEST(last lines of a text) {
  CHECK_EQUAL(last_lines("a\nb\nc\n", 2), "b\nc\n");
  CHECK_EQUAL(last_lines("a\nb\nc", 2), "b\nc");
  CHECK_EQUAL(last_lines("a\nb\n", 5), "a\nb\n");
  CHECK_EQUAL(last_lines("", 3), "");
  CHECK_EQUAL(last_lines("only", 1), "only");
  CHECK_EQUAL(last_lines("a\n\n\n", 2), "\n\n");
}

TEST(the redirect location names the leader) {
  http_address a;
  CHECK_EQUAL(parse_redirect_location("//10.0.0.1:5040", a), "");
  CHECK_EQUAL(a.host, "10.0.0.1");
  CHECK_EQUAL(a.port, 5040);
  CHECK_EQUAL(parse_redirect_location("http://127.0.0.1:6000/master/state", a), "");
  CHECK_EQUAL(a.port, 6000);
  CHECK_NOT_EQUAL(parse_redirect_location("", a), "");
  CHECK_NOT_EQUAL(parse_redirect_location("//nohost", a), "");
  CHECK_NOT_EQUAL(parse_redirect_location("ftp://h:1", a), "");
}

TEST(percent encoding keeps unreserved characters) {
  CHECK_EQUAL(percent_encode("/w/a b&c=d"), "%2Fw%2Fa%20b%26c%3Dd");
  CHECK_EQUAL(percent_encode("eng/prod", true), "eng/prod");
  CHECK_EQUAL(percent_encode("a-b_c.d~"), "a-b_c.d~");
}

TEST(an HTTP error is described by status and reason) {
  http_response r;
  r.status = 400;
  r.reason = "Bad Request";
  r.body = "weight of role eng must be > 0\nmore";
  CHECK_EQUAL(describe_http_error(r), "400 Bad Request: weight of role eng must be > 0");
  r.status = 404;
  r.reason = "Not Found";
  r.body = R"({"error":"no such framework: fw-9"})";
  CHECK_EQUAL(describe_http_error(r), "404 Not Found: no such framework: fw-9");
}
