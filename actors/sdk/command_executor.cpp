#include "actors/sdk/command_executor.hpp"

#include "config/support/logging.hpp"
#include "containerizer/launcher.hpp"
#include "containerizer/reaper.hpp"

#include <caf/all.hpp>

#include <atomic>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <iostream>
#include <mutex>
#include <thread>
#include <unordered_map>

#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

namespace mesoscaf {

namespace {

const char* const component = "command-executor";

// The executor's own work, off the driver's actor: the reaper's reports and the kill timers need a mailbox that
// outlives the driver when it gives up (the tasks must still be killed then).
using task_actor = caf::typed_actor<
  // From the driver's callbacks.
  caf::reacts_to<atom::launch, task_info>, caf::reacts_to<atom::kill_task, task_id>, caf::reacts_to<atom::shutdown>,
  // The driver gave up (no agent, refused, recovery timeout): kill the tasks and end.
  caf::reacts_to<atom::error, std::string>,
  // The reaper saw a task's process exit with this wait status.
  caf::reacts_to<atom::exited, task_id, int32_t>,
  // The grace period of a task kill expired: SIGKILL.
  caf::reacts_to<atom::tick, task_id>,
  // Timer: the shutdown deadline expired: end whatever is still pending.
  caf::reacts_to<atom::retry>>;

struct running_task {
  pid_t pid = -1;
  bool kill_requested = false;
  std::chrono::steady_clock::time_point kill_deadline;
};

struct runner_state {
  static inline const char* name = "command_executor";

  executor_driver* driver = nullptr;  // outlives this actor (command_executor's contract)
  executor_environment env;
  command_executor_options opts;
  std::unordered_map<task_id, running_task> tasks;
  std::unique_ptr<process_reaper> reaper;
  bool shutting_down = false;

