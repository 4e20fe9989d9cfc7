// The agent's endpoints: its state and metrics from the agent actor; usage from its containers; files from the
// sandboxes, read on the HTTP thread (blocking file I/O never runs in the actor), confined by sandbox_paths.
#include "actors/http/daemon_http.hpp"
#include "actors/http/endpoint_support.hpp"
#include "actors/http/sandbox_paths.hpp"

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>

#include <nlohmann/json.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <memory>

namespace mesoscaf::http {

namespace {

using json = nlohmann::json;

constexpr std::size_t max_read_length = 1 << 20;
constexpr off_t max_download_bytes = off_t{64} << 20;

/// Agents are read by the master's web UI from another origin.
response cors(response r) {
  r.headers.emplace_back("Access-Control-Allow-Origin", "*");
  return r;
}

std::string mode_text(mode_t m) {
  std::string s = S_ISDIR(m) ? "d" : S_ISLNK(m) ? "l" : "-";
  const char* rwx = "rwxrwxrwx";
  for (int i = 0; i < 9; ++i)
    s += (m & (1 << (8 - i))) ? rwx[i] : '-';
  return s;
}

json file_entry(const sandbox_entry& e) {
  return {{"path", e.path},       {"nlink", e.nlink}, {"size", e.size},       {"mtime", e.mtime},
          {"mode", mode_text(e.mode)}, {"uid", e.uid},     {"gid", e.gid}};
}

struct fd_guard {
  int fd;
  ~fd_guard() {
    if (fd >= 0)
      ::close(fd);
  }
};

response browse(const std::string& work_dir, const request& req) {
  std::vector<sandbox_entry> entries;
  auto c = list_sandbox(work_dir, req.param("path"), entries);
  if (c.status != 200)
    return response::error(c.status, c.error);
  json out = json::array();
  for (const auto& e : entries)
    out.push_back(file_entry(e));
  return response::json(out.dump(-1, ' ', false, json::error_handler_t::replace));
}

/// Opens a confined regular file; status != 200 on refusal.
response open_file(const std::string& work_dir, const std::string& path, int& fd, struct stat& st) {
  auto c = open_sandbox_file(work_dir, path, fd, st);
  if (c.status != 200)
    return response::error(c.status, c.error);
  return response::text("");
}

response read_file(const std::string& work_dir, const request& req) {
  auto path = req.param("path");
  auto offset_text = req.param("offset", "0");
  auto length_text = req.param("length", std::to_string(max_read_length));
  long long offset = 0, length = 0;
  try {
    std::size_t used = 0;
    offset = std::stoll(offset_text, &used);
    if (used != offset_text.size())
      throw std::invalid_argument{"offset"};
    length = std::stoll(length_text, &used);
    if (used != length_text.size())
      throw std::invalid_argument{"length"};
  } catch (const std::exception&) {
    return response::error(400, "offset and length must be integers");
  }
  if (offset < -1 || length < 0)
    return response::error(400, "offset must be -1 or more and length 0 or more");
  // Mesos' tailing protocol: offset -1 asks for the size only.
  std::string data;
  uint64_t size = 0;
  auto want = offset == -1 ? 0 : static_cast<std::size_t>(std::min<long long>(length, max_read_length));
  auto c = read_sandbox_file(work_dir, path, offset == -1 ? 0 : static_cast<uint64_t>(offset), want, data, size);
  if (c.status != 200)
    return response::error(c.status, c.error);
  if (offset == -1)
    return response::json(json{{"offset", size}, {"data", ""}}.dump());
  return response::json(
    json{{"offset", offset}, {"data", data}}.dump(-1, ' ', false, json::error_handler_t::replace));
}

response download(const std::string& work_dir, const request& req) {
  auto path = req.param("path");
  int fd = -1;
  struct stat st {};
  auto opened = open_file(work_dir, path, fd, st);
  fd_guard guard{fd};
  if (opened.status != 200)
    return opened;
  if (st.st_size > max_download_bytes)
    return response::error(413, "file larger than 64 MiB: read it in chunks with /files/read");
  std::string data(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t got = 0;
  while (got < data.size()) {
    auto n = ::pread(fd, data.data() + got, data.size() - got, static_cast<off_t>(got));
    if (n <= 0)
      break;
    got += static_cast<std::size_t>(n);
  }
  data.resize(got);
  response r;
  r.content_type = "application/octet-stream";
  r.body = std::move(data);
  auto name = path.substr(path.find_last_of('/') + 1);
  std::string safe;
  for (auto c : name)
    safe += (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) ? '_' : c;
  r.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + safe + "\"");
  return r;
}

} // namespace

void add_agent_routes(server& srv, caf::actor_system& sys, std::function<agent_actor()> agent_of,
                      endpoint_options opts) {
  // The HTTP port is known once the server listens, after the routes are set: read at each request.
  auto srvp = &srv;
  auto me = std::make_shared<const endpoint_options>(std::move(opts));
  auto identity = [me, srvp] {
    auto id = me->identity;
    id.http_port = srvp->port();
    return id;
  };
  auto sysp = &sys;
  auto get_only = [](handler h) {
    return [h](const request& req) {
      if (req.method != "GET" && req.method != "HEAD")
        return cors(response::error(405, req.method + " is not allowed on " + req.path));
      return cors(h(req));
    };
  };
  // view_state (--acls): what the request's principal may see.
  auto viewing = [me](std::initializer_list<const char*> objects, handler h) {
    return [me, objects = std::vector<const char*>(objects), h](const request& req) {
      for (auto o : objects)
        if (auto no = forbidden(*me, req, acl_action::view_state, o))
          return *no;
      return h(req);
    };
  };
  srv.route("*", "/health", get_only([](const request&) { return response::text(""); }));
  srv.route("*", "/version", get_only([](const request&) { return response::json(version_json()); }));
  srv.route("*", "/flags", get_only(viewing({"flags"}, [identity](const request&) {
              return response::json(flags_json(identity()));
            })));
  auto state = [=](const request&) {
    agent_state_view v;
    if (auto err = ask(*sysp, agent_of(), me->timeout, v, atom::state_page_v); !err.empty())
      return response::error(503, "the agent did not answer: " + err);
    return response::json(agent_state_json(v, identity()));
  };
  srv.route("*", "/state", get_only(viewing({"frameworks", "tasks"}, state)));
  srv.route("*", "/slave(1)/state", get_only(viewing({"frameworks", "tasks"}, state)));
  auto metrics = [=](bool prometheus) {
    return get_only([=](const request&) {
      std::vector<metric_sample> samples;
      if (auto err = ask(*sysp, agent_of(), me->timeout, samples, atom::metrics_v); !err.empty())
        return response::error(503, "the agent did not answer: " + err);
      return metrics_response(samples, prometheus);
    });
  };
  srv.route("*", "/logging/toggle", toggle_logging);
  srv.route("*", "/metrics/snapshot", metrics(false));
  srv.route("*", "/metrics", metrics(true));
  srv.route("*", "/monitor/statistics", get_only(viewing({"tasks"}, [=](const request&) {
              std::vector<container_usage> usage;
              agent_state_view v;
              auto err = ask(*sysp, agent_of(), me->timeout, usage, atom::usage_v);
              if (err.empty())
                err = ask(*sysp, agent_of(), me->timeout, v, atom::state_page_v);
              if (!err.empty())
                return response::error(503, "the agent did not answer: " + err);
              return response::json(monitor_statistics_json(usage, v));
            })));
  // Sandboxes hold the tasks' output: view_state "sandboxes".
  srv.route("*", "/files/browse",
            get_only(viewing({"sandboxes"}, [me](const request& req) { return browse(me->work_dir, req); })));
  srv.route("*", "/files/read",
            get_only(viewing({"sandboxes"}, [me](const request& req) { return read_file(me->work_dir, req); })));
  srv.route("*", "/files/download",
            get_only(viewing({"sandboxes"}, [me](const request& req) { return download(me->work_dir, req); })));
  add_v1_executor_routes(srv, sys, agent_of, me, identity);
  add_v1_operator_agent_routes(srv, sys, agent_of, me, identity);
}

} // namespace mesoscaf::http
