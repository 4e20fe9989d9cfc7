#define CAF_SUITE actors_registry
#include "test.hpp"

#include "messages/registry.hpp"

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include <cmath>
#include <limits>

using namespace mesoscaf;

namespace {

resource_set res(const std::string& text) {
  auto r = resource_set::parse(text);
  if (!r)
    CAF_FAIL("bad resources in test: " << text);
  return *r;
}

agent_info agent(const std::string& id, const std::string& total = "cpus:4;mem:1024", uint16_t port = 5051) {
  agent_info a;
  a.id = agent_id{id};
  a.hostname = "host-" + id;
  a.port = port;
  a.total = res(total);
  return a;
}

// The registry's full contents as bytes: two registries are equal iff their encodings are (maps are ordered).
std::vector<char> bytes(const registry_data& reg) {
  std::vector<char> buf;
  caf::binary_serializer sink{nullptr, buf};
  auto err = sink(const_cast<registry_data&>(reg));
  static_cast<void>(err);
  return buf;
}

// A resource_set that breaks its invariant (as if it arrived from outside): a bad name.
resource_set invalid_resources() {
  resource r;
  r.name = "bad name!";
  r.scalar = 1000;
  std::vector<resource> items{r};
  std::vector<char> buf;
  caf::binary_serializer sink{nullptr, buf};
  auto err = sink(items);
  static_cast<void>(err);
  resource_set out;
  caf::binary_deserializer source{nullptr, buf};
  auto err2 = source(out);
  static_cast<void>(err2);
  return out;
}

struct fixture {
  registry_data reg;

  // Applies `op`, which must apply.
  void ok(const registry_operation& op) {
    auto err = apply_registry_operation(reg, op);
    CHECK_EQUAL(err, "");
  }

  // Applies `op`, which must be refused with a message containing `why`, leaving the registry as it was.
  void refused(const registry_operation& op, const std::string& why) {
    auto before = bytes(reg);
    auto err = apply_registry_operation(reg, op);
    CHECK_NOT_EQUAL(err, "");
    if (err.find(why) == std::string::npos) {
      MESSAGE("refusal '" << err << "' does not mention '" << why << "'");
      CHECK(false && "refusal does not mention the expected text");
    }
    CHECK(bytes(reg) == before);
  }

  // a1 admitted, a2 unreachable (since 10), a3 gone (at 20).
  void populate() {
    ok(admit_agent_op(agent("a1")));
    ok(admit_agent_op(agent("a2")));
    ok(admit_agent_op(agent("a3")));
    ok(mark_unreachable_op(agent_id{"a2"}, 10));
    ok(remove_agent_op(agent_id{"a3"}, 20));
  }
};

} // namespace

FIXTURE_SCOPE(registry_tests, fixture)

TEST(op kinds have names) {
  CHECK_EQUAL(std::string{to_string(registry_op_kind::admit)}, "admit");
  CHECK_EQUAL(std::string{to_string(registry_op_kind::mark_unreachable)}, "mark_unreachable");
  CHECK_EQUAL(std::string{to_string(registry_op_kind::mark_reachable)}, "mark_reachable");
  CHECK_EQUAL(std::string{to_string(registry_op_kind::remove)}, "remove");
  CHECK_EQUAL(std::string{to_string(registry_op_kind::update_agent)}, "update_agent");
  CHECK_EQUAL(std::string{to_string(registry_op_kind::set_weight)}, "set_weight");
  CHECK_EQUAL(std::string{to_string(registry_op_kind::set_quota)}, "set_quota");
}

TEST(admit adds a new agent) {
  ok(admit_agent_op(agent("a1")));
  REQUIRE_EQUAL(reg.admitted.size(), 1u);
  CHECK_EQUAL(reg.admitted.at(agent_id{"a1"}).hostname, "host-a1");
  CHECK_EQUAL(reg.admitted.at(agent_id{"a1"}).total, res("cpus:4;mem:1024"));
  CHECK(reg.unreachable.empty());
  CHECK(reg.gone.empty());
}

