#include "actors/sdk/executor_driver.hpp"
#include "actors/tls.hpp"

#include "actors/process_defaults.hpp"

#include "config/support/logging.hpp"
#include "config/support/network_address.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include <algorithm>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>

namespace mesoscaf {

// -- executor callbacks: defaults -----------------------------------------------------------------------------

executor::~executor() = default;
void executor::registered(executor_driver&, const executor_registration&) {}
void executor::launch_task(executor_driver&, const task_info&) {}
void executor::launch_task_group(executor_driver& driver, const task_group_info& group) {
  for (const auto& task : group.tasks)
    launch_task(driver, task);
}
void executor::kill_task(executor_driver&, const task_id&) {}
void executor::kill_task(executor_driver& driver, const task_id& task, const kill_policy&) {
  kill_task(driver, task);
}
void executor::framework_message(executor_driver&, const std::string&) {}
void executor::shutdown(executor_driver&) {}
void executor::error(executor_driver&, const std::string& message) {
  LOG_ERROR("executor", message);
}
void executor::disconnected(executor_driver&) {}
void executor::reregistered(executor_driver&, const executor_registration&) {}

// -- environment ----------------------------------------------------------------------------------------------

std::string parse_endpoint(const std::string& text, std::string& host, uint16_t& port) {
  auto colon = text.rfind(':');
  if (text.empty() || colon == std::string::npos)
    return "expected host:port, got \"" + text + "\"";
  auto h = text.substr(0, colon);
  auto p = text.substr(colon + 1);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']')
    h = h.substr(1, h.size() - 2);
  if (h.empty() || h.find_first_of(" \t/") != std::string::npos)
    return "bad host in \"" + text + "\"";
  if (p.empty() || p.size() > 5 || p.find_first_not_of("0123456789") != std::string::npos)
    return "bad port in \"" + text + "\"";
  auto value = std::stoul(p);
  if (value < 1 || value > 65535)
    return "port out of range in \"" + text + "\"";
  host = h;
  port = static_cast<uint16_t>(value);
  return {};
}

namespace {

/// The secret from the process environment, removed from it at the first call (kept here for later calls).
std::string take_executor_secret() {
  static std::mutex mtx;
  static std::string kept;
  std::lock_guard<std::mutex> guard{mtx};
  if (const char* v = std::getenv(env_executor_secret)) {
    kept = v;
    ::unsetenv(env_executor_secret);
  }
  return kept;
}

} // namespace

std::string read_executor_environment(executor_environment& out,
                                      const std::function<const char*(const char*)>& get) {
  auto lookup = [&](const char* name) -> std::string {
    const char* v = get ? get(name) : std::getenv(name);
    return v != nullptr ? std::string{v} : std::string{};
  };
  executor_environment env;
  // TLS files the agent passed on: unusable ones would only fail later, inside the middleman.
  if (tls_files files{lookup(env_tls_cert), lookup(env_tls_key), lookup(env_tls_ca)}; files.any())
    if (auto err = check_tls_files(files); !err.empty())
      return "MESOSCAF_TLS_CERT, MESOSCAF_TLS_KEY, MESOSCAF_TLS_CA: " + err;
  auto endpoint = lookup(env_agent_endpoint);
  if (endpoint.empty())
    return std::string{env_agent_endpoint} + " is not set (executors are started by an agent)";
  if (auto err = parse_endpoint(endpoint, env.agent_host, env.agent_port); !err.empty())
    return std::string{env_agent_endpoint} + ": " + err;
  env.framework = framework_id{lookup(env_framework_id)};
  if (env.framework.empty())
    return std::string{env_framework_id} + " is not set";
  env.executor = executor_id{lookup(env_executor_id)};
  if (env.executor.empty())
    return std::string{env_executor_id} + " is not set";
  env.agent = agent_id{lookup(env_agent_id)};
  env.sandbox = lookup(env_sandbox);
  env.secret = get ? lookup(env_executor_secret) : take_executor_secret();
  auto checkpoint = lookup(env_checkpoint);
  if (checkpoint == "1")
    env.checkpoint = true;
  else if (checkpoint.empty() || checkpoint == "0")
    env.checkpoint = false;
  else
    return std::string{env_checkpoint} + ": expected 1 or 0, got \"" + checkpoint + "\"";
  auto timeout = lookup(env_recovery_timeout);
  if (!timeout.empty()) {
    // Digits only (no sign, no unit): milliseconds, at most about 31 years.
    if (timeout.size() > 12 || timeout.find_first_not_of("0123456789") != std::string::npos)
      return std::string{env_recovery_timeout} + ": expected milliseconds, got \"" + timeout + "\"";
    env.recovery_timeout = std::chrono::milliseconds{std::stoll(timeout)};
  }
  out = std::move(env);
  return {};
}

