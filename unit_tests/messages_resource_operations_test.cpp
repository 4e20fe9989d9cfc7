#define CAF_SUITE messages_resource_operations
#include "test.hpp"

#include "messages/resource_operations.hpp"

using namespace mesoscaf;

namespace {

resource_set res(std::string_view text) {
  std::string err;
  auto r = resource_set::parse(text, &err);
  if (!r)
    CAF_FAIL("bad resources in test: " << err);
  return *r;
}

offer_operation op(operation_type t, std::string_view text) {
  offer_operation o;
  o.type = t;
  o.resources = res(text);
  return o;
}

// Runs to_conversion and returns its error ("" on success).
std::string convert(const offer_operation& o, std::string_view role, const resource_set& available,
                    resource_conversion& out, const resource_set& agent_total = {}) {
  return to_conversion(o, role, available, agent_total.empty() ? available : agent_total, out);
}

bool mentions(const std::string& err, const std::string& token) {
  if (err.find(token) != std::string::npos)
    return true;
  MESSAGE("error '" << err << "' does not mention '" << token << "'");
  return false;
}

} // namespace

TEST(reserve converts unreserved resources of the offer) {
  auto offer = res("cpus:4;mem:1024;disk:100");
  resource_conversion c;
  REQUIRE_EQUAL(convert(op(operation_type::reserve, "cpus(eng,dynamic):2;disk(eng,dynamic):50"), "eng", offer, c),
                "");
  CHECK_EQUAL(c.consumed.to_string(), "cpus:2;disk:50");
  CHECK_EQUAL(c.produced.to_string(), "cpus(eng,dynamic):2;disk(eng,dynamic):50");
  REQUIRE_EQUAL(apply_conversion(offer, c), "");
  CHECK_EQUAL(offer.to_string(), "cpus:2;cpus(eng,dynamic):2;disk:50;disk(eng,dynamic):50;mem:1024");
  // The agent's re-check passes no role.
  resource_conversion again;
  CHECK_EQUAL(convert(op(operation_type::reserve, "mem(ops,dynamic):24"), "", offer, again), "");
}

TEST(reserve refuses bad requests and changes nothing) {
  auto offer = res("cpus:4;cpus(eng):1");
  resource_conversion c;
  c.consumed = res("mem:1");
  CHECK(mentions(convert(op(operation_type::reserve, "cpus(ops,dynamic):1"), "eng", offer, c), "role"));
  CHECK(mentions(convert(op(operation_type::reserve, "cpus(eng):1"), "eng", offer, c), "dynamic"));
  CHECK(mentions(convert(op(operation_type::reserve, "cpus:1"), "eng", offer, c), "no role"));
  CHECK(mentions(convert(op(operation_type::reserve, "cpus(eng,dynamic):5"), "eng", offer, c), "not in the offer"));
  CHECK(mentions(convert(op(operation_type::reserve, "disk(eng,dynamic)[v:d]:1"), "eng", res("disk:5"), c),
                 "volume"));
  CHECK(mentions(convert(op(operation_type::reserve, ""), "eng", offer, c), "no resources"));
  auto with_task = op(operation_type::reserve, "cpus(eng,dynamic):1");
  with_task.tasks.emplace_back();
  CHECK(mentions(convert(with_task, "eng", offer, c), "tasks"));
  CHECK(mentions(convert(op(operation_type::launch, "cpus:1"), "eng", offer, c), "LAUNCH"));
  auto unknown = op(operation_type::reserve, "cpus(eng,dynamic):1");
  unknown.type = static_cast<operation_type>(42);
  CHECK(mentions(convert(unknown, "eng", offer, c), "unknown operation"));
  CHECK_EQUAL(c.consumed.to_string(), "mem:1"); // untouched on every error
}

TEST(unreserve only dynamic reservations that are not volumes) {
  auto offer = res("cpus(eng,dynamic):2;cpus(eng):1;disk(eng,dynamic)[v:d]:10;disk(eng,dynamic):5");
  resource_conversion c;
  REQUIRE_EQUAL(convert(op(operation_type::unreserve, "cpus(eng,dynamic):2;disk(eng,dynamic):5"), "eng", offer, c),
                "");
  CHECK_EQUAL(c.produced.to_string(), "cpus:2;disk:5");
  CHECK(mentions(convert(op(operation_type::unreserve, "cpus(eng):1"), "eng", offer, c), "statically"));
  CHECK(mentions(convert(op(operation_type::unreserve, "cpus:1"), "eng", offer, c), "not reserved"));
  CHECK(mentions(convert(op(operation_type::unreserve, "disk(eng,dynamic)[v:d]:10"), "eng", offer, c),
                 "destroyed first"));
  CHECK(mentions(convert(op(operation_type::unreserve, "cpus(eng,dynamic):3"), "eng", offer, c), "not in the offer"));
}

