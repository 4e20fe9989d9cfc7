#include "actors/sdk/command_executor.hpp"

#include "actors/process_defaults.hpp"

#include "config/support/logging.hpp"
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
  caf::reacts_to<atom::retry>,
  // Checkpointing, timers: try to reach the agent again (link generation); the recovery timeout of loss N.
  caf::reacts_to<atom::connect, uint64_t>,
  caf::reacts_to<atom::timeout, uint64_t>>;

struct running_task {
  task_info info;  // for a re-registration
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
  bool agent_alive = true;  // false once the agent is lost (until a re-registration succeeds)
  bool recovering = false;  // checkpointing: the agent was lost and we are trying to reach it again
  uint64_t link_gen = 0;    // bumps with every lost or new agent handle: replies for an older one are ignored
  uint64_t loss = 0;        // bumps with every loss: the recovery timer of an earlier loss is ignored
  reconnect_backoff backoff;
  agent_dialer dialer;  // which of this host's addresses to try next (set from the environment at start)
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
  // If this executor dies, the agent kills the task through this record (it runs in a session of its own).
  if (auto err = record_task_process(spec.sandbox, res.pid); !err.empty())
    LOG_WARN("command-executor", "task " << task.id << ": " << err);
  auto& entry = st.tasks[task.id];
  entry.info = task;
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

// -- checkpointing: surviving the loss of the agent ------------------------------------------------------------

// The tasks cannot be kept (re-registration refused, recovery timeout): kill them and exit with `reason`.
void give_up(self_pointer self, caf::error reason) {
  auto& st = self->state;
  LOG_ERROR("command-executor", self->system().render(reason) << ": killing " << st.tasks.size()
                                                              << " task(s) and exiting");
  st.recovering = false;
  st.agent_alive = false;
  if (!st.exit_reason)
    st.exit_reason = std::move(reason);
  begin_shutdown(self);
  maybe_quit(self);
}

void schedule_reconnect(self_pointer self) {
  auto& st = self->state;
  self->delayed_send(self, st.backoff.next(), atom::connect_v, st.link_gen);
}

void agent_lost(self_pointer self, const caf::error& reason) {
  auto& st = self->state;
  st.agent = nullptr;
  st.registered = false;
  st.agent_alive = false;
  ++st.link_gen;
  if (!st.env.checkpoint || st.shutting_down) {
    LOG_WARN("command-executor", "lost the agent (" << self->system().render(reason) << "): exiting");
    if (!st.exit_reason)
      st.exit_reason = reason ? reason : caf::make_error(caf::exit_reason::remote_link_unreachable);
    begin_shutdown(self);
    maybe_quit(self);
    return;
  }
  if (!st.recovering) {
    st.recovering = true;
    ++st.loss;
    st.backoff.reset();
    LOG_WARN("command-executor", "lost the agent (" << self->system().render(reason) << "); keeping "
                                                    << st.tasks.size() << " task(s), reconnecting for up to "
                                                    << st.env.recovery_timeout.count() << " ms");
    self->delayed_send(self, st.env.recovery_timeout, atom::timeout_v, st.loss);
  }
  schedule_reconnect(self);
}

/// `host`: where the agent was reached ("" for a handle from opts.reconnect).
void reregister(self_pointer self, agent_actor agent, std::string host = {}) {
  auto& st = self->state;
  st.agent = std::move(agent);
  auto gen = ++st.link_gen;
  self->monitor(st.agent);
  std::vector<task_info> tasks;
  for (auto& [id, t] : st.tasks)
    tasks.push_back(t.info);
  self
    ->request(st.agent, st.opts.registration_timeout, atom::rereg_exec_v, st.env.framework, st.env.executor,
              caf::actor_cast<executor_actor>(self), std::move(tasks), st.outbox.pending())
    .then(
      [self, gen, host](const executor_registration& reg) {
        auto& st = self->state;
        if (gen != st.link_gen || st.shutting_down)
          return;
        st.recovering = false;
        st.registered = true;
        st.agent_alive = true;
        st.backoff.reset();
        if (!host.empty())
          st.dialer.reached(host);
        if (!reg.agent.empty())
          st.outbox.set_agent(reg.agent);
        LOG_INFO("command-executor", "re-registered with agent " << reg.agent << ": " << st.tasks.size()
                                                                 << " task(s), resending "
                                                                 << st.outbox.pending().size() << " update(s)");
        for (auto& upd : st.outbox.pending())
          self->send(st.agent, atom::update_v, upd);
        arm_tick(self);
      },
      [self, gen, host](const caf::error& err) {
        auto& st = self->state;
        if (gen != st.link_gen || st.shutting_down)
          return;
        if (is_connection_error(err)) {
          agent_lost(self, err);
          return;
        }
        if (!host.empty() && host != st.dialer.home()) {
          // Another agent on another address of this host: not ours, keep looking.
          LOG_WARN("command-executor", "the agent at " << host << " is not ours: " << self->system().render(err));
          agent_lost(self, err);
          return;
        }
        give_up(self, err);
      });
}

void try_reconnect(self_pointer self) {
  auto& st = self->state;
  if (st.opts.reconnect) {
    if (auto agent = st.opts.reconnect())
      reregister(self, std::move(agent));
    else
      schedule_reconnect(self);
    return;
  }
  if (!self->system().has_middleman()) {
    LOG_ERROR("command-executor", "cannot reconnect: no middleman in this actor system");
    schedule_reconnect(self);
    return;
  }
  auto gen = st.link_gen;
  auto mm = self->system().middleman().actor_handle();
  auto host = st.dialer.next();
  self->request(mm, st.opts.registration_timeout, caf::connect_atom::value, host, st.env.agent_port)
    .then(
      [self, gen, host](const caf::node_id&, caf::strong_actor_ptr& ptr, const std::set<std::string>& ifs) {
        auto& st = self->state;
        if (gen != st.link_gen || !st.recovering)
          return;
        if (!ptr || !self->system().assignable<agent_actor>(ifs)) {
          LOG_WARN("command-executor", "no mesoscaf agent at " << host << ":" << st.env.agent_port);
          schedule_reconnect(self);
          return;
        }
        reregister(self, caf::actor_cast<agent_actor>(std::move(ptr)), host);
      },
      [self, gen](const caf::error& err) {
        auto& st = self->state;
        if (gen != st.link_gen || !st.recovering)
          return;
        LOG_DEBUG("command-executor", "agent not reachable yet: " << self->system().render(err));
        schedule_reconnect(self);
      });
}

/// Registered with the agent: pending updates go out. From the agent's answer, or from its first launch, which it
/// sends only to a registered executor (under load an answer was seen to go missing while the launch after it
/// arrived: the executor must not wait for it).
void on_registered(self_pointer self, const agent_id& agent, const char* how) {
  auto& st = self->state;
  if (st.registered)
    return;
  st.registered = true;
  if (!agent.empty())
    st.outbox.set_agent(agent);
  LOG_DEBUG("command-executor", "registered with agent " << agent << how);
  for (auto& upd : st.outbox.pending())
    self->send(st.agent, atom::update_v, upd);
  arm_tick(self);
}

/// Registers with the agent that started us. A slow answer (the agent is busy: many executors start at once) is
/// asked for again: the agent answers a repeat of the same executor alike. Liveness is the agent's own bound
/// (--executor-registration-timeout) and the connection, not this request's timeout.
void register_with_agent(self_pointer self) {
  auto& st = self->state;
  auto gen = st.link_gen;
  self
    ->request(st.agent, st.opts.registration_timeout, atom::reg_exec_v, st.env.framework, st.env.executor,
              caf::actor_cast<executor_actor>(self))
    .then(
      [self, gen](const executor_registration& reg) {
        if (gen == self->state.link_gen)
          on_registered(self, reg.agent, "");
      },
      [self, gen](const caf::error& err) {
        auto& st = self->state;
        if (gen != st.link_gen || st.registered)
          return;  // the agent was lost meanwhile (handled there), or its launch told us
        if (err == caf::sec::request_timeout && !st.shutting_down) {
          LOG_WARN("command-executor", "no answer to the registration yet; asking the agent again");
          register_with_agent(self);
          return;
        }
        if (st.env.checkpoint && is_connection_error(err) && !st.shutting_down) {
          agent_lost(self, err);
          return;
        }
        LOG_ERROR("command-executor", "registration failed: " << self->system().render(err));
        if (!st.exit_reason)
          st.exit_reason = err;
        st.agent_alive = false;
        begin_shutdown(self);
        maybe_quit(self);
      });
}

command_executor_actor::behavior_type command_executor(self_pointer self, executor_environment env,
                                                       agent_actor agent, command_executor_options opts) {
  auto& st = self->state;
  st.outbox = status_update_outbox{env.framework, env.agent, env.executor};
  st.dialer = agent_dialer{env.agent_host};
  st.env = std::move(env);
  st.agent = agent;
  st.opts = opts;
  st.reaper = std::make_unique<process_reaper>();
  self->monitor(agent);
  self->set_down_handler([self](const caf::down_msg& dm) {
    auto& st = self->state;
    if (!st.agent || dm.source != st.agent.address())
      return;  // an agent handle we already dropped
    agent_lost(self, dm.reason);
  });
  // SIGTERM/SIGINT arrive as an exit message from main: shut down in order instead of dying at once.
  self->set_exit_handler([self](const caf::exit_msg& msg) {
    LOG_INFO("command-executor", "exit requested (" << self->system().render(msg.reason) << ")");
    begin_shutdown(self);
  });
  register_with_agent(self);
  return {
    [self](atom::launch, const task_info& task) {
      if (!self->state.registered && !self->state.recovering)
        on_registered(self, self->state.env.agent, " (its first launch came before its answer)");
      launch_task(self, task);
    },
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
    [self](atom::connect, uint64_t gen) {
      auto& st = self->state;
      if (gen != st.link_gen || !st.recovering || st.agent || st.shutting_down)
        return;
      try_reconnect(self);
    },
    [self](atom::timeout, uint64_t loss) {
      auto& st = self->state;
      if (!st.recovering || loss != st.loss)
        return;
      give_up(self, caf::make_error(caf::sec::runtime_error,
                                    "the agent did not come back within the recovery timeout ("
                                      + std::to_string(st.env.recovery_timeout.count()) + " ms)"));
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
  // Before any thread exists: only sigwait below takes these (docs/CAF_PITFALLS.md §8). SIGUSR1 = "the actor is done".
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
      // The actor's own deadline ends it; this is the backstop against a hung shutdown (docs/CAF_PITFALLS.md §8).
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
