#pragma once
// Our logger, written through Debian's spdlog (CAF's own is compiled out in Debian's build: docs/CAF_PITFALLS.md
// §1). One line per call, to stderr or to a file (`--log-file`), as text
//   2026-12-06T21:50:58.123+00:00 INFO 12345 master: text
// (ISO-8601 local time with milliseconds and zone, level, pid, component, text) or as one JSON object per line
//   {"time":"2026-12-06T21:50:58.123+00:00","level":"INFO","pid":12345,"component":"master","message":"text"}
#include <chrono>
#include <sstream>
#include <string>
#include <string_view>

namespace mesoscaf::log {

enum class level { error = 0, warn = 1, info = 2, debug = 3, trace = 4 };

enum class format { text, json };

/// Sets the configured threshold (default info, or MESOSCAF_LOG_LEVEL=error|warn|info|debug|trace from the
/// environment) and ends a toggle in progress.
void set_level(level l);
/// The threshold in force: the toggled one during a toggle, else the configured one. On every log call's path:
/// two atomic loads outside a toggle.
level current_level();
/// Parses "info" etc.; returns false on unknown names.
bool parse_level(std::string_view text, level& out);
/// Lower-case name of a level ("info").
std::string_view level_name(level l);

/// Uses level `l` for `duration`, then falls back to the configured level (`set_level`). A new toggle replaces
/// one in progress; a duration <= 0 ends it now.
void toggle(level l, std::chrono::milliseconds duration);

/// Parses "text" or "json"; returns false on other names.
bool parse_format(std::string_view text, format& out);

/// Writes from now on to `path` (created if missing, appended to, close-on-exec; "" = stderr) in `f`.
/// Returns "" or why the file cannot be opened (then nothing changes).
std::string configure(const std::string& path, format f);

/// Opens the log file again by its name (after logrotate renamed it); no-op when writing to stderr.
/// Returns "" or why it cannot be opened (then lines keep going to the old file).
std::string reopen();

/// The log file in use ("" = stderr).
std::string file_path();

/// One line. Never throws: a failing write is reported on stderr.
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
