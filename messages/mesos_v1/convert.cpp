#include "messages/mesos_v1/convert.hpp"

#include "messages/attributes.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>

// Resource.role and FrameworkInfo.role are deprecated in Mesos, and so in our .proto (their defaults are then
// not written out); we still read and write them for frameworks that predate MULTI_ROLE.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace mesoscaf::mesos_v1 {

namespace {

void labels_from(const v1::Labels& in, labels& out) {
  out.clear();
  for (const auto& l : in.labels())
    out.push_back({l.key(), l.value()});
}

void labels_to(const labels& in, v1::Labels* out) {
  for (const auto& l : in) {
    auto* x = out->add_labels();
    x->set_key(l.key);
    x->set_value(l.value);
  }
}

bool has_capability(const v1::FrameworkInfo& fw, v1::FrameworkInfo::Capability::Type t) {
  return std::any_of(fw.capabilities().begin(), fw.capabilities().end(),
                     [&](const auto& c) { return c.type() == t; });
}

/// Seconds of a DurationInfo; refused when negative (a grace period cannot be).
std::string seconds_of(const v1::DurationInfo& d, const std::string& what, double& out) {
  if (d.nanoseconds() < 0)
    return what + " is negative";
  out = static_cast<double>(d.nanoseconds()) / 1e9;
  return {};
}

std::string resource_from(const v1::Resource& in, resource& out) {
  const auto& name = in.name();
  auto where = "resource '" + name + "'";
  out = resource{};
  out.name = name;
  switch (in.type()) {
    case v1::Value::SCALAR: {
      if (!in.has_scalar())
        return where + ": type SCALAR without a scalar";
      auto m = to_milli(in.scalar().value());
      if (!m)
        return where + ": scalar " + std::to_string(in.scalar().value())
               + " is not a finite non-negative number within range";
      out.type = value_type::scalar;
      out.scalar = *m;
      break;
    }
    case v1::Value::RANGES:
      if (!in.has_ranges())
        return where + ": type RANGES without ranges";
      out.type = value_type::ranges;
      for (const auto& r : in.ranges().range()) {
        if (r.begin() > r.end())
          return where + ": range [" + std::to_string(r.begin()) + "-" + std::to_string(r.end()) + "] is inverted";
        out.ranges.push_back({r.begin(), r.end()});
      }
      break;
    case v1::Value::SET:
      if (!in.has_set())
        return where + ": type SET without a set";
      out.type = value_type::set;
      for (const auto& item : in.set().item())
        out.items.insert(item);
      break;
    default:
      return where + ": type " + v1::Value::Type_Name(in.type()) + " is not a resource type";
  }
  if (in.has_revocable())
    return where + ": revocable resources are not supported";
  if (in.has_shared())
    return where + ": shared resources are not supported";
  // The reservation: a stack of one (RESERVATION_REFINEMENT) or the older role + reservation form.
  if (in.reservations_size() > 0) {
    if (in.has_role() && in.role() != "*")
      return where + ": both 'role' and 'reservations' are set";
    if (in.reservations_size() > 1)
      return where + ": reservation refinement (more than one reservation) is not supported";
    const auto& r = in.reservations(0);
    if (!r.has_role() || r.role().empty() || r.role() == "*")
      return where + ": a reservation needs a role";
    if (r.type() != v1::Resource::ReservationInfo::STATIC && r.type() != v1::Resource::ReservationInfo::DYNAMIC)
      return where + ": a reservation needs its type (STATIC or DYNAMIC)";
    if (r.has_labels() && r.labels().labels_size() > 0)
      return where + ": reservation labels are not supported";
    out.role = r.role();
    out.dynamic = r.type() != v1::Resource::ReservationInfo::STATIC;
  } else if (in.has_role() && in.role() != "*") {
    out.role = in.role();
    out.dynamic = in.has_reservation();
    if (in.reservation().has_labels() && in.reservation().labels().labels_size() > 0)
      return where + ": reservation labels are not supported";
  }
  if (in.has_disk() && in.disk().has_volume() && !in.disk().has_persistence())
    return where + ": a disk volume without persistence is not supported";
  if (in.has_disk() && in.disk().has_persistence()) {
    out.volume_id = in.disk().persistence().id();
    if (!in.disk().has_volume())
      return where + ": a persistent volume needs disk.volume.container_path";
    out.volume_path = in.disk().volume().container_path();
    if (in.disk().volume().mode() != v1::Volume::RW)
      return where + ": only RW volumes are supported";
  }
  return {};
}

std::string health_from(const v1::HealthCheck& in, health_check& out) {
  out = health_check{};
  auto type = in.type();
  if (!in.has_type())   // Mesos before 1.2: the type is whichever part is set
    type = in.has_http() ? v1::HealthCheck::HTTP : in.has_tcp() ? v1::HealthCheck::TCP : v1::HealthCheck::COMMAND;
  auto port_of = [&](uint32_t p) -> std::string {
    if (p == 0 || p > 65535)
      return "health_check: port " + std::to_string(p) + " is not a port";
    out.port = static_cast<uint16_t>(p);
    return {};
  };
  switch (type) {
    case v1::HealthCheck::COMMAND:
      if (!in.has_command())
        return "health_check: type COMMAND without a command";
      out.type = health_check::kind::command;
      if (auto err = from_v1(in.command(), out.command); !err.empty())
        return "health_check." + err;
      break;
    case v1::HealthCheck::HTTP:
      if (!in.has_http())
        return "health_check: type HTTP without http";
      out.type = health_check::kind::http;
      if (auto err = port_of(in.http().port()); !err.empty())
        return err;
      if (in.http().has_path())
        out.path = in.http().path();
      if (in.http().has_scheme())
        out.scheme = in.http().scheme();
      break;
    case v1::HealthCheck::TCP:
      if (!in.has_tcp())
        return "health_check: type TCP without tcp";
      out.type = health_check::kind::tcp;
      if (auto err = port_of(in.tcp().port()); !err.empty())
        return err;
      break;
    default:
      return "health_check: unknown type";
  }
  out.delay = in.delay_seconds();
  out.interval = in.interval_seconds();
  out.timeout = in.timeout_seconds();
  out.consecutive_failures = in.consecutive_failures();
  out.grace_period = in.grace_period_seconds();
  return {};
}

/// "" or why a container cannot be given: we run commands on the host, so an image would be ignored.
std::string container_from(const v1::ContainerInfo& c) {
  if (c.type() == v1::ContainerInfo::DOCKER || c.has_docker())
    return "container: Docker containers are not supported (commands run on the host)";
  if (c.has_mesos() && c.mesos().has_image())
    return "container: images are not supported (commands run on the host)";
  return {};
}

void discovery_from(const v1::DiscoveryInfo& in, discovery_info& out) {
  out = discovery_info{};
  out.visibility = v1::DiscoveryInfo::Visibility_Name(in.visibility());
  out.name = in.name();
  out.environment = in.environment();
  out.location = in.location();
  out.version = in.version();
  for (const auto& p : in.ports().ports())
    out.ports.push_back({p.number(), p.name(), p.protocol()});
  labels_from(in.labels(), out.labels);
}

void attribute_to(const std::string& name, const std::string& value, v1::Attribute* out) {
  out->set_name(name);
  switch (type_of_attribute(value)) {
    case attribute_type::scalar:
      out->set_type(v1::Value::SCALAR);
      out->mutable_scalar()->set_value(std::strtod(value.c_str(), nullptr));
      return;
    case attribute_type::ranges: {
      out->set_type(v1::Value::RANGES);
      auto* ranges = out->mutable_ranges();
      // "[a-b,c-d]": normalised by parse_attributes, so plain splitting suffices.
      auto body = value.substr(1, value.size() - 2);
      std::size_t start = 0;
      while (start < body.size()) {
        auto comma = body.find(',', start);
        auto part = body.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        auto dash = part.find('-');
        auto* r = ranges->add_range();
        r->set_begin(std::strtoull(part.substr(0, dash).c_str(), nullptr, 10));
        r->set_end(std::strtoull(dash == std::string::npos ? part.c_str() : part.substr(dash + 1).c_str(), nullptr, 10));
        if (comma == std::string::npos)
          break;
        start = comma + 1;
      }
      return;
    }
    case attribute_type::set: {
      out->set_type(v1::Value::SET);
      auto* set = out->mutable_set();
      auto body = value.substr(1, value.size() - 2);
      std::size_t start = 0;
      while (start <= body.size() && !body.empty()) {
        auto comma = body.find(',', start);
        set->add_item(body.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
        if (comma == std::string::npos)
          break;
        start = comma + 1;
      }
      return;
    }
    case attribute_type::text:
      out->set_type(v1::Value::TEXT);
      out->mutable_text()->set_value(value);
      return;
  }
}

} // namespace

resource_format resource_format::of(const framework_info& fw) {
  auto has = [&](const char* c) {
    return std::find(fw.capabilities.begin(), fw.capabilities.end(), c) != fw.capabilities.end();
  };
  return {has("MULTI_ROLE"), has("RESERVATION_REFINEMENT")};
}

std::string from_v1(const v1::FrameworkInfo& in, framework_info& out) {
  out = framework_info{};
  if (in.has_id())
    out.id = framework_id{in.id().value()};
  out.name = in.name();
  out.user = in.user();
  out.failover_timeout = in.failover_timeout();
  if (!std::isfinite(out.failover_timeout) || out.failover_timeout < 0)
    return "framework_info.failover_timeout must be a finite number of seconds >= 0";
  out.checkpoint = in.checkpoint();
  out.principal = in.principal();
  for (const auto& c : in.capabilities())
    if (c.has_type() && c.type() != v1::FrameworkInfo::Capability::UNKNOWN)
      out.capabilities.push_back(v1::FrameworkInfo::Capability::Type_Name(c.type()));
  // Roles: `roles` with MULTI_ROLE, else the single (deprecated) `role`, as Mesos reads them.
  if (has_capability(in, v1::FrameworkInfo::Capability::MULTI_ROLE)) {
    if (in.has_role())
      return "framework_info: 'role' cannot be used with the MULTI_ROLE capability (use 'roles')";
    out.roles.assign(in.roles().begin(), in.roles().end());
  } else {
    if (in.roles_size() > 0)
      return "framework_info: 'roles' needs the MULTI_ROLE capability";
    out.roles.push_back(in.role());
  }
  labels_from(in.labels(), out.labels);
  return {};
}

std::string from_v1(const repeated<v1::Resource>& in, resource_set& out) {
  out = resource_set{};
  for (const auto& r : in) {
    resource x;
    if (auto err = resource_from(r, x); !err.empty())
      return err;
    if (!out.add(x))
      return "resource '" + r.name() + "' is invalid (name, role, items or amount) or repeats another with a "
             "different type";
  }
  return out.validate();
}

std::string from_v1(const v1::CommandInfo& in, command_info& out) {
  out = command_info{};
  out.shell = in.shell();
  out.value = in.value();
  out.arguments.assign(in.arguments().begin(), in.arguments().end());
  out.user = in.user();
  for (const auto& v : in.environment().variables()) {
    if (v.type() == v1::Environment::Variable::SECRET)
      return "command.environment: secret variables are not supported ('" + v.name() + "')";
    out.environment[v.name()] = v.value();
  }
  for (const auto& u : in.uris())
    out.uris.push_back({u.value(), u.executable(), u.extract(), u.cache(), u.output_file()});
  return {};
}

std::string from_v1(const v1::ExecutorInfo& in, executor_info& out) {
  out = executor_info{};
  out.id = executor_id{in.executor_id().value()};
  if (in.has_framework_id())
    out.framework = framework_id{in.framework_id().value()};
  out.name = in.name();
  out.type = in.type() == v1::ExecutorInfo::DEFAULT ? executor_type::default_executor : executor_type::custom;
  if (in.has_data())
    return "executor.data is not supported";
  if (in.has_container())
    if (auto err = container_from(in.container()); !err.empty())
      return "executor." + err;
  if (in.has_command())
    if (auto err = from_v1(in.command(), out.command); !err.empty())
      return "executor." + err;
  if (auto err = from_v1(in.resources(), out.resources); !err.empty())
    return "executor: " + err;
  labels_from(in.labels(), out.labels);
  return {};
}

std::string from_v1(const v1::TaskInfo& in, task_info& out) {
  out = task_info{};
  out.name = in.name();
  out.id = task_id{in.task_id().value()};
  out.agent = agent_id{in.agent_id().value()};
  auto fail = [&](const std::string& why) { return "task '" + in.task_id().value() + "': " + why; };
  if (auto err = from_v1(in.resources(), out.resources); !err.empty())
    return fail(err);
  if (in.has_command()) {
    command_info c;
    if (auto err = from_v1(in.command(), c); !err.empty())
      return fail(err);
    out.command = std::move(c);
  }
  if (in.has_executor()) {
    executor_info e;
    if (auto err = from_v1(in.executor(), e); !err.empty())
      return fail(err);
    out.executor = std::move(e);
  }
  out.data = in.data();
  if (in.has_container())
    if (auto err = container_from(in.container()); !err.empty())
      return fail(err);
  labels_from(in.labels(), out.labels);
  if (in.has_discovery()) {
    discovery_info d;
    discovery_from(in.discovery(), d);
    out.discovery = std::move(d);
  }
  if (in.has_kill_policy() && in.kill_policy().has_grace_period()) {
    kill_policy k;
    if (auto err = seconds_of(in.kill_policy().grace_period(), "kill_policy.grace_period", k.grace_period);
        !err.empty())
      return fail(err);
    out.kill_policy = k;
  }
  if (in.has_health_check()) {
    health_check h;
    if (auto err = health_from(in.health_check(), h); !err.empty())
      return fail(err);
    out.health_check = std::move(h);
  }
  return {};
}

std::string from_v1(const v1::Offer::Operation& in, offer_operation& out) {
  out = offer_operation{};
  using op = v1::Offer::Operation;
  auto resources = [&](operation_type t, bool present, const repeated<v1::Resource>& rs, const char* part) {
    out.type = t;
    if (!present)
      return std::string{"operation "} + op::Type_Name(in.type()) + " without '" + part + "'";
    return from_v1(rs, out.resources);
  };
  switch (in.type()) {
    case op::LAUNCH:
      out.type = operation_type::launch;
      for (const auto& t : in.launch().task_infos()) {
        task_info task;
        if (auto err = from_v1(t, task); !err.empty())
          return err;
        out.tasks.push_back(std::move(task));
      }
      return {};
    case op::LAUNCH_GROUP: {
      out.type = operation_type::launch_group;
      if (!in.has_launch_group())
        return "operation LAUNCH_GROUP without 'launch_group'";
      executor_info e;
      if (auto err = from_v1(in.launch_group().executor(), e); !err.empty())
        return err;
      out.executor = std::move(e);
      for (const auto& t : in.launch_group().task_group().tasks()) {
        task_info task;
        if (auto err = from_v1(t, task); !err.empty())
          return err;
        out.tasks.push_back(std::move(task));
      }
      return {};
    }
    case op::RESERVE:
      return resources(operation_type::reserve, in.has_reserve(), in.reserve().resources(), "reserve");
    case op::UNRESERVE:
      return resources(operation_type::unreserve, in.has_unreserve(), in.unreserve().resources(), "unreserve");
    case op::CREATE:
      return resources(operation_type::create, in.has_create(), in.create().volumes(), "create");
    case op::DESTROY:
      return resources(operation_type::destroy, in.has_destroy(), in.destroy().volumes(), "destroy");
    default:
      return "operation type " + op::Type_Name(in.type()) + " is not supported";
  }
}

std::string from_v1(const v1::Filters& in, filters& out) {
  out.refuse_seconds = in.refuse_seconds();
  if (!std::isfinite(out.refuse_seconds) || out.refuse_seconds < 0)
    return "filters.refuse_seconds must be a finite number >= 0";
  return {};
}

void to_v1(const resource_set& in, const std::string& allocation_role, resource_format format,
           repeated<v1::Resource>* out) {
  for (const auto& r : in.items()) {
    auto* x = out->Add();
    x->set_name(r.name);
    switch (r.type) {
      case value_type::scalar:
        x->set_type(v1::Value::SCALAR);
        x->mutable_scalar()->set_value(from_milli(r.scalar));
        break;
      case value_type::ranges:
        x->set_type(v1::Value::RANGES);
        for (const auto& range : r.ranges) {
          auto* y = x->mutable_ranges()->add_range();
          y->set_begin(range.begin);
          y->set_end(range.end);
        }
        break;
      case value_type::set:
        x->set_type(v1::Value::SET);
        for (const auto& item : r.items)
          x->mutable_set()->add_item(item);
        break;
    }
    if (r.role != "*") {
      auto type = r.dynamic ? v1::Resource::ReservationInfo::DYNAMIC : v1::Resource::ReservationInfo::STATIC;
      if (format.refinement) {
        auto* res = x->add_reservations();
        res->set_type(type);
        res->set_role(r.role);
      } else {
        x->set_role(r.role);
        if (r.dynamic)
          x->mutable_reservation();
      }
    }
    if (!r.volume_id.empty()) {
      x->mutable_disk()->mutable_persistence()->set_id(r.volume_id);
      auto* v = x->mutable_disk()->mutable_volume();
      v->set_container_path(r.volume_path);
      v->set_mode(v1::Volume::RW);
    }
    if (format.allocation_info && !allocation_role.empty())
      x->mutable_allocation_info()->set_role(allocation_role);
  }
}

void to_v1(const std::map<std::string, std::string>& attributes, repeated<v1::Attribute>* out) {
  for (const auto& [name, value] : attributes)
    attribute_to(name, value, out->Add());
}

void to_v1(const offer& in, resource_format format, v1::Offer* out) {
  out->mutable_id()->set_value(in.id.value);
  out->mutable_framework_id()->set_value(in.framework.value);
  out->mutable_agent_id()->set_value(in.agent.value);
  out->set_hostname(in.hostname);
  to_v1(in.resources, in.role, format, out->mutable_resources());
  to_v1(in.attributes, out->mutable_attributes());
  if (in.agent_http_port != 0) {
    auto* url = out->mutable_url();
    url->set_scheme("http");
    url->mutable_address()->set_hostname(in.hostname);
    url->mutable_address()->set_ip(in.agent_address);
    url->mutable_address()->set_port(in.agent_http_port);
    url->set_path("/slave(1)");
  }
  if (format.allocation_info)
    out->mutable_allocation_info()->set_role(in.role);
}

void to_v1(const task_status& in, v1::TaskStatus* out) {
  out->mutable_task_id()->set_value(in.task.value);
  v1::TaskState state = v1::TASK_STAGING;
  v1::TaskState_Parse(to_string(in.state), &state);
  out->set_state(state);
  if (!in.message.empty())
    out->set_message(in.message);
  out->set_source(static_cast<v1::TaskStatus::Source>(static_cast<int>(in.source)));
  v1::TaskStatus::Reason reason;
  if (in.reason != task_reason::none && v1::TaskStatus::Reason_Parse(to_string(in.reason), &reason))
    out->set_reason(reason);
  if (!in.data.empty())
    out->set_data(in.data);
  if (!in.agent.value.empty())
    out->mutable_agent_id()->set_value(in.agent.value);
  if (!in.executor.value.empty())
    out->mutable_executor_id()->set_value(in.executor.value);
  out->set_timestamp(in.timestamp);
  if (!in.uuid.empty())
    out->set_uuid(uuid_to_wire(in.uuid));
  if (in.healthy)
    out->set_healthy(*in.healthy);
}

void to_v1(const framework_info& in, v1::FrameworkInfo* out) {
  out->set_user(in.user);
  out->set_name(in.name);
  if (!in.id.empty())
    out->mutable_id()->set_value(in.id.value);
  out->set_failover_timeout(in.failover_timeout);
  out->set_checkpoint(in.checkpoint);
  if (!in.principal.empty())
    out->set_principal(in.principal);
  for (const auto& r : in.roles)
    out->add_roles(r);
  for (const auto& c : in.capabilities) {
    v1::FrameworkInfo::Capability::Type t;
    if (v1::FrameworkInfo::Capability::Type_Parse(c, &t))
      out->add_capabilities()->set_type(t);
  }
  if (!in.labels.empty())
    labels_to(in.labels, out->mutable_labels());
}

std::string from_v1(const v1::TaskStatus& in, const executor_id& executor, task_status& out) {
  out = task_status{};
  if (in.task_id().value().empty())
    return "status.task_id is empty";
  if (!in.has_uuid() || in.uuid().size() != 16)
    return "status.uuid must be the update's 16-byte UUID";
  if (in.has_executor_id() && in.executor_id().value() != executor.value)
    return "status.executor_id is not this executor";
  auto state = v1::TaskState_Name(in.state());
  bool known = false;
  for (int s = 0; s <= static_cast<int>(task_state::unknown); ++s)
    if (state == to_string(static_cast<task_state>(s))) {
      out.state = static_cast<task_state>(s);
      known = true;
    }
  // The master's and the agent's own states (staging, unreachable, gone, unknown, dropped) are not an executor's.
  switch (known ? out.state : task_state::unknown) {
    case task_state::starting: case task_state::running: case task_state::killing: case task_state::finished:
    case task_state::failed: case task_state::killed: case task_state::error: case task_state::lost:
      break;
    default:
      return "status.state " + state + " is not a state an executor reports";
  }
  if (in.has_reason()) {
    auto reason = v1::TaskStatus::Reason_Name(in.reason());
    for (int r = 0; r <= static_cast<int>(task_reason::agent_removed_by_operator); ++r)
      if (reason == to_string(static_cast<task_reason>(r)))
        out.reason = static_cast<task_reason>(r);
  }
  if (in.has_timestamp() && !std::isfinite(in.timestamp()))
    return "status.timestamp is not a finite number";
  out.task = task_id{in.task_id().value()};
  out.message = in.message();
  out.source = status_source::executor;
  out.uuid = uuid_from_wire(in.uuid());
  out.timestamp = in.has_timestamp() ? in.timestamp() : now_seconds();
  out.executor = executor;
  out.data = in.data();
  if (in.has_healthy())
    out.healthy = in.healthy();
  return {};
}

void to_v1(const command_info& in, v1::CommandInfo* out) {
  out->set_shell(in.shell);
  if (!in.value.empty())
    out->set_value(in.value);
  for (const auto& a : in.arguments)
    out->add_arguments(a);
  if (!in.user.empty())
    out->set_user(in.user);
  for (const auto& [name, value] : in.environment) {
    auto* v = out->mutable_environment()->add_variables();
    v->set_name(name);
    v->set_value(value);
  }
  for (const auto& u : in.uris) {
    auto* x = out->add_uris();
    x->set_value(u.value);
    x->set_executable(u.executable);
    x->set_extract(u.extract);
    x->set_cache(u.cache);
    if (!u.output_file.empty())
      x->set_output_file(u.output_file);
  }
}

void to_v1(const executor_info& in, resource_format format, v1::ExecutorInfo* out) {
  out->mutable_executor_id()->set_value(in.id.value);
  if (!in.framework.empty())
    out->mutable_framework_id()->set_value(in.framework.value);
  if (!in.name.empty())
    out->set_name(in.name);
  out->set_type(in.type == executor_type::default_executor ? v1::ExecutorInfo::DEFAULT : v1::ExecutorInfo::CUSTOM);
  to_v1(in.command, out->mutable_command());
  to_v1(in.resources, in.role, format, out->mutable_resources());
  if (!in.labels.empty())
    labels_to(in.labels, out->mutable_labels());
}

void to_v1(const kill_policy& in, v1::KillPolicy* out) {
  out->mutable_grace_period()->set_nanoseconds(static_cast<int64_t>(std::llround(in.grace_period * 1e9)));
}

namespace {

void health_to(const health_check& in, v1::HealthCheck* out) {
  switch (in.type) {
    case health_check::kind::command:
      out->set_type(v1::HealthCheck::COMMAND);
      to_v1(in.command, out->mutable_command());
      break;
    case health_check::kind::http:
      out->set_type(v1::HealthCheck::HTTP);
      out->mutable_http()->set_port(in.port);
      out->mutable_http()->set_path(in.path);
      out->mutable_http()->set_scheme(in.scheme);
      break;
    case health_check::kind::tcp:
      out->set_type(v1::HealthCheck::TCP);
      out->mutable_tcp()->set_port(in.port);
      break;
  }
  out->set_delay_seconds(in.delay);
  out->set_interval_seconds(in.interval);
  out->set_timeout_seconds(in.timeout);
  out->set_consecutive_failures(in.consecutive_failures);
  out->set_grace_period_seconds(in.grace_period);
}

} // namespace

void to_v1(const task_info& in, resource_format format, v1::TaskInfo* out) {
  out->set_name(in.name);
  out->mutable_task_id()->set_value(in.id.value);
  out->mutable_agent_id()->set_value(in.agent.value);
  to_v1(in.resources, in.role, format, out->mutable_resources());
  if (in.command)
    to_v1(*in.command, out->mutable_command());
  if (in.executor)
    to_v1(*in.executor, format, out->mutable_executor());
  if (!in.data.empty())
    out->set_data(in.data);
  if (!in.labels.empty())
    labels_to(in.labels, out->mutable_labels());
  if (in.kill_policy)
    to_v1(*in.kill_policy, out->mutable_kill_policy());
  if (in.health_check)
    health_to(*in.health_check, out->mutable_health_check());
}

std::string uuid_to_wire(const std::string& text) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9')
      return c - '0';
    if (c >= 'a' && c <= 'f')
      return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
      return c - 'A' + 10;
    return -1;
  };
  if (text.size() != 36)
    return text;
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-')
        return text;
      ++i;
      continue;
    }
    int hi = hex(text[i]), lo = hex(text[i + 1]);
    if (hi < 0 || lo < 0)
      return text;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

std::string uuid_from_wire(const std::string& bytes) {
  if (bytes.size() != 16)
    return bytes;
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10)
      out += '-';
    auto b = static_cast<unsigned char>(bytes[i]);
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

} // namespace mesoscaf::mesos_v1
