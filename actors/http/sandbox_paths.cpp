#include "actors/http/sandbox_paths.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <memory>
#include <vector>

namespace mesoscaf::http {

namespace {

std::string real_path(const std::string& p, int& err) {
  std::unique_ptr<char, decltype(&std::free)> r{::realpath(p.c_str(), nullptr), &std::free};
  err = r ? 0 : errno;
  return r ? std::string{r.get()} : std::string{};
}

std::vector<std::string> components(const std::string& p) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < p.size()) {
    auto end = p.find('/', start);
    if (end == std::string::npos)
      end = p.size();
    if (end > start)
      out.push_back(p.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

} // namespace

confined_path confine_to_sandboxes(const std::string& work_dir, const std::string& requested) {
  confined_path out;
  if (requested.empty() || requested[0] != '/' || requested.find('\0') != std::string::npos) {
    out.status = 400;
    out.error = "path must be absolute (an executor's directory from /state, or a path below it)";
    return out;
  }
  int err = 0;
  auto root = real_path(work_dir, err);
  if (root.empty()) {
    out.status = 404;
    out.error = "the agent's work directory does not exist";
    return out;
  }
  auto real = real_path(requested, err);
  if (real.empty()) {
    // A missing file inside a sandbox is 404; a missing one elsewhere says no more than 403 does.
    auto slash = requested.find_last_of('/');
    auto parent = real_path(slash == 0 ? "/" : requested.substr(0, slash), err);
    auto inside = !parent.empty() && parent.compare(0, root.size() + 1, root + "/") == 0;
    out.status = inside ? 404 : 403;
    out.error = inside ? "no such file: " + requested : "path is outside every sandbox: " + requested;
    return out;
  }
  // Inside <root>/agents/<a>/frameworks/<f>/executors/<e>/runs/<r> (or that directory itself).
  bool inside = real.compare(0, root.size() + 1, root + "/") == 0;
  if (inside) {
    auto parts = components(real.substr(root.size()));
    inside = parts.size() >= 8 && parts[0] == "agents" && parts[2] == "frameworks" && parts[4] == "executors"
             && parts[6] == "runs";
  }
  if (!inside) {
    out.status = 403;
    out.error = "path is outside every sandbox: " + requested;
    return out;
  }
  out.real = real;
  auto parts = components(real.substr(root.size()));
  out.sandbox = root;
  for (std::size_t i = 0; i < 8; ++i)
    out.sandbox += "/" + parts[i];
  out.below = ".";
  for (std::size_t i = 8; i < parts.size(); ++i)
    out.below += "/" + parts[i];
  return out;
}

int open_confined(const confined_path& c, int flags) {
  flags |= O_CLOEXEC | O_NOFOLLOW;
  int dir = ::open(c.sandbox.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (dir < 0)
    return -1;
  struct open_how how {};
  how.flags = static_cast<uint64_t>(flags);
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  auto fd = static_cast<int>(::syscall(SYS_openat2, dir, c.below.c_str(), &how, sizeof how));
  int saved = errno;
  ::close(dir);
  if (fd < 0 && saved == ENOSYS)
    return ::open(c.real.c_str(), flags);
  errno = saved;
  return fd;
}

namespace {

std::string user_name(uid_t uid) {
  if (auto* pw = ::getpwuid(uid))
    return pw->pw_name;
  return std::to_string(uid);
}

std::string group_name(gid_t gid) {
  if (auto* gr = ::getgrgid(gid))
    return gr->gr_name;
  return std::to_string(gid);
}

confined_path refused(int status, std::string error) {
  confined_path c;
  c.status = status;
  c.error = std::move(error);
  return c;
}

} // namespace

confined_path list_sandbox(const std::string& work_dir, const std::string& requested,
                           std::vector<sandbox_entry>& out) {
  auto c = confine_to_sandboxes(work_dir, requested);
  if (c.status != 200)
    return c;
  struct dir_closer {
    void operator()(DIR* d) const { ::closedir(d); }
  };
  int fd = open_confined(c, O_RDONLY | O_DIRECTORY);
  if (fd < 0)
    return refused(400, "not a directory: " + requested);
  std::unique_ptr<DIR, dir_closer> dir{::fdopendir(fd)};
  if (!dir) {
    ::close(fd);
    return refused(400, "not a directory: " + requested);
  }
  auto base = requested.size() > 1 && requested.back() == '/' ? requested.substr(0, requested.size() - 1) : requested;
  while (auto* e = ::readdir(dir.get())) {
    std::string name = e->d_name;
    if (name == "." || name == "..")
      continue;
    struct stat st {};
    if (::fstatat(::dirfd(dir.get()), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
      continue;
    out.push_back({base + "/" + name, static_cast<uint64_t>(st.st_nlink), static_cast<uint64_t>(st.st_size),
                   static_cast<int64_t>(st.st_mtime), st.st_mode, user_name(st.st_uid), group_name(st.st_gid)});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
  return c;
}

confined_path open_sandbox_file(const std::string& work_dir, const std::string& requested, int& fd, struct stat& st) {
  auto c = confine_to_sandboxes(work_dir, requested);
  if (c.status != 200)
    return c;
  fd = open_confined(c, O_RDONLY | O_NONBLOCK);
  if (fd < 0)
    return refused(404, "cannot open " + requested);
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    fd = -1;
    return refused(400, "not a regular file: " + requested);
  }
  return c;
}

confined_path read_sandbox_file(const std::string& work_dir, const std::string& requested, uint64_t offset,
                                std::size_t length, std::string& data, uint64_t& size) {
  int fd = -1;
  struct stat st {};
  auto c = open_sandbox_file(work_dir, requested, fd, st);
  struct closer {
    int& fd;
    ~closer() {
      if (fd >= 0)
        ::close(fd);
    }
  } guard{fd};
  if (c.status != 200)
    return c;
  size = static_cast<uint64_t>(st.st_size);
  data.assign(length, '\0');
  auto n = length == 0 ? 0 : ::pread(fd, data.data(), length, static_cast<off_t>(offset));
  if (n < 0)
    return refused(500, "cannot read " + requested);
  data.resize(static_cast<std::size_t>(n));
  return c;
}

} // namespace mesoscaf::http
