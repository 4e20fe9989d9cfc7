// A callback-style framework (scheduler + scheduler_driver): runs N tasks and exits when all have finished.
//
//   example_scheduler [--master=HOST:PORT] [--tasks=N] [--executor=PATH] [--timeout=SECONDS]
//
// Without --master it starts an in-process cluster (one agent). By default each task runs `echo` through the
// built-in command executor. With --executor=PATH the tasks go to that custom executor instead (e.g. the
// build's apps/examples/example_executor): once a task runs, the scheduler sends it a framework message
// `ping <task id>` and checks that the executor echoes it back.
// Prints `example_scheduler: all N tasks finished` and exits 0 on success; exits 1 otherwise (a task did not
// finish, or not everything was done within --timeout, default 60 s).
#include "example_common.hpp"

#include <atomic>
#include <iostream>
#include <mutex>
#include <set>
#include <thread>

using namespace mesoscaf;

namespace {

const char* usage =
  "usage: example_scheduler [--master=HOST:PORT] [--tasks=N] [--executor=PATH] [--timeout=SECONDS]\n";

class example_scheduler : public scheduler {
public:
  example_scheduler(long tasks, std::string executor_path)
    : total_(tasks), executor_path_(std::move(executor_path)) {
    per_task_ = *resource_set::parse("cpus:0.1;mem:32");
    if (!executor_path_.empty()) {
      executor_.id = executor_id{"example-executor"};
      executor_.name = "example executor";
      executor_.command.shell = false;
      executor_.command.value = executor_path_;
      executor_.command.arguments = {executor_path_};
      executor_.resources = *resource_set::parse("cpus:0.1;mem:32");
    }
  }

  void registered(scheduler_driver*, const framework_id& id) override {
    std::cout << "example_scheduler: registered as " << id << std::endl;
  }

  void resource_offers(scheduler_driver* driver, const std::vector<offer>& offers) override {
    for (auto& o : offers) {
      auto left = o.resources;
      // A custom executor's own resources are taken once per agent, with its first task.
      bool need_executor = !executor_path_.empty() && agents_with_executor_.count(o.agent) == 0;
      std::vector<task_info> tasks;
      while (launched_ < total_) {
        auto need = per_task_;
        if (need_executor)
          need += executor_.resources;
        if (!left.contains(need))
          break;
        left -= need;
        need_executor = false;
        tasks.push_back(make_task(o.agent));
      }
      if (tasks.empty()) {
        driver->decline_offer(o.id, filters{5});
        continue;
      }
      if (!executor_path_.empty())
        agents_with_executor_.insert(o.agent);
      std::cout << "example_scheduler: launching " << tasks.size() << " task(s) on agent " << o.agent << std::endl;
      driver->launch_tasks({o.id}, tasks, filters{1});
    }
    if (launched_ == total_)
      driver->suppress_offers();
  }

  void status_update(scheduler_driver* driver, const task_status& s) override {
    std::cout << "example_scheduler: " << s.task << " " << to_string(s.state);
    if (!s.message.empty())
      std::cout << " (" << s.message << ")";
    std::cout << std::endl;
    if (s.state == task_state::running && !executor_path_.empty() && pinged_.insert(s.task).second)
      driver->send_framework_message(s.agent, executor_.id, "ping " + s.task.value);
    if (!is_terminal(s.state))
      return;
    if (s.state == task_state::finished) {
      ++finished_;
    } else {
      std::cout << "example_scheduler: task " << s.task << " ended " << to_string(s.state) << ": " << s.message
                << std::endl;
      failed_ = true;
      driver->stop();
      return;
    }
    maybe_done(driver);
  }

  void framework_message(scheduler_driver* driver, const agent_id& agent, const executor_id& executor,
                         const std::string& data) override {
    std::cout << "example_scheduler: message from executor " << executor << " on " << agent << ": " << data
              << std::endl;
    // The executor echoes what we sent; accept any reply that carries our ping.
    for (auto& t : pinged_)
      if (data.find("ping " + t.value) != std::string::npos)
        echoed_.insert(t);
    maybe_done(driver);
  }

  void error(scheduler_driver* driver, const std::string& message) override {
    std::cout << "example_scheduler: error: " << message << std::endl;
  }

  bool succeeded() const { return !failed_ && finished_ == total_; }
  long finished() const { return finished_; }

private:
  task_info make_task(const agent_id& agent) {
    task_info t;
    auto n = ++launched_;
    t.name = "example-task-" + std::to_string(n);
    t.id = task_id{"example-" + std::to_string(n) + "-" + new_uuid().substr(0, 8)};
    t.agent = agent;
    t.resources = per_task_;
    if (executor_path_.empty()) {
      command_info c;
      c.value = "echo hello from task " + std::to_string(n);
      t.command = c;
    } else {
      t.executor = executor_;
      t.data = "task " + std::to_string(n);
    }
    return t;
  }

  void maybe_done(scheduler_driver* driver) {
    bool echoes_ok = executor_path_.empty() || echoed_.size() >= static_cast<size_t>(total_);
    if (finished_ == total_ && echoes_ok && !stopping_) {
      stopping_ = true;
      std::cout << "example_scheduler: all " << total_ << " tasks finished";
      if (!executor_path_.empty())
        std::cout << ", " << echoed_.size() << " echoes received";
      std::cout << std::endl;
      driver->stop();
    }
  }

  // Touched by callbacks only (they never run concurrently); read by main after join().
  long total_;
  long launched_ = 0;
  long finished_ = 0;
  bool failed_ = false;
  bool stopping_ = false;
  std::string executor_path_;
  executor_info executor_;
  resource_set per_task_;
  std::set<agent_id> agents_with_executor_;
  std::set<task_id> pinged_;
  std::set<task_id> echoed_;
};

} // namespace

int main(int argc, char** argv) {
  auto flags = examples::parse_flags(argc, argv, {"master", "tasks", "executor", "timeout"}, usage);
  if (!flags)
    return 2;
  auto tasks = examples::parse_count((*flags)["tasks"].empty() ? "5" : (*flags)["tasks"], 1, 100000);
  auto timeout = examples::parse_count((*flags)["timeout"].empty() ? "60" : (*flags)["timeout"], 1, 86400);
  if (!tasks || !timeout) {
    std::cerr << "--tasks must be 1..100000, --timeout 1..86400\n";
    return 2;
  }
  examples::environment env;
  local_cluster_options copts;
  copts.agents = 1;
  copts.allocation_interval = std::chrono::milliseconds(200);
  if (!env.start((*flags)["master"], copts))
    return 1;
  example_scheduler sched{*tasks, (*flags)["executor"]};
  framework_info fw;
  fw.name = "example-scheduler";
  auto driver = env.make_driver(&sched, fw);
  driver->start();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(*timeout);
  while (driver->status() == driver_status::running && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  if (driver->status() == driver_status::running) {
    std::cout << "example_scheduler: timed out after " << *timeout << " s" << std::endl;
    driver->stop();
  }
  auto status = driver->join();
  driver.reset();
  if (status != driver_status::stopped || !sched.succeeded()) {
    std::cout << "example_scheduler: FAILED (" << to_string(status) << ", " << sched.finished() << "/" << *tasks
              << " finished)" << std::endl;
    return 1;
  }
  return 0;
}