TEST(admit refuses known agents and bad input) {
  populate();
  refused(admit_agent_op(agent("a1")), "is admitted");
  refused(admit_agent_op(agent("a2")), "is unreachable");
  refused(admit_agent_op(agent("a3")), "was removed for good");
  refused(admit_agent_op(agent("")), "no ID");
  auto bad = agent("a9");
  bad.total = invalid_resources();
  CHECK_NOT_EQUAL(bad.total.validate(), "");
  refused(admit_agent_op(bad), "invalid resources");
}

TEST(mark_unreachable moves an admitted agent) {
  populate();
  ok(mark_unreachable_op(agent_id{"a1"}, 42.5));
  CHECK_EQUAL(reg.admitted.count(agent_id{"a1"}), 0u);
  REQUIRE_EQUAL(reg.unreachable.count(agent_id{"a1"}), 1u);
  CHECK_EQUAL(reg.unreachable.at(agent_id{"a1"}).time, 42.5);
  CHECK_EQUAL(reg.unreachable.at(agent_id{"a1"}).info.hostname, "host-a1");
}

TEST(mark_unreachable refusals) {
  populate();
  refused(mark_unreachable_op(agent_id{"a2"}, 1), "is unreachable");
  refused(mark_unreachable_op(agent_id{"a3"}, 1), "was removed for good");
  refused(mark_unreachable_op(agent_id{"zz"}, 1), "is not in the registry");
  refused(mark_unreachable_op(agent_id{""}, 1), "no agent ID");
  refused(mark_unreachable_op(agent_id{"a1"}, -1), "invalid time");
  refused(mark_unreachable_op(agent_id{"a1"}, std::nan("")), "invalid time");
  refused(mark_unreachable_op(agent_id{"a1"}, std::numeric_limits<double>::infinity()), "invalid time");
}

TEST(mark_reachable readmits an unreachable agent with its new info) {
  populate();
  ok(mark_reachable_op(agent("a2", "cpus:8", 6000)));
  CHECK_EQUAL(reg.unreachable.count(agent_id{"a2"}), 0u);
  REQUIRE_EQUAL(reg.admitted.count(agent_id{"a2"}), 1u);
  CHECK_EQUAL(reg.admitted.at(agent_id{"a2"}).port, 6000);
  CHECK_EQUAL(reg.admitted.at(agent_id{"a2"}).total, res("cpus:8"));
}

TEST(mark_reachable refusals) {
  populate();
  refused(mark_reachable_op(agent("a1")), "is admitted");
  refused(mark_reachable_op(agent("a3")), "was removed for good");
  refused(mark_reachable_op(agent("zz")), "is not in the registry");
  refused(mark_reachable_op(agent("")), "no ID");
  auto bad = agent("a2");
  bad.total = invalid_resources();
  refused(mark_reachable_op(bad), "invalid resources");
}

TEST(remove makes admitted and unreachable agents gone) {
  populate();
  ok(remove_agent_op(agent_id{"a1"}, 30));
  ok(remove_agent_op(agent_id{"a2"}, 31));
  CHECK(reg.admitted.empty());
  CHECK(reg.unreachable.empty());
  REQUIRE_EQUAL(reg.gone.size(), 3u);
  CHECK_EQUAL(reg.gone.at(agent_id{"a1"}), 30);
  CHECK_EQUAL(reg.gone.at(agent_id{"a2"}), 31);
  CHECK_EQUAL(reg.gone.at(agent_id{"a3"}), 20);
}

TEST(remove refusals) {
  populate();
  refused(remove_agent_op(agent_id{"a3"}, 1), "was removed for good");
  refused(remove_agent_op(agent_id{"zz"}, 1), "is not in the registry");
  refused(remove_agent_op(agent_id{""}, 1), "no agent ID");
  refused(remove_agent_op(agent_id{"a1"}, -5), "invalid time");
}

TEST(update_agent replaces the info of an admitted agent) {
  populate();
  ok(update_agent_op(agent("a1", "cpus:2", 7000)));
  CHECK_EQUAL(reg.admitted.at(agent_id{"a1"}).port, 7000);
  CHECK_EQUAL(reg.admitted.at(agent_id{"a1"}).total, res("cpus:2"));
}

