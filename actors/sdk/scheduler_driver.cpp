#include "actors/sdk/scheduler_driver.hpp"
#include "actors/tls.hpp"

#include "actors/sdk/framework_config.hpp"

#include "actors/ha/leader_election.hpp"
#include "config/support/network_address.hpp"
#include "config/support/logging.hpp"

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
  // update_framework
  caf::reacts_to<atom::update_fw, framework_info>,
  // kill_task (with the task's kill policy / with this one)
  caf::reacts_to<atom::kill, task_id>,
  caf::reacts_to<atom::kill, task_id, kill_policy>,
  // send_framework_message (to an executor)
  caf::reacts_to<atom::exec_msg, agent_id, executor_id, std::string>,
  // explicit acknowledgement: agent, task, uuid
  caf::reacts_to<atom::ack, agent_id, task_id, std::string>,
  // reconcile_tasks (empty: implicit)
  caf::reacts_to<atom::reconcile, std::vector<task_status>>,
  // stop(failover)
  caf::reacts_to<atom::teardown, bool>,
  // (re)connect to the master
  caf::reacts_to<atom::connect>,
  // from the detector: who leads now (empty: nobody known)
  caf::reacts_to<atom::leader, master_location>,
  // the first subscription took longer than driver_options::leader_timeout (following a leader only)
  caf::reacts_to<atom::timeout>>;

} // namespace

struct scheduler_driver::impl {
  // Declared first so that they are destroyed last (after the adapter handle).
  std::unique_ptr<framework_config> own_cfg;
  std::unique_ptr<caf::actor_system> own_sys;
  caf::actor_system* sys = nullptr;

  scheduler_driver* driver = nullptr;
  scheduler* sched = nullptr;
  framework_info framework;
  std::string master_address;  // "host:port", "zk://..." or empty
  master_actor master_handle;  // in-process master, or null
  /// Names the master to talk to: given, or made by start() (standalone for host:port and handles).
  std::shared_ptr<master_detector> detector;
  /// Following an elected leader (zk:// or a given detector): leader_timeout instead of connect_attempts.
  bool follow = false;
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
  master_location leader;       // as the detector named it last (empty: none known: wait)
  uint64_t generation = 0;      // bumped whenever `master` is dropped: answers of an older one are stale
  master_actor master;
  bool connecting = false;      // connect request in flight
  bool subscribing = false;     // subscribe request in flight
  bool retry_pending = false;   // a delayed `connect` is on its way (at most one)
  bool subscribed = false;
  bool ever_subscribed = false;
  int attempts = 0;
  std::chrono::milliseconds backoff{0};
  std::unordered_map<offer_id, agent_id> offers;      // outstanding offers -> their agent
  std::unordered_map<task_id, agent_id> task_agents;  // non-terminal tasks -> their agent
  /// Calls the scheduler made while (re)subscribing: sent, in order, once subscribed (never dropped silently).
  std::vector<std::function<void()>> held;
};

/// Calls held while not subscribed, at most (a scheduler calling in a loop while the master is away).
constexpr size_t max_held_calls = 10000;

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

void connect(adapter_pointer self);

// Tries again later: 500 ms apart until the first subscription, then with the doubling back-off. Connection
// failures against a fixed master count against connect_attempts until the first subscription; nothing else does.
void retry_later(adapter_pointer self, const std::string& what, bool counts) {
  auto& st = self->state;
  auto d = st.d;
  if (counts && !d->follow && !st.ever_subscribed && st.attempts >= d->opts.connect_attempts) {
    fail(self, what);
    return;
  }
  auto delay = st.ever_subscribed ? st.backoff : std::chrono::milliseconds{500};
  if (st.ever_subscribed)
    st.backoff = std::min(st.backoff * 2, std::chrono::milliseconds{5000});
  LOG_WARN("scheduler-driver", what << " (retrying in " << delay.count() << " ms)");
  if (!st.retry_pending) {
    st.retry_pending = true;
    self->delayed_send(self, delay, atom::connect_v);
  }
}

// Forgets the current master handle: whatever it still answers is stale.
void drop_master(adapter_pointer self) {
  auto& st = self->state;
  if (st.master)
    self->demonitor(st.master.address());
  st.master = nullptr;
  ++st.generation;
  st.connecting = false;
  st.subscribing = false;
}

