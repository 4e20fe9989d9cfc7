#pragma once
// Every message type and atom of the protocol, registered identically in every process
// (docs/CAF_PITFALLS.md §3: an unregistered type silently fails across nodes). Actor handles are registered in
// actors/interfaces.hpp, in a block chained after this one.
#include "messages/agent_info.hpp"
#include "messages/framework_info.hpp"
#include "messages/ids.hpp"
#include "messages/launch_spec.hpp"
#include "messages/master_location.hpp"
#include "messages/offer.hpp"
#include "messages/quota.hpp"
#include "messages/registry.hpp"
#include "messages/resource_statistics.hpp"
#include "messages/resources.hpp"
#include "messages/snapshot.hpp"
#include "messages/state_view.hpp"
#include "messages/task_info.hpp"
#include "messages/task_status.hpp"

#include <caf/atom.hpp>
#include <caf/type_id.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

// CAF_ADD_TYPE_ID names a type after its C++ spelling ("std::vector<std::string>"), which another library linked into
// the same process may register too. Ours go on the wire as "mesoscaf.<name>", so names cannot collide. Same
// expansion as CAF_ADD_TYPE_ID (caf/type_id.hpp) except for the name.
#define MESOSCAF_ADD_TYPE_ID(block, fully_qualified_name, wire_name)                                               \
  namespace caf {                                                                                                  \
  template <>                                                                                                      \
  struct type_id<CAF_PP_EXPAND fully_qualified_name> {                                                             \
    static constexpr type_id_t value                                                                               \
      = id_block::block##_first_type_id + (__COUNTER__ - id_block::block##_type_id_counter_init - 1);              \
  };                                                                                                               \
  template <>                                                                                                      \
  struct type_by_id<type_id<CAF_PP_EXPAND fully_qualified_name>::value> {                                          \
    using type = CAF_PP_EXPAND fully_qualified_name;                                                               \
  };                                                                                                               \
  template <>                                                                                                      \
  struct type_name<CAF_PP_EXPAND fully_qualified_name> {                                                           \
    static constexpr const char* value = "mesoscaf." wire_name;                                                    \
  };                                                                                                               \
  template <>                                                                                                      \
  struct type_name_by_id<type_id<CAF_PP_EXPAND fully_qualified_name>::value>                                       \
    : type_name<CAF_PP_EXPAND fully_qualified_name> {};                                                            \
  }

// A type of namespace mesoscaf, named "mesoscaf.<name>" on the wire.
#define MESOSCAF_TYPE(block, name) MESOSCAF_ADD_TYPE_ID(block, (mesoscaf::name), #name)