  ~runner_state() {
    if (!reaper)
      return;
    // Tasks must not outlive their executor (the shutdown path has normally ended them already).
    for (auto& [id, t] : tasks)
      reaper->signal_group(t.pid, SIGKILL);
    reaper->stop();
  }
};

using self_pointer = task_actor::stateful_pointer<runner_state>;

void send_update(self_pointer self, const task_id& id, task_state state, task_reason reason = task_reason::none,
                 std::string message = {}) {
  task_status s;
  s.task = id;
  s.state = state;
  s.reason = reason;
  s.message = std::move(message);
  LOG_DEBUG(component, "task " << id << ": " << to_string(state));
  self->state.driver->send_status_update(std::move(s));
}

// Every task is gone: the driver drains the acknowledgements (or has ended already), and we are done.
void finish(self_pointer self) {
  self->state.driver->stop();
  self->quit();
}

void kill_task(self_pointer self, const task_id& id) {
  auto& st = self->state;
  auto i = st.tasks.find(id);
  if (i == st.tasks.end() || i->second.kill_requested)
    return;
  i->second.kill_requested = true;
  auto grace = st.opts.kill_grace_period;
  if (grace.count() <= 0) {
    st.reaper->signal_group(i->second.pid, SIGKILL);
    return;
  }
  i->second.kill_deadline = std::chrono::steady_clock::now() + grace;
  st.reaper->signal_group(i->second.pid, SIGTERM);
  self->delayed_send(self, grace, atom::tick_v, id);
}

void begin_shutdown(self_pointer self) {
  auto& st = self->state;
  if (st.shutting_down)
    return;
  st.shutting_down = true;
  LOG_INFO(component, "shutting down, killing " << st.tasks.size() << " task(s)");
  std::vector<task_id> ids;
  for (auto& [id, t] : st.tasks)
    ids.push_back(id);
  for (auto& id : ids)
    kill_task(self, id);
  // Whatever happens, end after the kills; the driver's drain is bounded by its own timeout. The agent SIGKILLs
  // us after container_kill_grace otherwise.
  self->delayed_send(self, st.opts.kill_grace_period + std::chrono::milliseconds(500), atom::retry_v);
  if (st.tasks.empty())
    finish(self);
}

void launch_task(self_pointer self, const task_info& task) {
  auto& st = self->state;
  if (st.shutting_down) {
    send_update(self, task.id, task_state::dropped, task_reason::executor_terminated,
                "the executor is shutting down");
    return;
  }
  if (!is_safe_path_component(task.id.value)) {
    send_update(self, task.id, task_state::error, task_reason::task_invalid,
                "task ID '" + task.id.value
                  + "' cannot name a sandbox directory (use 1-200 characters of [A-Za-z0-9._-], not . or ..)");
    return;
  }
  if (!task.command || task.command->value.empty()) {
    send_update(self, task.id, task_state::error, task_reason::task_invalid,
                "the command executor needs a task with a command");
    return;
  }
  if (st.tasks.count(task.id) > 0) {
    // The master rejects duplicate IDs; an update here would clobber the running task's state.
    LOG_WARN(component, "task " << task.id << " is already running; launch ignored");
    return;
  }
  std::string base = st.env.sandbox;
  if (base.empty()) {
    char cwd[4096];
    base = ::getcwd(cwd, sizeof(cwd)) != nullptr ? cwd : ".";
  }
  launch_spec spec;
  spec.id = container_id{task.id.value};
  spec.command = *task.command;
  spec.sandbox = sandbox_path(base, {"tasks", task.id.value});
  spec.environment = {
    {env_task_id, task.id.value},
    {env_sandbox, spec.sandbox},
    {env_framework_id, st.env.framework.value},
    {env_agent_id, st.env.agent.value},
    {env_executor_id, st.env.executor.value},
  };
  auto res = spawn_process(spec);
  if (!res) {
    send_update(self, task.id, task_state::failed, task_reason::container_launch_failed, res.error);
    return;
  }
  // Weak: the reaper belongs to our state and must not keep us alive.
  auto weak = caf::actor_cast<caf::weak_actor_ptr>(self);
  auto id = task.id;
  bool watched = st.reaper->watch(res.pid, [weak, id](int status) {
    if (auto strong = weak.lock())
      caf::anon_send(caf::actor_cast<task_actor>(strong), atom::exited_v, id,
                     static_cast<int32_t>(status));
  });
  if (!watched) {
    kill_process_group(res.pid, SIGKILL);
    ::waitpid(res.pid, nullptr, 0);  // just SIGKILLed: returns at once
    send_update(self, task.id, task_state::failed, task_reason::container_launch_failed,
                "cannot watch the task's process");
    return;
  }
  // If this executor dies, the agent kills the task through this record (it runs in a session of its own).
  if (auto err = record_task_process(spec.sandbox, res.pid); !err.empty())
    LOG_WARN(component, "task " << task.id << ": " << err);
  auto& entry = st.tasks[task.id];
  entry.pid = res.pid;
  send_update(self, task.id, task_state::running);
}

void task_exited(self_pointer self, const task_id& id, int32_t status) {
  auto& st = self->state;
  auto i = st.tasks.find(id);
  if (i == st.tasks.end())
    return;
  bool killed = i->second.kill_requested;
  st.tasks.erase(i);
  if (killed) {
    send_update(self, id, task_state::killed, task_reason::none,
                WIFSIGNALED(status) ? "Command terminated by signal " + std::to_string(WTERMSIG(status))
                                    : "Command exited with status " + std::to_string(WEXITSTATUS(status)));
  } else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    send_update(self, id, task_state::finished, task_reason::none, "Command exited with status 0");
  } else if (WIFEXITED(status)) {
    send_update(self, id, task_state::failed, task_reason::command_executor_failed,
                "Command exited with status " + std::to_string(WEXITSTATUS(status)));
  } else if (WIFSIGNALED(status)) {
    send_update(self, id, task_state::failed, task_reason::command_executor_failed,
                "Command terminated by signal " + std::to_string(WTERMSIG(status)));
  } else {
    send_update(self, id, task_state::failed, task_reason::command_executor_failed,
                "Command " + describe_wait_status(status));
  }
  if (st.shutting_down && st.tasks.empty())
    finish(self);
}

task_actor::behavior_type task_runner(self_pointer self, executor_driver* driver, command_executor_options opts) {
  auto& st = self->state;
  st.driver = driver;
  st.env = driver->environment();
  st.opts = std::move(opts);
  st.reaper = std::make_unique<process_reaper>();
  // SIGTERM/SIGINT arrive as an exit message from main: shut down in order instead of dying at once.
  self->set_exit_handler([self](const caf::exit_msg& msg) {
    LOG_INFO(component, "exit requested (" << self->system().render(msg.reason) << ")");
    begin_shutdown(self);
  });
  return {
    [self](atom::launch, const task_info& task) { launch_task(self, task); },
    [self](atom::kill_task, const task_id& id) { kill_task(self, id); },
    [self](atom::shutdown) { begin_shutdown(self); },
    [self](atom::error, const std::string& why) {
      auto n = self->state.tasks.size();
      if (n == 0) {
        LOG_ERROR(component, why);
        finish(self);
        return;
      }
      LOG_ERROR(component, why << ": killing " << n << " task(s) and exiting");
      begin_shutdown(self);
    },
    [self](atom::exited, const task_id& id, int32_t status) { task_exited(self, id, status); },
    [self](atom::tick, const task_id& id) {
      auto& st = self->state;
      auto i = st.tasks.find(id);
      if (i == st.tasks.end() || !i->second.kill_requested)
        return;
      if (std::chrono::steady_clock::now() + std::chrono::milliseconds(50) < i->second.kill_deadline)
        return;
      LOG_INFO(component, "task " << id << " outlived its grace period: SIGKILL");
      st.reaper->signal_group(i->second.pid, SIGKILL);
    },
    [self](atom::retry) {
      if (!self->state.tasks.empty())
        LOG_WARN(component, "shutdown deadline: " << self->state.tasks.size() << " task(s) still running");
      finish(self);  // the state's destructor SIGKILLs what is left
    },
  };
}

} // namespace