/// Subscribed at the current master: the answer to `subscribe`, or the first message that named our framework
/// (offers can overtake the answer under load). Sends what the scheduler called meanwhile.
void became_subscribed(adapter_pointer self, const framework_id& id, const std::string& how) {
  auto& st = self->state;
  auto d = st.d;
  std::string name;
  {
    std::lock_guard<std::mutex> guard{d->mtx};
    d->id = id;
    name = d->framework.name;
  }
  st.subscribing = false;
  st.subscribed = true;
  st.ever_subscribed = true;
  st.attempts = 0;
  st.backoff = d->opts.reconnect_backoff;
  LOG_INFO("scheduler-driver", "framework " << name << " subscribed with ID " << id << " at master "
                                            << st.leader.endpoint() << how);
  guarded(self, "registered", [&] { d->sched->registered(d->driver, id); });
  auto held = std::move(st.held);
  st.held.clear();
  for (auto& call : held)
    if (st.subscribed)
      call();
    else
      st.held.push_back(std::move(call));   // lost the master again meanwhile (a callback may have aborted)
}

void subscribe(adapter_pointer self) {
  auto d = self->state.d;
  framework_info fw;
  {
    std::lock_guard<std::mutex> guard{d->mtx};
    fw = d->framework;
    fw.id = d->id.empty() ? fw.id : d->id;  // re-subscribe with our ID after a reconnect (failover)
  }
  auto& st = self->state;
  st.subscribing = true;
  auto gen = st.generation;
  auto where = st.leader.endpoint();
  self->request(st.master, d->opts.request_timeout, atom::subscribe_v, fw, caf::actor_cast<scheduler_actor>(self))
    .then(
      [=](const framework_id& id) {
        auto& st = self->state;
        if (gen != st.generation)
          return;  // an earlier master: the current one gets (or got) its own subscription
        if (st.subscribed) {
          // Its offers named the framework first (or a repeated subscription was answered): same ID, nothing to do.
          if (id != self->state.d->id)
            LOG_ERROR("scheduler-driver", "master " << where << " answered the subscription with " << id
                                                    << " after naming " << self->state.d->id);
          return;
        }
        became_subscribed(self, id, "");
      },
      [=](const caf::error& err) {
        auto& st = self->state;
        if (gen != st.generation)
          return;
        st.subscribing = false;
        auto why = self->system().render(err);
        if (err == caf::sec::unavailable_or_would_block) {
          // A standby master: not a refusal. Ask again until it leads or the detector names another one.
          retry_later(self, "master " + where + " does not lead: " + why, false);
          return;
        }
        if (err == caf::sec::request_timeout && st.master) {
          // A slow answer is no sign of a dead master (its death comes as a down message: heartbeats, the
          // detector): ask the same master again, with the same scheduler handle, which the master answers with
          // the same framework ID. Dropping the connection here would make the master end the framework.
          if (st.subscribed)
            return;
          LOG_WARN("scheduler-driver", "no answer to the subscription of " << fw.name << " at " << where
                                                                           << " yet; asking again");
          subscribe(self);
          return;
        }
        if (err == caf::sec::request_timeout || err == caf::sec::request_receiver_down) {
          // The master is gone: connect again (to whoever leads by then).
          drop_master(self);
          retry_later(self, "subscribing framework " + fw.name + " at " + where + " failed: " + why, true);
          return;
        }
        fail(self, "subscribing framework " + fw.name + " failed: " + why);
      });
}

void on_master(adapter_pointer self, master_actor m) {
  self->state.master = std::move(m);
  self->monitor(self->state.master);
  subscribe(self);
}

