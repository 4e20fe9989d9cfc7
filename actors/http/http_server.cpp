#include "actors/http/http_server.hpp"

#include "actors/http/body_buffers.hpp"
#include "actors/http/event_stream.hpp"
#include "actors/tls.hpp"
#include "config/support/certificate_name.hpp"

#include <fcntl.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <tuple>
#include <atomic>
#include <map>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace mesoscaf::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

struct route_table {
  std::map<std::pair<std::string, std::string>, handler> exact;          // (method, path)
  std::vector<std::tuple<std::string, std::string, handler>> prefixes;   // (method, prefix), longest first

  const handler* find(const std::string& method, const std::string& path) const {
    for (auto m : {method, std::string{"*"}})
      if (auto i = exact.find({m, path}); i != exact.end())
        return &i->second;
    for (auto& [m, prefix, h] : prefixes)
      if ((m == method || m == "*") && path.compare(0, prefix.size(), prefix) == 0)
        return &h;
    return nullptr;
  }
};

response run_handler(const route_table& routes, const request& req) {
  auto h = routes.find(req.method, req.path);
  if (h == nullptr) {
    // A known path with another method is 405, as the RFC asks; anything else 404.
    for (auto& [key, ignored] : routes.exact)
      if (key.second == req.path)
        return response::error(405, req.method + " is not allowed on " + req.path);
    return response::error(404, "no such endpoint: " + req.path);
  }
  try {
    return (*h)(req);
  } catch (const std::exception& e) {
    return response::error(500, std::string{"internal error: "} + e.what());
  }
}

} // namespace

struct server::impl {
  server_options opts;
  route_table routes;
  asio::io_context ioc{1};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::optional<tcp::acceptor> acceptor;
  asio::io_context pool{1};   // the handlers' queue, run by `handler_threads`
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> pool_work;
  std::vector<std::thread> handlers;
  std::thread io_thread;
  std::atomic<std::size_t> connections{0};
  std::atomic<bool> stopping{false};
  uint16_t bound_port = 0;
  /// server_options::tls: the context every TLS connection uses (made in start()).
  std::optional<asio::ssl::context> ssl;

  explicit impl(server_options o) : opts(std::move(o)) {}

  void accept();
};

namespace {

/// The principal of a verified client certificate on this TLS stream (its subject CN), if one was presented.
std::optional<std::string> client_certificate_principal(SSL* ssl) {
  if (ssl == nullptr || SSL_get_verify_result(ssl) != X509_V_OK)
    return std::nullopt;
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (cert == nullptr)
    return std::nullopt;
  auto name = common_name_of(cert);
  X509_free(cert);
  if (name.empty())
    return std::nullopt;
  return name;
}

/// One connection: plaintext (`beast::tcp_stream`) or TLS (`beast::ssl_stream<beast::tcp_stream>`).
template <class Stream>
class session : public std::enable_shared_from_this<session<Stream>> {
public:
  static constexpr bool tls = !std::is_same_v<Stream, beast::tcp_stream>;

  template <class... Ts>
  session(server::impl& owner, tcp::socket socket, Ts&... ctx) : stream_(std::move(socket), ctx...), owner_(owner) {
    ++owner_.connections;
    beast::error_code ec;
    auto ep = socket_().remote_endpoint(ec);
    if (!ec)
      peer_ = ep.address().to_string() + ":" + std::to_string(ep.port());
  }
  ~session() {
    if (events_)
      events_->detach();
    --owner_.connections;
  }

  void start() {
    if constexpr (tls) {
      // The handshake has the request's deadline: a client that stalls in it is closed like a slow request.
      beast::get_lowest_layer(stream_).expires_after(owner_.opts.header_timeout);
      stream_.async_handshake(asio::ssl::stream_base::server, [self = this->shared_from_this()](beast::error_code ec) {
        if (ec)
          return self->close();
        self->cert_principal_ = client_certificate_principal(self->stream_.native_handle());
        self->read();
      });
    } else {
      read();
    }
  }

private:
  tcp::socket& socket_() { return beast::get_lowest_layer(stream_).socket(); }

