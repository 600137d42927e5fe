#include "collector/collector.h"

#include "collector/store/chunk_store.h"

#include <httplib.h>
#include <prometheus/registry.h>

#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <chrono>
#include <thread>

#include "collector/modules.h"
#include "collector/section_checks.h"
#include "common/log.h"

namespace ss::collector {

struct Collector::Impl {
  CollectorConfig config;
  std::unique_ptr<Store> store;
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  httplib::Server server;
  std::unique_ptr<Router> router;
  IngestObservers observers;
  std::unique_ptr<CollectorContext> ctx;
  std::vector<std::unique_ptr<RunningModule>> modules;
  std::thread thread;
  int port = 0;
  std::atomic<bool> listen_returned{false};
  bool stopped = false;
};

Collector::Collector(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Collector::~Collector() { stop(); }

int Collector::port() const { return impl_->port; }
Store& Collector::store() { return *impl_->store; }
IngestObservers& Collector::observers() { return impl_->observers; }

std::string Collector::url() const {
  std::string host = impl_->config.http.host;
  if (host == "0.0.0.0" || host.empty()) host = "127.0.0.1";
  else if (host == "::") host = "[::1]";
  else if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return fmt::format("http://{}:{}", host, impl_->port);
}

Result<std::unique_ptr<Collector>> Collector::start(const CollectorConfig& config) {
  auto impl = std::make_unique<Impl>();
  Impl& c = *impl;
  c.config = config;
  // Every section is read before anything happens: a bad key fails here, before the database is made.
  if (auto checked = check_module_sections(config); !checked) return checked.error();
  StoreOptions store_options;
  store_options.path = config.db_path;
  if (config.root["retention"]) {
    if (auto r = read_retention(config::Section(config.root["retention"], "retention"), store_options); !r.ok())
      return r.error();
  }

  const HttpOptions& h = config.http;
  // cpp-httplib sets SO_REUSEPORT by default, which lets a second collector bind the same port and take part of
  // the requests. SO_REUSEADDR alone still allows a restart while old connections sit in TIME_WAIT.
  c.server.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  // Bound before the store opens, so that a port in use fails before the database is touched.
  if (h.port == 0) {
    c.port = c.server.bind_to_any_port(h.host);
  } else {
    c.port = c.server.bind_to_port(h.host, h.port) ? h.port : -1;
  }
  if (c.port <= 0)
    return errorf("cannot listen on {}:{}: {} (another collector running? --listen or listen: sets the address)",
                  h.host, h.port, std::strerror(errno));

  auto store = open_store(store_options);
  if (!store) return store.error();
  c.store = std::move(*store);

  int threads = h.threads;
  c.server.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  c.server.set_tcp_nodelay(true);  // without it keep-alive answers wait 40 ms for delayed ACKs
  c.server.set_read_timeout(h.read_timeout_ms / 1000, (h.read_timeout_ms % 1000) * 1000);
  c.server.set_write_timeout(h.write_timeout_ms / 1000, (h.write_timeout_ms % 1000) * 1000);
  c.server.set_keep_alive_timeout(std::max<int64_t>(1, h.keepalive_timeout_ms / 1000));
  c.server.set_keep_alive_max_count(static_cast<size_t>(h.keepalive_max));
  // A safety net for every route; ingest enforces its own, smaller limits before reading.
  c.server.set_payload_max_length(size_t(1) << 30);
  c.server.set_exception_handler([](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "internal error";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    log::error("{} {}: {}", req.method, req.path, what);
    reply_error(res, 500, what);
  });
  c.router = std::make_unique<Router>(c.server, *c.registry);
  c.ctx = std::make_unique<CollectorContext>(CollectorContext{*c.store, *c.router, *c.registry, c.observers, c.config});

  auto started = config::read([&]() -> bool {
    for (const auto& m : collector_modules()) {
      config::Section section(m.section.empty() ? YAML::Node(YAML::NodeType::Map) : config.root[std::string(m.section)],
                              std::string(m.section));
      auto r = m.start(section, *c.ctx);
      if (!r) throw config::Invalid{r.error().message};
      if (*r) c.modules.push_back(std::move(*r));
    }
    return true;
  });
  std::unique_ptr<Collector> collector(new Collector(std::move(impl)));
  if (!started) return started.error();
  c.thread = std::thread([&c] {
    c.server.listen_after_bind();
    c.listen_returned = true;
  });
  // stop() only works on a running server, so do not hand the collector out before it runs.
  while (!c.server.is_running() && !c.listen_returned) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (!c.server.is_running()) return errorf("the HTTP server on {}:{} stopped at once", h.host, c.port);
  return collector;
}

void Collector::stop() {
  Impl& c = *impl_;
  if (c.stopped) return;
  c.stopped = true;
  // httplib's stop() closes the listening socket; listen_after_bind() then shuts the worker pool
  // down, which waits for the requests in progress.
  c.server.stop();
  if (c.thread.joinable()) c.thread.join();
  for (auto it = c.modules.rbegin(); it != c.modules.rend(); ++it) (*it)->stop();
  c.modules.clear();
  if (c.store) c.store->close();
}

}  // namespace ss::collector