// Connects to (or subscribes again at) the current leader, unless that is under way or done.
void connect(adapter_pointer self) {
  auto d = self->state.d;
  auto& st = self->state;
  if (st.subscribed || st.connecting || st.subscribing || st.leader.empty())
    return;
  if (st.master) {
    subscribe(self);  // after a standby refusal: same master, ask again
    return;
  }
  ++st.attempts;
  if (st.leader.handle) {
    on_master(self, caf::actor_cast<master_actor>(st.leader.handle));
    return;
  }
  st.connecting = true;
  auto gen = st.generation;
  auto where = st.leader.endpoint();
  auto mm = network_actor(self->system());
  self->request(mm, d->opts.request_timeout, caf::connect_atom::value, st.leader.host, st.leader.port)
    .then(
      [=](const caf::node_id&, caf::strong_actor_ptr& ptr, const std::set<std::string>& ifs) {
        auto& st = self->state;
        if (gen != st.generation)
          return;
        st.connecting = false;
        // A fixed address that is no master is a configuration error; a leader named by a detector may just
        // have gone (its port reused): wait for the detector.
        if (!ptr) {
          if (!d->follow)
            fail(self, "no actor published at " + where);
          else
            retry_later(self, "no actor published at " + where, true);
          return;
        }
        if (!self->system().assignable<master_actor>(ifs)) {
          if (!d->follow)
            fail(self, "the actor at " + where + " is not a mesoscaf master");
          else
            retry_later(self, "the actor at " + where + " is not a mesoscaf master", true);
          return;
        }
        on_master(self, caf::actor_cast<master_actor>(std::move(ptr)));
      },
      [=](const caf::error& err) {
        auto& st = self->state;
        if (gen != st.generation)
          return;
        st.connecting = false;
        retry_later(self, "cannot connect to master " + where + ": " + self->system().render(err), true);
      });
}

// The detector named a leader (or none). A new ID is another master (or a new run of the same one): drop the
// current one and subscribe again with our framework ID.
void on_leader(adapter_pointer self, const master_location& loc) {
  auto& st = self->state;
  auto d = st.d;
  if (loc.id == st.leader.id)
    return;
  if (loc.empty())
    LOG_WARN("scheduler-driver", "no leading master known (was " << st.leader.endpoint() << "); waiting");
  else
    LOG_INFO("scheduler-driver", "leading master is now " << loc.endpoint() << " (" << loc.id << ")");
  st.leader = loc;
  drop_master(self);
  st.attempts = 0;
  st.backoff = d->opts.reconnect_backoff;
  if (st.subscribed) {
    st.subscribed = false;
    st.offers.clear();
    guarded(self, "disconnected", [&] { d->sched->disconnected(d->driver); });
  }
  connect(self);
}

