#pragma once
// A local HTTP server of files under /files/ that counts the requests per path (the fetcher's tests): on the
// project's own server (actors/http/http_server.hpp). Include after test.hpp.
#include "actors/http/http_server.hpp"

#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace mesoscaf::test {

struct file_server {
  std::mutex mtx;
  std::map<std::string, std::string> files;  // path -> body
  std::map<std::string, int> hits;
  std::unique_ptr<http::server> srv;         // last: stops before the maps its handlers use go

  file_server() {
    http::server_options opts;
    opts.address = "127.0.0.1";
    opts.handler_threads = 2;
    srv = std::make_unique<http::server>(opts);
    srv->route_prefix("GET", "/files/", [this](const http::request& req) {
      std::lock_guard<std::mutex> guard{mtx};
      ++hits[req.path];
      auto it = files.find(req.path);
      if (it == files.end())
        return http::response::text("no such file", 404);
      http::response r;
      r.content_type = "application/octet-stream";
      r.body = it->second;
      return r;
    });
    // Redirects to ?to=...: the fetcher follows http ones only.
    srv->route("GET", "/redirect", [](const http::request& req) {
      http::response r = http::response::text("moved", 302);
      r.headers.emplace_back("Location", req.param("to"));
      return r;
    });
    REQUIRE_EQUAL(srv->start(), "");
  }

  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(srv->port()) + path;
  }

  void put(const std::string& path, const std::string& body) {
    std::lock_guard<std::mutex> guard{mtx};
    files[path] = body;
  }

  /// Serves the contents of `file` at `path`.
  void put_file(const std::string& path, const std::string& file) {
    std::ifstream in{file, std::ios::binary};
    REQUIRE(in.good());
    put(path, std::string{std::istreambuf_iterator<char>{in}, {}});
  }

  int count(const std::string& path) {
    std::lock_guard<std::mutex> guard{mtx};
    return hits[path];
  }
};

} // namespace mesoscaf::test
