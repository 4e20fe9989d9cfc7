#pragma once
// Runs a subcommand config's parse_and_validate on an argument list, as `mesoscaf sub ARGS...` would.
#include <string>
#include <vector>

namespace mesoscaf::test {

/// Returns -1 for "go on", else the exit code (0 after --help, 2 for bad arguments).
template <class Config>
int run_config(Config& cfg, std::vector<std::string> args) {
  args.insert(args.begin(), "sub");
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  auto rc = cfg.parse_and_validate(static_cast<int>(args.size()), argv.data());
  return rc ? *rc : -1;
}

} // namespace mesoscaf::test
