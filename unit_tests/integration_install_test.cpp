// Integration: the SDK as a user gets it. `cmake --install` of this build into a fresh prefix; nothing installed
// names the build tree; a separate project (unit_tests/install_consumer) finds it with
// find_package(mesoscaf CONFIG REQUIRED), builds, and runs one task on an in-process local cluster whose agent
// starts the installed `mesoscaf` as its command executor (found in PATH, no hint from the build); pkg-config
// reports the installed flags.
#define CAF_SUITE integration_install
#include "test.hpp"

#include "child_process.hpp"

#include <string>

using namespace mesoscaf::test;

namespace {

const std::string build_dir = MESOSCAF_BUILD_DIR;
const std::string source_dir = MESOSCAF_SOURCE_DIR;

// Runs `cmd`, showing its output when it fails.
bool run(const std::string& cmd, std::string& out) {
  int rc = run_shell(cmd, out);
  if (rc != 0)
    MESSAGE("`" << cmd << "` exited " << rc << ":\n" << out);
  return rc == 0;
}

} // namespace

TEST(an installed mesoscaf builds and runs a user project found with find_package) {
  temp_dir dir{"mesoscaf-install"};
  auto prefix = dir / "prefix";
  std::string out;
  REQUIRE(run("cmake --install " + shell_quote(build_dir) + " --prefix " + shell_quote(prefix), out));
  // The layout a user expects.
  for (auto path : {"/bin/mesoscaf", "/lib/libmesoscaf_sdk.a", "/lib/cmake/mesoscaf/mesoscafConfig.cmake",
                    "/lib/cmake/mesoscaf/mesoscafConfigVersion.cmake", "/lib/pkgconfig/mesoscaf.pc",
                    "/include/mesoscaf/actors/interfaces.hpp", "/include/mesoscaf/actors/sdk/scheduler_driver.hpp"})
    CHECK(run("test -e " + shell_quote(prefix + path), out));
  // No build path compiled into the libraries or the binary.
  CHECK_NOT_EQUAL(run_shell("grep -l -F " + shell_quote(build_dir) + " " + shell_quote(prefix) + "/lib/*.a " +
                              shell_quote(prefix) + "/bin/mesoscaf",
                            out),
                  0);
  // pkg-config names the installed headers and libraries.
  REQUIRE(run("PKG_CONFIG_PATH=" + shell_quote(prefix + "/lib/pkgconfig") + " pkg-config --cflags --libs mesoscaf",
              out));
  CHECK(out.find("-lmesoscaf_sdk") != std::string::npos);
  auto flag = out.find("-I");
  REQUIRE(flag != std::string::npos);
  auto include_dir = out.substr(flag + 2, out.find_first_of(" \n", flag) - flag - 2);
  CHECK(run("test -e " + shell_quote(include_dir + "/actors/sdk/scheduler_driver.hpp"), out));
  CHECK(run("test " + shell_quote(include_dir) + " -ef " + shell_quote(prefix + "/include/mesoscaf"), out));
  // A user's project, configured and built against the prefix alone.
  auto consumer = dir / "consumer-build";
  REQUIRE(run("cmake -S " + shell_quote(source_dir + "/unit_tests/install_consumer") + " -B " + shell_quote(consumer) +
                " -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH=" + shell_quote(prefix),
              out));
  REQUIRE(run("cmake --build " + shell_quote(consumer) + " -j2", out));
  // Its in-process agent must find the installed binary by itself: no executor hint, the prefix first in PATH.
  CHECK(run("cd " + shell_quote(dir.path()) + " && env -u MESOSCAF_EXECUTOR_BINARY PATH=" +
              shell_quote(prefix + "/bin") + ":\"$PATH\" timeout 120 " + shell_quote(consumer + "/consumer"),
            out));
  MESSAGE(out);
  CHECK(out.find("final TASK_FINISHED") != std::string::npos);
}
