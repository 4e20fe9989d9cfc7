#include "actors/http/v1_master_state.hpp"

#include "config/support/version.hpp"
#include "messages/mesos_v1/convert.hpp"

#include <arpa/inet.h>

#include <cmath>
#include <unordered_map>

namespace mesoscaf::http {

namespace {

namespace v1 = ::mesos::v1;
using mesos_v1::to_v1;

void time_to_v1(double seconds, v1::TimeInfo* out) {
  out->set_nanoseconds(static_cast<int64_t>(std::llround(seconds * 1e9)));
}

/// The operator sees resources with their reservations as a stack (Mesos' operator API has no older form).
constexpr mesos_v1::resource_format operator_format{false, true};

} // namespace

void to_v1_task(const task_view& t, ::mesos::v1::Task* out) {
  out->set_name(t.name);
  out->mutable_task_id()->set_value(t.id.value);
  out->mutable_framework_id()->set_value(t.framework.value);
  if (!t.executor.value.empty())
    out->mutable_executor_id()->set_value(t.executor.value);
  out->mutable_agent_id()->set_value(t.agent.value);
  v1::TaskState state = v1::TASK_STAGING;
  v1::TaskState_Parse(to_string(t.state), &state);
  out->set_state(state);
  to_v1(t.resources, t.role, {true, true}, out->mutable_resources());
  // The latest status, as Mesos lists it (the master keeps only the latest).
  task_status s;
  s.task = t.id;
  s.state = t.state;
  s.reason = t.reason;
  s.message = t.message;
  s.source = status_source::master;
  s.agent = t.agent;
  s.executor = t.executor;
  s.timestamp = t.updated;
  s.healthy = t.healthy;
  to_v1(s, out->add_statuses());
  out->mutable_statuses(0)->clear_source();
  if (!t.labels.empty())
    for (const auto& l : t.labels) {
      auto* x = out->mutable_labels()->add_labels();
      x->set_key(l.key);
      x->set_value(l.value);
    }
  if (!t.user.empty())
    out->set_user(t.user);
}

namespace {

void agent_to_v1(const agent_view& a, v1_master::Response::GetAgents::Agent* out) {
  auto* info = out->mutable_agent_info();
  info->set_hostname(a.info.hostname);
  info->set_port(a.info.port);
  info->mutable_id()->set_value(a.info.id.value);
  to_v1(a.info.total, "", operator_format, info->mutable_resources());
  to_v1(a.info.attributes, info->mutable_attributes());
  out->set_active(a.connected);
  out->set_deactivated(false);
  out->set_version(product_version());
  out->set_pid("slave(1)@" + a.info.address + ":" + std::to_string(a.info.port));
  time_to_v1(a.registered, out->mutable_registered_time());
  to_v1(a.info.total, "", operator_format, out->mutable_total_resources());
  to_v1(a.used, "", operator_format, out->mutable_allocated_resources());
  to_v1(a.offered, "", operator_format, out->mutable_offered_resources());
  for (auto c : {v1::AgentInfo::Capability::MULTI_ROLE, v1::AgentInfo::Capability::HIERARCHICAL_ROLE})
    out->add_capabilities()->set_type(c);
}

void framework_to_v1(const framework_view& f, const std::vector<offer_view>& offers,
                     v1_master::Response::GetFrameworks::Framework* out) {
  to_v1(f.info, out->mutable_framework_info());
  out->set_active(f.active);
  out->set_connected(f.active);
  out->set_recovered(false);
  time_to_v1(f.registered, out->mutable_registered_time());
  for (const auto& o : offers) {
    offer x;
    x.id = o.id;
    x.framework = o.framework;
    x.agent = o.agent;
    x.role = o.role;
    x.resources = o.resources;
    to_v1(x, {true, true}, out->add_offers());
  }
  to_v1(f.used, "", operator_format, out->mutable_allocated_resources());
  to_v1(f.offered, "", operator_format, out->mutable_offered_resources());
}

} // namespace

void to_v1_agents(const master_state& s, v1_master::Response::GetAgents* out) {
  s.each_agent([&](const agent_ref& a) { agent_to_v1(*a, out->add_agents()); });
}

void to_v1_frameworks(const master_state& s, v1_master::Response::GetFrameworks* out) {
  std::unordered_map<std::string, std::vector<offer_view>> offers;
  s.each_offer([&](const offer_ref& o) { offers[o->framework.value].push_back(*o); });
  static const std::vector<offer_view> none;
  for (const auto& f : s.first.frameworks) {
    auto i = offers.find(f.info.id.value);
    framework_to_v1(f, i == offers.end() ? none : i->second, out->add_frameworks());
  }
  // Completed frameworks: the master keeps their IDs only.
  for (const auto& id : s.first.header.completed_frameworks) {
    auto* c = out->add_completed_frameworks();
    c->mutable_framework_info()->set_user("");
    c->mutable_framework_info()->set_name("");
    c->mutable_framework_info()->mutable_id()->set_value(id.value);
    c->set_active(false);
    c->set_connected(false);
    c->set_recovered(false);
  }
}

void to_v1_executors(const master_state& s, v1_master::Response::GetExecutors* out) {
  // Custom and DEFAULT executors; the agents' command executors are not the master's to list (as Mesos).
  std::unordered_map<std::string, std::string> agent_of;   // executor -> agent, from its tasks
  s.each_task([&](const task_ref& t) {
    if (!t->executor.value.empty())
      agent_of[t->framework.value + "/" + t->executor.value] = t->agent.value;
  });
  for (const auto& f : s.first.frameworks)
    for (const auto& e : f.executors) {
      auto* x = out->add_executors();
      auto* info = x->mutable_executor_info();
      info->mutable_executor_id()->set_value(e.id.value);
      info->mutable_framework_id()->set_value(f.info.id.value);
      if (!e.name.empty())
        info->set_name(e.name);
      info->set_type(e.type == executor_type::default_executor ? v1::ExecutorInfo::DEFAULT : v1::ExecutorInfo::CUSTOM);
      if (e.type == executor_type::custom && !e.command.value.empty())
        info->mutable_command()->set_value(e.command.value);
      to_v1(e.resources, e.role, {true, true}, info->mutable_resources());
      auto a = agent_of.find(f.info.id.value + "/" + e.id.value);
      x->mutable_agent_id()->set_value(a == agent_of.end() ? std::string{} : a->second);
    }
}

void to_v1_tasks(const master_state& s, v1_master::Response::GetTasks* out) {
  s.each_task([&](const task_ref& t) {
    to_v1_task(*t, t->state == task_state::unreachable ? out->add_unreachable_tasks() : out->add_tasks());
  });
  s.each_completed([&](const task_ref& t) { to_v1_task(*t, out->add_completed_tasks()); });
}

void to_v1_state(const master_state& s, v1_master::Response::GetState* out) {
  to_v1_tasks(s, out->mutable_get_tasks());
  to_v1_executors(s, out->mutable_get_executors());
  to_v1_frameworks(s, out->mutable_get_frameworks());
  to_v1_agents(s, out->mutable_get_agents());
}

void to_v1_roles(const std::vector<role_summary>& roles, v1_master::Response::GetRoles* out) {
  for (const auto& r : roles) {
    auto* x = out->add_roles();
    x->set_name(r.name);
    x->set_weight(r.weight);
    for (const auto& f : r.frameworks)
      x->add_frameworks()->set_value(f.value);
    to_v1(r.allocated, "", operator_format, x->mutable_resources());
  }
}

void to_v1_master(const master_header& h, const daemon_identity& me, v1_master::Response::GetMaster* out) {
  auto* m = out->mutable_master_info();
  m->set_id(h.id.empty() ? me.id : h.id);
  in_addr addr{};
  m->set_ip(::inet_pton(AF_INET, me.address.c_str(), &addr) == 1 ? addr.s_addr : 0);
  m->set_port(me.http_port);
  m->set_pid("master@" + me.address + ":" + std::to_string(me.http_port));
  m->set_hostname(me.hostname);
  m->set_version(product_version());
  m->mutable_address()->set_hostname(me.hostname);
  m->mutable_address()->set_ip(me.address);
  m->mutable_address()->set_port(me.http_port);
  out->set_start_time(h.start_time);
  if (h.elected)
    out->set_elected_time(h.elected_time);
}

void to_v1_event(const operator_event& e, v1_master::Event* out) {
  using Event = v1_master::Event;
  switch (e.type) {
    case operator_event_type::task_added:
      out->set_type(Event::TASK_ADDED);
      to_v1_task(*e.task, out->mutable_task_added()->mutable_task());
      break;
    case operator_event_type::task_updated: {
      out->set_type(Event::TASK_UPDATED);
      auto* u = out->mutable_task_updated();
      u->mutable_framework_id()->set_value(e.framework.value);
      to_v1(e.status, u->mutable_status());
      v1::TaskState state = v1::TASK_STAGING;
      v1::TaskState_Parse(to_string(e.state), &state);
      u->set_state(state);
      break;
    }
    case operator_event_type::agent_added:
      out->set_type(Event::AGENT_ADDED);
      agent_to_v1(*e.agent, out->mutable_agent_added()->mutable_agent());
      break;
    case operator_event_type::agent_removed:
      out->set_type(Event::AGENT_REMOVED);
      out->mutable_agent_removed()->mutable_agent_id()->set_value(e.removed_agent.value);
      break;
    case operator_event_type::framework_added:
      out->set_type(Event::FRAMEWORK_ADDED);
      framework_to_v1(e.fw, {}, out->mutable_framework_added()->mutable_framework());
      break;
    case operator_event_type::framework_updated:
      out->set_type(Event::FRAMEWORK_UPDATED);
      framework_to_v1(e.fw, {}, out->mutable_framework_updated()->mutable_framework());
      break;
    case operator_event_type::framework_removed:
      out->set_type(Event::FRAMEWORK_REMOVED);
      to_v1(e.fw.info, out->mutable_framework_removed()->mutable_framework_info());
      break;
  }
}

void to_v1_quota(const std::vector<role_summary>& roles, v1_master::Response::GetQuota* out) {
  auto* status = out->mutable_status();
  auto scalars = [](const resource_set& rs, google::protobuf::Map<std::string, v1::Value::Scalar>* m) {
    for (const auto& r : rs.items())
      if (r.type == value_type::scalar)
        (*m)[r.name].set_value((*m)[r.name].value() + from_milli(r.scalar));
  };
  for (const auto& role : roles) {
    if (role.quota.guarantee.empty() && role.quota.limit.empty())
      continue;
    auto* c = status->add_configs();
    c->set_role(role.name);
    scalars(role.quota.guarantee, c->mutable_guarantees());
    scalars(role.quota.limit, c->mutable_limits());
    auto* info = status->add_infos();
    info->set_role(role.name);
    to_v1(role.quota.guarantee, "", operator_format, info->mutable_guarantee());
  }
}

} // namespace mesoscaf::http
