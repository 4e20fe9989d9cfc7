// `mesoscaf execute`: a one-task framework (like mesos-execute). Subscribes, waits for an offer that fits,
// launches one task, declines every other offer, prints each status update on one line and exits
// 0 iff the task ended TASK_FINISHED, 1 otherwise, 2 for bad arguments.
// --master is HOST:PORT or zk://HOST:PORT[,HOST:PORT...]/PATH (then it follows the elected master).
// It follows its task across agent restarts, master reconnects and failovers (checkpointing is on by default, the
// driver re-subscribes with the framework ID): TASK_UNREACHABLE (--partition-aware) is not an end; while the task is
// unreachable it is reconciled every 2 s and the answers are printed like any update. A launch that never reached
// an agent (TASK_DROPPED, or the master not knowing the task before any agent reported on it) is reported as such
// and launched again on the next offer under a new task ID, at most three times in all: the command runs once.
// When the task has ended it prints the sandbox path and the last 20 lines of the task's stdout and stderr, read
// from the agent's HTTP API (the offer names it); --quiet leaves them out.
// --group=FILE.json runs a task group instead (config/task_group_file.hpp): one LAUNCH_GROUP on the default
// executor, an update line per task update, exit 0 iff every task ended TASK_FINISHED.
#include "apps/mesoscaf/subcommands.hpp"

#include "apps/mesoscaf/http_client.hpp"
#include "apps/mesoscaf/sandbox_files.hpp"

#include "actors/sdk/scheduler_driver.hpp"
#include "config/daemon_config.hpp"
#include "containerizer/launcher.hpp"
#include "messages/attributes.hpp"

#include <caf/actor_system.hpp>

#include <condition_variable>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include <pwd.h>
#include <unistd.h>

namespace mesoscaf {

namespace {


using clock_type = std::chrono::steady_clock;

// What both of execute's schedulers print and keep: one line per update, the driver's errors.
class printing_scheduler : public scheduler {
public:
  void disconnected(scheduler_driver*) override {
    std::cout << "disconnected from the master" << std::endl;
  }

  void error(scheduler_driver*, const std::string& message) override {
    std::cout << "error: " << message << std::endl;
    std::lock_guard<std::mutex> guard{mtx_};
    error_ = message;
  }

  static void print(const task_status& s) {
    std::cout << to_string(s.state) << " task=" << s.task << " agent=" << s.agent << " message=" << s.message;
    if (s.reason != task_reason::none)
      std::cout << " reason=" << to_string(s.reason);
    if (s.healthy)
      std::cout << " healthy=" << (*s.healthy ? "true" : "false");
    std::cout << std::endl;
    if (s.usage && is_terminal(s.state))
      std::cout << "usage task=" << s.task << " " << to_string(*s.usage) << std::endl;
  }

  std::mutex mtx_;
  std::condition_variable cv_;
  bool done_ = false;
  std::string error_;
  framework_id framework_;
  http_address agent_http_;   // of the agent the task was launched on (from its offer): for the output tail

  /// Once every task ended: the tail of each one's output. While the framework still exists: its sandbox is the
  /// agent's to show until then (and long after).
  void write_tails() {
    std::unique_lock<std::mutex> guard{mtx_};
    if (!done_)
      return;
    auto agent = agent_http_;
    auto framework = framework_.str();
    auto tasks = ended_tasks();
    guard.unlock();
    http_limits limits;
    limits.timeout = std::chrono::seconds(5);
    for (const auto& task : tasks)
      write_output_tail(std::cout, agent, framework, task.str(), 20, limits);
  }

protected:
  /// The tasks whose output write_tails shows (called under mtx_).
  virtual std::vector<task_id> ended_tasks() const = 0;
};

class execute_scheduler : public printing_scheduler {
public:
  execute_scheduler(task_info task, std::vector<std::pair<std::string, std::string>> constraints)
    : task_(std::move(task)), constraints_(std::move(constraints)) {}

  void registered(scheduler_driver* driver, const framework_id& id) override {
    std::cout << "subscribed framework_id=" << id << std::endl;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      framework_ = id;
    }
    // Subscribed again (master reconnect): updates may have been missed meanwhile, ask for the task's state.
    if (launched_)
      driver->reconcile_tasks({reconcile_status()});
  }

  /// What an explicit reconciliation of the task names: its ID and agent.
  task_status reconcile_status() {
    task_status s;
    s.task = task_.id;
    std::lock_guard<std::mutex> guard{mtx_};
    s.agent = last_.agent.empty() ? task_.agent : last_.agent;
    return s;
  }

