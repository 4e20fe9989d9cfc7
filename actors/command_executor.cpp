#include "actors/command_executor.hpp"

#include "config/process_defaults.hpp"

#include "config/logging.hpp"
#include "containerizer/launcher.hpp"
#include "containerizer/reaper.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <thread>
#include <unordered_map>

#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

namespace mesoscaf {

namespace {

using command_executor_actor = executor_actor::extend<
  // The reaper saw a task's process exit with this wait status.
  caf::reacts_to<atom::exited, task_id, int32_t>,
  // The grace period of a task kill expired: SIGKILL.
  caf::reacts_to<atom::tick, task_id>,
  // Timer: resend unacknowledged status updates.
  caf::reacts_to<atom::tick>,
  // Timer: the shutdown deadline expired: quit whatever is still pending.
  caf::reacts_to<atom::retry>>;

struct running_task {
  pid_t pid = -1;
  bool kill_requested = false;
  std::chrono::steady_clock::time_point kill_deadline;
};

struct command_executor_state {
  static inline const char* name = "command_executor";

  executor_environment env;
  agent_actor agent;
  command_executor_options opts;
  status_update_outbox outbox;
  std::unordered_map<task_id, running_task> tasks;
  std::unique_ptr<process_reaper> reaper;
  bool registered = false;
  bool agent_alive = true;
  bool tick_armed = false;
  bool shutting_down = false;
  bool finishing = false;
  caf::error exit_reason;  // none: a clean shutdown

  ~command_executor_state() {
    if (!reaper)
      return;
    // Tasks must not outlive their executor (the shutdown path has normally ended them already).
    for (auto& [id, t] : tasks)
      reaper->signal_group(t.pid, SIGKILL);
    reaper->stop();
  }
};

using self_pointer = command_executor_actor::stateful_pointer<command_executor_state>;

void arm_tick(self_pointer self) {
  auto& st = self->state;
  if (!st.tick_armed && !st.outbox.empty() && st.agent_alive) {
    st.tick_armed = true;
    self->delayed_send(self, st.opts.resend_interval, atom::tick_v);
  }
}

void send_update(self_pointer self, const task_id& id, task_state state, task_reason reason = task_reason::none,
                 std::string message = {}) {
  auto& st = self->state;
  task_status s;
  s.task = id;
  s.state = state;
  s.reason = reason;
  s.message = std::move(message);
  auto upd = st.outbox.add(std::move(s));
  LOG_DEBUG("command-executor", "task " << id << ": " << to_string(state));
  if (st.registered && st.agent_alive)
    self->send(st.agent, atom::update_v, std::move(upd));
  arm_tick(self);
}

void maybe_quit(self_pointer self) {
  auto& st = self->state;
  if (st.finishing && (st.outbox.empty() || !st.agent_alive))
    self->quit(st.exit_reason);
}

void finish(self_pointer self) {
  self->state.finishing = true;
  maybe_quit(self);
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
  LOG_INFO("command-executor", "shutting down, killing " << st.tasks.size() << " task(s)");
  std::vector<task_id> ids;
  for (auto& [id, t] : st.tasks)
    ids.push_back(id);
  for (auto& id : ids)
    kill_task(self, id);
  // Whatever happens, leave after the kills and a drain: the agent SIGKILLs us otherwise.
  auto deadline = st.opts.kill_grace_period + st.opts.drain_timeout + std::chrono::milliseconds(500);
  self->delayed_send(self, deadline, atom::retry_v);
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
    LOG_WARN("command-executor", "task " << task.id << " is already running; launch ignored");
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
      caf::anon_send(caf::actor_cast<command_executor_actor>(strong), atom::exited_v, id,
                     static_cast<int32_t>(status));
  });
  if (!watched) {
    kill_process_group(res.pid, SIGKILL);
    ::waitpid(res.pid, nullptr, 0);  // just SIGKILLed: returns at once
    send_update(self, task.id, task_state::failed, task_reason::container_launch_failed,
                "cannot watch the task's process");
    return;
  }
  st.tasks[task.id].pid = res.pid;
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

command_executor_actor::behavior_type command_executor(self_pointer self, executor_environment env,
                                                       agent_actor agent, command_executor_options opts) {
  auto& st = self->state;
  st.outbox = status_update_outbox{env.framework, env.agent, env.executor};
  st.env = std::move(env);
  st.agent = agent;
  st.opts = opts;
  st.reaper = std::make_unique<process_reaper>();
  self->monitor(agent);
  self->set_down_handler([self](const caf::down_msg& dm) {
    auto& st = self->state;
    if (dm.source != st.agent.address())
      return;
    LOG_WARN("command-executor", "lost the agent (" << self->system().render(dm.reason) << "): exiting");
    st.agent_alive = false;
    if (!st.exit_reason)
      st.exit_reason = dm.reason ? dm.reason : caf::make_error(caf::exit_reason::remote_link_unreachable);
    begin_shutdown(self);
    maybe_quit(self);
  });
  // SIGTERM/SIGINT arrive as an exit message from main: shut down in order instead of dying at once.
  self->set_exit_handler([self](const caf::exit_msg& msg) {
    LOG_INFO("command-executor", "exit requested (" << self->system().render(msg.reason) << ")");
    begin_shutdown(self);
  });
  self
    ->request(agent, opts.registration_timeout, atom::reg_exec_v, st.env.framework, st.env.executor,
              caf::actor_cast<executor_actor>(self))
    .then(
      [self](const executor_registration& reg) {
        auto& st = self->state;
        st.registered = true;
        if (!reg.agent.empty())
          st.outbox.set_agent(reg.agent);
        LOG_DEBUG("command-executor", "registered with agent " << reg.agent << " for framework "
                                                               << reg.framework);
        for (auto& upd : st.outbox.pending())
          self->send(st.agent, atom::update_v, upd);
        arm_tick(self);
      },
      [self](const caf::error& err) {
        auto& st = self->state;
        LOG_ERROR("command-executor", "registration failed: " << self->system().render(err));
        if (!st.exit_reason)
          st.exit_reason = err;
        st.agent_alive = false;
        begin_shutdown(self);
        maybe_quit(self);
      });
  return {
    [self](atom::launch, const task_info& task) { launch_task(self, task); },
    [self](atom::kill_task, const task_id& id) { kill_task(self, id); },
    [self](atom::ack, const task_id& id, const std::string& uuid) {
      self->state.outbox.ack(id, uuid);
      maybe_quit(self);
    },
    [](atom::fw_msg, const std::string&) {
      // Frameworks cannot talk to the built-in executor; nothing to do.
    },
    [self](atom::shutdown) { begin_shutdown(self); },
    [self](atom::exited, const task_id& id, int32_t status) { task_exited(self, id, status); },
    [self](atom::tick, const task_id& id) {
      auto& st = self->state;
      auto i = st.tasks.find(id);
      if (i == st.tasks.end() || !i->second.kill_requested)
        return;
      if (std::chrono::steady_clock::now() + std::chrono::milliseconds(50) < i->second.kill_deadline)
        return;
      LOG_INFO("command-executor", "task " << id << " outlived its grace period: SIGKILL");
      st.reaper->signal_group(i->second.pid, SIGKILL);
    },
    [self](atom::tick) {
      auto& st = self->state;
      st.tick_armed = false;
      if (st.registered && st.agent_alive)
        for (auto& upd : st.outbox.pending())
          self->send(st.agent, atom::update_v, upd);
      arm_tick(self);
    },
    [self](atom::retry) {
      auto& st = self->state;
      if (!st.tasks.empty() || !st.outbox.empty())
        LOG_WARN("command-executor", "shutdown deadline: " << st.tasks.size() << " task(s) still running, "
                                                           << st.outbox.pending().size()
                                                           << " update(s) unacknowledged");
      self->quit(st.exit_reason);  // the state's destructor SIGKILLs what is left
    },
  };
}

struct command_executor_config : caf::actor_system_config {
  command_executor_config() {
    // One thread: nothing in this process blocks (spawning is posix_spawn, waiting is the reaper thread).
    set_process_defaults(*this, 1);
  }
};

} // namespace

