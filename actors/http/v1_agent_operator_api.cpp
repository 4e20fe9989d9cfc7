// POST /api/v1 on the agent (docs/HTTP.md "Mesos v1 operator API (agent)"): Mesos' agent operator calls, each
// answered with one mesos.v1.agent.Response in the codec the client accepts. The state calls read the agent's
// state page (as /state does); the file calls read sandboxes on this HTTP thread, confined as /files is.
#include "actors/http/daemon_http.hpp"

#include "actors/http/endpoint_support.hpp"
#include "actors/http/sandbox_paths.hpp"
#include "actors/http/v1_daemon_calls.hpp"
#include "actors/http/v1_http_support.hpp"
#include "actors/http/v1_master_state.hpp"
#include "config/support/version.hpp"
#include "messages/mesos_v1/agent.pb.h"
#include "messages/mesos_v1/convert.hpp"

#include <caf/actor_system.hpp>

#include <algorithm>

namespace mesoscaf::http {

namespace {

namespace v1 = ::mesos::v1;
using mesos_v1::codec;
using Call = ::mesos::v1::agent::Call;
using Response = ::mesos::v1::agent::Response;

/// The largest READ_FILE answer (as /files/read).
constexpr std::size_t max_read_length = 1 << 20;

/// The object of view_state (--acls) each read call shows.
std::vector<const char*> viewed_objects(Call::Type t) {
  switch (t) {
    case Call::GET_FLAGS:
      return {"flags"};
    case Call::GET_STATE:
    case Call::GET_EXECUTORS:
    case Call::GET_TASKS:
    case Call::GET_CONTAINERS:
      return {"frameworks", "tasks"};
    case Call::GET_FRAMEWORKS:
      return {"frameworks"};
    case Call::LIST_FILES:
    case Call::READ_FILE:
      return {"sandboxes"};
    default:
      return {};
  }
}

void executor_to_v1(const executor_view& e, v1::ExecutorInfo* out) {
  out->mutable_executor_id()->set_value(e.id.value);
  out->mutable_framework_id()->set_value(e.framework.value);
  if (!e.name.empty())
    out->set_name(e.name);
  out->set_type(e.type == executor_type::default_executor ? v1::ExecutorInfo::DEFAULT : v1::ExecutorInfo::CUSTOM);
  mesos_v1::to_v1(e.resources, "", {false, true}, out->mutable_resources());
}

void tasks_to_v1(const agent_state_view& v, Response::GetTasks* out) {
  for (const auto& e : v.executors) {
    for (const auto& t : e.queued)
      to_v1_task(t, out->add_queued_tasks());
    for (const auto& t : e.tasks)
      to_v1_task(t, is_terminal(t.state) ? out->add_terminated_tasks() : out->add_launched_tasks());
    for (const auto& t : e.completed_tasks)
      to_v1_task(t, out->add_completed_tasks());
  }
  for (const auto& e : v.completed_executors) {
    for (const auto& t : e.tasks)
      to_v1_task(t, out->add_completed_tasks());
    for (const auto& t : e.completed_tasks)
      to_v1_task(t, out->add_completed_tasks());
  }
}

void executors_to_v1(const agent_state_view& v, Response::GetExecutors* out) {
  for (const auto& e : v.executors)
    executor_to_v1(e, out->add_executors()->mutable_executor_info());
  for (const auto& e : v.completed_executors)
    executor_to_v1(e, out->add_completed_executors()->mutable_executor_info());
}

void frameworks_to_v1(const agent_state_view& v, Response::GetFrameworks* out) {
  for (const auto& f : v.frameworks)
    mesos_v1::to_v1(f, out->add_frameworks()->mutable_framework_info());
}

void containers_to_v1(const agent_state_view& v, const std::vector<container_usage>& usage,
                      Response::GetContainers* out) {
  for (const auto& e : v.executors) {
    auto* c = out->add_containers();
    c->mutable_framework_id()->set_value(e.framework.value);
    c->mutable_executor_id()->set_value(e.id.value);
    c->set_executor_name(e.name);
    c->mutable_container_id()->set_value(e.container.value);
    auto u = std::find_if(usage.begin(), usage.end(), [&](const container_usage& x) { return x.container == e.container; });
    if (u == usage.end())
      continue;
    const auto& s = u->statistics;
    auto* r = c->mutable_resource_statistics();
    r->set_timestamp(s.timestamp);
    r->set_cpus_user_time_secs(s.cpus_user_time_secs);
    r->set_cpus_system_time_secs(s.cpus_system_time_secs);
    if (s.cpus_limit > 0)
      r->set_cpus_limit(s.cpus_limit);
    r->set_mem_rss_bytes(s.mem_rss_bytes);
    if (s.mem_limit_bytes > 0)
      r->set_mem_limit_bytes(s.mem_limit_bytes);
    r->set_disk_used_bytes(s.disk_used_bytes);
    if (s.disk_limit_bytes > 0)
      r->set_disk_limit_bytes(s.disk_limit_bytes);
    r->set_processes(static_cast<uint32_t>(s.processes));
  }
}

void agent_to_v1(const agent_state_view& v, const daemon_identity& me, v1::AgentInfo* out) {
  out->set_hostname(v.info.hostname.empty() ? me.hostname : v.info.hostname);
  if (!v.info.id.empty())
    out->mutable_id()->set_value(v.info.id.value);
  out->set_port(v.info.port);
  mesos_v1::to_v1(v.info.total, "", {false, true}, out->mutable_resources());
  mesos_v1::to_v1(v.info.attributes, out->mutable_attributes());
}

} // namespace

void add_v1_operator_agent_routes(server& srv, caf::actor_system& sys, std::function<agent_actor()> agent_of,
                                  std::shared_ptr<const endpoint_options> me,
                                  std::function<daemon_identity()> identity) {
  auto sysp = &sys;
  srv.route("*", "/api/v1", [=](const request& req) -> response {
    Call call;
    codec c = codec::json;
    if (auto refusal = read_call(req, me->max_call_bytes, "agent", call, c))
      return *refusal;
    auto answer_codec = accepted_codec(req, c);
    if (!answer_codec)
      return plain(406, "Expecting 'Accept' to allow application/json or application/x-protobuf");
    for (auto object : viewed_objects(call.type()))
      if (auto no = forbidden(*me, req, acl_action::view_state, object))
        return plain(403, no->body);
    auto answer = [&](const Response& r) {
      response res;
      res.content_type = mesos_v1::content_type(*answer_codec);
      res.body = mesos_v1::encode(*answer_codec, r);
      return res;
    };
    auto agent = agent_of();
    if (!agent)
      return plain(503, "the agent is not running yet");
    Response r;
    std::optional<response> refusal;
    if (answer_daemon_call(call, identity(), *sysp, agent, me->timeout, r, refusal))
      return refusal ? *refusal : answer(r);
    switch (call.type()) {
      case Call::LIST_FILES: {
        if (!call.has_list_files())
          return plain(400, "Expecting 'list_files' to be present");
        std::vector<sandbox_entry> entries;
        auto listed = list_sandbox(me->work_dir, call.list_files().path(), entries);
        if (listed.status != 200)
          return plain(listed.status, listed.error);
        r.set_type(Response::LIST_FILES);
        for (const auto& e : entries) {
          auto* f = r.mutable_list_files()->add_file_infos();
          f->set_path(e.path);
          f->set_nlink(static_cast<int32_t>(e.nlink));
          f->set_size(e.size);
          f->mutable_mtime()->set_nanoseconds(e.mtime * 1000000000);
          f->set_mode(e.mode);
          f->set_uid(e.uid);
          f->set_gid(e.gid);
        }
        return answer(r);
      }
      case Call::READ_FILE: {
        if (!call.has_read_file())
          return plain(400, "Expecting 'read_file' to be present");
        const auto& rf = call.read_file();
        auto length = std::min<uint64_t>(rf.has_length() ? rf.length() : max_read_length, max_read_length);
        std::string data;
        uint64_t size = 0;
        auto read = read_sandbox_file(me->work_dir, rf.path(), rf.offset(), static_cast<std::size_t>(length), data, size);
        if (read.status != 200)
          return plain(read.status, read.error);
        r.set_type(Response::READ_FILE);
        r.mutable_read_file()->set_size(size);
        r.mutable_read_file()->set_data(std::move(data));
        return answer(r);
      }
      case Call::GET_STATE:
      case Call::GET_FRAMEWORKS:
      case Call::GET_EXECUTORS:
      case Call::GET_TASKS:
      case Call::GET_CONTAINERS:
      case Call::GET_AGENT: {
        agent_state_view v;
        if (auto err = ask(*sysp, agent, me->timeout, v, atom::state_page_v); !err.empty())
          return plain(503, "the agent did not answer: " + err);
        switch (call.type()) {
          case Call::GET_STATE:
            r.set_type(Response::GET_STATE);
            tasks_to_v1(v, r.mutable_get_state()->mutable_get_tasks());
            executors_to_v1(v, r.mutable_get_state()->mutable_get_executors());
            frameworks_to_v1(v, r.mutable_get_state()->mutable_get_frameworks());
            break;
          case Call::GET_FRAMEWORKS:
            r.set_type(Response::GET_FRAMEWORKS);
            frameworks_to_v1(v, r.mutable_get_frameworks());
            break;
          case Call::GET_EXECUTORS:
            r.set_type(Response::GET_EXECUTORS);
            executors_to_v1(v, r.mutable_get_executors());
            break;
          case Call::GET_TASKS:
            r.set_type(Response::GET_TASKS);
            tasks_to_v1(v, r.mutable_get_tasks());
            break;
          case Call::GET_CONTAINERS: {
            std::vector<container_usage> usage;
            if (auto err = ask(*sysp, agent, me->timeout, usage, atom::usage_v); !err.empty())
              return plain(503, "the agent did not answer: " + err);
            r.set_type(Response::GET_CONTAINERS);
            containers_to_v1(v, usage, r.mutable_get_containers());
            break;
          }
          default:
            r.set_type(Response::GET_AGENT);
            agent_to_v1(v, identity(), r.mutable_get_agent()->mutable_agent_info());
            break;
        }
        return answer(r);
      }
      default:
        return plain(501, "Call " + Call::Type_Name(call.type()) + " is not implemented by mesoscaf yet");
    }
  });
}

} // namespace mesoscaf::http
