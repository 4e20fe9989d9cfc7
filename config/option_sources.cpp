#include "config/option_sources.hpp"

#include "config/did_you_mean.hpp"

#include <caf/config_value.hpp>

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace mesoscaf {

const std::vector<std::string> daemon_sections{"master", "agent", "local", "execute", "cli"};

namespace {

std::string to_std(caf::string_view s) {
  return {s.data(), s.size()};
}

bool is_global(const caf::config_option& opt) {
  return opt.category() == "global";
}

std::vector<std::string> cli_names(const caf::config_option_set& opts) {
  std::vector<std::string> names;
  for (auto& opt : opts)
    names.push_back(cli_name(opt));
  return names;
}

/// `name` without dashes; `given` as typed.
std::string unknown_option(const caf::config_option_set& opts, const std::string& name, const std::string& given) {
  auto msg = "unknown option " + given;
  if (auto best = closest_match(name, cli_names(opts)); !best.empty())
    msg += "; did you mean --" + best + "?";
  return msg;
}

/// What a value of this type looks like, for error messages (CAF's parser errors name only a column).
std::string expected_text(const caf::config_option& opt) {
  auto type = to_std(opt.type_name());
  if (type == "int64" || type == "uint64" || type == "integer")
    return "a whole number";
  if (type == "timespan")
    return "a duration such as 250ms, 5s or 1min";
  if (type == "boolean")
    return "true or false";
  if (type == "atom")
    return "an atom such as 'sharing'";
  return "a value of type " + type;
}

bool parse_bool(const std::string& text, bool& out) {
  std::string t;
  for (char c : text)
    t += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (t == "true" || t == "1" || t == "yes" || t == "on")
    out = true;
  else if (t == "false" || t == "0" || t == "no" || t == "off")
    out = false;
  else
    return false;
  return true;
}

std::string describe(const option_value& v) {
  auto flag = "--" + cli_name(*v.option);
  switch (v.source) {
    case value_source::environment:
      return env_name(*v.option) + "=" + v.text + " (" + flag + ")";
    case value_source::config_file:
      return v.where + ": " + to_std(v.option->long_name()) + "=" + v.text;
    default:
      return flag + "=" + v.text;
  }
}

bool is_caf_category(const caf::config_option_set& opts, const std::string& section) {
  return std::any_of(opts.begin(), opts.end(),
                     [&](const caf::config_option& opt) { return !is_global(opt) && opt.category() == section; });
}

} // namespace

std::string cli_name(const caf::config_option& opt) {
  auto name = to_std(opt.long_name());
  return is_global(opt) ? name : to_std(opt.category()) + "." + name;
}

std::string env_name(const caf::config_option& opt) {
  std::string result = "MESOSCAF_";
  for (char c : cli_name(opt))
    result += (c == '-' || c == '.') ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return result;
}

bool is_builtin(const caf::config_option& opt) {
  auto name = opt.long_name();
  return is_global(opt)
         && (name == "help" || name == "long-help" || name == "dump-config" || name == "config-file");
}

std::string scan_command_line(const caf::config_option_set& opts, const std::vector<std::string>& args,
                              command_line& out) {
  for (auto& arg : args) {
    if (arg == "-h" || arg == "-?" || arg == "--help") {
      out.help = true;
      continue;
    }
    if (arg.size() < 3 || arg.compare(0, 2, "--") != 0) {
      if (arg.size() > 1 && arg[0] == '-')
        return unknown_option(opts, arg.substr(std::min(arg.find_first_not_of('-'), arg.size())), arg);
      out.positional.push_back(arg);
      continue;
    }
    auto eq = arg.find('=');
    auto name = arg.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    auto opt = opts.cli_long_name_lookup(name);
    if (opt == nullptr)
      return unknown_option(opts, name, "--" + name);
    bool has_value = eq != std::string::npos;
    auto value = has_value ? arg.substr(eq + 1) : std::string{};
    if (name == "long-help")
      out.long_help = true;
    else if (name == "dump-config")
      out.dump_config = true;
    else if (name == "config-file" && value.empty())
      return "--config-file needs a path (--config-file=PATH)";
    else if (name == "config-file")
      out.config_file = value;
    else if (!has_value && !opt->is_flag())
      return "--" + name + " needs a value (--" + name + "=VALUE)";
    else
      out.values.push_back({opt, has_value ? value : "true", value_source::command_line, {}});
  }
  return {};
}

std::vector<option_value> scan_environment(const caf::config_option_set& opts) {
  std::vector<option_value> result;
  for (auto& opt : opts) {
    if (is_builtin(opt))
      continue;
    if (auto text = std::getenv(env_name(opt).c_str()))
      result.push_back({&opt, text, value_source::environment, {}});
  }
  return result;
}

std::vector<option_value> select_config_entries(const caf::config_option_set& opts,
                                                const std::vector<config_entry>& entries,
                                                const std::string& subcommand, const std::string& path,
                                                std::vector<std::string>& errors) {
  std::vector<option_value> result;
  for (auto& e : entries) {
    auto where = path + ":" + std::to_string(e.line);
    bool own = e.section.empty() || e.section == "global" || e.section == subcommand;
    if (!own && std::find(daemon_sections.begin(), daemon_sections.end(), e.section) != daemon_sections.end())
      continue;   // another daemon's option: not ours to judge
    if (!own && !is_caf_category(opts, e.section)) {
      auto msg = path + ":" + std::to_string(e.section_line) + ": unknown section [" + e.section + "]";
      if (errors.empty() || errors.back() != msg)   // once per section, not per key
        errors.push_back(msg);
      continue;
    }
    auto category = own ? std::string{"global"} : e.section;
    auto opt = opts.qualified_name_lookup(category, e.key);
    if (opt == nullptr || is_builtin(*opt)) {
      auto msg = where + ": unknown option `" + e.key + "`" + (e.section.empty() ? "" : " in [" + e.section + "]");
      std::vector<std::string> names;
      for (auto& o : opts)
        if (o.category() == category && !is_builtin(o))
          names.push_back(to_std(o.long_name()));
      if (auto best = closest_match(e.key, names); !best.empty())
        msg += "; did you mean `" + best + "`?";
      errors.push_back(msg);
      continue;
    }
    result.push_back({opt, e.value, value_source::config_file, where});
  }
  return result;
}

std::string apply_option_value(const option_value& v, caf::settings& content) {
  auto& opt = *v.option;
  caf::config_value value;
  if (opt.is_flag()) {
    bool b = false;
    if (!parse_bool(v.text, b))
      return describe(v) + ": expected true or false";
    value = caf::config_value{b};
    opt.store(value);
  } else {
    auto parsed = opt.parse(v.text);   // also stores it in the bound variable
    if (!parsed)
      return describe(v) + ": expected " + expected_text(opt);
    value = std::move(*parsed);
  }
  if (is_global(opt))
    content[opt.long_name()] = std::move(value);
  else
    caf::put(content, cli_name(opt), std::move(value));
  return {};
}

} // namespace mesoscaf
