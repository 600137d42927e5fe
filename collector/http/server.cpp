#include "collector/http/server.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>

#include <atomic>
#include <chrono>
#include <limits>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/log.h"

namespace ss::collector::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

constexpr size_t kHeaderLimit = 64 << 10;
constexpr auto kLingerTime = std::chrono::seconds(2);  // reading what a refused client still sends

std::chrono::milliseconds ms(int64_t v) { return std::chrono::milliseconds(v); }

// Why connections end, as the `reason` label of stormscope_collector_http_connections_closed_total.
enum class Closed { client, idle, header_timeout, body_timeout, write_timeout, bad_request, refused, keepalive_max,
                    limit, shutdown, error, count_ };
constexpr const char* kClosedNames[] = {"client",    "idle",         "header_timeout", "body_timeout",
                                        "write_timeout", "bad_request", "refused",        "keepalive_max",
                                        "limit",     "shutdown",     "error"};

class SessionBase {
 public:
  virtual ~SessionBase() = default;
  virtual void shutdown() = 0;  // from stop(): close unless a request is being answered
};

}  // namespace

struct Server::Impl {
  ServerOptions o;
  Application* app = nullptr;  // from serve()
  net::io_context ioc;
  tcp::acceptor acceptor{ioc};
  net::steady_timer accept_retry{ioc};
  // Keeps the network threads running while a request is with a worker and nothing else is pending
  // (during stop(), once the acceptor is closed).
  net::executor_work_guard<net::io_context::executor_type> work{ioc.get_executor()};
  std::optional<net::thread_pool> workers;
  std::vector<std::thread> threads;
  std::atomic<bool> stopping{false};
  bool stopped = false;
  int port = 0;

  std::mutex mu;
  std::unordered_map<SessionBase*, std::weak_ptr<SessionBase>> sessions;

  prometheus::Gauge& open;
  prometheus::Counter& accepted;
  std::vector<prometheus::Counter*> closed;

  Impl(const ServerOptions& options, prometheus::Registry& registry)
      : o(options),
        open(prometheus::BuildGauge()
                 .Name("stormscope_collector_http_connections")
                 .Help("HTTP connections open now.")
                 .Register(registry)
                 .Add({})),
        accepted(prometheus::BuildCounter()
                     .Name("stormscope_collector_http_connections_accepted_total")
                     .Help("HTTP connections accepted.")
                     .Register(registry)
                     .Add({})) {
    auto& family = prometheus::BuildCounter()
                       .Name("stormscope_collector_http_connections_closed_total")
                       .Help("HTTP connections closed, by reason (client, idle, header_timeout, body_timeout, "
                             "write_timeout, bad_request, refused, keepalive_max, limit, shutdown, error).")
                       .Register(registry);
    for (const char* name : kClosedNames) closed.push_back(&family.Add({{"reason", name}}));
  }

  void count_closed(Closed why) { closed[static_cast<size_t>(why)]->Increment(); }
  void accept();
  void on_accept(beast::error_code ec, tcp::socket socket);
};

namespace {

template <class Stream>
class Session final : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  Session(Server::Impl& srv, tcp::socket&& socket) : srv_(srv), stream_(std::move(socket)) {
    beast::error_code ec;
    auto peer = beast::get_lowest_layer(stream_).socket().remote_endpoint(ec);
    if (!ec) remote_ = peer.address().to_string() + ":" + std::to_string(peer.port());
  }

  void run() {
    net::dispatch(stream_.get_executor(), [self = this->shared_from_this()] {
      self->deadline_ = Clock::now() + ms(self->srv_.o.header_timeout_ms);
      self->wait_for_request();
    });
  }

  void shutdown() override {
    net::post(stream_.get_executor(), [self = this->shared_from_this()] {
      if (!self->busy_) self->close(Closed::shutdown);
    });
  }

 private:
  auto& socket() { return beast::get_lowest_layer(stream_).socket(); }
  auto self() { return this->shared_from_this(); }

