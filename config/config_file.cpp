#include "config/config_file.hpp"

#include <fstream>

namespace mesoscaf {

namespace {

std::string trim(const std::string& s) {
  auto first = s.find_first_not_of(" \t\r");
  if (first == std::string::npos)
    return {};
  auto last = s.find_last_not_of(" \t\r");
  return s.substr(first, last - first + 1);
}

/// Drops a trailing comment: `#` after a blank, outside double quotes (`;` would cut unquoted resources).
std::string strip_comment(const std::string& s) {
  bool quoted = false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && quoted)
      ++i;
    else if (s[i] == '"')
      quoted = !quoted;
    else if (s[i] == '#' && !quoted && (i == 0 || s[i - 1] == ' ' || s[i - 1] == '\t'))
      return s.substr(0, i);
  }
  return s;
}

bool valid_name(const std::string& s) {
  return !s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-_.") == std::string::npos;
}

} // namespace

std::string read_config_file(const std::string& path, std::vector<config_entry>& out) {
  std::ifstream in{path};
  if (!in)
    return "cannot read config file " + path;
  std::vector<config_entry> result;
  std::string section;
  int section_line = 0;
  std::string raw;
  for (int line = 1; std::getline(in, raw); ++line) {
    auto text = trim(strip_comment(raw));
    if (text.empty() || text[0] == '#' || text[0] == ';')
      continue;
    auto where = path + ":" + std::to_string(line) + ": ";
    if (text.front() == '[') {
      if (text.back() != ']' || !valid_name(trim(text.substr(1, text.size() - 2))))
        return where + "expected [section], got " + text;
      section = trim(text.substr(1, text.size() - 2));
      section_line = line;
      continue;
    }
    auto eq = text.find('=');
    if (eq == std::string::npos || !valid_name(trim(text.substr(0, eq))))
      return where + "expected key=value or [section], got " + text;
    result.push_back({section, trim(text.substr(0, eq)), trim(text.substr(eq + 1)), line, section_line});
  }
  out = std::move(result);
  return {};
}

} // namespace mesoscaf
