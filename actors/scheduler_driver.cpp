#include "actors/scheduler_driver.hpp"

#include "config/daemon_config.hpp"
#include "config/logging.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/middleman.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <unordered_map>

namespace mesoscaf {

// -- scheduler defaults -------------------------------------------------------------------------------------

scheduler::~scheduler() = default;
void scheduler::registered(scheduler_driver*, const framework_id&) {}
void scheduler::resource_offers(scheduler_driver* driver, const std::vector<offer>& offers) {
  for (auto& o : offers)
    driver->decline_offer(o.id);
}
void scheduler::offer_rescinded(scheduler_driver*, const offer_id&) {}
void scheduler::status_update(scheduler_driver*, const task_status&) {}
void scheduler::framework_message(scheduler_driver*, const agent_id&, const executor_id&, const std::string&) {}
void scheduler::disconnected(scheduler_driver*) {}
void scheduler::agent_lost(scheduler_driver*, const agent_id&) {}
void scheduler::executor_lost(scheduler_driver*, const executor_id&, const agent_id&, int) {}
void scheduler::error(scheduler_driver*, const std::string&) {}

const char* to_string(driver_status s) {
  switch (s) {
    case driver_status::not_started: return "DRIVER_NOT_STARTED";
    case driver_status::running: return "DRIVER_RUNNING";
    case driver_status::stopped: return "DRIVER_STOPPED";
    case driver_status::aborted: return "DRIVER_ABORTED";
  }
  return "DRIVER_UNKNOWN";
}

namespace {

/// The driver adapter: implements scheduler_actor towards the master and takes the driver's commands.
/// Commands reuse protocol atoms with argument lists that differ from the scheduler_actor handlers.
using adapter_actor = scheduler_actor::extend<
  // launch_tasks: offers, tasks, filters
  caf::reacts_to<atom::accept, std::vector<offer_id>, std::vector<task_info>, filters>,
  // decline_offer
  caf::reacts_to<atom::decline, std::vector<offer_id>, filters>,
  // accept_offers: offers, operations, filters
  caf::reacts_to<atom::accept, std::vector<offer_id>, std::vector<offer_operation>, filters>,
  caf::reacts_to<atom::revive>,
  caf::reacts_to<atom::suppress>,
  caf::reacts_to<atom::revive, std::vector<std::string>>,
  caf::reacts_to<atom::suppress, std::vector<std::string>>,
  // kill_task
  caf::reacts_to<atom::kill, task_id>,
  // send_framework_message (to an executor)
  caf::reacts_to<atom::exec_msg, agent_id, executor_id, std::string>,
  // explicit acknowledgement: agent, task, uuid
  caf::reacts_to<atom::ack, agent_id, task_id, std::string>,
  // reconcile_tasks (empty: implicit)
  caf::reacts_to<atom::reconcile, std::vector<task_status>>,
  // stop(failover)
  caf::reacts_to<atom::teardown, bool>,
  // (re)connect to the master
  caf::reacts_to<atom::connect>>;

} // namespace

struct scheduler_driver::impl {
  // Declared first so that they are destroyed last (after the adapter handle).
  std::unique_ptr<framework_config> own_cfg;
  std::unique_ptr<caf::actor_system> own_sys;
  caf::actor_system* sys = nullptr;

  scheduler_driver* driver = nullptr;
  scheduler* sched = nullptr;
  framework_info framework;
  std::string master_address;  // "host:port" or empty
  master_actor master_handle;  // in-process master, or null
  driver_options opts;

  mutable std::mutex mtx;
  std::condition_variable cv;
  driver_status status = driver_status::not_started;
  bool done = false;  // the adapter has terminated (or never ran)
  framework_id id;
  std::string abort_reason;

  adapter_actor adapter;

  /// Sends a command to the adapter if running; returns the status either way.
  template <class... Ts>
  driver_status command(Ts&&... xs) {
    std::lock_guard<std::mutex> guard{mtx};
    if (status == driver_status::running && adapter)
      caf::anon_send(adapter, std::forward<Ts>(xs)...);
    return status;
  }

  void set_aborted(const std::string& reason) {
    std::lock_guard<std::mutex> guard{mtx};
    if (status == driver_status::running) {
      status = driver_status::aborted;
      abort_reason = reason;
    }
  }

