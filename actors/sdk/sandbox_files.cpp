#include "actors/sdk/sandbox_files.hpp"

#include "config/support/files.hpp"

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <sstream>

#include <fcntl.h>
#include <unistd.h>

namespace mesoscaf {

namespace {

/// realpath(3) as a string; empty (errno set) if `path` does not exist.
std::string resolve(const std::string& path) {
  char buf[PATH_MAX];
  if (::realpath(path.c_str(), buf) == nullptr)
    return {};
  return buf;
}

} // namespace

sandbox_file read_sandbox_file(const std::string& sandbox, const std::string& relative_path, size_t max_bytes) {
  sandbox_file out;
  auto escapes = [&] { out.error = "path escapes the sandbox: " + relative_path; };
  if (sandbox.empty()) {
    out.error = "no sandbox (the task did not run on this cluster, or has no sandbox yet)";
    return out;
  }
  if (relative_path.empty() || relative_path.front() == '/') {
    escapes();
    return out;
  }
  // Checked before touching the file system, so that the answer does not depend on what exists.
  std::istringstream parts{relative_path};
  for (std::string part; std::getline(parts, part, '/');)
    if (part == "..") {
      escapes();
      return out;
    }
  auto root = resolve(sandbox);
  if (root.empty()) {
    out.error = errno_text("sandbox " + sandbox, errno);
    return out;
  }
  auto target = resolve(sandbox + "/" + relative_path);
  if (target.empty()) {
    out.error = errno_text(sandbox + "/" + relative_path, errno);
    return out;
  }
  // A task may leave symlinks in its sandbox: where they lead counts, not their names.
  if (target.compare(0, root.size() + 1, root + "/") != 0) {
    escapes();
    return out;
  }
  fd_guard fd{::open(target.c_str(), O_RDONLY | O_CLOEXEC)};
  if (fd.fd < 0) {
    out.error = errno_text(target, errno);
    return out;
  }
  // One byte more than allowed tells whether the file goes on.
  std::string buf(max_bytes + 1, '\0');
  size_t got = 0;
  while (got < buf.size()) {
    auto n = ::read(fd.fd, &buf[got], buf.size() - got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      out.error = errno_text(target, errno);
      return out;
    }
    if (n == 0)
      break;
    got += static_cast<size_t>(n);
  }
  out.truncated = got > max_bytes;
  buf.resize(out.truncated ? max_bytes : got);
  out.content = std::move(buf);
  return out;
}

} // namespace mesoscaf
