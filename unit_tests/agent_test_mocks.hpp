#pragma once
// The agent's peers as the agent tests see them (actors_agent_test.cpp, actors_agent_recovery_test.cpp): a master,
// a containerizer and an executor that record what the agent sends them and answer as scripted. Test-only.
#include "actors/interfaces.hpp"

#include <caf/typed_event_based_actor.hpp>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace mesoscaf::test {

// Everything the mocks saw, shared with the test body (the test coordinator runs everything on this thread).
struct agent_recorder {  // not `recorder`: process_cluster.hpp has a scheduler of that name in this namespace
  // master
  std::vector<agent_info> registrations;
  int refuse_registrations = 0;   // answer this many registrations with an error
  std::string agent_id_to_assign = "agent-1";
  std::vector<agent_reregistration> reregistrations;
  int refuse_reregistrations = 0;  // answer this many re-registrations with an error (the master refuses)
  int standby_refusals = 0;        // answer this many (re-)registrations as a standby master would
  std::vector<status_update> master_updates;
  std::vector<std::tuple<framework_id, agent_id, executor_id, int32_t>> exec_lost;
  std::vector<std::string> exec_msgs;
  // containerizer
  std::vector<launch_spec> launches;
  std::vector<std::tuple<container_id, int32_t, uint64_t>> recovers;
  std::vector<std::pair<container_id, resource_set>> container_updates;
  std::vector<std::pair<container_id, resource_set>> group_updates;  // a DEFAULT executor's tasks together
  std::set<int32_t> alive_pids;   // recover answers true for these
  bool fail_launch = false;
  std::vector<container_id> kills;
  std::vector<std::string> orphan_kills;  // task sandboxes whose recorded processes the agent had killed
  // executor
  caf::optional<executor_registration> registration;
  caf::error registration_error;
  std::vector<task_info> executor_launches;
  std::vector<task_group_info> executor_groups;
  std::vector<task_id> executor_kills;
  std::vector<std::pair<task_id, std::string>> executor_acks;
  std::vector<std::string> executor_fw_msgs;
  int executor_shutdowns = 0;
  /// Secrets of executors a checkpoint says an earlier agent launched (by executor ID).
  std::map<std::string, std::string> executor_secrets;
};
using recorder_ptr = std::shared_ptr<agent_recorder>;

