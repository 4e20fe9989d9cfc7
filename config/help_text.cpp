#include "config/help_text.hpp"

#include "config/option_sources.hpp"

#include <caf/config_value.hpp>

#include <filesystem>
#include <iomanip>
#include <sstream>

namespace mesoscaf {

namespace {

std::string to_std(caf::string_view s) {
  return {s.data(), s.size()};
}

/// The value the option has now (its default, before parsing): the bound variable, else what our config
/// classes `set()` in `content` (CAF's options bind no variable of ours).
std::string default_text(const caf::config_option& opt, const caf::settings& content) {
  auto value = opt.get();
  if (!value) {
    auto name = cli_name(opt);
    auto in_content = opt.category() == "global" ? nullptr : caf::get_if(&content, name);
    if (!in_content)
      return {};
    value = *in_content;
  }
  if (auto t = caf::get_if<caf::timespan>(&*value))
    return duration_text(*t);
  return caf::to_string(*value);
}

void write_option(std::ostream& os, const caf::config_option& opt, const caf::settings& content) {
  auto flag = "--" + cli_name(opt) + (opt.is_flag() ? "" : "=<" + to_std(opt.type_name()) + ">");
  os << "  " << std::left << std::setw(36) << flag << " " << to_std(opt.description());
  // A description that explains its default in words ("default: --ip") says more than the empty value.
  auto desc = to_std(opt.description());
  auto def = default_text(opt, content);
  if (!def.empty() && desc.find("default") == std::string::npos)
    os << " (default: " << def << ")";
  os << "\n";
}

} // namespace

std::string duration_text(caf::timespan t) {
  auto ns = t.count();
  if (ns == 0)
    return "0s";
  struct unit { int64_t ns; const char* name; };
  for (auto u : {unit{60'000'000'000, "min"}, unit{1'000'000'000, "s"}, unit{1'000'000, "ms"}, unit{1'000, "us"}})
    if (ns % u.ns == 0)
      return std::to_string(ns / u.ns) + u.name;
  return std::to_string(ns) + "ns";
}

void write_help(std::ostream& os, const caf::config_option_set& opts, const caf::settings& content,
                const std::string& subcommand, const std::string& config_file, bool given, bool all,
                const std::string& section, const std::string& operands) {
  namespace fs = std::filesystem;
  std::error_code ec;
  auto path = fs::absolute(config_file, ec).string();
  os << "usage: mesoscaf " << subcommand << (operands.empty() ? "" : " " + operands) << " [--FLAG=VALUE ...]\n\n"
     << "Each flag can also be set in the environment as MESOSCAF_<FLAG> (upper case, '-' as '_', e.g.\n"
     << "MESOSCAF_WORK_DIR) or in the config file, at the top level or in its [" << section << "] section\n"
     << "(the sections of other commands are not read). Command line > environment > config file > default.\n"
     << "config file: " << (ec ? config_file : path) << (given ? "" : " (the default, in the current directory")
     << (fs::exists(config_file, ec) ? (given ? "" : ")") : (given ? " (not present)" : "; not present)"))
     << "\n\n"
     << "options:\n";
  for (auto& opt : opts)
    if (opt.category() == "global" && !is_builtin(opt))
      write_option(os, opt, content);
  if (all) {
    os << "\nCAF's options (environment: e.g. MESOSCAF_SCHEDULER_MAX_THREADS; config file: e.g. [scheduler]):\n";
    for (auto& opt : opts)
      if (opt.category() != "global")
        write_option(os, opt, content);
  }
  os << "\n  " << std::left << std::setw(36) << "--help, -h" << " print this help to stdout and exit\n"
     << "  " << std::setw(36) << "--long-help" << " also list CAF's options (scheduler.*, middleman.*, ...)\n"
     << "  " << std::setw(36) << "--dump-config" << " print the effective configuration and exit\n"
     << "  " << std::setw(36) << "--config-file=<path>"
     << " read flags from this file (environment: MESOSCAF_CONFIG_FILE; default: mesoscaf.ini)\n";
}

} // namespace mesoscaf
