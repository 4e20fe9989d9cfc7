// The agent as the supervisor of its component actors: it starts them in order (disk worker, then
// containerizer), stops them in reverse when it exits, and restarts one that dies while the agent runs, within a
// budget (actors/restart_policy.hpp), rebuilding it from the agent's own state:
// - a new disk worker gets every job the dead one had not answered, in the order sent (disk_job);
// - a new containerizer re-adopts every executor's process (they are not its children's children: the old one
//   left them running), is asked again for launches the old one never answered, and for kills it may have lost.
#include "actors/agent/agent_resources.hpp"
#include "actors/agent/agent_state.hpp"

#include "config/support/logging.hpp"
#include "containerizer/containerizer_actor.hpp"

namespace mesoscaf::agent_internal {

namespace {

constexpr const char* containerizer_name = "containerizer";
constexpr const char* disk_worker_name = "disk worker";

void announce(agent_ptr self, const char* name, const caf::actor& hdl) {
  if (self->state.opts.on_component_start)
    self->state.opts.on_component_start(name, hdl);
}

void start_disk_worker(agent_ptr self) {
  auto& st = self->state;
  st.disk = spawn_agent_disk_worker(self->system(), st.opts.work_dir, st.total, st.opts.detached_disk_worker);
  st.components->disk = st.disk;
  self->monitor(st.disk);
  announce(self, disk_worker_name, caf::actor_cast<caf::actor>(st.disk));
  // A restarted worker: the jobs its predecessor left unanswered, in their order, before any new one.
  st.disk_jobs.for_each([](uint64_t seq, const disk_job_entry& job) { job.send(seq); });
}

void start_containerizer(agent_ptr self) {
  auto& st = self->state;
  if (st.opts.make_containerizer) {
    st.containerizer = st.opts.make_containerizer(self->system(), me(self));
  } else {
    containerizer_options copts;
    copts.kill_grace_period = std::chrono::duration_cast<std::chrono::milliseconds>(st.opts.container_kill_grace);
    // Only an orderly stop by the agent runs this (after begin_shutdown stopped every executor): a last resort
    // for executors that outlived their grace. A crashed (kill -9) agent runs nothing, and a crashed containerizer
    // leaves them to its successor, so the executors live on to be adopted (containerizer recover).
    copts.kill_on_exit = true;
    copts.isolation = st.opts.isolation;
    copts.control_groups = st.opts.control_groups;
    st.containerizer = spawn_containerizer(self->system(), me(self), copts);
  }
  ++st.containerizer_generation;
  st.components->containerizer = st.containerizer;
  self->monitor(st.containerizer);
  announce(self, containerizer_name, caf::actor_cast<caf::actor>(st.containerizer));
}

// The new containerizer's answer whether an executor's process still runs (it then watches it).
void on_readopt_answer(agent_ptr self, const executor_key& key, const container_id& cid, uint64_t generation,
                       bool alive) {
  auto& st = self->state;
  if (generation != st.containerizer_generation)
    return;  // that containerizer died as well; its successor asks again
  auto i = st.executors.find(key);
  if (i == st.executors.end() || i->second.container != cid) {
    if (alive)
      self->send(st.containerizer, atom::kill_v, cid);
    return;
  }
  auto& e = i->second;
  if (e.state == executor_entry::phase::recovering) {
    on_adopt_answer(self, key, cid, alive);
    return;
  }
  if (!alive) {
    LOG_WARN(component, "executor " << key.second << " of framework " << key.first
                                    << " ended while the containerizer was down");
    on_container_exited(self, cid, -1);
    return;
  }
  LOG_INFO(component, "containerizer re-adopted container " << cid << " of executor " << key.second << " (pid "
                                                            << e.pid << ")");
  if (e.kill_sent)  // the dead containerizer may have lost the kill (or its SIGKILL timer)
    self->send(st.containerizer, atom::kill_v, cid);
}

// Rebuilds a new containerizer from the agent's executor table.
void readopt_containers(agent_ptr self) {
  auto& st = self->state;
  auto generation = st.containerizer_generation;
  std::vector<executor_key> never_started;
  for (auto& [key, e] : st.executors) {
    if (e.container.empty())
      continue;
    if (e.pid <= 0) {
      // The dead containerizer never started it (it answers a launch at once, before it can die).
      if (e.state == executor_entry::phase::launching)
        request_launch(self, e);
      else if (e.state == executor_entry::phase::terminating)
        never_started.push_back(key);
      continue;
    }
    auto k = key;
    auto cid = e.container;
    self->request(st.containerizer, st.opts.request_timeout, atom::recover_v, cid, e.pid, e.start_time)
      .then([=](bool alive) { on_readopt_answer(self, k, cid, generation, alive); },
            [=](caf::error& err) {
              if (generation != self->state.containerizer_generation || err == caf::sec::request_receiver_down)
                return;
              LOG_ERROR(component, "containerizer cannot re-adopt container " << cid << ": " << render(self, err));
              on_readopt_answer(self, k, cid, generation, false);
            });
  }
  for (auto& key : never_started)
    erase_executor(self, key);  // stopped before it ever ran: nothing to wait for
  if (!st.orphan_kills_pending.empty()) {
    self->send(st.containerizer, atom::kill_v, std::move(st.orphan_kills_pending));
    st.orphan_kills_pending.clear();
  }
}

void restart_containerizer(agent_ptr self) {
  self->state.containerizer_restart_at.reset();
  start_containerizer(self);
  LOG_INFO(component, "containerizer restarted; re-adopting " << self->state.executors.size() << " executor(s)");
  readopt_containers(self);
}

void restart_disk_worker(agent_ptr self) {
  self->state.disk_restart_at.reset();
  start_disk_worker(self);
  LOG_INFO(component, "disk worker restarted; " << self->state.disk_jobs.size() << " unanswered job(s) sent again");
}

// A component died while the agent runs: restart it after its backoff, or give up and exit.
void component_failed(agent_ptr self, const char* name, const caf::error& reason, restart_policy& policy,
                      std::optional<time_point>& restart_at, void (*restart)(agent_ptr)) {
  auto& st = self->state;
  auto exit_reason = reason ? reason : caf::make_error(caf::exit_reason::unknown);
  if (st.shutting_down) {
    LOG_ERROR(component, name << " went down (" << render(self, reason) << ") during shutdown; agent exits");
    self->quit(exit_reason);
    return;
  }
  auto t = now(self);
  auto delay = policy.on_failure(t);
  if (!delay) {
    const auto& l = policy.settings();
    LOG_ERROR(component, name << " went down (" << render(self, reason) << ") more than " << l.max_restarts
                              << " time(s) within " << milliseconds_text(l.window) << "; giving up: agent exits");
    self->quit(exit_reason);
    return;
  }
  LOG_ERROR(component, name << " went down (" << render(self, reason) << "); restarting it in "
                            << milliseconds_text(*delay) << " (" << policy.recent(t) << " of "
                            << policy.settings().max_restarts << " restart(s) within "
                            << milliseconds_text(policy.settings().window) << ")");
  if (delay->count() <= 0)
    restart(self);
  else
    restart_at = t + *delay;
}

} // namespace

void start_components(agent_ptr self) {
  auto& st = self->state;
  st.total = st.opts.recovered_total ? *st.opts.recovered_total : st.opts.resources;
  if (st.total != st.opts.resources)
    LOG_INFO(component, "recovered resources " << st.total << " from "
                                               << resources_checkpoint_path(st.opts.work_dir));
  st.containerizer_restarts = restart_policy{st.opts.component_restarts};
  st.disk_restarts = restart_policy{st.opts.component_restarts};
  start_disk_worker(self);
  start_containerizer(self);
  // Stop in reverse order. The containerizer also watches us; this makes it go at once when we do (and tells it
  // the stop is orderly: see containerizer_options::kill_on_exit).
  self->attach_functor([c = st.components](const caf::error&) {
    caf::anon_send_exit(c->containerizer, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(c->disk, caf::exit_reason::user_shutdown);
  });
}

bool on_component_down(agent_ptr self, const caf::down_msg& msg) {
  auto& st = self->state;
  if (st.disk && msg.source == st.disk.address()) {
    st.disk = nullptr;
    component_failed(self, disk_worker_name, msg.reason, st.disk_restarts, st.disk_restart_at, restart_disk_worker);
    return true;
  }
  if (st.containerizer && msg.source == st.containerizer.address()) {
    st.containerizer = nullptr;
    component_failed(self, containerizer_name, msg.reason, st.containerizer_restarts, st.containerizer_restart_at,
                     restart_containerizer);
    return true;
  }
  return false;
}

void restart_due_components(agent_ptr self, time_point t) {
  auto& st = self->state;
  if (st.shutting_down)
    return;
  if (st.disk_restart_at && t >= *st.disk_restart_at)
    restart_disk_worker(self);
  if (st.containerizer_restart_at && t >= *st.containerizer_restart_at)
    restart_containerizer(self);
}

void disk_job_done(agent_ptr self, uint64_t seq, const std::string& result) {
  if (auto job = self->state.disk_jobs.take(seq); job && job->done)
    job->done(result);
}

void disk_job_failed(agent_ptr self, uint64_t seq, const caf::error& err) {
  // The worker died before it got to the job: its restart sends it again.
  if (err == caf::sec::request_receiver_down)
    return;
  disk_job_done(self, seq, "disk worker: " + render(self, err));
}

} // namespace mesoscaf::agent_internal