caf::expected<agent_actor> connect_to_agent_from_env(caf::actor_system& sys) {
  executor_environment env;
  if (auto err = read_executor_environment(env); !err.empty())
    return caf::make_error(caf::sec::invalid_argument, err);
  return connect_actor<agent_actor>(sys, env.agent_host, env.agent_port);
}

// -- status_update_outbox -------------------------------------------------------------------------------------

status_update_outbox::status_update_outbox(framework_id framework, agent_id agent, executor_id executor)
  : framework_(std::move(framework)), agent_(std::move(agent)), executor_(std::move(executor)) {}

status_update status_update_outbox::add(task_status status) {
  status_update upd;
  upd.framework = framework_;
  status.agent = agent_;
  status.executor = executor_;
  status.source = status_source::executor;
  status.uuid = new_uuid();
  status.timestamp = now_seconds();
  upd.status = std::move(status);
  pending_.push_back(upd);
  return upd;
}

bool status_update_outbox::ack(const task_id& task, const std::string& uuid) {
  for (auto i = pending_.begin(); i != pending_.end(); ++i)
    if (i->status.uuid == uuid && i->status.task == task) {
      pending_.erase(i);
      return true;
    }
  return false;
}

bool is_connection_error(const caf::error& err) {
  return err == caf::sec::request_timeout || err == caf::sec::request_receiver_down
         || err == caf::exit_reason::remote_link_unreachable || err == caf::sec::cannot_connect_to_node
         || err == caf::sec::connection_timeout || err == caf::sec::no_route_to_receiving_node
         || err == caf::sec::disconnect_during_handshake;
}

// -- agent_dialer ---------------------------------------------------------------------------------------------

agent_dialer::agent_dialer(std::string home, std::function<std::vector<std::string>()> addresses)
  : home_(std::move(home)), addresses_(addresses ? std::move(addresses) : local_interface_addresses) {}

std::string agent_dialer::next() {
  if (pos_ >= round_.size()) {
    round_.assign(1, home_);
    for (auto& a : addresses_())
      if (a != home_)
        round_.push_back(a);
    pos_ = 0;
  }
  return round_[pos_++];
}

void agent_dialer::reached(const std::string& host) {
  home_ = host;
  round_.clear();
  pos_ = 0;
}

// -- reconnect_backoff ----------------------------------------------------------------------------------------

reconnect_backoff::reconnect_backoff(std::chrono::milliseconds first, std::chrono::milliseconds max)
  : first_(first), max_(std::max(first, max)), current_(first) {}

std::chrono::milliseconds reconnect_backoff::next() {
  auto result = current_;
  current_ = std::min(current_ * 2, max_);
  return result;
}

void reconnect_backoff::reset() {
  current_ = first_;
}

// -- the driver's internal actor ------------------------------------------------------------------------------

namespace {

using driver_actor = executor_actor::extend<
  // From the driver (any thread): send this status update / framework message.
  caf::reacts_to<atom::update, task_status>,
  caf::reacts_to<atom::exec_msg, std::string>,
  // Timer: resend unacknowledged updates.
  caf::reacts_to<atom::tick>,
  // From the driver: stop after draining pending updates.
  caf::reacts_to<atom::teardown>,
  // Timer: the drain timeout expired.
  caf::reacts_to<atom::retry>,
  // Checkpointing, timers: try to reach the agent again (link generation); the recovery timeout of loss N.
  caf::reacts_to<atom::connect, uint64_t>,
  caf::reacts_to<atom::timeout, uint64_t>>;

struct driver_config : caf::actor_system_config {
  explicit driver_config(int threads) {
    set_process_defaults(*this, threads);
    // The agent that started this executor passes its TLS files on (MESOSCAF_TLS_*).
    if (auto files = tls_files_from_environment(); files.complete())
      use_tls(*this, files);
  }
};

} // namespace

