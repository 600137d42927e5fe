#include "collector/api/router.h"

#include <chrono>

namespace ss::collector {

namespace {
constexpr size_t kMaxGetBody = 64 << 10;

std::string not_found(const http::Request& req) {
  return "no such endpoint: " + req.method + " " + req.path + " (docs/api.md)";
}
}  // namespace

Router::Router(prometheus::Registry& registry)
    : requests_(prometheus::BuildCounter()
                    .Name("stormscope_collector_http_requests_total")
                    .Help("HTTP requests answered by the collector, by handler and status code.")
                    .Register(registry)),
      latency_(prometheus::BuildHistogram()
                   .Name("stormscope_collector_http_request_duration_seconds")
                   .Help("Time from the start of handling to the answer, by handler.")
                   .Register(registry)) {}

void Router::observe(const std::string& name, int status, double seconds) {
  requests_.Add({{"handler", name}, {"code", std::to_string(status)}}).Increment();
  static const prometheus::Histogram::BucketBoundaries kBuckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                                0.05,   0.1,   0.25,   0.5,   1,    2.5, 5};
  latency_.Add({{"handler", name}}, kBuckets).Observe(seconds);
}

void Router::get(const std::string& pattern, const std::string& name, Handler handler) {
  routes_.push_back({"GET", std::regex(pattern), name, std::move(handler), PostOptions{kMaxGetBody, {}}});
}

void Router::post(const std::string& pattern, const std::string& name, Handler handler, PostOptions options) {
  routes_.push_back({"POST", std::regex(pattern), name, std::move(handler), std::move(options)});
}

const Router::Route* Router::find(http::Request& req) const {
  for (const auto& r : routes_) {
    std::smatch m;
    if (r.method != req.method || !std::regex_match(req.path, m, r.pattern)) continue;
    req.matches.assign(m.begin(), m.end());
    return &r;
  }
  return nullptr;
}

bool Router::admit(http::Request& req, http::Response& early, size_t& max_body) {
  const Route* route = find(req);
  if (!route) {
    reply_error(early, 404, not_found(req));
    return false;
  }
  if ((guard_ && !guard_(req, early)) || (route->options.check && !route->options.check(req, early))) {
    observe(route->name, early.status, 0);
    return false;
  }
  max_body = route->options.max_body;
  return true;
}

void Router::handle(http::Request& req, http::Response& res) {
  const Route* route = find(req);
  if (!route) return reply_error(res, 404, not_found(req));
  auto start = std::chrono::steady_clock::now();
  route->handler(req, res);
  observe(route->name, res.status,
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
}

void reply_json(http::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

void reply_error(http::Response& res, int status, const std::string& message) {
  reply_json(res, status, nlohmann::json{{"error", message}});
}

}  // namespace ss::collector
