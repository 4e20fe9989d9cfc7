#pragma once
// Writing a framework: two styles.
//
// 1. Callbacks (Mesos style). Derive from `scheduler`, override the callbacks you need, and run a
//    `scheduler_driver`:
//
//      struct my_scheduler : mesoscaf::scheduler {
//        void resource_offers(scheduler_driver* d, const std::vector<offer>& offers) override {
//          for (auto& o : offers) { ... d->launch_tasks({o.id}, {task}); }
//        }
//        void status_update(scheduler_driver* d, const task_status& s) override {
//          if (s.state == task_state::finished) d->stop();
//        }
//      };
//      my_scheduler sched;
//      framework_info fw; fw.name = "my-framework";
//      scheduler_driver driver{&sched, fw, "127.0.0.1:5050"};       // owns its own actor system
//      return driver.run() == driver_status::stopped ? 0 : 1;
//
//    Callbacks run one at a time on the driver's internal actor (the "driver adapter"), never concurrently.
//    They must not block for long (they hold a scheduler thread) and must not call join()/run().
//    Every driver method is thread-safe and may be called from callbacks or from any other thread: it only
//    sends a message to the adapter. Status updates are acknowledged automatically after `status_update`
//    returns (implicit acknowledgements), unless `driver_options::implicit_acknowledgements` is false; then call
//    `acknowledge_status_update`.
//
// 2. A typed actor. A scheduler can be any actor implementing `scheduler_actor` (actors/interfaces.hpp):
//
//      scheduler_actor::behavior_type my_sched(scheduler_actor::stateful_pointer<my_state> self, master_actor m) {
//        self->request(m, 5s, atom::subscribe_v, fw, caf::actor_cast<scheduler_actor>(self))
//          .then([=](const framework_id& id) { self->state.id = id; },
//                [=](const caf::error& e) { self->quit(e); });
//        self->monitor(m);   // down_msg = master gone
//        return {
//          [=](atom::offers, const std::vector<offer>& os) { ... self->send(m, atom::accept_v, id, ids, ops, filters{}); },
//          [=](atom::rescind, const offer_id&) {},
//          [=](atom::update, const task_status& s) {
//            ...; if (!s.uuid.empty()) self->send(m, atom::ack_v, id, s.agent, s.task, s.uuid); },
//          [=](atom::fw_msg, const agent_id&, const executor_id&, const std::string&) {},
//          [=](atom::agent_lost, const agent_id&) {},
//          [=](atom::exec_lost, const executor_id&, const agent_id&, int32_t) {},
//          [=](atom::error, const std::string& what) {},
//          [=](atom::replaced, const framework_id&) { self->quit(); },  // another scheduler took over
//        };
//      }
//
//    The actor must acknowledge every update with a non-empty uuid (master `ack`), or the agent resends it.
//    To reach a remote master from inside an actor, use the middleman's `connect_atom` (never the blocking
//    `remote_actor`); see apps/examples/example_actor_scheduler.cpp for a complete program.
//
// Heavy CAF headers stay out of this header: users include it. The driver is a pimpl.
#include "actors/interfaces.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace caf {
class actor_system;
}

namespace mesoscaf {

class master_detector;
class scheduler_driver;

enum class driver_status {
  not_started,
  running,
  stopped,  // stop() was called (or the adapter finished normally)
  aborted,  // abort(), a failed connection or subscription, or an exception in a callback
};

const char* to_string(driver_status s);

/// Mesos-style callbacks. Defaults do nothing, except `resource_offers`, which declines every offer
/// (an unanswered offer would hold its resources until rescinded).
class scheduler {
public:
  virtual ~scheduler();
  /// Subscribed (again, after a reconnect) with this framework ID.
  virtual void registered(scheduler_driver* driver, const framework_id& id);
  virtual void resource_offers(scheduler_driver* driver, const std::vector<offer>& offers);
  virtual void offer_rescinded(scheduler_driver* driver, const offer_id& id);
  virtual void status_update(scheduler_driver* driver, const task_status& status);
  virtual void framework_message(scheduler_driver* driver, const agent_id& agent, const executor_id& executor,
                                 const std::string& data);
  /// Lost the master (it went down, or the detector named another leader); the driver reconnects (to the leader
  /// the detector names: host:port, zk:// or a given detector), re-subscribes with its framework ID and calls
  /// `registered` again. The master keeps a framework whose scheduler went away for its
  /// `framework_info::failover_timeout`; with a timeout of 0 (or once it expired) the framework is removed and the
  /// re-subscription is refused: the driver then reports `error` and aborts. Reconnecting also succeeds against a
  /// restarted master.
  virtual void disconnected(scheduler_driver* driver);
  virtual void agent_lost(scheduler_driver* driver, const agent_id& agent);
  virtual void executor_lost(scheduler_driver* driver, const executor_id& executor, const agent_id& agent,
                             int status);
  /// The master refused something, or the driver could not connect/subscribe, or another scheduler took the
  /// framework over ("framework failed over to another scheduler"); in the last two cases the driver aborts.
  virtual void error(scheduler_driver* driver, const std::string& message);
};

struct driver_options {
  /// Acknowledge each status update automatically after `status_update` returns.
  bool implicit_acknowledgements = true;
  /// Timeout of one connection attempt and of the subscribe request.
  std::chrono::milliseconds request_timeout{5000};
  /// Connection attempts before giving up on the first connection (error + abort); 500 ms apart. Only for a
  /// fixed master (host:port or a master_actor); a master that refuses as standby is retried without counting.
  int connect_attempts = 10;
  /// Following an elected leader (a `zk://` master or a given detector), the first subscription may take this
  /// long (0 = forever): no leader named yet, a named leader that cannot be reached (it may have died and the
  /// detector not noticed yet: up to a ZooKeeper session timeout), standby refusals are all retried 500 ms apart
  /// meanwhile; then `error` and abort. After the first subscription the driver follows the leader forever.
  std::chrono::milliseconds leader_timeout{60000};
  /// ZooKeeper session timeout of the driver's own detector for a `zk://` master.
  std::chrono::milliseconds zk_session_timeout{10000};
  /// After losing an established connection: reconnect forever with this back-off (doubling, capped at 5 s).
  std::chrono::milliseconds reconnect_backoff{250};
};

class scheduler_driver {
public:
  /// Connects to the master at "host:port", or to the leader of "zk://host:port[,host:port...]/path"; the driver
  /// owns an actor system of its own.
  scheduler_driver(scheduler* sched, framework_info framework, std::string master, driver_options opts = {});
  /// Connects to the master at "host:port" (or the leader of a zk:// URL) through `sys` (which must have our types
  /// and the middleman loaded).
  scheduler_driver(caf::actor_system& sys, scheduler* sched, framework_info framework, std::string master,
                   driver_options opts = {});
  /// Follows the leader `detector` names (actors/ha/leader_election.hpp: ZooKeeper, in-process election). The driver
  /// watches it from start() on and close()s it when it ends: give each driver a detector of its own.
  scheduler_driver(caf::actor_system& sys, scheduler* sched, framework_info framework,
                   std::shared_ptr<master_detector> detector, driver_options opts = {});
  /// Uses a master in the same actor system (local_cluster, tests).
  scheduler_driver(caf::actor_system& sys, scheduler* sched, framework_info framework, master_actor master,
                   driver_options opts = {});
  /// stop()s (unless already stopped/aborted) and joins.
  ~scheduler_driver();

