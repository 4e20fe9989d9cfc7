#include "config/support/logging.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>

namespace mesoscaf::log {

namespace {

level initial_level() {
  level l = level::info;
  if (const char* env = std::getenv("MESOSCAF_LOG_LEVEL"))
    parse_level(env, l);
  return l;
}

std::atomic<int>& threshold() {
  static std::atomic<int> value{static_cast<int>(initial_level())};
  return value;
}

const char* names[] = {"ERROR", "WARN", "INFO", "DEBUG", "TRACE"};

} // namespace

void set_level(level l) {
  threshold() = static_cast<int>(l);
}

level current_level() {
  return static_cast<level>(threshold().load(std::memory_order_relaxed));
}

bool parse_level(std::string_view text, level& out) {
  for (int i = 0; i < 5; ++i) {
    std::string lower = names[i];
    for (auto& c : lower)
      c = static_cast<char>(c - 'A' + 'a');
    if (text == lower) {
      out = static_cast<level>(i);
      return true;
    }
  }
  return false;
}

void write(level l, std::string_view component, const std::string& text) {
  using namespace std::chrono;
  auto now = system_clock::now();
  auto secs = system_clock::to_time_t(now);
  auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  static std::mutex mtx;
  std::lock_guard<std::mutex> guard{mtx};
  std::fprintf(stderr, "%02d:%02d:%02d.%03d %s %.*s: %s\n", tm.tm_hour, tm.tm_min, tm.tm_sec,
               static_cast<int>(ms), names[static_cast<int>(l)], static_cast<int>(component.size()),
               component.data(), text.c_str());
}

} // namespace mesoscaf::log