  void read() {
    parser_.emplace();
    parser_->header_limit(16 * 1024);
    parser_->body_limit(owner_.opts.max_body_bytes);
    // One deadline for the whole request (header and body): a client trickling bytes cannot hold the
    // connection longer than this.
    beast::get_lowest_layer(stream_).expires_after(owner_.opts.header_timeout);
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = this->shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec == bhttp::error::body_limit) {
      keep_alive_ = false;
      drain_ = true;
      return write(response::error(413, "request body larger than "
                                            + std::to_string(owner_.opts.max_body_bytes) + " bytes"));
    }
    if (ec == bhttp::error::header_limit) {
      keep_alive_ = false;
      drain_ = true;
      return write(response::error(431, "request header too large"));
    }
    if (ec)
      return close();
    auto& msg = parser_->get();
    keep_alive_ = msg.keep_alive();
    version_ = msg.version();
    request req;
    req.method = std::string{msg.method_string()};
    auto target = std::string{msg.target()};
    auto q = target.find('?');
    req.path = url_decode(target.substr(0, q), false);
    if (q != std::string::npos)
      req.query = parse_query(target.substr(q + 1));
    for (auto& field : msg) {
      std::string name{field.name_string()};
      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
      // A repeated header (two Accept lines) is the list of both, as RFC 9110 combines them.
      auto [it, fresh] = req.headers.emplace(name, std::string{field.value()});
      if (!fresh)
        it->second += ", " + std::string{field.value()};
    }
    req.body = std::move(msg.body());
    req.peer = peer_;
    req.principal = cert_principal_;
    if (auto refusal = authenticate(req))
      return write(std::move(*refusal));
    // The handler may block (an actor request with a timeout): it runs on the pool, never on the I/O thread.
    beast::get_lowest_layer(stream_).expires_never();
    asio::post(owner_.pool, [self = this->shared_from_this(), req = std::move(req)] {
      auto res = run_handler(self->owner_.routes, req);
      asio::post(self->stream_.get_executor(), [self, res = std::move(res)]() mutable { self->write(std::move(res)); });
    });
  }

  /// Fills req.principal from the Authorization header; a refusal (401) if the credentials are wrong, or missing
  /// on a path that is not public.
  std::optional<response> authenticate(request& req) {
    const auto& creds = owner_.opts.credentials;
    if (!creds || !creds->configured())
      return std::nullopt;
    // Executors present the token their agent gave them, which only that route can check
    // (actors/http/v1_executor_api.cpp); it is not a principal of --credentials.
    if (req.path == "/api/v1/executor")
      return std::nullopt;
    auto refuse = [](const std::string& why) {
      auto res = response::error(401, why);
      res.headers.emplace_back("WWW-Authenticate", "Basic realm=\"mesoscaf\"");
      return res;
    };
    if (auto h = req.headers.find("authorization"); h != req.headers.end()) {
      req.principal = creds->authenticate(h->second);
      if (!req.principal)
        return refuse("wrong credentials (--credentials: Basic principal:secret or Bearer secret)");
      return std::nullopt;
    }
    if (req.principal)
      return std::nullopt;   // a client certificate of the cluster's CA
    static const char* open_paths[] = {"/health", "/version", "/master/redirect", "/", "/index.html"};
    for (auto p : open_paths)
      if (req.path == p)
        return std::nullopt;
    if (req.path.rfind("/static/", 0) == 0)
      return std::nullopt;
    return refuse("authentication required (--credentials)");
  }

