#include "config/support/files.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace mesoscaf {

std::string errno_text(const std::string& what, int err) {
  return what + ": " + std::strerror(err);
}

fd_guard::~fd_guard() {
  if (fd >= 0)
    ::close(fd);
}

void fd_guard::reset(int x) {
  if (fd >= 0)
    ::close(fd);
  fd = x;
}

std::string make_directories(const std::string& path) {
  if (path.empty())
    return "empty directory path";
  if (path.find('\0') != std::string::npos)
    return "directory path contains a NUL character";
  std::string prefix;
  size_t pos = 0;
  while (pos <= path.size()) {
    auto next = path.find('/', pos);
    if (next == std::string::npos)
      next = path.size();
    prefix = path.substr(0, next);
    pos = next + 1;
    if (prefix.empty() || prefix == "." || prefix == "..")
      continue;
    if (::mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST)
      return errno_text("cannot create directory " + prefix, errno);
  }
  struct stat st;
  if (::stat(path.c_str(), &st) != 0)
    return errno_text("cannot stat " + path, errno);
  if (!S_ISDIR(st.st_mode))
    return path + " exists and is not a directory";
  return {};
}

namespace {

std::string write_file_atomically_impl(const std::string& path, const std::string& tmp, const std::string& content);

} // namespace

std::string write_file_atomically(const std::string& path, const std::string& content) {
  auto tmp = path + ".tmp";
  auto err = write_file_atomically_impl(path, tmp, content);
  // A failed write (a full disk) leaves no half-written temporary behind to take space.
  if (!err.empty())
    ::unlink(tmp.c_str());
  return err;
}

namespace {

std::string write_file_atomically_impl(const std::string& path, const std::string& tmp, const std::string& content) {
  auto slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  if (auto err = make_directories(dir); !err.empty())
    return err;
  fd_guard f{::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)};
  if (f.fd < 0)
    return errno_text("cannot open " + tmp, errno);
  size_t done = 0;
  while (done < content.size()) {
    auto n = ::write(f.fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return errno_text("cannot write " + tmp, errno);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(f.fd) != 0)
    return errno_text("cannot fsync " + tmp, errno);
  f.reset(-1);
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    return errno_text("cannot rename " + tmp + " to " + path, errno);
  // The rename itself is durable only once the directory is synced.
  fd_guard d{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (d.fd < 0 || ::fsync(d.fd) != 0)
    return errno_text("cannot fsync directory " + dir, errno);
  return {};
}

} // namespace

std::string read_whole_file(const std::string& path, std::string& out, bool& exists) {
  exists = false;
  fd_guard f{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (f.fd < 0) {
    if (errno == ENOENT)
      return {};
    return errno_text("cannot open " + path, errno);
  }
  exists = true;
  std::string result;
  char buf[4096];
  for (;;) {
    auto n = ::read(f.fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return errno_text("cannot read " + path, errno);
    }
    if (n == 0)
      break;
    result.append(buf, static_cast<size_t>(n));
  }
  out = std::move(result);
  return {};
}

std::string remove_tree(const std::string& path) {
  std::error_code ec;
  // remove_all removes symlinks themselves and does not follow them.
  std::filesystem::remove_all(path, ec);
  if (ec)
    return "cannot remove " + path + ": " + ec.message();
  return {};
}

} // namespace mesoscaf
