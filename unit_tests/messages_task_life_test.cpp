#define CAF_SUITE messages_task_life
#include "test.hpp"

#include "actors/sdk/health_tracker.hpp"
#include "messages/attributes.hpp"
#include "messages/task_checks.hpp"

using namespace mesoscaf;

namespace {

resource_set res(std::string_view text) {
  std::string err;
  auto r = resource_set::parse(text, &err);
  if (!r)
    CAF_FAIL("bad resources in test: " << err);
  return *r;
}

bool mentions(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

// -- attributes ---------------------------------------------------------------------------------------------

TEST(attributes parse text scalars ranges and sets and normalise them) {
  std::string err;
  auto a = parse_attributes("rack:r1; zone:z-2;gpus:4.50;slots:[1-4, 8-9];os:{linux, bsd}", &err);
  REQUIRE(a);
  CHECK_EQUAL(a->size(), 5u);
  CHECK_EQUAL(a->at("rack"), "r1");
  CHECK_EQUAL(a->at("zone"), "z-2");
  CHECK_EQUAL(a->at("gpus"), "4.5");
  CHECK_EQUAL(a->at("slots"), "[1-4,8-9]");
  CHECK_EQUAL(a->at("os"), "{linux,bsd}");
  CHECK(type_of_attribute(a->at("gpus")) == attribute_type::scalar);
  CHECK(type_of_attribute(a->at("slots")) == attribute_type::ranges);
  CHECK(type_of_attribute(a->at("os")) == attribute_type::set);
  CHECK(type_of_attribute(a->at("rack")) == attribute_type::text);
  auto empty = parse_attributes("", &err);
  REQUIRE(empty);
  CHECK(empty->empty());
}

TEST(malformed attributes are refused with the reason) {
  std::string err;
  CHECK(!parse_attributes("rack", &err));
  CHECK(mentions(err, "NAME:VALUE"));
  CHECK(!parse_attributes("rack:r1;rack:r2", &err));
  CHECK(mentions(err, "appears twice"));
  CHECK(!parse_attributes("slots:[5-1]", &err));
  CHECK(mentions(err, "ranges"));
  CHECK(!parse_attributes("zone:a b", &err));
  CHECK(!parse_attributes("na me:x", &err));
  CHECK(!parse_attributes("x:" + std::string(2000, 'a'), &err));
}

TEST(constraints match text scalars ranges and sets) {
  std::string err;
  auto a = *parse_attributes("rack:r1;gpus:4;slots:[1-4,8-9];os:{linux,bsd}", &err);
  CHECK(attribute_matches(a, "rack", "r1"));
  CHECK(!attribute_matches(a, "rack", "r2"));
  CHECK(attribute_matches(a, "gpus", "4.0"));
  CHECK(!attribute_matches(a, "gpus", "5"));
  CHECK(attribute_matches(a, "slots", "8"));
  CHECK(!attribute_matches(a, "slots", "6"));
  CHECK(attribute_matches(a, "os", "bsd"));
  CHECK(!attribute_matches(a, "os", "mac"));
  CHECK(!attribute_matches(a, "zone", "z1"));
  CHECK_EQUAL(format_attributes(a), "gpus:4;os:{linux,bsd};rack:r1;slots:[1-4,8-9]");
}

TEST(a restarted agent may change its attributes only as its policy allows) {
  std::string err;
  auto before = *parse_attributes("rack:r1;zone:z1", &err);
  CHECK_EQUAL(check_attribute_change(before, before, "equal"), "");
  auto added = *parse_attributes("rack:r1;zone:z1;gpus:2", &err);
  CHECK(mentions(check_attribute_change(before, added, "equal"), "allows no change"));
  CHECK_EQUAL(check_attribute_change(before, added, "additive"), "");
  auto changed = *parse_attributes("rack:r2;zone:z1", &err);
  CHECK(mentions(check_attribute_change(before, changed, "additive"), "attribute 'rack' changed"));
  auto removed = *parse_attributes("rack:r1", &err);
  CHECK(mentions(check_attribute_change(before, removed, "additive"), "attribute 'zone' was removed"));
}

// -- task checks ---------------------------------------------------------------------------------------------

TEST(kill policies are bounded) {
  CHECK_EQUAL(check_kill_policy(kill_policy{0}), "");
  CHECK_EQUAL(check_kill_policy(kill_policy{30}), "");
  CHECK(!check_kill_policy(kill_policy{-1}).empty());
  CHECK(!check_kill_policy(kill_policy{std::nan("")}).empty());
  CHECK(!check_kill_policy(kill_policy{1e12}).empty());
}

TEST(a health check must point at a port the task holds) {
  health_check hc;
  hc.type = health_check::kind::tcp;
  hc.port = 8080;
  auto msg = check_health_check(hc, res("cpus:1;ports:[31000-31001]"));
  CHECK(mentions(msg, "not one of the task's ports"));
  CHECK_EQUAL(check_health_check(hc, res("cpus:1;ports:[8080-8080]")), "");
  hc.type = health_check::kind::http;
  hc.path = "no-slash";
  CHECK(mentions(check_health_check(hc, res("cpus:1;ports:[8080-8080]")), "path"));
  hc.path = "/ok";
  hc.interval = 0;
  CHECK(mentions(check_health_check(hc, res("cpus:1;ports:[8080-8080]")), "interval"));
  health_check cmd;
  CHECK(mentions(check_health_check(cmd, res("cpus:1")), "without a command"));
  cmd.command.value = "true";
  CHECK_EQUAL(check_health_check(cmd, res("cpus:1")), "");
  cmd.timeout = std::nan("");
  CHECK(!check_health_check(cmd, res("cpus:1")).empty());
}

TEST(uris must be fetchable and stay inside the sandbox) {
  auto uri = [](std::string value, std::string output = {}) {
    command_uri u;
    u.value = std::move(value);
    u.output_file = std::move(output);
    return u;
  };
  CHECK_EQUAL(check_uri(uri("http://example.org/a.tar.gz")), "");
  CHECK_EQUAL(check_uri(uri("/opt/a.bin")), "");
  CHECK_EQUAL(check_uri(uri("file:///opt/a.bin")), "");
  CHECK_EQUAL(uri_output_path(uri("http://h/x/a.tar.gz?sig=1")), "a.tar.gz");
  CHECK(mentions(check_uri(uri("ftp://h/a")), "expected"));
  CHECK(mentions(check_uri(uri("")), "empty"));
  CHECK(mentions(check_uri(uri("http:///a")), "no host"));
  CHECK(mentions(check_uri(uri("http://h/a b")), "space"));
  CHECK(mentions(check_uri(uri("http://h/a", "../../etc/cron.d/x")), "inside the sandbox"));
  CHECK(mentions(check_uri(uri("http://h/a", "/etc/x")), "inside the sandbox"));
  CHECK_EQUAL(check_uri(uri("http://h/a", "bin/tool")), "");
  CHECK_EQUAL(uri_output_path(uri("http://h/dir/")), "dir");
  CHECK(mentions(check_uri(uri("http://h/")), "no file name"));
  CHECK(mentions(check_uri(uri("https://h")), "no file name"));
}

TEST(labels and discovery are bounded) {
  labels ok{{"tier", "web"}};
  CHECK_EQUAL(check_labels(ok, "task"), "");
  CHECK(!check_labels(labels{{"", "x"}}, "task").empty());
  CHECK(!check_labels(labels{{"k", "a\nb"}}, "task").empty());
  labels many(200, label{"k", "v"});
  CHECK(mentions(check_labels(many, "task"), "more than"));
  discovery_info d;
  d.visibility = "PUBLIC";
  CHECK(mentions(check_discovery(d), "visibility"));
  d.visibility = "CLUSTER";
  d.ports.push_back(discovery_port{70000, "http", "tcp"});
  CHECK(!check_discovery(d).empty());
  d.ports.back().number = 80;
  CHECK_EQUAL(check_discovery(d), "");
}

TEST(a task with its own executor cannot carry a health check but a task of a group can) {
  task_info t;
  t.id = task_id{"t"};
  t.resources = res("cpus:1");
  t.executor = executor_info{};
  t.health_check = health_check{};
  t.health_check->command.value = "true";
  CHECK(mentions(check_task_life(t), "a task with its own executor cannot have one"));
  // The DEFAULT executor is ours: it runs the checks of its group's tasks.
  t.executor->type = executor_type::default_executor;
  CHECK_EQUAL(check_task_life(t), "");
}

// -- health verdicts -----------------------------------------------------------------------------------------

TEST(failures within the grace period do not count until the first success) {
  health_check hc;
  hc.grace_period = 10;
  hc.consecutive_failures = 2;
  auto t0 = health_tracker::clock::now();
  health_tracker h{hc, t0};
  auto v = h.on_result(false, "refused", t0 + std::chrono::seconds(1));
  CHECK(v.ignored);
  CHECK(!v.changed);
  CHECK(!h.healthy());
  v = h.on_result(true, "", t0 + std::chrono::seconds(2));
  CHECK(v.changed);
  CHECK(h.healthy() == std::optional<bool>{true});
  // After a success the grace period is over.
  v = h.on_result(false, "refused", t0 + std::chrono::seconds(3));
  CHECK(!v.ignored);
  CHECK(v.changed);
  CHECK(!v.kill);
  CHECK(h.healthy() == std::optional<bool>{false});
  v = h.on_result(false, "refused", t0 + std::chrono::seconds(4));
  CHECK(!v.changed);  // still unhealthy: no second update
  CHECK(v.kill);
  CHECK(mentions(v.message, "2 consecutive failed health check(s): refused"));
}

TEST(a success resets the failure count and zero failures never kill) {
  health_check hc;
  hc.grace_period = 0;
  hc.consecutive_failures = 2;
  auto t0 = health_tracker::clock::now();
  health_tracker h{hc, t0};
  CHECK(!h.on_result(false, "x", t0).kill);
  CHECK(h.on_result(true, "", t0).changed);
  CHECK(!h.on_result(false, "x", t0).kill);
  CHECK_EQUAL(h.failures(), 1u);
  hc.consecutive_failures = 0;
  health_tracker never{hc, t0};
  for (int i = 0; i < 10; ++i)
    CHECK(!never.on_result(false, "x", t0).kill);
}
