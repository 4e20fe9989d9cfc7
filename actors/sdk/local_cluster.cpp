#include "actors/sdk/local_cluster.hpp"
#include "actors/tls.hpp"

#include "actors/agent/agent.hpp"
#include "actors/master/master.hpp"
#include "actors/ha/registrar.hpp"
#include "actors/ha/registry_store.hpp"
#include "config/support/files.hpp"
#include "config/support/logging.hpp"
#include "config/support/network_address.hpp"
#include "containerizer/containerizer_actor.hpp"
#include "containerizer/launcher.hpp"

#include <caf/actor_system.hpp>
#include <caf/function_view.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <thread>

#include <unistd.h>

namespace mesoscaf {

namespace {

namespace fs = std::filesystem;

/// `created`: the directory did not exist before (only such a directory may be removed on stop).
std::string make_work_dir(const std::string& requested, bool& created) {
  created = true;
  if (!requested.empty()) {
    std::error_code ec;
    created = !fs::exists(requested, ec);
    fs::create_directories(requested, ec);
    if (ec)
      throw std::runtime_error("cannot create work dir " + requested + ": " + ec.message());
    return fs::absolute(requested).string();
  }
  const char* tmp = std::getenv("TMPDIR");
  std::string templ = std::string{tmp && *tmp ? tmp : "/tmp"} + "/mesoscaf-local-XXXXXX";
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr)
    throw std::runtime_error("cannot create a temporary work dir from " + templ);
  return std::string{buf.data()};
}

/// Sends `user_shutdown` to all `targets` and waits (from this thread) until they are down; kills the rest
/// after `grace` and waits a little more. Returns the number of actors that did not confirm their exit.
template <class Handle>
size_t terminate_all(caf::actor_system& sys, const std::vector<Handle>& targets, std::chrono::milliseconds grace) {
  caf::scoped_actor self{sys};
  size_t pending = 0;
  for (auto& t : targets) {
    if (!t)
      continue;
    self->monitor(t);
    self->send_exit(t, caf::exit_reason::user_shutdown);
    ++pending;
  }
  auto wait = [&](std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (pending > 0) {
      auto now = std::chrono::steady_clock::now();
      if (now >= deadline)
        break;
      bool timed_out = false;
      self->receive([&](caf::down_msg&) { --pending; },
                    caf::after(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now))
                      >> [&] { timed_out = true; });
      if (timed_out)
        break;
    }
  };
  wait(grace);
  if (pending > 0) {
    LOG_WARN("local-cluster", pending << " actor(s) did not stop within " << grace.count() << " ms: killing");
    for (auto& t : targets)
      if (t)
        self->send_exit(t, caf::exit_reason::kill);
    wait(std::chrono::milliseconds(2000));
  }
  return pending;
}

} // namespace

