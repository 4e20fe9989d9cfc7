// The logger (config/support/logging.hpp): its text and JSON lines, the level toggle and its fallback, and a log
// file reopened after logrotate renamed it.
#define CAF_SUITE config_logging
#include "test.hpp"

#include "child_process.hpp"
#include "test_helpers.hpp"

#include "config/support/logging.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

using namespace mesoscaf;
using namespace mesoscaf::test;
using namespace std::chrono;

namespace {

const std::string iso_time = "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}[+-][0-9]{2}:[0-9]{2}";

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> result;
  size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string::npos)
      end = text.size();
    result.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return result;
}

/// Each test writes to its own file and leaves the logger as it found it: stderr, text, info.
struct fixture {
  temp_dir dir{"mesoscaf-logging"};
  std::string file = dir / "mesoscaf.log";

  ~fixture() {
    log::configure("", log::format::text);
    log::set_level(log::level::info);
  }
};

} // namespace

FIXTURE_SCOPE(logging_tests, fixture)

TEST(text lines carry an ISO-8601 time with date milliseconds and zone then level pid and component) {
  REQUIRE_EQUAL(log::configure(file, log::format::text), "");
  LOG_INFO("master", "hello " << 42);
  LOG_WARN("agent", "careful");
  auto lines = lines_of(read_file(file));
  REQUIRE_EQUAL(lines.size(), 2u);
  MESSAGE(lines[0]);
  auto pid = std::to_string(::getpid());
  CHECK(std::regex_match(lines[0], std::regex{iso_time + " INFO " + pid + " master: hello 42"}));
  CHECK(std::regex_match(lines[1], std::regex{iso_time + " WARN " + pid + " agent: careful"}));
}

TEST(json lines are one escaped object each with time level pid component and message) {
  REQUIRE_EQUAL(log::configure(file, log::format::json), "");
  std::string tricky = "quote \" backslash \\ newline \n tab \t bell \x07 end";
  LOG_ERROR("scheduler-driver", tricky);
  LOG_DEBUG("master", "below the threshold");
  auto text = read_file(file);
  auto lines = lines_of(text);
  REQUIRE_EQUAL(lines.size(), 1u);   // the newline inside the message is escaped
  MESSAGE(lines[0]);
  auto j = nlohmann::ordered_json::parse(lines[0]);
  std::vector<std::string> keys;
  for (auto& kv : j.items())
    keys.push_back(kv.key());
  CHECK_EQUAL(keys, (std::vector<std::string>{"time", "level", "pid", "component", "message"}));
  CHECK(std::regex_match(j["time"].get<std::string>(), std::regex{iso_time}));
  CHECK_EQUAL(j["level"], "ERROR");
  CHECK_EQUAL(j["pid"].get<long>(), static_cast<long>(::getpid()));
  CHECK_EQUAL(j["component"], "scheduler-driver");
  CHECK_EQUAL(j["message"].get<std::string>(), tricky);
}

TEST(json replaces bytes that are not UTF-8 instead of dropping the line) {
  REQUIRE_EQUAL(log::configure(file, log::format::json), "");
  LOG_INFO("agent", "name \xff\xfe end");
  auto lines = lines_of(read_file(file));
  REQUIRE_EQUAL(lines.size(), 1u);
  auto j = nlohmann::json::parse(lines[0]);
  CHECK_NOT_EQUAL(j["message"].get<std::string>().find(" end"), std::string::npos);
}

TEST(toggle raises the level for its duration and falls back to the configured one) {
  REQUIRE_EQUAL(log::configure(file, log::format::text), "");
  log::set_level(log::level::info);
  log::toggle(log::level::debug, hours(1));
  CHECK(log::current_level() == log::level::debug);
  LOG_DEBUG("master", "while toggled");
  // A toggle replaces the one in progress; this one ends soon.
  log::toggle(log::level::trace, milliseconds(50));
  CHECK(log::current_level() == log::level::trace);
  auto deadline = steady_clock::now() + seconds(10);
  while (log::current_level() != log::level::info && steady_clock::now() < deadline)
    std::this_thread::sleep_for(milliseconds(10));
  CHECK(log::current_level() == log::level::info);
  LOG_DEBUG("master", "after the toggle");
  auto text = read_file(file);
  CHECK_NOT_EQUAL(text.find("while toggled"), std::string::npos);
  CHECK_EQUAL(text.find("after the toggle"), std::string::npos);
}

