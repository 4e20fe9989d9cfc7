// libFuzzer harness: the daemons' config file reader (sections, key=value lines, comments, quotes). The input
// is written to a file in /dev/shm and read as a daemon reads its config. Run: scripts/fuzz config_file.
#include "config/config_file.hpp"

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = "/dev/shm/mesoscaf-fuzz-config-" + std::to_string(::getpid()) + ".ini";
  {
    std::ofstream out{path, std::ios::binary | std::ios::trunc};
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  std::vector<mesoscaf::config_entry> entries;
  auto err = mesoscaf::read_config_file(path, entries);
  if (err.empty())
    for (auto& e : entries)
      if (e.line <= 0 || e.key.empty())
        __builtin_trap();   // every entry names its line and a key
  return 0;
}