// -- command_executor -----------------------------------------------------------------------------------------

struct command_executor::impl {
  command_executor_options opts;
  std::mutex mtx;
  std::condition_variable cv;
  task_actor runner;  // released once it ended: a handle must not outlive the actor system (join before the driver)
  bool spawned = false;
  bool ended = false;

  task_actor handle() {
    std::lock_guard<std::mutex> guard{mtx};
    return runner;
  }
};

command_executor::command_executor(command_executor_options opts) : impl_(std::make_unique<impl>()) {
  impl_->opts = std::move(opts);
}

command_executor::~command_executor() {
  caf::anon_send_exit(impl_->handle(), caf::exit_reason::kill);
  join();
}

executor_driver_options command_executor::driver_options() const {
  executor_driver_options d;
  d.resend_interval = impl_->opts.resend_interval;
  d.registration_timeout = impl_->opts.registration_timeout;
  d.drain_timeout = impl_->opts.drain_timeout;
  d.reconnect = impl_->opts.reconnect;
  // Our own shutdown deadline comes first (begin_shutdown); the driver's is the backstop.
  d.shutdown_grace = impl_->opts.kill_grace_period + std::chrono::milliseconds(500);
  // Nothing here blocks: spawning is posix_spawn, waiting is the reaper thread.
  d.scheduler_threads = 1;
  d.log_component = component;
  return d;
}

void command_executor::attach(executor_driver& driver) {
  auto& d = *impl_;
  auto hdl = driver.system().spawn(task_runner, &driver, d.opts);
  {
    std::lock_guard<std::mutex> guard{d.mtx};
    d.runner = hdl;
    d.spawned = true;
  }
  hdl->attach_functor([&d] {
    std::lock_guard<std::mutex> guard{d.mtx};
    d.ended = true;
    d.cv.notify_all();
  });
}

void command_executor::terminate() {
  caf::anon_send_exit(impl_->handle(), caf::exit_reason::user_shutdown);
}

void command_executor::join() {
  auto& d = *impl_;
  std::unique_lock<std::mutex> guard{d.mtx};
  d.cv.wait(guard, [&] { return !d.spawned || d.ended; });
  d.runner = nullptr;
}

void command_executor::launch_task(executor_driver&, const task_info& task) {
  caf::anon_send(impl_->handle(), atom::launch_v, task);
}

void command_executor::kill_task(executor_driver&, const task_id& task) {
  caf::anon_send(impl_->handle(), atom::kill_task_v, task);
}

void command_executor::shutdown(executor_driver&) {
  caf::anon_send(impl_->handle(), atom::shutdown_v);
}

void command_executor::error(executor_driver&, const std::string& message) {
  caf::anon_send(impl_->handle(), atom::error_v, message);
}

// -- the `mesoscaf command-executor` process ------------------------------------------------------------------

int run_command_executor(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << "mesoscaf command-executor: started by an agent to run command tasks.\n"
                   "Reads MESOSCAF_AGENT_ENDPOINT, MESOSCAF_FRAMEWORK_ID, MESOSCAF_EXECUTOR_ID, "
                   "MESOSCAF_AGENT_ID, MESOSCAF_SANDBOX, MESOSCAF_CHECKPOINT (1|0), MESOSCAF_RECOVERY_TIMEOUT (ms).\n";
      return 0;
    }
    std::cerr << "mesoscaf command-executor: unknown argument '" << arg << "'\n";
    return 2;
  }
  executor_environment env;
  if (auto err = read_executor_environment(env); !err.empty()) {
    std::cerr << "mesoscaf command-executor: " << err << "\n";
    return 1;
  }
  // Before any thread exists: only sigwait below takes these (docs/CAF_PITFALLS.md §8). SIGUSR1 = "all done".
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  command_executor exec;
  executor_driver driver{exec, exec.driver_options()};
  exec.attach(driver);
  if (driver.start() != driver_status::running) {
    exec.join();  // the error callback ended the task actor
    return 1;
  }
  std::atomic<bool> ended{false};
  std::thread waiter([&] {
    driver.join();
    exec.join();
    ended = true;
    ::kill(::getpid(), SIGUSR1);  // wakes sigwait below
  });
  bool watchdog = false;
  for (;;) {
    int sig = 0;
    if (sigwait(&sigs, &sig) != 0)
      continue;
    if (sig == SIGUSR1) {
      if (ended)
        break;
      continue;
    }
    LOG_INFO(component, "received " << strsignal(sig));
    exec.terminate();
    if (!watchdog) {
      watchdog = true;
      // The task actor's own deadline ends it; this is the backstop against a hung shutdown
      // (docs/CAF_PITFALLS.md §8).
      std::thread([] {
        std::this_thread::sleep_for(std::chrono::seconds(15));
        std::_Exit(1);
      }).detach();
    }
  }
  waiter.join();
  return driver.status() == driver_status::stopped ? 0 : 1;
}

} // namespace mesoscaf
