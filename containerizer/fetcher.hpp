#pragma once
// The fetcher (Mesos' mesos-fetcher): downloads a command's URIs into its sandbox before the command starts,
// unpacks archives, and keeps a per-user cache of the URIs marked `cache`. Pure blocking library code (libcurl,
// libarchive); the agent runs it as the `mesoscaf fetcher` subcommand, as the task's user, so a hostile URI or
// archive can at worst spoil that user's own files.
#include "messages/task_info.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace mesoscaf {

struct fetch_request {
  std::vector<command_uri> uris;
  std::string sandbox;                      // absolute directory; files go here
  std::string cache_dir;                    // cache root (mode 01777, made by the agent); "" = no caching
  uint64_t cache_bytes = 2ull << 30;        // per user
  uint64_t max_bytes = 16ull << 30;         // bound for one download and for the extracted size of one archive
  std::chrono::seconds stall_timeout{60};   // abort when < 1 byte/s for this long (0: never)
  std::chrono::seconds total_timeout{1800}; // bound for one download (0: none)
};

struct fetch_result {
  bool ok = false;
  std::string message; // on failure: "Failed to fetch 'URI': cause"
};

/// Fetches every URI of `req` in order; stops at the first failure. Every URI is checked (check_uri) before
/// anything is written. `log` gets one human line per step ("Fetching 'URI' to 'path'", "Using cached ...").
fetch_result fetch_uris(const fetch_request& req, std::ostream& log);

/// The command line of `mesoscaf fetcher` for `req` (after the subcommand's name):
/// `--sandbox= --cache-dir= --cache-size= --max-bytes= --stall-timeout= --timeout=`, then for each URI
/// `--uri=VALUE --uri-flags=XEC --uri-output=FILE`, where XEC is three characters: 'x' or '-' (executable),
/// 'e' or '-' (extract), 'c' or '-' (cache).
std::vector<std::string> fetcher_arguments(const fetch_request& req);

/// The inverse of fetcher_arguments. On an unknown or malformed argument: nullopt and `*error` says why.
std::optional<fetch_request> parse_fetcher_arguments(const std::vector<std::string>& args, std::string* error);

/// `mesoscaf fetcher` (argv[0] = "fetcher"): parses, fetches and logs to stderr. On failure the last line of
/// stderr is exactly the result's message. Exit code 0 fetched, 1 failed, 2 bad arguments.
int run_fetcher(int argc, char** argv);

} // namespace mesoscaf