struct executor_driver::impl {
  // Declared first: destroyed last, after every handle below.
  std::unique_ptr<driver_config> own_cfg;
  std::unique_ptr<caf::actor_system> own_sys;
  caf::actor_system* sys = nullptr;

  executor_driver* driver = nullptr;
  executor* exec = nullptr;
  executor_driver_options opts;
  executor_environment env;
  std::string env_error;
  // The agent handle at start (the actor then keeps the current one in its state).
  agent_actor agent;
  driver_actor actor;

  mutable std::mutex mtx;
  std::condition_variable cv;
  driver_status state = driver_status::not_started;
  std::string abort_reason;

  void set_abort_reason(const std::string& why) {
    std::lock_guard<std::mutex> guard{mtx};
    if (abort_reason.empty())
      abort_reason = why;
  }

  void on_actor_exit(const caf::error& reason) {
    std::lock_guard<std::mutex> guard{mtx};
    bool clean = (!reason || reason == caf::exit_reason::user_shutdown) && abort_reason.empty();
    if (!clean && abort_reason.empty())
      abort_reason = sys->render(reason);
    state = clean ? driver_status::stopped : driver_status::aborted;
    cv.notify_all();  // under the lock: the waiter may destroy us right after
  }

  driver_status current() const {
    std::lock_guard<std::mutex> guard{mtx};
    return state;
  }
};