adapter_actor::behavior_type adapter_fn(adapter_pointer self, scheduler_driver::impl* d) {
  self->state.d = d;
  self->state.backoff = d->opts.reconnect_backoff;
  self->attach_functor([d](const caf::error& reason) {
    d->detector->close();
    d->adapter_exited(reason);
  });
  self->set_down_handler([=](caf::down_msg& dm) {
    auto& st = self->state;
    if (!st.master || dm.source != st.master.address())
      return;
    LOG_WARN("scheduler-driver", "lost the master " << st.leader.endpoint() << ": "
                                                    << self->system().render(dm.reason));
    drop_master(self);
    auto was_subscribed = st.subscribed;
    st.subscribed = false;
    st.offers.clear();
    if (was_subscribed)
      guarded(self, "disconnected", [&] { d->sched->disconnected(d->driver); });
    // A proxy does not heal: connect again (to whoever leads by then). A dead in-process handle cannot come
    // back: wait for the detector to name another leader.
    if (!st.leader.handle)
      retry_later(self, "lost the master", false);
  });
  // The detector's callbacks run on any thread: they only post to the adapter (weakly: never keep it alive).
  auto weak = self->address();
  d->detector->watch([weak](const master_location& loc) {
    // Sent as the adapter itself: leader news is taken only from this process (a peer naming another "master"
    // would make the scheduler subscribe there).
    if (auto adapter = caf::actor_cast<adapter_actor>(weak))
      caf::send_as(adapter, adapter, atom::leader_v, loc);
  });
  if (d->follow && d->opts.leader_timeout.count() > 0)
    self->delayed_send(self, d->opts.leader_timeout, atom::timeout_v);
  auto fid = [d] {
    std::lock_guard<std::mutex> guard{d->mtx};
    return d->id;
  };
  // A call for the master: sent now if subscribed, else held and sent once subscribed (in order).
  auto call_master = [self](const char* what, std::function<void()> call) {
    auto& st = self->state;
    if (st.subscribed) {
      call();
    } else if (st.held.size() < max_held_calls) {
      st.held.push_back(std::move(call));
    } else {
      LOG_ERROR("scheduler-driver", what << " while not subscribed: " << max_held_calls
                                         << " calls wait already; this one is dropped");
    }
  };
  // ACCEPT: the offers are used up here; tasks without an agent run on the offers' agent, and the driver
  // remembers each task's agent for kills and acknowledgements.
  auto send_accept = [self, fid, d](const std::vector<offer_id>& ids, std::vector<offer_operation> ops,
                                    const filters& f) {
    auto& st = self->state;
    if (!st.subscribed) {
      // The offers died with the subscription (the master rescinds them). Nothing of it reached an agent: the
      // scheduler hears so for every task, as from Mesos' driver (TASK_DROPPED, or TASK_LOST if the framework
      // is not partition-aware), and can launch them again on new offers.
      bool partition_aware = false;
      {
        std::lock_guard<std::mutex> guard{d->mtx};
        partition_aware = is_partition_aware(d->framework);
      }
      for (auto& op : ops) {
        if (!launches_tasks(op.type)) {
          LOG_WARN("scheduler-driver", "accept while not subscribed: an operation (type "
                                         << static_cast<int>(op.type) << ") on void offers is dropped");
          continue;
        }
        for (auto& t : op.tasks) {
          task_status s;
          s.task = t.id;
          s.agent = t.agent;
          s.state = partition_aware ? task_state::dropped : task_state::lost;
          s.reason = task_reason::master_disconnected;
          s.source = status_source::master;
          s.message = "launch dropped: the driver is not subscribed (its offers are void); nothing ran";
          guarded(self, "status_update", [&] { d->sched->status_update(d->driver, s); });
        }
      }
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
      auto& st = self->state;
      if (!st.subscribed) {
        // Offers from the master we are subscribing with, naming our framework: it subscribed us, and its answer
        // is still on the way (or late). Anything else is a stale offer of an earlier master: void.
        auto sender = self->current_sender();
        bool ours = !offers.empty() && st.subscribing && st.master && sender != nullptr
                    && sender->address() == st.master.address()
                    && (fid().empty() || offers.front().framework == fid());
        if (!ours) {
          LOG_DEBUG("scheduler-driver", offers.size() << " offer(s) while not subscribed: void, ignored");
          return;
        }
        became_subscribed(self, offers.front().framework, " (its offers came first)");
      }
      for (auto& o : offers)
        st.offers[o.id] = o.agent;
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
      else  // void already: the master rescinded them with the subscription
        LOG_DEBUG("scheduler-driver", "decline of " << ids.size() << " void offer(s) while not subscribed");
    },
    [=](atom::revive) {
      call_master("revive", [=] { self->send(self->state.master, atom::revive_v, fid()); });
    },
    [=](atom::suppress) {
      call_master("suppress", [=] { self->send(self->state.master, atom::suppress_v, fid()); });
    },
    [=](atom::revive, const std::vector<std::string>& roles) {
      call_master("revive", [=] { self->send(self->state.master, atom::revive_v, fid(), roles); });
    },
    [=](atom::suppress, const std::vector<std::string>& roles) {
      call_master("suppress", [=] { self->send(self->state.master, atom::suppress_v, fid(), roles); });
    },
    [=](atom::kill, const task_id& task) {
      call_master("kill", [=] {
        auto& st = self->state;
        agent_id agent;
        if (auto i = st.task_agents.find(task); i != st.task_agents.end())
          agent = i->second;
        self->send(st.master, atom::kill_v, fid(), task, agent);
      });
    },
    [=](atom::update_fw, framework_info info) {
      {
        // Also what a later re-subscription (master failover) sends.
        std::lock_guard<std::mutex> guard{self->state.d->mtx};
        info.id = self->state.d->framework.id;
        self->state.d->framework = info;
      }
      call_master("update_framework", [=] {
        auto updated = info;
        updated.id = fid();
        self->send(self->state.master, atom::update_fw_v, updated);
      });
    },
    [=](atom::kill, const task_id& task, const kill_policy& policy) {
      call_master("kill", [=] {
        auto& st = self->state;
        agent_id agent;
        if (auto i = st.task_agents.find(task); i != st.task_agents.end())
          agent = i->second;
        self->send(st.master, atom::kill_v, fid(), task, agent, policy);
      });
    },
    [=](atom::exec_msg, const agent_id& agent, const executor_id& executor, const std::string& data) {
      call_master("send_framework_message",
                  [=] { self->send(self->state.master, atom::fw_msg_v, fid(), agent, executor, data); });
    },
    [=](atom::ack, const agent_id& agent, const task_id& task, const std::string& uuid) {
      if (self->state.master)
        self->send(self->state.master, atom::ack_v, fid(), agent, task, uuid);
    },
    [=](atom::reconcile, const std::vector<task_status>& statuses) {
      call_master("reconcile_tasks", [=] { self->send(self->state.master, atom::reconcile_v, fid(), statuses); });
    },
    [=](atom::teardown, bool failover) {
      if (!failover && self->state.master && !fid().empty())
        self->send(self->state.master, atom::teardown_v, fid());
      self->quit();
    },
    [=](atom::connect) {
      self->state.retry_pending = false;
      connect(self);
    },
    [=](atom::leader, const master_location& loc) {
      auto& src = self->current_sender();
      if (src && src->node() == self->node())
        on_leader(self, loc);
      else
        LOG_WARN("scheduler-driver", "ignoring leader news from " << (src ? "a remote actor" : "an anonymous sender")
                                                                << ": only the driver's own detector sends it");
    },
    [=](atom::timeout) {
      auto& st = self->state;
      if (st.ever_subscribed)
        return;
      fail(self, "no leading master accepted the subscription within "
                   + std::to_string(d->opts.leader_timeout.count()) + " ms (" + d->detector->describe()
                   + "; leader: " + (st.leader.empty() ? std::string{"none named"} : st.leader.endpoint()) + ")");
    },
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

scheduler_driver::scheduler_driver(caf::actor_system& sys, scheduler* sched, framework_info framework,
                                   std::shared_ptr<master_detector> detector, driver_options opts)
  : impl_(std::make_unique<impl>()) {
  impl_->sys = &sys;
  impl_->driver = this;
  impl_->sched = sched;
  impl_->framework = std::move(framework);
  impl_->detector = std::move(detector);
  impl_->follow = true;
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
  // Every mode goes through a detector: a fixed master is a standalone one that names it forever.
  std::string bad;
  if (d.detector) {
    // given: follows it
  } else if (d.master_handle) {
    master_location loc;
    loc.id = "in-process master " + std::to_string(d.master_handle.id());
    loc.handle = caf::actor_cast<caf::actor>(d.master_handle);
    d.detector = make_standalone_detector(std::move(loc));
  } else if (is_zookeeper_url(d.master_address)) {
    zookeeper_options zk;
    zk.session_timeout = d.opts.zk_session_timeout;
    std::string err;
    d.detector = make_master_detector(d.master_address, zk, err);
    if (!d.detector)
      bad = err.empty() ? "cannot follow " + d.master_address : err;
    d.follow = true;
  } else {
    master_location loc;
    if (parse_host_port(d.master_address, loc.host, loc.port, &bad)) {
      loc.id = loc.endpoint();
      d.detector = make_standalone_detector(std::move(loc));
    } else if (bad.empty()) {
      bad = "expected HOST:PORT or zk://HOST:PORT[,HOST:PORT...]/PATH";
    }
  }
  if (!bad.empty() || !d.detector) {
    d.status = driver_status::aborted;
    d.abort_reason = "bad master address: " + (bad.empty() ? std::string{"no master given"} : bad);
    d.done = true;
    guard.unlock();
    if (d.sched)
      d.sched->error(this, d.abort_reason);
    return driver_status::aborted;
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

driver_status scheduler_driver::update_framework(const framework_info& info) {
  return impl_->command(atom::update_fw_v, info);
}

driver_status scheduler_driver::kill_task(const task_id& id, const kill_policy& policy) {
  return impl_->command(atom::kill_v, id, policy);
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
