// A custom executor written with the callback API (actors/sdk/executor_driver.hpp).
//
// The agent starts it (with the MESOSCAF_* environment) for tasks whose task_info names an executor_info with
// this program as its command. Each task's `data` says what to do:
//   "sleep:<milliseconds>"   sleep that long (default when data is empty: 100 ms)
//   "primes:<n>"             count the primes below n and report the count in the FINISHED update's data
//   "fail"                   end with TASK_FAILED
// Every task runs on a thread of its own (callbacks must not block), sends TASK_RUNNING, then TASK_FINISHED.
// kill_task cancels the work (TASK_KILLED). Framework messages are echoed back to the scheduler.
#include "actors/sdk/executor_driver.hpp"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

using namespace mesoscaf;

namespace {

class example_executor : public executor {
public:
  ~example_executor() override {
    cancel_all();
  }

  void registered(executor_driver& driver, const executor_registration& info) override {
    std::cerr << "example_executor: registered on agent " << info.agent << " for framework " << info.framework
              << " (" << info.framework_name << ")\n";
  }

  void launch_task(executor_driver& driver, const task_info& task) override {
    auto cancelled = std::make_shared<std::atomic<bool>>(false);
    std::lock_guard<std::mutex> guard{mtx_};
    reap_finished_locked();
    if (workers_.count(task.id) > 0) {
      send(driver, task.id, task_state::failed, "a task with this ID is already running");
      return;
    }
    send(driver, task.id, task_state::running, {});
    auto& w = workers_[task.id];
    w.cancelled = cancelled;
    w.done = std::make_shared<std::atomic<bool>>(false);
    w.thread = std::thread([&driver, id = task.id, data = task.data, cancelled, done = w.done] {
      run_task(driver, id, data, *cancelled);
      *done = true;
    });
  }

  void kill_task(executor_driver& driver, const task_id& id) override {
    std::lock_guard<std::mutex> guard{mtx_};
    auto i = workers_.find(id);
    if (i != workers_.end())
      *i->second.cancelled = true;  // the worker reports TASK_KILLED
  }

  void framework_message(executor_driver& driver, const std::string& data) override {
    driver.send_framework_message("echo: " + data);
  }

  void shutdown(executor_driver& driver) override {
    cancel_all();     // workers send TASK_KILLED before they end
    driver.stop();    // returns at once; the driver ends once those updates are acknowledged
  }

  void error(executor_driver& driver, const std::string& message) override {
    std::cerr << "example_executor: " << message << "\n";
  }

  // Cancels and joins every worker. Call before the driver goes away: workers use it.
  void cancel_all() {
    std::map<task_id, worker> all;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      for (auto& [id, w] : workers_)
        *w.cancelled = true;
      all.swap(workers_);
    }
    for (auto& [id, w] : all)
      if (w.thread.joinable())
        w.thread.join();
  }

private:
  struct worker {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> cancelled;
    std::shared_ptr<std::atomic<bool>> done;
  };

  static void send(executor_driver& driver, const task_id& id, task_state state, std::string message,
                   std::string data = {}) {
    task_status s;
    s.task = id;
    s.state = state;
    s.message = std::move(message);
    s.data = std::move(data);
    driver.send_status_update(std::move(s));
  }

  static void run_task(executor_driver& driver, const task_id& id, const std::string& data,
                       std::atomic<bool>& cancelled) {
    auto killed = [&] {
      send(driver, id, task_state::killed, "killed by the executor");
    };
    if (data == "fail") {
      send(driver, id, task_state::failed, "asked to fail");
      return;
    }
    if (data.rfind("primes:", 0) == 0) {
      long n = std::atol(data.c_str() + 7);
      long count = 0;
      for (long k = 2; k < n; ++k) {
        if ((k & 1023) == 0 && cancelled)
          return killed();
        bool prime = true;
        for (long d = 2; d * d <= k; ++d)
          if (k % d == 0) {
            prime = false;
            break;
          }
        count += prime ? 1 : 0;
      }
      send(driver, id, task_state::finished, "counted primes", std::to_string(count));
      return;
    }
    long ms = 100;
    if (data.rfind("sleep:", 0) == 0)
      ms = std::atol(data.c_str() + 6);
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (std::chrono::steady_clock::now() < until) {
      if (cancelled)
        return killed();
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    send(driver, id, task_state::finished, "slept " + std::to_string(ms) + " ms");
  }

  // Joins the threads of finished tasks so they do not pile up.
  void reap_finished_locked() {
    for (auto i = workers_.begin(); i != workers_.end();) {
      if (*i->second.done) {
        i->second.thread.join();
        i = workers_.erase(i);
      } else {
        ++i;
      }
    }
  }

  std::mutex mtx_;
  std::map<task_id, worker> workers_;
};

} // namespace

int main() {
  example_executor exec;
  executor_driver driver{exec};
  auto status = driver.run();
  exec.cancel_all();  // before the driver is destroyed
  if (status != driver_status::stopped)
    std::cerr << "example_executor: " << to_string(status) << ": " << driver.abort_reason() << "\n";
  return status == driver_status::stopped ? 0 : 1;
}
