#include "collector/collector.h"

#include "collector/store/chunk_store.h"

#include <prometheus/registry.h>

#include <atomic>
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
  std::unique_ptr<Router> router;
  std::unique_ptr<http::Server> server;
  IngestObservers observers;
  std::unique_ptr<CollectorContext> ctx;
  std::vector<std::unique_ptr<RunningModule>> modules;
  int port = 0;
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
  http::ServerOptions so;
  so.host = h.host;
  so.port = h.port;
  so.workers = h.threads;
  so.header_timeout_ms = h.header_timeout_ms;
  so.body_timeout_ms = h.body_timeout_ms;
  so.idle_timeout_ms = h.keepalive_timeout_ms;
  so.write_timeout_ms = h.write_timeout_ms;
  so.keepalive_max = h.keepalive_max;
  so.max_connections = h.max_connections;
  // Bound before the store opens, so that a port in use fails before the database is touched; it serves
  // once every module has its routes.
  auto server = http::Server::listen(so, *c.registry);
  if (!server) return server.error();
  c.server = std::move(*server);
  c.port = c.server->port();

  auto store = open_store(store_options);
  if (!store) return store.error();
  c.store = std::move(*store);

  c.router = std::make_unique<Router>(*c.registry);
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
  c.server->serve(*c.router);
  return collector;
}

void Collector::stop() {
  Impl& c = *impl_;
  if (c.stopped) return;
  c.stopped = true;
  // Requests in progress are answered first (their batches are durable before that).
  if (c.server) c.server->stop();
  for (auto it = c.modules.rbegin(); it != c.modules.rend(); ++it) (*it)->stop();
  c.modules.clear();
  if (c.store) c.store->close();
}

}  // namespace ss::collector