TEST(create and destroy volumes on reserved disk) {
  auto offer = res("disk(eng,dynamic):100;disk:50");
  resource_conversion c;
  REQUIRE_EQUAL(convert(op(operation_type::create, "disk(eng,dynamic)[vol1:data]:60"), "eng", offer, c), "");
  CHECK_EQUAL(c.consumed.to_string(), "disk(eng,dynamic):60");
  REQUIRE_EQUAL(apply_conversion(offer, c), "");
  CHECK_EQUAL(offer.to_string(), "disk:50;disk(eng,dynamic):40;disk(eng,dynamic)[vol1:data]:60");
  // The ID is taken now, on this agent; the same request fails, also with another path.
  CHECK(mentions(convert(op(operation_type::create, "disk(eng,dynamic)[vol1:other]:10"), "eng", offer, c),
                 "already exists"));
  // Unreserved disk cannot hold a volume; neither can more disk than the offer has.
  CHECK(mentions(convert(op(operation_type::create, "disk(eng,dynamic)[v2:x]:41"), "eng", offer, c),
                 "not in the offer"));
  CHECK(mentions(convert(op(operation_type::create, "disk(eng,dynamic):10"), "eng", offer, c), "not a volume"));
  // A volume that exists elsewhere on the agent (not in this offer) also blocks the ID.
  CHECK(mentions(convert(op(operation_type::create, "disk(eng,dynamic)[vol9:x]:1"), "eng", offer, c,
                         res("disk(ops)[vol9:y]:1")),
                 "already exists"));
  CHECK(mentions(convert(op(operation_type::create, "disk(eng,dynamic)[a:x]:1;disk(eng,dynamic)[a:y]:1"), "eng",
                         offer, c),
                 "twice"));
  REQUIRE_EQUAL(convert(op(operation_type::destroy, "disk(eng,dynamic)[vol1:data]:60"), "eng", offer, c), "");
  REQUIRE_EQUAL(apply_conversion(offer, c), "");
  CHECK_EQUAL(offer.to_string(), "disk:50;disk(eng,dynamic):100");
  CHECK(mentions(convert(op(operation_type::destroy, "disk(eng,dynamic):1"), "eng", offer, c), "not a volume"));
  CHECK(mentions(convert(op(operation_type::destroy, "disk(eng,dynamic)[vol1:data]:60"), "eng", offer, c),
                 "not in the offer"));
}

TEST(a volume is destroyed whole) {
  auto offer = res("disk(eng,dynamic)[vol1:data]:60");
  resource_conversion c;
  CHECK(mentions(convert(op(operation_type::destroy, "disk(eng,dynamic)[vol1:data]:20"), "eng", offer, c), "whole"));
  // Also when the offer holds only a part: the agent's total has the whole volume.
  CHECK(mentions(convert(op(operation_type::destroy, "disk(eng,dynamic)[vol1:data]:20"), "eng",
                         res("disk(eng,dynamic)[vol1:data]:20"), c, offer),
                 "whole"));
  CHECK(c.consumed.empty());
  CHECK_EQUAL(check_whole_volumes(res("disk(eng,dynamic)[vol1:data]:60;cpus:1"), offer), "");
  CHECK(mentions(check_whole_volumes(res("disk(eng,dynamic)[vol1:data]:61"), offer), "whole"));
}

TEST(apply_conversion refuses what is not there) {
  auto r = res("cpus:1");
  resource_conversion c{res("cpus:2"), res("cpus(eng,dynamic):2")};
  CHECK(mentions(apply_conversion(r, c), "not available"));
  CHECK_EQUAL(r.to_string(), "cpus:1");
}

TEST(only reservations of the offer role can be changed) {
  // eng/prod is offered eng's reservations to use; it may not unreserve them or put or remove volumes there.
  auto offer = res("cpus(eng,dynamic):2;disk(eng,dynamic):10;disk(eng,dynamic)[v:d]:5;disk(eng/prod,dynamic):4");
  resource_conversion c;
  CHECK(mentions(convert(op(operation_type::unreserve, "cpus(eng,dynamic):1"), "eng/prod", offer, c), "another role"));
  CHECK(mentions(convert(op(operation_type::create, "disk(eng,dynamic)[w:x]:1"), "eng/prod", offer, c),
                 "another role"));
  CHECK(mentions(convert(op(operation_type::destroy, "disk(eng,dynamic)[v:d]:5"), "eng/prod", offer, c),
                 "another role"));
  CHECK_EQUAL(convert(op(operation_type::create, "disk(eng/prod,dynamic)[w:x]:4"), "eng/prod", offer, c), "");
  CHECK_EQUAL(convert(op(operation_type::unreserve, "cpus(eng,dynamic):1"), "eng", offer, c), "");
  // The agent's own re-check (no role) accepts what the master let through.
  CHECK_EQUAL(convert(op(operation_type::destroy, "disk(eng,dynamic)[v:d]:5"), "", offer, c), "");
}
