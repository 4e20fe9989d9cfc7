#include "config/support/logging.hpp"

#include "config/support/log_output.hpp"

#include <spdlog/logger.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <mutex>

namespace mesoscaf::log {

namespace {

using steady = std::chrono::steady_clock;

const char* names[] = {"error", "warn", "info", "debug", "trace"};

level initial_level() {
  level l = level::info;
  if (const char* env = std::getenv("MESOSCAF_LOG_LEVEL"))
    parse_level(env, l);
  return l;
}

// -- thresholds -----------------------------------------------------------------------------------------------

/// The configured level, the one in force, and the end of a toggle (steady clock ticks; 0 = no toggle). Readers
/// look at the clock only while a toggle runs; writers serialise on `mutex`.
struct thresholds {
  std::mutex mutex;
  int configured = static_cast<int>(initial_level());
  std::atomic<int> effective{configured};
  std::atomic<int64_t> toggle_until{0};
};

thresholds& levels() {
  // Never destroyed: threads may log while the process exits.
  static auto* value = new thresholds;
  return *value;
}

int64_t now_ticks() {
  return steady::now().time_since_epoch().count();
}

/// The toggle that ended at `until` is over: back to the configured level, unless another toggle replaced it.
void end_toggle(int64_t until) {
  auto& t = levels();
  std::lock_guard<std::mutex> guard{t.mutex};
  if (t.toggle_until.load(std::memory_order_relaxed) != until)
    return;
  t.effective.store(t.configured, std::memory_order_relaxed);
  t.toggle_until.store(0, std::memory_order_release);
}

// -- output ---------------------------------------------------------------------------------------------------

/// A spdlog logger whose lines name a component each (spdlog's logger name is fixed per logger).
class component_logger final : public spdlog::logger {
public:
  using spdlog::logger::logger;
  void write(const spdlog::details::log_msg& msg) { log_it_(msg, true, false); }
};

struct output {
  std::mutex mutex;
  std::shared_ptr<component_logger> logger;
  std::shared_ptr<reopenable_file_sink> file;   // null when writing to stderr
};

std::shared_ptr<component_logger> make_logger(spdlog::sink_ptr sink, format f) {
  sink->set_formatter(std::make_unique<line_formatter>(f));
  auto result = std::make_shared<component_logger>("mesoscaf", std::move(sink));
  result->set_level(spdlog::level::trace);   // our thresholds decide, before the text is even built
  return result;
}

output& current_output() {
  // Never destroyed: threads may log while the process exits.
  static auto* value = [] {
    auto* out = new output;
    out->logger = make_logger(std::make_shared<spdlog::sinks::stderr_sink_mt>(), format::text);
    return out;
  }();
  return *value;
}

} // namespace

void set_level(level l) {
  auto& t = levels();
  std::lock_guard<std::mutex> guard{t.mutex};
  t.configured = static_cast<int>(l);
  t.effective.store(t.configured, std::memory_order_relaxed);
  t.toggle_until.store(0, std::memory_order_release);
}

level current_level() {
  auto& t = levels();
  auto until = t.toggle_until.load(std::memory_order_acquire);
  if (until != 0 && now_ticks() >= until)
    end_toggle(until);
  return static_cast<level>(t.effective.load(std::memory_order_relaxed));
}

void toggle(level l, std::chrono::milliseconds duration) {
  auto& t = levels();
  std::lock_guard<std::mutex> guard{t.mutex};
  if (duration.count() <= 0) {
    t.effective.store(t.configured, std::memory_order_relaxed);
    t.toggle_until.store(0, std::memory_order_release);
    return;
  }
  auto until = (steady::now() + duration).time_since_epoch().count();
  t.effective.store(static_cast<int>(l), std::memory_order_relaxed);
  t.toggle_until.store(until == 0 ? 1 : until, std::memory_order_release);
}

bool parse_level(std::string_view text, level& out) {
  for (int i = 0; i < 5; ++i) {
    if (text == names[i]) {
      out = static_cast<level>(i);
      return true;
    }
  }
  return false;
}

std::string_view level_name(level l) {
  return names[static_cast<int>(l)];
}

bool parse_format(std::string_view text, format& out) {
  if (text == "text")
    out = format::text;
  else if (text == "json")
    out = format::json;
  else
    return false;
  return true;
}

std::string configure(const std::string& path, format f) {
  spdlog::sink_ptr sink;
  std::shared_ptr<reopenable_file_sink> file;
  if (path.empty()) {
    sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  } else {
    try {
      file = std::make_shared<reopenable_file_sink>(path);
    } catch (const spdlog::spdlog_ex& e) {
      return e.what();
    }
    sink = file;
  }
  auto logger = make_logger(std::move(sink), f);
  auto& out = current_output();
  std::lock_guard<std::mutex> guard{out.mutex};
  out.logger = std::move(logger);
  out.file = std::move(file);
  return {};
}

std::string reopen() {
  std::shared_ptr<reopenable_file_sink> file;
  {
    auto& out = current_output();
    std::lock_guard<std::mutex> guard{out.mutex};
    file = out.file;
  }
  return file ? file->reopen() : std::string{};
}

std::string file_path() {
  auto& out = current_output();
  std::lock_guard<std::mutex> guard{out.mutex};
  return out.file ? out.file->path() : std::string{};
}

void write(level l, std::string_view component, const std::string& text) {
  std::shared_ptr<component_logger> logger;
  {
    auto& out = current_output();
    std::lock_guard<std::mutex> guard{out.mutex};
    logger = out.logger;
  }
  spdlog::details::log_msg msg{spdlog::string_view_t{component.data(), component.size()}, to_spdlog(l),
                               spdlog::string_view_t{text.data(), text.size()}};
  logger->write(msg);
}

} // namespace mesoscaf::log
