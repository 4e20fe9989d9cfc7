#pragma once
// The agent's total resources as operations change them (reservations, persistent volumes), their checkpoint
// `<work_dir>/meta/resources`, and the check that a restarted agent may keep it. Pure logic plus small file
// helpers; no actor code.
#include "messages/offer.hpp"
#include "messages/resource_operations.hpp"
#include "messages/resources.hpp"

#include <string>

namespace mesoscaf {

/// `<work_dir>/meta/resources`: the agent's total in the text form of resource_set.
std::string resources_checkpoint_path(const std::string& work_dir);

/// The agent's re-check of an operation the master accepted: RESERVE / UNRESERVE / CREATE / DESTROY against the
/// whole `total` (no role check: the master checked the framework's role), plus what the agent needs on disk
/// (every new volume gets a directory name). Returns "" and fills `conversion` and `new_total`, or an error
/// (outputs unchanged).
std::string apply_agent_operation(const resource_set& total, const offer_operation& op,
                                  resource_conversion& conversion, resource_set& new_total);

/// `checkpointed` may replace `configured` (the flag or detected resources) iff their quantity forms are equal
/// (with_role("*")) and their static reservations are the same (`static_form`). Returns "" or an error naming both.
std::string check_checkpoint_compatible(const resource_set& checkpointed, const resource_set& configured);

/// The resources as configured by flags: dynamic reservations back to unreserved, volumes back to plain disk.
resource_set static_form(const resource_set& r);

/// Parses checkpoint text (validated). Returns "" and fills `out`, or an error.
std::string parse_resources_checkpoint(const std::string& text, resource_set& out);

/// A warning if the declared `disk` (MB) exceeds the size of the file system holding `work_dir` (statvfs; a small
/// blocking call: the caller's thread), else "". Tasks would be offered disk the agent cannot give them.
std::string disk_exceeds_file_system(const std::string& work_dir, const resource_set& resources);

/// Writes the checkpoint atomically (tmp + fsync + rename + fsync of the directory).
std::string save_resources_checkpoint(const std::string& work_dir, const resource_set& total);

/// On start: if a checkpoint exists, it must be compatible with `configured` and then becomes `total`; without
/// one, `total` = `configured`. Returns "" or an error (unreadable, corrupt or incompatible checkpoint).
/// Blocks on a small read: spawn_agent calls it on the caller's thread (unless agent_options::recovered_total is
/// given), never the agent actor.
std::string recover_agent_resources(const std::string& work_dir, const resource_set& configured,
                                    resource_set& total, bool* from_checkpoint = nullptr);

/// The volumes a task (or executor) asks for must all be on the agent, with their volume path, and no two may
/// want the same path. Returns "" or an error.
std::string check_volumes_known(const resource_set& total, const resource_set& requested);

} // namespace mesoscaf
