#include "actors/sdk/local_cluster.hpp"

#include "actors/agent/agent.hpp"
#include "actors/master/master.hpp"
#include "actors/ha/registrar.hpp"
#include "actors/ha/registry_store.hpp"
#include "config/support/logging.hpp"

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

std::string make_work_dir(const std::string& requested) {
  if (!requested.empty()) {
    std::error_code ec;
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

std::string this_hostname() {
  char buf[256] = {0};
  if (::gethostname(buf, sizeof(buf) - 1) != 0 || buf[0] == '\0')
    return "localhost";
  return buf;
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
  work_dir_ = make_work_dir(opts_.work_dir);
  std::error_code ec;
  fs::create_directories(work_dir_ + "/master", ec);
  master_options mopts;
  static_cast<master_tuning&>(mopts) = opts_;
  // The embedded default: a standalone master with an in-memory registry (Mesos' --registry=in_memory).
  mopts.registrar = spawn_registrar(sys_, make_in_memory_registry_store());
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
  auto port = sys_.middleman().publish(master_, opts_.master_port, "127.0.0.1", true);
  if (!port) {
    auto err = sys_.render(port.error());
    caf::anon_send_exit(master_, caf::exit_reason::user_shutdown);
    master_ = nullptr;
    stopped_ = true;
    throw std::runtime_error("cannot publish the master on port " + std::to_string(opts_.master_port) + ": " + err);
  }
  port_ = *port;
  auto host = this_hostname();
  char exe[4096] = {0};
  auto n = ::readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  std::string self_exe = n > 0 ? std::string(exe, static_cast<size_t>(n)) : std::string{};
  for (size_t i = 0; i < opts_.agents; ++i) {
    agent_options aopts;
    aopts.master = master_;
    aopts.hostname = host;
    aopts.resources = opts_.agent_resources;
    aopts.publish = true;
    aopts.port = 0;
    aopts.work_dir = work_dir_ + "/agent" + std::to_string(i);
    // Inside the mesoscaf binary, its own command-executor; elsewhere (demos, tests) the build's binary.
    if (self_exe.size() > 9 && self_exe.compare(self_exe.size() - 9, 9, "/mesoscaf") == 0)
      aopts.executor_binary = self_exe;
    // Keep the whole ordered shutdown well inside the daemons' 15 s watchdog.
    aopts.exit_timeout = std::chrono::seconds(5);
    fs::create_directories(aopts.work_dir, ec);
    agents_.push_back(spawn_agent(sys_, std::move(aopts)));
  }
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
  agents_.clear();
  std::vector<master_actor> masters{master_};
  terminate_all(sys_, masters, std::chrono::milliseconds(3000));
  master_ = nullptr;
}

} // namespace mesoscaf
