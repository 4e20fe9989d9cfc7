#pragma once
// Where and how log lines are written (internal to config/support/logging.cpp and its tests): the spdlog
// formatter of our text and JSON lines, and a file sink that logrotate can rename under us.
#include "config/support/logging.hpp"

#include <spdlog/formatter.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>

#include <memory>
#include <mutex>
#include <string>

namespace mesoscaf::log {

/// spdlog's level for ours (error -> err, warn -> warn, ...).
spdlog::level::level_enum to_spdlog(level l);

/// Renders a spdlog message whose logger name is the component as one line of `format` (see logging.hpp),
/// ending in '\n'. Level names are ours, upper case (INFO, WARN).
class line_formatter final : public spdlog::formatter {
public:
  explicit line_formatter(log::format f);
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override;

private:
  log::format format_;
  spdlog::pattern_formatter time_;   // "2026-12-06T21:50:58.123+00:00", local time
};

/// Appends lines to a file opened O_APPEND | O_CLOEXEC (a task started by an agent must not inherit it), one
/// write(2) per line so processes sharing the file do not tear each other's lines. `reopen` opens the path again
/// (logrotate renamed the file) and switches to it.
class reopenable_file_sink final : public spdlog::sinks::base_sink<std::mutex> {
public:
  /// Opens `path`; throws spdlog::spdlog_ex naming the path and the reason if it cannot.
  explicit reopenable_file_sink(std::string path);
  ~reopenable_file_sink() override;

  /// Returns "" or why the path cannot be opened (then the old file stays in use).
  std::string reopen();
  const std::string& path() const { return path_; }

protected:
  void sink_it_(const spdlog::details::log_msg& msg) override;
  void flush_() override {}

private:
  std::string path_;
  int fd_ = -1;
};

/// Opens `path` for appending, close-on-exec; returns the descriptor or -1 with `error` set.
int open_log_file(const std::string& path, std::string& error);

} // namespace mesoscaf::log
