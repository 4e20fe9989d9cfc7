#define CAF_SUITE actors_agent_resources
#include "config/support/files.hpp"
#include "test.hpp"

#include "child_process.hpp"
#include "test_helpers.hpp"

#include "actors/agent/agent_resources.hpp"
#include "containerizer/volumes.hpp"

using namespace mesoscaf;
using mesoscaf::test::read_file;
using mesoscaf::test::temp_dir;

namespace {

resource_set rs(const std::string& text) {
  std::string err;
  auto r = resource_set::parse(text, &err);
  if (!r)
    FAIL("bad test resources '" << text << "': " << err);
  return *r;
}

offer_operation op(operation_type t, const std::string& text) {
  offer_operation o;
  o.type = t;
  o.resources = rs(text);
  return o;
}

// Applies and returns the error; `total` becomes the new total on success.
std::string apply(resource_set& total, const offer_operation& o) {
  resource_conversion c;
  resource_set next;
  auto err = apply_agent_operation(total, o, c, next);
  if (err.empty())
    total = next;
  return err;
}

} // namespace

TEST(reserve create destroy unreserve change the shape of the total but never its quantities) {
  auto total = rs("cpus:4;mem:1024;disk:1000");
  auto quantities = total.with_role("*");
  CHECK_EQUAL(apply(total, op(operation_type::reserve, "cpus(eng,dynamic):1;disk(eng,dynamic):100")), "");
  CHECK_EQUAL(total, rs("cpus:3;cpus(eng,dynamic):1;mem:1024;disk:900;disk(eng,dynamic):100"));
  CHECK_EQUAL(apply(total, op(operation_type::create, "disk(eng,dynamic)[vol1:data]:64")), "");
  CHECK(total.has_volume("vol1"));
  CHECK_EQUAL(total, rs("cpus:3;cpus(eng,dynamic):1;mem:1024;disk:900;disk(eng,dynamic):36;"
                        "disk(eng,dynamic)[vol1:data]:64"));
  CHECK_EQUAL(total.with_role("*"), quantities);
  CHECK_EQUAL(apply(total, op(operation_type::destroy, "disk(eng,dynamic)[vol1:data]:64")), "");
  CHECK(!total.has_volume("vol1"));
  CHECK_EQUAL(apply(total, op(operation_type::unreserve, "cpus(eng,dynamic):1;disk(eng,dynamic):100")), "");
  CHECK_EQUAL(total, rs("cpus:4;mem:1024;disk:1000"));
}

TEST(operations the agent cannot carry out are refused and change nothing) {
  auto total = rs("cpus:4;disk:1000;disk(eng,dynamic):100;disk(eng,dynamic)[vol1:data]:10");
  auto before = total;
  // More than there is.
  CHECK_NOT_EQUAL(apply(total, op(operation_type::reserve, "cpus(eng,dynamic):5")), "");
  // A second volume with an existing ID.
  CHECK_NOT_EQUAL(apply(total, op(operation_type::create, "disk(eng,dynamic)[vol1:other]:10")), "");
  // A volume on disk that is not reserved to that role.
  CHECK_NOT_EQUAL(apply(total, op(operation_type::create, "disk(ops,dynamic)[vol2:data]:10")), "");
  // Destroying a volume that is not there; unreserving what a volume holds.
  CHECK_NOT_EQUAL(apply(total, op(operation_type::destroy, "disk(eng,dynamic)[nope:data]:10")), "");
  CHECK_NOT_EQUAL(apply(total, op(operation_type::unreserve, "disk(eng,dynamic):110")), "");
  // LAUNCH is not something the agent applies.
  offer_operation launch;
  launch.type = operation_type::launch;
  CHECK_NOT_EQUAL(apply(total, launch), "");
  CHECK_EQUAL(total, before);
}

