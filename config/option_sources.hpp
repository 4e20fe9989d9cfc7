#pragma once
// Where a subcommand's options come from, and which wins: command line > environment (MESOSCAF_<FLAG>) >
// config file > default. Every value, whatever its source, is parsed by its CAF option (so the syntax is the
// same everywhere: 250ms, [a,b], "text") and a value that does not parse is an error naming the flag and the
// source; CAF itself would drop a bad file value silently (caf-notes pitfall 3).
#include "config/config_file.hpp"

#include <caf/config_option_set.hpp>
#include <caf/settings.hpp>

#include <string>
#include <vector>

namespace mesoscaf {

/// The config file sections that keep the commands' options apart ("cli": every command of the operator CLI).
extern const std::vector<std::string> daemon_sections;

/// The name after `--`: `work-dir`, or `scheduler.max-threads` for CAF's categories.
std::string cli_name(const caf::config_option& opt);

/// `MESOSCAF_WORK_DIR` for --work-dir, `MESOSCAF_SCHEDULER_MAX_THREADS` for --scheduler.max-threads.
std::string env_name(const caf::config_option& opt);

/// CAF's own --help, --long-help, --dump-config and --config-file: handled by base_config, never a value.
bool is_builtin(const caf::config_option& opt);

enum class value_source { command_line, environment, config_file };

/// One value for one option, with where it came from for messages.
struct option_value {
  const caf::config_option* option = nullptr;
  std::string text;
  value_source source = value_source::command_line;
  std::string where;   // config file: "PATH:LINE"
};

/// What the command line asks for besides option values.
struct command_line {
  std::vector<option_value> values;
  std::vector<std::string> positional;
  bool help = false;
  bool long_help = false;
  bool dump_config = false;
  std::string config_file;   // --config-file=PATH; empty: not given
};

/// Splits `args` (without the program name). Returns "" or the problem, e.g.
/// `unknown option --prot; did you mean --port?` or `--port needs a value (--port=VALUE)`.
std::string scan_command_line(const caf::config_option_set& opts, const std::vector<std::string>& args,
                              command_line& out);

/// The options of `opts` that are set in the environment, in the option set's order.
std::vector<option_value> scan_environment(const caf::config_option_set& opts);

/// The config file entries `subcommand` reads: top level, `[<subcommand>]` and CAF's categories (`[scheduler]`,
/// ...); the other daemons' sections are skipped unread. Appends one error per unknown key or section.
std::vector<option_value> select_config_entries(const caf::config_option_set& opts,
                                                const std::vector<config_entry>& entries,
                                                const std::string& subcommand, const std::string& path,
                                                std::vector<std::string>& errors);

/// Parses `v.text` as its option's type and stores it (in the bound variable and in `content`). Returns "" or
/// an error naming the flag and the source, e.g. `MESOSCAF_PORT=abc (--port): expected a whole number`.
std::string apply_option_value(const option_value& v, caf::settings& content);

} // namespace mesoscaf
