#pragma once
// The daemons' state as the HTTP endpoints serve it (actors/http/): plain copies an actor hands to an HTTP
// thread, which turns them into JSON off the actor. The master hands its state over in pages (state_cursor), each
// a bounded amount of work, so a large cluster's /state never holds up offers and status updates for long.
#include "messages/agent_info.hpp"
#include "messages/framework_info.hpp"
#include "messages/ids.hpp"
#include "messages/master_location.hpp"
#include "messages/quota.hpp"
#include "messages/resource_statistics.hpp"
#include "messages/resources.hpp"
#include "messages/task_info.hpp"
#include "messages/task_status.hpp"

#include <caf/error.hpp>
#include <caf/meta/load_callback.hpp>
#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace mesoscaf {

/// Where the next page of the master's state starts.
struct state_cursor {
  enum phase_t : uint8_t { header = 0, agents = 1, completed = 2, done = 3 };
  uint8_t phase = header;
  agent_id after;      // agents: the page starts after this agent (empty: at the first)
  uint64_t seq = 0;    // completed: the page starts at this sequence number of the completed-task history

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, state_cursor& x) {
    return f(caf::meta::type_name("state_cursor"), x.phase, x.after, x.seq);
  }
};

struct task_view {
  task_id id;
  std::string name;
  framework_id framework;
  agent_id agent;
  executor_id executor;            // empty: the command executor
  task_state state = task_state::staging;
  task_reason reason = task_reason::none;
  std::string message;
  resource_set resources;
  std::string role;
  double launched = 0;             // seconds since the epoch
  double updated = 0;              // of the latest state
  std::string user;                // its framework's user (empty: not known)
  mesoscaf::labels labels;
  boxed_optional<discovery_info> discovery;
  caf::optional<bool> healthy;     // unset: no health check result yet
  bool has_health_check = false;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, task_view& x) {
    return f(caf::meta::type_name("task_view"), x.id, x.name, x.framework, x.agent, x.executor, x.state, x.reason,
             x.message, x.resources, x.role, x.launched, x.updated, x.user, x.labels, x.discovery, x.healthy,
             x.has_health_check);
  }
};

struct offer_view {
  offer_id id;
  framework_id framework;
  agent_id agent;
  std::string role;
  resource_set resources;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, offer_view& x) {
    return f(caf::meta::type_name("offer_view"), x.id, x.framework, x.agent, x.role, x.resources);
  }
};

/// A view the master shares instead of copying: immutable once made. The master keeps one per task, agent and
/// offer and makes a new one only when that changes, so a state page holds pointers (a page of the state of
/// 100,000 tasks costs the master a pointer copy per task), and a reader may keep its rendering beside the view.
template <class T>
class shared_view {
public:
  explicit shared_view(T v) : view_(std::move(v)) {}
  shared_view(const shared_view&) = delete;
  shared_view& operator=(const shared_view&) = delete;

  const T& view() const { return view_; }

  /// The reader's rendering of this view (the HTTP layer's JSON), made by `render` the first time any thread
  /// asks and kept while the view lives: the view never changes, so neither does its rendering.
  template <class Render>
  const std::string& rendered(Render&& render) const {
    std::call_once(rendered_once_, [&] { rendered_ = render(view_); });
    return rendered_;
  }

private:
  T view_;
  mutable std::once_flag rendered_once_;
  mutable std::string rendered_;
};

/// A shared, immutable view in a message. Serialized by value (a remote reader gets its own).
template <class T>
class shared_ref {
public:
  shared_ref() = default;
  explicit shared_ref(T v) : ptr_(std::make_shared<const shared_view<T>>(std::move(v))) {}

  const T& operator*() const { return ptr_ ? ptr_->view() : empty(); }
  const T* operator->() const { return &**this; }
  /// Null only for a default-constructed reference.
  const shared_view<T>* record() const { return ptr_.get(); }
  /// Both refer to the same view (not merely equal ones).
  bool same(const shared_ref& other) const { return ptr_ == other.ptr_; }
  explicit operator bool() const { return ptr_ != nullptr; }

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, shared_ref& x) {
    if constexpr (Inspector::writes_state) {
      T v;
      return f(v, caf::meta::load_callback([&x, &v]() -> caf::error {
        x = shared_ref{std::move(v)};
        return caf::none;
      }));
    } else {
      T copy = *x;
      return f(copy);
    }
  }

private:
  static const T& empty() {
    static const T none;
    return none;
  }
  std::shared_ptr<const shared_view<T>> ptr_;
};

using task_ref = shared_ref<task_view>;
using offer_ref = shared_ref<offer_view>;

