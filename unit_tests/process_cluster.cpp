#include "process_cluster.hpp"
#include "containerizer/launcher.hpp"

#include "process_scan.hpp"
#include "test.hpp"

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <thread>

namespace mesoscaf::test {

using namespace std::chrono;

// -- recorder -------------------------------------------------------------------------------------------------

void recorder::registered(scheduler_driver*, const framework_id& id) {
  std::lock_guard<std::mutex> g{mtx};
  registrations.push_back(id);
  cv.notify_all();
}

void recorder::resource_offers(scheduler_driver* d, const std::vector<offer>& offers) {
  for (auto& o : offers) {
    std::vector<task_info> batch;
    {
      std::lock_guard<std::mutex> g{mtx};
      offered_hosts[o.agent.value] = o.hostname;
      auto left = o.resources;
      for (auto i = pending.begin(); i != pending.end();) {
        if ((i->agent.empty() || i->agent == o.agent) && left.contains(i->resources)) {
          left -= i->resources;
          batch.push_back(std::move(*i));
          batch.back().agent = o.agent;
          launched_on[batch.back().id.value] = o.agent.value;
          i = pending.erase(i);
        } else {
          ++i;
        }
      }
    }
    if (batch.empty())
      d->decline_offer(o.id, filters{0});
    else
      d->launch_tasks({o.id}, batch, filters{0});
  }
}

void recorder::status_update(scheduler_driver*, const task_status& s) {
  std::lock_guard<std::mutex> g{mtx};
  updates.push_back(s);
  if (is_terminal(s.state))
    ended.insert(s.task.value);
  cv.notify_all();
}

void recorder::disconnected(scheduler_driver*) {
  std::lock_guard<std::mutex> g{mtx};
  ++disconnects;
}

void recorder::error(scheduler_driver*, const std::string& message) {
  std::lock_guard<std::mutex> g{mtx};
  errors.push_back(message);
  cv.notify_all();
}

void recorder::submit(std::vector<task_info> tasks) {
  std::lock_guard<std::mutex> g{mtx};
  for (auto& t : tasks)
    pending.push_back(std::move(t));
}

bool recorder::wait(const std::function<bool()>& pred, milliseconds limit) {
  std::unique_lock<std::mutex> g{mtx};
  return cv.wait_for(g, limit, pred);
}

size_t recorder::update_count() {
  std::lock_guard<std::mutex> g{mtx};
  return updates.size();
}

std::vector<task_status> recorder::updates_of(const std::string& task) {
  std::lock_guard<std::mutex> g{mtx};
  std::vector<task_status> result;
  for (auto& s : updates)
    if (s.task.value == task)
      result.push_back(s);
  return result;
}

const task_status* recorder::find_locked(const std::string& task, task_state state, size_t from, bool answers) {
  for (size_t i = from; i < updates.size(); ++i) {
    auto& s = updates[i];
    if (s.task.value == task && s.state == state && (answers || s.reason != task_reason::reconciliation))
      return &s;
  }
  return nullptr;
}

std::optional<task_status> recorder::wait_state(const std::string& task, task_state state, size_t from,
                                                milliseconds limit, bool answers) {
  std::optional<task_status> result;
  wait(
    [&] {
      if (auto s = find_locked(task, state, from, answers)) {
        result = *s;
        return true;
      }
      return false;
    },
    limit);
  return result;
}

std::optional<task_status> recorder::wait_answer(const std::string& task, size_t from, milliseconds limit) {
  std::optional<task_status> result;
  wait(
    [&] {
      for (size_t i = from; i < updates.size(); ++i)
        if (updates[i].task.value == task && updates[i].reason == task_reason::reconciliation) {
          result = updates[i];
          return true;
        }
      return false;
    },
    limit);
  return result;
}

std::string recorder::history(const std::string& task) {
  std::string result;
  for (auto& s : updates_of(task))
    result += std::string{to_string(s.state)} + "(" + to_string(s.source) + "," + to_string(s.reason) + ","
              + (s.uuid.empty() ? "-" : s.uuid.substr(0, 8)) + ") ";
  return result;
}

std::string recorder::all_errors() {
  std::lock_guard<std::mutex> g{mtx};
  std::string result;
  for (auto& e : errors)
    result += e + "; ";
  return result;
}

// -- tasks ----------------------------------------------------------------------------------------------------

std::string pid_command(const std::string& pid_file, const std::string& cmd) {
  return "echo $$ > " + pid_file + "; exec " + cmd;
}

task_info make_task(const std::string& id, const std::string& cmd, const std::string& resources,
                    const std::string& agent) {
  auto t = shell_task(id, cmd);
  t.resources = *resource_set::parse(resources);
  t.agent = agent_id{agent};
  return t;
}

// -- process_fixture_base -------------------------------------------------------------------------------------

process_fixture_base::process_fixture_base(const std::string& dir_prefix) : dir(dir_prefix) {
  std::filesystem::create_directories(dir / "pids");
}

void process_fixture_base::stop_frameworks_and_agents() {
  frameworks.clear();
  for (auto& a : agents)
    if (a->proc && a->proc->running()) {
      if (a->stopped)
        a->proc->signal(SIGCONT);
      a->proc->signal(SIGTERM);
    }
  for (auto& a : agents)
    if (a->proc)
      a->proc->wait_exit(seconds(20));
}

void process_fixture_base::kill_leftovers_and_keep_logs() {
  auto left = processes_mentioning(dir.path());
  if (!left.empty()) {
    MESSAGE("killing leftover processes: " << describe(left));
    for (auto pid : left)
      ::kill(pid, SIGKILL);
  }
  // A failed test keeps the daemons' logs (the work dir itself goes).
  if (auto t = caf::test::engine::current_test(); t && t->bad() > 0) {
    std::error_code ec;
    auto keep = dir.path() + "-logs";
    std::filesystem::create_directories(keep, ec);
    for (auto& e : std::filesystem::recursive_directory_iterator(dir.path(), ec))
      if (e.path().extension() == ".log")
        std::filesystem::copy_file(e.path(), keep + "/" + e.path().filename().string(),
                                   std::filesystem::copy_options::overwrite_existing, ec);
    MESSAGE("logs kept in " << keep);
  }
}

agent_proc& process_fixture_base::agent_slot(size_t i) {
  while (agents.size() <= i)
    agents.push_back(std::make_unique<agent_proc>());
  auto& a = *agents[i];
  if (a.work_dir.empty())
    a.work_dir = dir / ("agent" + std::to_string(i));
  return a;
}

std::string process_fixture_base::start_agent_process(size_t i, std::vector<std::string> argv) {
  auto& a = agent_slot(i);
  a.proc = std::make_unique<child_process>(
    std::move(argv), dir / ("agent" + std::to_string(i) + "-run" + std::to_string(a.runs++) + ".log"));
  a.stopped = false;
  auto r = a.proc->wait_for_line("agent registered with id ([-0-9a-zA-Z._]+)", seconds(60));
  if (!r) {
    MESSAGE("agent " << i << " output:\n" << a.proc->output());
    return "";
  }
  a.id = (*r)[1];
  return a.id;
}

namespace {

std::unique_ptr<scheduler_driver> make_driver(caf::actor_system& sys, recorder* rec, const std::string& master,
                                              const fw_options& o) {
  framework_info fi;
  fi.name = o.name;
  fi.user = current_user_name();  // agents run tasks as their framework's user
  fi.failover_timeout = o.failover_timeout;
  fi.checkpoint = o.checkpoint;
  fi.id = o.id;
  if (o.partition_aware)
    fi.capabilities.push_back("PARTITION_AWARE");
  driver_options opts;
  opts.implicit_acknowledgements = o.implicit_acks;
  return std::make_unique<scheduler_driver>(sys, rec, fi, master, opts);
}

} // namespace

bool process_fixture_base::fail_over_scheduler(caf::actor_system& sys, const std::string& master, framework& f,
                                               fw_options o) {
  f.driver->stop(true);   // failover: the master keeps the framework for its failover timeout
  f.driver->join();
  size_t before = 0;
  {
    std::lock_guard<std::mutex> g{f.rec->mtx};
    before = f.rec->registrations.size();
  }
  o.id = f.id;
  f.driver = make_driver(sys, f.rec.get(), master, o);
  if (f.driver->start() != driver_status::running) {
    MESSAGE("the new scheduler of " << o.name << " did not start: " << f.driver->abort_reason());
    return false;
  }
  if (!f.rec->wait([&] { return f.rec->registrations.size() > before; })) {
    MESSAGE("the new scheduler of " << o.name << " did not subscribe: " << f.rec->all_errors());
    return false;
  }
  return true;
}

framework* process_fixture_base::add_framework(caf::actor_system& sys, const std::string& master,
                                               const fw_options& o) {
  auto f = std::make_unique<framework>();
  f->driver = make_driver(sys, f->rec.get(), master, o);
  if (f->driver->start() != driver_status::running) {
    MESSAGE("framework " << o.name << " did not start: " << f->driver->abort_reason());
    return nullptr;
  }
  auto& rec = *f->rec;
  rec.wait([&] { return !rec.registrations.empty() || !rec.errors.empty(); });
  {
    std::lock_guard<std::mutex> g{rec.mtx};
    if (rec.registrations.empty()) {
      MESSAGE("framework " << o.name << " did not subscribe: " << (rec.errors.empty() ? "timeout" : rec.errors[0])
                           << " " << f->driver->abort_reason());
      return nullptr;
    }
    f->id = rec.registrations[0];
  }
  frameworks.push_back(std::move(f));
  return frameworks.back().get();
}

bool process_fixture_base::start_partition_frameworks(caf::actor_system& sys, const std::string& master,
                                                      partition_frameworks& out) {
  fw_options pa;
  pa.name = "partition-aware";
  pa.partition_aware = true;
  fw_options npa;
  npa.name = "not-partition-aware";
  out.aware = add_framework(sys, master, pa);
  out.other = add_framework(sys, master, npa);
  if (!out.aware || !out.other)
    return false;
  launch(*out.aware, {sleeper("pa-task")});
  launch(*out.other, {sleeper("npa-task")});
  if (!running(*out.aware, "pa-task") || !running(*out.other, "npa-task"))
    return false;
  out.aware_pid = task_pid("pa-task");
  out.other_pid = task_pid("npa-task");
  return out.aware_pid > 0 && out.other_pid > 0;
}

bool process_fixture_base::partitioned(partition_frameworks& p) {
  auto start = steady_clock::now();
  if (!p.aware->rec->wait_state("pa-task", task_state::unreachable)) {
    MESSAGE("pa-task: " << p.aware->rec->history("pa-task"));
    return false;
  }
  MESSAGE("TASK_UNREACHABLE " << duration_cast<milliseconds>(steady_clock::now() - start).count()
                              << " ms after the partition began");
  if (!p.other->rec->wait_state("npa-task", task_state::lost)) {
    MESSAGE("npa-task: " << p.other->rec->history("npa-task"));
    return false;
  }
  return true;
}

void process_fixture_base::check_lost_task_killed(partition_frameworks& p) {
  CHECK(eventually([&] { return !alive(p.other_pid); }, process_wait_limit));
  std::this_thread::sleep_for(milliseconds(1000));  // a second terminal update would arrive by now
  auto h = p.other->rec->updates_of("npa-task");
  CHECK_EQUAL(terminal_problem(h), "");
  CHECK(std::none_of(h.begin(), h.end(), [](const task_status& s) { return s.state == task_state::killed; }));
}

void process_fixture_base::launch(framework& f, std::vector<task_info> tasks) {
  f.rec->submit(std::move(tasks));
  f.driver->revive_offers();
}

std::string process_fixture_base::pid_file(const std::string& task) const {
  return dir / ("pids/" + task);
}

task_info process_fixture_base::sleeper(const std::string& id, const std::string& agent, int seconds) {
  return make_task(id, pid_command(pid_file(id), "sleep " + std::to_string(seconds)), "cpus:0.1;mem:16", agent);
}

pid_t process_fixture_base::task_pid(const std::string& task) {
  pid_t pid = 0;
  eventually(
    [&] {
      pid = std::atoi(read_file(pid_file(task)).c_str());
      return pid > 0;
    },
    std::chrono::seconds(10));
  return pid;
}

bool process_fixture_base::running(framework& f, const std::string& task) {
  if (f.rec->wait_state(task, task_state::running))
    return true;
  MESSAGE("task " << task << " did not reach TASK_RUNNING: " << f.rec->history(task)
                  << " errors: " << f.rec->all_errors());
  return false;
}

bool process_fixture_base::reconcile_until(framework& f, const std::vector<std::string>& tasks,
                                           const std::string& agent, task_state state, milliseconds limit) {
  auto deadline = steady_clock::now() + limit;
  std::string last;
  while (steady_clock::now() < deadline) {
    auto mark = f.rec->update_count();
    std::vector<task_status> query;
    for (auto& t : tasks) {
      task_status s;
      s.task = task_id{t};
      s.agent = agent_id{agent};
      query.push_back(s);
    }
    f.driver->reconcile_tasks(query);
    bool all = true;
    last.clear();
    for (auto& t : tasks) {
      auto a = f.rec->wait_answer(t, mark, milliseconds(2000));
      last += t + "=" + (a ? to_string(a->state) : "no answer") + " ";
      if (!a || a->state != state)
        all = false;
    }
    if (all)
      return true;
    std::this_thread::sleep_for(milliseconds(500));
  }
  MESSAGE("last reconciliation answers: " << last);
  return false;
}

} // namespace mesoscaf::test
