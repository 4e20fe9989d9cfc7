#define CAF_SUITE http_server
#include "test.hpp"

#include "http_test_client.hpp"
#include "process_scan.hpp"

#include "actors/http/event_stream.hpp"
#include "actors/http/http_server.hpp"
#include "actors/http/prometheus.hpp"
#include "actors/http/state_json.hpp"

#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <chrono>
#include <thread>

using namespace mesoscaf;
using namespace mesoscaf::http;
using namespace std::chrono;
using mesoscaf::test::http_get;
using mesoscaf::test::http_request;
using mesoscaf::test::eventually;

namespace {

int connect_to(uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

/// True if the server closes `fd` within `limit` (a read returns 0 or an error).
bool closed_within(int fd, milliseconds limit) {
  timeval tv{static_cast<time_t>(limit.count() / 1000), static_cast<suseconds_t>((limit.count() % 1000) * 1000)};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char buf[64];
  auto n = ::read(fd, buf, sizeof buf);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

struct fixture {
  std::atomic<int> closed_streams{0};
  std::mutex streams_mtx;   // handlers add to `streams` on the server's threads
  std::vector<std::shared_ptr<event_stream>> streams;

  std::shared_ptr<event_stream> stream(size_t i) {
    std::lock_guard<std::mutex> guard{streams_mtx};
    return i < streams.size() ? streams[i] : nullptr;
  }
  server_options opts;
  std::unique_ptr<server> srv;
  std::string endpoint;

  void start() {
    opts.address = "127.0.0.1";
    srv = std::make_unique<server>(opts);
    srv->route("GET", "/echo", [](const request& req) {
      return response::json(nlohmann::json{{"path", req.path}, {"a", req.param("a")}, {"b", req.param("b")}}.dump());
    });
    srv->route("POST", "/echo", [](const request& req) { return response::text(req.body); });
    srv->route_prefix("DELETE", "/things/", [](const request& req) { return response::text(req.path.substr(8)); });
    srv->route("GET", "/boom", [](const request&) -> response { throw std::runtime_error("kaboom"); });
    srv->route("GET", "/headers", [](const request& req) {
      auto i = req.headers.find("accept");
      return response::text(i == req.headers.end() ? "" : i->second);
    });
    // A stream fed by another thread: `count` chunks, then the end (or nothing more if count is 0).
    srv->route("GET", "/stream", [this](const request& req) {
      response res;
      res.content_type = "application/json";
      res.headers.emplace_back("Mesos-Stream-Id", "s-1");
      res.stream = std::make_shared<event_stream>(static_cast<std::size_t>(std::stoul(req.param("max", "1000000"))));
      res.stream->on_close([this] { ++closed_streams; });
      auto count = std::stoi(req.param("count", "0"));
      auto size = std::stoul(req.param("size", "5"));
      std::thread([s = res.stream, count, size] {
        for (int i = 0; i < count; ++i) {
          std::this_thread::sleep_for(milliseconds(20));
          s->push(std::to_string(i) + std::string(size - 1, 'x'));
        }
        if (count > 0)
          s->finish();
      }).detach();
      {
        std::lock_guard<std::mutex> guard{streams_mtx};
        streams.push_back(res.stream);
      }
      return res;
    });
    REQUIRE_EQUAL(srv->start(), "");
    endpoint = "127.0.0.1:" + std::to_string(srv->port());
  }
};

} // namespace

FIXTURE_SCOPE(http_server_tests, fixture)

TEST(routes answer with decoded paths and parameters) {
  start();
  auto r = http_get(endpoint, "/echo?a=x%20y&b=1+2");
  REQUIRE_EQUAL(r.status, 200);
  auto j = nlohmann::json::parse(r.body);
  CHECK_EQUAL(j["a"], "x y");
  CHECK_EQUAL(j["b"], "1 2");
  CHECK_EQUAL(r.headers["content-type"], "application/json");
  CHECK_EQUAL(http_request("POST", endpoint, "/echo", "payload").body, "payload");
  CHECK_EQUAL(http_request("DELETE", endpoint, "/things/abc").body, "abc");
}

TEST(unknown paths are 404 wrong methods 405 and a throwing handler 500) {
  start();
  CHECK_EQUAL(http_get(endpoint, "/nothing").status, 404);
  CHECK_EQUAL(http_request("PUT", endpoint, "/echo", "x").status, 405);
  auto boom = http_get(endpoint, "/boom");
  CHECK_EQUAL(boom.status, 500);
  CHECK(boom.body.find("kaboom") != std::string::npos);
  CHECK_EQUAL(http_get(endpoint, "/echo").status, 200);  // still serving
}

TEST(a body over the limit is refused with 413) {
  opts.max_body_bytes = 1024;
  start();
  CHECK_EQUAL(http_request("POST", endpoint, "/echo", std::string(4096, 'x')).status, 413);
  CHECK_EQUAL(http_request("POST", endpoint, "/echo", std::string(512, 'x')).status, 200);
}

TEST(repeated headers reach the handler joined) {
  start();
  auto r = http_request("GET", endpoint, "/headers", "", "application/json", seconds(15),
                        {{"Accept", "application/x-protobuf"}});
  CHECK_EQUAL(r.body, "application/x-protobuf");
  int fd = connect_to(srv->port());
  REQUIRE(fd >= 0);
  std::string req = "GET /headers HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\nAccept: text/plain\r\n"
                    "Connection: close\r\n\r\n";
  REQUIRE_EQUAL(::write(fd, req.data(), req.size()), static_cast<ssize_t>(req.size()));
  std::string answer;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;)
    answer.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  CHECK(answer.find("application/json, text/plain") != std::string::npos);
}

TEST(a streamed response sends every chunk pushed then ends) {
  start();
  auto r = http_get(endpoint, "/stream?count=3");
  CHECK_EQUAL(r.status, 200);
  CHECK_EQUAL(r.body, "0xxxx1xxxx2xxxx");
  CHECK_EQUAL(r.headers["mesos-stream-id"], "s-1");
  CHECK_EQUAL(r.headers["transfer-encoding"], "chunked");
  CHECK(eventually([&] { return closed_streams.load() == 1; }, seconds(10)));
}

TEST(a streamed response is closed when its client disconnects) {
  start();
  int fd = connect_to(srv->port());
  REQUIRE(fd >= 0);
  std::string req = "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n";
  REQUIRE_EQUAL(::write(fd, req.data(), req.size()), static_cast<ssize_t>(req.size()));
  REQUIRE(eventually([&] { return stream(0) != nullptr; }, seconds(10)));
  // The stream stays open while the client is there: data pushed now arrives.
  stream(0)->push("hello");
  std::string got;
  char buf[4096];
  while (got.find("hello") == std::string::npos) {
    auto n = ::read(fd, buf, sizeof buf);
    REQUIRE(n > 0);
    got.append(buf, static_cast<std::size_t>(n));
  }
  CHECK_EQUAL(closed_streams.load(), 0);
  ::close(fd);
  CHECK(eventually([&] { return closed_streams.load() == 1; }, seconds(10)));
  CHECK(!stream(0)->push("late"));
}

TEST(a streamed response whose client does not read is dropped at its bound) {
  start();
  int fd = connect_to(srv->port());
  REQUIRE(fd >= 0);
  int small = 4096;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  // 200 chunks of 64 KiB against a bound of 1 MiB, and the client never reads.
  std::string req = "GET /stream?count=200&size=65536&max=1048576 HTTP/1.1\r\nHost: x\r\n\r\n";
  REQUIRE_EQUAL(::write(fd, req.data(), req.size()), static_cast<ssize_t>(req.size()));
  CHECK(eventually([&] { return closed_streams.load() == 1; }, seconds(30)));
  ::close(fd);
  CHECK_EQUAL(http_get(endpoint, "/echo").status, 200);
}

TEST(a client that sends no complete request is disconnected after the header timeout) {
  opts.header_timeout = seconds(1);
  start();
  int idle = connect_to(srv->port());
  int slow = connect_to(srv->port());
  REQUIRE(idle >= 0 && slow >= 0);
  std::string partial = "GET /echo HTTP/1.1\r\nHost: x\r\n";
  REQUIRE_EQUAL(::write(slow, partial.data(), partial.size()), static_cast<ssize_t>(partial.size()));
  CHECK(closed_within(idle, seconds(20)));
  CHECK(closed_within(slow, seconds(20)));
  ::close(idle);
  ::close(slow);
  CHECK_EQUAL(http_get(endpoint, "/echo").status, 200);
}

TEST(connections over the limit are closed at once and the others still served) {
  opts.max_connections = 4;
  start();
  std::vector<int> held;
  for (int i = 0; i < 4; ++i)
    held.push_back(connect_to(srv->port()));
  // The server counts a connection once it accepted it.
  for (int i = 0; i < 200 && srv->open_connections() < 4; ++i)
    std::this_thread::sleep_for(milliseconds(10));
  REQUIRE_EQUAL(srv->open_connections(), 4u);
  int extra = connect_to(srv->port());
  REQUIRE(extra >= 0);
  CHECK(closed_within(extra, seconds(10)));
  ::close(extra);
  ::close(held.back());
  held.pop_back();
  bool served = false;
  for (int i = 0; i < 200 && !served; ++i) {
    served = http_get(endpoint, "/echo").status == 200;
    if (!served)
      std::this_thread::sleep_for(milliseconds(20));
  }
  CHECK(served);
  for (int fd : held)
    ::close(fd);
}

TEST(prometheus names replace invalid characters) {
  CHECK_EQUAL(prometheus_name("master/tasks_running"), "master_tasks_running");
  CHECK_EQUAL(prometheus_name("allocator/mesos/roles/eng.x/shares"), "allocator_mesos_roles_eng_x_shares");
  CHECK_EQUAL(prometheus_name("1abc"), "_1abc");
  auto text = prometheus_text({{"master/elected", 1}, {"master/cpus_percent", 0.25}});
  CHECK_EQUAL(text, "# TYPE master_elected gauge\nmaster_elected 1\n# TYPE master_cpus_percent gauge\n"
                    "master_cpus_percent 0.25\n");
}

TEST(weights and quota bodies are parsed and bad ones refused) {
  std::vector<std::pair<std::string, double>> w;
  CHECK_EQUAL(parse_weights(R"([{"role": "eng", "weight": 2}])", w), "");
  REQUIRE_EQUAL(w.size(), 1u);
  CHECK_EQUAL(w[0].second, 2.0);
  for (auto bad : {"", "{}", "[1]", R"([{"role": "eng"}])", R"([{"role": "eng", "weight": 0}])",
                   R"([{"role": "eng", "weight": 1e300}])", R"([{"role": "*", "weight": 1}])", "[]"}) {
    std::vector<std::pair<std::string, double>> out;
    CHECK_NOT_EQUAL(parse_weights(bad, out), "");
  }
  std::string role;
  quota_info q;
  CHECK_EQUAL(parse_quota(R"({"role": "eng", "guarantee": {"cpus": 1.5}, "limit": {"mem": 100}})", role, q), "");
  CHECK_EQUAL(role, "eng");
  CHECK_EQUAL(q.guarantee.scalar_value("cpus"), 1.5);
  CHECK_EQUAL(q.limit.scalar_value("mem"), 100.0);
  for (auto bad : {R"({"role": "eng"})", R"({"role": "eng", "guarantee": {"cpus": -1}})",
                   R"({"role": "eng", "guarantee": [{"name": "ports", "type": "RANGES"}]})", "nope",
                   R"({"guarantee": {"cpus": 1}})",
                   // A "type" that is not a string was an uncaught exception (found by scripts/fuzz http_bodies).
                   R"({"role": "ops", "guarantee": [{"name": "cpus", "type": {"value": 2}}]})",
                   R"({"role": "ops", "guarantee": [{"name": "cpus", "type": 1, "scalar": {"value": 2}}]})"}) {
    quota_info out;
    CHECK_NOT_EQUAL(parse_quota(bad, role, out), "");
  }
}

FIXTURE_SCOPE_END()
