#include "actors/master/offer_validation.hpp"

#include "messages/task_checks.hpp"

#include <cmath>
#include <utility>

namespace mesoscaf {

namespace {

task_verdict make_error(const task_id& id, task_reason reason, std::string message) {
  return task_verdict{id, verdict_kind::error, reason, std::move(message)};
}

// "" or why a LAUNCH_GROUP's executor cannot run it: the group needs the DEFAULT executor, with a safe ID, no
// command of its own (the agent supplies it) and valid resources.
std::string check_group_executor(const framework_id& caller, const executor_info& ex) {
  if (ex.type != executor_type::default_executor)
    return "a task group runs on the DEFAULT executor (executor type CUSTOM given)";
  if (auto msg = check_safe_id("executor ID", ex.id.value); !msg.empty())
    return msg;
  if (!ex.framework.empty() && ex.framework != caller)
    return "executor's framework ID " + ex.framework.value + " is not the caller's";
  const auto& c = ex.command;
  if (!c.value.empty() || !c.arguments.empty() || !c.uris.empty() || !c.environment.empty() || !c.user.empty()
      || !c.shell)
    return "the DEFAULT executor takes no command, environment or user (the agent runs its own)";
  if (auto msg = check_no_control_chars("executor name", ex.name); !msg.empty())
    return msg;
  if (auto msg = ex.resources.validate(); !msg.empty())
    return "executor's resources are invalid: " + msg;
  return check_labels(ex.labels, "executor");
}

// "" or why a task cannot be part of a group (on top of validate_task's checks of it alone).
std::string check_group_task(const task_info& t) {
  if (t.executor)
    return "task " + t.id.value + " of a group names an executor (the group's executor runs every task)";
  if (!t.command)
    return "task " + t.id.value + " of a group has no command";
  return {};
}

} // namespace

void validate_group(const framework_id& caller, const agent_id& agent, const offer_operation& op,
                    accept_verdict& result, std::unordered_set<task_id>& seen, const live_task_query& is_live,
                    const std::function<const executor_info*(const executor_id&)>& known_executor) {
  auto& remaining = result.remaining;
  const auto first = result.tasks.size();
  // All or nothing: the first problem fails every task of the group, with that reason.
  task_reason reason = task_reason::none;
  std::string why;
  auto fail = [&](task_reason r, std::string msg) {
    if (why.empty()) {
      reason = r;
      why = std::move(msg);
    }
  };
  for (const auto& t : op.tasks)
    result.tasks.push_back(task_verdict{t.id, verdict_kind::ok, task_reason::none, {}});
  executor_info ex;
  if (op.tasks.empty())
    fail(task_reason::task_group_invalid, "the task group has no tasks");
  if (!op.executor)
    fail(task_reason::task_group_invalid, "a task group needs its executor (type DEFAULT)");
  else if (auto msg = check_group_executor(caller, *op.executor); !msg.empty())
    fail(task_reason::task_group_invalid, msg);
  else
    ex = *op.executor;
  if (ex.framework.empty())
    ex.framework = caller;
  std::unordered_set<task_id> in_group;
  resource_set needed;
  for (const auto& t : op.tasks) {
    if (!in_group.insert(t.id).second) {
      fail(task_reason::task_group_invalid, "task ID " + t.id.value + " appears twice in the task group");
      continue;
    }
    if (auto msg = check_group_task(t); !msg.empty()) {
      fail(task_reason::task_group_invalid, msg);
      continue;
    }
    // Checked as the task it is, then as part of the group's executor (health checks are allowed there).
    auto v = validate_task(caller, agent, t);
    if (v.kind != verdict_kind::ok)
      fail(v.reason == task_reason::task_invalid ? task_reason::task_group_invalid : v.reason,
           "task " + t.id.value + ": " + v.message);
    else if (seen.count(t.id) > 0)
      fail(task_reason::task_group_invalid, "task ID " + t.id.value + " appears twice in this call");
    else if (is_live && is_live(t.id))
      fail(task_reason::task_group_invalid,
           "task ID " + t.id.value + " is already used by a live (or unreachable) task of this framework");
    needed += t.resources;
  }
  for (const auto& t : op.tasks)
    seen.insert(t.id);
  bool new_executor = false;
  if (why.empty()) {
    if (const auto* known = known_executor(ex.id)) {
      if (!same_executor(*known, ex))
        fail(task_reason::task_group_invalid, "executor " + ex.id.value + " is already running (or starting) on agent "
                                                + agent.value + " with a different executor_info");
    } else {
      new_executor = true;
      needed += ex.resources;
    }
  }
  if (why.empty() && !remaining.contains(needed))
    fail(task_reason::invalid_resources,
         "the task group's resources " + needed.to_string() + (new_executor ? " (with its new executor's)" : "")
           + " are not contained in what remains of the offers (" + remaining.to_string() + ")");
  if (why.empty()) {
    auto err = check_whole_volumes(needed, result.agent_total);
    if (err.empty())
      err = check_whole_volumes(needed, remaining);
    if (!err.empty())
      fail(task_reason::invalid_resources, err);
  }
  if (!why.empty()) {
    for (auto i = first; i < result.tasks.size(); ++i)
      result.tasks[i] = make_error(result.tasks[i].task, reason, "invalid task group: " + why);
    return;
  }
  remaining -= needed;
  result.used += needed;
  if (new_executor)
    result.executors.push_back(ex);
  accept_verdict::group_launch g;
  g.executor = ex;
  g.group.on_failure = op.on_failure;
  for (auto t : op.tasks) {
    t.executor = ex;
    g.group.tasks.push_back(std::move(t));
  }
  result.groups.push_back(std::move(g));
}

std::optional<double> checked_refuse_seconds(double value, std::string* error) {
  return checked_refuse_seconds(value, max_refuse_seconds, error);
}

std::optional<double> checked_refuse_seconds(double value, double cap, std::string* error) {
  if (!std::isfinite(cap) || cap < 0)
    cap = max_refuse_seconds;
  if (std::isnan(value)) {
    if (error)
      *error = "refuse_seconds is NaN";
    return std::nullopt;
  }
  if (value < 0) {
    if (error)
      *error = "refuse_seconds is negative (" + std::to_string(value) + ")";
    return std::nullopt;
  }
  return value > cap ? cap : value;
}

bool same_executor(const executor_info& a, const executor_info& b) {
  const auto& x = a.command;
  const auto& y = b.command;
  return a.id == b.id && a.framework == b.framework && a.name == b.name && x.shell == y.shell
         && x.value == y.value && x.arguments == y.arguments && x.environment == y.environment
         && a.resources == b.resources && a.type == b.type;
}

offers_verdict validate_offers(const framework_id& caller, const std::vector<offer_id>& ids,
                               const offer_table& outstanding, const retired_offers& retired) {
  offers_verdict result;
  auto fail = [&](std::string msg) {
    offers_verdict bad;
    bad.message = std::move(msg);
    return bad;
  };
  if (ids.empty())
    return fail("no offers given");
  std::unordered_set<offer_id> seen;
  for (const auto& id : ids) {
    if (!seen.insert(id).second)
      return fail("offer " + id.value + " is listed more than once");
    auto i = outstanding.find(id);
    if (i == outstanding.end()) {
      if (retired.count(id) > 0)
        return fail("offer " + id.value + " is no longer valid (already used, declined or rescinded)");
      return fail("unknown offer " + id.value);
    }
    const auto& o = i->second;
    // Do not say whose offer it is: that would leak another framework's ID.
    if (o.framework != caller)
      return fail("offer " + id.value + " does not belong to framework " + caller.value);
    const std::string role = o.role.empty() ? std::string{"*"} : o.role;
    if (result.ids.empty()) {
      result.agent = o.agent;
      result.role = role;
    } else if (o.agent != result.agent) {
      return fail("offers are on more than one agent (" + result.agent.value + " and " + o.agent.value + ")");
    } else if (role != result.role) {
      return fail("offers are for more than one role ('" + result.role + "' and '" + role + "')");
    }
    result.total += o.resources;
    result.ids.push_back(id);
  }
  result.ok = true;
  return result;
}

task_verdict validate_task(const framework_id& caller, const agent_id& offers_agent, const task_info& task) {
  const auto& id = task.id;
  if (auto msg = check_safe_id("task ID", id.value); !msg.empty())
    return make_error(id, task_reason::task_invalid, msg);
  // Names shown in logs, tables and terminals (the ID's own rule already excludes control characters).
  for (auto [what, text] : {std::pair<const char*, const std::string*>{"task name", &task.name},
                            {"command user", task.command ? &task.command->user : nullptr},
                            {"executor name", task.executor ? &task.executor->name : nullptr},
                            {"executor's command user", task.executor ? &task.executor->command.user : nullptr}})
    if (text != nullptr)
      if (auto msg = check_no_control_chars(what, *text); !msg.empty())
        return make_error(id, task_reason::task_invalid, msg);
  if (task.command && task.executor)
    return make_error(id, task_reason::task_invalid, "task has both a command and an executor (give exactly one)");
  if (!task.command && !task.executor)
    return make_error(id, task_reason::task_invalid, "task has neither a command nor an executor");
  if (task.command && task.command->value.empty())
    return make_error(id, task_reason::task_invalid, "task's command is empty");
  if (task.executor) {
    const auto& ex = *task.executor;
    if (ex.type == executor_type::default_executor)
      return make_error(id, task_reason::task_invalid,
                        "a DEFAULT executor runs task groups only (LAUNCH_GROUP), not a task of a LAUNCH");
    if (auto msg = check_safe_id("executor ID", ex.id.value); !msg.empty())
      return make_error(id, task_reason::task_invalid, msg);
    if (!ex.framework.empty() && ex.framework != caller)
      return make_error(id, task_reason::task_invalid,
                        "executor's framework ID " + ex.framework.value + " is not the caller's");
    if (ex.command.value.empty())
      return make_error(id, task_reason::task_invalid, "executor's command is empty");
    if (auto msg = ex.resources.validate(); !msg.empty())
      return make_error(id, task_reason::invalid_resources, "executor's resources are invalid: " + msg);
  }
  if (task.agent != offers_agent)
    return make_error(id, task_reason::task_invalid,
                      "task's agent ID '" + task.agent.value + "' is not the offers' agent '" + offers_agent.value
                        + "'");
  if (auto msg = task.resources.validate(); !msg.empty())
    return make_error(id, task_reason::invalid_resources, "task's resources are invalid: " + msg);
  if (task.resources.empty())
    return make_error(id, task_reason::invalid_resources, "task uses no resources");
  if (auto msg = check_task_life(task); !msg.empty())
    return make_error(id, task_reason::task_invalid, msg);
  return task_verdict{id, verdict_kind::ok, task_reason::none, {}};
}

std::string check_framework_text(const framework_info& info) {
  for (auto [what, text] : {std::pair<const char*, const std::string*>{"framework ID", &info.id.value},
                            {"framework name", &info.name},
                            {"framework user", &info.user},
                            {"framework principal", &info.principal}})
    if (auto msg = check_no_control_chars(what, *text); !msg.empty())
      return msg;
  for (const auto& role : info.roles)
    if (auto msg = check_no_control_chars("framework role", role); !msg.empty())
      return msg;
  for (const auto& capability : info.capabilities)
    if (auto msg = check_no_control_chars("framework capability", capability); !msg.empty())
      return msg;
  return {};
}

accept_verdict validate_accept(const framework_id& caller, const std::vector<offer_id>& ids,
                               const std::vector<offer_operation>& operations, const offer_table& outstanding,
                               const retired_offers& retired, const live_task_query& is_live,
                               const executor_query& running, const resource_set& agent_total) {
  accept_verdict result;
  result.offers = validate_offers(caller, ids, outstanding, retired);
  result.agent_total = agent_total;
  if (!result.offers.ok) {
    for (const auto& op : operations)
      if (launches_tasks(op.type))
        for (const auto& t : op.tasks)
          result.tasks.push_back(task_verdict{t.id, verdict_kind::dropped, task_reason::invalid_offers,
                                              "invalid offers: " + result.offers.message});
    return result;
  }
  const auto& agent = result.offers.agent;
  auto& remaining = result.remaining;
  remaining = result.offers.total;
  std::unordered_set<task_id> seen;
  // The executor a task runs on: running on the agent, started by an earlier task of this call, or new.
  auto known_executor = [&](const executor_id& id) -> const executor_info* {
    if (running)
      if (const auto* e = running(agent, id))
        return e;
    for (const auto& e : result.executors)
      if (e.id == id)
        return &e;
    return nullptr;
  };
  std::size_t index = 0;
  for (const auto& op : operations) {
    ++index;
    if (!launches_tasks(op.type)) {
      resource_conversion c;
      auto err = to_conversion(op, result.offers.role, remaining, result.agent_total, c);
      if (!err.empty()) {
        result.operation_errors.push_back("operation " + std::to_string(index) + " (" + operation_name(op.type)
                                          + ") refused: " + err);
        break;
      }
      remaining -= c.consumed;
      remaining += c.produced;
      // The offers are part of the agent's total, so this succeeds; a caller that passed no total still gets
      // the produced volumes recorded (volume IDs unique within the call).
      if (!apply_conversion(result.agent_total, c).empty())
        result.agent_total += c.produced;
      result.conversions.push_back(accept_verdict::conversion{op, std::move(c)});
      continue;
    }
    if (op.type == operation_type::launch_group) {
      validate_group(caller, agent, op, result, seen, is_live, known_executor);
      continue;
    }
    for (const auto& t : op.tasks) {
      auto v = validate_task(caller, agent, t);
      // Count every occurrence, so the second of two equal IDs is refused even if the first was invalid.
      bool duplicate = !seen.insert(t.id).second;
      auto launched = t;
      if (launched.executor && launched.executor->framework.empty())
        launched.executor->framework = caller;
      auto needed = t.resources;
      bool new_executor = false;
      if (v.kind == verdict_kind::ok) {
        if (duplicate) {
          v = make_error(t.id, task_reason::task_invalid, "task ID " + t.id.value + " appears twice in this call");
        } else if (is_live && is_live(t.id)) {
          v = make_error(t.id, task_reason::task_invalid,
                         "task ID " + t.id.value + " is already used by a live (or unreachable) task of this framework");
        } else if (launched.executor) {
          const auto& ex = *launched.executor;
          if (const auto* known = known_executor(ex.id)) {
            if (!same_executor(*known, ex))
              v = make_error(t.id, task_reason::task_invalid,
                             "executor " + ex.id.value + " is already running (or starting) on agent "
                               + agent.value + " with a different executor_info");
          } else {
            new_executor = true;
            needed += ex.resources;
          }
        }
      }
      if (v.kind == verdict_kind::ok && !remaining.contains(needed))
        v = make_error(t.id, task_reason::invalid_resources,
                       new_executor ? "task's resources " + t.resources.to_string() + " plus its new executor's "
                                        + launched.executor->resources.to_string()
                                        + " are not contained in what remains of the offers ("
                                        + remaining.to_string() + ")"
                                    : "task's resources " + t.resources.to_string()
                                        + " are not contained in what remains of the offers ("
                                        + remaining.to_string() + ")");
      if (v.kind == verdict_kind::ok) {
        auto err = check_whole_volumes(needed, result.agent_total);
        if (err.empty())
          err = check_whole_volumes(needed, remaining);
        if (!err.empty())
          v = make_error(t.id, task_reason::invalid_resources, err);
      }
      if (v.kind == verdict_kind::ok) {
        remaining -= needed;
        result.used += needed;
        if (new_executor)
          result.executors.push_back(*launched.executor);
        result.launch.push_back(std::move(launched));
      }
      result.tasks.push_back(std::move(v));
    }
  }
  if (!result.operation_errors.empty()) {
    // All or nothing: undo every effect and drop every task of the call (also those after the failure).
    const auto why = "not launched: the ACCEPT was refused: " + result.operation_errors.front();
    result.tasks.clear();
    for (const auto& op : operations)
      if (launches_tasks(op.type))
        for (const auto& t : op.tasks)
          result.tasks.push_back(task_verdict{t.id, verdict_kind::dropped, task_reason::invalid_offers, why});
    result.launch.clear();
    result.groups.clear();
    result.executors.clear();
    result.conversions.clear();
    result.used = resource_set{};
    result.agent_total = agent_total;
    remaining = result.offers.total;
  }
  return result;
}

const char* to_string(verdict_kind k) {
  switch (k) {
    case verdict_kind::ok: return "ok";
    case verdict_kind::error: return "error";
    case verdict_kind::dropped: return "dropped";
  }
  return "invalid";
}

} // namespace mesoscaf
