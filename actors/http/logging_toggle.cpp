// POST /logging/toggle?level=L&duration=D on both daemons: a raised log level for a while, as Mesos' endpoint of
// that name (its glog verbosity numbers are taken too: 0 = info, 1 = debug, 2 and more = trace).
#include "actors/http/daemon_http.hpp"
#include "config/support/logging.hpp"

#include <cctype>
#include <cstdint>

namespace mesoscaf::http {

namespace {

/// "10secs", "30s", "2mins", "500ms", "1hrs", "1days"; nullopt on anything else, and above one day.
std::optional<std::chrono::milliseconds> parse_duration(const std::string& text) {
  std::size_t i = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])))
    ++i;
  if (i == 0 || i > 9)
    return std::nullopt;
  auto n = std::stoll(text.substr(0, i));
  auto unit = text.substr(i);
  int64_t ms = 0;
  if (unit == "ms")
    ms = n;
  else if (unit == "s" || unit == "secs" || unit == "sec")
    ms = n * 1000;
  else if (unit == "min" || unit == "mins")
    ms = n * 60'000;
  else if (unit == "h" || unit == "hrs" || unit == "hr")
    ms = n * 3'600'000;
  else if (unit == "d" || unit == "days" || unit == "day")
    ms = n * 86'400'000;
  else
    return std::nullopt;
  if (ms <= 0 || ms > 86'400'000)
    return std::nullopt;
  return std::chrono::milliseconds(ms);
}

} // namespace

response toggle_logging(const request& req) {
  if (req.method != "POST" && req.method != "GET")
    return response::error(405, req.method + " is not allowed on /logging/toggle");
  auto level_text = req.param("level");
  auto duration_text = req.param("duration");
  if (level_text.empty() || duration_text.empty())
    return response::error(400, "level and duration are required (e.g. ?level=debug&duration=30secs)");
  log::level l;
  if (level_text.size() == 1 && std::isdigit(static_cast<unsigned char>(level_text[0])))
    l = level_text == "0" ? log::level::info : level_text == "1" ? log::level::debug : log::level::trace;
  else if (!log::parse_level(level_text, l))
    return response::error(400, "level must be error|warn|info|debug|trace or 0..9, not '" + level_text + "'");
  auto d = parse_duration(duration_text);
  if (!d)
    return response::error(400, "duration must be a number with ms|secs|mins|hrs|days, at most one day, not '"
                                  + duration_text + "'");
  log::toggle(l, *d);
  LOG_INFO("http", "log level " << log::level_name(l) << " for " << duration_text << " (asked by " << req.peer << ")");
  return response::text("");
}

} // namespace mesoscaf::http
