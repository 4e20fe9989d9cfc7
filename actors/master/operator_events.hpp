#pragma once
// The master's changes for operators following it (v1 operator API SUBSCRIBE; actors/master/operator_events.cpp).
// Called by the master after each change to its registry; free when nobody listens.
#include "actors/master/master.hpp"

namespace mesoscaf {

/// `watch`: only actors of the master's own process (its HTTP layer) may follow it.
caf::result<bool> watch(master_pointer self, const operator_listener_actor& listener);
/// Forgets a listener that ended; false if `addr` is none.
bool forget_listener(master_pointer self, const caf::actor_addr& addr);

void publish_task_added(master_pointer self, const framework_id& fid, const task_id& tid);
void publish_task_updated(master_pointer self, const framework_id& fid, const task_status& status,
                          task_state latest);
void publish_agent_added(master_pointer self, const agent_id& aid);
void publish_agent_removed(master_pointer self, const agent_id& aid);
/// framework_added or framework_updated, with the framework as it is now.
void publish_framework(master_pointer self, const framework_id& fid, operator_event_type type);
void publish_framework_removed(master_pointer self, const framework_info& info);

} // namespace mesoscaf