TEST(toggle can lower the level and set_level or a zero duration ends a toggle) {
  log::set_level(log::level::debug);
  log::toggle(log::level::error, hours(1));
  CHECK(log::current_level() == log::level::error);
  log::toggle(log::level::error, milliseconds(0));
  CHECK(log::current_level() == log::level::debug);
  log::toggle(log::level::trace, hours(1));
  log::set_level(log::level::warn);
  CHECK(log::current_level() == log::level::warn);
}

TEST(reopen after a rename writes to a new file under the configured name) {
  REQUIRE_EQUAL(log::configure(file, log::format::text), "");
  LOG_INFO("master", "first");
  auto rotated = dir / "mesoscaf.log.1";
  std::filesystem::rename(file, rotated);
  LOG_INFO("master", "still the old file");
  CHECK(!std::filesystem::exists(file));
  REQUIRE_EQUAL(log::reopen(), "");
  LOG_INFO("master", "in the new file");
  auto old_text = read_file(rotated);
  auto new_text = read_file(file);
  CHECK_NOT_EQUAL(old_text.find("first"), std::string::npos);
  CHECK_NOT_EQUAL(old_text.find("still the old file"), std::string::npos);
  CHECK_EQUAL(old_text.find("in the new file"), std::string::npos);
  CHECK_EQUAL(lines_of(new_text).size(), 1u);
  CHECK_NOT_EQUAL(new_text.find("in the new file"), std::string::npos);
}

TEST(the log file is appended to and closed on exec) {
  {
    std::FILE* f = std::fopen(file.c_str(), "w");
    REQUIRE(f != nullptr);
    std::fputs("earlier line\n", f);
    std::fclose(f);
  }
  REQUIRE_EQUAL(log::configure(file, log::format::text), "");
  LOG_INFO("agent", "appended");
  auto text = read_file(file);
  CHECK_EQUAL(text.rfind("earlier line\n", 0), 0u);
  CHECK_NOT_EQUAL(text.find("appended"), std::string::npos);
  // Find our descriptor of the file and look at its flags.
  int found = 0;
  for (auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    auto target = std::filesystem::read_symlink(entry.path(), ec);
    if (ec || target != std::filesystem::path{file})
      continue;
    int fd = std::stoi(entry.path().filename().string());
    ++found;
    CHECK(::fcntl(fd, F_GETFD) & FD_CLOEXEC);
    CHECK(::fcntl(fd, F_GETFL) & O_APPEND);
  }
  CHECK_EQUAL(found, 1);
}

TEST(an unopenable log file is refused and the current output stays) {
  REQUIRE_EQUAL(log::configure(file, log::format::text), "");
  auto err = log::configure(dir / "missing-dir/x.log", log::format::text);
  MESSAGE(err);
  CHECK_NOT_EQUAL(err.find("missing-dir/x.log"), std::string::npos);
  LOG_INFO("master", "still here");
  CHECK_NOT_EQUAL(read_file(file).find("still here"), std::string::npos);
}

TEST(levels and formats parse by name) {
  log::level l;
  CHECK(log::parse_level("debug", l) && l == log::level::debug);
  CHECK(!log::parse_level("DEBUG", l));
  CHECK_EQUAL(log::level_name(log::level::warn), "warn");
  log::format f;
  CHECK(log::parse_format("json", f) && f == log::format::json);
  CHECK(log::parse_format("text", f) && f == log::format::text);
  CHECK(!log::parse_format("xml", f));
}

FIXTURE_SCOPE_END()
