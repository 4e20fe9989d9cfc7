// The agent and its master: following the detector's leader, connecting, registering (a new agent) or
// re-registering (an agent with an ID, with everything it runs), retrying with backoff, and noticing a master that
// is gone or no longer counts this agent as registered.
#include "actors/agent/agent_state.hpp"
#include "actors/tls.hpp"

#include "config/support/logging.hpp"

#include <memory>

#include <caf/io/middleman.hpp>
#include <caf/io/middleman_actor.hpp>

#include <set>

namespace mesoscaf::agent_internal {

namespace {

void schedule_retry(agent_ptr self) {
  auto& st = self->state;
  if (st.backoff < st.opts.registration_backoff_min)
    st.backoff = st.opts.registration_backoff_min;
  st.next_attempt = now(self) + st.backoff;
  st.backoff = std::min(st.backoff * 2, st.opts.registration_backoff_max);
}

// The registration the agent had is over (the master says so, or stopped pinging): register again.
void register_again(agent_ptr self) {
  auto& st = self->state;
  st.registered = false;
  ++st.master_generation;  // replies to anything sent under the old registration are stale
  st.backoff = st.opts.registration_backoff_min;
  try_register(self);
}

// The master registered us under a new ID: it removed the old agent and reported its tasks lost, and offers
// all our resources again. Whatever still runs for the old incarnation must go, and its unacknowledged
// updates would only be dropped by the master (they belong to an agent it no longer knows).
// Also when the master refuses a re-registration (`new_id` empty): the agent then registers as a new agent.
void forget_old_incarnation(agent_ptr self, const agent_id& old_id, const agent_id& new_id) {
  auto& st = self->state;
  LOG_WARN(component, (new_id.empty() ? std::string{"the master refused to re-register this agent"}
                                      : "the master registered this agent under a NEW agent ID " + new_id.str())
                        << " (was " << old_id << "): shutting down " << st.executors.size()
                        << " executor(s), dropping " << st.tasks.size() << " task(s) and " << st.updates.pending()
                        << " unacknowledged update(s) of the old agent, which the master considers lost");
  for (auto& [fw, fi] : st.frameworks)
    if (fi.checkpoint)
      disk_forget(self, framework_dir(fw));
  for (auto& [key, e] : st.executors) {
    e.framework_removed = true;  // the master never knew these executors under the new ID: no exec_lost
    e.queued.clear();
    if (e.state != executor_entry::phase::terminating)
      shutdown_executor(self, e);
  }
  st.tasks.clear();
  st.frameworks.clear();
  st.updates = status_update_manager{st.opts.update_retry_min, st.opts.update_retry_max};
}

void on_registered(agent_ptr self, const agent_id& id, bool reregistered) {
  auto& st = self->state;
  if (!st.id.empty() && st.id != id)
    forget_old_incarnation(self, st.id, id);
  st.id = id;
  st.registered = true;
  st.backoff = st.opts.registration_backoff_min;
  LOG_INFO(component, (reregistered ? "re-registered" : "registered") << " with the master as agent " << id);
  // The head of every stream (recorded while unregistered, lost with the previous master, or recovered) goes out
  // once the agent record is written: disk jobs run in order, so every update taken over before is on disk too.
  auto gen = st.master_generation;
  // A record that cannot be written now (a full disk) is retried; the heads go out anyway, once.
  auto sent = std::make_shared<bool>(false);
  auto send_heads = [=](const std::string&) {
    auto& st = self->state;
    if (*sent || gen != st.master_generation || !st.registered)
      return;  // sent already, or the next registration sends them
    *sent = true;
    send_to_master(self, st.updates.heads(now(self)));
  };
  disk_write(self, agent_record_path(), agent_record_frame(st), false, false, send_heads, send_heads);
}

// What an agent that has an ID tells the master when it (re-)registers: everything it runs.
agent_reregistration make_reregistration(agent_ptr self, const agent_info& info) {
  auto& st = self->state;
  agent_reregistration r;
  r.info = info;
  r.info.id = st.id;
  std::set<framework_id> used;
  for (auto& [key, e] : st.executors) {
    if (e.state == executor_entry::phase::terminating)
      continue;
    used.insert(key.first);
    if (master_tracks(e)) {
      r.executors.push_back(e.info);
      if (e.info.type == executor_type::default_executor)
        r.executors.back().command = command_info{};  // ours, not the framework's: as the master knows it
    }
  }
  for (auto& [key, t] : st.tasks) {
    used.insert(key.first);
    reregistered_task rt;
    rt.framework = key.first;
    rt.info = t.info;
    rt.state = st.updates.latest_state(key.first, key.second).value_or(t.state);
    r.tasks.push_back(std::move(rt));
  }
  for (auto& fw : used)
    if (auto f = st.frameworks.find(fw); f != st.frameworks.end())
      r.frameworks.push_back(f->second);
  return r;
}

// -- connecting -----------------------------------------------------------------------------------------

void on_connected(agent_ptr self, const std::string& where, caf::strong_actor_ptr& ptr,
                  const std::set<std::string>& ifs) {
  auto& st = self->state;
  st.connecting = false;
  if (!ptr) {
    LOG_WARN(component, "no actor published at " << where);
    schedule_retry(self);
    return;
  }
  if (!self->system().assignable<master_actor>(ifs)) {
    LOG_ERROR(component, "the actor at " << where << " is not a mesoscaf master");
    schedule_retry(self);
    return;
  }
  st.master = caf::actor_cast<master_actor>(std::move(ptr));
  ++st.master_generation;
  self->monitor(st.master);
  try_register(self);
}

void connect_to_master(agent_ptr self) {
  auto& st = self->state;
  st.connecting = true;
  auto gen = st.master_generation;
  auto mm = network_actor(self->system());
  auto where = st.target.endpoint();
  // Answers for an older master, or arriving while the agent stops, are stale.
  auto stale = [=] { return gen != self->state.master_generation || self->state.shutting_down; };
  LOG_DEBUG(component, "connecting to master at " << where);
  self->request(mm, st.opts.request_timeout, caf::connect_atom::value, st.target.host, st.target.port)
    .then(
      [=](const caf::node_id&, caf::strong_actor_ptr& ptr, const std::set<std::string>& ifs) {
        if (!stale())
          on_connected(self, where, ptr, ifs);
      },
      [=](caf::error& err) {
        if (stale())
          return;
        self->state.connecting = false;
        LOG_WARN(component, "cannot connect to master at " << where << ": " << render(self, err));
        schedule_retry(self);
      });
}

// -- registering ----------------------------------------------------------------------------------------

// The master's answer to reg_agent / rereg_agent; stale if the master changed or the agent stops meanwhile.
void on_registration_answer(agent_ptr self, uint64_t gen, const agent_id& id, bool reregistered) {
  auto& st = self->state;
  if (gen != st.master_generation || st.shutting_down)
    return;
  st.registering = false;
  if (id.empty()) {
    LOG_ERROR(component, "master answered the " << (reregistered ? "re-registration" : "registration")
                                                << " with an empty agent ID");
    schedule_retry(self);
    return;
  }
  on_registered(self, id, reregistered);
}

void on_reregistration_error(agent_ptr self, uint64_t gen, const caf::error& err) {
  auto& st = self->state;
  if (gen != st.master_generation || st.shutting_down)
    return;
  st.registering = false;
  if (err == caf::sec::unavailable_or_would_block) {
    // A standby master: not a refusal. Retry until it leads or the detector names another leader.
    LOG_WARN(component, "master " << st.target.endpoint() << " does not lead (" << render(self, err)
                                  << "); retrying, keeping every task");
    schedule_retry(self);
    return;
  }
  if (err != caf::sec::invalid_argument) {
    // Timeouts, lost links, a master going down: not an answer, try again (forgetting would kill tasks).
    LOG_WARN(component, "re-registration failed: " << render(self, err));
    schedule_retry(self);
    return;
  }
  // The master answered: it does not take this agent back. Start over as a new agent.
  LOG_WARN(component, "the master refused the re-registration: " << render(self, err));
  forget_old_incarnation(self, st.id, agent_id{});
  st.id = agent_id{};
  try_register(self);
}

void on_registration_error(agent_ptr self, uint64_t gen, const caf::error& err) {
  auto& st = self->state;
  if (gen != st.master_generation || st.shutting_down)
    return;
  st.registering = false;
  if (err == caf::sec::unavailable_or_would_block)
    LOG_WARN(component, "master " << st.target.endpoint() << " does not lead (" << render(self, err)
                                  << "); retrying");
  else
    LOG_WARN(component, "registration failed: " << render(self, err));
  schedule_retry(self);
}

agent_info info_of(const agent_state& st) {
  agent_info info;
  info.hostname = st.opts.hostname;
  info.port = st.opts.advertise_port != 0 ? st.opts.advertise_port : st.opts.port;
  info.address = st.opts.advertise_ip;
  info.http_port = st.opts.http_port;
  info.total = st.total;
  info.attributes = st.opts.attributes;
  return info;
}

// Sends reg_agent, or for an agent with an ID (recovered, reconnected, back from a partition) rereg_agent with
// everything it runs, so that the master can reconcile its view with ours.
void send_registration(agent_ptr self) {
  auto& st = self->state;
  st.registering = true;
  auto gen = st.master_generation;
  if (st.id.empty()) {
    self->request(st.master, st.opts.request_timeout, atom::reg_agent_v, info_of(st), me(self))
      .then([=](const agent_id& id) { on_registration_answer(self, gen, id, false); },
            [=](caf::error& err) { on_registration_error(self, gen, err); });
    return;
  }
  auto rereg = make_reregistration(self, info_of(st));
  LOG_INFO(component, "re-registering as agent " << st.id << " with " << rereg.tasks.size() << " task(s) and "
                                                 << rereg.executors.size() << " custom executor(s)");
  self->request(st.master, st.opts.request_timeout, atom::rereg_agent_v, std::move(rereg), me(self))
    .then([=](const agent_id& id) { on_registration_answer(self, gen, id, true); },
          [=](caf::error& err) { on_reregistration_error(self, gen, err); });
}

} // namespace

void try_register(agent_ptr self) {
  auto& st = self->state;
  if (st.registered || st.registering || st.connecting || st.shutting_down || !st.published || st.recovering)
    return;
  if (!st.master) {
    if (st.target.empty())
      return;  // no leader known: the detector's next report starts the registration
    if (st.target.handle) {
      st.master = caf::actor_cast<master_actor>(st.target.handle);
      self->monitor(st.master);
    } else {
      connect_to_master(self);
      return;
    }
  }
  send_registration(self);
}

// -- losing the master ----------------------------------------------------------------------------------

void on_master_down(agent_ptr self, const caf::error& reason) {
  auto& st = self->state;
  if (st.shutting_down) {
    st.registered = false;
    return;
  }
  LOG_WARN(component, "lost the master (" << render(self, reason) << "); registering again");
  st.registered = false;
  st.registering = false;
  st.connecting = false;
  ++st.master_generation;
  // A proxy does not heal: connect again (to whoever the detector names by then). An in-process handle is all
  // we have until the detector names another leader, so keep it.
  if (!st.target.handle)
    st.master = nullptr;
  st.backoff = st.opts.registration_backoff_min;
  schedule_retry(self);
}

// The detector named a leader (or none). A new ID means another master (or a new run of the same one): whatever
// the agent had with the old one is over. It keeps its ID, executors, tasks and pending updates, and
// re-registers with the new leader (rereg_agent with everything it runs; the head of every update stream follows
// the answer, see on_registered).
void on_leader(agent_ptr self, const master_location& loc) {
  auto& st = self->state;
  if (st.shutting_down || loc.id == st.target.id)
    return;
  if (loc.empty())
    LOG_WARN(component, "no leading master known (was " << st.target.endpoint() << "); waiting for one");
  else
    LOG_INFO(component, "leading master is now " << loc.endpoint() << " (" << loc.id << ")");
  st.target = loc;
  ++st.master_generation;  // answers and connections of the old master are stale from now on
  if (st.master)
    self->demonitor(st.master.address());
  st.master = nullptr;
  st.registered = false;
  st.registering = false;
  st.connecting = false;
  st.backoff = st.opts.registration_backoff_min;
  st.next_attempt = now(self);
  try_register(self);
}

// A registered agent that the master stopped pinging for several gaps re-registers by itself (see last_ping).
void check_master_pings(agent_ptr self, time_point t) {
  auto& st = self->state;
  if (!st.registered || st.registering || st.shutting_down || st.ping_gap.count() <= 0
      || t - st.last_ping <= 4 * st.ping_gap + std::chrono::seconds(1))
    return;
  LOG_WARN(component, "no ping from the master for "
                        << std::chrono::duration_cast<std::chrono::milliseconds>(t - st.last_ping).count()
                        << " ms (pings came every "
                        << std::chrono::duration_cast<std::chrono::milliseconds>(st.ping_gap).count()
                        << " ms): re-registering");
  st.last_ping = t;
  st.ping_gap = caf::timespan{0};  // learnt again from the next pings
  register_again(self);
}

agent_id on_ping(agent_ptr self) {
  auto& st = self->state;
  auto t = now(self);
  if (st.last_ping != time_point{})
    st.ping_gap = std::chrono::duration_cast<caf::timespan>(t - st.last_ping);
  st.last_ping = t;
  return st.id;
}

// The master does not count this agent as registered (e.g. it marked it unreachable): re-register.
void on_rereg_request(agent_ptr self) {
  auto& st = self->state;
  if (!from_master(self, "rereg_agent"))
    return;
  if (st.registering || st.recovering || st.shutting_down)
    return;
  LOG_WARN(component, "the master does not consider this agent registered: re-registering");
  register_again(self);
}

} // namespace mesoscaf::agent_internal