namespace {

struct driver_state {
  static inline const char* name = "executor_driver";
  executor_driver::impl* d = nullptr;
  status_update_outbox outbox;
  // The agent we talk to now (the one that started us, or the restarted one we reconnected to). Kept here only:
  // the actor is the only one that uses it after start().
  agent_actor agent;
  bool registered = false;  // registered (or re-registered) with `agent`: updates go out
  bool answered = false;    // the agent answered the registration (the `registered` callback ran)
  bool recovering = false;  // checkpointing: the agent was lost and we are trying to reach it again
  uint64_t link_gen = 0;    // bumps with every lost or new agent handle: replies for an older one are ignored
  uint64_t loss = 0;        // bumps with every loss: the recovery timer of an earlier loss is ignored
  reconnect_backoff backoff;
  agent_dialer dialer;  // which of this host's addresses to try next (set from the environment at start)
  // Tasks launched and not yet reported terminal: what a re-registration tells the restarted agent.
  std::vector<task_info> launched;
  bool tick_armed = false;
  bool draining = false;
  bool shutdown_requested = false;
};

using driver_pointer = driver_actor::stateful_pointer<driver_state>;

const std::string& component(driver_pointer self) {
  return self->state.d->opts.log_component;
}

void arm_tick(driver_pointer self) {
  auto& st = self->state;
  if (!st.tick_armed && !st.outbox.empty()) {
    st.tick_armed = true;
    self->delayed_send(self, st.d->opts.resend_interval, atom::tick_v);
  }
}

void resend_all(driver_pointer self) {
  auto& st = self->state;
  if (st.registered)
    for (auto& upd : st.outbox.pending())
      self->send(st.agent, atom::update_v, upd);
}

void start_drain(driver_pointer self) {
  auto& st = self->state;
  if (st.draining)
    return;
  st.draining = true;
  if (st.outbox.empty()) {
    self->quit();
    return;
  }
  self->delayed_send(self, st.d->opts.drain_timeout, atom::retry_v);
}

// Checkpointing: the tasks cannot be kept; let the executor kill them, report, abort.
void give_up(driver_pointer self, const std::string& why) {
  auto& st = self->state;
  auto d = st.d;
  d->set_abort_reason(why);
  if (!st.shutdown_requested) {
    st.shutdown_requested = true;
    d->exec->shutdown(*d->driver);
  }
  d->exec->error(*d->driver, why);
  self->quit(caf::make_error(caf::sec::runtime_error, why));
}

void schedule_reconnect(driver_pointer self) {
  auto& st = self->state;
  self->delayed_send(self, st.backoff.next(), atom::connect_v, st.link_gen);
}

void agent_lost(driver_pointer self, const caf::error& reason) {
  auto& st = self->state;
  auto d = st.d;
  st.agent = nullptr;
  st.registered = false;
  ++st.link_gen;
  auto why = "lost the connection to the agent (" + self->system().render(reason) + ")";
  if (!d->env.checkpoint) {
    d->set_abort_reason(why);
    d->exec->error(*d->driver, why);
    self->quit(reason ? reason : caf::make_error(caf::exit_reason::remote_link_unreachable));
    return;
  }
  if (!st.recovering) {
    st.recovering = true;
    ++st.loss;
    st.backoff.reset();
    LOG_WARN(component(self), why << "; keeping " << st.launched.size() << " task(s), reconnecting for up to "
                                  << d->env.recovery_timeout.count() << " ms");
    self->delayed_send(self, d->env.recovery_timeout, atom::timeout_v, st.loss);
    d->exec->disconnected(*d->driver);
  }
  schedule_reconnect(self);
}

/// `host`: where the agent was reached ("" for a handle from opts.reconnect).
void reregister(driver_pointer self, agent_actor agent, std::string host = {}) {
  auto& st = self->state;
  auto d = st.d;
  st.agent = std::move(agent);
  auto gen = ++st.link_gen;
  self->monitor(st.agent);
  self
    ->request(st.agent, d->opts.registration_timeout, atom::rereg_exec_v, d->env.framework, d->env.executor,
              caf::actor_cast<executor_actor>(self), st.launched, st.outbox.pending(), d->env.secret)
    .then(
      [self, gen, host](const executor_registration& reg) {
        auto& st = self->state;
        if (gen != st.link_gen)
          return;
        st.recovering = false;
        st.registered = true;
        st.backoff.reset();
        if (!host.empty())
          st.dialer.reached(host);
        if (!reg.agent.empty())
          st.outbox.set_agent(reg.agent);
        LOG_INFO(component(self), "re-registered with agent " << reg.agent << ": " << st.launched.size()
                                                               << " task(s), resending "
                                                               << st.outbox.pending().size() << " update(s)");
        resend_all(self);
        arm_tick(self);
        st.d->exec->reregistered(*st.d->driver, reg);
      },
      [self, gen, host](const caf::error& err) {
        auto& st = self->state;
        if (gen != st.link_gen)
          return;
        if (is_connection_error(err)) {
          agent_lost(self, err);
          return;
        }
        if (!host.empty() && host != st.dialer.home()) {
          // Another agent on another address of this host: not ours, keep looking.
          LOG_WARN(component(self), "the agent at " << host << " is not ours: " << self->system().render(err));
          agent_lost(self, err);
          return;
        }
        give_up(self, "the agent refused the re-registration: " + self->system().render(err));
      });
}

void try_reconnect(driver_pointer self) {
  auto& st = self->state;
  auto d = st.d;
  if (d->opts.reconnect) {
    if (auto agent = d->opts.reconnect())
      reregister(self, std::move(agent));
    else
      schedule_reconnect(self);
    return;
  }
  if (!self->system().has_middleman()) {
    LOG_ERROR(component(self), "cannot reconnect: no middleman in this actor system");
    schedule_reconnect(self);
    return;
  }
  auto gen = st.link_gen;
  auto mm = network_actor(self->system());
  auto host = st.dialer.next();
  self->request(mm, d->opts.registration_timeout, caf::connect_atom::value, host, d->env.agent_port)
    .then(
      [self, gen, host](const caf::node_id&, caf::strong_actor_ptr& ptr, const std::set<std::string>& ifs) {
        auto& st = self->state;
        if (gen != st.link_gen || !st.recovering)
          return;
        if (!ptr || !self->system().assignable<agent_actor>(ifs)) {
          LOG_WARN(component(self), "no mesoscaf agent at " << host << ":" << st.d->env.agent_port);
          schedule_reconnect(self);
          return;
        }
        reregister(self, caf::actor_cast<agent_actor>(std::move(ptr)), host);
      },
      [self, gen](const caf::error& err) {
        auto& st = self->state;
        if (gen != st.link_gen || !st.recovering)
          return;
        LOG_DEBUG(component(self), "agent not reachable yet: " << self->system().render(err));
        schedule_reconnect(self);
      });
}

void forget_if_terminal(driver_state& st, const task_status& status) {
  if (!is_terminal(status.state))
    return;
  auto i = std::find_if(st.launched.begin(), st.launched.end(),
                        [&](const task_info& t) { return t.id == status.task; });
  if (i != st.launched.end())
    st.launched.erase(i);
}

/// Registered with the agent: pending updates go out. From the agent's answer, or from its first launch, which it
/// sends only to a registered executor (under load an answer was seen to go missing while the launch after it
/// arrived: the executor must not wait for it).
void on_registered(driver_pointer self, const agent_id& agent, const char* how) {
  auto& st = self->state;
  if (st.registered)
    return;
  st.registered = true;
  if (!agent.empty())
    st.outbox.set_agent(agent);
  LOG_DEBUG(component(self), "registered with agent " << agent << how);
  resend_all(self);
  arm_tick(self);
}

/// Registers with the agent that started us; a slow answer is asked for again (the agent answers a repeat of
/// the same executor alike): liveness is the agent's own registration bound and the connection, not this timeout.
void register_with_agent(driver_pointer self) {
  auto& st = self->state;
  auto d = st.d;
  auto gen = st.link_gen;
  self
    ->request(st.agent, d->opts.registration_timeout, atom::reg_exec_v, d->env.framework, d->env.executor,
              caf::actor_cast<executor_actor>(self), d->env.secret)
    .then(
      [self, d, gen](const executor_registration& reg) {
        auto& st = self->state;
        if (gen != st.link_gen || st.answered)
          return;
        st.answered = true;
        on_registered(self, reg.agent, "");
        d->exec->registered(*d->driver, reg);
      },
      [self, d, gen](const caf::error& err) {
        auto& st = self->state;
        if (gen != st.link_gen)
          return;  // the agent was lost meanwhile: handled there
        if (err == caf::sec::request_timeout) {
          LOG_WARN(component(self), "no answer to the registration yet; asking the agent again");
          register_with_agent(self);
          return;
        }
        if (d->env.checkpoint && is_connection_error(err)) {
          agent_lost(self, err);
          return;
        }
        auto why = "registration with the agent failed: " + self->system().render(err);
        d->set_abort_reason(why);
        d->exec->error(*d->driver, why);
        self->quit(err);
      });
}

driver_actor::behavior_type driver_fn(driver_pointer self, executor_driver::impl* d) {
  auto& st = self->state;
  st.d = d;
  st.outbox = status_update_outbox{d->env.framework, d->env.agent, d->env.executor};
  st.dialer = agent_dialer{d->env.agent_host};
  {
    // Set here, before any callback can run, so driver methods called from callbacks reach this actor.
    std::lock_guard<std::mutex> guard{d->mtx};
    d->actor = caf::actor_cast<driver_actor>(self);
    st.agent = d->agent;
  }
  self->attach_functor([d](const caf::error& reason) { d->on_actor_exit(reason); });
  self->monitor(st.agent);
  self->set_down_handler([self](const caf::down_msg& dm) {
    auto& st = self->state;
    if (!st.agent || dm.source != st.agent.address())
      return;  // an agent handle we already dropped
    agent_lost(self, dm.reason);
  });
  self->set_exception_handler([self, d](std::exception_ptr& eptr) -> caf::error {
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(eptr);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    d->set_abort_reason("exception in an executor callback: " + what);
    return caf::make_error(caf::sec::runtime_error, what);
  });
  register_with_agent(self);
  return {
    // -- from the agent --
    [self, d](atom::launch, const task_info& task) {
      auto& st = self->state;
      if (st.shutdown_requested)
        return;
      if (!st.registered && !st.recovering)
        on_registered(self, d->env.agent, " (its first launch came before its answer)");
      auto i = std::find_if(st.launched.begin(), st.launched.end(),
                            [&](const task_info& t) { return t.id == task.id; });
      if (i == st.launched.end())
        st.launched.push_back(task);
      d->exec->launch_task(*d->driver, task);
    },
    [self, d](atom::launch, const task_group_info& group) {
      auto& st = self->state;
      if (st.shutdown_requested)
        return;
      if (!st.registered && !st.recovering)
        on_registered(self, d->env.agent, " (its first launch came before its answer)");
      for (const auto& task : group.tasks)
        if (std::none_of(st.launched.begin(), st.launched.end(), [&](const task_info& t) { return t.id == task.id; }))
          st.launched.push_back(task);
      d->exec->launch_task_group(*d->driver, group);
    },
    [self, d](atom::kill_task, const task_id& task) { d->exec->kill_task(*d->driver, task); },
    [self, d](atom::kill_task, const task_id& task, const kill_policy& policy) {
      d->exec->kill_task(*d->driver, task, policy);
    },
    [self](atom::ack, const task_id& task, const std::string& uuid) {
      auto& st = self->state;
      st.outbox.ack(task, uuid);
      if (st.draining && st.outbox.empty())
        self->quit();
    },
    [self, d](atom::fw_msg, const std::string& data) { d->exec->framework_message(*d->driver, data); },
    [self, d](atom::shutdown) {
      auto& st = self->state;
      if (st.shutdown_requested)
        return;
      st.shutdown_requested = true;
      d->exec->shutdown(*d->driver);
      self->delayed_send(self, d->opts.shutdown_grace, atom::teardown_v);
    },
    // -- from the driver --
    [self](atom::update, const task_status& status) {
      auto& st = self->state;
      forget_if_terminal(st, status);
      auto upd = st.outbox.add(status);
      if (st.registered)
        self->send(st.agent, atom::update_v, std::move(upd));
      arm_tick(self);
    },
    [self, d](atom::exec_msg, const std::string& data) {
      auto& st = self->state;
      if (!st.registered) {
        // Like Mesos: messages are not queued while disconnected (status updates are).
        LOG_WARN(component(self), "not connected to the agent: framework message dropped");
        return;
      }
      self->send(st.agent, atom::exec_msg_v, d->env.framework, d->env.executor, data);
    },
    [self](atom::tick) {
      auto& st = self->state;
      st.tick_armed = false;
      resend_all(self);
      arm_tick(self);
    },
    [self](atom::teardown) { start_drain(self); },
    [self](atom::retry) {
      LOG_WARN(component(self), self->state.outbox.pending().size()
                                  << " status update(s) not acknowledged before the drain timeout");
      self->quit();
    },
    // -- checkpointing: reaching a restarted agent --
    [self](atom::connect, uint64_t gen) {
      auto& st = self->state;
      if (gen != st.link_gen || !st.recovering || st.agent)
        return;
      try_reconnect(self);
    },
    [self, d](atom::timeout, uint64_t loss) {
      auto& st = self->state;
      if (!st.recovering || loss != st.loss)
        return;
      give_up(self, "the agent did not come back within the recovery timeout ("
                      + std::to_string(d->env.recovery_timeout.count()) + " ms)");
    },
  };
}

} // namespace