  // Between requests: wait for a first byte (idle deadline, or the header deadline on a new connection).
  void wait_for_request() {
    if (srv_.stopping) return close(Closed::shutdown);
    if (buffer_.size() > 0) return read_header();
    beast::get_lowest_layer(stream_).expires_at(deadline_);
    stream_.async_read_some(buffer_.prepare(4096), [self = self()](beast::error_code ec, size_t n) {
      if (self->closed_) return;
      if (ec == beast::error::timeout) return self->close(self->served_ == 0 ? Closed::header_timeout : Closed::idle);
      if (ec) return self->close(ec == net::error::eof ? Closed::client : Closed::error);
      self->buffer_.commit(n);
      if (self->served_ > 0) self->deadline_ = Clock::now() + ms(self->srv_.o.header_timeout_ms);
      self->read_header();
    });
  }

  void read_header() {
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(std::numeric_limits<std::uint64_t>::max());  // set once the route is known
    beast::get_lowest_layer(stream_).expires_at(deadline_);
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             [self = self()](beast::error_code ec, size_t) { self->on_header(ec); });
  }

  void on_header(beast::error_code ec) {
    if (closed_) return;
    if (ec == beast::error::timeout) return close(Closed::header_timeout);
    if (ec == bhttp::error::end_of_stream || ec == net::error::eof || ec == net::error::connection_reset)
      return close(Closed::client);
    if (ec) {
      if (ec == net::error::operation_aborted || ec.category() == net::error::get_system_category())
        return close(Closed::error);
      return refuse(ec == bhttp::error::header_limit ? 431 : 400, "malformed request: " + ec.message(),
                    Closed::bad_request);
    }
    auto& h = parser_->get();
    req_ = Request{};
    req_.method = std::string(h.method_string());
    req_.target = std::string(h.target());
    req_.remote = remote_;
    if (!parse_target(req_.target, req_.path, req_.params))
      return refuse(400, "malformed request target", Closed::bad_request);
    for (const auto& field : h) req_.headers.emplace(std::string(field.name_string()), std::string(field.value()));
    keep_alive_ = h.keep_alive();

    res_ = Response{};
    size_t max_body = 0;
    if (!srv_.app->admit(req_, res_, max_body)) return answer_early(Closed::refused);
    if (auto len = parser_->content_length(); len && *len > max_body)
      return refuse(413, "body of " + std::to_string(*len) + " bytes exceeds the limit of " +
                             std::to_string(max_body) + " bytes", Closed::refused);
    if (parser_->is_done()) return dispatch();
    parser_->body_limit(max_body);
    deadline_ = Clock::now() + ms(srv_.o.body_timeout_ms);
    if (beast::iequals(h[bhttp::field::expect], "100-continue")) {
      // curl and others wait for this before sending a large body.
      static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      beast::get_lowest_layer(stream_).expires_at(deadline_);
      return net::async_write(stream_, net::buffer(kContinue), [self = self()](beast::error_code ec, size_t) {
        if (self->closed_) return;
        if (ec) return self->close(ec == beast::error::timeout ? Closed::write_timeout : Closed::error);
        self->read_body();
      });
    }
    read_body();
  }

  void read_body() {
    beast::get_lowest_layer(stream_).expires_at(deadline_);
    bhttp::async_read(stream_, buffer_, *parser_, [self = self()](beast::error_code ec, size_t) {
      if (self->closed_) return;
      if (ec == beast::error::timeout) return self->close(Closed::body_timeout);
      if (ec == bhttp::error::body_limit) return self->refuse(413, "body exceeds the limit", Closed::refused);
      if (ec == bhttp::error::end_of_stream || ec == net::error::eof || ec == net::error::connection_reset ||
          ec == bhttp::error::partial_message)
        return self->close(Closed::client);
      if (ec) return self->refuse(400, "malformed body: " + ec.message(), Closed::bad_request);
      self->dispatch();
    });
  }

  // The whole request is in: run its handler on a worker, then answer from the network thread.
  void dispatch() {
    req_.body = std::move(parser_->get().body());
    parser_.reset();
    busy_ = true;
    beast::get_lowest_layer(stream_).expires_never();
    net::post(*srv_.workers, [self = self()] {
      try {
        self->srv_.app->handle(self->req_, self->res_);
      } catch (const std::exception& e) {
        log::error("{} {}: {}", self->req_.method, self->req_.path, e.what());
        self->res_ = Response{};
        self->res_.status = 500;
        self->res_.set_content(nlohmann::json{{"error", e.what()}}.dump(), "application/json");
      }
      net::post(self->stream_.get_executor(), [self] { self->write(); });
    });
  }

  void refuse(int status, const std::string& message, Closed why) {
    res_ = Response{};
    res_.status = status;
    res_.set_content(nlohmann::json{{"error", message}}.dump(), "application/json");
    answer_early(why);
  }

  // An answer before the body was read: the connection cannot carry another request.
  void answer_early(Closed why) { write(why); }

  // `early`: the answer came before the body was read (the reason the connection is then closed).
  void write(std::optional<Closed> early = std::nullopt) {
    busy_ = true;
    ++served_;
    Closed why = early ? *early : Closed::client;
    if (srv_.stopping) why = Closed::shutdown;
    else if (!early && served_ >= srv_.o.keepalive_max) why = Closed::keepalive_max;
    bool close_after = early || !keep_alive_ || srv_.stopping || served_ >= srv_.o.keepalive_max ||
                       beast::iequals(res_.get_header_value("Connection"), "close");
    out_ = std::make_shared<bhttp::response<bhttp::string_body>>();
    auto& out = *out_;
    out.version(11);
    out.result(static_cast<unsigned>(res_.status));
    for (const auto& [k, v] : res_.headers)
      if (!beast::iequals(k, "Connection") && !beast::iequals(k, "Content-Length")) out.insert(k, v);
    out.body() = std::move(res_.body);
    out.keep_alive(!close_after);
    out.prepare_payload();
    beast::get_lowest_layer(stream_).expires_after(ms(srv_.o.write_timeout_ms));
    bool linger_after = early.has_value();
    bhttp::async_write(stream_, out, [self = self(), close_after, linger_after, why](beast::error_code ec, size_t) {
      self->busy_ = false;
      self->out_.reset();
      if (self->closed_) return;
      if (ec) return self->close(ec == beast::error::timeout ? Closed::write_timeout : Closed::error);
      if (close_after) return linger_after ? self->linger(why) : self->close(why);
      self->deadline_ = Clock::now() + ms(self->srv_.o.idle_timeout_ms);
      self->wait_for_request();
    });
  }

  // After an early answer the client may still be sending its body; closing with unread data would reset
  // the connection and could discard the answer before the client reads it. So: stop sending, read and
  // drop what still comes for a short while, then close.
  void linger(Closed why) {
    beast::error_code ignored;
    socket().shutdown(tcp::socket::shutdown_send, ignored);
    linger_until_ = Clock::now() + kLingerTime;
    drain(why);
  }

  void drain(Closed why) {
    beast::get_lowest_layer(stream_).expires_at(linger_until_);
    buffer_.clear();
    stream_.async_read_some(buffer_.prepare(64 << 10), [self = self(), why](beast::error_code ec, size_t) {
      if (self->closed_) return;
      if (ec) return self->close(why);
      self->drain(why);
    });
  }

  void close(Closed why) {
    if (closed_) return;
    closed_ = true;
    srv_.count_closed(why);  // before the client can see the close
    beast::error_code ignored;
    socket().shutdown(tcp::socket::shutdown_both, ignored);
    socket().close(ignored);
    std::lock_guard lk(srv_.mu);
    srv_.sessions.erase(this);
    srv_.open.Set(static_cast<double>(srv_.sessions.size()));
  }

  Server::Impl& srv_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::shared_ptr<bhttp::response<bhttp::string_body>> out_;
  Request req_;
  Response res_;
  std::string remote_;
  Clock::time_point deadline_;
  Clock::time_point linger_until_;
  int served_ = 0;
  bool keep_alive_ = true;
  bool busy_ = false;    // a handler runs or an answer is being written
  bool closed_ = false;
};

}  // namespace

