#include "actors/agent/agent_disk_worker.hpp"

#include "actors/agent/agent_checkpoint.hpp"
#include "actors/agent/agent_resources.hpp"
#include "config/support/logging.hpp"
#include "containerizer/launcher.hpp"
#include "config/support/files.hpp"
#include "containerizer/volumes.hpp"

#include <caf/all.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <set>
#include <vector>

#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <system_error>

namespace mesoscaf {

namespace {

constexpr const char* component = "agent-disk";

struct worker_state {
  static inline const char* name = "agent-disk-worker";
  std::string work_dir;
  bool detached = true;
};

using worker_ptr = agent_disk_worker_actor::stateful_pointer<worker_state>;

// Deletes a tree off this actor: a big volume may take long to remove, and links for tasks must not wait for it.
void delete_in_background(worker_ptr self, const std::string& path) {
  if (!self->state.detached) {
    if (auto err = remove_tree(path); !err.empty())
      LOG_ERROR(component, err);
    return;
  }
  self->system().spawn<caf::detached>([path](caf::blocking_actor*) {
    if (auto err = remove_tree(path); !err.empty())
      LOG_ERROR(component, err);
    else
      LOG_DEBUG(component, "removed " << path);
  });
}

// Moves `dir` out of the way (an atomic rename into the trash) and deletes it in the background. A missing
// directory is fine.
std::string discard_directory(worker_ptr self, const std::string& dir) {
  auto trash = volume_trash_directory(self->state.work_dir);
  if (auto err = make_directories(trash); !err.empty())
    return err;
  auto target = trash + "/" + new_uuid();
  if (std::rename(dir.c_str(), target.c_str()) != 0) {
    if (errno == ENOENT)
      return {};
    return "cannot move " + dir + " to the trash: " + std::strerror(errno);
  }
  delete_in_background(self, target);
  return {};
}

// Startup: every known volume has its directory; unknown volume directories and old trash go.
void reconcile(worker_ptr self, const resource_set& total) {
  namespace fs = std::filesystem;
  const auto& work_dir = self->state.work_dir;
  std::set<std::string> known;
  const auto vols_r = total.volumes();
  for (const auto& r : vols_r.items()) {
    auto dir = volume_directory(work_dir, r.role, r.volume_id);
    if (dir.empty()) {
      LOG_ERROR(component, "volume '" << r.volume_id << "' of role '" << r.role << "' cannot name a directory");
      continue;
    }
    known.insert(dir);
    if (auto err = make_directories(dir); !err.empty())
      LOG_ERROR(component, "volume '" << r.volume_id << "': " << err);
  }
  std::error_code ec;
  auto roles = work_dir + "/volumes/roles";
  if (fs::is_directory(roles, ec)) {
    std::vector<std::string> stale;
    for (auto& role_dir : fs::directory_iterator(roles, ec)) {
      std::error_code ec2;
      for (auto& vol : fs::directory_iterator(role_dir.path(), ec2)) {
        auto p = vol.path().string();
        if (known.count(p) == 0)
          stale.push_back(p);
      }
    }
    for (auto& p : stale) {
      LOG_WARN(component, "removing the directory " << p << " of a volume this agent no longer has");
      if (auto err = discard_directory(self, p); !err.empty())
        LOG_ERROR(component, err);
    }
  }
  // Leftovers of deletions a restart interrupted.
  auto trash = volume_trash_directory(work_dir);
  if (fs::is_directory(trash, ec)) {
    for (auto& entry : fs::directory_iterator(trash, ec))
      delete_in_background(self, entry.path().string());
  }
}

double disk_usage_fraction(const std::string& work_dir) {
  struct statvfs fs;
  if (::statvfs(work_dir.c_str(), &fs) != 0 || fs.f_blocks == 0)
    return -1;
  return 1.0 - static_cast<double>(fs.f_bavail) / static_cast<double>(fs.f_blocks);
}

// <work_dir>/agents/<agent>/frameworks/<fw>/executors/<exec>/runs/<container>, each with its mtime.
std::map<std::string, int64_t> scan_run_dirs(const std::string& work_dir) {
  namespace fs = std::filesystem;
  std::map<std::string, int64_t> result;
  auto subdirs = [](const fs::path& p) {
    std::vector<fs::path> out;
    std::error_code ec;
    for (auto& e : fs::directory_iterator(p, ec)) {
      std::error_code ec2;
      if (e.is_directory(ec2) && !e.is_symlink(ec2))
        out.push_back(e.path());
    }
    return out;
  };
  for (auto& agent : subdirs(fs::path{work_dir} / "agents"))
    for (auto& fw : subdirs(agent / "frameworks"))
      for (auto& exec : subdirs(fw / "executors"))
        for (auto& run : subdirs(exec / "runs")) {
          struct stat st;
          if (::stat(run.c_str(), &st) == 0)
            result.emplace(run.string(), static_cast<int64_t>(st.st_mtime));
        }
  return result;
}

// Removes `dir` if it is empty (rmdir fails otherwise, which is fine).
void remove_if_empty(const std::string& dir) {
  ::rmdir(dir.c_str());
}

std::string remove_run_dirs(const std::string& work_dir, const std::vector<std::string>& paths) {
  std::string errors;
  auto prefix = work_dir + "/agents/";
  for (auto& p : paths) {
    // Only sandboxes: never anything the agent did not make (a bug must not delete arbitrary trees).
    if (p.compare(0, prefix.size(), prefix) != 0 || p.find("/../") != std::string::npos) {
      errors += (errors.empty() ? "" : "; ") + ("not a sandbox: " + p);
      continue;
    }
    if (auto err = remove_tree(p); !err.empty()) {
      errors += (errors.empty() ? "" : "; ") + err;
      continue;
    }
    LOG_INFO(component, "removed sandbox " << p);
    // .../executors/<exec>/runs/<container>: runs, <exec>, executors, <fw> go too once nothing else is in them.
    auto dir = p;
    for (int up = 0; up < 4; ++up) {
      dir = dir.substr(0, dir.rfind('/'));
      if (dir.size() <= prefix.size())
        break;
      remove_if_empty(dir);
    }
  }
  return errors;
}

agent_disk_worker_actor::behavior_type disk_worker(worker_ptr self, std::string work_dir, resource_set total,
                                                   bool detached) {
  self->state.work_dir = std::move(work_dir);
  self->state.detached = detached;
  reconcile(self, total);
  return {
    [=](atom::apply_op, const resource_set& new_total, const offer_operation& op) -> std::string {
      const auto& work_dir = self->state.work_dir;
      // The checkpoint comes first: after a crash the agent must never have acted on an operation it forgot.
      if (auto err = save_resources_checkpoint(work_dir, new_total); !err.empty())
        return "cannot checkpoint the agent's resources (" + std::string{operation_name(op.type)}
               + " not carried out on disk): " + err;
      std::string errors;
      auto note = [&](const std::string& e) {
        if (!e.empty())
          errors += (errors.empty() ? "" : "; ") + e;
      };
      const auto vols_r = op.resources.volumes();
      for (const auto& r : vols_r.items()) {
        auto dir = volume_directory(work_dir, r.role, r.volume_id);
        if (dir.empty()) {
          note("volume '" + r.volume_id + "' cannot name a directory");
          continue;
        }
        if (op.type == operation_type::create) {
          // A directory already there can only be a leftover: a new volume starts empty.
          note(discard_directory(self, dir));
          note(make_directories(dir));
          LOG_INFO(component, "created volume " << r.volume_id << " at " << dir);
        } else if (op.type == operation_type::destroy) {
          note(discard_directory(self, dir));
          LOG_INFO(component, "destroyed volume " << r.volume_id << " (" << dir << ")");
        }
      }
      return errors;
    },
    [=](atom::launch, const std::string& sandbox, const resource_set& volumes) -> std::string {
      const auto vols_r = volumes.volumes();
      for (const auto& r : vols_r.items()) {
        auto dir = volume_directory(self->state.work_dir, r.role, r.volume_id);
        if (dir.empty())
          return "volume '" + r.volume_id + "' cannot name a directory";
        if (auto err = make_directories(dir); !err.empty())
          return "volume '" + r.volume_id + "': " + err;
        if (auto err = link_volume(sandbox, r.volume_path, dir); !err.empty())
          return "volume '" + r.volume_id + "': " + err;
      }
      return {};
    },
    // Checkpoint jobs run in arrival order with the others, so the agent's records reach the disk in the order
    // it sent them (a task record before its first update, an update before its ack).
    [=](atom::checkpoint, const std::string& rel, const std::string& bytes, bool append,
        bool sync) -> std::string {
      auto err = append ? append_checkpoint_file(self->state.work_dir, rel, bytes, sync)
                        : write_checkpoint_file(self->state.work_dir, rel, bytes);
      return err;  // the agent logs it, once per failing path (it retries: a full disk must not flood the log)
    },
    [=](atom::forget, const std::string& rel) -> std::string {
      auto err = remove_checkpoint_path(self->state.work_dir, rel);
      if (!err.empty())
        LOG_ERROR(component, "forget " << rel << ": " << err);
      return err;
    },
    // Jobs run in arrival order: reaching this one means every earlier write is done.
    [=](atom::ping) -> std::string { return {}; },
    [=](atom::disk_usage) -> double { return disk_usage_fraction(self->state.work_dir); },
    [=](atom::scan_runs) { return scan_run_dirs(self->state.work_dir); },
    [=](atom::gc, const std::vector<std::string>& paths) { return remove_run_dirs(self->state.work_dir, paths); },
  };
}

} // namespace

agent_disk_worker_actor spawn_agent_disk_worker(caf::actor_system& sys, std::string work_dir, resource_set total,
                                                bool detached) {
  if (detached)
    return sys.spawn<caf::detached>(disk_worker, std::move(work_dir), std::move(total), true);
  return sys.spawn(disk_worker, std::move(work_dir), std::move(total), false);
}

} // namespace mesoscaf
