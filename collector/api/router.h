// The HTTP routing table every collector module adds its endpoints to. Each route gets a request
// counter (by status code) and a latency histogram on /metrics without the module doing anything.
// Handlers see only http::Request and http::Response, never the server that carries them.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "collector/http/message.h"
#include "collector/http/server.h"

namespace ss::collector {

class Router final : public http::Application {
 public:
  using Handler = std::function<void(const http::Request&, http::Response&)>;
  // Runs once the headers are in, before the body is read, on a network thread (so it must not block):
  // returns false after filling the answer (401, 413, 503 …), and the body is never read.
  using Check = std::function<bool(const http::Request&, http::Response&)>;

  struct PostOptions {
    size_t max_body = 1 << 20;  // bytes on the wire; larger bodies get 413 unread
    Check check;
  };

  explicit Router(prometheus::Registry& registry);

  // `pattern` is a regular expression matched against the whole decoded path (e.g.
  // R"(/api/v1/incidents/([^/]+))", its groups in req.matches); `name` is the value of the `handler`
  // label on the metrics ("/api/v1/incidents/:id").
  void get(const std::string& pattern, const std::string& name, Handler handler);
  void post(const std::string& pattern, const std::string& name, Handler handler, PostOptions options);
  void post(const std::string& pattern, const std::string& name, Handler handler) {
    post(pattern, name, std::move(handler), PostOptions{});
  }

  // Runs before every route's own check, for every request: where authentication of the whole server
  // (basic auth, client certificates) belongs.
  void set_guard(Check guard) { guard_ = std::move(guard); }

  // http::Application
  bool admit(http::Request& req, http::Response& early, size_t& max_body) override;
  void handle(http::Request& req, http::Response& res) override;

 private:
  struct Route {
    std::string method;
    std::regex pattern;
    std::string name;
    Handler handler;
    PostOptions options;
  };
  const Route* find(http::Request& req) const;
  void observe(const std::string& name, int status, double seconds);

  std::vector<Route> routes_;
  Check guard_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& latency_;
};

// JSON answers: {"error": "..."} for failures, so that every client reads errors the same way.
void reply_json(http::Response& res, int status, const nlohmann::json& body);
void reply_error(http::Response& res, int status, const std::string& message);

}  // namespace ss::collector
