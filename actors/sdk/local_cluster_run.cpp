// local_cluster::run_command: one command task through a small framework of its own, on the public SDK only
// (scheduler + scheduler_driver against the cluster's master), so that it behaves like a user's framework.
#include "actors/sdk/local_cluster.hpp"

#include "actors/sdk/scheduler_driver.hpp"

#include <condition_variable>
#include <mutex>

namespace mesoscaf {

namespace {

/// Launches one task on the first offer that fits and remembers its statuses. Callbacks run on the driver's
/// actor; the test's thread waits on `changed`.
class one_task_scheduler : public scheduler {
public:
  explicit one_task_scheduler(task_info task) : task_(std::move(task)) {}

  void resource_offers(scheduler_driver* d, const std::vector<offer>& offers) override {
    for (auto& o : offers) {
      if (launched_ || !o.resources.contains(task_.resources)) {
        // Not for long: a task that does not fit now may fit once other tasks end.
        d->decline_offer(o.id, filters{launched_ ? 3600.0 : 0.5});
        continue;
      }
      launched_ = true;
      d->launch_tasks({o.id}, {task_});
    }
  }

  void status_update(scheduler_driver*, const task_status& s) override {
    std::lock_guard<std::mutex> guard{mtx_};
    last_ = s;
    done_ = done_ || is_terminal(s.state);
    changed_.notify_all();
  }

  void error(scheduler_driver*, const std::string& message) override {
    std::lock_guard<std::mutex> guard{mtx_};
    error_ = message;
    changed_.notify_all();
  }

  /// Waits until the task is terminal, the driver reported an error, or `timeout`. True if terminal.
  bool wait(std::chrono::milliseconds timeout, task_status& last, std::string& error) {
    std::unique_lock<std::mutex> guard{mtx_};
    changed_.wait_for(guard, timeout, [&] { return done_ || !error_.empty(); });
    if (!last_.task.value.empty())  // else keep the caller's (it names the task)
      last = last_;
    error = error_;
    return done_;
  }

private:
  task_info task_;
  bool launched_ = false;  // callbacks only
  std::mutex mtx_;
  std::condition_variable changed_;
  task_status last_;
  bool done_ = false;
  std::string error_;
};

} // namespace

command_result local_cluster::run_command(const std::string& shell_command, const resource_set& resources,
                                          std::chrono::milliseconds timeout) {
  command_result result;
  if (!master_) {
    result.error = "the cluster is stopped";
    return result;
  }
  auto n = std::to_string(++runs_);
  task_info task;
  task.id = task_id{"run-command-" + n};
  task.name = task.id.value;
  task.resources = resources;
  command_info cmd;
  cmd.value = shell_command;
  task.command = cmd;
  result.status.task = task.id;
  one_task_scheduler sched{task};
  framework_info fw;
  fw.name = "local-cluster-run-command-" + n;
  scheduler_driver driver{sys_, &sched, fw, master_};
  driver.start();
  bool terminal = sched.wait(timeout, result.status, result.error);
  result.timed_out = !terminal && result.error.empty();
  if (result.timed_out)
    result.error = "no terminal status within " + std::to_string(timeout.count()) + " ms (last state "
                   + to_string(result.status.state) + ")";
  result.framework = driver.id();
  // The task is over (or given up): tearing the framework down also kills a task left behind by a timeout.
  driver.stop();
  driver.join();
  if (terminal)
    result.sandbox = sandbox_of(result.framework, result.status);
  return result;
}

} // namespace mesoscaf