void Server::Impl::accept() {
  acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    on_accept(ec, std::move(socket));
  });
}

void Server::Impl::on_accept(beast::error_code ec, tcp::socket socket) {
  if (stopping || ec == net::error::operation_aborted) return;
  if (ec) {
    // Out of file descriptors (or similar): try again shortly instead of spinning.
    log::warn("HTTP accept: {}", ec.message());
    accept_retry.expires_after(std::chrono::milliseconds(100));
    accept_retry.async_wait([this](beast::error_code e) {
      if (!e && !stopping) accept();
    });
    return;
  }
  accepted.Increment();
  beast::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);  // answers must not wait for delayed ACKs
  using PlainSession = Session<beast::tcp_stream>;
  std::shared_ptr<PlainSession> session;
  {
    std::lock_guard lk(mu);
    if (sessions.size() >= static_cast<size_t>(o.max_connections)) {
      count_closed(Closed::limit);  // before the client can see the close
      socket.close(ignored);
    } else {
      session = std::make_shared<PlainSession>(*this, std::move(socket));
      sessions.emplace(session.get(), session);
      open.Set(static_cast<double>(sessions.size()));
    }
  }
  if (session) session->run();
  accept();
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Server::~Server() { stop(); }
int Server::port() const { return impl_->port; }

