#include "collector/api/router.h"

#include <chrono>

namespace ss::collector {

Router::Router(httplib::Server& server, prometheus::Registry& registry)
    : server_(server),
      requests_(prometheus::BuildCounter()
                    .Name("stormscope_collector_http_requests_total")
                    .Help("HTTP requests answered by the collector, by handler and status code.")
                    .Register(registry)),
      latency_(prometheus::BuildHistogram()
                   .Name("stormscope_collector_http_request_duration_seconds")
                   .Help("Time from the start of handling to the answer, by handler.")
                   .Register(registry)) {
  // An answer httplib makes itself (no route: 404; a malformed request: 400) has an empty body: give it the
  // API's JSON error too, so that a client reads every failure the same way.
  server_.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    std::string what = res.status == 404   ? "no such endpoint: " + req.method + " " + req.path + " (docs/api.md)"
                       : res.status == 400 ? "malformed request"
                       : res.status == 413 ? "request too large"
                                           : "HTTP " + std::to_string(res.status);
    reply_error(res, res.status, what);
    return httplib::Server::HandlerResponse::Handled;
  }));
}

void Router::observe(const std::string& name, int status, double seconds) {
  if (status == -1) status = 200;  // httplib fills in 200 after the handler when it was left unset
  requests_.Add({{"handler", name}, {"code", std::to_string(status)}}).Increment();
  static const prometheus::Histogram::BucketBoundaries kBuckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                                0.05,   0.1,   0.25,   0.5,   1,    2.5, 5};
  latency_.Add({{"handler", name}}, kBuckets).Observe(seconds);
}

namespace {
template <class F>
double timed(F&& f) {
  auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}
}  // namespace

void Router::get(const std::string& pattern, const std::string& name, Handler handler) {
  server_.Get(pattern, [this, name, handler](const httplib::Request& req, httplib::Response& res) {
    double s = timed([&] { handler(req, res); });
    observe(name, res.status, s);
  });
}

void Router::post(const std::string& pattern, const std::string& name, Handler handler) {
  server_.Post(pattern, [this, name, handler](const httplib::Request& req, httplib::Response& res) {
    double s = timed([&] { handler(req, res); });
    observe(name, res.status, s);
  });
}

void Router::post_stream(const std::string& pattern, const std::string& name, StreamHandler handler) {
  server_.Post(pattern, [this, name, handler](const httplib::Request& req, httplib::Response& res,
                                              const httplib::ContentReader& reader) {
    double s = timed([&] { handler(req, res, reader); });
    observe(name, res.status, s);
  });
}

void reply_json(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

void reply_error(httplib::Response& res, int status, const std::string& message) {
  reply_json(res, status, nlohmann::json{{"error", message}});
}

}  // namespace ss::collector
