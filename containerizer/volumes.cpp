#include "containerizer/volumes.hpp"

#include "config/support/files.hpp"
#include "containerizer/launcher.hpp"
#include "messages/resources.hpp"

#include <cerrno>
#include <cstring>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace mesoscaf {

namespace {



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




} // namespace mesoscaf