TEST(a checkpoint is compatible only with the same quantities and static reservations) {
  auto configured = rs("cpus:4;cpus(ops):1;mem:1024;disk:1000");
  auto evolved = rs("cpus:3;cpus(eng,dynamic):1;cpus(ops):1;mem:1024;disk:900;disk(eng,dynamic)[v:d]:100");
  CHECK_EQUAL(check_checkpoint_compatible(evolved, configured), "");
  CHECK_EQUAL(check_checkpoint_compatible(configured, configured), "");
  auto bigger = rs("cpus:8;cpus(ops):1;mem:1024;disk:1000");
  auto err = check_checkpoint_compatible(evolved, bigger);
  CHECK_NOT_EQUAL(err, "");
  // The message names both sides.
  CHECK(err.find(evolved.to_string()) != std::string::npos);
  CHECK(err.find(bigger.to_string()) != std::string::npos);
  // Same quantities, different static reservations.
  auto moved = rs("cpus:4;cpus(dev):1;mem:1024;disk:1000");
  CHECK_NOT_EQUAL(check_checkpoint_compatible(evolved, moved), "");
  CHECK_EQUAL(static_form(evolved), configured);
}

TEST(recovery uses a compatible checkpoint and refuses an incompatible or corrupt one) {
  temp_dir d{"mesoscaf-agent-res"};
  auto work = d.path();
  auto configured = rs("cpus:4;mem:1024;disk:1000");
  resource_set total;
  bool from_checkpoint = true;
  CHECK_EQUAL(recover_agent_resources(work, configured, total, &from_checkpoint), "");
  CHECK(!from_checkpoint);
  CHECK_EQUAL(total, configured);
  auto evolved = rs("cpus:4;mem:1024;disk:900;disk(eng,dynamic)[vol1:data]:100");
  REQUIRE_EQUAL(save_resources_checkpoint(work, evolved), "");
  CHECK_EQUAL(resources_checkpoint_path(work), work + "/meta/resources");
  CHECK_EQUAL(read_file(work + "/meta/resources"), evolved.to_string() + "\n");
  CHECK_EQUAL(recover_agent_resources(work, configured, total, &from_checkpoint), "");
  CHECK(from_checkpoint);
  CHECK_EQUAL(total, evolved);
  resource_set untouched = rs("cpus:1");
  auto err = recover_agent_resources(work, rs("cpus:2;mem:1024;disk:1000"), untouched);
  CHECK(err.find("differ") != std::string::npos);
  CHECK_EQUAL(untouched, rs("cpus:1"));
  REQUIRE_EQUAL(write_file_atomically(work + "/meta/resources", "cpus:-3;;"), "");
  CHECK_NOT_EQUAL(recover_agent_resources(work, configured, untouched), "");
  CHECK_EQUAL(untouched, rs("cpus:1"));
}

TEST(tasks may only use volumes the agent has and at distinct paths) {
  auto total = rs("cpus:4;disk(eng,dynamic)[v1:data]:10;disk(eng,dynamic)[v2:data/sub]:10;"
                  "disk(eng,dynamic)[v3:other]:10");
  CHECK_EQUAL(check_volumes_known(total, rs("cpus:1;disk(eng,dynamic)[v1:data]:10")), "");
  CHECK_EQUAL(check_volumes_known(total, rs("cpus:1")), "");
  CHECK_EQUAL(check_volumes_known(total, rs("disk(eng,dynamic)[v1:data]:10;disk(eng,dynamic)[v3:other]:10")), "");
  CHECK_NOT_EQUAL(check_volumes_known(total, rs("disk(eng,dynamic)[v9:data]:10")), "");
  // Same ID, other path or role: not that volume.
  CHECK_NOT_EQUAL(check_volumes_known(total, rs("disk(eng,dynamic)[v1:elsewhere]:10")), "");
  CHECK_NOT_EQUAL(check_volumes_known(total, rs("disk(ops,dynamic)[v1:data]:10")), "");
  // Nested paths would go through another volume's link.
  CHECK_NOT_EQUAL(check_volumes_known(total, rs("disk(eng,dynamic)[v1:data]:10;disk(eng,dynamic)[v2:data/sub]:10")),
                  "");
}
