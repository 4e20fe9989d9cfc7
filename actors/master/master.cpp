#include "actors/master/master.hpp"
#include "actors/master/operator_events.hpp"

#include "actors/tls.hpp"

#include "actors/master/reconciliation.hpp"
#include "messages/task_checks.hpp"

#include "config/support/logging.hpp"
#include "config/support/network_address.hpp"

#include <caf/actor_system.hpp>
#include <caf/all.hpp>

#include <algorithm>
#include <cmath>
#include <exception>
#include <functional>
#include <unordered_map>

namespace mesoscaf {

namespace {

constexpr const char* component = "master";

caf::actor_addr sender_addr(master_pointer self) {
  return caf::actor_cast<caf::actor_addr>(self->current_sender());
}

/// Election news (elected, stepdown, leader) comes only from the contender and detector of this process, which
/// send it from a local actor (apps/mesoscaf/master_main.cpp). Anyone who reaches the master's port could send
/// it too: a forged `stepdown` made the master quit. Anonymous and remote senders are ignored.
bool from_this_process(master_pointer self, const char* what) {
  auto& src = self->current_sender();
  if (src && src->node() == self->node())
    return true;
  LOG_WARN(component, "ignored '" << what << "' from " << (src ? "a remote actor" : "an anonymous sender")
                                  << ": election news only comes from this master's own election actors");
  return false;
}

/// Who sent the current message. `local`: an actor of this process (the HTTP layer, which authorizes its own
/// requests, or the daemon itself). Otherwise the principal its node authenticated as over TLS, if any.
struct sender_identity {
  bool local = false;
  std::optional<std::string> principal;
  caf::node_id node;
};

sender_identity identify_sender(master_pointer self) {
  auto& src = self->current_sender();
  if (!src)
    return {};
  if (src->node() == self->node())
    return {true, std::nullopt, src->node()};
  return {false, node_principal(src->node()), src->node()};
}

std::string principal_text(const std::optional<std::string>& p) {
  return p ? "principal '" + *p + "'" : std::string{"an unauthenticated peer"};
}

/// Whether the sender may do `action` on `object` (--acls). Local senders are the HTTP layer (it has checked)
/// or the daemon. Refusals are logged with the principal.
bool permitted_as(master_pointer self, const std::optional<std::string>& principal, acl_action action,
                  const std::string& object) {
  if (self->state.acls.authorized(action, principal, object))
    return true;
  LOG_WARN(component, "not authorized: " << principal_text(principal) << " may not " << acl_action_name(action)
                                         << " (" << acl_object_name(action) << " '" << object << "', --acls)");
  return false;
}

bool permitted(master_pointer self, const sender_identity& who, acl_action action, const std::string& object) {
  return who.local || permitted_as(self, who.principal, action, object);
}

/// A framework's principal for ACLs: the authenticated one (bound at subscription under TLS), else the declared
/// one (as Mesos without authentication), else none.
std::optional<std::string> framework_principal(const framework_info& info) {
  if (info.principal.empty())
    return std::nullopt;
  return info.principal;
}

caf::error not_authorized(const sender_identity& who, acl_action action, const std::string& object) {
  return caf::make_error(caf::sec::invalid_argument, "not authorized: " + principal_text(who.principal) + " may not "
                                                       + acl_action_name(action) + " ("
                                                       + acl_object_name(action) + " '" + object + "')");
}

/// Under TLS a peer registers only actors of its own process: the principal belongs to that node.
bool own_actor(const sender_identity& who, const caf::node_id& actor_node) {
  return who.local || !tls_in_use() || actor_node == who.node;
}

/// A status update made by the master itself (needs no acknowledgement).
task_status master_status(const task_id& task, const agent_id& agent, task_state state, task_reason reason,
                          std::string message) {
  task_status s;
  s.task = task;
  s.agent = agent;
  s.state = state;
  s.reason = reason;
  s.message = std::move(message);
  s.source = status_source::master;
  s.timestamp = now_seconds();
  return s;
}

/// Tells the sender of the current message about a refused call, if the sender could be a scheduler
/// (agents are never sent scheduler messages: their mistakes are logged).
void refuse(master_pointer self, const std::string& what) {
  LOG_WARN(component, "refused: " << what);
  auto src = self->current_sender();
  if (!src)
    return;
  if (self->state.agent_by_addr.count(caf::actor_cast<caf::actor_addr>(src)) > 0)
    return;
  self->send(caf::actor_cast<scheduler_actor>(src), atom::error_v, what);
}

/// The framework's scheduler if it is the sender of the current message; otherwise refuses the call.
const scheduler_actor* authorize(master_pointer self, const framework_id& fid, const char* call) {
  auto& st = self->state;
  auto i = st.schedulers.find(fid);
  if (i == st.schedulers.end()) {
    refuse(self, std::string{call} + ": unknown framework " + fid.value
                   + (st.reg.was_removed(fid) ? " (it was removed)" : ""));
    return nullptr;
  }
  if (i->second.address() != sender_addr(self)) {
    refuse(self, std::string{call} + ": the sender is not the scheduler of framework " + fid.value);
    return nullptr;
  }
  return &i->second;
}

/// The ID of the registered agent that sent the current message, if `claimed` (possibly empty) matches it.
const agent_id* authorize_agent(master_pointer self, const agent_id& claimed, const char* call) {
  auto& st = self->state;
  if (!st.leading)
    return nullptr;  // standing by: agents talk to the leader (asking them to re-register here would mislead them)
  auto i = st.agent_by_addr.find(sender_addr(self));
  if (i == st.agent_by_addr.end()) {
    // E.g. an agent marked unreachable while it was frozen, or one whose connection broke: it must register
    // again with everything it runs (at most one request per health round, so retries cause no storm).
    auto src = self->current_sender();
    if (src && st.told_rereg.insert(sender_addr(self)).second) {
      LOG_INFO(component, call << " from an unregistered agent: asking it to re-register");
      self->send(caf::actor_cast<agent_actor>(src), atom::rereg_agent_v);
    } else {
      LOG_DEBUG(component, call << ": ignored, the sender is not a registered agent");
    }
    return nullptr;
  }
  if (!claimed.empty() && claimed != i->second) {
    LOG_WARN(component, call << ": ignored, agent " << i->second << " claims to be agent " << claimed);
    return nullptr;
  }
  return &i->second;
}

void send_update(master_pointer self, const framework_id& fid, task_status status) {
  auto i = self->state.schedulers.find(fid);
  if (i != self->state.schedulers.end())
    self->send(i->second, atom::update_v, std::move(status));
}

// -- leadership and the registry --------------------------------------------------------------------------

/// The answer of a master that does not serve (standing by, or elected and still recovering its registry).
/// Clients retry and follow their detector.
caf::error not_leading(master_pointer self, const char* call) {
  auto& st = self->state;
  if (st.elected)
    return caf::make_error(caf::sec::unavailable_or_would_block,
                           std::string{call} + ": the master was just elected and is recovering its registry; retry");
  return caf::make_error(caf::sec::unavailable_or_would_block,
                         std::string{call} + ": not the leading master; the leader is "
                           + (st.leader.empty() ? std::string{"unknown"} : st.leader.endpoint()));
}

/// Leadership can no longer be trusted (the contender lost its session, the registry failed): stop at once.
/// The process exits (master_main); a supervisor restarts it as a new contender.
void step_down(master_pointer self, const std::string& why) {
  LOG_ERROR(component, "stepping down: " << why);
  // Registrations waiting for the registry get an answer (CAF 0.17 drops an undelivered promise silently).
  for (auto& [aid, lists] : self->state.awaiting_durable)
    for (auto& waiters : lists)
      for (auto& rp : *waiters)
        rp.deliver(caf::make_error(caf::sec::runtime_error, "the master stepped down: " + why));
  self->state.awaiting_durable.clear();
  self->state.leading = false;
  self->state.elected = false;
  self->quit(caf::make_error(caf::sec::runtime_error, "master stepped down: " + why));
}

void send_registry_write(master_pointer self, uint64_t seq);

/// Writes one operation through the registrar; `on_durable` runs once it is durable (at once without a
/// registrar). A refused operation (the registry disagrees with our view) is logged and counts as done; a failed
/// store makes the master step down (its view and the store's may differ, as in Mesos). A registrar that died
/// is restarted and the write sent again (on_registrar_down).
void write_registry(master_pointer self, registry_operation op, std::function<void()> on_durable) {
  auto& st = self->state;
  if (!st.registrar) {
    on_durable();
    return;
  }
  auto seq = st.registry_writes.add(master_state::registry_write{std::move(op), std::move(on_durable)});
  if (st.registrar_ready)
    send_registry_write(self, seq);
}

/// Done with write `seq` (once: a write sent again may be answered twice).
void finish_registry_write(master_pointer self, uint64_t seq) {
  if (auto w = self->state.registry_writes.take(seq))
    w->on_durable();
}

void send_registry_write(master_pointer self, uint64_t seq) {
  auto& st = self->state;
  const auto& op = st.registry_writes.find(seq)->op;
  auto what = std::string{to_string(op.kind)} + " " + (op.id.empty() ? op.agent.id.value : op.id.value) + op.role;
  auto to = st.registrar.address();
  self->request(st.registrar, caf::infinite, atom::registry_v, op)
    .then([self, seq](bool) { finish_registry_write(self, seq); },
          [self, seq, what, to](caf::error& err) {
            auto& st = self->state;
            if (!st.registry_writes.find(seq))
              return;
            if (err == caf::sec::invalid_argument) {
              LOG_ERROR(component, "the registry refused " << what << ": " << self->system().render(err));
              finish_registry_write(self, seq);
              return;
            }
            // Its registrar died: the write goes to the next one (on_registrar_down), if there is one.
            bool died = err == caf::sec::request_receiver_down || to != st.registrar.address();
            if (died && st.make_registrar)
              return;
            step_down(self, "cannot write the registry (" + what + "): " + self->system().render(err));
          });
}

/// The reply to a (re-)registration: at once, or once `op` (and any earlier write for the agent) is durable.
/// `after_durable` runs once the write is durable, right after the answers went out (not for a retry).
caf::result<agent_id> reply_when_durable(master_pointer self, const agent_id& aid,
                                         std::optional<registry_operation> op,
                                         std::function<void()> after_durable = {}) {
  auto& st = self->state;
  auto pending = st.awaiting_durable.find(aid);
  if (!op && pending == st.awaiting_durable.end())
    return aid;
  auto rp = self->make_response_promise<agent_id>();
  if (!op) {
    pending->second.back()->push_back(rp);  // a retry while the admission is written
    return rp;
  }
  auto waiters = std::make_shared<std::vector<caf::typed_response_promise<agent_id>>>();
  waiters->push_back(rp);
  st.awaiting_durable[aid].push_back(waiters);
  write_registry(self, std::move(*op), [self, aid, waiters, after_durable = std::move(after_durable)] {
    auto& st = self->state;
    for (auto& w : *waiters)
      w.deliver(aid);
    if (after_durable)
      after_durable();
    auto i = st.awaiting_durable.find(aid);
    if (i == st.awaiting_durable.end())
      return;
    auto& lists = i->second;
    lists.erase(std::remove(lists.begin(), lists.end(), waiters), lists.end());
    if (lists.empty())
      st.awaiting_durable.erase(i);
  });
  return rp;
}

void arm_health(master_pointer self);

/// After a failover: once no agent of the recovered registry is left to wait for (each re-registered or was
/// marked unreachable), one line says how many came back, and the daemon is told (master_options::recovered).
void finish_recovery_if_done(master_pointer self) {
  auto& st = self->state;
  if (!st.recovery_open || !st.reg.recovering().empty())
    return;
  st.recovery_open = false;
  if (st.recovery_total > 0) {
    std::chrono::duration<double> took = std::chrono::steady_clock::now() - st.recovery_start;
    auto count = st.recovery_back == st.recovery_total
                   ? "all " + std::to_string(st.recovery_total)
                   : std::to_string(st.recovery_back) + " of " + std::to_string(st.recovery_total);
    LOG_INFO(component, count << " agent(s) of the registry re-registered after the failover, " << took.count()
                              << " s after leading began");
  }
  if (st.recovered)
    st.recovered();
}

/// Elected, and the registry is loaded: serve. Agents of the registry are "recovering" until they re-register
/// or --agent-reregister-timeout expires.
void become_leading(master_pointer self, const registry_data& data) {
  auto& st = self->state;
  st.reg.recover(data);
  for (const auto& [role, weight] : data.weights)
    st.weights[role] = weight;
  for (const auto& [role, quota] : data.quota)
    st.quotas[role] = quota;
  for (const auto& [role, weight] : data.weights)
    self->request(st.allocator, caf::infinite, atom::set_weight_v, role, weight)
      .then([](bool) {}, [self, role = role](const caf::error& err) {
        LOG_ERROR(component, "recovered weight of role " << role << " refused: " << self->system().render(err));
      });
  for (const auto& [role, quota] : data.quota)
    self->request(st.allocator, caf::infinite, atom::set_quota_v, role, quota)
      .then([](bool) {}, [self, role = role](const caf::error& err) {
        LOG_ERROR(component, "recovered quota of role " << role << " refused: " << self->system().render(err));
      });
  st.leading = true;
  st.elected_time = now_seconds();
  st.recovery_total = st.reg.recovering().size();
  st.recovery_back = 0;
  st.recovery_start = std::chrono::steady_clock::now();
  LOG_INFO(component, "leading; registry: " << data.admitted.size() << " agent(s) to re-register, "
                                            << data.unreachable.size() << " unreachable, " << data.gone.size()
                                            << " gone");
  st.recovery_open = true;
  if (!st.reg.recovering().empty())
    self->delayed_send(self, st.agent_reregister_timeout, atom::rereg_deadline_v, ++st.rereg_deadline_gen);
  finish_recovery_if_done(self);
}

void on_elected(master_pointer self) {
  auto& st = self->state;
  if (st.elected)
    return;
  st.elected = true;
  LOG_INFO(component, "elected leader; recovering the registry");
  if (!st.registrar) {
    become_leading(self, registry_data{});
    return;
  }
  self->request(st.registrar, caf::infinite, atom::recover_v)
    .then([self](const registry_data& data) { become_leading(self, data); },
          [self](const caf::error& err) {
            step_down(self, "cannot recover the registry: " + self->system().render(err));
          });
}

void recover(master_pointer self, const framework_id& fid, const agent_id& aid, const std::string& role,
             const resource_set& r, double refuse_seconds) {
  if (!r.empty())
    self->send(self->state.allocator, atom::recover_v, fid, aid, role.empty() ? std::string{"*"} : role, r,
               refuse_seconds);
}

/// The roles a framework is subscribed to (none given means the default role "*").
std::vector<std::string> roles_of(const framework_info& info) {
  return info.roles.empty() ? std::vector<std::string>{"*"} : info.roles;
}

/// Takes an outstanding offer back and tells its scheduler; the caller returns its resources to the allocator.
std::optional<offer> take_back_offer(master_pointer self, const offer_id& oid, const char* why) {
  ++self->state.counters.offers_rescinded;
  auto& st = self->state;
  auto o = st.reg.remove_offer(oid);
  if (!o)
    return o;
  LOG_DEBUG(component, "rescinding offer " << oid << " of framework " << o->framework << ": " << why);
  if (auto s = st.schedulers.find(o->framework); s != st.schedulers.end())
    self->send(s->second, atom::rescind_v, oid);
  return o;
}

/// Takes an outstanding offer back: the scheduler is told, the resources return without a filter.
void rescind_offer(master_pointer self, const offer_id& oid, const char* why) {
  if (auto o = take_back_offer(self, oid, why))
    recover(self, o->framework, o->agent, o->role, o->resources, 0);
}

/// The agent is no longer registered (unreachable, gone): its handle is forgotten and no longer watched.
void forget_agent_handle(master_pointer self, const agent_id& aid) {
  auto& st = self->state;
  auto a = st.agents.find(aid);
  if (a == st.agents.end())
    return;
  self->demonitor(a->second.address());
  if (auto i = st.agent_by_addr.find(a->second.address()); i != st.agent_by_addr.end() && i->second == aid)
    st.agent_by_addr.erase(i);
  st.agents.erase(a);
}

/// Rescinds every outstanding offer whose role satisfies `pred`.
template <class Predicate>
size_t rescind_offers(master_pointer self, Predicate pred, const char* why) {
  std::vector<offer_id> ids;
  for (const auto& [oid, o] : self->state.reg.offers())
    if (pred(o))
      ids.push_back(oid);
  for (const auto& oid : ids)
    rescind_offer(self, oid, why);
  return ids.size();
}

/// Framework gone (scheduler down or teardown): offers back, allocator told, agents shut its tasks down.
void remove_framework(master_pointer self, const framework_id& fid, const std::string& why) {
  auto& st = self->state;
  auto removed = st.reg.remove_framework(fid);
  if (!removed)
    return;
  // Operators see its tasks end first (killed with it), then the framework go.
  for (const auto& t : removed->tasks)
    publish_task_updated(self, fid, master_status(t.info.id, t.info.agent, t.state, t.reason, t.message), t.state);
  publish_framework_removed(self, removed->framework.info);
  st.failover_gen.erase(fid);
  st.suppressed.erase(fid);
  for (auto i = st.ack_only.begin(); i != st.ack_only.end();)
    i = i->first == fid ? st.ack_only.erase(i) : std::next(i);
  LOG_INFO(component, "removing framework " << fid << " (" << removed->framework.info.name << "): " << why
                                            << "; " << removed->tasks.size() << " live tasks");
  for (const auto& o : removed->offers)
    recover(self, fid, o.agent, o.role, o.resources, 0);
  // Executors are recovered here (once: the registry forgot them); the allocator's remove_fw releases the
  // rest of the framework's allocation (its live tasks).
  for (size_t i = 0; i < removed->executors.size(); ++i)
    recover(self, fid, removed->executors[i].first, removed->executor_roles[i], removed->executors[i].second.resources,
            0);
  self->send(st.allocator, atom::remove_fw_v, fid);
  // Every agent that ever ran one of its tasks, not only those with live tasks: idle executors (e.g. a command
  // executor whose tasks all ended) must stop too.
  for (const auto& aid : removed->agents)
    if (auto a = st.agents.find(aid); a != st.agents.end())
      self->send(a->second, atom::shutdown_fw_v, fid);
  if (auto s = st.schedulers.find(fid); s != st.schedulers.end()) {
    self->demonitor(s->second.address());
    st.framework_by_addr.erase(s->second.address());
    st.schedulers.erase(s);
  }
}

void arm_health(master_pointer self) {
  auto& st = self->state;
  if (st.health_armed || st.ping_timeout.count() <= 0 || st.reg.agents().empty())
    return;
  st.health_armed = true;
  self->delayed_send(self, st.ping_timeout, atom::health_v);
}

/// Sends ourselves the next `unreachable` when the rate limit allows it (one pending at a time).
void schedule_removal(master_pointer self) {
  auto& st = self->state;
  if (st.removal_pending)
    return;
  auto now = self->clock().now();
  auto when = st.health.next_removal_time(now);
  if (!when)
    return;
  st.removal_pending = true;
  if (*when <= now)
    self->send(self, atom::unreachable_v);
  else
    self->delayed_send(self, std::chrono::duration_cast<caf::timespan>(*when - now), atom::unreachable_v);
}

void count_miss(master_pointer self, const agent_id& aid) {
  auto& st = self->state;
  if (st.health.miss(aid)) {
    LOG_WARN(component, "agent " << aid << " missed " << st.health.misses(aid)
                                 << " pings in a row: queued to be marked unreachable");
    schedule_removal(self);
  }
}

/// The agent's connection broke: it stays registered (it may come back), but nothing of it is offered.
void disconnect_agent(master_pointer self, const agent_id& aid, const std::string& why) {
  auto& st = self->state;
  const auto* a = st.reg.agent(aid);
  if (a == nullptr)
    return;
  LOG_WARN(component, "agent " << aid << " (" << a->info.hostname << ") disconnected: " << why
                               << "; it stays registered until it misses " << "its pings");
  for (const auto& oid : a->offer_ids())
    rescind_offer(self, oid, "agent disconnected");
  st.reg.set_agent_connected(aid, false);
  if (auto h = st.agents.find(aid); h != st.agents.end())
    st.agent_by_addr.erase(h->second.address());
  self->send(st.allocator, atom::deactivate_agent_v, aid);
}

/// Missed too many pings: offers rescinded, tasks TASK_UNREACHABLE (partition-aware frameworks) or TASK_LOST,
/// executors forgotten, the allocator forgets the agent, schedulers get agent_lost. It may come back.
void mark_unreachable(master_pointer self, const agent_id& aid) {
  ++self->state.counters.slave_removals;
  auto& st = self->state;
  auto time = now_seconds();
  if (st.reg.is_recovered(aid)) {
    // After a failover: it never re-registered, so no task of it is known here. Frameworks learn of them by
    // reconciliation (TASK_UNREACHABLE / TASK_LOST from now on instead of no answer).
    st.health.forget(aid);
    auto info = st.reg.mark_recovering_unreachable(aid, time);
    LOG_WARN(component, "agent " << aid << " (" << info->hostname << ") did not re-register within "
                                 << "--agent-reregister-timeout after the failover: marked unreachable");
    write_registry(self, mark_unreachable_op(aid, time), [] {});
    for (const auto& kv : st.schedulers)
      self->send(kv.second, atom::agent_lost_v, aid);
    finish_recovery_if_done(self);
    return;
  }
  auto why = "agent unreachable: missed " + std::to_string(st.health.misses(aid)) + " pings";
  st.health.forget(aid);
  auto r = st.reg.mark_unreachable(aid, time, why);
  if (!r)
    return;
  write_registry(self, mark_unreachable_op(aid, time), [] {});
  LOG_WARN(component, "agent " << aid << " (" << r->agent.info.hostname << ") marked unreachable: "
                               << r->unreachable.size() << " task(s) unreachable, " << r->lost.size() << " lost");
  for (const auto& o : r->offers)
    if (auto s = st.schedulers.find(o.framework); s != st.schedulers.end())
      self->send(s->second, atom::rescind_v, o.id);
  for (const auto& t : r->lost) {
    auto status = master_status(t.info.id, aid, task_state::lost, task_reason::agent_removed, why);
    publish_task_updated(self, t.framework, status, task_state::lost);
    send_update(self, t.framework, std::move(status));
  }
  for (const auto& t : r->unreachable) {
    auto status = master_status(t.info.id, aid, task_state::unreachable, task_reason::agent_removed, why);
    publish_task_updated(self, t.framework, status, task_state::unreachable);
    send_update(self, t.framework, std::move(status));
  }
  publish_agent_removed(self, aid);
  // The allocator forgets everything on the agent: no recover for its offers, tasks or executors.
  self->send(st.allocator, atom::remove_agent_v, aid);
  for (const auto& kv : st.schedulers)
    self->send(kv.second, atom::agent_lost_v, aid);
  forget_agent_handle(self, aid);
}

/// One health round: ping every connected agent; a disconnected one misses at once.
void health_round(master_pointer self) {
  auto& st = self->state;
  st.told_rereg.clear();
  std::vector<agent_id> down;
  for (const auto& [aid, a] : st.reg.agents()) {
    if (!a.connected) {
      down.push_back(aid);
      continue;
    }
    auto h = st.agents.find(aid);
    if (h == st.agents.end())
      continue;
    auto hdl = h->second;
    self->request(hdl, st.ping_timeout, atom::ping_v)
      .then(
        [self, aid = aid, hdl](const agent_id&) {
          auto& st = self->state;
          auto i = st.agent_by_addr.find(hdl.address());
          if (i != st.agent_by_addr.end() && i->second == aid) {
            st.health.reset(aid);
          } else if (st.told_rereg.insert(hdl.address()).second) {
            // It answers, but we no longer count it as registered (e.g. marked unreachable meanwhile).
            LOG_INFO(component, "ping reply from unregistered agent " << aid << ": asking it to re-register");
            self->send(hdl, atom::rereg_agent_v);
          }
        },
        [self, aid = aid, hdl](const caf::error& err) {
          auto& st = self->state;
          auto i = st.agent_by_addr.find(hdl.address());
          if (i == st.agent_by_addr.end() || i->second != aid)
            return; // replaced by a re-registration, disconnected (counted per round) or gone
          LOG_DEBUG(component, "agent " << aid << " missed a ping: " << self->system().render(err));
          count_miss(self, aid);
        });
  }
  for (const auto& aid : down)
    count_miss(self, aid);
}

/// register_agents (--acls) for the sender, and under TLS only its own agent actor. An empty error: go on.
caf::error check_agent_sender(master_pointer self, const agent_actor& hdl) {
  auto who = identify_sender(self);
  if (hdl && !own_actor(who, hdl.node()))
    return caf::make_error(caf::sec::invalid_argument,
                           "register agent: the agent actor is not on the sending node (TLS binds a principal to "
                           "its own node)");
  auto object = who.principal.value_or("");
  if (!permitted(self, who, acl_action::register_agents, object))
    return not_authorized(who, acl_action::register_agents, object);
  return {};
}

caf::result<agent_id> register_agent(master_pointer self, const agent_info& given, const agent_actor& hdl) {
  auto& st = self->state;
  if (!hdl)
    return caf::make_error(caf::sec::invalid_argument, "register agent: no agent handle");
  if (auto err = check_agent_sender(self, hdl))
    return err;
  // A retry from an agent we already know (e.g. the reply was lost): same ID again.
  if (auto i = st.agent_by_addr.find(hdl.address()); i != st.agent_by_addr.end()) {
    if (given.id.empty() || given.id == i->second)
      return reply_when_durable(self, i->second, std::nullopt);
    return caf::make_error(caf::sec::invalid_argument,
                           "register agent: this agent is already registered as " + i->second.value);
  }
  agent_info info = given;
  if (info.id.empty()) {
    info.id = new_id<agent_id>();
  } else if (auto msg = check_safe_id("agent ID", info.id.value); !msg.empty()) {
    return caf::make_error(caf::sec::invalid_argument, "register agent: " + msg);
  } else if (st.agents.count(info.id) > 0 || st.reg.is_unreachable(info.id) || st.reg.is_recovered(info.id)) {
    // Registered (connected or not) or unreachable: an agent with an ID comes back with rereg_agent, which
    // reconciles what it runs. Taking the ID over blindly would let any actor kill a live agent's tasks.
    return caf::make_error(caf::sec::invalid_argument,
                           "register agent: agent ID " + info.id.value + " in use by a registered agent");
  } else {
    // An ID we do not know (a removed agent, or one from before a master restart): without agent recovery
    // it is a new agent. A fresh ID also keeps a removed agent's stale allocations and updates apart.
    LOG_INFO(component, "agent registering with unknown ID " << info.id << " gets a new ID");
    info.id = new_id<agent_id>();
  }
  if (auto msg = st.reg.add_agent(info); !msg.empty())
    return caf::make_error(caf::sec::invalid_argument, "register agent: " + msg);
  publish_agent_added(self, info.id);
  st.agents.emplace(info.id, hdl);
  st.agent_by_addr.emplace(hdl.address(), info.id);
  self->monitor(hdl);
  st.health.track(info.id);
  st.told_rereg.erase(hdl.address());
  arm_health(self);
  ++st.counters.slave_registrations;
  LOG_INFO(component, "agent " << info.id << " registered: " << info.hostname << " at "
                               << join_host_port(info.address, info.port) << " " << info.total);
  // Offered only after the agent has its answer (sent first, and messages from here arrive in order): an offer
  // made earlier could bring it a task launch before it knows it is registered, and it would drop the task.
  auto offer_it = [self, id = info.id, total = info.total] {
    auto& st = self->state;
    st.admitting.erase(id);
    const auto* a = st.reg.agent(id);
    if (a == nullptr)
      return;   // removed meanwhile
    self->send(st.allocator, atom::add_agent_v, id, total);
    if (!a->connected)
      self->send(st.allocator, atom::deactivate_agent_v, id);
  };
  st.admitting.insert(info.id);
  return reply_when_durable(self, info.id, admit_agent_op(info), std::move(offer_it));
}

/// Takes the task infos out of `r` (everything else in it stays).
caf::result<agent_id> reregister_agent(master_pointer self, agent_reregistration& r, const agent_actor& hdl) {
  auto& st = self->state;
  const auto& aid = r.info.id;
  if (!hdl)
    return caf::make_error(caf::sec::invalid_argument, "re-register agent: no agent handle");
  if (auto err = check_agent_sender(self, hdl))
    return err;
  if (aid.empty())
    return caf::make_error(caf::sec::invalid_argument, "re-register agent: no agent ID (use reg_agent)");
  if (auto i = st.agent_by_addr.find(hdl.address()); i != st.agent_by_addr.end() && i->second != aid)
    return caf::make_error(caf::sec::invalid_argument,
                           "re-register agent: this agent is registered as " + i->second.value);
  const auto* known = st.reg.agent(aid);
  if (known != nullptr && known->connected && st.agents[aid].address() != hdl.address()
      && known->info.hostname != r.info.hostname)
    // A connected agent on another host: someone else claims the ID.
    return caf::make_error(caf::sec::invalid_argument,
                           "re-register agent: agent ID " + aid.value + " in use by a connected agent on "
                             + known->info.hostname);
  bool admitted_before = known != nullptr;
  // Operators following the master see every task whose state the re-registration changes (states the agent
  // reports, unreachable tasks live again); the tasks it ends are reported with `out.ended` below.
  auto live_states = [&] {
    std::map<std::pair<framework_id, task_id>, task_state> states;
    if (const auto* a = st.reg.agent(aid); a != nullptr && !st.operator_listeners.empty())
      for (const auto& [fid, ids] : a->tasks)
        for (const auto& tid : ids)
          if (const auto* t = st.reg.live_task(fid, tid))
            states.emplace(std::make_pair(fid, tid), t->state);
    return states;
  };
  auto before = live_states();
  reregistration_result out;
  if (st.reg.is_gone(aid)) {
    // Marked gone while it was away (MARK_AGENT_GONE): it learns so and stops, as when it was told in time. Only
    // the sender itself: a handle it names could be another, live agent.
    if (sender_addr(self) == hdl.address())
      self->send(hdl, atom::shutdown_v, "agent " + aid.value + " was marked gone by the operator");
    return caf::make_error(caf::sec::invalid_argument,
                           "re-register agent: agent " + aid.value + " is gone (removed for good by the operator)");
  }
  if (auto msg = st.reg.reregister_agent(std::move(r), out); !msg.empty())
    return caf::make_error(caf::sec::invalid_argument, "re-register agent: " + msg);
  if (!admitted_before)
    publish_agent_added(self, aid);
  for (const auto& fi : out.recovered_frameworks)
    publish_framework(self, fi.id, operator_event_type::framework_added);
  for (const auto& [key, state] : live_states())
    if (auto b = before.find(key); b == before.end() || b->second != state) {
      const auto* t = st.reg.live_task(key.first, key.second);
      publish_task_updated(self, key.first, master_status(key.second, aid, state, t->reason, t->message), state);
    }
  if (auto old = st.agents.find(aid); old != st.agents.end()) {
    self->demonitor(old->second.address());
    if (auto i = st.agent_by_addr.find(old->second.address()); i != st.agent_by_addr.end() && i->second == aid)
      st.agent_by_addr.erase(i);
  }
  st.agents[aid] = hdl;
  st.agent_by_addr[hdl.address()] = aid;
  self->monitor(hdl);
  st.told_rereg.erase(hdl.address());
  st.health.track(aid);
  for (const auto& t : out.ended) {
    auto status = master_status(t.info.id, aid, t.state, t.reason, t.message);
    publish_task_updated(self, t.framework, status, t.state);
    send_update(self, t.framework, std::move(status));
  }
  for (const auto& a : out.freed)
    recover(self, a.framework, aid, a.role, a.resources, 0);
  for (const auto& [fid, tid] : out.kill) {
    st.ack_only.emplace(fid, tid);
    self->send(hdl, atom::kill_task_v, fid, tid);
  }
  for (const auto& key : out.swallow)
    st.ack_only.insert(key);
  for (const auto& fid : out.shutdown)
    self->send(hdl, atom::shutdown_fw_v, fid);
  // Frameworks known only from this agent (the master failed over): inactive until their scheduler subscribes.
  for (const auto& fi : out.recovered_frameworks) {
    LOG_INFO(component, "framework " << fi.id << " (" << fi.name << ") recovered from agent " << aid
                                     << "; waiting for its scheduler");
    self->send(st.allocator, atom::add_fw_v, fi.id, fi);
    self->send(st.allocator, atom::deactivate_v, fi.id);
  }
  // Readmitted and newly admitted agents are written to the registry; their answer waits until it is durable.
  std::optional<registry_operation> op;
  if (out.how == reregistration_result::kind::readmitted) {
    op = mark_reachable_op(st.reg.agent(aid)->info);
  } else if (out.how == reregistration_result::kind::admitted) {
    if (!out.was_recovered)  // a recovering agent is in the registry already: nothing to write
      op = admit_agent_op(st.reg.agent(aid)->info);
  }
  const char* how = "re-registered";
  ++st.counters.slave_reregistrations;
  if (out.how == reregistration_result::kind::known) {
    if (!out.was_connected)
      self->send(st.allocator, atom::activate_agent_v, aid);
  } else {
    how = out.how == reregistration_result::kind::readmitted ? "readmitted (was unreachable)"
          : out.was_recovered                                  ? "re-registered after the failover"
                                                               : "admitted with its own ID";
    // Not offered while its answer waits for the registry (see below); the allocator learns that in the same step.
    self->send(st.allocator, atom::add_agent_v, aid, r.info.total, std::move(out.used), !op.has_value());
  }
  arm_health(self);
  auto line = [&] {
    std::ostringstream os;
    os << "agent " << aid << " " << how << ": " << r.info.hostname << " at " << join_host_port(r.info.address, r.info.port)
       << ", " << r.tasks.size()
       << " task(s) reported, " << out.ended.size() << " ended, " << out.kill.size() << " to kill, "
       << out.shutdown.size() << " framework(s) to shut down";
    return os.str();
  };
  if (out.was_recovered) {
    // One of many after a failover: a summary says when all are back (and the deadline names the missing).
    LOG_DEBUG(component, line());
    ++st.recovery_back;
    finish_recovery_if_done(self);
  } else {
    LOG_INFO(component, line());
  }
  if (!op)
    return reply_when_durable(self, aid, std::nullopt);
  // Its answer waits for the registry, and offers of it must wait for the answer: a launch that reached the agent
  // before it knows it is registered would be dropped. The allocator knows the agent already (its tasks count, and
  // their updates may recover resources of it) but offers nothing of it until then (added inactive above).
  auto offer_it = [self, aid] {
    auto& st = self->state;
    if (const auto* a = st.reg.agent(aid); a != nullptr && a->connected)
      self->send(st.allocator, atom::activate_agent_v, aid);
  };
  return reply_when_durable(self, aid, std::move(op), std::move(offer_it));
}

/// The scheduler went away but the framework has a failover timeout: it stays (tasks keep running, nobody
/// acknowledges its updates) and gets no offers until a scheduler takes over or the timeout removes it.
void disconnect_framework(master_pointer self, const framework_id& fid, const std::string& why) {
  auto& st = self->state;
  const auto* fw = st.reg.framework(fid);
  if (fw == nullptr)
    return;
  // Seconds as given, capped (a timespan holds ~292 years) and at least 1 ms.
  auto seconds = std::min(std::max(fw->info.failover_timeout, 0.001), 1e9);
  LOG_INFO(component, "framework " << fid << " (" << fw->info.name << ") disconnected: " << why
                                   << "; it fails over within " << seconds << " s");
  for (const auto& oid : std::set<offer_id>{fw->offers})
    if (auto o = st.reg.remove_offer(oid))
      recover(self, fid, o->agent, o->role, o->resources, 0);
  st.reg.set_framework_active(fid, false);
  publish_framework(self, fid, operator_event_type::framework_updated);
  if (auto s = st.schedulers.find(fid); s != st.schedulers.end()) {
    self->demonitor(s->second.address());
    st.framework_by_addr.erase(s->second.address());
    st.schedulers.erase(s);
  }
  self->send(st.allocator, atom::deactivate_v, fid);
  auto gen = ++st.next_failover_gen;
  st.failover_gen[fid] = gen;
  self->delayed_send(self, std::chrono::duration_cast<caf::timespan>(std::chrono::duration<double>(seconds)),
                     atom::failover_v, fid, gen);
}

/// A scheduler subscribes with the ID of a known framework: it becomes the framework's scheduler.
caf::result<framework_id> take_over(master_pointer self, const framework_info& info, const scheduler_actor& hdl) {
  auto& st = self->state;
  const auto& fid = info.id;
  const auto* fw = st.reg.framework(fid);
  if (fw->info.principal != info.principal)
    return caf::make_error(caf::sec::invalid_argument,
                           "subscribe: framework " + fid.value + " belongs to another principal");
  if (roles_of(fw->info) != roles_of(info))
    return caf::make_error(caf::sec::invalid_argument,
                           "subscribe: framework " + fid.value + " cannot change its roles on failover");
  bool was_active = fw->active;
  for (const auto& oid : std::set<offer_id>{fw->offers})
    rescind_offer(self, oid, "framework failed over");
  if (auto s = st.schedulers.find(fid); s != st.schedulers.end()) {
    LOG_INFO(component, "framework " << fid << " fails over to another scheduler; the old one is told");
    self->send(s->second, atom::replaced_v, fid);
    self->demonitor(s->second.address());
    st.framework_by_addr.erase(s->second.address());
    st.schedulers.erase(s);
  }
  st.reg.update_framework_info(info);
  st.reg.set_framework_active(fid, true);
  publish_framework(self, fid, operator_event_type::framework_updated);
  st.failover_gen.erase(fid);
  st.schedulers.emplace(fid, hdl);
  st.framework_by_addr.emplace(hdl.address(), fid);
  self->monitor(hdl);
  if (!was_active)
    self->send(st.allocator, atom::activate_v, fid);
  // Updates nobody acknowledged while it was away: the agents resend them now, to the new scheduler.
  for (const auto& aid : fw->agents)
    if (const auto* a = st.reg.agent(aid); a != nullptr && a->connected)
      if (auto h = st.agents.find(aid); h != st.agents.end())
        self->send(h->second, atom::resend_v, fid);
  LOG_INFO(component, "framework " << fid << " (" << info.name << ") taken over by a new scheduler");
  return fid;
}

caf::result<framework_id> subscribe(master_pointer self, const framework_info& given, const scheduler_actor& hdl) {
  auto& st = self->state;
  if (!hdl)
    return caf::make_error(caf::sec::invalid_argument, "subscribe: no scheduler handle");
  // Idempotent: the same scheduler subscribing again gets the same ID.
  if (auto i = st.framework_by_addr.find(hdl.address()); i != st.framework_by_addr.end()) {
    if (given.id.empty() || given.id == i->second)
      return i->second;
    return caf::make_error(caf::sec::invalid_argument,
                           "subscribe: this scheduler is already subscribed as framework " + i->second.value);
  }
  if (auto msg = check_framework_text(given); !msg.empty())
    return caf::make_error(caf::sec::invalid_argument, "subscribe: " + msg);
  framework_info info = given;
  // The principal is the one the scheduler's node authenticated as (TLS), never only what it declares; a framework
  // ID is then taken over only by the same principal (take_over compares them).
  auto who = identify_sender(self);
  if (!own_actor(who, hdl.node()))
    return caf::make_error(caf::sec::invalid_argument,
                           "subscribe: the scheduler actor is not on the sending node (TLS binds a principal to "
                           "its own node)");
  if (who.principal) {
    if (!info.principal.empty() && info.principal != *who.principal)
      return caf::make_error(caf::sec::invalid_argument,
                             "subscribe: the framework's principal '" + info.principal
                               + "' is not the authenticated principal '" + *who.principal + "'");
    info.principal = *who.principal;
  }
  for (const auto& r : info.roles.empty() ? std::vector<std::string>{"*"} : info.roles)
    if (!permitted_as(self, framework_principal(info), acl_action::register_frameworks, r))
      return not_authorized({false, framework_principal(info), {}}, acl_action::register_frameworks, r);
  // Roles: each valid, none twice (empty list: the default role "*").
  for (size_t i = 0; i < info.roles.size(); ++i) {
    const auto& r = info.roles[i];
    if (!valid_role_name(r))
      return caf::make_error(caf::sec::invalid_argument,
                             "subscribe: invalid role '" + r
                               + "' (use \"*\" or a path like eng/prod of letters, digits, '_', '-', '.')");
    for (size_t j = 0; j < i; ++j)
      if (info.roles[j] == r)
        return caf::make_error(caf::sec::invalid_argument, "subscribe: role '" + r + "' is listed twice");
  }
  if (info.id.empty()) {
    info.id = new_id<framework_id>();
  } else if (st.reg.framework(info.id) != nullptr) {
    return take_over(self, info, hdl);
  }
  // Unknown non-empty IDs are accepted: a framework re-subscribing after a master restart.
  if (auto msg = st.reg.add_framework(info); !msg.empty())
    return caf::make_error(caf::sec::invalid_argument, "subscribe: " + msg);
  publish_framework(self, info.id, operator_event_type::framework_added);
  st.schedulers.emplace(info.id, hdl);
  st.framework_by_addr.emplace(hdl.address(), info.id);
  self->monitor(hdl);
  self->send(st.allocator, atom::add_fw_v, info.id, info);
  LOG_INFO(component, "framework " << info.id << " (" << info.name << ") subscribed");
  return info.id;
}

/// UPDATE_FRAMEWORK (Mesos 1.x): a subscribed framework changes its roles, capabilities, failover timeout, name
/// or labels. Its ID, user, principal and checkpointing stay. Offers for roles it leaves are rescinded; the
/// allocator offers in the new roles at once.
void on_update_framework(master_pointer self, const framework_info& given) {
  auto& st = self->state;
  if (!authorize(self, given.id, "update_framework"))
    return;
  const auto* fw = st.reg.framework(given.id);
  if (fw == nullptr)
    return;
  auto fail = [&](const std::string& why) { refuse(self, "update_framework " + given.id.value + ": " + why); };
  if (auto msg = check_framework_text(given); !msg.empty())
    return fail(msg);
  if (auto msg = check_labels(given.labels, "framework"); !msg.empty())
    return fail(msg);
  if (given.user != fw->info.user)
    return fail("its user cannot change ('" + fw->info.user + "')");
  if (!given.principal.empty() && given.principal != fw->info.principal)
    return fail("its principal cannot change ('" + fw->info.principal + "')");
  if (given.checkpoint != fw->info.checkpoint)
    return fail("its checkpointing cannot change");
  if (!(given.failover_timeout >= 0) || !std::isfinite(given.failover_timeout))
    return fail("failover_timeout must be a finite number >= 0");
  framework_info info = given;
  info.principal = fw->info.principal;
  auto roles = info.roles.empty() ? std::vector<std::string>{"*"} : info.roles;
  for (size_t i = 0; i < roles.size(); ++i) {
    if (!valid_role_name(roles[i]))
      return fail("invalid role '" + roles[i] + "'");
    for (size_t j = 0; j < i; ++j)
      if (roles[j] == roles[i])
        return fail("role '" + roles[i] + "' is listed twice");
    if (!permitted_as(self, framework_principal(info), acl_action::register_frameworks, roles[i]))
      return fail("not authorized to register in role '" + roles[i] + "' (--acls)");
  }
  auto left = [&](const offer& o) {
    return o.framework == info.id && std::find(roles.begin(), roles.end(), o.role) == roles.end();
  };
  rescind_offers(self, left, "the framework left the offer's role");
  st.reg.update_framework_info(info, true);
  publish_framework(self, info.id, operator_event_type::framework_updated);
  self->send(st.allocator, atom::update_fw_v, info.id, info);
  LOG_INFO(component, "framework " << info.id << " (" << info.name << ") updated; roles now "
                                   << roles.size() << ", capabilities " << info.capabilities.size());
}

void on_allocate(master_pointer self, const std::vector<allocation>& allocs) {
  auto& st = self->state;
  if (sender_addr(self) != st.allocator.address()) {
    LOG_WARN(component, "allocate: ignored, not sent by our allocator");
    return;
  }
  // One `offers` message per framework per allocation run, in the order the frameworks first appear.
  std::vector<framework_id> order;
  std::unordered_map<framework_id, std::vector<offer>> batches;
  for (const auto& a : allocs) {
    auto s = st.schedulers.find(a.framework);
    const auto* ag = st.reg.agent(a.agent);
    if (s == st.schedulers.end() && ag != nullptr && st.reg.framework(a.framework) != nullptr) {
      // A disconnected framework (failover timeout running): the allocator keeps it, so give it back.
      recover(self, a.framework, a.agent, a.role, a.resources, 0);
      continue;
    }
    if (s == st.schedulers.end() || ag == nullptr) {
      // A race with removal: the allocator has forgotten (or will forget) these resources itself.
      LOG_DEBUG(component, "allocation to gone framework " << a.framework << " or agent " << a.agent << " dropped");
      continue;
    }
    if (!ag->connected) {
      // Allocated before the allocator saw the agent's deactivation: give it back.
      recover(self, a.framework, a.agent, a.role, a.resources, 0);
      continue;
    }
    offer o;
    o.id = new_id<offer_id>();
    o.framework = a.framework;
    o.agent = a.agent;
    o.hostname = ag->info.hostname;
    o.agent_address = ag->info.address;
    o.agent_http_port = ag->info.http_port;
    o.attributes = ag->info.attributes;
    o.role = a.role.empty() ? std::string{"*"} : a.role;
    o.resources = a.resources;
    if (auto msg = st.reg.add_offer(o); !msg.empty()) {
      // Give it back, or the allocator would count it as allocated forever.
      LOG_WARN(component, "allocation not offered: " << msg);
      if (o.resources.validate().empty())
        recover(self, a.framework, a.agent, o.role, a.resources, 0);
      continue;
    }
    if (st.offer_timeout.count() > 0)
      self->delayed_send(self, st.offer_timeout, atom::timeout_v, o.id);
    auto& batch = batches[a.framework];
    if (batch.empty())
      order.push_back(a.framework);
    batch.push_back(std::move(o));
  }
  ++st.counters.allocation_runs;
  for (const auto& fid : order) {
    st.counters.offers_sent += batches[fid].size();
    self->send(st.schedulers[fid], atom::offers_v, std::move(batches[fid]));
  }
}

// One validated LAUNCH_GROUP: every task may run as its user (run_tasks) or none runs; then all are recorded,
// the DEFAULT executor with them (if new), and the agent gets the group in one message (all start or none).
void launch_group(master_pointer self, const framework_entry& fw, const agent_id& aid, const agent_actor& agent,
                  const std::string& role, accept_verdict::group_launch& g, accept_verdict& v) {
  auto& st = self->state;
  const auto& fid = fw.info.id;
  auto give_back = [&] {
    for (const auto& t : g.group.tasks) {
      v.used -= t.resources;
      v.remaining += t.resources;
    }
  };
  auto fail_all = [&](task_reason reason, const std::string& why) {
    for (const auto& t : g.group.tasks)
      send_update(self, fid, master_status(t.id, aid, task_state::error, reason, why));
    give_back();
  };
  for (const auto& t : g.group.tasks) {
    auto user = !t.command->user.empty() ? t.command->user : fw.info.user;
    if (!permitted_as(self, framework_principal(fw.info), acl_action::run_tasks, user)) {
      fail_all(task_reason::task_unauthorized, "not authorized: " + principal_text(framework_principal(fw.info))
                                                 + " may not run tasks as user '" + user + "' (task "
                                                 + t.id.value + " of the group)");
      return;
    }
  }
  g.executor.role = role;
  for (auto& t : g.group.tasks) {
    t.role = role;
    t.executor->role = role;
  }
  for (const auto& t : g.group.tasks)
    if (auto msg = st.reg.add_task(fid, t, role); !msg.empty())
      // Cannot happen after validation; report rather than lose the task silently (its siblings still run).
      LOG_ERROR(component, "accept: task " << t.id << " of a group not recorded: " << msg);
    else
      publish_task_added(self, fid, t.id);
  if (st.reg.executor(fid, aid, g.executor.id) == nullptr)
    if (auto msg = st.reg.add_executor(fid, aid, g.executor, role); !msg.empty())
      LOG_ERROR(component, "accept: executor " << g.executor.id << " not recorded: " << msg);
  LOG_DEBUG(component, "launching a group of " << g.group.tasks.size() << " task(s) of framework " << fid
                                               << " on executor " << g.executor.id << " of agent " << aid);
  self->send(agent, atom::run_task_v, fw.info, g.executor, g.group);
}

void on_accept(master_pointer self, const framework_id& fid, const std::vector<offer_id>& ids,
               const std::vector<offer_operation>& ops, const filters& f) {
  ++self->state.counters.messages_launch_tasks;
  auto& st = self->state;
  auto sched = authorize(self, fid, "accept");
  if (!sched)
    return;
  std::string err;
  auto refuse_seconds = checked_refuse_seconds(f.refuse_seconds, st.max_refuse_seconds, &err);
  if (!refuse_seconds) {
    refuse(self, "accept: " + err + "; nothing was done");
    return;
  }
  // The agent's total, for volume IDs (unique per agent). If the first offer is bad, validation says so.
  resource_set agent_total;
  if (!ids.empty())
    if (auto o = st.reg.offers().find(ids.front()); o != st.reg.offers().end())
      if (const auto* a = st.reg.agent(o->second.agent))
        agent_total = a->info.total;
  auto v = validate_accept(
    fid, ids, ops, st.reg.offers(), st.reg.retired(), [&](const task_id& t) {
      // An unreachable task may come back with its agent: its ID stays taken until then (Mesos does the same).
      return st.reg.is_live(fid, t) || st.reg.unreachable_task(fid, t) != nullptr;
    },
    [&](const agent_id& a, const executor_id& e) { return st.reg.executor(fid, a, e); }, agent_total);
  if (!v.offers.ok) {
    self->send(*sched, atom::error_v, "accept: invalid offers: " + v.offers.message);
    for (const auto& t : v.tasks)
      send_update(self, fid, master_status(t.task, agent_id{}, task_state::dropped, t.reason, t.message));
    return;
  }
  const auto& aid = v.offers.agent;
  const auto& role = v.offers.role;
  for (const auto& msg : v.operation_errors)
    self->send(*sched, atom::error_v, "accept: " + msg + "; nothing was done");
  for (const auto& t : v.tasks)
    if (t.kind != verdict_kind::ok)
      send_update(self, fid,
                  master_status(t.task, aid, t.kind == verdict_kind::dropped ? task_state::dropped : task_state::error,
                                t.reason, t.message));
  for (const auto& oid : v.offers.ids)
    st.reg.remove_offer(oid);
  auto agent = st.agents.find(aid);
  const auto* fw = st.reg.framework(fid);
  if (agent == st.agents.end() || fw == nullptr) {
    // Offers are removed with their agent, so this is a bug; do not launch into the void (but give back).
    LOG_ERROR(component, "accept: agent " << aid << " or framework " << fid << " vanished");
    recover(self, fid, aid, role, v.offers.total, 0);
    return;
  }
  // Conversions first, in order: the allocator's books, the agent (which checkpoints and creates or removes
  // volume directories before it sees the tasks below: messages from one sender arrive in order), our view.
  for (const auto& c : v.conversions) {
    LOG_INFO(component, "framework " << fid << ": " << operation_name(c.operation.type) << " "
                                     << c.operation.resources << " on agent " << aid);
    self->send(st.allocator, atom::update_alloc_v, fid, aid, role, c.change.consumed, c.change.produced);
    self->send(agent->second, atom::apply_op_v, fid, c.operation);
    if (auto msg = st.reg.apply_conversion(aid, c.change); !msg.empty())
      LOG_ERROR(component, "accept: agent " << aid << " total not updated: " << msg);
  }
  for (auto t : v.launch) {
    // run_tasks (--acls): the framework's principal may run tasks as this user.
    auto user = t.command && !t.command->user.empty() ? t.command->user : fw->info.user;
    if (t.executor && !t.executor->command.user.empty())
      user = t.executor->command.user;
    if (!permitted_as(self, framework_principal(fw->info), acl_action::run_tasks, user)) {
      send_update(self, fid,
                  master_status(t.id, aid, task_state::error, task_reason::task_unauthorized,
                                "not authorized: " + principal_text(framework_principal(fw->info))
                                  + " may not run tasks as user '" + user + "'"));
      v.used -= t.resources;
      v.remaining += t.resources;
      continue;
    }
    // The allocation role travels with the task: the agent reports it back when it re-registers.
    t.role = role;
    if (t.executor)
      t.executor->role = role;
    if (auto msg = st.reg.add_task(fid, t, role); !msg.empty()) {
      // Cannot happen after validation; report rather than lose the task silently.
      send_update(self, fid, master_status(t.id, aid, task_state::error, task_reason::task_invalid, msg));
      v.used -= t.resources;
      v.remaining += t.resources;
      continue;
    }
    publish_task_added(self, fid, t.id);
    // The first task of a new executor starts it: from now on its resources are in use until exec_lost.
    if (t.executor && st.reg.executor(fid, aid, t.executor->id) == nullptr)
      if (auto msg = st.reg.add_executor(fid, aid, *t.executor, role); !msg.empty())
        LOG_ERROR(component, "accept: executor " << t.executor->id << " not recorded: " << msg);
    LOG_DEBUG(component, "launching task " << t.id << " of framework " << fid << " on agent " << aid);
    self->send(agent->second, atom::run_task_v, fw->info, t);
  }
  for (auto& g : v.groups)
    launch_group(self, *fw, aid, agent->second, role, g, v);
  // A new executor none of whose tasks was launched is not running: its share goes back too.
  for (const auto& e : v.executors)
    if (st.reg.executor(fid, aid, e.id) == nullptr) {
      v.used -= e.resources;
      v.remaining += e.resources;
    }
  recover(self, fid, aid, role, v.remaining, *refuse_seconds);
}

void on_decline(master_pointer self, const framework_id& fid, const std::vector<offer_id>& ids, const filters& f) {
  ++self->state.counters.messages_decline_offers;
  auto& st = self->state;
  if (!authorize(self, fid, "decline"))
    return;
  std::string err;
  auto refuse_seconds = checked_refuse_seconds(f.refuse_seconds, st.max_refuse_seconds, &err);
  if (!refuse_seconds) {
    refuse(self, "decline: " + err + "; nothing was done");
    return;
  }
  for (const auto& oid : ids) {
    auto v = validate_offers(fid, {oid}, st.reg.offers(), st.reg.retired());
    if (!v.ok) {
      refuse(self, "decline: " + v.message);
      continue;
    }
    auto o = st.reg.remove_offer(oid);
    recover(self, fid, o->agent, o->role, o->resources, std::max(*refuse_seconds, st.min_decline_seconds));
  }
}

void on_kill(master_pointer self, const framework_id& fid, const task_id& tid, const agent_id& aid,
             const kill_policy* policy) {
  ++self->state.counters.messages_kill_task;
  auto& st = self->state;
  if (!authorize(self, fid, "kill"))
    return;
  if (policy != nullptr) {
    if (auto err = check_kill_policy(*policy); !err.empty()) {
      refuse(self, "kill " + tid.str() + ": " + err);
      return;
    }
  }
  if (const auto* t = st.reg.live_task(fid, tid)) {
    if (!aid.empty() && aid != t->info.agent)
      LOG_WARN(component, "kill: task " << tid << " runs on agent " << t->info.agent << ", not " << aid);
    if (auto a = st.agents.find(t->info.agent); a != st.agents.end()) {
      if (policy != nullptr)
        self->send(a->second, atom::kill_task_v, fid, tid, *policy);
      else
        self->send(a->second, atom::kill_task_v, fid, tid);
    }
    return;
  }
  if (const auto* u = st.reg.unreachable_task(fid, tid)) {
    // Its agent is unreachable: it cannot be killed now (Mesos neither); say so.
    send_update(self, fid, master_status(tid, u->info.agent, task_state::unreachable, task_reason::reconciliation,
                                         "kill: the task's agent is unreachable"));
    return;
  }
  // Not live: repeat the final state we know, or say the task is unknown (TASK_UNKNOWN for partition-aware
  // frameworks, TASK_LOST for the others, as Mesos does), so the framework's kill does not hang.
  if (const auto* done = st.reg.ended_task(fid, tid)) {
    send_update(self, fid, master_status(tid, done->info.agent, done->state, done->reason,
                                         "task already ended: " + done->message));
    return;
  }
  if (!st.reg.recovering().empty()) {
    // After a failover an agent still coming back may run it: no verdict yet (Mesos answers nothing either);
    // the framework's kill retry or reconciliation asks again.
    LOG_INFO(component, "kill: task " << tid << " unknown while " << st.reg.recovering().size()
                                      << " agent(s) of the registry have not re-registered: no answer yet");
    return;
  }
  const auto* fw = st.reg.framework(fid);
  bool partition_aware = false;
  for (const auto& c : fw->info.capabilities)
    partition_aware = partition_aware || c == "PARTITION_AWARE";
  send_update(self, fid, master_status(tid, aid, partition_aware ? task_state::unknown : task_state::lost,
                                       task_reason::reconciliation, "kill: unknown task " + tid.value));
}

void on_status_update(master_pointer self, const status_update& given) {
  auto& st = self->state;
  auto sender = authorize_agent(self, given.status.agent, "update");
  if (!sender) {
    ++st.counters.invalid_status_updates;
    return;
  }
  ++st.counters.valid_status_updates;
  auto su = given;
  su.status.agent = *sender;
  const auto& fid = su.framework;
  const auto& tid = su.status.task;
  // The newest state the agent knows (a terminal update ends the task's stream, so it is the latest).
  auto latest = su.latest_state;
  if (is_terminal(su.status.state) || latest == task_state::staging)
    latest = su.status.state;
  auto ack_here = [&](const char* why) {
    LOG_INFO(component, "update " << to_string(su.status.state) << " of task " << tid << " from agent " << *sender
                                  << " acknowledged without forwarding: " << why);
    if (!su.status.uuid.empty())
      self->send(st.agents[*sender], atom::ack_v, fid, tid, su.status.uuid);
  };
  if (st.ack_only.count({fid, tid}) > 0 && st.reg.live_task(fid, tid) == nullptr) {
    // Until the stream's own terminal update (the last one the agent sends for it) has been swallowed too.
    if (is_terminal(su.status.state))
      st.ack_only.erase({fid, tid});
    ack_here("the master ended the task before and had it killed");
    return;
  }
  if (const auto* t = st.reg.live_task(fid, tid)) {
    if (t->info.agent != *sender) {
      // An update about an earlier incarnation of the task ID (e.g. from before the task was reported lost
      // and relaunched elsewhere). Forwarding it would let the scheduler apply it to the live incarnation, so
      // the master acknowledges it itself: the live task stays untouched and the agent stops resending.
      ack_here("the task runs on another agent");
      return;
    }
    if (su.status.healthy && su.status.state == latest)
      st.reg.set_task_healthy(fid, tid, *su.status.healthy);
    if (latest != t->state) {
      bool own = latest == su.status.state;
      auto u = st.reg.update_task(fid, tid, latest, own ? su.status.reason : task_reason::none,
                                  own ? su.status.message : std::string{});
      publish_task_updated(self, fid, su.status, latest);
      // Resources of an ended task are offered again right away, not at the next interval.
      if (u.terminal) {
        st.counters.count_terminal(latest);
        recover(self, fid, *sender, u.task.role, u.task.info.resources, 0);
      }
    }
  } else if (const auto* done = st.reg.ended_task(fid, tid);
             done != nullptr
             && (done->info.agent != *sender || (done->ended_by_master && done->state != latest))) {
    // The master ended this task itself with another state (e.g. TASK_LOST when its agent was unreachable, or
    // killed with its framework) and told the framework: it already has its one terminal state. A terminal state
    // the master only learnt from the agent (e.g. reported at re-registration) still has to reach the framework.
    // A task that still runs there (e.g. its run_task crossed the agent's re-registration) must not go on
    // unaccounted: kill it.
    if (!is_terminal(latest) && done->info.agent == *sender)
      if (auto a = st.agents.find(*sender); a != st.agents.end())
        self->send(a->second, atom::kill_task_v, fid, tid);
    ack_here("the master ended the task already");
    return;
  }
  // The task ends for good at its framework once this terminal update is acknowledged (on_ack).
  if (is_terminal(su.status.state) && !su.status.uuid.empty())
    st.reg.note_terminal_update(fid, tid, su.status.state, su.status.uuid);
  // Forward even if the task is no longer live: it may be the agent's retry of an unacknowledged update.
  if (auto s = st.schedulers.find(fid); s != st.schedulers.end()) {
    self->send(s->second, atom::update_v, su.status);
  } else if (st.reg.was_removed(fid) && !su.status.uuid.empty()) {
    // Nobody will acknowledge it: do it for the removed framework so the agent stops resending.
    self->send(st.agents[*sender], atom::ack_v, fid, tid, su.status.uuid);
  } else if (st.reg.framework(fid) != nullptr) {
    // Disconnected (failover timeout running): not acknowledged, the agent resends it to the next scheduler.
    LOG_DEBUG(component, "update for disconnected framework " << fid << " (task " << tid << ") held back");
  } else {
    LOG_WARN(component, "update for unknown framework " << fid << " (task " << tid << ") dropped");
  }
}

void on_ack(master_pointer self, const framework_id& fid, const agent_id& aid, const task_id& tid,
            const std::string& uuid) {
  auto& st = self->state;
  ++st.counters.messages_status_update_acknowledgement;
  if (!authorize(self, fid, "ack"))
    return;
  if (uuid.empty()) {
    refuse(self, "ack: empty uuid for task " + tid.value);
    return;
  }
  auto target = aid;
  if (target.empty()) {
    if (const auto* t = st.reg.live_task(fid, tid))
      target = t->info.agent;
    else if (const auto* d = st.reg.ended_task(fid, tid))
      target = d->info.agent;
  }
  auto a = st.agents.find(target);
  if (a == st.agents.end() && st.reg.is_gone(target)) {
    // Its updates died with it (MARK_AGENT_GONE): nothing left to acknowledge there.
    st.reg.acknowledge(fid, tid, uuid);
    return;
  }
  if (a == st.agents.end()) {
    refuse(self, "ack: unknown agent '" + target.value + "' for task " + tid.value);
    return;
  }
  self->send(a->second, atom::ack_v, fid, tid, uuid);
  // The acknowledgement of a terminal update: the task leaves its framework for the completed history.
  st.reg.acknowledge(fid, tid, uuid);
}

/// SUPPRESS / REVIVE for some roles of the framework (empty: all of them). Roles it is not subscribed to are
/// refused as a whole.
void suppress_or_revive(master_pointer self, const framework_id& fid, const std::vector<std::string>& roles,
                        bool suppress) {
  const char* call = suppress ? "suppress" : "revive";
  ++(suppress ? self->state.counters.messages_suppress_offers : self->state.counters.messages_revive_offers);
  if (!authorize(self, fid, call))
    return;
  const auto* fw = self->state.reg.framework(fid);
  if (fw == nullptr)
    return;
  auto mine = roles_of(fw->info);
  for (const auto& r : roles)
    if (std::find(mine.begin(), mine.end(), r) == mine.end()) {
      refuse(self, std::string{call} + ": framework " + fid.value + " is not subscribed to role '" + r
                     + "'; nothing was done");
      return;
    }
  auto& held = self->state.suppressed[fid];
  for (const auto& r : roles.empty() ? mine : roles)
    if (suppress)
      held.insert(r);
    else
      held.erase(r);
  if (suppress)
    self->send(self->state.allocator, atom::suppress_v, fid, roles);
  else
    self->send(self->state.allocator, atom::revive_v, fid, roles);
}

/// A weight or quota the allocator accepted: kept, so that a restarted allocator is told again.
void remember_role_setting(master_state& st, const registry_operation& op) {
  if (op.kind == registry_op_kind::set_weight)
    st.weights[op.role] = op.weight;
  else if (op.kind == registry_op_kind::set_quota)
    st.quotas[op.role] = op.quota;
}

// -- operator calls on agents ------------------------------------------------------------------------------

/// MARK_AGENT_GONE, once the registry has it: frameworks hear of their tasks' end, the agent is told to shut down.
void finish_mark_gone(master_pointer self, const agent_id& aid, const std::string& why) {
  auto& st = self->state;
  st.marking_gone.erase(aid);
  auto g = st.reg.mark_gone(aid, why);
  if (!g)
    return;
  using was = cluster_state::gone_agent::was;
  ++st.counters.slave_removals;
  st.health.forget(aid);
  LOG_WARN(component, "agent " << aid << " (" << g->info.hostname << ") is gone: " << why << "; "
                               << g->tasks.size() << " task(s) ended");
  for (const auto& o : g->offers)
    if (auto s = st.schedulers.find(o.framework); s != st.schedulers.end())
      self->send(s->second, atom::rescind_v, o.id);
  for (const auto& t : g->tasks) {
    auto status = master_status(t.info.id, aid, t.state, task_reason::agent_removed_by_operator, why);
    publish_task_updated(self, t.framework, status, t.state);
    send_update(self, t.framework, std::move(status));
  }
  // Ends the agent reported that never reached their (disconnected) framework: it learns them now.
  for (const auto& t : g->untold)
    send_update(self, t.framework, master_status(t.info.id, aid, t.state, t.reason, t.message));
  if (g->how == was::registered) {
    publish_agent_removed(self, aid);
    // The allocator forgets everything on it: no recover for its offers, tasks or executors.
    self->send(st.allocator, atom::remove_agent_v, aid);
  }
  if (g->how != was::unreachable)  // frameworks heard of an unreachable agent when it became so
    for (const auto& kv : st.schedulers)
      self->send(kv.second, atom::agent_lost_v, aid);
  if (auto a = st.agents.find(aid); a != st.agents.end())
    self->send(a->second, atom::shutdown_v, why);
  forget_agent_handle(self, aid);
  if (g->how == was::recovering)
    finish_recovery_if_done(self);
}

/// MARK_AGENT_GONE (see master_actor). The registry first (as Mesos): if it cannot be written the master steps
/// down and nothing was told to anyone; the agent keeps running until then.
caf::result<bool> mark_agent_gone(master_pointer self, const agent_id& aid, const std::string& by) {
  auto& st = self->state;
  if (!st.leading)
    return not_leading(self, "mark agent gone");
  auto who = identify_sender(self);
  if (!permitted(self, who, acl_action::mark_agents_gone, aid.value))
    return not_authorized(who, acl_action::mark_agents_gone, aid.value);
  if (st.reg.is_gone(aid))
    return true;
  if (st.reg.agent(aid) == nullptr && !st.reg.is_unreachable(aid) && !st.reg.is_recovered(aid))
    return false;
  if (st.marking_gone.count(aid) > 0)
    return caf::make_error(caf::sec::unavailable_or_would_block,
                           "agent " + aid.value + " is being marked gone; retry");
  st.marking_gone.insert(aid);
  LOG_WARN(component, "agent " << aid << ": marking it gone (asked by " << by << ")");
  auto rp = self->make_response_promise<bool>();
  write_registry(self, remove_agent_op(aid, now_seconds()), [self, aid, by, rp]() mutable {
    finish_mark_gone(self, aid, "agent removed by the operator (" + by + ")");
    rp.deliver(true);
  });
  return rp;
}

acl_action operation_acl(operation_type t) {
  switch (t) {
    case operation_type::reserve: return acl_action::reserve_resources;
    case operation_type::unreserve: return acl_action::unreserve_resources;
    case operation_type::create: return acl_action::create_volumes;
    default: return acl_action::destroy_volumes;
  }
}

/// The agent's outstanding offers to take back so that `needed` is free: none if what is neither used nor offered
/// holds it already, else offers holding some of what is missing, one by one, until it does (as Mesos). Nullopt
/// if even all of them would not free it (nothing is taken back then).
std::optional<std::vector<offer_id>> offers_to_take(const cluster_state& reg, const agent_entry& a,
                                                    const resource_set& needed) {
  std::vector<offer_id> take;
  auto free = a.info.total - a.used - a.offered;
  for (const auto& oid : a.offer_ids()) {
    if (free.contains(needed))
      break;
    const auto& o = reg.offers().at(oid);
    auto missing = needed - free;
    if (missing - o.resources == missing)
      continue;  // holds nothing that is missing
    free += o.resources;
    take.push_back(oid);
  }
  if (!free.contains(needed))
    return std::nullopt;
  return take;
}

/// RESERVE_RESOURCES, UNRESERVE_RESOURCES, CREATE_VOLUMES, DESTROY_VOLUMES (see master_actor). Our view changes at
/// once (a framework's ACCEPT checked meanwhile sees it: no volume ID twice) and goes back if the allocator refuses.
caf::result<bool> operator_operation(master_pointer self, const agent_id& aid, const offer_operation& op,
                                     const std::string& by) {
  auto& st = self->state;
  if (!st.leading)
    return not_leading(self, operation_name(op.type));
  if (op.type == operation_type::launch || op.type == operation_type::launch_group)
    return caf::make_error(caf::sec::invalid_argument, "an operator cannot launch tasks");
  auto who = identify_sender(self);
  for (const auto& r : op.resources.items())
    if (!permitted(self, who, operation_acl(op.type), r.role))
      return not_authorized(who, operation_acl(op.type), r.role);
  const auto* a = st.reg.agent(aid);
  if (a == nullptr)
    return caf::make_error(caf::sec::invalid_argument, "unknown agent '" + aid.value + "'");
  if (!a->connected || st.agents.count(aid) == 0)
    return caf::make_error(caf::sec::runtime_error, "agent " + aid.value + " is disconnected; retry once it is back");
  resource_conversion conv;
  if (auto err = to_conversion(op, "", a->info.total, a->info.total, conv); !err.empty())
    return caf::make_error(caf::sec::invalid_argument, err);
  auto take = offers_to_take(st.reg, *a, conv.consumed);
  if (!take)
    return caf::make_error(caf::sec::runtime_error, "resources " + conv.consumed.to_string() + " are not free on agent "
                                                      + aid.value + " (in use by tasks or executors)");
  if (auto err = st.reg.apply_conversion(aid, conv); !err.empty())
    return caf::make_error(caf::sec::invalid_argument, err);
  // The offers' resources go back in the allocator's step that converts: no allocation run between them.
  std::vector<allocation> returned;
  for (const auto& oid : *take)
    if (auto o = take_back_offer(self, oid, "operator operation"))
      returned.push_back(allocation{o->framework, o->agent, o->role, o->resources});
  auto rp = self->make_response_promise<bool>();
  self->request(st.allocator, caf::infinite, atom::update_alloc_v, aid, conv.consumed, conv.produced, returned)
    .then(
      [=](bool) mutable {
        LOG_INFO(component, "operator (" << by << "): " << operation_name(op.type) << " " << op.resources
                                         << " on agent " << aid);
        if (auto h = self->state.agents.find(aid); h != self->state.agents.end())
          self->send(h->second, atom::apply_op_v, framework_id{}, op);
        rp.deliver(true);
      },
      [=](caf::error& err) mutable {
        LOG_WARN(component, "operator (" << by << "): " << operation_name(op.type) << " " << op.resources
                                         << " on agent " << aid << " refused: " << self->system().render(err));
        if (self->state.reg.agent(aid) != nullptr)
          if (auto msg = self->state.reg.apply_conversion(aid, resource_conversion{conv.produced, conv.consumed});
              !msg.empty())
            LOG_ERROR(component, "agent " << aid << ": the refused operation could not be undone: " << msg);
        rp.deliver(std::move(err));
      });
  return rp;
}

/// Forwards an operator's change to the allocator (which validates it); on success rescinds the offers that
/// `invalidated` selects and replies true, else replies the allocator's error.
template <class Predicate, class... Ts>
caf::result<bool> operator_change(master_pointer self, const std::string& what, Predicate invalidated,
                                  registry_operation op, Ts&&... xs) {
  if (!self->state.leading)
    return not_leading(self, "operator call");
  auto rp = self->make_response_promise<bool>();
  self->request(self->state.allocator, caf::infinite, std::forward<Ts>(xs)...)
    .then(
      [self, rp, what, invalidated, op](bool) mutable {
        remember_role_setting(self->state, op);
        auto n = rescind_offers(self, invalidated, "operator change");
        LOG_INFO(component, what << "; " << n << " offer(s) rescinded");
        write_registry(self, op, [rp]() mutable { rp.deliver(true); });
      },
      [self, rp, what](caf::error& err) mutable {
        LOG_WARN(component, what << " refused: " << self->system().render(err));
        rp.deliver(std::move(err));
      });
  return rp;
}

} // namespace

/// The registrar dies with the master; the master hears when the registrar dies.
void watch_registrar(master_pointer self) {
  auto reg = self->state.registrar.address();
  self->monitor(reg);
  self->attach_functor([reg](const caf::error&) { caf::anon_send_exit(reg, caf::exit_reason::user_shutdown); });
}

/// The registrar died: restarted within the budget when the master started it, else the master steps down. A
/// leading master's new registrar loads the store first (it refuses writes before), then gets every write that
/// was not confirmed.
void on_registrar_down(master_pointer self, const caf::error& reason) {
  auto& st = self->state;
  auto why = self->system().render(reason);
  if (!st.make_registrar || !st.registrar_restarts.on_failure(std::chrono::steady_clock::now())) {
    step_down(self, "the registrar terminated (" + why + ")" + (st.make_registrar ? ", too often" : ""));
    return;
  }
  LOG_WARN(component, "the registrar terminated (" << why << "); restarting it, " << st.registry_writes.size()
                                                    << " write(s) to send again");
  st.registrar = st.make_registrar();
  watch_registrar(self);
  if (!st.elected)
    return; // recovers when elected (on_elected)
  st.registrar_ready = false;
  self->request(st.registrar, caf::infinite, atom::recover_v)
    .then(
      [self](const registry_data&) {
        auto& st = self->state;
        st.registrar_ready = true;
        st.registry_writes.for_each([self](uint64_t seq, const auto&) { send_registry_write(self, seq); });
      },
      [self](const caf::error& err) {
        step_down(self, "the restarted registrar cannot load the registry: " + self->system().render(err));
      });
}

/// The allocator dies with the master; the master hears when the allocator dies.
void watch_allocator(master_pointer self) {
  auto alloc = self->state.allocator.address();
  self->monitor(alloc);
  self->attach_functor([alloc](const caf::error&) { caf::anon_send_exit(alloc, caf::exit_reason::user_shutdown); });
}

/// Tells a new allocator everything the old one knew and the master knows too: weights, quota, frameworks
/// (active or not, suppressed roles), agents with what is allocated on them (tasks, executors, outstanding
/// offers: they stay valid). Filters are lost, as on a master failover in Mesos.
void rebuild_allocator(master_pointer self) {
  auto& st = self->state;
  auto log_refusal = [self](std::string what) {
    return [self, what](const caf::error& err) {
      LOG_ERROR(component, "rebuilding the allocator: " << what << " refused: " << self->system().render(err));
    };
  };
  for (const auto& [role, weight] : st.weights)
    self->request(st.allocator, caf::infinite, atom::set_weight_v, role, weight)
      .then([](bool) {}, log_refusal("weight of role " + role));
  for (const auto& [role, quota] : st.quotas)
    self->request(st.allocator, caf::infinite, atom::set_quota_v, role, quota)
      .then([](bool) {}, log_refusal("quota of role " + role));
  for (const auto& [fid, fw] : st.reg.frameworks()) {
    self->send(st.allocator, atom::add_fw_v, fid, fw.info);
    if (!fw.active)
      self->send(st.allocator, atom::deactivate_v, fid);
    if (auto s = st.suppressed.find(fid); s != st.suppressed.end() && !s->second.empty())
      self->send(st.allocator, atom::suppress_v, fid, std::vector<std::string>(s->second.begin(), s->second.end()));
  }
  for (const auto& [aid, a] : st.reg.agents()) {
    if (st.admitting.count(aid) > 0)
      continue; // new: the allocator learns of it once its admission is durable (register_agent)
    // A re-registered agent whose registry write is pending is offered once it is durable (reply_when_durable).
    bool offer_now = a.connected && st.awaiting_durable.count(aid) == 0;
    self->send(st.allocator, atom::add_agent_v, aid, a.info.total, st.reg.allocations_on(aid), offer_now);
  }
}

/// The allocator died: respawned and rebuilt within the restart budget (the master owns it), else the master
/// stops, as a crash loop must not hide behind restarts.
void on_allocator_down(master_pointer self, const caf::error& reason) {
  auto& st = self->state;
  auto why = self->system().render(reason);
  if (!st.make_allocator || !st.allocator_restarts.on_failure(std::chrono::steady_clock::now())) {
    LOG_ERROR(component, "the allocator terminated (" << why << ")"
                           << (st.make_allocator ? ", too often" : "") << "; the master stops");
    self->quit(reason);
    return;
  }
  LOG_WARN(component, "the allocator terminated (" << why << "); restarting it, rebuilt from the master's state ("
                                                    << st.reg.agents().size() << " agent(s), "
                                                    << st.reg.frameworks().size() << " framework(s))");
  st.allocator = st.make_allocator();
  watch_allocator(self);
  rebuild_allocator(self);
}

master_actor::behavior_type master(master_pointer self, master_options opts, allocator_actor existing,
                                   allocator_factory make) {
  auto& st = self->state;
  st.reg = cluster_state{opts.limits};
  st.max_refuse_seconds = opts.allocator.max_refuse_seconds;
  st.min_decline_seconds
    = std::min(std::chrono::duration<double>(opts.allocation_interval).count(), st.max_refuse_seconds);
  if (existing) {
    st.allocator = std::move(existing);
  } else {
    if (!make) {
      allocator_options aopts;
      aopts.interval = opts.allocation_interval;
      aopts.config = opts.allocator;
      make = [aopts](caf::actor_system& sys, const allocation_listener_actor& listener) {
        return spawn_allocator(sys, listener, aopts);
      };
    }
    st.make_allocator = [self, make] { return make(self->system(), caf::actor_cast<allocation_listener_actor>(self)); };
    st.allocator = st.make_allocator();
  }
  for (const auto& [role, weight] : opts.weights)
    st.weights[role] = weight;
  st.offer_timeout = opts.offer_timeout;
  st.acls = opts.acls;
  st.ping_timeout = opts.agent_ping_timeout;
  st.health = agent_health{opts.max_agent_ping_timeouts, opts.removal_limit_count,
                           std::chrono::duration_cast<agent_health::duration>(opts.removal_limit_period)};
  for (const auto& [role, weight] : opts.weights) {
    self->request(st.allocator, caf::infinite, atom::set_weight_v, role, weight)
      .then([role = role, weight = weight](bool) { LOG_INFO(component, "role " << role << " has weight " << weight); },
            [self, role = role](const caf::error& err) {
              LOG_ERROR(component, "weight of role " << role << " refused: " << self->system().render(err));
            });
  }
  watch_allocator(self);
  st.registrar = opts.registrar;
  if (opts.make_registrar) {
    st.make_registrar = [self, make = opts.make_registrar] { return make(self->system()); };
    st.registrar = st.make_registrar();
  }
  st.agent_reregister_timeout = opts.agent_reregister_timeout;
  st.recovered = opts.recovered;
  st.start_time = now_seconds();
  if (st.registrar)
    watch_registrar(self);
  if (opts.start_as_leader) {
    if (st.registrar) {
      on_elected(self);
    } else {
      st.elected = true;  // nothing to recover: serve from the first message on
      st.leading = true;
      st.elected_time = st.start_time;
    }
  }
  self->set_down_handler([=](const caf::down_msg& dm) {
    auto& st = self->state;
    if (st.registrar && dm.source == st.registrar.address()) {
      on_registrar_down(self, dm.reason);
      return;
    }
    if (dm.source == st.allocator.address()) {
      on_allocator_down(self, dm.reason);
      return;
    }
    if (auto i = st.agent_by_addr.find(dm.source); i != st.agent_by_addr.end()) {
      auto aid = i->second;
      disconnect_agent(self, aid, self->system().render(dm.reason));
      return;
    }
    if (forget_listener(self, dm.source))
      return;
    if (auto i = st.framework_by_addr.find(dm.source); i != st.framework_by_addr.end()) {
      auto fid = i->second;
      const auto* fw = st.reg.framework(fid);
      auto why = "scheduler disconnected: " + self->system().render(dm.reason);
      if (fw != nullptr && fw->info.failover_timeout > 0)
        disconnect_framework(self, fid, why);
      else
        remove_framework(self, fid, why);
      return;
    }
  });
  return {
    // -- from agents --
    [=](atom::reg_agent, const agent_info& info, const agent_actor& hdl) -> caf::result<agent_id> {
      if (!self->state.leading)
        return not_leading(self, "register agent");
      return register_agent(self, info, hdl);
    },
    // Mutable: the registry takes the task infos out of the message (CAF copies it only if it is shared).
    [=](atom::rereg_agent, agent_reregistration& r, const agent_actor& hdl) -> caf::result<agent_id> {
      if (!self->state.leading)
        return not_leading(self, "re-register agent");
      return reregister_agent(self, r, hdl);
    },
    [=](atom::update, const status_update& su) { on_status_update(self, su); },
    [=](atom::exec_msg, const framework_id& fid, const agent_id& aid, const executor_id& eid,
        const std::string& data) {
      auto sender = authorize_agent(self, aid, "exec_msg");
      if (!sender)
        return;
      ++self->state.counters.messages_executor_to_framework;
      if (auto s = self->state.schedulers.find(fid); s != self->state.schedulers.end())
        self->send(s->second, atom::fw_msg_v, *sender, eid, data);
      else
        LOG_WARN(component, "executor message for unknown framework " << fid << " dropped");
    },
    [=](atom::exec_lost, const framework_id& fid, const agent_id& aid, const executor_id& eid, int32_t status) {
      auto sender = authorize_agent(self, aid, "exec_lost");
      if (!sender)
        return;
      // The executor's resources are free again; remove_executor answers once, so a repeat recovers nothing.
      auto role = self->state.reg.executor_role(fid, *sender, eid);
      if (auto e = self->state.reg.remove_executor(fid, *sender, eid))
        recover(self, fid, *sender, role, e->resources, 0);
      if (auto s = self->state.schedulers.find(fid); s != self->state.schedulers.end())
        self->send(s->second, atom::exec_lost_v, eid, *sender, status);
    },
    // -- from schedulers --
    [=](atom::subscribe, const framework_info& info, const scheduler_actor& hdl) -> caf::result<framework_id> {
      if (!self->state.leading)
        return not_leading(self, "subscribe");
      ++self->state.counters.messages_register_framework;
      return subscribe(self, info, hdl);
    },
    [=](atom::teardown, const framework_id& fid) {
      if (authorize(self, fid, "teardown")) {
        ++self->state.counters.messages_teardown_framework;
        remove_framework(self, fid, "torn down by its scheduler");
      }
    },
    [=](atom::teardown, const framework_id& fid, const std::string& by) -> caf::result<bool> {
      // The operator's teardown (HTTP /teardown, which authorizes its requests; remote senders: teardown_frameworks).
      if (!self->state.leading)
        return not_leading(self, "teardown");
      const auto* fw = self->state.reg.framework(fid);
      if (fw == nullptr)
        return false;
      auto who = identify_sender(self);
      if (!permitted(self, who, acl_action::teardown_frameworks, fw->info.principal))
        return not_authorized(who, acl_action::teardown_frameworks, fw->info.principal);
      ++self->state.counters.messages_teardown_framework;
      // Its scheduler hears why (Mesos: "Framework has been removed"); a driver aborts on it.
      if (auto s = self->state.schedulers.find(fid); s != self->state.schedulers.end())
        self->send(s->second, atom::error_v, "Framework has been removed (torn down by " + by + ")");
      remove_framework(self, fid, "torn down by " + by);
      return true;
    },
    [=](atom::accept, const framework_id& fid, const std::vector<offer_id>& ids,
        const std::vector<offer_operation>& ops, const filters& f) { on_accept(self, fid, ids, ops, f); },
    [=](atom::decline, const framework_id& fid, const std::vector<offer_id>& ids, const filters& f) {
      on_decline(self, fid, ids, f);
    },
    [=](atom::revive, const framework_id& fid) { suppress_or_revive(self, fid, {}, false); },
    [=](atom::suppress, const framework_id& fid) { suppress_or_revive(self, fid, {}, true); },
    [=](atom::revive, const framework_id& fid, const std::vector<std::string>& roles) {
      suppress_or_revive(self, fid, roles, false);
    },
    [=](atom::suppress, const framework_id& fid, const std::vector<std::string>& roles) {
      suppress_or_revive(self, fid, roles, true);
    },
    [=](atom::kill, const framework_id& fid, const task_id& tid, const agent_id& aid) {
      on_kill(self, fid, tid, aid, nullptr);
    },
    [=](atom::update_fw, const framework_info& info) { on_update_framework(self, info); },
    [=](atom::kill, const framework_id& fid, const task_id& tid, const agent_id& aid, const kill_policy& p) {
      on_kill(self, fid, tid, aid, &p);
    },
    [=](atom::ack, const framework_id& fid, const agent_id& aid, const task_id& tid, const std::string& uuid) {
      on_ack(self, fid, aid, tid, uuid);
    },
    [=](atom::reconcile, const framework_id& fid, const std::vector<task_status>& tasks) {
      if (!authorize(self, fid, "reconcile"))
        return;
      ++self->state.counters.messages_reconcile_tasks;
      auto answers = reconcile_tasks(self->state.reg, fid, tasks, now_seconds());
      LOG_DEBUG(component, "reconcile: framework " << fid << " asked for " << tasks.size() << " task(s), "
                                                   << answers.size() << " answer(s)");
      for (auto& a : answers)
        send_update(self, fid, std::move(a));
    },
    [=](atom::fw_msg, const framework_id& fid, const agent_id& aid, const executor_id& eid,
        const std::string& data) {
      if (!authorize(self, fid, "fw_msg"))
        return;
      ++self->state.counters.messages_framework_to_executor;
      auto a = self->state.agents.find(aid);
      if (a == self->state.agents.end()) {
        refuse(self, "fw_msg: unknown agent '" + aid.value + "'");
        return;
      }
      self->send(a->second, atom::fw_msg_v, fid, eid, data);
    },
    [=](atom::shutdown, const framework_id& fid, const executor_id& eid, const agent_id& aid) {
      if (!authorize(self, fid, "shutdown"))
        return;
      auto a = self->state.agents.find(aid);
      if (a == self->state.agents.end()) {
        refuse(self, "shutdown: unknown agent '" + aid.value + "'");
        return;
      }
      LOG_INFO(component, "framework " << fid << " shuts down executor " << eid << " on agent " << aid);
      self->send(a->second, atom::shutdown_v, fid, eid);
    },
    // -- from operators --
    [=](atom::apply_op, const agent_id& aid, const offer_operation& op, const std::string& by) -> caf::result<bool> {
      return operator_operation(self, aid, op, by);
    },
    [=](atom::remove_agent, const agent_id& aid, const std::string& by) -> caf::result<bool> {
      return mark_agent_gone(self, aid, by);
    },
    [=](atom::set_weight, const std::string& role, double weight) -> caf::result<bool> {
      if (auto who = identify_sender(self); !permitted(self, who, acl_action::update_weights, role))
        return not_authorized(who, acl_action::update_weights, role);
      // A weight changes the order among the role's siblings: offers in its subtree may now be unfair.
      return operator_change(
        self, "weight of role " + role + " set to " + std::to_string(weight),
        [role](const offer& o) { return is_role_or_ancestor(role, o.role); },
        [&] {
          registry_operation op;
          op.kind = registry_op_kind::set_weight;
          op.role = role;
          op.weight = weight;
          return op;
        }(),
        atom::set_weight_v, role, weight);
    },
    [=](atom::watch, const operator_listener_actor& listener) { return watch(self, listener); },
    [=](atom::set_quota, const std::string& role, const quota_info& quota) -> caf::result<bool> {
      if (auto who = identify_sender(self); !permitted(self, who, acl_action::update_quotas, role))
        return not_authorized(who, acl_action::update_quotas, role);
      // Guarantees and headroom concern every role: all outstanding offers may now be wrong.
      return operator_change(
        self, "quota of role " + role + " set to guarantee " + quota.guarantee.to_string() + " limit "
                + quota.limit.to_string(),
        [](const offer&) { return true; },
        [&] {
          registry_operation op;
          op.kind = registry_op_kind::set_quota;
          op.role = role;
          op.quota = quota;
          return op;
        }(),
        atom::set_quota_v, role, quota);
    },
    // -- internal --
    [=](atom::timeout, const offer_id& oid) {
      if (sender_addr(self) != self->address()) {
        LOG_WARN(component, "timeout: ignored, not sent by the master itself");
        return;
      }
      // Answered offers are gone from the registry already: then nothing happens.
      rescind_offer(self, oid, "offer timeout");
    },
    [=](atom::health) {
      if (sender_addr(self) != self->address()) {
        LOG_WARN(component, "health: ignored, not sent by the master itself");
        return;
      }
      self->state.health_armed = false;
      health_round(self);
      arm_health(self);
    },
    [=](atom::unreachable) {
      if (sender_addr(self) != self->address()) {
        LOG_WARN(component, "unreachable: ignored, not sent by the master itself");
        return;
      }
      auto& st = self->state;
      st.removal_pending = false;
      if (auto aid = st.health.next_removal(self->clock().now()))
        mark_unreachable(self, *aid);
      schedule_removal(self);
    },
    [=](atom::failover, const framework_id& fid, uint64_t gen) {
      if (sender_addr(self) != self->address()) {
        LOG_WARN(component, "failover: ignored, not sent by the master itself");
        return;
      }
      auto& st = self->state;
      auto i = st.failover_gen.find(fid);
      if (i == st.failover_gen.end() || i->second != gen)
        return; // taken over (or removed) meanwhile
      st.failover_gen.erase(i);
      remove_framework(self, fid, "failover timeout expired");
    },
    [=](atom::rereg_deadline, uint64_t gen) {
      auto& st = self->state;
      if (sender_addr(self) != self->address() || gen != st.rereg_deadline_gen)
        return;
      size_t n = 0;
      for (const auto& [aid, info] : st.reg.recovering())
        n += st.health.enqueue(aid) ? 1 : 0;
      if (n > 0)
        LOG_WARN(component, n << " agent(s) did not re-register within --agent-reregister-timeout: queued to be "
                              << "marked unreachable");
      schedule_removal(self);
    },
    // -- from the contender and the detector --
    [=](atom::elected) {
      if (from_this_process(self, "elected"))
        on_elected(self);
    },
    [=](atom::stepdown, const std::string& why) {
      if (from_this_process(self, "stepdown"))
        step_down(self, why);
    },
    [=](atom::leader, const master_location& loc) {
      if (!from_this_process(self, "leader"))
        return;
      auto& st = self->state;
      if (loc == st.leader)
        return;
      st.leader = loc;
      if (!st.elected)
        LOG_INFO(component, "standing by; the leader is " << (loc.empty() ? std::string{"unknown"} : loc.endpoint()));
    },
    // -- introspection --
    [=](atom::state) -> caf::result<master_snapshot> {
      auto rp = self->make_response_promise<master_snapshot>();
      self->request(self->state.allocator, caf::infinite, atom::roles_v)
        .then(
          [self, rp](std::vector<role_summary>& roles) mutable {
            auto snap = self->state.reg.snapshot();
            snap.roles = std::move(roles);
            snap.leading = self->state.leading;
            snap.leader = self->state.leader.empty() ? std::string{} : self->state.leader.endpoint();
            rp.deliver(std::move(snap));
          },
          [self, rp](const caf::error& err) mutable {
            LOG_WARN(component, "state: no roles from the allocator: " << self->system().render(err));
            auto snap = self->state.reg.snapshot();
            snap.leading = self->state.leading;
            snap.leader = self->state.leader.empty() ? std::string{} : self->state.leader.endpoint();
            rp.deliver(std::move(snap));
          });
      return rp;
    },
    [=](atom::state_page, const state_cursor& at) { return state_page(self, at); },
    [=](atom::metrics) { return metrics_of(self); },
    // -- from the allocator --
    [=](atom::allocate, const std::vector<allocation>& allocs) { on_allocate(self, allocs); },
  };
}

master_actor spawn_master(caf::actor_system& sys, master_options opts) {
  return sys.spawn(master, std::move(opts), allocator_actor{}, allocator_factory{});
}

master_actor spawn_master(caf::actor_system& sys, master_options opts, allocator_actor existing) {
  return sys.spawn(master, std::move(opts), std::move(existing), allocator_factory{});
}

master_actor spawn_master(caf::actor_system& sys, master_options opts, allocator_factory make) {
  return sys.spawn(master, std::move(opts), allocator_actor{}, std::move(make));
}

} // namespace mesoscaf