Result<std::unique_ptr<Server>> Server::listen(const ServerOptions& options, prometheus::Registry& registry) {
  auto impl = std::make_unique<Impl>(options, registry);
  Impl& s = *impl;
  beast::error_code ec;
  auto address = net::ip::make_address(options.host.empty() ? "0.0.0.0" : options.host, ec);
  if (ec) return errorf("cannot listen on {}:{}: {}", options.host, options.port, ec.message());
  tcp::endpoint endpoint(address, static_cast<unsigned short>(options.port));
  s.acceptor.open(endpoint.protocol(), ec);
  if (!ec) s.acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) s.acceptor.bind(endpoint, ec);
  if (!ec) s.acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    return errorf("cannot listen on {}:{}: {} (another collector running? --listen or listen: sets the address)",
                  options.host, options.port, ec.message());
  s.port = s.acceptor.local_endpoint().port();
  s.workers.emplace(static_cast<size_t>(std::max(1, options.workers)));
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

void Server::serve(Application& app) {
  Impl& s = *impl_;
  s.app = &app;
  int io = s.o.io_threads > 0 ? s.o.io_threads
                              : std::clamp(static_cast<int>(std::thread::hardware_concurrency()), 1, 4);
  s.accept();
  for (int i = 0; i < io; ++i) s.threads.emplace_back([&s] { s.ioc.run(); });
}

void Server::stop() {
  Impl& s = *impl_;
  if (s.stopped) return;
  s.stopped = true;
  s.stopping = true;
  net::post(s.ioc, [&s] {
    beast::error_code ignored;
    s.acceptor.close(ignored);
    s.accept_retry.cancel();
  });
  std::vector<std::shared_ptr<SessionBase>> live;
  {
    std::lock_guard lk(s.mu);
    for (auto& [p, w] : s.sessions)
      if (auto sp = w.lock()) live.push_back(std::move(sp));
  }
  for (auto& session : live) session->shutdown();
  live.clear();
  // Requests being handled are answered (with Connection: close); then every session has closed.
  auto deadline = Clock::now() + std::chrono::seconds(10);
  for (;;) {
    {
      std::lock_guard lk(s.mu);
      if (s.sessions.empty()) break;
    }
    if (Clock::now() >= deadline) {
      log::warn("HTTP server: stopping with requests still in progress");
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  s.workers->join();
  s.work.reset();
  s.ioc.stop();
  for (auto& t : s.threads) t.join();
}

}  // namespace ss::collector::http
