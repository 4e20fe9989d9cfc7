#include "containerizer/health_probe.hpp"

#include "config/support/files.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstring>
#include <memory>
#include <mutex>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace mesoscaf {

namespace {

using std::chrono::milliseconds;

probe_result failure(std::string why) {
  return {false, std::move(why)};
}

std::string timed_out(milliseconds timeout) {
  auto ms = timeout.count();
  return "timed out after " + (ms % 1000 == 0 ? std::to_string(ms / 1000) + "s" : std::to_string(ms) + "ms");
}

// strerror in lower case ("connection refused"), as the rest of a status message.
std::string os_error(int err) {
  std::string text = std::strerror(err);
  if (!text.empty())
    text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

void init_curl() {
  // curl_global_init is not thread-safe on every libcurl build; once per process is enough.
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// A healthy service may answer with a large page: the status is all we need, so stop reading after a while.
constexpr size_t max_body_bytes = 64 * 1024;

struct body_sink {
  size_t received = 0;
  bool enough = false;
};

size_t discard_body(char*, size_t size, size_t count, void* user) {
  auto* sink = static_cast<body_sink*>(user);
  sink->received += size * count;
  if (sink->received > max_body_bytes) {
    sink->enough = true;
    return 0; // ends the transfer (CURLE_WRITE_ERROR), the status line is in
  }
  return size * count;
}

} // namespace

probe_result probe_tcp(uint16_t port, milliseconds timeout) {
  if (port == 0)
    return failure("no port");
  fd_guard fd{::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)};
  if (fd.fd < 0)
    return failure("cannot create a socket: " + os_error(errno));
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd.fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0)
    return {true, {}};
  if (errno != EINPROGRESS)
    return failure(os_error(errno));
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0)
      return failure(timed_out(timeout));
    pollfd p{fd.fd, POLLOUT, 0};
    auto r = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, INT_MAX)));
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      return failure("poll: " + os_error(errno));
    if (r == 0)
      return failure(timed_out(timeout));
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(fd.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
      err = errno;
    return err == 0 ? probe_result{true, {}} : failure(os_error(err));
  }
}

probe_result probe_http(const std::string& scheme, uint16_t port, const std::string& path, milliseconds timeout) {
  if (scheme != "http" && scheme != "https")
    return failure("unsupported scheme '" + scheme + "'");
  if (port == 0)
    return failure("no port");
  init_curl();
  char error_buffer[CURL_ERROR_SIZE] = {0}; // before the handle: it outlives its use
  body_sink sink;
  std::unique_ptr<CURL, void (*)(CURL*)> handle{curl_easy_init(), curl_easy_cleanup};
  if (!handle)
    return failure("cannot initialise libcurl");
  CURL* c = handle.get();
  auto url = scheme + "://127.0.0.1:" + std::to_string(port) + (path.empty() || path.front() != '/' ? "/" : "") + path;
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L); // no SIGALRM in a multithreaded process
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_NOPROXY, "*"); // the task is on this host, whatever http_proxy says
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "mesoscaf-health-check");
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(std::max<long long>(timeout.count(), 1))); // 0: none
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  auto rc = curl_easy_perform(c);
  if (rc == CURLE_OK || (rc == CURLE_WRITE_ERROR && sink.enough)) {
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 200 && status <= 399)
      return {true, {}};
    return failure("HTTP status " + std::to_string(status));
  }
  if (rc == CURLE_OPERATION_TIMEDOUT)
    return failure(timed_out(timeout));
  if (rc == CURLE_COULDNT_CONNECT) {
    long err = 0;
    curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &err);
    if (err != 0)
      return failure(os_error(static_cast<int>(err)));
  }
  return failure(error_buffer[0] != '\0' ? std::string{error_buffer} : std::string{curl_easy_strerror(rc)});
}

} // namespace mesoscaf
