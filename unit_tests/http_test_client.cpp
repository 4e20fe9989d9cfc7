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

} // namespace mesoscaf::test
