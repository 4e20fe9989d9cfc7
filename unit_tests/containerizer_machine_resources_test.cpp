#define CAF_SUITE containerizer_machine_resources
#include "test.hpp"

#include "containerizer/machine_resources.hpp"

#include <cmath>

#include <sys/statvfs.h>
#include <unistd.h>

using namespace mesoscaf;

TEST(detected values are positive and sane) {
  auto r = detect_machine_resources("/tmp");
  MESSAGE("detected: " << r.to_string());
  CHECK_EQUAL(r.validate(), "");
  // cpus: a whole number between 1 and the number of online CPUs.
  auto cpus = r.scalar_milli("cpus");
  CHECK_GREATER_OR_EQUAL(cpus, 1000);
  CHECK_EQUAL(cpus % 1000, 0);
  auto online = sysconf(_SC_NPROCESSORS_ONLN);
  if (online > 0)
    CHECK_LESS_OR_EQUAL(cpus, online * 1000);
  // mem: positive, below the physical memory.
  auto mem = r.scalar_value("mem");
  CHECK_GREATER(mem, 0.0);
  double phys_mb = static_cast<double>(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGESIZE) / (1024.0 * 1024.0);
  CHECK_LESS(mem, phys_mb);
  // disk: positive and not more than the free space of /tmp (slack: others write to /tmp meanwhile).
  struct statvfs fs {};
  REQUIRE(statvfs("/tmp", &fs) == 0);
  double avail_mb = static_cast<double>(fs.f_bavail) * fs.f_frsize / (1024.0 * 1024.0);
  if (avail_mb > 2) {
    CHECK_GREATER(r.scalar_value("disk"), 0.0);
    CHECK_LESS_OR_EQUAL(r.scalar_value("disk"), avail_mb * 1.05 + 64);
  }
  // ports: the default range.
  auto ports = r.find("ports");
  REQUIRE(ports != nullptr);
  CHECK(ports->type == value_type::ranges);
  REQUIRE_EQUAL(ports->ranges.size(), 1u);
  CHECK_EQUAL(ports->ranges[0].begin, 31000u);
  CHECK_EQUAL(ports->ranges[0].end, 32000u);
  // Everything is unreserved.
  CHECK_EQUAL(r.unreserved(), r);
}

TEST(missing work dir is measured at its nearest existing ancestor) {
  auto r = detect_machine_resources("/tmp/mesoscaf-no-such-dir/a/b/c");
  CHECK_EQUAL(r.validate(), "");
  CHECK_GREATER(r.scalar_milli("cpus"), 0);
  // Same file system as /tmp; free space may move a little between the two calls.
  auto disk = r.scalar_value("disk");
  auto tmp_disk = detect_machine_resources("/tmp").scalar_value("disk");
  CHECK_GREATER(disk, 0.0);
  CHECK_LESS(std::abs(disk - tmp_disk), tmp_disk * 0.05 + 64);
}
