// libFuzzer harness: `mesoscaf execute --group=FILE.json`'s reader (config/task_group_file.hpp). Whatever it
// accepts must be a group the master would take: tasks with safe, distinct IDs, commands and valid resources.
// Run: scripts/fuzz task_groups.
#include "config/task_group_file.hpp"

#include "messages/ids.hpp"

#include <cstddef>
#include <cstdint>
#include <set>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mesoscaf::task_group_info group;
  auto err = mesoscaf::parse_task_group_json(std::string_view{reinterpret_cast<const char*>(data), size}, group);
  if (!err.empty())
    return 0;
  if (group.tasks.empty() || group.tasks.size() > mesoscaf::max_group_tasks)
    __builtin_trap();
  std::set<mesoscaf::task_id> ids;
  for (const auto& t : group.tasks)
    if (!mesoscaf::is_safe_id(t.id.value) || !ids.insert(t.id).second || !t.command || t.command->value.empty()
        || t.resources.empty() || !t.resources.validate().empty() || t.executor)
      __builtin_trap();
  return 0;
}
