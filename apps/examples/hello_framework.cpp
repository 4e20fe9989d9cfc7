// The smallest complete framework: one command task on an in-process cluster; exits 0 on TASK_FINISHED.
#include "actors/sdk/framework_config.hpp"
#include "actors/sdk/local_cluster.hpp"
#include "actors/sdk/scheduler_driver.hpp"
#include <caf/actor_system.hpp>
#include <cstdlib>
#include <iostream>

using namespace mesoscaf;
struct hello_scheduler : scheduler {
  bool launched = false;  // callbacks run one at a time: no lock needed
  task_state final_state = task_state::staging;
  void resource_offers(scheduler_driver* d, const std::vector<offer>& offers) override {
    if (launched)
      return scheduler::resource_offers(d, offers);  // the default declines them
    task_info t;  // one agent, one offer: it fits on the first
    t.id = task_id{"hello"};
    t.resources = *resource_set::parse("cpus:0.1;mem:32");
    t.command = command_info{true, "echo hello from mesoscaf", {}, {}, {}};
    launched = d->launch_tasks({offers.front().id}, {t}) == driver_status::running;
  }
  void status_update(scheduler_driver* d, const task_status& s) override {
    if (is_terminal(final_state = s.state))
      d->stop();
  }
};
int main() {
  ::setenv("MESOSCAF_EXECUTOR_BINARY", MESOSCAF_BINARY, 0);  // run from the build tree, not beside `mesoscaf`
  framework_config cfg;
  caf::actor_system sys{cfg};
  local_cluster cluster{sys};  // a master and one agent; its work dir is removed when it stops
  hello_scheduler sched;
  framework_info fw;
  fw.name = "hello";
  scheduler_driver driver{sys, &sched, fw, cluster.master()};
  driver.run();  // returns once the scheduler called stop()
  std::cout << "hello_framework: final state " << to_string(sched.final_state) << std::endl;
  return sched.final_state == task_state::finished ? 0 : 1;
}
