#include "load_harness.hpp"
#include "containerizer/launcher.hpp"

#include "process_scan.hpp"

#include "actors/sdk/scheduler_driver.hpp"
#include "messages/ids.hpp"

#include <caf/actor_system.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

namespace mesoscaf::test {

using namespace std::chrono;

namespace {

/// One framework of the load: one task, launched on the first offer that fits, again (new ID) if it never
/// reached an agent. Callbacks run on the driver's actor; the main thread reads under the mutex.
struct load_framework : scheduler {
  std::mutex mtx;
  steady_clock::time_point started;
  std::optional<double> subscribed_ms;
  std::set<std::string> ids;                  // framework IDs the master gave it
  task_info task;
  int attempt = 1;
  int max_attempts = 3;
  bool launched = false;
  bool reached_agent = false;                 // an agent or executor reported on the current launch
  std::map<task_id, std::vector<task_status>> updates;
  std::vector<task_id> attempts;              // every task ID launched
  bool done = false;
  std::vector<std::string> errors;

  void registered(scheduler_driver*, const framework_id& id) override {
    std::lock_guard<std::mutex> g{mtx};
    ids.insert(id.value);
    if (!subscribed_ms)
      subscribed_ms = duration<double, std::milli>(steady_clock::now() - started).count();
  }

  void resource_offers(scheduler_driver* d, const std::vector<offer>& offers) override {
    for (const auto& o : offers) {
      bool launch = false;
      task_info t;
      {
        std::lock_guard<std::mutex> g{mtx};
        if (!launched && !done && o.resources.contains(task.resources)) {
          launched = true;
          launch = true;
          task.agent = o.agent;
          t = task;
        }
      }
      if (launch) {
        d->launch_tasks({o.id}, {t}, filters{5});
        d->suppress_offers();
      } else {
        d->decline_offer(o.id, filters{60});
      }
    }
  }

  void status_update(scheduler_driver* d, const task_status& s) override {
    std::lock_guard<std::mutex> g{mtx};
    updates[s.task].push_back(s);
    if (s.task != task.id || done)
      return;
    if (s.source != status_source::master)
      reached_agent = true;
    if (!is_terminal(s.state))
      return;
    if (!reached_agent && is_never_launched(s) && attempt < max_attempts) {
      ++attempt;
      task.id = task_id{task.name + "-" + std::to_string(attempt)};
      task.agent = agent_id{};
      attempts.push_back(task.id);
      launched = false;
      d->revive_offers();
      return;
    }
    done = true;
  }

  void error(scheduler_driver*, const std::string& message) override {
    std::lock_guard<std::mutex> g{mtx};
    errors.push_back(message);
  }

  /// "" if its task ran once and finished, with one framework ID; else what went wrong.
  std::string verdict() {
    std::lock_guard<std::mutex> g{mtx};
    if (ids.empty())
      return "never subscribed" + (errors.empty() ? std::string{} : ": " + errors.front());
    if (ids.size() > 1)
      return "subscribed as " + std::to_string(ids.size()) + " frameworks";
    if (!done) {
      std::string seen;
      for (const auto& s : updates[task.id])
        seen += std::string{" "} + to_string(s.state);
      return "task " + task.id.value + (launched ? " (launched)" : " (never launched)") + " did not end; updates:"
             + (seen.empty() ? std::string{" none"} : seen)
             + (errors.empty() ? std::string{} : "; error: " + errors.front());
    }
    int finished = 0;
    for (const auto& id : attempts) {
      auto& h = updates[id];
      if (auto p = terminal_problem(h); !p.empty())
        return "task " + id.value + ": " + p;
      for (const auto& s : h)
        if (s.state == task_state::finished) {
          ++finished;
          break;
        }
    }
    auto& last = updates[task.id];
    auto end = std::find_if(last.begin(), last.end(), [](const task_status& s) { return is_terminal(s.state); });
    if (end == last.end() || end->state != task_state::finished)
      return "task " + task.id.value + " ended "
             + (end == last.end() ? std::string{"nowhere"} : std::string{to_string(end->state)} + " (" + end->message + ")");
    if (finished != 1)
      return "the command ran " + std::to_string(finished) + " times";
    return {};
  }
};

} // namespace

double percentile(std::vector<double> xs, double p) {
  if (xs.empty())
    return 0;
  std::sort(xs.begin(), xs.end());
  auto rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(xs.size())));
  return xs[std::min(xs.size() - 1, rank == 0 ? 0 : rank - 1)];
}

load_result run_load(caf::actor_system& sys, const load_options& o) {
  load_result result;
  result.frameworks = o.frameworks;
  std::vector<std::unique_ptr<load_framework>> fws;
  std::vector<std::unique_ptr<scheduler_driver>> drivers;
  std::vector<bool> stopped(static_cast<size_t>(o.frameworks), false);
  auto t0 = steady_clock::now();
  for (int i = 0; i < o.frameworks; ++i) {
    auto f = std::make_unique<load_framework>();
    f->max_attempts = o.max_attempts;
    f->task.name = "load-" + std::to_string(i);
    f->task.id = task_id{f->task.name + "-1"};
    f->attempts.push_back(f->task.id);
    f->task.resources = *resource_set::parse(o.resources);
    command_info c;
    c.shell = true;
    c.value = o.command;
    f->task.command = c;
    framework_info fi;
    fi.name = "load-" + std::to_string(i);
    fi.user = current_user_name();  // agents run tasks as their framework's user
    f->started = steady_clock::now();
    auto d = std::make_unique<scheduler_driver>(sys, f.get(), fi, o.master);
    d->start();
    fws.push_back(std::move(f));
    drivers.push_back(std::move(d));
  }
  // A framework whose task ended is stopped (teardown: the agent shuts its executor down), as `execute` exits.
  auto deadline = t0 + o.limit;
  size_t open = fws.size();
  while (open > 0 && steady_clock::now() < deadline) {
    for (size_t i = 0; i < fws.size(); ++i) {
      if (stopped[i])
        continue;
      bool done;
      {
        std::lock_guard<std::mutex> g{fws[i]->mtx};
        done = fws[i]->done;
      }
      if (done || drivers[i]->status() != driver_status::running) {
        if (o.stop_when_done)
          drivers[i]->stop();
        stopped[i] = true;
        --open;
      }
    }
    if (open > 0)
      std::this_thread::sleep_for(milliseconds(20));
  }
  result.seconds = duration<double>(steady_clock::now() - t0).count();
  for (auto& d : drivers)
    d->stop();
  for (auto& d : drivers)
    d->join();
  for (auto& f : fws) {
    auto v = f->verdict();
    std::lock_guard<std::mutex> g{f->mtx};
    if (f->subscribed_ms)
      result.subscribe_ms.push_back(*f->subscribed_ms);
    if (f->ids.size() > 1)
      ++result.subscribed_twice;
    result.relaunched += f->attempt - 1;
    if (v.empty())
      ++result.finished;
    else
      result.problems.push_back(f->task.name + ": " + v);
  }
  return result;
}

} // namespace mesoscaf::test