local_cluster::local_cluster(caf::actor_system& sys, local_cluster_options opts)
  : sys_(sys), opts_(std::move(opts)) {
  work_dir_ = make_work_dir(opts_.work_dir, remove_work_dir_);
  std::error_code ec;
  fs::create_directories(work_dir_ + "/master", ec);
  master_options mopts;
  static_cast<master_tuning&>(mopts) = opts_;
  mopts.acls = opts_.acls;
  // The embedded default: a standalone master with an in-memory registry (Mesos' --registry=in_memory).
  mopts.make_registrar = [store = make_in_memory_registry_store()](caf::actor_system& s) {
    return spawn_registrar(s, store);
  };
  master_ = spawn_master(sys_, mopts);
  // It serves once its (empty) registry is loaded: wait for that, so that agents and frameworks started right
  // after the constructor are not refused.
  {
    caf::scoped_actor self{sys_};
    for (int i = 0; i < 500; ++i) {
      bool leading = false;
      self->request(master_, std::chrono::seconds(5), atom::state_v)
        .receive([&](const master_snapshot& snap) { leading = snap.leading; }, [&](const caf::error&) {});
      if (leading)
        break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  auto port = publish_actor(sys_, master_, opts_.master_port, "127.0.0.1", true);
  if (!port) {
    auto err = sys_.render(port.error());
    caf::anon_send_exit(master_, caf::exit_reason::user_shutdown);
    master_ = nullptr;
    stopped_ = true;
    throw std::runtime_error("cannot publish the master on port " + std::to_string(opts_.master_port) + ": " + err);
  }
  port_ = *port;
  hostname_ = local_hostname();
  for (size_t i = 0; i < opts_.agents; ++i)
    agents_.push_back(spawn_agent_at(i));
}

local_cluster::~local_cluster() {
  stop();
}

master_snapshot local_cluster::state(std::chrono::milliseconds timeout) {
  if (!master_)
    return {};
  auto f = caf::make_function_view(master_, caf::duration{timeout});
  auto res = f(atom::state_v);
  if (!res)
    return {};
  return std::move(*res);
}

bool local_cluster::wait_for_agents(size_t n, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (remaining.count() <= 0)
      return false;
    auto snap = state(std::min(remaining, std::chrono::milliseconds(1000)));
    if (snap.agents.size() >= n)
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void local_cluster::stop() {
  if (stopped_)
    return;
  stopped_ = true;
  // Agents first: they kill their executors and tasks (bounded by their own exit timeout).
  auto left = terminate_all(sys_, agents_, std::chrono::milliseconds(10000));
  if (left > 0)
    LOG_WARN("local-cluster", left << " agent(s) did not confirm their exit");
  // An agent killed by stop_agent and not restarted left the executors of checkpointing frameworks waiting for
  // it: end them as `--recover=cleanup` would, so that a test leaves no processes behind.
  for (size_t i = 0; i < agents_.size(); ++i) {
    if (agents_[i])
      continue;
    recovered_state left_over;
    auto dir = work_dir_ + "/agent" + std::to_string(i);
    if (load_agent_checkpoint(dir, read_boot_id(), left_over).empty())
      kill_recovered_executors(left_over, std::chrono::milliseconds(3000));
  }
  agents_.clear();
  std::vector<master_actor> masters{master_};
  terminate_all(sys_, masters, std::chrono::milliseconds(3000));
  master_ = nullptr;
  if (remove_work_dir_ && !opts_.keep_work_dir) {
    if (auto err = remove_tree(work_dir_); !err.empty())
      LOG_WARN("local-cluster", "cannot remove the work dir " << work_dir_ << ": " << err);
  }
}

agent_actor local_cluster::spawn_agent_at(size_t i) {
  agent_options aopts;
  aopts.master = master_;
  aopts.hostname = hostname_;
  aopts.resources = opts_.agent_resources;
  aopts.publish = true;
  aopts.port = 0;
  aopts.work_dir = work_dir_ + "/agent" + std::to_string(i);
  aopts.http_port = i < opts_.agent_http_ports.size() ? opts_.agent_http_ports[i] : 0;
  // Keep the whole ordered shutdown well inside the daemons' 15 s watchdog.
  aopts.exit_timeout = std::chrono::seconds(5);
  // stop_agent() kills the agent actor like a crashed process: its containerizer must then leave the executors
  // running (kill_on_exit off), as a kill -9 would. An orderly stop still ends them all: the agent shuts each
  // executor down, kills it after executor_shutdown_grace (3 s), and this grace (SIGTERM -> SIGKILL) makes that
  // happen well before the agent gives up waiting (3 s + exit_timeout).
  aopts.isolation = opts_.isolation;
  aopts.isolation.cgroups_root += "/agent" + std::to_string(i);
  aopts.control_groups = opts_.control_groups;
  aopts.make_containerizer = [iso = aopts.isolation, cg = opts_.control_groups](caf::actor_system& sys,
                                                                                agent_actor owner) {
    containerizer_options copts;
    copts.kill_grace_period = std::chrono::seconds(4);
    copts.kill_on_exit = false;
    copts.isolation = iso;
    copts.control_groups = cg;
    return spawn_containerizer(sys, owner, copts);
  };
  if (opts_.on_agent_component)
    aopts.on_component_start = [hook = opts_.on_agent_component, i](const std::string& name, const caf::actor& h) {
      hook(i, name, h);
    };
  std::error_code ec;
  fs::create_directories(aopts.work_dir, ec);
  return spawn_agent(sys_, std::move(aopts));
}

bool local_cluster::stop_agent(size_t i) {
  if (i >= agents_.size() || !agents_[i])
    return false;
  auto hdl = agents_[i];
  agents_[i] = nullptr;
  {
    caf::scoped_actor self{sys_};
    self->monitor(hdl);
    // `kill` skips the agent's orderly shutdown (its exit handler), like SIGKILL skips a daemon's.
    self->send_exit(hdl, caf::exit_reason::kill);
    self->receive([](const caf::down_msg&) {},
                  caf::after(std::chrono::seconds(10)) >> [] {
                    LOG_WARN("local-cluster", "a killed agent did not go down within 10 s");
                  });
  }
  // Frees its port: the restarted agent publishes itself on the same one, where its executors look for it.
  sys_.middleman().unpublish(hdl, 0);
  return true;
}

bool local_cluster::restart_agent(size_t i) {
  if (i >= agents_.size() || stopped_)
    return false;
  stop_agent(i);
  agents_[i] = spawn_agent_at(i);
  return true;
}

std::string local_cluster::sandbox_of(const framework_id& fw, const task_status& status) const {
  // The agent's layout (executor_runs_dir), and a command task's own directory under tasks/<task> in a run. The
  // container ID is the agent's alone: take the newest run that holds the task.
  executor_id exec = status.executor.value.empty() ? executor_id{command_executor_id} : status.executor;
  bool command = exec.value == command_executor_id;
  if (!is_safe_path_component(status.task.value))
    return {};
  std::string best;
  fs::file_time_type best_time{};
  for (size_t i = 0; i < opts_.agents; ++i) {
    auto runs = executor_runs_dir(work_dir_ + "/agent" + std::to_string(i), status.agent, fw, exec);
    if (runs.empty())
      return {};
    std::error_code ec;
    for (fs::directory_iterator it{runs, ec}, end; !ec && it != end; it.increment(ec)) {
      auto dir = it->path().string() + (command ? "/tasks/" + status.task.value : std::string{});
      std::error_code ec2;
      if (!fs::is_directory(dir, ec2))
        continue;
      auto t = fs::last_write_time(dir, ec2);
      if (!ec2 && (best.empty() || t > best_time)) {
        best = dir;
        best_time = t;
      }
    }
  }
  return best;
}

sandbox_file local_cluster::read_sandbox_file(const std::string& sandbox, const std::string& path,
                                              size_t max_bytes) const {
  return mesoscaf::read_sandbox_file(sandbox, path, max_bytes);
}

sandbox_file local_cluster::read_stdout(const command_result& r, size_t max_bytes) const {
  return read_sandbox_file(r.sandbox, "stdout", max_bytes);
}

sandbox_file local_cluster::read_stderr(const command_result& r, size_t max_bytes) const {
  return read_sandbox_file(r.sandbox, "stderr", max_bytes);
}

} // namespace mesoscaf
