#include "config/support/log_output.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/common.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include <fcntl.h>
#include <unistd.h>

namespace mesoscaf::log {

namespace {

std::string_view upper_name(spdlog::level::level_enum l) {
  switch (l) {
    case spdlog::level::err:
    case spdlog::level::critical:
      return "ERROR";
    case spdlog::level::warn:
      return "WARN";
    case spdlog::level::info:
      return "INFO";
    case spdlog::level::debug:
      return "DEBUG";
    default:
      return "TRACE";
  }
}

std::string_view view(spdlog::string_view_t s) {
  return {s.data(), s.size()};
}

} // namespace

spdlog::level::level_enum to_spdlog(level l) {
  switch (l) {
    case level::error:
      return spdlog::level::err;
    case level::warn:
      return spdlog::level::warn;
    case level::info:
      return spdlog::level::info;
    case level::debug:
      return spdlog::level::debug;
    case level::trace:
      break;
  }
  return spdlog::level::trace;
}

// -- line_formatter -------------------------------------------------------------------------------------------

line_formatter::line_formatter(log::format f)
  : format_(f), time_("%Y-%m-%dT%H:%M:%S.%e%z", spdlog::pattern_time_type::local, "") {
}

void line_formatter::format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
  spdlog::memory_buf_t time;
  time_.format(msg, time);
  auto pid = static_cast<long>(::getpid());   // not cached: a forked child logs its own
  if (format_ == log::format::text) {
    fmt::format_to(std::back_inserter(dest), "{} {} {} {}: {}\n", fmt::to_string(time), upper_name(msg.level), pid,
                   view(msg.logger_name), view(msg.payload));
    return;
  }
  nlohmann::ordered_json line;
  line["time"] = fmt::to_string(time);
  line["level"] = upper_name(msg.level);
  line["pid"] = pid;
  line["component"] = view(msg.logger_name);
  line["message"] = view(msg.payload);
  // Text is not always UTF-8 (a task's name, a path): replace bad bytes rather than lose the line.
  auto text = line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  dest.append(text.data(), text.data() + text.size());
  dest.push_back('\n');
}

std::unique_ptr<spdlog::formatter> line_formatter::clone() const {
  return std::make_unique<line_formatter>(format_);
}

// -- reopenable_file_sink -------------------------------------------------------------------------------------

int open_log_file(const std::string& path, std::string& error) {
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    error = std::strerror(errno);
  return fd;
}

reopenable_file_sink::reopenable_file_sink(std::string path) : path_(std::move(path)) {
  std::string error;
  fd_ = open_log_file(path_, error);
  if (fd_ < 0)
    throw spdlog::spdlog_ex("cannot open " + path_ + ": " + error);
}

reopenable_file_sink::~reopenable_file_sink() {
  if (fd_ >= 0)
    ::close(fd_);
}

std::string reopenable_file_sink::reopen() {
  std::string error;
  int fd = open_log_file(path_, error);
  if (fd < 0)
    return "cannot open " + path_ + ": " + error;
  std::lock_guard<std::mutex> guard{mutex_};
  std::swap(fd, fd_);
  ::close(fd);
  return {};
}

void reopenable_file_sink::sink_it_(const spdlog::details::log_msg& msg) {
  spdlog::memory_buf_t line;
  formatter_->format(msg, line);
  const char* data = line.data();
  size_t left = line.size();
  while (left > 0) {
    auto n = ::write(fd_, data, left);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      throw spdlog::spdlog_ex("cannot write to " + path_, errno);
    data += n;
    left -= static_cast<size_t>(n);
  }
}

} // namespace mesoscaf::log