TEST(update_agent refusals) {
  populate();
  refused(update_agent_op(agent("a2")), "is unreachable");
  refused(update_agent_op(agent("a3")), "was removed for good");
  refused(update_agent_op(agent("zz")), "is not in the registry");
  refused(update_agent_op(agent("")), "no ID");
  auto bad = agent("a1");
  bad.total = invalid_resources();
  refused(update_agent_op(bad), "invalid resources");
}

TEST(set_weight sets and resets) {
  ok(set_weight_op("eng", 2.5));
  ok(set_weight_op("eng/prod", 0.5));
  CHECK_EQUAL(reg.weights.size(), 2u);
  CHECK_EQUAL(reg.weights.at("eng"), 2.5);
  ok(set_weight_op("eng", 1.0));
  CHECK_EQUAL(reg.weights.count("eng"), 0u);
  CHECK_EQUAL(reg.weights.size(), 1u);
}

TEST(set_weight refusals) {
  ok(set_weight_op("eng", 2));
  refused(set_weight_op("*", 2), "invalid role");
  refused(set_weight_op("", 2), "invalid role");
  refused(set_weight_op("a//b", 2), "invalid role");
  refused(set_weight_op("eng", 0), "invalid weight");
  refused(set_weight_op("eng", -1), "invalid weight");
  refused(set_weight_op("eng", std::nan("")), "invalid weight");
  refused(set_weight_op("eng", std::numeric_limits<double>::infinity()), "invalid weight");
}

TEST(set_quota sets and clears) {
  quota_info q{res("cpus:2;mem:100"), res("cpus:4")};
  ok(set_quota_op("eng", q));
  REQUIRE_EQUAL(reg.quota.count("eng"), 1u);
  CHECK_EQUAL(reg.quota.at("eng").guarantee, res("cpus:2;mem:100"));
  CHECK_EQUAL(reg.quota.at("eng").limit, res("cpus:4"));
  ok(set_quota_op("eng", quota_info{}));
  CHECK(reg.quota.empty());
}

TEST(set_quota refusals) {
  ok(set_quota_op("eng", quota_info{res("cpus:1"), {}}));
  refused(set_quota_op("*", quota_info{res("cpus:1"), {}}), "invalid role");
  refused(set_quota_op("", quota_info{res("cpus:1"), {}}), "invalid role");
  refused(set_quota_op("eng", quota_info{res("cpus:5"), res("cpus:4")}), "exceeds the limit");
  refused(set_quota_op("eng", quota_info{res("ports:[1-2]"), {}}), "only scalars");
  refused(set_quota_op("eng", quota_info{{}, res("cpus(eng):1")}), "only unreserved");
  refused(set_quota_op("eng", quota_info{invalid_resources(), {}}), "invalid guarantee");
}

TEST(an unknown op kind is refused) {
  populate();
  registry_operation op;
  op.kind = static_cast<registry_op_kind>(99);
  refused(op, "unknown registry operation");
}

TEST(shorthands fill the right fields) {
  auto a = admit_agent_op(agent("x"));
  CHECK(a.kind == registry_op_kind::admit);
  CHECK_EQUAL(a.agent.id.value, "x");
  auto u = mark_unreachable_op(agent_id{"y"}, 3);
  CHECK(u.kind == registry_op_kind::mark_unreachable);
  CHECK_EQUAL(u.id.value, "y");
  CHECK_EQUAL(u.time, 3);
  CHECK(mark_reachable_op(agent("x")).kind == registry_op_kind::mark_reachable);
  CHECK(remove_agent_op(agent_id{"y"}, 1).kind == registry_op_kind::remove);
  CHECK(update_agent_op(agent("x")).kind == registry_op_kind::update_agent);
  auto w = set_weight_op("r", 3);
  CHECK(w.kind == registry_op_kind::set_weight);
  CHECK_EQUAL(w.role, "r");
  CHECK_EQUAL(w.weight, 3);
  CHECK(set_quota_op("r", quota_info{}).kind == registry_op_kind::set_quota);
}

FIXTURE_SCOPE_END()