  void write(response res) {
    if (res.stream)
      return write_stream(std::move(res));
    auto out = std::make_shared<bhttp::response<bhttp::string_body>>(static_cast<bhttp::status>(res.status),
                                                                      version_ ? version_ : 11);
    out->set(bhttp::field::server, owner_.opts.server_name);
    out->set(bhttp::field::content_type, res.content_type);
    for (auto& [name, value] : res.headers)
      out->set(name, value);
    out->keep_alive(keep_alive_ && !owner_.stopping);
    out->body() = std::move(res.body);
    out->prepare_payload();
    beast::get_lowest_layer(stream_).expires_after(owner_.opts.write_timeout);
    bhttp::async_write(stream_, *out, [self = this->shared_from_this(), out](beast::error_code ec, std::size_t) {
      return_body_buffer(std::move(out->body()));
      if (!ec && self->drain_)
        return self->drain();
      if (ec || !out->keep_alive())
        return self->close();
      self->read();
    });
  }

  // -- a streamed response (event_stream): chunked, until the stream finishes or the client leaves ----------

  void write_stream(response res) {
    events_ = std::move(res.stream);
    if (version_ < 11) {
      // Chunks need HTTP/1.1; an HTTP/1.0 client cannot follow a stream.
      events_->detach();
      events_.reset();
      keep_alive_ = false;
      return write(response::error(505, "streamed responses need HTTP/1.1"));
    }
    auto head = std::make_shared<bhttp::response<bhttp::empty_body>>(static_cast<bhttp::status>(res.status),
                                                                      version_ ? version_ : 11);
    head->set(bhttp::field::server, owner_.opts.server_name);
    head->set(bhttp::field::content_type, res.content_type);
    for (auto& [name, value] : res.headers)
      head->set(name, value);
    head->keep_alive(false);
    head->chunked(true);
    auto sr = std::make_shared<bhttp::response_serializer<bhttp::empty_body>>(*head);
    // The stream's own timer bounds each write; the connection's deadline would also end the idle read below.
    beast::get_lowest_layer(stream_).expires_never();
    write_timer_.emplace(stream_.get_executor());
    writing_ = true;
    arm_write_timer();
    bhttp::async_write_header(stream_, *sr, [self = this->shared_from_this(), head, sr](beast::error_code ec, std::size_t) {
      self->writing_ = false;
      self->write_timer_->cancel();
      ++self->write_generation_;
      if (ec)
        return self->end_stream();
      self->watch_client();
      std::weak_ptr<session> weak = self;
      self->events_->attach([weak, exec = self->stream_.get_executor()] {
        asio::post(exec, [weak] {
          if (auto s = weak.lock())
            s->pump();
        });
      });
    });
  }

  void arm_write_timer() {
    write_timer_->expires_after(owner_.opts.write_timeout);
    std::weak_ptr<session> weak = this->shared_from_this();
    // A write that completes just as the timer fires cannot cancel its handler: the generation tells them apart.
    auto generation = ++write_generation_;
    write_timer_->async_wait([weak, generation](beast::error_code ec) {
      if (ec)
        return;   // cancelled: the write completed
      if (auto s = weak.lock(); s && s->write_generation_ == generation && s->writing_)
        s->end_stream();   // a client that stopped reading
    });
  }

  void pump() {
    if (writing_ || done_ || !events_)
      return;
    auto data = std::make_shared<std::string>();
    bool finished = false;
    events_->take(*data, finished);
    if (data->empty()) {
      if (finished)
        finish_stream();
      return;
    }
    writing_ = true;
    arm_write_timer();
    asio::async_write(stream_, bhttp::make_chunk(asio::buffer(*data)),
                      [self = this->shared_from_this(), data, finished](beast::error_code ec, std::size_t) {
                        self->writing_ = false;
                        self->write_timer_->cancel();
                        ++self->write_generation_;
                        if (ec)
                          return self->end_stream();
                        if (finished)
                          return self->finish_stream();
                        self->pump();
                      });
  }

  void finish_stream() {
    if (done_)
      return;
    writing_ = true;
    arm_write_timer();
    asio::async_write(stream_, bhttp::make_chunk_last(), [self = this->shared_from_this()](beast::error_code, std::size_t) {
      self->write_timer_->cancel();
      self->end_stream();
    });
  }