  void resource_offers(scheduler_driver* driver, const std::vector<offer>& offers) override {
    for (auto& o : offers) {
      if (!launched_ && o.resources.contains(task_.resources) && satisfies_constraints(o)) {
        launched_ = true;
        {
          std::lock_guard<std::mutex> guard{mtx_};
          task_.agent = o.agent;
          agent_http_ = http_address{o.agent_address, o.agent_http_port};
        }
        std::cout << "launching task=" << task_.id << " agent=" << o.agent << " resources=" << task_.resources
                  << std::endl;
        driver->launch_tasks({o.id}, {task_}, filters{60});
        driver->suppress_offers();
      } else {
        // Not needed (any more): keep it away for a while so others get it.
        driver->decline_offer(o.id, filters{launched_ ? 600.0 : 1.0});
      }
    }
  }

  // Every --constraint=ATTR:VALUE holds for the offer's agent (messages/attributes.hpp).
  bool satisfies_constraints(const offer& o) const {
    for (auto& [name, value] : constraints_)
      if (!attribute_matches(o.attributes, name, value))
        return false;
    return true;
  }

  void status_update(scheduler_driver* driver, const task_status& s) override {
    print(s);
    if (s.task != task_.id)
      return;
    if (s.source != status_source::master)
      reached_agent_ = true;
    if (!reached_agent_ && is_never_launched(s) && attempt_ < max_attempts) {
      // Nothing ran: launch it again on the next offer, under a new ID (the old one may still be in flight).
      ++attempt_;
      auto next = task_id{task_.name + "-" + new_uuid()};
      std::cout << "task " << task_.id << " never launched (" << to_string(s.state) << "): launching it again as "
                << next << " (attempt " << attempt_ << " of " << max_attempts << ")" << std::endl;
      {
        std::lock_guard<std::mutex> guard{mtx_};
        task_.id = next;
        task_.agent = agent_id{};
        last_ = task_status{};
      }
      launched_ = false;
      driver->revive_offers();
      return;
    }
    std::lock_guard<std::mutex> guard{mtx_};
    last_ = s;
    if (last_.agent.empty())
      last_.agent = task_.agent;
    unreachable_ = s.state == task_state::unreachable;
    if (s.state == task_state::running && !running_at_)
      running_at_ = clock_type::now();
    if (is_terminal(s.state)) {
      done_ = true;
      cv_.notify_all();
    }
  }

  // -- for main ---------------------------------------------------------------------------------------------

  task_status last_;
  std::optional<clock_type::time_point> running_at_;
  bool unreachable_ = false;  // the task's latest state is TASK_UNREACHABLE: reconcile it periodically

  task_id current_task() {
    std::lock_guard<std::mutex> guard{mtx_};
    return task_.id;
  }

protected:
  std::vector<task_id> ended_tasks() const override {
    return {last_.task};
  }

private:
  static constexpr int max_attempts = 3;
  task_info task_;
  std::vector<std::pair<std::string, std::string>> constraints_;
  bool launched_ = false;      // touched by callbacks only (they run one at a time)
  bool reached_agent_ = false; // an agent or executor reported on the current launch
  int attempt_ = 1;
};

// --group=FILE.json: one LAUNCH_GROUP on the first offer that holds the whole group (plus its executor), every
// update printed; done when every task has ended. No relaunch: a group that never reached an agent ends the run.
class execute_group_scheduler : public printing_scheduler {
public:
  execute_group_scheduler(task_group_info group, std::vector<std::pair<std::string, std::string>> constraints)
    : group_(std::move(group)), constraints_(std::move(constraints)) {
    executor_.type = executor_type::default_executor;
    executor_.id = executor_id{"default-executor-" + new_uuid()};
    executor_.name = "mesoscaf execute --group";
    executor_.resources = *resource_set::parse(executor_resources);
    for (const auto& t : group_.tasks)
      needed_ += t.resources;
    needed_ += executor_.resources;
  }

  /// What the default executor itself gets (as mesos-execute gives it).
  static constexpr const char* executor_resources = "cpus:0.1;mem:32";

  void registered(scheduler_driver* driver, const framework_id& id) override {
    std::cout << "subscribed framework_id=" << id << std::endl;
    std::lock_guard<std::mutex> guard{mtx_};
    framework_ = id;
    if (launched_) {
      std::vector<task_status> ask;
      for (const auto& t : group_.tasks) {
        task_status s;
        s.task = t.id;
        s.agent = t.agent;
        ask.push_back(s);
      }
      driver->reconcile_tasks(ask);
    }
  }

