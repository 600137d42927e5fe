// The HTTP routing table every collector module adds its endpoints to. Each route gets a request
// counter (by status code) and a latency histogram on /metrics without the module doing anything.
#pragma once

#include <httplib.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

namespace ss::collector {

class Router {
 public:
  using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;
  // For bodies read as a stream (the handler decides how much it reads).
  using StreamHandler =
      std::function<void(const httplib::Request&, httplib::Response&, const httplib::ContentReader&)>;

  Router(httplib::Server& server, prometheus::Registry& registry);

  // `pattern` is an httplib path pattern (a regular expression, e.g. R"(/api/v1/incidents/([^/]+))");
  // `name` is the value of the `handler` label on the metrics ("/api/v1/incidents/:id").
  void get(const std::string& pattern, const std::string& name, Handler handler);
  void post(const std::string& pattern, const std::string& name, Handler handler);
  void post_stream(const std::string& pattern, const std::string& name, StreamHandler handler);

 private:
  void observe(const std::string& name, int status, double seconds);

  httplib::Server& server_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& latency_;
};

// JSON answers: {"error": "..."} for failures, so that every client reads errors the same way.
void reply_json(httplib::Response& res, int status, const nlohmann::json& body);
void reply_error(httplib::Response& res, int status, const std::string& message);

}  // namespace ss::collector
