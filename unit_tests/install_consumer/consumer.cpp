// A user's scheduler linked against the installed SDK: runs one command task on an in-process local cluster and
// exits 0 if it finished. Prints the final state.
#include "actors/sdk/framework_config.hpp"
#include "actors/sdk/local_cluster.hpp"
#include "actors/sdk/scheduler_driver.hpp"

#include <caf/actor_system.hpp>

#include <chrono>
#include <iostream>
#include <thread>

using namespace mesoscaf;

struct one_task : scheduler {
  bool launched = false;
  task_state final_state = task_state::staging;

  void resource_offers(scheduler_driver* d, const std::vector<offer>& offers) override {
    for (auto& o : offers) {
      if (launched) {
        d->decline_offer(o.id);
        continue;
      }
      task_info t;
      t.id = task_id{"consumer-task"};
      t.name = "consumer-task";
      t.resources = *resource_set::parse("cpus:0.1;mem:16");
      command_info c;
      c.value = "echo hello from an installed mesoscaf";
      t.command = c;
      d->launch_tasks({o.id}, {t});
      launched = true;
    }
  }

  void status_update(scheduler_driver* d, const task_status& s) override {
    std::cout << "status " << to_string(s.state) << std::endl;
    if (is_terminal(s.state)) {
      final_state = s.state;
      d->stop();
    }
  }
};

int main() {
  framework_config cfg;
  caf::actor_system sys{cfg};
  local_cluster cluster{sys};
  one_task sched;
  framework_info fw;
  fw.name = "consumer";
  scheduler_driver driver{sys, &sched, fw, cluster.master()};
  driver.start();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (driver.status() == driver_status::running && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  driver.stop();
  driver.join();
  std::cout << "final " << to_string(sched.final_state) << std::endl;
  return sched.final_state == task_state::finished ? 0 : 1;
}
