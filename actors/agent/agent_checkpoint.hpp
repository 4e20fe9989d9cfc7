#pragma once
// What an agent writes under <work_dir>/meta so that a restarted agent process (same machine, same boot) can
// take over the executors and tasks of the one before it, and never lose a status update. Pure: record
// encoding, paths, and small blocking file helpers used only by the disk worker (actors/agent/agent_disk_worker.hpp)
// and by spawn_agent before the agent actor exists. No actor code.
//
// Layout (every path component is checked with is_safe_path_component; IDs are [A-Za-z0-9._-]):
//   meta/agent                                  agent_record: agent ID, boot ID, port (atomic replace)
//   meta/resources                              the total (agent_resources.hpp)
//   meta/frameworks/<fw>/framework              framework_info (atomic replace)
//   meta/frameworks/<fw>/executors/<eid>/executor   executor_record (atomic replace; rewritten when the pid is
//                                                   known)
//   meta/frameworks/<fw>/tasks/<tid>/task       task_record (atomic replace)
//   meta/frameworks/<fw>/tasks/<tid>/updates    append-only log of update_record: every status update the agent
//                                               took over (before it is forwarded) and every acknowledgement
// A record file holds one frame; an update log a sequence of frames. Frame: 4-byte little-endian payload length
// (top bit set: versioned), 4-byte CRC-32 of the payload, payload (a format version byte, then the CAF binary
// serialization of the record; frames from before versioning have no version byte and no top bit). A torn or corrupt frame at
// the END of a log (the agent died while appending) is dropped with a warning; anywhere else it is an error.
#include "messages/framework_info.hpp"
#include "messages/ids.hpp"
#include "messages/task_info.hpp"
#include "messages/task_status.hpp"

#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace mesoscaf {

struct agent_record {
  agent_id id;
  std::string boot_id;   // /proc/sys/kernel/random/boot_id when the ID was assigned
  uint16_t port = 0;     // where the agent was published: a restart publishes there again, executors reconnect
  /// --attributes of the process that wrote it: a restart may change them only as --reconfiguration-policy allows
  /// (messages/attributes.hpp check_attribute_change).
  std::map<std::string, std::string> attributes;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, agent_record& x) {
    return f(caf::meta::type_name("agent_record"), x.id, x.boot_id, x.port, x.attributes);
  }
};

struct executor_record {
  framework_id framework;
  executor_info info;        // framework, role set
  bool command = false;      // the built-in command executor
  container_id container;
  std::string sandbox;
  int32_t pid = -1;          // -1 until the containerizer reported it
  uint64_t start_time = 0;   // process_start_time(pid) (0 if unknown)
  std::string secret;        // its registration secret (executor_entry::secret)

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, executor_record& x) {
    return f(caf::meta::type_name("executor_record"), x.framework, x.info, x.command, x.container, x.sandbox,
             x.pid, x.start_time, x.secret);
  }
};

struct task_record {
  framework_id framework;
  task_info info;            // as received from the master (agent ID, role set)
  executor_id executor;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, task_record& x) {
    return f(caf::meta::type_name("task_record"), x.framework, x.info, x.executor);
  }
};

/// One entry of a task's update log: a status update taken over by the agent, or the acknowledgement of one.
struct update_record {
  bool is_ack = false;
  status_update update;      // if !is_ack
  std::string uuid;          // if is_ack

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, update_record& x) {
    return f(caf::meta::type_name("update_record"), x.is_ack, x.update, x.uuid);
  }
};

// -- paths (relative to the work dir; "" if a component is unsafe) -------------------------------------------

std::string agent_record_path();                                                    // "meta/agent"
std::string framework_dir(const framework_id& fw);                                  // "meta/frameworks/<fw>"
std::string framework_record_path(const framework_id& fw);
std::string executor_dir(const framework_id& fw, const executor_id& eid);
std::string executor_record_path(const framework_id& fw, const executor_id& eid);
std::string task_dir(const framework_id& fw, const task_id& tid);
std::string task_record_path(const framework_id& fw, const task_id& tid);
std::string task_updates_path(const framework_id& fw, const task_id& tid);

// -- encoding (pure) -------------------------------------------------------------------------------------------

/// One frame holding `x` (length, CRC-32, payload).
std::string encode_frame(const agent_record& x);
std::string encode_frame(const framework_info& x);
std::string encode_frame(const executor_record& x);
std::string encode_frame(const task_record& x);
std::string encode_frame(const update_record& x);

/// Decodes a file holding exactly one frame. Returns "" or an error (short, bad CRC, undecodable, trailing bytes).
std::string decode_record(const std::string& bytes, agent_record& out);
std::string decode_record(const std::string& bytes, framework_info& out);
std::string decode_record(const std::string& bytes, executor_record& out);
std::string decode_record(const std::string& bytes, task_record& out);

/// Decodes an update log. A torn/corrupt last frame is dropped and `*truncated` set; a bad frame before
/// intact ones is an error. Returns "" or an error.
std::string decode_update_log(const std::string& bytes, std::vector<update_record>& out, bool* truncated = nullptr);

// -- blocking file helpers (disk worker / before spawning only) ------------------------------------------------

/// Replaces <work_dir>/<rel> atomically with `bytes` (parent directories created; tmp + fsync + rename + fsync
/// of the directory). `rel` must be one of the paths above. Returns "" or an error.
std::string write_checkpoint_file(const std::string& work_dir, const std::string& rel, const std::string& bytes);
/// Appends `bytes` (whole frames) to <work_dir>/<rel> (created with its parents), then fdatasync if `sync`.
std::string append_checkpoint_file(const std::string& work_dir, const std::string& rel, const std::string& bytes,
                                   bool sync);
/// Removes <work_dir>/<rel> (a file or a whole directory tree); missing is fine. Returns "" or an error.
std::string remove_checkpoint_path(const std::string& work_dir, const std::string& rel);

// -- recovery --------------------------------------------------------------------------------------------------

struct recovered_task {
  task_record record;
  std::vector<update_record> updates;   // the log, in order
};

struct recovered_executor {
  executor_record record;
};

struct recovered_framework {
  framework_info info;
  std::map<executor_id, recovered_executor> executors;
  std::map<task_id, recovered_task> tasks;
};

struct recovered_state {
  bool found = false;                   // meta/agent existed
  agent_record agent;
  std::map<framework_id, recovered_framework> frameworks;
  std::vector<std::string> warnings;    // dropped torn log tails, unreadable leftovers skipped
};

/// Reads everything under <work_dir>/meta (blocking). A missing meta/agent means a fresh agent (found = false,
/// no error). Directories without their record file (the agent died between mkdir and rename) are skipped with a
/// warning. Returns "" or an error (a corrupt record file: the agent must not guess).
std::string read_checkpoint(const std::string& work_dir, recovered_state& out);

/// Removes meta/agent and meta/frameworks (after a reboot or a cleanup), keeping meta/resources.
std::string clear_checkpoint(const std::string& work_dir);

/// The kernel's boot ID (/proc/sys/kernel/random/boot_id, trimmed); "" if unreadable.
std::string read_boot_id();

} // namespace mesoscaf
