// The collector's HTTP/1.1 server: event-driven (Boost.Asio/Beast), so an open keep-alive connection
// costs a socket and a few kilobytes, not a thread. A few network threads read and write every
// connection; whole requests go to a pool of worker threads, which may block (a durable store append).
//
// Every request has deadlines: its headers must arrive within header_timeout of its first byte (a new
// connection must start its first request within header_timeout too), its body within body_timeout, an
// idle keep-alive connection is closed after idle_timeout. So clients that stall (a partial request
// line, trickled headers, a body that never ends, no request at all) hold a socket until a deadline,
// never a thread, and delay nobody. Closed connections are counted by reason on /metrics.
//
// TLS (issue #18) goes in at one place: Session is a template over its stream; a TLS listener makes
// Session<beast::ssl_stream<beast::tcp_stream>> and does the handshake before the first read.
#pragma once

#include <prometheus/registry.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "collector/http/message.h"
#include "common/result.h"

namespace ss::collector::http {

struct ServerOptions {
  std::string host = "0.0.0.0";
  int port = 0;                       // 0: any free port
  int io_threads = 0;                 // network threads; 0: one per core (at most 4)
  int workers = 8;                    // threads running handlers
  int64_t header_timeout_ms = 10'000;
  int64_t body_timeout_ms = 30'000;
  int64_t idle_timeout_ms = 60'000;   // a keep-alive connection between requests
  int64_t write_timeout_ms = 10'000;
  int keepalive_max = 10'000;         // requests per connection before it is closed
  int max_connections = 16'000;       // above it new connections are closed at once (counted)
};

// What the server serves: the collector's router.
class Application {
 public:
  virtual ~Application() = default;
  // Called on a network thread once the headers are in; must not block. Either sets `max_body` (the body
  // bytes this request may have) and returns true, or fills `early` with the answer and returns false:
  // the body is then not read and the connection is closed after the answer.
  virtual bool admit(Request& req, Response& early, size_t& max_body) = 0;
  // Called on a worker thread with the whole request.
  virtual void handle(Request& req, Response& res) = 0;
};

class Server {
 public:
  // Binds host:port (SO_REUSEADDR only, so a second server on the port fails) and counts connections in
  // `registry`; nothing is accepted before serve().
  static Result<std::unique_ptr<Server>> listen(const ServerOptions& options, prometheus::Registry& registry);
  ~Server();

  // Starts accepting and serving `app`, which must outlive the server. Once only.
  void serve(Application& app);

  int port() const;
  // Stops accepting, closes idle connections, lets requests in progress be answered (at most ~10 s),
  // then stops. Safe to call twice.
  void stop();

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ss::collector::http
