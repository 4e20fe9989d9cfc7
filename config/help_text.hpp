#pragma once
// `mesoscaf <command> --help`: every flag with its type, its meaning and its default, plus where else flags
// can be set (environment, config file). Written to stdout: help that was asked for is output, not an error.
#include <caf/config_option_set.hpp>
#include <caf/settings.hpp>

#include <ostream>
#include <string>

namespace mesoscaf {

/// `config_file` is the file this run reads (named by --config-file or MESOSCAF_CONFIG_FILE, else the default);
/// `given` tells which. `all` (--long-help) adds CAF's own categories (scheduler.*, middleman.*, ...).
/// `section` is the config file section the command reads; `operands` what follows the flags in the usage line
/// ("log TASK_ID"; empty: none). Call before any value is applied, so that the bound variables still hold their
/// defaults.
void write_help(std::ostream& os, const caf::config_option_set& opts, const caf::settings& content,
                const std::string& subcommand, const std::string& config_file, bool given, bool all,
                const std::string& section, const std::string& operands);

/// A duration as a flag would take it: 0s, 250ms, 10min.
std::string duration_text(caf::timespan t);

} // namespace mesoscaf
