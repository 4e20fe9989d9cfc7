#pragma once
// Detects what this machine offers to the cluster (cpus, mem, disk, ports). Pure function, no CAF.
#include "messages/resources.hpp"

#include <string>

namespace mesoscaf {

/// cpus: CPUs this process may run on (sched_getaffinity, else hardware_concurrency, at least 1).
/// mem (MB): MemTotal from /proc/meminfo minus 1 GiB kept for the OS, or half of it on machines with
/// less than 2 GiB; at least 1 MB if anything was read.
/// disk (MB): free space of the file system holding `work_dir` (statvfs, f_bavail) minus 10% headroom
/// capped at 5 GiB; a missing `work_dir` is measured at its nearest existing ancestor; omitted if
/// nothing can be examined.
/// ports: [31000-32000].
resource_set detect_machine_resources(const std::string& work_dir);

} // namespace mesoscaf
