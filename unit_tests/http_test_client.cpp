#include "http_test_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <cctype>

namespace mesoscaf::test {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = boost::asio::ip::tcp;

http_reply http_request(const std::string& method, const std::string& endpoint, const std::string& target,
                        const std::string& body, const std::string& content_type,
                        std::chrono::milliseconds timeout, const std::map<std::string, std::string>& headers) {
  http_reply out;
  auto colon = endpoint.rfind(':');
  if (colon == std::string::npos) {
    out.error = "endpoint must be IP:PORT";
    return out;
  }
  try {
    boost::asio::io_context ioc;
    tcp::resolver resolver{ioc};
    beast::tcp_stream stream{ioc};
    stream.expires_after(timeout);
    stream.connect(resolver.resolve(endpoint.substr(0, colon), endpoint.substr(colon + 1)));
    bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method), target, 11};
    req.set(bhttp::field::host, endpoint);
    req.set(bhttp::field::connection, "close");
    for (auto& [name, value] : headers)
      req.set(name, value);
    if (!body.empty() || method == "POST" || method == "PUT") {
      req.set(bhttp::field::content_type, content_type);
      req.body() = body;
      req.prepare_payload();
    }
    bhttp::write(stream, req);
    beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(512 * 1024 * 1024);
    bhttp::read(stream, buffer, parser);
    auto& res = parser.get();
    out.status = static_cast<int>(res.result_int());
    out.body = res.body();
    for (auto& f : res) {
      std::string name{f.name_string()};
      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
      out.headers[name] = std::string{f.value()};
    }
  } catch (const std::exception& e) {
    out.status = 0;
    out.error = e.what();
  }
  return out;
}

struct http_connection::impl {
  std::string endpoint;
  std::chrono::milliseconds timeout;
  boost::asio::io_context ioc;
  std::unique_ptr<beast::tcp_stream> stream;
  beast::flat_buffer buffer;

  void connect() {
    auto colon = endpoint.rfind(':');
    tcp::resolver resolver{ioc};
    stream = std::make_unique<beast::tcp_stream>(ioc);
    stream->expires_after(timeout);
    stream->connect(resolver.resolve(endpoint.substr(0, colon), endpoint.substr(colon + 1)));
    buffer.clear();
  }
};

http_connection::http_connection(std::string endpoint, std::chrono::milliseconds timeout)
  : impl_(std::make_unique<impl>()) {
  impl_->endpoint = std::move(endpoint);
  impl_->timeout = timeout;
}

http_connection::~http_connection() = default;

http_reply http_connection::request(const std::string& method, const std::string& target, const std::string& body,
                                    const std::string& content_type,
                                    const std::map<std::string, std::string>& headers) {
  auto& d = *impl_;
  http_reply out;
  for (int attempt = 0; attempt < 2; ++attempt) {
    try {
      if (!d.stream)
        d.connect();
      bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method), target, 11};
      req.set(bhttp::field::host, d.endpoint);
      req.keep_alive(true);
      for (auto& [name, value] : headers)
        req.set(name, value);
      req.set(bhttp::field::content_type, content_type);
      req.body() = body;
      req.prepare_payload();
      d.stream->expires_after(d.timeout);
      bhttp::write(*d.stream, req);
      bhttp::response_parser<bhttp::string_body> parser;
      parser.body_limit(64 * 1024 * 1024);
      bhttp::read(*d.stream, d.buffer, parser);
      auto& res = parser.get();
      out.status = static_cast<int>(res.result_int());
      out.body = res.body();
      if (!res.keep_alive())
        d.stream.reset();
      return out;
    } catch (const std::exception& e) {
      d.stream.reset();
      out.status = 0;
      out.error = e.what();
    }
  }
  return out;
}

struct http_stream::impl {
  boost::asio::io_context ioc;
  beast::tcp_stream stream{ioc};
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::buffer_body> parser;
  int status = 0;
  std::map<std::string, std::string> headers;
  std::string error;
  bool open = false;
};

http_stream::http_stream(const std::string& endpoint, const std::string& target, const std::string& body,
                         const std::string& content_type, const std::map<std::string, std::string>& headers,
                         std::chrono::milliseconds timeout)
  : impl_(std::make_unique<impl>()) {
  auto& d = *impl_;
  auto colon = endpoint.rfind(':');
  try {
    tcp::resolver resolver{d.ioc};
    d.stream.expires_after(timeout);
    d.stream.connect(resolver.resolve(endpoint.substr(0, colon), endpoint.substr(colon + 1)));
    bhttp::request<bhttp::string_body> req{bhttp::verb::post, target, 11};
    req.set(bhttp::field::host, endpoint);
    req.set(bhttp::field::content_type, content_type);
    for (auto& [name, value] : headers)
      req.set(name, value);
    req.body() = body;
    req.prepare_payload();
    bhttp::write(d.stream, req);
    d.parser.body_limit(boost::none);
    bhttp::read_header(d.stream, d.buffer, d.parser);
    auto& res = d.parser.get();
    d.status = static_cast<int>(res.result_int());
    for (auto& f : res) {
      std::string name{f.name_string()};
      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
      d.headers[name] = std::string{f.value()};
    }
    d.open = true;
  } catch (const std::exception& e) {
    d.error = e.what();
  }
}

http_stream::~http_stream() {
  close();
}

int http_stream::status() const {
  return impl_->status;
}

const std::map<std::string, std::string>& http_stream::headers() const {
  return impl_->headers;
}

const std::string& http_stream::error() const {
  return impl_->error;
}

std::string http_stream::read_some(std::chrono::milliseconds timeout) {
  auto& d = *impl_;
  char buf[64 * 1024];
  d.stream.expires_after(timeout);
  // A read may consume only framing (a chunk header): go on until body bytes arrive or the body ends.
  while (d.open && !d.parser.is_done()) {
    auto& body = d.parser.get().body();
    body.data = buf;
    body.size = sizeof buf;
    beast::error_code ec;
    bhttp::read_some(d.stream, d.buffer, d.parser, ec);
    if (ec && ec != bhttp::error::need_buffer) {
      d.error = ec.message();
      d.open = false;
      return {};
    }
    auto n = sizeof buf - body.size;
    if (n > 0)
      return std::string(buf, n);
  }
  return {};
}

void http_stream::close() {
  auto& d = *impl_;
  if (!d.open)
    return;
  d.open = false;
  beast::error_code ignored;
  d.stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  d.stream.close();
}

} // namespace mesoscaf::test
