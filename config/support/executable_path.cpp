#include "config/support/executable_path.hpp"

#include <cstdlib>

#include <unistd.h>

namespace mesoscaf {

std::string self_executable() {
  char buf[4096] = {0};
  auto n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string{};
}

std::string executor_binary(const std::string& configured) {
  if (!configured.empty())
    return configured;
  if (const char* env = std::getenv("MESOSCAF_EXECUTOR_BINARY"); env != nullptr && *env != '\0')
    return env;
  auto self = self_executable();
  if (auto slash = self.rfind('/'); slash != std::string::npos) {
    auto beside = self.substr(0, slash + 1) + "mesoscaf";
    if (::access(beside.c_str(), X_OK) == 0)
      return beside;
  }
  return "mesoscaf";
}

} // namespace mesoscaf