inline master_actor::behavior_type mock_master(master_actor::pointer self, recorder_ptr rec) {
  return {
    [=](atom::reg_agent, const agent_info& info, const agent_actor&) -> caf::result<agent_id> {
      rec->registrations.push_back(info);
      if (rec->standby_refusals > 0) {
        --rec->standby_refusals;
        return caf::make_error(caf::sec::unavailable_or_would_block,
                               "not the leading master; the leader is unknown");
      }
      if (rec->refuse_registrations > 0) {
        --rec->refuse_registrations;
        return caf::make_error(caf::sec::invalid_argument, "refused by test");
      }
      return agent_id{rec->agent_id_to_assign};
    },
    [=](atom::rereg_agent, const agent_reregistration& r, const agent_actor&) -> caf::result<agent_id> {
      rec->reregistrations.push_back(r);
      if (rec->standby_refusals > 0) {
        --rec->standby_refusals;
        return caf::make_error(caf::sec::unavailable_or_would_block,
                               "not the leading master; the leader is unknown");
      }
      if (rec->refuse_reregistrations > 0) {
        --rec->refuse_reregistrations;
        return caf::make_error(caf::sec::invalid_argument, "re-registration refused by test");
      }
      return r.info.id;
    },
    [=](atom::update, const status_update& u) { rec->master_updates.push_back(u); },
    [=](atom::reconcile, const framework_id&, const std::vector<task_status>&) {},
    [=](atom::health) {},
    [=](atom::unreachable) {},
    [=](atom::failover, const framework_id&, uint64_t) {},
    [=](atom::exec_msg, const framework_id&, const agent_id&, const executor_id&, const std::string& data) {
      rec->exec_msgs.push_back(data);
    },
    [=](atom::exec_lost, const framework_id& f, const agent_id& a, const executor_id& e, int32_t status) {
      rec->exec_lost.emplace_back(f, a, e, status);
    },
    [=](atom::subscribe, const framework_info&, const scheduler_actor&) { return framework_id{"unused"}; },
    [=](atom::teardown, const framework_id&) {},
    [=](atom::accept, const framework_id&, const std::vector<offer_id>&, const std::vector<offer_operation>&,
        const filters&) {},
    [=](atom::decline, const framework_id&, const std::vector<offer_id>&, const filters&) {},
    [=](atom::revive, const framework_id&) {},
    [=](atom::suppress, const framework_id&) {},
    [=](atom::revive, const framework_id&, const std::vector<std::string>&) {},
    [=](atom::suppress, const framework_id&, const std::vector<std::string>&) {},
    [=](atom::kill, const framework_id&, const task_id&, const agent_id&) {},
    [=](atom::kill, const framework_id&, const task_id&, const agent_id&, const kill_policy&) {},
    [=](atom::update_fw, const framework_info&) {},
    [=](atom::ack, const framework_id&, const agent_id&, const task_id&, const std::string&) {},
    [=](atom::fw_msg, const framework_id&, const agent_id&, const executor_id&, const std::string&) {},
    [=](atom::shutdown, const framework_id&, const executor_id&, const agent_id&) {},
    [=](atom::watch, const operator_listener_actor&) { return true; },
    [=](atom::apply_op, const agent_id&, const offer_operation&, const std::string&) { return true; },
    [=](atom::remove_agent, const agent_id&, const std::string&) { return true; },
    [=](atom::set_weight, const std::string&, double) { return true; },
    [=](atom::set_quota, const std::string&, const quota_info&) { return true; },
    [=](atom::timeout, const offer_id&) {},
    [=](atom::state) { return master_snapshot{}; },
    [=](atom::state_page, const state_cursor&) { return master_state_view{}; },
    [=](atom::metrics) { return std::vector<metric_sample>{}; },
    [=](atom::teardown, const framework_id&, const std::string&) { return false; },
    [=](atom::allocate, const std::vector<allocation>&) {},
    [=](atom::rereg_deadline, uint64_t) {},
    [=](atom::elected) {},
    [=](atom::stepdown, const std::string&) {},
    [=](atom::leader, const master_location&) {},
  };
}

inline containerizer_actor::behavior_type mock_containerizer(containerizer_actor::pointer self, recorder_ptr rec) {
  return {
    [=](atom::launch, const launch_spec& spec) -> caf::result<int32_t> {
      rec->launches.push_back(spec);
      if (rec->fail_launch)
        return caf::make_error(caf::sec::runtime_error, "spawn failed (test)");
      return int32_t{4242};
    },
    [=](atom::kill, const container_id& id) { rec->kills.push_back(id); },
    [=](atom::kill, const std::vector<std::string>& dirs) {
      rec->orphan_kills.insert(rec->orphan_kills.end(), dirs.begin(), dirs.end());
    },
    [=](atom::recover, const container_id& id, int32_t pid, uint64_t start_time) {
      rec->recovers.emplace_back(id, pid, start_time);
      return rec->alive_pids.count(pid) > 0;
    },
    [=](atom::recover, const std::vector<container_id>&) { return int32_t{0}; },
    [=](atom::usage) {
      std::vector<container_usage> xs;
      for (auto& spec : rec->launches) {
        container_usage u;
        u.container = spec.id;
        u.statistics.processes = 1;
        xs.push_back(u);
      }
      return xs;
    },
    [=](atom::update, const container_id& id, const resource_set& resources) {
      rec->container_updates.emplace_back(id, resources);
    },
    [=](atom::update, const container_id& id, const resource_set&, const resource_set& tasks) {
      rec->group_updates.emplace_back(id, tasks);
    },
    [=](atom::retry) {},
    [=](atom::exited, const container_id&, int32_t) {},
    [=](atom::tick, const container_id&) {},
  };
}