  void adapter_exited(const caf::error& reason) {
    std::lock_guard<std::mutex> guard{mtx};
    if (status == driver_status::running) {
      status = driver_status::aborted;
      if (abort_reason.empty())
        abort_reason = "driver actor exited: " + (own_sys ? own_sys->render(reason) : sys->render(reason));
    }
    done = true;
    cv.notify_all();
  }
};

namespace {

struct adapter_state {
  static inline const char* name = "scheduler-driver";
  scheduler_driver::impl* d = nullptr;
  master_actor master;
  bool subscribed = false;
  bool ever_subscribed = false;
  std::string host;
  uint16_t port = 0;
  int attempts = 0;
  std::chrono::milliseconds backoff{0};
  std::unordered_map<offer_id, agent_id> offers;      // outstanding offers -> their agent
  std::unordered_map<task_id, agent_id> task_agents;  // non-terminal tasks -> their agent
};

using adapter_pointer = adapter_actor::stateful_pointer<adapter_state>;

/// Runs a user callback; an exception aborts the driver instead of killing the actor silently.
template <class F>
void guarded(adapter_pointer self, const char* what, F f) {
  try {
    f();
  } catch (const std::exception& e) {
    self->state.d->set_aborted(std::string{"exception in "} + what + " callback: " + e.what());
    self->quit();
  } catch (...) {
    self->state.d->set_aborted(std::string{"unknown exception in "} + what + " callback");
    self->quit();
  }
}

void fail(adapter_pointer self, const std::string& reason) {
  LOG_ERROR("scheduler-driver", reason);
  auto d = self->state.d;
  guarded(self, "error", [&] { d->sched->error(d->driver, reason); });
  d->set_aborted(reason);
  self->quit();
}

void subscribe(adapter_pointer self) {
  auto d = self->state.d;
  framework_info fw;
  {
    std::lock_guard<std::mutex> guard{d->mtx};
    fw = d->framework;
    fw.id = d->id.empty() ? fw.id : d->id;  // re-subscribe with our ID after a reconnect (failover)
  }
  self->request(self->state.master, d->opts.request_timeout, atom::subscribe_v, fw,
                caf::actor_cast<scheduler_actor>(self))
    .then(
      [=](const framework_id& id) {
        {
          std::lock_guard<std::mutex> guard{d->mtx};
          d->id = id;
        }
        self->state.subscribed = true;
        self->state.ever_subscribed = true;
        self->state.backoff = d->opts.reconnect_backoff;
        LOG_INFO("scheduler-driver", "framework " << fw.name << " subscribed with ID " << id);
        guarded(self, "registered", [&] { d->sched->registered(d->driver, id); });
      },
      [=](const caf::error& err) {
        fail(self, "subscribing framework " + fw.name + " failed: " + self->system().render(err));
      });
}

void on_master(adapter_pointer self, master_actor m) {
  self->state.master = std::move(m);
  self->monitor(self->state.master);
  subscribe(self);
}

void connect(adapter_pointer self) {
  auto d = self->state.d;
  if (self->state.master)
    return;
  if (d->master_handle) {
    on_master(self, d->master_handle);
    return;
  }
  auto& st = self->state;
  ++st.attempts;
  auto mm = self->system().middleman().actor_handle();
  self->request(mm, d->opts.request_timeout, caf::connect_atom::value, st.host, st.port)
    .then(
      [=](const caf::node_id&, caf::strong_actor_ptr& ptr, const std::set<std::string>& ifs) {
        if (!ptr) {
          fail(self, "no actor published at " + d->master_address);
          return;
        }
        if (!self->system().assignable<master_actor>(ifs)) {
          fail(self, "the actor at " + d->master_address + " is not a mesoscaf master");
          return;
        }
        self->state.attempts = 0;
        on_master(self, caf::actor_cast<master_actor>(std::move(ptr)));
      },
      [=](const caf::error& err) {
        auto& st = self->state;
        auto what = "cannot connect to master " + d->master_address + ": " + self->system().render(err);
        if (!st.ever_subscribed && st.attempts >= d->opts.connect_attempts) {
          fail(self, what);
          return;
        }
        auto delay = st.ever_subscribed ? st.backoff : std::chrono::milliseconds{500};
        if (st.ever_subscribed)
          st.backoff = std::min(st.backoff * 2, std::chrono::milliseconds{5000});
        LOG_WARN("scheduler-driver", what << " (retrying in " << delay.count() << " ms)");
        self->delayed_send(self, delay, atom::connect_v);
      });
}

adapter_actor::behavior_type adapter_fn(adapter_pointer self, scheduler_driver::impl* d) {
  self->state.d = d;
  self->state.backoff = d->opts.reconnect_backoff;
  self->attach_functor([d](const caf::error& reason) { d->adapter_exited(reason); });
  if (!d->master_handle) {
    std::string err;
    parse_host_port(d->master_address, self->state.host, self->state.port, &err); // validated in start()
  }
  self->set_down_handler([=](caf::down_msg& dm) {
    auto& st = self->state;
    if (!st.master || dm.source != st.master.address())
      return;
    LOG_WARN("scheduler-driver", "lost the master: " << self->system().render(dm.reason));
    st.master = nullptr;
    st.subscribed = false;
    st.offers.clear();
    guarded(self, "disconnected", [&] { d->sched->disconnected(d->driver); });
    if (!d->master_handle)
      self->delayed_send(self, st.backoff, atom::connect_v);
  });
  self->send(self, atom::connect_v);
  auto fid = [d] {
    std::lock_guard<std::mutex> guard{d->mtx};
    return d->id;
  };
  // ACCEPT: the offers are used up here; tasks without an agent run on the offers' agent, and the driver
  // remembers each task's agent for kills and acknowledgements.
  auto send_accept = [self, fid](const std::vector<offer_id>& ids, std::vector<offer_operation> ops,
                                 const filters& f) {
    auto& st = self->state;
    if (!st.subscribed) {
      LOG_WARN("scheduler-driver", "accept while not subscribed: dropped");
      return;
    }
    agent_id agent;
    for (auto& id : ids) {
      auto i = st.offers.find(id);
      if (i != st.offers.end()) {
        if (agent.empty())
          agent = i->second;
        st.offers.erase(i);
      }
    }
    for (auto& op : ops)
      for (auto& t : op.tasks) {
        if (t.agent.empty())
          t.agent = agent;
        st.task_agents[t.id] = t.agent;
      }
    self->send(st.master, atom::accept_v, fid(), ids, std::move(ops), f);
  };
  return {
    // -- from the master --
    [=](atom::offers, const std::vector<offer>& offers) {
      for (auto& o : offers)
        self->state.offers[o.id] = o.agent;
      guarded(self, "resource_offers", [&] { d->sched->resource_offers(d->driver, offers); });
    },
    [=](atom::rescind, const offer_id& id) {
      self->state.offers.erase(id);
      guarded(self, "offer_rescinded", [&] { d->sched->offer_rescinded(d->driver, id); });
    },
    [=](atom::update, const task_status& status) {
      if (is_terminal(status.state))
        self->state.task_agents.erase(status.task);
      else if (!status.agent.empty())
        self->state.task_agents[status.task] = status.agent;
      guarded(self, "status_update", [&] { d->sched->status_update(d->driver, status); });
      if (d->opts.implicit_acknowledgements && !status.uuid.empty() && self->state.master)
        self->send(self->state.master, atom::ack_v, fid(), status.agent, status.task, status.uuid);
    },
    [=](atom::fw_msg, const agent_id& agent, const executor_id& executor, const std::string& data) {
      guarded(self, "framework_message", [&] { d->sched->framework_message(d->driver, agent, executor, data); });
    },
    [=](atom::agent_lost, const agent_id& agent) {
      guarded(self, "agent_lost", [&] { d->sched->agent_lost(d->driver, agent); });
    },
    [=](atom::exec_lost, const executor_id& executor, const agent_id& agent, int32_t status) {
      guarded(self, "executor_lost", [&] { d->sched->executor_lost(d->driver, executor, agent, status); });
    },
    [=](atom::error, const std::string& message) {
      guarded(self, "error", [&] { d->sched->error(d->driver, message); });
    },
    [=](atom::replaced, const framework_id& id) {
      // Another scheduler took this framework over: this one must not act for it any more (and must not tear
      // it down), so it reports the error and aborts.
      if (id != fid())
        return; // not ours (stale message): ignore
      fail(self, "framework failed over to another scheduler");
    },
    // -- from the driver --
    [=](atom::accept, const std::vector<offer_id>& ids, const std::vector<task_info>& tasks, const filters& f) {
      if (tasks.empty()) {
        // launch_tasks with no tasks is a decline (as in Mesos).
        auto& st = self->state;
        for (auto& id : ids)
          st.offers.erase(id);
        if (st.subscribed)
          self->send(st.master, atom::decline_v, fid(), ids, f);
        else
          LOG_WARN("scheduler-driver", "launch_tasks while not subscribed: dropped");
        return;
      }
      offer_operation op;
      op.type = operation_type::launch;
      op.tasks = tasks;
      send_accept(ids, std::vector<offer_operation>{std::move(op)}, f);
    },
    [=](atom::accept, const std::vector<offer_id>& ids, const std::vector<offer_operation>& given,
        const filters& f) {
      send_accept(ids, given, f);
    },
    [=](atom::decline, const std::vector<offer_id>& ids, const filters& f) {
      auto& st = self->state;
      for (auto& id : ids)
        st.offers.erase(id);
      if (st.subscribed)
        self->send(st.master, atom::decline_v, fid(), ids, f);
    },
    [=](atom::revive) {
      if (self->state.subscribed)
        self->send(self->state.master, atom::revive_v, fid());
    },
    [=](atom::suppress) {
      if (self->state.subscribed)
        self->send(self->state.master, atom::suppress_v, fid());
    },
    [=](atom::revive, const std::vector<std::string>& roles) {
      if (self->state.subscribed)
        self->send(self->state.master, atom::revive_v, fid(), roles);
    },
    [=](atom::suppress, const std::vector<std::string>& roles) {
      if (self->state.subscribed)
        self->send(self->state.master, atom::suppress_v, fid(), roles);
    },
    [=](atom::kill, const task_id& task) {
      auto& st = self->state;
      if (!st.subscribed)
        return;
      agent_id agent;
      if (auto i = st.task_agents.find(task); i != st.task_agents.end())
        agent = i->second;
      self->send(st.master, atom::kill_v, fid(), task, agent);
    },
    [=](atom::exec_msg, const agent_id& agent, const executor_id& executor, const std::string& data) {
      if (self->state.subscribed)
        self->send(self->state.master, atom::fw_msg_v, fid(), agent, executor, data);
    },
    [=](atom::ack, const agent_id& agent, const task_id& task, const std::string& uuid) {
      if (self->state.master)
        self->send(self->state.master, atom::ack_v, fid(), agent, task, uuid);
    },
    [=](atom::reconcile, const std::vector<task_status>& statuses) {
      if (self->state.subscribed)
        self->send(self->state.master, atom::reconcile_v, fid(), statuses);
      else
        LOG_WARN("scheduler-driver", "reconcile_tasks while not subscribed: dropped");
    },
    [=](atom::teardown, bool failover) {
      if (!failover && self->state.master && !fid().empty())
        self->send(self->state.master, atom::teardown_v, fid());
      self->quit();
    },
    [=](atom::connect) { connect(self); },
  };
}

} // namespace

// -- scheduler_driver ---------------------------------------------------------------------------------------

scheduler_driver::scheduler_driver(scheduler* sched, framework_info framework, std::string master,
                                   driver_options opts)
  : impl_(std::make_unique<impl>()) {
  impl_->own_cfg = std::make_unique<framework_config>();
  impl_->own_sys = std::make_unique<caf::actor_system>(*impl_->own_cfg);
  impl_->sys = impl_->own_sys.get();
  impl_->driver = this;
  impl_->sched = sched;
  impl_->framework = std::move(framework);
  impl_->master_address = std::move(master);
  impl_->opts = opts;
}

scheduler_driver::scheduler_driver(caf::actor_system& sys, scheduler* sched, framework_info framework,
                                   std::string master, driver_options opts)
  : impl_(std::make_unique<impl>()) {
  impl_->sys = &sys;
  impl_->driver = this;
  impl_->sched = sched;
  impl_->framework = std::move(framework);
  impl_->master_address = std::move(master);
  impl_->opts = opts;
}

scheduler_driver::scheduler_driver(caf::actor_system& sys, scheduler* sched, framework_info framework,
                                   master_actor master, driver_options opts)
  : impl_(std::make_unique<impl>()) {
  impl_->sys = &sys;
  impl_->driver = this;
  impl_->sched = sched;
  impl_->framework = std::move(framework);
  impl_->master_handle = std::move(master);
  impl_->opts = opts;
}

scheduler_driver::~scheduler_driver() {
  stop();
  join();
  std::lock_guard<std::mutex> guard{impl_->mtx};
  impl_->adapter = nullptr;
}

driver_status scheduler_driver::start() {
  auto& d = *impl_;
  std::unique_lock<std::mutex> guard{d.mtx};
  if (d.status != driver_status::not_started)
    return d.status;
  if (!d.master_handle) {
    std::string host, err;
    uint16_t port = 0;
    if (!parse_host_port(d.master_address, host, port, &err)) {
      d.status = driver_status::aborted;
      d.abort_reason = "bad master address: " + err;
      d.done = true;
      guard.unlock();
      d.sched->error(this, d.abort_reason);
      return driver_status::aborted;
    }
  }
  if (!d.sched) {
    d.status = driver_status::aborted;
    d.abort_reason = "no scheduler given";
    d.done = true;
    return d.status;
  }
  d.status = driver_status::running;
  d.adapter = d.sys->spawn(adapter_fn, &d);
  return d.status;
}

driver_status scheduler_driver::stop(bool failover) {
  auto& d = *impl_;
  std::lock_guard<std::mutex> guard{d.mtx};
  if (d.status == driver_status::not_started) {
    d.status = driver_status::stopped;
    d.done = true;
    return d.status;
  }
  if (d.status != driver_status::running)
    return d.status;
  d.status = driver_status::stopped;
  caf::anon_send(d.adapter, atom::teardown_v, failover);
  return d.status;
}

driver_status scheduler_driver::abort() {
  auto& d = *impl_;
  std::lock_guard<std::mutex> guard{d.mtx};
  if (d.status == driver_status::not_started) {
    d.status = driver_status::aborted;
    d.done = true;
    return d.status;
  }
  if (d.status != driver_status::running)
    return d.status;
  d.status = driver_status::aborted;
  d.abort_reason = "aborted by the framework";
  caf::anon_send_exit(d.adapter, caf::exit_reason::user_shutdown);
  return d.status;
}

driver_status scheduler_driver::join() {
  auto& d = *impl_;
  std::unique_lock<std::mutex> guard{d.mtx};
  if (d.status == driver_status::not_started)
    return d.status;
  d.cv.wait(guard, [&] { return d.done; });
  return d.status;
}

driver_status scheduler_driver::run() {
  auto st = start();
  if (st != driver_status::running)
    return st;
  return join();
}

driver_status scheduler_driver::launch_tasks(const std::vector<offer_id>& offers,
                                             const std::vector<task_info>& tasks, const filters& f) {
  return impl_->command(atom::accept_v, offers, tasks, f);
}

driver_status scheduler_driver::accept_offers(const std::vector<offer_id>& offers,
                                              const std::vector<offer_operation>& operations, const filters& f) {
  return impl_->command(atom::accept_v, offers, operations, f);
}

driver_status scheduler_driver::decline_offer(const offer_id& id, const filters& f) {
  return impl_->command(atom::decline_v, std::vector<offer_id>{id}, f);
}

driver_status scheduler_driver::revive_offers() {
  return impl_->command(atom::revive_v);
}

driver_status scheduler_driver::suppress_offers() {
  return impl_->command(atom::suppress_v);
}

driver_status scheduler_driver::revive_offers(const std::vector<std::string>& roles) {
  return impl_->command(atom::revive_v, roles);
}

driver_status scheduler_driver::suppress_offers(const std::vector<std::string>& roles) {
  return impl_->command(atom::suppress_v, roles);
}

driver_status scheduler_driver::kill_task(const task_id& id) {
  return impl_->command(atom::kill_v, id);
}

driver_status scheduler_driver::send_framework_message(const agent_id& agent, const executor_id& executor,
                                                       const std::string& data) {
  return impl_->command(atom::exec_msg_v, agent, executor, data);
}

driver_status scheduler_driver::acknowledge_status_update(const task_status& status) {
  if (status.uuid.empty())
    return this->status();
  return impl_->command(atom::ack_v, status.agent, status.task, status.uuid);
}

driver_status scheduler_driver::reconcile_tasks(const std::vector<task_status>& statuses) {
  return impl_->command(atom::reconcile_v, statuses);
}

driver_status scheduler_driver::status() const {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  return impl_->status;
}

framework_id scheduler_driver::id() const {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  return impl_->id;
}

std::string scheduler_driver::abort_reason() const {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  return impl_->abort_reason;
}

} // namespace mesoscaf
