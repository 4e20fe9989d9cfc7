#include "messages/task_status.hpp"

#include <chrono>

namespace mesoscaf {

const char* to_string(task_state s) {
  switch (s) {
    case task_state::staging: return "TASK_STAGING";
    case task_state::starting: return "TASK_STARTING";
    case task_state::running: return "TASK_RUNNING";
    case task_state::killing: return "TASK_KILLING";
    case task_state::finished: return "TASK_FINISHED";
    case task_state::failed: return "TASK_FAILED";
    case task_state::killed: return "TASK_KILLED";
    case task_state::error: return "TASK_ERROR";
    case task_state::lost: return "TASK_LOST";
    case task_state::dropped: return "TASK_DROPPED";
    case task_state::unreachable: return "TASK_UNREACHABLE";
    case task_state::gone: return "TASK_GONE";
    case task_state::gone_by_operator: return "TASK_GONE_BY_OPERATOR";
    case task_state::unknown: return "TASK_UNKNOWN";
  }
  return "TASK_INVALID_STATE";
}

const char* to_string(task_reason r) {
  switch (r) {
    case task_reason::none: return "REASON_NONE";
    case task_reason::command_executor_failed: return "REASON_COMMAND_EXECUTOR_FAILED";
    case task_reason::container_launch_failed: return "REASON_CONTAINER_LAUNCH_FAILED";
    case task_reason::executor_registration_timeout: return "REASON_EXECUTOR_REGISTRATION_TIMEOUT";
    case task_reason::executor_terminated: return "REASON_EXECUTOR_TERMINATED";
    case task_reason::framework_removed: return "REASON_FRAMEWORK_REMOVED";
    case task_reason::invalid_offers: return "REASON_INVALID_OFFERS";
    case task_reason::invalid_resources: return "REASON_TASK_INVALID_RESOURCES";
    case task_reason::task_invalid: return "REASON_TASK_INVALID";
    case task_reason::task_killed_during_launch: return "REASON_TASK_KILLED_DURING_LAUNCH";
    case task_reason::agent_removed: return "REASON_AGENT_REMOVED";
    case task_reason::agent_disconnected: return "REASON_AGENT_DISCONNECTED";
    case task_reason::agent_unknown: return "REASON_AGENT_UNKNOWN";
    case task_reason::agent_restarted: return "REASON_AGENT_RESTARTED";
    case task_reason::reconciliation: return "REASON_RECONCILIATION";
    case task_reason::master_disconnected: return "REASON_MASTER_DISCONNECTED";
    case task_reason::executor_unregistered: return "REASON_EXECUTOR_UNREGISTERED";
    case task_reason::container_limitation_memory: return "REASON_CONTAINER_LIMITATION_MEMORY";
    case task_reason::gc_error: return "REASON_GC_ERROR";
    case task_reason::container_limitation_disk: return "REASON_CONTAINER_LIMITATION_DISK";
    case task_reason::task_unauthorized: return "REASON_TASK_UNAUTHORIZED";
    case task_reason::task_health_check_status_updated: return "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED";
    case task_reason::task_group_invalid: return "REASON_TASK_GROUP_INVALID";
    case task_reason::agent_removed_by_operator: return "REASON_AGENT_REMOVED_BY_OPERATOR";
  }
  return "REASON_INVALID";
}

const char* to_string(status_source s) {
  switch (s) {
    case status_source::master: return "SOURCE_MASTER";
    case status_source::agent: return "SOURCE_AGENT";
    case status_source::executor: return "SOURCE_EXECUTOR";
  }
  return "SOURCE_INVALID";
}

bool is_terminal(task_state s) {
  switch (s) {
    case task_state::finished:
    case task_state::failed:
    case task_state::killed:
    case task_state::error:
    case task_state::lost:
    case task_state::dropped:
    case task_state::gone:
    case task_state::gone_by_operator:
      return true;
    default:
      return false;
  }
}

double now_seconds() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

bool is_never_launched(const task_status& s) {
  if (s.state == task_state::dropped)
    return true;
  bool unknown = s.state == task_state::lost || s.state == task_state::gone || s.state == task_state::unknown;
  return unknown && s.source == status_source::master
         && (s.reason == task_reason::reconciliation || s.reason == task_reason::master_disconnected);
}

} // namespace mesoscaf
