#pragma once
// The agent's disk worker: the one place where the agent's checkpoint and volume directories are written. It runs
// as a detached actor (fsync, mkdir, rename, symlink block), handles its jobs strictly in arrival order (so a
// checkpoint is always written before the directory work of its operation, and a volume's directory exists before
// a task is linked to it), and removes destroyed volume trees on further detached actors of their own so that a
// big deletion never delays a task's launch.
#include "actors/interfaces.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace caf {
class actor_system;
}

namespace mesoscaf {

using agent_disk_worker_actor = caf::typed_actor<
  // Checkpoints `new_total` (atomically), then: CREATE makes each new volume's (empty) directory, DESTROY moves
  // each volume's directory to the trash and deletes it. Replies "" or an error text.
  caf::replies_to<atom::apply_op, resource_set, offer_operation>::with<std::string>,
  // Links every volume in `volumes` at <sandbox>/<volume_path> (creating the volume directory if a crash lost
  // it). Replies "" or an error text (then nothing is guaranteed linked; the task must not start).
  caf::replies_to<atom::launch, std::string, resource_set>::with<std::string>,
  // Agent recovery checkpoint (actors/agent/agent_checkpoint.hpp): writes `bytes` (encoded frames) to the work-dir
  // relative path `rel`: replaced atomically, or appended (`append`; fdatasync if `sync`). Replies "" or an error.
  caf::replies_to<atom::checkpoint, std::string, std::string, bool, bool>::with<std::string>,
  // Removes the checkpoint file or directory `rel` (a finished task, executor or framework). Replies "" or an
  // error.
  caf::replies_to<atom::forget, std::string>::with<std::string>,
  // A barrier: replies "" once every job sent before it is done (durable).
  caf::replies_to<atom::ping>::with<std::string>,
  // The used fraction (0..1) of the work dir's file system (statvfs); -1 if it cannot be read.
  caf::replies_to<atom::disk_usage>::with<double>,
  // Sandbox GC: every executor run directory under <work_dir>/agents (.../executors/<exec>/runs/<container>)
  // with its mtime (seconds since the epoch).
  caf::replies_to<atom::scan_runs>::with<std::map<std::string, int64_t>>,
  // Sandbox GC: deletes these run directories (only paths under <work_dir>/agents/), then their executor and
  // framework directories if they are left empty. Replies "" or the errors.
  caf::replies_to<atom::gc, std::vector<std::string>>::with<std::string>>;

/// Spawns the worker for `work_dir`. On start it makes sure every volume of `total` has its directory and
/// removes volume directories `total` does not know (left by a crash between a DESTROY's checkpoint and its
/// deletion), so that a new volume never sees old data. `detached` = false runs it (and deletions) on the
/// scheduler, for deterministic tests.
agent_disk_worker_actor spawn_agent_disk_worker(caf::actor_system& sys, std::string work_dir, resource_set total,
                                                bool detached = true);

} // namespace mesoscaf