executor_actor spawn_command_executor(caf::actor_system& sys, executor_environment env, agent_actor agent,
                                      command_executor_options opts) {
  auto hdl = sys.spawn(command_executor, std::move(env), std::move(agent), opts);
  return caf::actor_cast<executor_actor>(hdl);
}

int run_command_executor(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << "mesoscaf command-executor: started by an agent to run command tasks.\n"
                   "Reads MESOSCAF_AGENT_ENDPOINT, MESOSCAF_FRAMEWORK_ID, MESOSCAF_EXECUTOR_ID, "
                   "MESOSCAF_AGENT_ID, MESOSCAF_SANDBOX.\n";
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
  // Before any thread exists: only sigwait below takes these (caf-notes A13). SIGUSR1 = "the actor is done".
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  command_executor_config cfg;
  caf::actor_system sys{cfg};
  agent_actor agent;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    auto res = sys.middleman().remote_actor<agent_actor>(env.agent_host, env.agent_port);
    if (res) {
      agent = std::move(*res);
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      LOG_ERROR("command-executor", "cannot connect to the agent at " << env.agent_host << ":" << env.agent_port
                                                                      << ": " << sys.render(res.error()));
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  auto exit_code = std::make_shared<std::atomic<int>>(-1);
  auto hdl = spawn_command_executor(sys, env, agent, {});
  hdl->attach_functor([exit_code](const caf::error& reason) {
    exit_code->store(reason ? 1 : 0);
    ::kill(::getpid(), SIGUSR1);  // wakes sigwait below
  });
  bool watchdog = false;
  for (;;) {
    int sig = 0;
    if (sigwait(&sigs, &sig) != 0)
      continue;
    if (sig == SIGUSR1) {
      if (exit_code->load() >= 0)
        break;
      continue;
    }
    LOG_INFO("command-executor", "received " << strsignal(sig));
    caf::anon_send_exit(hdl, caf::exit_reason::user_shutdown);
    if (!watchdog) {
      watchdog = true;
      // The actor's own deadline ends it; this is the backstop against a hung shutdown (caf-notes A13).
      std::thread([] {
        std::this_thread::sleep_for(std::chrono::seconds(15));
        std::_Exit(1);
      }).detach();
    }
  }
  hdl = nullptr;
  agent = nullptr;
  return exit_code->load();
}

} // namespace mesoscaf
