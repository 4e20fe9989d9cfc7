#pragma once
// Our own thin logger: CAF's is compiled out in Debian's build (docs/CAF_PITFALLS.md §1).
// Lines go to stderr: "<time> <LEVEL> <component>: <text>".
#include <sstream>
#include <string>
#include <string_view>

namespace mesoscaf::log {

enum class level { error = 0, warn = 1, info = 2, debug = 3, trace = 4 };

/// Global threshold; default info, or MESOSCAF_LOG_LEVEL=error|warn|info|debug|trace from the environment.
void set_level(level l);
level current_level();
/// Parses "info" etc.; returns false on unknown names.
bool parse_level(std::string_view text, level& out);

void write(level l, std::string_view component, const std::string& text);

} // namespace mesoscaf::log

#define MESOSCAF_LOG_IMPL(lvl, component, expr)                                                        \
  do {                                                                                                 \
    if (static_cast<int>(lvl) <= static_cast<int>(::mesoscaf::log::current_level())) {                 \
      std::ostringstream mesoscaf_log_os_;                                                             \
      mesoscaf_log_os_ << expr;                                                                        \
      ::mesoscaf::log::write(lvl, component, mesoscaf_log_os_.str());                                 \
    }                                                                                                  \
  } while (false)

#define LOG_ERROR(component, expr) MESOSCAF_LOG_IMPL(::mesoscaf::log::level::error, component, expr)
#define LOG_WARN(component, expr) MESOSCAF_LOG_IMPL(::mesoscaf::log::level::warn, component, expr)
#define LOG_INFO(component, expr) MESOSCAF_LOG_IMPL(::mesoscaf::log::level::info, component, expr)
#define LOG_DEBUG(component, expr) MESOSCAF_LOG_IMPL(::mesoscaf::log::level::debug, component, expr)
