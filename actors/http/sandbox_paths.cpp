#include "actors/http/sandbox_paths.hpp"

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
  return out;
}

} // namespace mesoscaf::http
