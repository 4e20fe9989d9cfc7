#pragma once
// The network probes of a task's TCP and HTTP health checks (messages/task_info.hpp `health_check`), always on
// 127.0.0.1 as Mesos does. Blocking and thread-safe: the caller runs each probe on a thread of its own.
#include <chrono>
#include <cstdint>
#include <string>

namespace mesoscaf {

struct probe_result {
  bool ok = false;
  std::string message; // why it failed: "connection refused", "HTTP status 503", "timed out after 2s"
};

/// Healthy if a TCP connection to 127.0.0.1:`port` is established within `timeout`.
probe_result probe_tcp(uint16_t port, std::chrono::milliseconds timeout);

/// GET `scheme`://127.0.0.1:`port``path` (scheme "http" or "https"; certificates not verified, as Mesos).
/// Healthy if the status is 200..399 within `timeout`; redirects are not followed.
probe_result probe_http(const std::string& scheme, uint16_t port, const std::string& path,
                        std::chrono::milliseconds timeout);

} // namespace mesoscaf
