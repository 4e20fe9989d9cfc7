// The agent actor: its start (components: agent_components.cpp; recovery, the detector, publishing for executors), the
// dispatcher that hands each message to its handler, the periodic tick and the shutdown. The handlers live by
// concern: agent_executors.cpp, agent_status_updates.cpp, agent_volumes.cpp, agent_registration.cpp,
// agent_recovery.cpp; the state they share in agent_state.hpp.
#include "actors/agent/agent.hpp"
#include "actors/tls.hpp"

#include "actors/agent/agent_resources.hpp"
#include "actors/agent/agent_state.hpp"
#include "config/support/connection_guard.hpp"
#include "config/support/executable_path.hpp"
#include "config/support/logging.hpp"
#include "config/support/network_address.hpp"
#include "containerizer/launcher.hpp"

#include <caf/actor_system.hpp>
#include <caf/io/middleman.hpp>
#include <caf/io/middleman_actor.hpp>
#include <caf/send.hpp>

#include <utility>

namespace mesoscaf {

const char* const command_executor_id = "command-executor";

namespace agent_internal {

void maybe_finish_shutdown(agent_ptr self) {
  auto& st = self->state;
  if (st.shutting_down && st.executors.empty()) {
    LOG_INFO(component, "all executors gone; agent exits");
    self->quit(st.exit_reason);
  }
}

namespace {

void begin_shutdown(agent_ptr self, caf::error reason) {
  auto& st = self->state;
  if (st.shutting_down)
    return;
  LOG_INFO(component, "shutting down (" << render(self, reason) << "), " << st.executors.size()
                                        << " executor(s) to stop");
  st.shutting_down = true;
  st.exit_reason = std::move(reason);
  st.quit_at = now(self) + st.opts.executor_shutdown_grace + st.opts.exit_timeout;
  for (auto& [key, e] : st.executors)
    if (e.state != executor_entry::phase::terminating)
      shutdown_executor(self, e);
  maybe_finish_shutdown(self);
}

void on_tick(agent_ptr self) {
  auto& st = self->state;
  auto t = now(self);
  check_master_pings(self, t);
  if (st.shutting_down && t >= st.quit_at) {
    LOG_WARN(component, st.executors.size() << " executor(s) did not exit in time; agent exits anyway");
    self->quit(st.exit_reason);
    return;
  }
  if (st.recovering && !st.shutting_down && t >= st.recovery_deadline)
    expire_recovery(self);
  if (!st.shutting_down) {
    if (!st.registered && !st.registering && !st.connecting && t >= st.next_attempt)
      try_register(self);
    if (st.registered)
      resend_due_updates(self, t);
  }
  expire_executors(self, t);
  restart_due_components(self, t);
  retry_due_writes(self, t);
  if (!st.shutting_down)
    watch_disk(self, t);
  self->delayed_send(self, st.opts.tick_interval, atom::tick_v);
}

agent_snapshot snapshot_of(const agent_state& st) {
  agent_snapshot snap;
  // Only once the master confirmed it (a recovered ID is not registered yet).
  if (st.registered)
    snap.id = st.id;
  snap.total = st.total;
  for (auto& [key, t] : st.tasks) {
    task_summary s;
    s.id = key.second;
    s.framework = key.first;
    s.agent = st.id;
    s.name = t.info.name;
    s.state = t.state;
    s.resources = t.info.resources;
    snap.tasks.push_back(std::move(s));
  }
  snap.executors = st.executors.size();
  snap.pending_updates = st.updates.pending();
  return snap;
}

// -- start ----------------------------------------------------------------------------------------------

void configure(agent_ptr self, agent_options opts) {
  auto& st = self->state;
  opts.executor_binary = executor_binary(opts.executor_binary);
  if (opts.tick_interval <= caf::timespan{0})
    opts.tick_interval = std::chrono::milliseconds(100);
  st.opts = std::move(opts);
  st.start_time = now_seconds();
  st.updates = status_update_manager{st.opts.update_retry_min, st.opts.update_retry_max};
  st.gc = sandbox_gc{st.opts.gc_delay, st.opts.gc_disk_headroom};
  if (st.opts.disk_watch_interval <= caf::timespan{0})
    st.opts.disk_watch_interval = std::chrono::minutes(1);
  st.next_disk_watch = now(self) + st.opts.disk_watch_interval;
  st.backoff = st.opts.registration_backoff_min;
  st.next_attempt = now(self);
  st.detector = st.opts.detector;
  st.opts.detector = nullptr;  // one owner: the state (closed when the agent exits)
  st.published = !st.opts.publish;
  st.boot_id = st.opts.boot_id;
  // Once, here: a wildcard listen address means reading the host's interfaces.
  if (st.opts.advertise_ip.empty())
    st.opts.advertise_ip = default_advertise_ip(st.opts.publish_address);
}

void on_down(agent_ptr self, const caf::down_msg& msg) {
  auto& st = self->state;
  if (st.master && msg.source == st.master.address()) {
    on_master_down(self, msg.reason);
    return;
  }
  if (on_component_down(self, msg))
    return;
  for (auto& [key, e] : st.executors) {
    if (e.handle && msg.source == e.handle.address()) {
      on_executor_down(self, e, msg.reason);
      return;
    }
  }
}

// The detector's callbacks run on any thread (ZooKeeper's own): they only post to the agent, through a weak
// reference so that the detector never keeps the agent alive.
void watch_leader(agent_ptr self) {
  auto& st = self->state;
  if (!st.detector) {
    LOG_ERROR(component, "no master configured (detector, master handle or master endpoint): not registering");
    return;
  }
  auto weak = self->address();
  st.detector->watch([weak](const master_location& loc) {
    // Sent as the agent itself: the handler takes leader news only from this process (a peer naming another
    // "master" would make the agent register with it).
    if (auto agent = caf::actor_cast<agent_actor>(weak))
      caf::send_as(agent, agent, atom::leader_v, loc);
  });
  self->attach_functor([d = st.detector](const caf::error&) { d->close(); });
}

// Executors connect to the published port; the agent registers once it is known.
void publish_then_register(agent_ptr self) {
  auto& st = self->state;
  if (!st.opts.publish) {
    try_register(self);
    return;
  }
  auto mm = network_actor(self->system());
  auto sigs = self->system().message_types<agent_actor>();
  self->request(mm, st.opts.request_timeout, caf::publish_atom::value, st.opts.port,
                caf::actor_cast<caf::strong_actor_ptr>(self), sigs, st.opts.publish_address, true)
    .then(
      [=](uint16_t port) {
        auto& st = self->state;
        st.opts.port = port;
        st.published = true;
        guard_connections(port);   // executors' connections: bounded (config/support/connection_guard.hpp)
        LOG_INFO(component, "listening for executors on " << st.opts.publish_address << ":" << port);
        try_register(self);
      },
      [=](caf::error& err) {
        LOG_ERROR(component, "cannot publish the agent on port " << self->state.opts.port << ": "
                                                                 << render(self, err));
        self->quit(err);
      });
}

} // namespace

} // namespace agent_internal

namespace {

using namespace agent_internal;

// The dispatcher: each message goes to its named handler.
agent_actor::behavior_type agent(agent_ptr self, agent_options opts,
                                 std::shared_ptr<const recovered_state> recovered, std::string startup_error) {
  auto& st = self->state;
  configure(self, std::move(opts));
  if (!startup_error.empty()) {
    LOG_ERROR(component, "cannot start: " << startup_error);
    self->quit(caf::make_error(caf::sec::runtime_error, startup_error));
    return agent_actor::behavior_type::make_empty_behavior();
  }
  // Executors of the last run reconnect to the endpoint they know.
  if (recovered && recovered->found && st.opts.publish && st.opts.port == 0)
    st.opts.port = recovered->agent.port;
  start_components(self);
  if (recovered)
    recover_state(self, *recovered);
  recovered = nullptr;
  scan_old_sandboxes(self);  // after recovery: the sandboxes of recovered executors stay
  self->set_down_handler([=](const caf::down_msg& msg) { on_down(self, msg); });
  self->set_exit_handler([=](const caf::exit_msg& msg) { begin_shutdown(self, msg.reason); });
  watch_leader(self);
  publish_then_register(self);
  self->delayed_send(self, st.opts.tick_interval, atom::tick_v);
  return {
    // -- from the master --
    [=](atom::run_task, const framework_info& fi, const task_info& ti) { on_run_task(self, fi, ti); },
    [=](atom::run_task, const framework_info& fi, const executor_info& exec, const task_group_info& group) {
      on_run_group(self, fi, exec, group);
    },
    [=](atom::kill_task, const framework_id& fw, const task_id& tid) { on_kill_task(self, fw, tid, nullptr); },
    [=](atom::kill_task, const framework_id& fw, const task_id& tid, const kill_policy& policy) {
      on_kill_task(self, fw, tid, &policy);
    },
    [=](atom::ack, const framework_id& fw, const task_id& tid, const std::string& uuid) {
      on_ack(self, fw, tid, uuid);
    },
    [=](atom::fw_msg, const framework_id& fw, const executor_id& eid, const std::string& data) {
      on_fw_msg(self, fw, eid, data);
    },
    [=](atom::apply_op, const framework_id& fw, const offer_operation& op) { on_apply_op(self, fw, op); },
    [=](atom::shutdown_fw, const framework_id& fw) { on_shutdown_framework(self, fw); },
    [=](atom::shutdown, const framework_id& fw, const executor_id& eid) { on_shutdown_executor(self, fw, eid); },
    [=](atom::shutdown, const std::string& why) {
      if (!from_master(self, "shutdown"))
        return;
      LOG_WARN(component, "the master shuts this agent down: " << why);
      // user_shutdown: the daemon exits 0 (a supervisor that restarts failed agents need not bring it back).
      begin_shutdown(self, caf::exit_reason::user_shutdown);
    },
    // -- from executors --
    [=](atom::reg_exec, const framework_id& fw, const executor_id& eid, const executor_actor& hdl,
        const std::string& secret) { return on_reg_exec(self, fw, eid, hdl, secret); },
    [=](atom::rereg_exec, const framework_id& fw, const executor_id& eid, const executor_actor& hdl,
        const std::vector<task_info>& tasks, const std::vector<status_update>& updates, const std::string& secret) {
      return on_rereg_exec(self, fw, eid, hdl, tasks, updates, secret);
    },
    [=](atom::update, const status_update& su) { on_executor_update(self, su); },
    [=](atom::exec_msg, const framework_id& fw, const executor_id& eid, const std::string& data) {
      on_exec_msg(self, fw, eid, data);
    },
    // -- internal --
    [=](atom::exited, const container_id& cid, int32_t status) { on_container_exited(self, cid, status); },
    [=](atom::tick) { on_tick(self); },
    [=](atom::leader, const master_location& loc) {
      if (from_this_process(self, "leader"))
        on_leader(self, loc);
    },
    // -- health, failover, partitions --
    [=](atom::ping) -> agent_id { return on_ping(self); },
    [=](atom::resend, const framework_id& fw) { on_resend(self, fw); },
    [=](atom::rereg_agent) { on_rereg_request(self); },
    // -- introspection --
    [=](atom::state) { return snapshot_of(self->state); },
    [=](atom::usage) { return on_usage(self); },
    [=](atom::state_page) { return state_view_of(self->state); },
    [=](atom::metrics) { return agent_metrics(self->state, now_seconds()); },
  };
}

} // namespace

std::string executor_runs_dir(const std::string& work_dir, const agent_id& agent, const framework_id& fw,
                              const executor_id& exec) {
  return sandbox_path(work_dir, {"agents", agent.str(), "frameworks", fw.str(), "executors", exec.str(), "runs"});
}

agent_actor spawn_agent(caf::actor_system& sys, agent_options opts) {
  // Blocking reads and, for cleanup, waits: here on the caller's thread, before the actor exists.
  if (opts.boot_id.empty())
    opts.boot_id = read_boot_id();
  std::string error;
  auto recovered = std::move(opts.recovered);
  opts.recovered = nullptr;
  if (!recovered) {
    auto fresh = std::make_shared<recovered_state>();
    error = load_agent_checkpoint(opts.work_dir, opts.boot_id, *fresh);
    recovered = std::move(fresh);
  }
  if (error.empty() && opts.recover == recover_mode::cleanup && recovered->found) {
    auto n = kill_recovered_executors(*recovered,
                                      std::chrono::duration_cast<std::chrono::milliseconds>(opts.container_kill_grace));
    LOG_INFO(component, "cleanup: stopped " << n << " executor(s) of the last run");
    error = clear_checkpoint(opts.work_dir);
    recovered = std::make_shared<recovered_state>();
  }
  // Reservations and volumes of an earlier run (one small read), unless the caller recovered them already.
  if (error.empty() && !opts.recovered_total) {
    resource_set total;
    error = recover_agent_resources(opts.work_dir, opts.resources, total);
    opts.recovered_total = std::move(total);
  }
  if (error.empty())
    if (auto warning = disk_exceeds_file_system(opts.work_dir, opts.resources); !warning.empty())
      LOG_WARN(component, warning);
  // One code path: without a detector, a standalone one names the configured master forever.
  if (!opts.detector) {
    master_location loc;
    if (opts.master) {
      loc.id = "in-process master " + std::to_string(opts.master.id());
      loc.handle = caf::actor_cast<caf::actor>(opts.master);
    } else if (!opts.master_host.empty()) {
      loc.host = opts.master_host;
      loc.port = opts.master_port;
      loc.id = loc.endpoint();
    }
    if (!loc.empty())
      opts.detector = make_standalone_detector(std::move(loc));
  }
  return sys.spawn(agent, std::move(opts), std::move(recovered), std::move(error));
}

} // namespace mesoscaf
