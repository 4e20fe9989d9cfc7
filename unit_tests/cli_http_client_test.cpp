// The CLI's HTTP client against a canned server on a local socket: status, headers and body come back, the
// request carries its method, target and body, a body over the limit and a silent server are errors.
#define CAF_SUITE cli_http_client
#include "test.hpp"

#include "apps/mesoscaf/http_client.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <thread>

using namespace mesoscaf;
namespace asio = boost::asio;

namespace {

/// Accepts one connection on a free local port, keeps the request's head (and `Content-Length` bytes of body)
/// and answers `response` (nothing if empty, holding the connection until the client leaves).
class canned_server {
public:
  explicit canned_server(std::string response)
    : acceptor_(io_, asio::ip::tcp::endpoint{asio::ip::make_address("127.0.0.1"), 0}),
      response_(std::move(response)) {
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread{[this] { serve(); }};
  }

  ~canned_server() {
    if (thread_.joinable())
      thread_.join();
  }

  uint16_t port() const { return port_; }

  /// What the client sent (valid after the exchange).
  std::string request() {
    if (thread_.joinable())
      thread_.join();
    return request_;
  }

private:
  void serve() {
    boost::system::error_code ec;
    asio::ip::tcp::socket socket{io_};
    acceptor_.accept(socket, ec);
    if (ec)
      return;
    asio::streambuf buf;
    auto n = asio::read_until(socket, buf, "\r\n\r\n", ec);
    std::string data{asio::buffers_begin(buf.data()), asio::buffers_end(buf.data())};
    auto head = data.substr(0, n);
    auto pos = head.find("Content-Length: ");
    if (pos != std::string::npos) {
      auto length = std::stoul(head.substr(pos + 16));
      if (data.size() < n + length)
        asio::read(socket, buf, asio::transfer_exactly(n + length - data.size()), ec);
      data.assign(asio::buffers_begin(buf.data()), asio::buffers_end(buf.data()));
    }
    request_ = data;
    if (response_.empty()) {
      char c;
      socket.read_some(asio::buffer(&c, 1), ec);   // until the client gives up and closes
      return;
    }
    asio::write(socket, asio::buffer(response_), ec);
  }

  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  std::string response_;
  uint16_t port_ = 0;
  std::string request_;
  std::thread thread_;
};

http_request request_to(uint16_t port, std::string method, std::string target) {
  http_request req;
  req.method = std::move(method);
  req.host = "127.0.0.1";
  req.port = port;
  req.target = std::move(target);
  return req;
}

} // namespace

TEST(status headers and body come back) {
  canned_server server{"HTTP/1.1 307 Temporary Redirect\r\nLocation: //10.0.0.1:5040\r\nContent-Length: 2\r\n"
                       "\r\nok"};
  http_response r;
  CHECK_EQUAL(send_http(request_to(server.port(), "GET", "/master/redirect"), r), "");
  CHECK_EQUAL(r.status, 307);
  CHECK_EQUAL(r.reason, "Temporary Redirect");
  CHECK_EQUAL(r.header("location"), "//10.0.0.1:5040");
  CHECK_EQUAL(r.body, "ok");
  CHECK_EQUAL(server.request().rfind("GET /master/redirect HTTP/1.1\r\n", 0), 0u);
}

TEST(a PUT carries its body and content type) {
  canned_server server{"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"};
  auto req = request_to(server.port(), "PUT", "/weights");
  req.body = R"([{"role":"eng","weight":2}])";
  req.content_type = "application/json";
  http_response r;
  CHECK_EQUAL(send_http(req, r), "");
  CHECK_EQUAL(r.status, 200);
  auto sent = server.request();
  MESSAGE(sent);
  CHECK_EQUAL(sent.rfind("PUT /weights HTTP/1.1\r\n", 0), 0u);
  CHECK_NOT_EQUAL(sent.find("Content-Type: application/json\r\n"), std::string::npos);
  CHECK_NOT_EQUAL(sent.find("\r\n\r\n" + req.body), std::string::npos);
}

TEST(a body over the limit is an error) {
  canned_server server{"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + std::string(100, 'x')};
  http_response r;
  http_limits limits;
  limits.max_body = 10;
  auto err = send_http(request_to(server.port(), "GET", "/state"), r, limits);
  MESSAGE(err);
  CHECK_NOT_EQUAL(err.find("larger than 10 bytes"), std::string::npos);
}

TEST(a server that never answers runs into the deadline) {
  canned_server server{""};
  http_response r;
  http_limits limits;
  limits.timeout = std::chrono::milliseconds(200);
  auto err = send_http(request_to(server.port(), "GET", "/state"), r, limits);
  MESSAGE(err);
  CHECK_NOT_EQUAL(err.find("timed out"), std::string::npos);
}

TEST(a closed port and a bad method are errors) {
  uint16_t port = 0;
  {
    asio::io_context io;
    asio::ip::tcp::acceptor a{io, asio::ip::tcp::endpoint{asio::ip::make_address("127.0.0.1"), 0}};
    port = a.local_endpoint().port();
  }
  http_response r;
  auto err = send_http(request_to(port, "GET", "/"), r);
  MESSAGE(err);
  CHECK_NOT_EQUAL(err.find("cannot connect to 127.0.0.1:" + std::to_string(port)), std::string::npos);
  CHECK_NOT_EQUAL(send_http(request_to(port, "FETCH", "/"), r), "");
}