  scheduler_driver(const scheduler_driver&) = delete;
  scheduler_driver& operator=(const scheduler_driver&) = delete;

  /// Starts connecting; returns `running`, or `aborted` if the master address (host:port or zk:// URL) is
  /// malformed.
  driver_status start();
  /// Ends the driver. Without failover the framework is torn down at the master (its tasks are killed);
  /// with failover nothing is sent: the framework stays registered for `framework_info::failover_timeout`, its
  /// tasks keep running and a new scheduler may subscribe with `id()` to take it over.
  driver_status stop(bool failover = false);
  /// Ends the driver without telling the master (the master then treats it like stop(true)).
  driver_status abort();
  /// Blocks until the driver is stopped or aborted. Never call from a callback.
  driver_status join();
  /// start() + join().
  driver_status run();

  /// Launches tasks on these offers (all on one agent). Empty `tasks` declines the offers.
  /// Tasks whose `agent` is empty get the agent of the first offer.
  driver_status launch_tasks(const std::vector<offer_id>& offers, const std::vector<task_info>& tasks,
                             const filters& f = {});
  /// Uses these offers (all on one agent, for one role) for operations applied in order: RESERVE / UNRESERVE /
  /// CREATE / DESTROY and LAUNCH (which may use what earlier operations produced, e.g. a new volume). If one
  /// conversion is refused, nothing happens: `error` is called and the tasks come back as TASK_DROPPED.
  /// Tasks whose `agent` is empty get the agent of the first offer.
  driver_status accept_offers(const std::vector<offer_id>& offers, const std::vector<offer_operation>& operations,
                              const filters& f = {});
  driver_status decline_offer(const offer_id& id, const filters& f = {});
  /// All of the framework's roles.
  driver_status revive_offers();
  driver_status suppress_offers();
  /// Only these roles (each must be one of the framework's; empty = all).
  driver_status revive_offers(const std::vector<std::string>& roles);
  driver_status suppress_offers(const std::vector<std::string>& roles);
  /// UPDATE_FRAMEWORK: new roles, capabilities, failover timeout, name or labels (the ID, user, principal and
  /// checkpointing stay). Offers for roles left are rescinded; offers in new roles follow. A refusal arrives as
  /// error(); the framework stays subscribed with its old settings then.
  driver_status update_framework(const framework_info& info);
  driver_status kill_task(const task_id& id);
  /// Kill with this grace period between SIGTERM and SIGKILL instead of the task's own kill policy.
  driver_status kill_task(const task_id& id, const kill_policy& policy);
  driver_status send_framework_message(const agent_id& agent, const executor_id& executor,
                                       const std::string& data);
  /// Only needed with `implicit_acknowledgements == false`.
  driver_status acknowledge_status_update(const task_status& status);
  /// Asks the master for the state of tasks; the answers arrive as `status_update` callbacks (source master,
  /// reason reconciliation, no uuid: nothing to acknowledge). Empty: implicit (every task the master knows of
  /// this framework); otherwise explicit: each status names a task and, if known, its agent. Per Mesos: a
  /// known task -> its latest state; an unknown task on a registered agent -> TASK_GONE, on an unreachable
  /// agent -> TASK_UNREACHABLE, on an unknown agent -> TASK_UNKNOWN (frameworks that are not PARTITION_AWARE get
  /// TASK_LOST instead of these three). Dropped while not subscribed (call it from `registered`).
  driver_status reconcile_tasks(const std::vector<task_status>& statuses = {});

  driver_status status() const;
  /// Empty until registered.
  framework_id id() const;
  /// The reason of an abort (connection failure etc.), empty otherwise.
  std::string abort_reason() const;

  struct impl;

private:
  std::unique_ptr<impl> impl_;
};

} // namespace mesoscaf
