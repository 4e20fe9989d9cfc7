#pragma once
// The master's state (state_json.hpp's master_state, as /state reads it) in Mesos' v1 operator form: the parts of
// GET_STATE and the calls that return one of them. Plain functions, tested directly.
#include "actors/http/state_json.hpp"

#include "messages/mesos_v1/master.pb.h"

namespace mesoscaf::http {

namespace v1_master = ::mesos::v1::master;

/// A task as both operator APIs list it (its latest status only).
void to_v1_task(const task_view& t, ::mesos::v1::Task* out);
void to_v1_agents(const master_state& s, v1_master::Response::GetAgents* out);
void to_v1_frameworks(const master_state& s, v1_master::Response::GetFrameworks* out);
void to_v1_executors(const master_state& s, v1_master::Response::GetExecutors* out);
void to_v1_tasks(const master_state& s, v1_master::Response::GetTasks* out);
void to_v1_state(const master_state& s, v1_master::Response::GetState* out);
void to_v1_roles(const std::vector<role_summary>& roles, v1_master::Response::GetRoles* out);
/// The quota of every role that has one: as configs (guarantees and limits by resource name) and, for older
/// clients, as infos (the guarantee).
void to_v1_quota(const std::vector<role_summary>& roles, v1_master::Response::GetQuota* out);
/// One change of the master for the operator SUBSCRIBE stream (TASK_ADDED, TASK_UPDATED, AGENT_ADDED, ...).
void to_v1_event(const operator_event& e, v1_master::Event* out);
/// `me`: where this master serves (the header does not know its HTTP endpoint).
void to_v1_master(const master_header& h, const daemon_identity& me, v1_master::Response::GetMaster* out);

} // namespace mesoscaf::http