  /// Reads (and drops) whatever the client sends while its stream is open: the read failing is how a
  /// disconnect shows.
  void watch_client() {
    stream_.async_read_some(asio::buffer(scratch_), [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec)
        return self->end_stream();
      self->watch_client();
    });
  }

  void end_stream() {
    if (done_)
      return;
    done_ = true;
    if (events_)
      events_->detach();
    close();
  }

  /// After refusing a request whose body is still arriving: stop sending, then read and drop what the client
  /// still sends (bounded in time) before closing. Closing at once would reset the connection, and the client,
  /// still writing, could lose the answer that says why.
  void drain() {
    beast::error_code ignored;
    socket_().shutdown(tcp::socket::shutdown_send, ignored);
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(5));
    discard();
  }

  void discard() {
    stream_.async_read_some(asio::buffer(scratch_), [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec)
        return self->close();
      self->discard();
    });
  }

  void close() {
    beast::error_code ignored;
    socket_().shutdown(tcp::socket::shutdown_both, ignored);
    socket_().close(ignored);
  }

  Stream stream_;
  server::impl& owner_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  bool keep_alive_ = false;
  bool drain_ = false;
  char scratch_[16 * 1024];
  unsigned version_ = 11;
  std::string peer_;
  std::optional<std::string> cert_principal_;
  std::shared_ptr<event_stream> events_;          // a streamed response's source
  std::optional<asio::steady_timer> write_timer_;  // bounds each write of a streamed response
  bool writing_ = false;
  bool done_ = false;
  uint64_t write_generation_ = 0;   // of the armed write timer
};

} // namespace

void server::impl::accept() {
  acceptor->async_accept(ioc, [this](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || stopping)
      return;
    if (!ec) {
      if (connections.load() >= opts.max_connections) {
        beast::error_code ignored;
        socket.close(ignored);  // over the bound: refused at once, costs nothing more
      } else {
        if (ssl)
          std::make_shared<session<beast::ssl_stream<beast::tcp_stream>>>(*this, std::move(socket), *ssl)->start();
        else
          std::make_shared<session<beast::tcp_stream>>(*this, std::move(socket))->start();
      }
    }
    // Out of descriptors (EMFILE) and other accept errors: keep accepting; the loop must not end.
    accept();
  });
}

server::server(server_options opts) : impl_(std::make_unique<impl>(std::move(opts))) {}

server::~server() {
  stop();
}

void server::route(const std::string& method, const std::string& path, handler h) {
  impl_->routes.exact[{method, path}] = std::move(h);
}

void server::route_prefix(const std::string& method, const std::string& prefix, handler h) {
  auto& p = impl_->routes.prefixes;
  p.emplace_back(method, prefix, std::move(h));
  std::stable_sort(p.begin(), p.end(),
                   [](auto& a, auto& b) { return std::get<1>(a).size() > std::get<1>(b).size(); });
}