// An executor plus test hooks: `connect` makes it register with the agent, `update` makes it send a status
// update (so the agent's ack comes back to it, as in real life), `exec_msg` makes it send a message for its
// scheduler. The agent only takes updates and messages from the executor's registered actor.
using mock_executor_actor
  = executor_actor::extend<caf::reacts_to<atom::connect, framework_id, executor_id>,
                           caf::reacts_to<atom::rereg_exec, framework_id, executor_id, std::vector<task_info>,
                                          std::vector<status_update>>,
                           caf::reacts_to<atom::update, status_update>,
                           caf::reacts_to<atom::exec_msg, framework_id, executor_id, std::string>>;

/// The secret the agent gave the executor `e` of `f` in its launch, else the one its checkpoint holds (empty if
/// neither).
inline std::string secret_of(const agent_recorder& rec, const framework_id& f, const executor_id& e) {
  for (auto i = rec.launches.rbegin(); i != rec.launches.rend(); ++i) {
    auto& env = i->environment;
    auto fw = env.find("MESOSCAF_FRAMEWORK_ID");
    auto ex = env.find("MESOSCAF_EXECUTOR_ID");
    auto secret = env.find(env_executor_secret);
    if (fw != env.end() && ex != env.end() && secret != env.end() && fw->second == f.value && ex->second == e.value)
      return secret->second;
  }
  auto known = rec.executor_secrets.find(e.value);
  return known != rec.executor_secrets.end() ? known->second : std::string{};
}

inline mock_executor_actor::behavior_type mock_executor(mock_executor_actor::pointer self, recorder_ptr rec,
                                                 agent_actor agent) {
  return {
    [=](atom::launch, const task_info& t) { rec->executor_launches.push_back(t); },
    [=](atom::launch, const task_group_info& g) { rec->executor_groups.push_back(g); },
    [=](atom::kill_task, const task_id& t) { rec->executor_kills.push_back(t); },
    [=](atom::kill_task, const task_id& t, const kill_policy&) { rec->executor_kills.push_back(t); },
    [=](atom::ack, const task_id& t, const std::string& uuid) { rec->executor_acks.emplace_back(t, uuid); },
    [=](atom::fw_msg, const std::string& data) { rec->executor_fw_msgs.push_back(data); },
    [=](atom::shutdown) { ++rec->executor_shutdowns; },
    [=](atom::connect, const framework_id& f, const executor_id& e) {
      self->request(agent, caf::infinite, atom::reg_exec_v, f, e, caf::actor_cast<executor_actor>(self),
                    secret_of(*rec, f, e))
        .then([=](const executor_registration& r) { rec->registration = r; },
              [=](caf::error& err) { rec->registration_error = err; });
    },
    // Test hook: re-register (as the driver does after its connection to the agent broke) with these tasks and
    // unacknowledged updates.
    [=](atom::rereg_exec, const framework_id& f, const executor_id& e, const std::vector<task_info>& tasks,
        const std::vector<status_update>& updates) {
      self->request(agent, caf::infinite, atom::rereg_exec_v, f, e, caf::actor_cast<executor_actor>(self), tasks,
                    updates, secret_of(*rec, f, e))
        .then([=](const executor_registration& r) { rec->registration = r; },
              [=](caf::error& err) { rec->registration_error = err; });
    },
    [=](atom::update, const status_update& u) { self->send(agent, atom::update_v, u); },
    [=](atom::exec_msg, const framework_id& f, const executor_id& e, const std::string& data) {
      self->send(agent, atom::exec_msg_v, f, e, data);
    },
  };
}

} // namespace mesoscaf::test
