#include "actors/http/v1_executor_session.hpp"

#include "actors/http/v1_http_support.hpp"
#include "actors/http/v1_session_support.hpp"
#include "config/support/logging.hpp"
#include "messages/mesos_v1/convert.hpp"
#include "messages/mesos_v1/executor.pb.h"
#include "messages/mesos_v1/recordio.hpp"
#include "messages/mesos_v1/wire_codec.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <algorithm>

namespace mesoscaf::http {

namespace {

constexpr const char* component = "v1-executor";

namespace exec = ::mesos::v1::executor;
using mesos_v1::to_v1;

struct session_state {
  v1_executor_session_options opts;
  mesos_v1::resource_format format;
  bool subscribing = false;
  bool subscribed = false;
  static inline const char* name = "v1-executor-session";
};

using session_pointer = v1_executor_session_actor::stateful_pointer<session_state>;

/// Sends one event; false (and the session ends) if the executor is gone or too far behind.
bool emit(session_pointer self, const exec::Event& e) {
  auto& st = self->state;
  if (push_event(*st.opts.stream, st.opts.codec, e))
    return true;
  self->quit(caf::exit_reason::remote_link_unreachable);
  return false;
}

void subscribed(session_pointer self, const executor_registration& reg) {
  auto& st = self->state;
  framework_info fw;
  fw.id = reg.framework;
  fw.name = reg.framework_name;
  fw.capabilities = reg.framework_capabilities;
  st.format = mesos_v1::resource_format::of(fw);
  exec::Event e;
  e.set_type(exec::Event::SUBSCRIBED);
  auto* s = e.mutable_subscribed();
  to_v1(reg.executor, st.format, s->mutable_executor_info());
  if (!s->executor_info().has_framework_id())
    s->mutable_executor_info()->mutable_framework_id()->set_value(reg.framework.value);
  to_v1(fw, s->mutable_framework_info());
  const auto& id = st.opts.agent_identity;
  auto* a = s->mutable_agent_info();
  a->set_hostname(id.hostname);
  a->mutable_id()->set_value(reg.agent.value);
  if (id.port != 0)
    a->set_port(id.port);
  st.subscribed = true;
  emit(self, e);
}

void request_registration(session_pointer self, bool again, std::vector<task_info> tasks,
                          std::vector<status_update> updates, caf::typed_response_promise<std::string> rp);

void on_registered(session_pointer self, const executor_registration& reg,
                   caf::typed_response_promise<std::string>& rp) {
  subscribed(self, reg);
  LOG_INFO(component, "executor " << self->state.opts.executor << " of framework " << self->state.opts.framework
                                  << " subscribed over HTTP");
  rp.deliver(std::string{});
}

// A Mesos executor reports only what the agent has not acknowledged; the agent knows the rest from its own records
// (its checkpoints, after a restart). The session reports both, so that a re-registration after an agent restart
// keeps the tasks the executor runs with every update acknowledged. Re-registration when there is anything to
// report, registration otherwise; each falls back to the other once (an executor the agent knows as registered
// re-registers; one it still waits for registers).
void request_registration(session_pointer self, bool again, std::vector<task_info> tasks,
                          std::vector<status_update> updates, caf::typed_response_promise<std::string> rp) {
  auto& st = self->state;
  auto me = caf::actor_cast<executor_actor>(self);
  bool reregister = !tasks.empty() || !updates.empty();
  if (again)
    reregister = !reregister;
  auto on_error = [self, again, tasks, updates, rp](caf::error& err) mutable {
    // The agent's reason, not a rendering of the error (whose executor ID, chosen by the framework, could
    // contain anything), is what is classified here.
    auto text = refusal_text(self->system(), err);
    // A wrong token or an unknown executor is final; a registration in the wrong form is tried in the other.
    bool final = text.rfind("wrong secret", 0) == 0 || text.rfind("unknown executor ", 0) == 0
                 || err == caf::sec::request_timeout || err == caf::sec::request_receiver_down;
    if (!again && !final)
      return request_registration(self, true, std::move(tasks), std::move(updates), rp);
    rp.deliver(text);
    self->quit();
  };
  if (reregister)
    self->request(st.opts.agent, st.opts.timeout, atom::rereg_exec_v, st.opts.framework, st.opts.executor, me,
                  tasks, updates, st.opts.token)
      .then([self, rp](const executor_registration& reg) mutable { on_registered(self, reg, rp); }, on_error);
  else
    self->request(st.opts.agent, st.opts.timeout, atom::reg_exec_v, st.opts.framework, st.opts.executor, me,
                  st.opts.token)
      .then([self, rp](const executor_registration& reg) mutable { on_registered(self, reg, rp); }, on_error);
}

/// Adds the tasks the agent lists as launched on this executor (and not ended) to what the executor reported.
void add_known_tasks(const agent_state_view& v, const framework_id& fw, const executor_id& eid,
                     std::vector<task_info>& tasks) {
  for (const auto& e : v.executors) {
    if (e.framework != fw || e.id != eid)
      continue;
    for (const auto& t : e.tasks) {
      // A task still staging may never have reached the executor (the agent died first): only the executor can
      // say it has it, and the agent's recovery drops it otherwise, as Mesos does.
      if (t.state == task_state::staging)
        continue;
      bool reported = std::any_of(tasks.begin(), tasks.end(), [&](const task_info& x) { return x.id == t.id; });
      if (!reported) {
        task_info known;
        known.id = t.id;
        known.name = t.name;
        known.agent = t.agent;
        tasks.push_back(std::move(known));
      }
    }
  }
}

std::string on_call(session_pointer self, const exec::Call& call) {
  auto& st = self->state;
  switch (call.type()) {
    case exec::Call::UPDATE: {
      status_update u;
      u.framework = st.opts.framework;
      if (auto err = mesos_v1::from_v1(call.update().status(), st.opts.executor, u.status); !err.empty())
        return err;
      u.latest_state = u.status.state;
      self->send(st.opts.agent, atom::update_v, std::move(u));
      return {};
    }
    case exec::Call::MESSAGE:
      self->send(st.opts.agent, atom::exec_msg_v, st.opts.framework, st.opts.executor, call.message().data());
      return {};
    default:
      return "Call " + exec::Call::Type_Name(call.type()) + " is not expected on a subscribed stream";
  }
}

} // namespace

v1_executor_session_actor spawn_v1_executor_session(caf::actor_system& sys, v1_executor_session_options opts) {
  auto fn = [](session_pointer self, v1_executor_session_options o) -> v1_executor_session_actor::behavior_type {
    self->state.opts = std::move(o);
    // The executor's connection closing is a disconnection to the agent (a checkpointing framework's executor
    // may re-subscribe within the agent's --executor-reregistration-timeout).
    tie_to_stream(self, self->state.opts.stream, self->state.opts.on_exit);
    self->monitor(self->state.opts.agent);
    self->set_down_handler([self](const caf::down_msg&) {
      exec::Event e;
      e.set_type(exec::Event::ERROR);
      e.mutable_error()->set_message("the agent went away");
      emit(self, e);
      self->state.opts.stream->finish();
      self->quit();
    });
    return {
      [self](atom::subscribe, std::vector<task_info> tasks,
             std::vector<status_update> updates) -> caf::result<std::string> {
        auto& st = self->state;
        if (st.subscribing)
          return std::string{"this stream is already subscribed"};
        st.subscribing = true;
        auto rp = self->make_response_promise<std::string>();
        self->request(st.opts.agent, st.opts.timeout, atom::state_page_v)
          .then(
            [self, rp, tasks, updates](const agent_state_view& v) mutable {
              add_known_tasks(v, self->state.opts.framework, self->state.opts.executor, tasks);
              request_registration(self, false, std::move(tasks), std::move(updates), rp);
            },
            [self, rp](caf::error& err) mutable {
              rp.deliver(refusal_text(self->system(), err));
              self->quit();
            });
        return rp;
      },
      [self](atom::v1_call, const std::string& bytes) -> std::string {
        exec::Call call;
        if (!call.ParseFromString(bytes))
          return "malformed call";
        if (!self->state.subscribed)
          return "the executor is not subscribed yet";
        return on_call(self, call);
      },
      [self](atom::exited) {
        LOG_INFO(component, "executor " << self->state.opts.executor << " of framework "
                                        << self->state.opts.framework << " closed its stream");
        self->quit(caf::exit_reason::remote_link_unreachable);
      },
      // -- from the agent --
      [self](atom::launch, const task_info& task) {
        exec::Event e;
        e.set_type(exec::Event::LAUNCH);
        to_v1(task, self->state.format, e.mutable_launch()->mutable_task());
        emit(self, e);
      },
      [self](atom::launch, const task_group_info& group) {
        exec::Event e;
        e.set_type(exec::Event::LAUNCH_GROUP);
        auto* g = e.mutable_launch_group()->mutable_task_group();
        for (const auto& t : group.tasks)
          to_v1(t, self->state.format, g->add_tasks());
        emit(self, e);
      },
      [self](atom::kill_task, const task_id& task) {
        exec::Event e;
        e.set_type(exec::Event::KILL);
        e.mutable_kill()->mutable_task_id()->set_value(task.value);
        emit(self, e);
      },
      [self](atom::kill_task, const task_id& task, const kill_policy& policy) {
        exec::Event e;
        e.set_type(exec::Event::KILL);
        e.mutable_kill()->mutable_task_id()->set_value(task.value);
        to_v1(policy, e.mutable_kill()->mutable_kill_policy());
        emit(self, e);
      },
      [self](atom::ack, const task_id& task, const std::string& uuid) {
        exec::Event e;
        e.set_type(exec::Event::ACKNOWLEDGED);
        e.mutable_acknowledged()->mutable_task_id()->set_value(task.value);
        e.mutable_acknowledged()->set_uuid(mesos_v1::uuid_to_wire(uuid));
        emit(self, e);
      },
      [self](atom::fw_msg, const std::string& data) {
        exec::Event e;
        e.set_type(exec::Event::MESSAGE);
        e.mutable_message()->set_data(data);
        emit(self, e);
      },
      [self](atom::shutdown) {
        exec::Event e;
        e.set_type(exec::Event::SHUTDOWN);
        emit(self, e);
      },
    };
  };
  return sys.spawn(fn, std::move(opts));
}

} // namespace mesoscaf::http
