// Sandboxes of finished executors: scheduled when the executor is gone (or found on disk at start, belonging to
// nobody), deleted by the disk worker once sandbox_gc says they are due; never the sandbox of a live container.
#include "actors/agent/agent_state.hpp"

#include "config/support/logging.hpp"

#include <chrono>
#include <set>

namespace mesoscaf::agent_internal {

namespace {

// The sandboxes of the executors the agent knows (running, launching, recovering or terminating).
std::set<std::string> live_sandboxes(const agent_state& st) {
  std::set<std::string> result;
  for (auto& [key, e] : st.executors)
    if (!e.sandbox.empty())
      result.insert(e.sandbox);
  return result;
}

// Whether `path` is, contains or lies in a live sandbox.
bool touches(const std::set<std::string>& live, const std::string& path) {
  auto within = [](const std::string& inner, const std::string& outer) {
    return inner.size() > outer.size() && inner.compare(0, outer.size(), outer) == 0 && inner[outer.size()] == '/';
  };
  for (auto& s : live)
    if (s == path || within(s, path) || within(path, s))
      return true;
  return false;
}

void collect(agent_ptr self, double usage) {
  auto& st = self->state;
  auto due = st.gc.due(sandbox_gc::clock::now(), usage < 0 ? 0.0 : usage);
  // Checked again now: an executor recovered or launched since it was scheduled keeps its sandbox.
  auto live = live_sandboxes(st);
  std::vector<std::string> doomed;
  for (auto& p : due)
    if (!touches(live, p))
      doomed.push_back(p);
  if (doomed.empty() || !st.disk) {
    st.disk_watch_running = false;
    return;
  }
  LOG_INFO(component, "removing " << doomed.size() << " old sandbox(es) (disk usage "
                                  << static_cast<int>(usage * 100) << "%)");
  self->request(st.disk, caf::infinite, atom::gc_v, std::move(doomed))
    .then(
      [self](const std::string& err) {
        self->state.disk_watch_running = false;
        if (!err.empty())
          LOG_WARN(component, "sandbox GC: " << err);
      },
      [self](const caf::error& err) {
        self->state.disk_watch_running = false;
        LOG_WARN(component, "sandbox GC: " << render(self, err));
      });
}

} // namespace

void schedule_sandbox_gc(agent_ptr self, const std::string& sandbox) {
  if (sandbox.empty())
    return;
  self->state.gc.schedule(sandbox, sandbox_gc::clock::now());
  LOG_DEBUG(component, "sandbox " << sandbox << " scheduled for removal");
}

void scan_old_sandboxes(agent_ptr self) {
  auto& st = self->state;
  if (!st.disk)
    return;
  self->request(st.disk, caf::infinite, atom::scan_runs_v)
    .then(
      [self](const std::map<std::string, int64_t>& runs) {
        auto& st = self->state;
        auto live = live_sandboxes(st);
        size_t n = 0;
        std::vector<container_id> orphans;
        for (auto& [path, mtime] : runs) {
          if (touches(live, path))
            continue;
          st.gc.schedule(path, sandbox_gc::time_point{std::chrono::seconds(mtime)});
          // A run dir is named after its container: whatever of it still runs belongs to nobody now.
          orphans.emplace_back(path.substr(path.rfind('/') + 1));
          ++n;
        }
        destroy_orphan_containers(self, std::move(orphans));
        if (n > 0)
          LOG_INFO(component, n << " sandbox(es) of earlier executors scheduled for removal");
      },
      [self](const caf::error& err) { LOG_WARN(component, "cannot scan old sandboxes: " << render(self, err)); });
}

void watch_disk(agent_ptr self, time_point t) {
  auto& st = self->state;
  if (t < st.next_disk_watch || st.disk_watch_running || !st.disk)
    return;
  st.next_disk_watch = t + st.opts.disk_watch_interval;
  if (st.gc.size() == 0)
    return;
  st.disk_watch_running = true;
  self->request(st.disk, caf::infinite, atom::disk_usage_v)
    .then([self](double usage) { collect(self, usage); },
          [self](const caf::error& err) {
            self->state.disk_watch_running = false;
            LOG_WARN(component, "cannot read the disk usage: " << render(self, err));
          });
}

} // namespace mesoscaf::agent_internal
