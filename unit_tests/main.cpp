// The test runner's main: CAF's unit test framework, one binary for all suites.
#define CAF_TEST_NO_MAIN
#include <caf/test/unit_test_impl.hpp>

#include <cstdlib>

int main(int argc, char** argv) {
  // Agents in this process (local clusters, agent tests) start the command executor of the build's binary; the
  // test binary does not sit next to it. A value set by the caller wins.
  ::setenv("MESOSCAF_EXECUTOR_BINARY", MESOSCAF_BINARY, 0);
  // Daemons the tests start pick free HTTP ports (the defaults 5040/5041 would collide between the masters and
  // agents of suites running side by side). Tests of HTTP read the printed port.
  ::setenv("MESOSCAF_HTTP_PORT", "0", 0);
  return caf::test::main(argc, argv);
}