CAF_BEGIN_TYPE_ID_BLOCK(mesoscaf_messages, caf::first_custom_type_id)
  MESOSCAF_TYPE(mesoscaf_messages, framework_id)
  MESOSCAF_TYPE(mesoscaf_messages, agent_id)
  MESOSCAF_TYPE(mesoscaf_messages, offer_id)
  MESOSCAF_TYPE(mesoscaf_messages, task_id)
  MESOSCAF_TYPE(mesoscaf_messages, executor_id)
  MESOSCAF_TYPE(mesoscaf_messages, container_id)
  MESOSCAF_TYPE(mesoscaf_messages, resource_set)
  MESOSCAF_TYPE(mesoscaf_messages, framework_info)
  MESOSCAF_TYPE(mesoscaf_messages, agent_info)
  MESOSCAF_TYPE(mesoscaf_messages, task_info)
  MESOSCAF_TYPE(mesoscaf_messages, executor_info)
  MESOSCAF_TYPE(mesoscaf_messages, task_status)
  MESOSCAF_TYPE(mesoscaf_messages, status_update)
  MESOSCAF_TYPE(mesoscaf_messages, offer)
  MESOSCAF_TYPE(mesoscaf_messages, filters)
  MESOSCAF_TYPE(mesoscaf_messages, offer_operation)
  MESOSCAF_TYPE(mesoscaf_messages, allocation)
  MESOSCAF_TYPE(mesoscaf_messages, launch_spec)
  MESOSCAF_TYPE(mesoscaf_messages, executor_registration)
  MESOSCAF_TYPE(mesoscaf_messages, master_snapshot)
  MESOSCAF_TYPE(mesoscaf_messages, agent_snapshot)
  MESOSCAF_ADD_TYPE_ID(mesoscaf_messages, (std::vector<mesoscaf::offer>), "vector<offer>")
  MESOSCAF_ADD_TYPE_ID(mesoscaf_messages, (std::vector<mesoscaf::offer_id>), "vector<offer_id>")
  MESOSCAF_ADD_TYPE_ID(mesoscaf_messages, (std::vector<mesoscaf::offer_operation>), "vector<offer_operation>")
  MESOSCAF_ADD_TYPE_ID(mesoscaf_messages, (std::vector<mesoscaf::allocation>), "vector<allocation>")
  MESOSCAF_ADD_TYPE_ID(mesoscaf_messages, (std::vector<mesoscaf::task_info>), "vector<task_info>")
  MESOSCAF_TYPE(mesoscaf_messages, quota_info)
  MESOSCAF_TYPE(mesoscaf_messages, role_summary)
  MESOSCAF_ADD_TYPE_ID(mesoscaf_messages, (std::vector<mesoscaf::role_summary>), "vector<role_summary>")
  MESOSCAF_ADD_TYPE_ID(mesoscaf_messages, (std::vector<std::string>), "vector<string>")
  MESOSCAF_TYPE(mesoscaf_messages, reregistered_task)
  MESOSCAF_TYPE(mesoscaf_messages, agent_reregistration)
  MESOSCAF_ADD_TYPE_ID(mesoscaf_messages, (std::vector<mesoscaf::task_status>), "vector<task_status>")
  MESOSCAF_ADD_TYPE_ID(mesoscaf_messages, (std::vector<mesoscaf::status_update>), "vector<status_update>")
  MESOSCAF_TYPE(mesoscaf_messages, master_location)
  MESOSCAF_TYPE(mesoscaf_messages, registry_data)
  MESOSCAF_TYPE(mesoscaf_messages, registry_operation)
  MESOSCAF_ADD_TYPE_ID(mesoscaf_messages, (std::vector<mesoscaf::registry_operation>), "vector<registry_operation>")
  MESOSCAF_TYPE(mesoscaf_messages, resource_statistics)
  MESOSCAF_TYPE(mesoscaf_messages, container_usage)
  MESOSCAF_ADD_TYPE_ID(mesoscaf_messages, (std::vector<mesoscaf::container_usage>), "vector<container_usage>")
  MESOSCAF_ADD_TYPE_ID(mesoscaf_messages, (std::vector<mesoscaf::container_id>), "vector<container_id>")
  MESOSCAF_TYPE(mesoscaf_messages, state_cursor)
  MESOSCAF_TYPE(mesoscaf_messages, master_state_view)
  MESOSCAF_TYPE(mesoscaf_messages, agent_state_view)
  MESOSCAF_ADD_TYPE_ID(mesoscaf_messages, (std::vector<mesoscaf::metric_sample>), "vector<metric_sample>")
  MESOSCAF_TYPE(mesoscaf_messages, kill_policy)
  MESOSCAF_TYPE(mesoscaf_messages, task_group_info)
  MESOSCAF_TYPE(mesoscaf_messages, operator_event)

  // Atoms (at most 10 characters). Verbs of the protocol; see actors/interfaces.hpp for who sends which.
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, reg_agent, "regagent")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, subscribe, "subscribe")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, teardown, "teardown")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, accept, "accept")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, decline, "decline")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, revive, "revive")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, suppress, "suppress")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, kill, "kill")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, ack, "ack")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, update, "update")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, fw_msg, "fwmsg")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, exec_msg, "execmsg")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, exec_lost, "execlost")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, agent_lost, "agentlost")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, offers, "offers")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, rescind, "rescind")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, error, "mserror")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, allocate, "allocate")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, add_fw, "addfw")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, remove_fw, "rmfw")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, update_fw, "updatefw")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, activate, "activate")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, deactivate, "deactivate")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, add_agent, "addagent")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, remove_agent, "rmagent")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, recover, "recover")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, run_task, "runtask")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, kill_task, "killtask")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, shutdown_fw, "shutdownfw")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, reg_exec, "regexec")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, launch, "launch")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, shutdown, "shutdown")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, exited, "exited")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, state, "state")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, tick, "mstick")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, retry, "retry")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, connect, "mconnect")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, update_alloc, "updalloc")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, set_weight, "setweight")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, set_quota, "setquota")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, roles, "roles")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, apply_op, "applyop")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, timeout, "mtimeout")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, ping, "mping")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, rereg_agent, "reregagent")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, rereg_exec, "reregexec")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, reconcile, "reconcile")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, resend, "resend")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, replaced, "replaced")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, health, "mhealth")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, failover, "failover")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, unreachable, "unreach")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, checkpoint, "checkpoint")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, forget, "forget")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, activate_agent, "actagent")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, deactivate_agent, "deactagent")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, leader, "leader")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, elected, "elected")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, stepdown, "stepdown")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, registry, "registry")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, rereg_deadline, "reregdl")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, usage, "usage")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, gc, "gc")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, disk_usage, "diskusage")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, scan_runs, "scanruns")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, state_page, "statepage")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, metrics, "metrics")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, v1_call, "v1call")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, watch, "watch")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, resume, "resume")
  CAF_ADD_ATOM(mesoscaf_messages, mesoscaf::atom, op_event, "opevent")
  MESOSCAF_ADD_TYPE_ID(mesoscaf_messages, (std::map<std::string, int64_t>), "map<string,int64>")
CAF_END_TYPE_ID_BLOCK(mesoscaf_messages)
