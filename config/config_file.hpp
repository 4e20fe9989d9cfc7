#pragma once
// The daemons' config file: `[section]` headers and `key=value` lines, each remembered with its line number so
// that a bad or unknown key is reported where it stands (CAF's own INI reader drops unknown keys silently:
// caf-notes pitfall 3). Values stay text; they are parsed by the option they belong to, as on the command line.
//
//   # comment (also ; at the start of a line)
//   log-level=debug            # top level: every subcommand reads it (`#` after a blank starts a comment)
//   [master]                   only `mesoscaf master` reads it; [agent], [local], [execute] likewise
//   port=5050
//   [scheduler]                CAF's own categories: every subcommand reads them
//   max-threads=2
#include <string>
#include <vector>

namespace mesoscaf {

struct config_entry {
  std::string section;   // "" = top level
  std::string key;
  std::string value;     // as written, quotes included (`"text"` is a string, as in CAF's format)
  int line = 0;
  int section_line = 0;  // of the `[section]` header (0 = top level)
};

/// Reads `path` into `out`. Returns "" or an error naming the file (and the line, for a malformed one).
std::string read_config_file(const std::string& path, std::vector<config_entry>& out);

} // namespace mesoscaf
