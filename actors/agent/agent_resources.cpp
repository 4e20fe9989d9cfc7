#include "actors/agent/agent_resources.hpp"

#include "config/support/files.hpp"
#include "containerizer/volumes.hpp"

#include <cstdint>
#include <sstream>

#include <sys/statvfs.h>

namespace mesoscaf {

std::string resources_checkpoint_path(const std::string& work_dir) {
  return work_dir + "/meta/resources";
}

std::string apply_agent_operation(const resource_set& total, const offer_operation& op,
                                  resource_conversion& conversion, resource_set& new_total) {
  resource_conversion c;
  // Role "" skips the role check: the master validated the framework's role; the agent checks its own total.
  if (auto err = to_conversion(op, "", total, total, c); !err.empty())
    return err;
  if (op.type == operation_type::create) {
    const auto vols_r = c.produced.volumes();
    for (const auto& r : vols_r.items())
      if (volume_directory("/", r.role, r.volume_id).empty())
        return std::string{"CREATE: volume '"} + r.volume_id + "' of role '" + r.role
               + "' cannot name a directory (IDs use 1-200 characters of [A-Za-z0-9._-])";
  }
  auto result = total;
  if (auto err = apply_conversion(result, c); !err.empty())
    return std::string{operation_name(op.type)} + ": " + err;
  conversion = std::move(c);
  new_total = std::move(result);
  return {};
}

resource_set static_form(const resource_set& r) {
  resource_set result;
  for (auto x : r.items()) {
    x.volume_id.clear();
    x.volume_path.clear();
    if (x.dynamic) {
      x.dynamic = false;
      x.role = "*";
    }
    result.add(x);
  }
  return result;
}

std::string check_checkpoint_compatible(const resource_set& checkpointed, const resource_set& configured) {
  if (checkpointed.with_role("*") != configured.with_role("*"))
    return "the checkpointed resources " + checkpointed.to_string() + " (quantities "
           + checkpointed.with_role("*").to_string() + ") differ from the configured resources "
           + configured.to_string() + " (quantities " + configured.with_role("*").to_string() + ")";
  if (static_form(checkpointed) != static_form(configured))
    return "the checkpointed resources " + checkpointed.to_string() + " have the static reservations "
           + static_form(checkpointed).to_string() + ", the configured resources " + configured.to_string()
           + " have " + static_form(configured).to_string();
  return {};
}

std::string parse_resources_checkpoint(const std::string& text, resource_set& out) {
  std::string err;
  auto parsed = resource_set::parse(text, &err);
  if (!parsed)
    return "cannot parse: " + err;
  if (auto verr = parsed->validate(); !verr.empty())
    return "invalid: " + verr;
  out = std::move(*parsed);
  return {};
}

std::string disk_exceeds_file_system(const std::string& work_dir, const resource_set& resources) {
  auto declared_mb = resources.scalar_value("disk");
  struct statvfs fs;
  if (declared_mb <= 0 || ::statvfs(work_dir.c_str(), &fs) != 0)
    return {};
  auto size_mb = static_cast<double>(fs.f_blocks) * static_cast<double>(fs.f_frsize) / (1024.0 * 1024.0);
  if (declared_mb <= size_mb)
    return {};
  std::ostringstream out;
  out << "the declared disk (" << declared_mb << " MB) is larger than the file system of the work dir " << work_dir
      << " (" << static_cast<int64_t>(size_mb) << " MB): tasks may be offered disk this agent cannot give";
  return out.str();
}

std::string save_resources_checkpoint(const std::string& work_dir, const resource_set& total) {
  return write_file_atomically(resources_checkpoint_path(work_dir), total.to_string() + "\n");
}

std::string recover_agent_resources(const std::string& work_dir, const resource_set& configured,
                                    resource_set& total, bool* from_checkpoint) {
  auto path = resources_checkpoint_path(work_dir);
  std::string text;
  bool exists = false;
  if (auto err = read_whole_file(path, text, exists); !err.empty())
    return err;
  if (!exists) {
    total = configured;
    if (from_checkpoint)
      *from_checkpoint = false;
    return {};
  }
  resource_set checkpointed;
  if (auto err = parse_resources_checkpoint(text, checkpointed); !err.empty())
    return "checkpoint " + path + ": " + err;
  if (auto err = check_checkpoint_compatible(checkpointed, configured); !err.empty())
    return "checkpoint " + path + ": " + err
           + "; start the agent with the same resources, or with a new --work-dir";
  total = std::move(checkpointed);
  if (from_checkpoint)
    *from_checkpoint = true;
  return {};
}

std::string check_volumes_known(const resource_set& total, const resource_set& requested) {
  auto vols = requested.volumes();
  std::vector<std::string> paths;
  for (const auto& r : vols.items()) {
    resource_set one;
    one.add(r);
    if (!total.contains(one))
      return "volume '" + r.volume_id + "' (" + one.to_string() + ") is not on this agent";
    paths.push_back(r.volume_path);
  }
  // A path inside another volume's path would have to go through that volume's link.
  for (size_t i = 0; i < paths.size(); ++i)
    for (size_t j = 0; j < paths.size(); ++j)
      if (i != j && (paths[i] == paths[j]
                     || (paths[j].size() > paths[i].size() && paths[j].compare(0, paths[i].size(), paths[i]) == 0
                         && paths[j][paths[i].size()] == '/')))
        return "volume paths '" + paths[i] + "' and '" + paths[j] + "' overlap";
  return {};
}

} // namespace mesoscaf