  void resource_offers(scheduler_driver* driver, const std::vector<offer>& offers) override {
    for (auto& o : offers) {
      bool fits = true;
      for (auto& [name, value] : constraints_)
        fits = fits && attribute_matches(o.attributes, name, value);
      if (launched_ || !fits || !o.resources.contains(needed_)) {
        driver->decline_offer(o.id, filters{launched_ ? 600.0 : 1.0});
        continue;
      }
      launched_ = true;
      offer_operation op;
      op.type = operation_type::launch_group;
      op.executor = executor_;
      op.on_failure = group_.on_failure;
      std::string ids;
      {
        std::lock_guard<std::mutex> guard{mtx_};
        for (auto& t : group_.tasks) {
          t.agent = o.agent;
          ids += (ids.empty() ? "" : ",") + t.id.value;
        }
        op.tasks = group_.tasks;
        agent_http_ = http_address{o.agent_address, o.agent_http_port};
      }
      std::cout << "launching group tasks=" << ids << " agent=" << o.agent << " executor=" << executor_.id
                << " resources=" << needed_ << std::endl;
      driver->accept_offers({o.id}, {op}, filters{60});
      driver->suppress_offers();
    }
  }

  void status_update(scheduler_driver*, const task_status& s) override {
    print(s);
    std::lock_guard<std::mutex> guard{mtx_};
    bool ours = false;
    for (const auto& t : group_.tasks)
      ours = ours || t.id == s.task;
    if (!ours || !is_terminal(s.state))
      return;
    last_[s.task] = s;
    if (last_.size() == group_.tasks.size()) {
      done_ = true;
      cv_.notify_all();
    }
  }

  // -- for main ---------------------------------------------------------------------------------------------

  std::map<task_id, task_status> last_;  // each task's terminal update
  task_group_info group_;

protected:
  std::vector<task_id> ended_tasks() const override {
    std::vector<task_id> ids;
    for (const auto& t : group_.tasks)
      ids.push_back(t.id);
    return ids;
  }


private:
  std::vector<std::pair<std::string, std::string>> constraints_;
  executor_info executor_;
  resource_set needed_;
  bool launched_ = false;
};

framework_info execute_framework(const execute_config& cfg) {
  framework_info fw;
  fw.name = "mesoscaf-execute";
  fw.user = !cfg.user.empty() ? cfg.user : current_user_name();
  fw.failover_timeout = std::chrono::duration<double>(cfg.failover_timeout).count();
  fw.checkpoint = cfg.checkpoint;
  if (cfg.partition_aware)
    fw.capabilities.push_back("PARTITION_AWARE");
  fw.capabilities.push_back("TASK_KILLING_STATE");
  return fw;
}

// `mesoscaf execute --group=FILE.json`: exit 0 iff every task of the group ended TASK_FINISHED.
int execute_group(execute_config& cfg) {
  caf::actor_system sys{cfg};
  execute_group_scheduler sched{*cfg.parsed_group, cfg.parsed_constraints};
  driver_options dopts;
  dopts.zk_session_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(cfg.zk_session_timeout);
  scheduler_driver driver{sys, &sched, execute_framework(cfg), cfg.master, dopts};
  if (driver.start() != driver_status::running) {
    std::cout << "error: " << driver.abort_reason() << std::endl;
    return 1;
  }
  auto started = clock_type::now();
  bool timed_out = false;
  {
    std::unique_lock<std::mutex> guard{sched.mtx_};
    while (!sched.done_) {
      sched.cv_.wait_for(guard, std::chrono::milliseconds(50));
      if (sched.error_.rfind("Framework has been removed", 0) == 0 || driver.status() != driver_status::running)
        break;
      if (cfg.timeout.count() > 0 && clock_type::now() - started >= cfg.timeout) {
        timed_out = true;
        break;
      }
    }
  }
  if (!cfg.quiet)
    sched.write_tails();
  driver.stop();
  auto st = driver.join();
  std::lock_guard<std::mutex> guard{sched.mtx_};
  bool all_finished = sched.done_;
  for (const auto& [id, s] : sched.last_) {
    all_finished = all_finished && s.state == task_state::finished;
    std::cout << "task " << id << " ended " << to_string(s.state) << " reason=" << to_string(s.reason)
              << " message=" << s.message << std::endl;
  }
  if (all_finished)
    return 0;
  if (timed_out)
    std::cout << "timed out after " << std::chrono::duration_cast<std::chrono::milliseconds>(cfg.timeout).count()
              << " ms" << std::endl;
  else if (!sched.done_)
    std::cout << "driver " << to_string(st) << ": " << driver.abort_reason() << std::endl;
  return 1;
}

} // namespace

