#pragma once
// Persistent volumes on the agent's disk (pure POSIX, no actors): where a volume lives, how a sandbox gets a link to
// it without anything escaping the sandbox (file helpers: config/support/files.hpp).
// All functions block on the file system: the agent calls them from its disk worker, not from its own actor.
#include "config/support/files.hpp"

#include <string>

namespace mesoscaf {

/// `<work_dir>/volumes/roles/<role>/<volume_id>`, with every '/' of the role written as "%2F" (role components
/// never contain '%', so distinct roles never share a directory and "eng" + volume "prod" cannot meet role
/// "eng/prod"). Empty if the role is not a valid reserved role or the volume ID is not a safe path component.
std::string volume_directory(const std::string& work_dir, const std::string& role, const std::string& volume_id);

/// `<work_dir>/volumes/trash`: destroyed volumes are renamed into it (atomic, instant) before their removal.
std::string volume_trash_directory(const std::string& work_dir);

/// Makes `<sandbox>/<volume_path>` a symbolic link to `target`. `volume_path` must pass valid_volume_path;
/// missing intermediate directories are created inside the sandbox. Refuses (error text, nothing linked) if an
/// existing component on the way is not a real directory (e.g. a symlink a task left there, which could point
/// out of the sandbox) or if something other than a link to `target` already sits at the final name.
/// The walk uses openat with O_NOFOLLOW, so no symlink inside the sandbox is ever followed.
/// `sandbox` itself is created (mkdir -p) if missing. Returns "" on success.
std::string link_volume(const std::string& sandbox, const std::string& volume_path, const std::string& target);




} // namespace mesoscaf
