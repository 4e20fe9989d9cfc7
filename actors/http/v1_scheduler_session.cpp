#include "actors/http/v1_scheduler_session.hpp"

#include "actors/http/v1_session_support.hpp"
#include "config/support/logging.hpp"
#include "config/support/version.hpp"
#include "messages/mesos_v1/convert.hpp"
#include "messages/mesos_v1/recordio.hpp"
#include "messages/mesos_v1/scheduler.pb.h"
#include "messages/mesos_v1/wire_codec.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <arpa/inet.h>

namespace mesoscaf::http {

namespace {

constexpr const char* component = "v1-scheduler";

namespace sched = ::mesos::v1::scheduler;
namespace v1 = ::mesos::v1;
using mesos_v1::from_v1;
using mesos_v1::to_v1;

struct session_state {
  v1_session_options opts;
  framework_id fid;
  framework_info info;
  mesos_v1::resource_format format;
  bool subscribed = false;
  static inline const char* name = "v1-scheduler-session";
};

using session_pointer = v1_scheduler_session_actor::stateful_pointer<session_state>;

/// Sends one event; false (and the session ends) if the subscriber is gone or too far behind.
bool emit(session_pointer self, const sched::Event& e) {
  auto& st = self->state;
  if (push_event(*st.opts.stream, st.opts.codec, e))
    return true;
  self->quit();
  return false;
}

/// ERROR, then the end of the stream (Mesos closes it after an ERROR).
void fail(session_pointer self, const std::string& message) {
  sched::Event e;
  e.set_type(sched::Event::ERROR);
  e.mutable_error()->set_message(message);
  emit(self, e);
  self->state.opts.stream->finish();
  self->quit();
}

void subscribed(session_pointer self) {
  auto& st = self->state;
  sched::Event e;
  e.set_type(sched::Event::SUBSCRIBED);
  auto* s = e.mutable_subscribed();
  s->mutable_framework_id()->set_value(st.fid.value);
  s->set_heartbeat_interval_seconds(std::chrono::duration<double>(st.opts.heartbeat).count());
  const auto& id = st.opts.master_identity;
  auto* m = s->mutable_master_info();
  m->set_id(id.id.empty() ? "mesoscaf" : id.id);
  in_addr addr{};
  m->set_ip(::inet_pton(AF_INET, id.address.c_str(), &addr) == 1 ? addr.s_addr : 0);
  m->set_port(id.http_port);
  m->set_hostname(id.hostname);
  m->set_pid("master@" + id.address + ":" + std::to_string(id.http_port));
  m->set_version(product_version());
  m->mutable_address()->set_hostname(id.hostname);
  m->mutable_address()->set_ip(id.address);
  m->mutable_address()->set_port(id.http_port);
  if (emit(self, e))
    self->delayed_send(self, st.opts.heartbeat, atom::tick_v);
}

std::string on_accept(session_pointer self, const sched::Call::Accept& a) {
  auto& st = self->state;
  std::vector<offer_id> offers;
  for (const auto& o : a.offer_ids())
    offers.push_back(offer_id{o.value()});
  filters f;
  std::string err = from_v1(a.filters(), f);
  std::vector<offer_operation> ops;
  for (int i = 0; err.empty() && i < a.operations_size(); ++i) {
    offer_operation op;
    err = from_v1(a.operations(i), op);
    if (!err.empty())
      err = "accept.operations[" + std::to_string(i) + "]: " + err;
    ops.push_back(std::move(op));
  }
  if (!err.empty()) {
    // The offers go back rather than stay outstanding until their timeout.
    self->send(st.opts.master, atom::decline_v, st.fid, offers, filters{});
    return err + " (the offers were declined)";
  }
  self->send(st.opts.master, atom::accept_v, st.fid, std::move(offers), std::move(ops), f);
  return {};
}

std::string on_call(session_pointer self, const sched::Call& call) {
  auto& st = self->state;
  const auto& master = st.opts.master;
  auto roles = [](const auto& list) { return std::vector<std::string>(list.begin(), list.end()); };
  switch (call.type()) {
    case sched::Call::TEARDOWN:
      self->send(master, atom::teardown_v, st.fid);
      return {};
    case sched::Call::ACCEPT:
      return on_accept(self, call.accept());
    case sched::Call::DECLINE: {
      std::vector<offer_id> offers;
      for (const auto& o : call.decline().offer_ids())
        offers.push_back(offer_id{o.value()});
      filters f;
      if (auto err = from_v1(call.decline().filters(), f); !err.empty())
        return "decline." + err;
      self->send(master, atom::decline_v, st.fid, std::move(offers), f);
      return {};
    }
    case sched::Call::REVIVE:
      if (call.revive().roles_size() == 0)
        self->send(master, atom::revive_v, st.fid);
      else
        self->send(master, atom::revive_v, st.fid, roles(call.revive().roles()));
      return {};
    case sched::Call::SUPPRESS:
      if (call.suppress().roles_size() == 0)
        self->send(master, atom::suppress_v, st.fid);
      else
        self->send(master, atom::suppress_v, st.fid, roles(call.suppress().roles()));
      return {};
    case sched::Call::KILL: {
      const auto& k = call.kill();
      task_id task{k.task_id().value()};
      agent_id agent{k.has_agent_id() ? k.agent_id().value() : std::string{}};
      if (k.has_kill_policy() && k.kill_policy().has_grace_period()) {
        if (k.kill_policy().grace_period().nanoseconds() < 0)
          return "kill.kill_policy.grace_period is negative";
        kill_policy p;
        p.grace_period = static_cast<double>(k.kill_policy().grace_period().nanoseconds()) / 1e9;
        self->send(master, atom::kill_v, st.fid, task, agent, p);
      } else {
        self->send(master, atom::kill_v, st.fid, task, agent);
      }
      return {};
    }
    case sched::Call::ACKNOWLEDGE: {
      const auto& a = call.acknowledge();
      self->send(master, atom::ack_v, st.fid, agent_id{a.agent_id().value()}, task_id{a.task_id().value()},
                 mesos_v1::uuid_from_wire(a.uuid()));
      return {};
    }
    case sched::Call::RECONCILE: {
      std::vector<task_status> tasks;
      for (const auto& t : call.reconcile().tasks()) {
        task_status s;
        s.task = task_id{t.task_id().value()};
        if (t.has_agent_id())
          s.agent = agent_id{t.agent_id().value()};
        tasks.push_back(std::move(s));
      }
      self->send(master, atom::reconcile_v, st.fid, std::move(tasks));
      return {};
    }
    case sched::Call::MESSAGE: {
      const auto& m = call.message();
      self->send(master, atom::fw_msg_v, st.fid, agent_id{m.agent_id().value()},
                 executor_id{m.executor_id().value()}, m.data());
      return {};
    }
    case sched::Call::SHUTDOWN:
      self->send(master, atom::shutdown_v, st.fid, executor_id{call.shutdown().executor_id().value()},
                 agent_id{call.shutdown().agent_id().value()});
      return {};
    case sched::Call::UPDATE_FRAMEWORK: {
      framework_info info;
      if (auto err = from_v1(call.update_framework().framework_info(), info); !err.empty())
        return "update_framework." + err;
      info.id = st.fid;
      st.format = mesos_v1::resource_format::of(info);
      self->send(master, atom::update_fw_v, info);
      if (call.update_framework().suppressed_roles_size() > 0)
        self->send(master, atom::suppress_v, st.fid, roles(call.update_framework().suppressed_roles()));
      return {};
    }
    default:
      return "call " + sched::Call::Type_Name(call.type()) + " is not served";
  }
}

} // namespace

v1_scheduler_session_actor spawn_v1_scheduler_session(caf::actor_system& sys, v1_session_options opts) {
  auto fn = [](session_pointer self, v1_session_options o) -> v1_scheduler_session_actor::behavior_type {
    self->state.opts = std::move(o);
    // The client leaving ends the session; the master then sees its scheduler go (failover timeout).
    tie_to_stream(self, self->state.opts.stream, self->state.opts.on_exit);
    // Without a master there is nothing to stream: the subscriber reconnects to the next leader.
    self->monitor(self->state.opts.master);
    self->set_down_handler([self](const caf::down_msg&) { fail(self, "the master went away"); });
    return {
      [self](atom::subscribe, framework_info info,
             std::vector<std::string> suppressed) -> caf::result<framework_id> {
        auto& st = self->state;
        if (st.subscribed)
          return caf::make_error(caf::sec::invalid_argument, "this stream is already subscribed");
        st.subscribed = true;
        st.info = info;
        st.format = mesos_v1::resource_format::of(info);
        auto rp = self->make_response_promise<framework_id>();
        auto me = caf::actor_cast<scheduler_actor>(self);
        self->request(st.opts.master, st.opts.timeout, atom::subscribe_v, std::move(info), me)
          .then(
            [self, rp, suppressed](const framework_id& fid) mutable {
              self->state.fid = fid;
              self->state.info.id = fid;
              subscribed(self);
              if (!suppressed.empty())
                self->send(self->state.opts.master, atom::suppress_v, fid, suppressed);
              LOG_INFO(component, "framework " << fid << " subscribed over HTTP");
              rp.deliver(fid);
            },
            [self, rp](caf::error& e) mutable {
              rp.deliver(e);
              self->quit();
            });
        return rp;
      },
      [self](atom::v1_call, const std::string& bytes) -> std::string {
        sched::Call call;
        if (!call.ParseFromString(bytes))
          return "malformed call";
        if (self->state.fid.empty())
          return "the stream is not subscribed yet";
        return on_call(self, call);
      },
      [self](atom::tick) {
        sched::Event e;
        e.set_type(sched::Event::HEARTBEAT);
        if (emit(self, e))
          self->delayed_send(self, self->state.opts.heartbeat, atom::tick_v);
      },
      [self](atom::exited) { self->quit(); },
      // -- from the master --
      [self](atom::offers, const std::vector<offer>& offers) {
        sched::Event e;
        e.set_type(sched::Event::OFFERS);
        for (const auto& o : offers)
          to_v1(o, self->state.format, e.mutable_offers()->add_offers());
        emit(self, e);
      },
      [self](atom::rescind, const offer_id& id) {
        sched::Event e;
        e.set_type(sched::Event::RESCIND);
        e.mutable_rescind()->mutable_offer_id()->set_value(id.value);
        emit(self, e);
      },
      [self](atom::update, const task_status& status) {
        sched::Event e;
        e.set_type(sched::Event::UPDATE);
        to_v1(status, e.mutable_update()->mutable_status());
        emit(self, e);
      },
      [self](atom::fw_msg, const agent_id& agent, const executor_id& exec, const std::string& data) {
        sched::Event e;
        e.set_type(sched::Event::MESSAGE);
        auto* m = e.mutable_message();
        m->mutable_agent_id()->set_value(agent.value);
        m->mutable_executor_id()->set_value(exec.value);
        m->set_data(data);
        emit(self, e);
      },
      [self](atom::agent_lost, const agent_id& agent) {
        sched::Event e;
        e.set_type(sched::Event::FAILURE);
        e.mutable_failure()->mutable_agent_id()->set_value(agent.value);
        emit(self, e);
      },
      [self](atom::exec_lost, const executor_id& exec, const agent_id& agent, int32_t status) {
        sched::Event e;
        e.set_type(sched::Event::FAILURE);
        auto* f = e.mutable_failure();
        f->mutable_agent_id()->set_value(agent.value);
        f->mutable_executor_id()->set_value(exec.value);
        f->set_status(status);
        emit(self, e);
      },
      [self](atom::error, const std::string& message) {
        // ERROR is fatal to a v1 framework (Mesos sends it only when the framework is removed): the stream ends.
        // The master's other refusals leave the framework subscribed; their effects reach the framework as
        // status updates (TASK_ERROR, TASK_DROPPED), as in Mesos, and the reason is logged here.
        if (message.rfind("Framework has been removed", 0) == 0)
          return fail(self, message);
        LOG_INFO(component, "framework " << self->state.fid << ": " << message);
      },
      [self](atom::replaced, const framework_id&) { fail(self, "Framework failed over"); },
    };
  };
  return sys.spawn(fn, std::move(opts));
}

} // namespace mesoscaf::http