int execute_main(int argc, char** argv) {
  execute_config cfg;
  auto args = cfg.take_repeated_flags(argc, argv);
  if (auto rc = cfg.parse_and_validate(static_cast<int>(args.size()), args.data()))
    return *rc;
  // The agent's HTTP (the task's output) is HTTPS on a TLS cluster.
  if (cfg.tls_on())
    use_http_client_tls(cfg.tls_cert, cfg.tls_key, cfg.tls_ca);
  if (cfg.parsed_group)
    return execute_group(cfg);
  task_info task;
  task.name = cfg.name;
  task.id = task_id{cfg.name + "-" + new_uuid()};
  task.resources = *resource_set::parse(cfg.resources); // validated
  command_info cmd;
  cmd.shell = true;
  cmd.value = cfg.command;
  cmd.uris = cfg.parsed_uris;
  task.command = cmd;
  if (cfg.kill_grace_period.count() >= 0)
    task.kill_policy = kill_policy{std::chrono::duration<double>(cfg.kill_grace_period).count()};
  if (cfg.parsed_health_check)
    task.health_check = *cfg.parsed_health_check;
  task.labels = cfg.parsed_labels;

  caf::actor_system sys{cfg};
  execute_scheduler sched{task, cfg.parsed_constraints};
  auto fw = execute_framework(cfg);
  driver_options dopts;
  dopts.zk_session_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(cfg.zk_session_timeout);
  scheduler_driver driver{sys, &sched, fw, cfg.master, dopts};
  if (driver.start() != driver_status::running) {
    std::cout << "error: " << driver.abort_reason() << std::endl;
    return 1;
  }
  auto started = clock_type::now();
  bool kill_sent = false;
  bool timed_out = false;
  std::optional<clock_type::time_point> last_reconcile;
  {
    std::unique_lock<std::mutex> guard{sched.mtx_};
    for (;;) {
      sched.cv_.wait_for(guard, std::chrono::milliseconds(50));
      if (sched.done_)
        break;
      // Torn down by an operator: the master has forgotten the framework; no update will come.
      if (sched.error_.rfind("Framework has been removed", 0) == 0)
        break;
      if (driver.status() != driver_status::running)
        break;
      auto now = clock_type::now();
      if (!sched.unreachable_) {
        last_reconcile.reset();
      } else if (!last_reconcile || now - *last_reconcile >= std::chrono::seconds(2)) {
        // The first round waits 2 s too: the agent is partitioned, an immediate answer would say the same.
        if (last_reconcile) {
          guard.unlock();
          driver.reconcile_tasks({sched.reconcile_status()});
          guard.lock();
        }
        last_reconcile = now;
      }
      if (!kill_sent && cfg.kill_after.count() > 0 && sched.running_at_
          && now - *sched.running_at_ >= cfg.kill_after) {
        kill_sent = true;
        guard.unlock();   // the callbacks take this lock
        auto current = sched.current_task();
        std::cout << "killing task=" << current << std::endl;
        driver.kill_task(current);
        guard.lock();
      }
      if (cfg.timeout.count() > 0 && now - started >= cfg.timeout) {
        timed_out = true;
        break;
      }
    }
  }
  if (!cfg.quiet)
    sched.write_tails();
  // A one-task program: whether or not a failover timeout was given, its end (task over, timeout, kill) ends the
  // framework at the master, which also kills a task still running.
  driver.stop();
  auto st = driver.join();
  std::lock_guard<std::mutex> guard{sched.mtx_};
  if (sched.done_ && sched.last_.state == task_state::finished)
    return 0;
  if (timed_out)
    std::cout << "timed out after " << std::chrono::duration_cast<std::chrono::milliseconds>(cfg.timeout).count()
              << " ms" << std::endl;
  else if (!sched.done_)
    std::cout << "driver " << to_string(st) << ": " << driver.abort_reason() << std::endl;
  if (sched.done_)
    std::cout << "task " << sched.last_.task << " ended " << to_string(sched.last_.state)
              << " reason=" << to_string(sched.last_.reason) << " message=" << sched.last_.message << std::endl;
  return 1;
}

} // namespace mesoscaf
