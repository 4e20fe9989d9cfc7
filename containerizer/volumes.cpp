#include "containerizer/volumes.hpp"

#include "containerizer/launcher.hpp"
#include "messages/resources.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace mesoscaf {

namespace {

std::string errno_text(const std::string& what, int err) {
  return what + ": " + std::strerror(err);
}

// Closes a file descriptor on scope exit.
struct fd_guard {
  int fd = -1;
  explicit fd_guard(int x) : fd(x) {}
  ~fd_guard() {
    if (fd >= 0)
      ::close(fd);
  }
  fd_guard(const fd_guard&) = delete;
  fd_guard& operator=(const fd_guard&) = delete;
  void reset(int x) {
    if (fd >= 0)
      ::close(fd);
    fd = x;
  }
};

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> result;
  size_t start = 0;
  while (start <= path.size()) {
    auto pos = path.find('/', start);
    if (pos == std::string::npos)
      pos = path.size();
    result.push_back(path.substr(start, pos - start));
    start = pos + 1;
  }
  return result;
}

} // namespace

std::string volume_directory(const std::string& work_dir, const std::string& role, const std::string& volume_id) {
  if (work_dir.empty() || role == "*" || !valid_role_name(role) || !is_safe_path_component(volume_id))
    return {};
  std::string escaped;
  for (char c : role) {
    if (c == '/')
      escaped += "%2F";
    else
      escaped += c;
  }
  return work_dir + "/volumes/roles/" + escaped + "/" + volume_id;
}

std::string volume_trash_directory(const std::string& work_dir) {
  return work_dir + "/volumes/trash";
}

std::string link_volume(const std::string& sandbox, const std::string& volume_path, const std::string& target) {
  if (sandbox.empty() || target.empty())
    return "no sandbox or volume directory given";
  if (!valid_volume_path(volume_path))
    return "volume path '" + volume_path + "' is not a safe relative path";
  if (auto err = make_directories(sandbox); !err.empty())
    return err;
  fd_guard dir{::open(sandbox.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (dir.fd < 0)
    return errno_text("cannot open sandbox " + sandbox, errno);
  auto parts = split_path(volume_path);
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    const auto& p = parts[i];
    if (::mkdirat(dir.fd, p.c_str(), 0755) != 0 && errno != EEXIST)
      return errno_text("cannot create " + p + " in " + sandbox, errno);
    // O_NOFOLLOW + O_DIRECTORY: a symlink (or a file) at this name is refused, never followed.
    int next = ::openat(dir.fd, p.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (next < 0)
      return errno_text("'" + volume_path + "' would leave the sandbox or cross a non-directory at '" + p + "'",
                        errno);
    dir.reset(next);
  }
  const auto& last = parts.back();
  struct stat sb;
  if (::fstatat(dir.fd, last.c_str(), &sb, AT_SYMLINK_NOFOLLOW) == 0) {
    if (!S_ISLNK(sb.st_mode))
      return "'" + volume_path + "' already exists in the sandbox and is not a volume link";
    std::vector<char> buf(target.size() + 2);
    auto n = ::readlinkat(dir.fd, last.c_str(), buf.data(), buf.size());
    if (n >= 0 && static_cast<size_t>(n) == target.size() && target.compare(0, target.size(), buf.data(), n) == 0)
      return {};  // already linked (e.g. two tasks of one custom executor use the same volume)
    return "'" + volume_path + "' already exists in the sandbox and links elsewhere";
  } else if (errno != ENOENT) {
    return errno_text("cannot inspect '" + volume_path + "' in the sandbox", errno);
  }
  if (::symlinkat(target.c_str(), dir.fd, last.c_str()) != 0)
    return errno_text("cannot link '" + volume_path + "' to " + target, errno);
  return {};
}

std::string write_file_atomically(const std::string& path, const std::string& content) {
  auto slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  if (auto err = make_directories(dir); !err.empty())
    return err;
  auto tmp = path + ".tmp";
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
