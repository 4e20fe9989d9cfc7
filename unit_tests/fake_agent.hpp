#pragma once
// A fake agent for executor tests (real actor system): implements the full agent interface, registers
// executors, acknowledges status updates (unless told not to) and forwards what executors send to a listener:
//   (atom::update, status_update)                         every update received (also resends)
//   (atom::exec_msg, framework_id, executor_id, string)   every executor message
//   (atom::reg_exec, framework_id, executor_id, executor_actor, secret)  each registration (fake_agent_mute: never
//                                                         answered)
//   (atom::rereg_exec, framework_id, executor_id, executor_actor, vector<task_info>, vector<status_update>, secret)
//                                                         each re-registration (answered like reg_exec, or with
//                                                         an error if `refuse_rereg`)
#include "actors/interfaces.hpp"

#include <caf/all.hpp>

namespace mesoscaf::test {

struct fake_agent_state {
  static inline const char* name = "fake_agent";
  caf::actor listener;
  executor_actor exec;
  int drop_acks = 0;  // do not acknowledge this many updates (to test resending)
  executor_registration reply;
  bool refuse_rereg = false;
  bool mute_reg = false;  // never answer a registration (the request stays pending)
};

inline agent_actor::behavior_type fake_agent_ex(agent_actor::stateful_pointer<fake_agent_state> self,
                                                caf::actor listener, executor_registration reply, int drop_acks,
                                                bool refuse_rereg) {
  self->state.listener = listener;
  self->state.reply = reply;
  self->state.drop_acks = drop_acks;
  self->state.refuse_rereg = refuse_rereg;
  return {
    [](atom::run_task, const framework_info&, const task_info&) {},
    [](atom::run_task, const framework_info&, const executor_info&, const task_group_info&) {},
    [](atom::kill_task, const framework_id&, const task_id&) {},
    [](atom::kill_task, const framework_id&, const task_id&, const kill_policy&) {},
    [](atom::ack, const framework_id&, const task_id&, const std::string&) {},
    [](atom::fw_msg, const framework_id&, const executor_id&, const std::string&) {},
    [](atom::apply_op, const framework_id&, const offer_operation&) {},
    [](atom::shutdown_fw, const framework_id&) {},
    [](atom::shutdown, const std::string&) {},
    [](atom::shutdown, const framework_id&, const executor_id&) {},
    [self](atom::reg_exec, const framework_id& fw, const executor_id& ex,
           const executor_actor& hdl, const std::string& secret) -> caf::result<executor_registration> {
      self->state.exec = hdl;
      caf::anon_send(self->state.listener, atom::reg_exec_v, fw, ex, hdl, secret);
      if (self->state.mute_reg)
        return caf::delegated<executor_registration>{};
      auto r = self->state.reply;
      r.framework = fw;
      r.executor.id = ex;
      return r;
    },
    [self](atom::update, const status_update& upd) {
      caf::anon_send(self->state.listener, atom::update_v, upd);
      if (self->state.drop_acks > 0) {
        --self->state.drop_acks;
        return;
      }
      if (self->state.exec)
        self->send(self->state.exec, atom::ack_v, upd.status.task, upd.status.uuid);
    },
    [self](atom::exec_msg, const framework_id& fw, const executor_id& ex, const std::string& data) {
      caf::anon_send(self->state.listener, atom::exec_msg_v, fw, ex, data);
    },
    [self](atom::rereg_exec, const framework_id& fw, const executor_id& ex, const executor_actor& hdl,
           const std::vector<task_info>& tasks,
           const std::vector<status_update>& updates,
           const std::string& secret) -> caf::result<executor_registration> {
      caf::anon_send(self->state.listener, atom::rereg_exec_v, fw, ex, hdl, tasks, updates, secret);
      if (self->state.refuse_rereg)
        return caf::make_error(caf::sec::invalid_argument, "unknown executor");
      self->state.exec = hdl;
      auto r = self->state.reply;
      r.framework = fw;
      r.executor.id = ex;
      return r;
    },
    [](atom::ping) { return agent_id{"fake"}; },
    [](atom::resend, const framework_id&) {},
    [](atom::rereg_agent) {},
    [](atom::leader, const master_location&) {},
    [](atom::exited, const container_id&, int32_t) {},
    [](atom::tick) {},
    [](atom::state) { return agent_snapshot{}; },
    [](atom::usage) { return std::vector<container_usage>{}; },
    [](atom::state_page) { return agent_state_view{}; },
    [](atom::metrics) { return std::vector<metric_sample>{}; },
  };
}

inline agent_actor::behavior_type fake_agent(agent_actor::stateful_pointer<fake_agent_state> self,
                                             caf::actor listener, executor_registration reply, int drop_acks) {
  return fake_agent_ex(self, std::move(listener), std::move(reply), drop_acks, false);
}

/// Like fake_agent, but registrations get no answer (as when an answer is lost under load).
inline agent_actor::behavior_type fake_agent_mute(agent_actor::stateful_pointer<fake_agent_state> self,
                                                  caf::actor listener, executor_registration reply) {
  self->state.mute_reg = true;
  return fake_agent_ex(self, std::move(listener), std::move(reply), 0, false);
}

} // namespace mesoscaf::test
