#pragma once
// Many frameworks at once against one master (issue 22): each is a scheduler_driver in this process that
// subscribes, launches one task on the first offer that fits, relaunches it under a new ID if the launch never
// reached an agent (as `mesoscaf execute` does), and stops once its task ended. Shared by the load test
// (unit_tests/integration_load_test.cpp) and `scripts/bench load` (bench/load.cpp).
#include <caf/fwd.hpp>

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace mesoscaf::test {

struct load_options {
  int frameworks = 100;
  std::string master;                           // host:port
  std::string command = "sleep 0.2";
  std::string resources = "cpus:0.1;mem:8";
  std::chrono::seconds limit{300};              // give up (counted as failures) after this long
  int max_attempts = 3;                         // launches per framework (the first and relaunches)
  /// Stop each framework as soon as its task ended (as `mesoscaf execute` exits), so executors of finished
  /// frameworks disconnect while new ones connect; false: all stop at the end.
  bool stop_when_done = true;
};

struct load_result {
  int frameworks = 0;
  int finished = 0;             // frameworks whose task ended TASK_FINISHED exactly once, and nothing else ended
  int subscribed_twice = 0;     // frameworks the master gave more than one ID
  int relaunched = 0;           // launches that never reached an agent and were made again
  std::vector<std::string> problems;   // every framework that did not finish cleanly, with why
  std::vector<double> subscribe_ms;    // start() to the registered callback, per subscribed framework
  double seconds = 0;                  // all started until the last task ended
  /// Failures: frameworks that did not finish cleanly.
  int failures() const { return frameworks - finished; }
};

/// Starts `o.frameworks` drivers at once on `sys` (which has our types and the middleman) against `o.master` and
/// waits (bounded by `o.limit`) until every one has finished or failed.
load_result run_load(caf::actor_system& sys, const load_options& o);

/// The p-th percentile (0..100) of `xs` (0 if empty).
double percentile(std::vector<double> xs, double p);

} // namespace mesoscaf::test