// -- executor_driver ------------------------------------------------------------------------------------------

executor_driver::executor_driver(executor& exec, executor_driver_options opts) : impl_(std::make_unique<impl>()) {
  impl_->driver = this;
  impl_->exec = &exec;
  impl_->opts = opts;
  impl_->env_error = read_executor_environment(impl_->env);
  impl_->own_cfg = std::make_unique<driver_config>(opts.scheduler_threads);
  impl_->own_sys = std::make_unique<caf::actor_system>(*impl_->own_cfg);
  impl_->sys = impl_->own_sys.get();
}

executor_driver::executor_driver(caf::actor_system& sys, executor& exec, executor_environment env,
                                 agent_actor agent, executor_driver_options opts)
  : impl_(std::make_unique<impl>()) {
  impl_->driver = this;
  impl_->exec = &exec;
  impl_->opts = opts;
  impl_->env = std::move(env);
  impl_->agent = std::move(agent);
  impl_->sys = &sys;
  if (!impl_->agent)
    impl_->env_error = "no agent handle";
}

executor_driver::~executor_driver() {
  if (status() == driver_status::running)
    abort();
  join();
}

driver_status executor_driver::start() {
  auto& d = *impl_;
  {
    std::lock_guard<std::mutex> guard{d.mtx};
    if (d.state != driver_status::not_started)
      return d.state;
    if (!d.env_error.empty()) {
      d.abort_reason = d.env_error;
      d.state = driver_status::aborted;
      return d.state;
    }
  }
  if (!d.agent) {
    // Blocking connect: we are on the caller's thread, not inside an actor. The agent that started us is
    // already listening; a few attempts cover a busy agent.
    std::string last_error;
    auto deadline = std::chrono::steady_clock::now() + d.opts.registration_timeout;
    for (;;) {
      auto res = connect_actor<agent_actor>(*d.sys, d.env.agent_host, d.env.agent_port);
      if (res) {
        d.agent = std::move(*res);
        break;
      }
      last_error = d.sys->render(res.error());
      if (std::chrono::steady_clock::now() >= deadline) {
        std::lock_guard<std::mutex> guard{d.mtx};
        d.abort_reason = "cannot connect to the agent at " + d.env.agent_host + ":"
                         + std::to_string(d.env.agent_port) + ": " + last_error;
        d.state = driver_status::aborted;
        d.exec->error(*this, d.abort_reason);
        return d.state;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
  {
    std::lock_guard<std::mutex> guard{d.mtx};
    d.state = driver_status::running;
  }
  auto hdl = d.sys->spawn(driver_fn, impl_.get());
  std::lock_guard<std::mutex> guard{d.mtx};
  d.actor = hdl;
  return d.state;
}

driver_status executor_driver::stop() {
  auto& d = *impl_;
  std::lock_guard<std::mutex> guard{d.mtx};
  if (d.state != driver_status::running)
    return d.state;
  caf::anon_send(d.actor, atom::teardown_v);
  return d.state;
}

driver_status executor_driver::abort() {
  auto& d = *impl_;
  std::lock_guard<std::mutex> guard{d.mtx};
  if (d.state != driver_status::running)
    return d.state;
  if (d.abort_reason.empty())
    d.abort_reason = "aborted by the executor";
  caf::anon_send_exit(d.actor, caf::exit_reason::kill);
  return d.state;
}

driver_status executor_driver::join() {
  auto& d = *impl_;
  std::unique_lock<std::mutex> guard{d.mtx};
  d.cv.wait(guard, [&] { return d.state != driver_status::running; });
  return d.state;
}

driver_status executor_driver::run() {
  auto st = start();
  if (st != driver_status::running)
    return st;
  return join();
}

driver_status executor_driver::send_status_update(task_status status) {
  auto& d = *impl_;
  std::lock_guard<std::mutex> guard{d.mtx};
  if (d.state != driver_status::running)
    return d.state;
  caf::anon_send(d.actor, atom::update_v, std::move(status));
  return d.state;
}

driver_status executor_driver::send_framework_message(std::string data) {
  auto& d = *impl_;
  std::lock_guard<std::mutex> guard{d.mtx};
  if (d.state != driver_status::running)
    return d.state;
  caf::anon_send(d.actor, atom::exec_msg_v, std::move(data));
  return d.state;
}

driver_status executor_driver::status() const {
  return impl_->current();
}

std::string executor_driver::abort_reason() const {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  return impl_->abort_reason;
}

const executor_environment& executor_driver::environment() const {
  return impl_->env;
}

caf::actor_system& executor_driver::system() {
  return *impl_->sys;
}

} // namespace mesoscaf