struct framework_view {
  framework_info info;
  bool active = true;              // its scheduler is connected
  resource_set used;
  resource_set offered;
  double registered = 0;
  std::vector<task_ref> unreachable_tasks;
  std::vector<task_ref> unacknowledged;   // ended, the framework has not acknowledged it yet
  std::vector<executor_info> executors;   // custom and DEFAULT executors believed running

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, framework_view& x) {
    return f(caf::meta::type_name("framework_view"), x.info, x.active, x.used, x.offered, x.registered,
             x.unreachable_tasks, x.unacknowledged, x.executors);
  }
};

struct agent_view {
  agent_info info;
  resource_set used;
  resource_set offered;
  bool connected = true;
  double registered = 0;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, agent_view& x) {
    return f(caf::meta::type_name("agent_view"), x.info, x.used, x.offered, x.connected, x.registered);
  }
};

using agent_ref = shared_ref<agent_view>;

struct master_header {
  std::string id;                  // this master's run ID
  std::string hostname;
  std::string address;
  uint16_t port = 0;
  uint16_t http_port = 0;
  double start_time = 0;
  double elected_time = 0;         // 0: not elected
  bool elected = false;
  bool leading = false;
  master_location leader;
  std::vector<agent_id> unreachable;
  std::vector<agent_id> recovering;
  std::vector<framework_id> completed_frameworks;
  uint64_t outstanding_offers = 0;
  uint64_t completed_tasks = 0;    // in the history now

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, master_header& x) {
    return f(caf::meta::type_name("master_header"), x.id, x.hostname, x.address, x.port, x.http_port,
             x.start_time, x.elected_time, x.elected, x.leading, x.leader, x.unreachable, x.recovering,
             x.completed_frameworks, x.outstanding_offers, x.completed_tasks);
  }
};

/// One page of the master's state. Pages are appended in the order asked until `done`.
struct master_state_view {
  state_cursor next;
  bool done = false;
  master_header header;                   // header page only
  std::vector<framework_view> frameworks; // header page only
  std::vector<role_summary> roles;        // header page only
  std::vector<agent_ref> agents;
  std::vector<task_ref> tasks;            // live tasks of the agents of this page
  std::vector<offer_ref> offers;          // outstanding offers of the agents of this page
  std::vector<task_ref> completed;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, master_state_view& x) {
    return f(caf::meta::type_name("master_state_view"), x.next, x.done, x.header, x.frameworks, x.roles, x.agents,
             x.tasks, x.offers, x.completed);
  }
};

struct metric_sample {
  std::string name;                // Mesos' names: "master/tasks_running"
  double value = 0;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, metric_sample& x) {
    return f(caf::meta::type_name("metric_sample"), x.name, x.value);
  }
};

struct executor_view {
  framework_id framework;
  executor_id id;
  std::string name;
  container_id container;
  std::string directory;           // the sandbox
  resource_set resources;
  bool command = false;            // run by our binary: the command executor, or a DEFAULT executor (task groups)
  executor_type type = executor_type::custom;
  std::vector<task_view> tasks;
  std::vector<task_view> queued;
  std::vector<task_view> completed_tasks;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, executor_view& x) {
    return f(caf::meta::type_name("executor_view"), x.framework, x.id, x.name, x.container, x.directory,
             x.resources, x.command, x.type, x.tasks, x.queued, x.completed_tasks);
  }
};

struct agent_state_view {
  agent_info info;                 // id empty until registered
  bool registered = false;
  std::string master;              // the master's endpoint it follows ("" = none known)
  double start_time = 0;
  std::vector<framework_info> frameworks;
  std::vector<executor_view> executors;
  std::vector<executor_view> completed_executors;  // newest last, bounded
  uint64_t pending_updates = 0;
  std::vector<metric_sample> counters;             // cumulative counts ("slave/tasks_finished", ...)

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, agent_state_view& x) {
    return f(caf::meta::type_name("agent_state_view"), x.info, x.registered, x.master, x.start_time, x.frameworks,
             x.executors, x.completed_executors, x.pending_updates, x.counters);
  }
};

/// One change of the master's state, as the operator API's SUBSCRIBE stream reports it (Mesos' operator events).
enum class operator_event_type : uint8_t {
  task_added,
  task_updated,
  agent_added,
  agent_removed,
  framework_added,
  framework_updated,
  framework_removed,
};

struct operator_event {
  operator_event_type type = operator_event_type::task_added;
  task_ref task;                               // task_added: the task as launched
  framework_id framework;                      // task_updated
  task_status status;                          // task_updated: the status that changed it
  task_state state = task_state::staging;      // task_updated: the task's latest state
  agent_ref agent;                             // agent_added
  agent_id removed_agent;                      // agent_removed
  framework_view fw;                           // framework_added / _updated; _removed: its info only

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, operator_event& x) {
    return f(caf::meta::type_name("operator_event"), x.type, x.task, x.framework, x.status, x.state, x.agent,
             x.removed_agent, x.fw);
  }
};

} // namespace mesoscaf
