#include "apps/mesoscaf/http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/evp.h>

#include <cctype>
#include <mutex>

namespace mesoscaf {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace asio = boost::asio;

std::string http_response::header(std::string_view name) const {
  for (const auto& [key, value] : headers)
    if (beast::iequals(key, beast::string_view{name.data(), name.size()}))
      return value;
  return {};
}

namespace {

struct client_settings {
  std::mutex mtx;
  std::string cert, key, ca;
  std::string authorization;
};

client_settings& settings() {
  static client_settings s;
  return s;
}

/// Connect (and for TLS, handshake), send, receive: one exchange on `stream` against one deadline.
template <class Stream>
std::string exchange(asio::io_context& io, Stream& stream, const asio::ip::tcp::resolver::results_type& endpoints,
                     http::verb method, const http_request& req, http_response& out, const http_limits& limits,
                     const std::string& authorization) {
  constexpr bool tls = !std::is_same_v<Stream, beast::tcp_stream>;
  auto where = req.host + ":" + std::to_string(req.port);
  beast::error_code ec;
  beast::get_lowest_layer(stream).expires_after(limits.timeout);
  // tcp_stream's deadline only applies to its asynchronous operations: run them on our own io_context.
  auto run = [&](auto&& start) {
    beast::error_code result = asio::error::would_block;
    start([&](beast::error_code e, auto&&...) { result = e; });
    io.restart();
    io.run();
    return result;
  };
  ec = run([&](auto handler) { beast::get_lowest_layer(stream).async_connect(endpoints, handler); });
  if (ec)
    return "cannot connect to " + where + ": " + (ec == beast::error::timeout ? "timed out" : ec.message());
  if constexpr (tls) {
    ec = run([&](auto handler) { stream.async_handshake(asio::ssl::stream_base::client, handler); });
    if (ec)
      return "TLS handshake with " + where + " failed: " + (ec == beast::error::timeout ? "timed out" : ec.message());
  }
  http::request<http::string_body> request{method, req.target, 11};
  request.set(http::field::host, where);
  request.set(http::field::user_agent, "mesoscaf");
  request.set(http::field::connection, "close");
  if (!authorization.empty())
    request.set(http::field::authorization, authorization);
  if (!req.body.empty() || method == http::verb::post || method == http::verb::put) {
    if (!req.content_type.empty())
      request.set(http::field::content_type, req.content_type);
    request.body() = req.body;
    request.prepare_payload();
  }
  ec = run([&](auto handler) { http::async_write(stream, request, handler); });
  if (ec)
    return "sending to " + where + " failed: " + (ec == beast::error::timeout ? "timed out" : ec.message());
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(limits.max_body);
  auto too_large = "the answer of " + where + " is larger than " + std::to_string(limits.max_body) + " bytes";
  // Boost 1.74's parser does not hold a Content-Length against the limit (only chunked bodies): check it here.
  ec = run([&](auto handler) { http::async_read_header(stream, buffer, parser, handler); });
  if (!ec && parser.content_length() && *parser.content_length() > limits.max_body)
    return too_large;
  if (!ec && !parser.is_done())
    ec = run([&](auto handler) { http::async_read(stream, buffer, parser, handler); });
  if (ec == http::error::body_limit)
    return too_large;
  if (ec)
    return "no answer from " + where + ": " + (ec == beast::error::timeout ? "timed out" : ec.message());
  auto& response = parser.get();
  out.status = static_cast<int>(response.result_int());
  out.reason = std::string{response.reason()};
  out.headers.clear();
  for (const auto& field : response)
    out.headers.emplace_back(std::string{field.name_string()}, std::string{field.value()});
  out.body = std::move(response.body());
  beast::get_lowest_layer(stream).socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  return {};
}

} // namespace

void use_http_client_tls(const std::string& cert, const std::string& key, const std::string& ca) {
  auto& s = settings();
  std::lock_guard<std::mutex> guard{s.mtx};
  s.cert = cert;
  s.key = key;
  s.ca = ca;
}

void use_http_client_authorization(const std::string& value) {
  auto& s = settings();
  std::lock_guard<std::mutex> guard{s.mtx};
  s.authorization = value;
}

std::string basic_authorization(const std::string& principal, const std::string& secret) {
  auto plain = principal + ":" + secret;
  std::string out(4 * ((plain.size() + 2) / 3) + 1, '\0');
  auto n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                           reinterpret_cast<const unsigned char*>(plain.data()), static_cast<int>(plain.size()));
  out.resize(static_cast<std::size_t>(n));
  return "Basic " + out;
}

std::string send_http(const http_request& req, http_response& out, const http_limits& limits) {
  auto method = http::string_to_verb(req.method);
  if (method == http::verb::unknown)
    return "unknown HTTP method " + req.method;
  std::string cert, key, ca, authorization;
  {
    auto& s = settings();
    std::lock_guard<std::mutex> guard{s.mtx};
    cert = s.cert;
    key = s.key;
    ca = s.ca;
    authorization = s.authorization;
  }
  asio::io_context io;
  beast::error_code ec;
  // The resolver is synchronous but local (numeric IPs mostly).
  asio::ip::tcp::resolver resolver{io};
  auto endpoints = resolver.resolve(req.host, std::to_string(req.port), ec);
  if (ec)
    return "cannot resolve " + req.host + ": " + ec.message();
  if (ca.empty()) {
    beast::tcp_stream stream{io};
    return exchange(io, stream, endpoints, method, req, out, limits, authorization);
  }
  // The server must present a certificate of the cluster's CA; ours names us (no host name check: as between
  // the daemons, identity is "signed by our CA").
  asio::ssl::context ctx{asio::ssl::context::tls_client};
  ctx.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_tlsv1
                  | asio::ssl::context::no_tlsv1_1);
  ctx.load_verify_file(ca, ec);
  if (!ec && !cert.empty())
    ctx.use_certificate_chain_file(cert, ec);
  if (!ec && !key.empty())
    ctx.use_private_key_file(key, asio::ssl::context::pem, ec);
  if (!ec)
    ctx.set_verify_mode(asio::ssl::verify_peer, ec);
  if (ec)
    return "cannot set up TLS with " + ca + ": " + ec.message();
  beast::ssl_stream<beast::tcp_stream> stream{io, ctx};
  return exchange(io, stream, endpoints, method, req, out, limits, authorization);
}

std::string percent_encode(std::string_view text, bool keep_slash) {
  static const char* hex = "0123456789ABCDEF";
  std::string result;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      result += static_cast<char>(c);
    } else {
      result += '%';
      result += hex[c >> 4];
      result += hex[c & 15];
    }
  }
  return result;
}

} // namespace mesoscaf
