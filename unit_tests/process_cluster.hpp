#pragma once
// What the real-process integration suites (integration_recovery, integration_ha) share: a scheduler that records
// every callback and launches queued tasks on the offers that fit them, frameworks driven by it, tasks that leave
// their pid in a file, and the base of their fixtures (work dir, agents and frameworks, bounded waits for tasks
// and reconciliation answers, cleanup of whatever a test left running). The suites add their daemons.
#include "child_process.hpp"
#include "test_helpers.hpp"

#include "actors/sdk/scheduler_driver.hpp"

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <sys/types.h>

// CAF 0.17's REQUIRE and FAIL abort() the process: no destructor runs and the daemons, executors and tasks of the
// test stay behind. These suites check and return instead, so the fixture always cleans up.
#define ENSURE(...)                                                                                                \
  do {                                                                                                             \
    if (!::caf::test::detail::check(::caf::test::engine::current_test(), __FILE__, __LINE__, #__VA_ARGS__, false,  \
                                    static_cast<bool>(__VA_ARGS__)))                                               \
      return;                                                                                                      \
  } while (false)

namespace mesoscaf::test {

/// How long the suites wait for anything that should happen soon (generous: 2 cores, real processes).
constexpr auto process_wait_limit = std::chrono::milliseconds(30000);

/// Records everything and launches queued tasks on the offers that fit them (first fit; a task with an agent set
/// only goes to that agent). Callbacks run on the driver's actor; the test thread reads under the mutex.
struct recorder : scheduler {
  std::mutex mtx;
  std::condition_variable cv;
  std::vector<framework_id> registrations;
  std::vector<task_status> updates;
  std::vector<std::string> errors;
  std::deque<task_info> pending;
  std::map<std::string, std::string> launched_on;  // task -> agent of the offer it was launched on
  std::map<std::string, std::string> offered_hosts;  // agent -> hostname its latest offer named
  std::set<std::string> ended;                     // tasks with a terminal update
  int disconnects = 0;

  void registered(scheduler_driver*, const framework_id& id) override;
  void resource_offers(scheduler_driver* d, const std::vector<offer>& offers) override;
  void status_update(scheduler_driver*, const task_status& s) override;
  void disconnected(scheduler_driver*) override;
  void error(scheduler_driver*, const std::string& message) override;

  // -- for the test thread --

  void submit(std::vector<task_info> tasks);
  /// Waits (bounded) until `pred` holds; `pred` runs under the mutex.
  bool wait(const std::function<bool()>& pred, std::chrono::milliseconds limit = process_wait_limit);
  size_t update_count();
  std::vector<task_status> updates_of(const std::string& task);
  /// The first update of `task` in `state` at index >= `from` (caller holds the mutex); reconciliation answers
  /// count unless `answers` is false.
  const task_status* find_locked(const std::string& task, task_state state, size_t from = 0, bool answers = true);
  /// Waits for an update of `task` in `state` at index >= `from` (reconciliation answers count unless `answers`
  /// is false).
  std::optional<task_status> wait_state(const std::string& task, task_state state, size_t from = 0,
                                        std::chrono::milliseconds limit = process_wait_limit, bool answers = true);
  /// Waits for the first reconciliation answer about `task` at index >= `from`.
  std::optional<task_status> wait_answer(const std::string& task, size_t from,
                                         std::chrono::milliseconds limit = process_wait_limit);
  /// Every update of `task`, one word each (state, source, reason, uuid prefix).
  std::string history(const std::string& task);
  std::string all_errors();
};

struct fw_options {
  std::string name = "test";
  double failover_timeout = 0;
  bool partition_aware = false;
  bool checkpoint = true;
  framework_id id;  // non-empty: subscribe as this framework (failover)
  bool implicit_acks = true;
};

struct framework {
  std::unique_ptr<recorder> rec = std::make_unique<recorder>();
  std::unique_ptr<scheduler_driver> driver;
  framework_id id;

