#include "cli/client.h"

#include <nlohmann/json.hpp>

#include "common/http_failure.h"

namespace ss::cli {

Result<std::unique_ptr<httplib::Client>> collector_client(const std::string& url, const std::string& token) {
  if (!url.starts_with("http://") && !url.starts_with("https://"))
    return errorf("collector URL \"{}\" must start with http:// or https://", url);
  std::string base = url;
  while (base.size() > 8 && base.back() == '/') base.pop_back();
  if (base.find('/', base.find("//") + 2) != std::string::npos)
    return errorf("collector URL \"{}\" must not have a path", url);
  auto c = std::make_unique<httplib::Client>(base);
  if (!c->is_valid()) return errorf("collector URL \"{}\" is not usable", url);
  c->set_connection_timeout(5, 0);
  c->set_read_timeout(60, 0);
  c->set_write_timeout(60, 0);
  c->set_tcp_nodelay(true);
  c->set_keep_alive(true);
  if (!token.empty()) c->set_bearer_token_auth(token);
  return c;
}

std::string describe_failure(const httplib::Result& r, const std::string& url, const std::string& path) {
  std::string where = url;
  while (where.size() > 8 && where.back() == '/') where.pop_back();
  where += path;
  if (!r) {
    std::string why = transport_failure(r.error(), url);
    if (r.error() == httplib::Error::Connection) why += " (is the collector running there? --collector sets the URL)";
    return where + ": " + why;
  }
  auto j = nlohmann::json::parse(r->body, nullptr, false);
  if (j.is_object() && j.contains("error") && j["error"].is_string())
    return fmt::format("{}: HTTP {}: {}", where, r->status, j["error"].get<std::string>());
  return fmt::format("{}: HTTP {}: {}", where, r->status, r->body.substr(0, 200));
}

}  // namespace ss::cli