std::string server::start() {
  auto& d = *impl_;
  beast::error_code ec;
  if (!d.opts.tls_cert.empty()) {
    // TLS 1.2 and up with the daemon's certificate; client certificates of the CA are asked for, not required
    // (browsers and curl authenticate with credentials instead), and name the request's principal.
    d.ssl.emplace(asio::ssl::context::tls_server);
    d.ssl->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2
                         | asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1,
                       ec);
    if (!ec)
      d.ssl->use_certificate_chain_file(d.opts.tls_cert, ec);
    if (!ec)
      d.ssl->use_private_key_file(d.opts.tls_key, asio::ssl::context::pem, ec);
    if (!ec)
      d.ssl->load_verify_file(d.opts.tls_ca, ec);
    if (!ec)
      d.ssl->set_verify_mode(asio::ssl::verify_peer, ec);
    if (ec) {
      d.ssl.reset();
      return "cannot set up HTTPS with " + d.opts.tls_cert + ": " + ec.message();
    }
  }
  auto addr = asio::ip::make_address(d.opts.address, ec);
  if (ec)
    return "bad HTTP address " + d.opts.address + ": " + ec.message();
  tcp::endpoint ep{addr, d.opts.port};
  d.acceptor.emplace(d.ioc);
  d.acceptor->open(ep.protocol(), ec);
  if (!ec)
    d.acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec)
    d.acceptor->bind(ep, ec);
  if (!ec)
    d.acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    d.acceptor.reset();
    return "cannot listen for HTTP on " + d.opts.address + ":" + std::to_string(d.opts.port) + ": " + ec.message();
  }
  // Not inherited by the processes the daemon starts: an executor that outlives its agent would hold the port.
  ::fcntl(d.acceptor->native_handle(), F_SETFD, FD_CLOEXEC);
  d.bound_port = d.acceptor->local_endpoint().port();
  d.pool_work.emplace(d.pool.get_executor());
  for (std::size_t i = 0; i < std::max<std::size_t>(d.opts.handler_threads, 1); ++i)
    d.handlers.emplace_back([&d] {
      if (d.opts.handler_nice != 0)
        ::setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), d.opts.handler_nice);
      d.pool.run();
    });
  d.work.emplace(d.ioc.get_executor());
  d.accept();
  d.io_thread = std::thread{[&d] {
    // Sending a large answer is kernel work on this thread: it yields to the daemon's actors too.
    if (d.opts.handler_nice != 0)
      ::setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), d.opts.handler_nice);
    d.ioc.run();
  }};
  return {};
}

void server::stop() {
  auto& d = *impl_;
  if (!d.io_thread.joinable())
    return;
  d.stopping = true;
  asio::post(d.ioc, [&d] {
    beast::error_code ignored;
    d.acceptor->close(ignored);
  });
  // Handlers finish (their actor requests have timeouts); then the I/O loop ends with every connection.
  d.pool_work.reset();
  for (auto& t : d.handlers)
    t.join();
  d.handlers.clear();
  d.work.reset();
  d.ioc.stop();
  d.io_thread.join();
}

uint16_t server::port() const {
  return impl_->bound_port;
}

const std::string& server::address() const {
  return impl_->opts.address;
}

std::size_t server::open_connections() const {
  return impl_->connections.load();
}

// -- request / response helpers --------------------------------------------------------------------------------

std::string request::param(const std::string& key, const std::string& fallback) const {
  auto i = query.find(key);
  return i == query.end() ? fallback : i->second;
}

response response::json(std::string body, int status) {
  response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

response response::text(std::string body, int status) {
  response r;
  r.status = status;
  r.content_type = "text/plain; charset=utf-8";
  r.body = std::move(body);
  return r;
}

response response::error(int status, const std::string& message) {
  // Escaped by hand for one string field: the JSON library is not needed for this (the message is ours).
  std::string out = "{\"error\":\"";
  for (unsigned char c : message) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  out += "\"}";
  return json(std::move(out), status);
}

std::string url_decode(const std::string& text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9')
      return c - '0';
    if (c >= 'a' && c <= 'f')
      return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
      return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%' && i + 2 < text.size() && hex(text[i + 1]) >= 0 && hex(text[i + 2]) >= 0) {
      out += static_cast<char>(hex(text[i + 1]) * 16 + hex(text[i + 2]));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

std::map<std::string, std::string> parse_query(const std::string& text) {
  std::map<std::string, std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find('&', start);
    if (end == std::string::npos)
      end = text.size();
    auto part = text.substr(start, end - start);
    if (!part.empty()) {
      auto eq = part.find('=');
      auto key = url_decode(part.substr(0, eq), true);
      auto value = eq == std::string::npos ? std::string{} : url_decode(part.substr(eq + 1), true);
      out[key] = value;
    }
    start = end + 1;
  }
  return out;
}

} // namespace mesoscaf::http