  ~framework() {
    driver.reset();  // stop() (teardown) unless stopped/aborted, then join; before the recorder goes
  }
};

/// `cmd` with its shell's pid written to `pid_file` first (`exec` keeps that pid for the command).
std::string pid_command(const std::string& pid_file, const std::string& cmd);

task_info make_task(const std::string& id, const std::string& cmd, const std::string& resources = "cpus:0.1;mem:16",
                    const std::string& agent = "");

struct agent_proc {
  std::unique_ptr<child_process> proc;
  std::string work_dir;
  std::string id;
  int runs = 0;
  std::vector<std::string> flags;
  bool stopped = false;  // SIGSTOPped by the test
};

/// The two frameworks of a partition test: one partition-aware, one not, each running a sleeper ("pa-task",
/// "npa-task") on the one agent, and the pids of those tasks.
struct partition_frameworks {
  framework* aware = nullptr;
  framework* other = nullptr;
  pid_t aware_pid = 0;
  pid_t other_pid = 0;
};

/// The part of the suites' fixtures that does not depend on how their masters run.
struct process_fixture_base {
  temp_dir dir;
  std::vector<std::unique_ptr<agent_proc>> agents;
  std::vector<std::unique_ptr<framework>> frameworks;

  explicit process_fixture_base(const std::string& dir_prefix);

  /// Stops the frameworks (teardown kills their tasks) and the agents (SIGTERM: they shut their executors down).
  void stop_frameworks_and_agents();
  /// Kills whatever the test left running in its work dir and, if the test failed, keeps the daemons' logs.
  void kill_leftovers_and_keep_logs();

  /// Agent `i` (made, with its work dir `<dir>/agent<i>`, if new).
  agent_proc& agent_slot(size_t i);
  /// Starts agent `i`'s daemon as `argv` (output to `agent<i>-run<N>.log`) and waits for its registration;
  /// returns the ID it prints ("" on failure, with its output as a message).
  std::string start_agent_process(size_t i, std::vector<std::string> argv);

  /// Subscribes a framework through `master` (host:port or zk://...); nullptr on failure.
  framework* add_framework(caf::actor_system& sys, const std::string& master, const fw_options& o);
  /// Subscribes both partition frameworks through `master` and waits until their tasks run; false (with
  /// messages) if not.
  bool start_partition_frameworks(caf::actor_system& sys, const std::string& master, partition_frameworks& out);
  /// While their agent is cut off: the partition-aware framework hears TASK_UNREACHABLE, the other TASK_LOST.
  bool partitioned(partition_frameworks& p);
  /// After the agent is back: the other framework's task is killed on the agent, and that framework heard of
  /// its end once (TASK_LOST, never TASK_KILLED).
  void check_lost_task_killed(partition_frameworks& p);

  /// Scheduler failover: `f`'s scheduler stops (failover, the framework stays) and a new one subscribes with its
  /// framework ID, recording into the same recorder. Whether it subscribed.
  bool fail_over_scheduler(caf::actor_system& sys, const std::string& master, framework& f, fw_options o);

  /// Submits tasks and makes sure offers come (declined offers are filtered for 0 s: the next allocation).
  void launch(framework& f, std::vector<task_info> tasks);
  std::string pid_file(const std::string& task) const;
  /// A `sleep` task whose pid the test can read.
  task_info sleeper(const std::string& id, const std::string& agent = "", int seconds = 600);
  /// The pid a task wrote (0 if none within 10 s).
  pid_t task_pid(const std::string& task);
  /// Waits until `task` is RUNNING at `f`; prints its history if not.
  bool running(framework& f, const std::string& task);
  /// Reconciles `tasks` explicitly (with their agent) until every answer is `state`; whether it got there within
  /// the limit (answers change while agents re-register).
  bool reconcile_until(framework& f, const std::vector<std::string>& tasks, const std::string& agent,
                       task_state state, std::chrono::milliseconds limit = process_wait_limit);
};

} // namespace mesoscaf::test
