#include "collector/ui/pages.h"

#include <fmt/format.h>

#include <optional>

#include "collector/ui/incident_view.h"
#include "common/time.h"
#include "report/html.h"
#include "report/incident_list.h"

namespace ss::collector::ui {

namespace {

void reply_html(http::Response& res, int status, const std::string& body) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_content(body, "text/html; charset=utf-8");
}

void reply_error_page(http::Response& res, int status, const std::string& message) {
  std::string title = status == 404 ? "Not found" : status == 400 ? "Bad request" : "Error";
  reply_html(res, status,
             report::page(title + " — Stormscope",
                          fmt::format("<p><a href=\"/ui/\">&larr; all incidents</a></p><h1>{}</h1><p>{}</p>", title,
                                      report::escape(message))));
}

std::map<std::string, std::string> params_of(const http::Request& req) {
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : req.params) out[k] = v;
  return out;
}

bool valid_id(const std::string& id) {
  return !id.empty() && id.size() <= 200 &&
         id.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") == std::string::npos;
}

}  // namespace

void add_routes(Router& router, Store& store, incidents::DetectionService& service) {
  router.get("/", "/", [](const http::Request&, http::Response& res) { res.set_redirect("/ui/", 302); });
  router.get("/ui", "/ui/", [](const http::Request&, http::Response& res) { res.set_redirect("/ui/", 301); });

  router.get("/ui/", "/ui/", [&service](const http::Request& req, http::Response& res) {
    auto filters = report::parse_list_filters(params_of(req), now_ms());
    if (!filters) return reply_error_page(res, 400, filters.error().message);
    incidents::IncidentQuery q;
    q.from_ms = filters->from_ms;
    q.to_ms = filters->to_ms;
    q.kind = filters->kind;
    q.fs = filters->fs;
    q.limit = 1'000'000;
    auto found = service.incident_store().query_summaries(q);
    if (!found) return reply_error_page(res, 500, found.error().message);
    std::vector<report::IncidentRow> rows;
    rows.reserve(found->size());
    for (const auto& inc : *found) {
      report::IncidentRow r = report::row_from_json(inc);
      if (report::matches(r, *filters)) rows.push_back(std::move(r));
    }
    reply_html(res, 200, report::list_html(report::summarize(std::move(rows), *filters), "/ui/incidents/"));
  });

  auto view_of = [&store, &service](const std::string& id, int& status, std::string& error) -> std::optional<report::IncidentView> {
    if (!valid_id(id)) {
      status = 404;
      error = "no incident " + id;
      return std::nullopt;
    }
    auto inc = service.incident_store().get(id);
    if (!inc || !inc->has_value()) {
      status = inc ? 404 : 500;
      error = inc ? "no incident " + id : inc.error().message;
      return std::nullopt;
    }
    auto view = build_view(store, service.incident_store(), **inc);
    if (!view) {
      status = 500;
      error = view.error().message;
      return std::nullopt;
    }
    return std::move(*view);
  };

  router.get(R"(/ui/incidents/([^/]*))", "/ui/incidents/:id", [view_of](const http::Request& req, http::Response& res) {
    int status = 200;
    std::string error;
    auto view = view_of(req.matches[1], status, error);
    if (!view) return reply_error_page(res, status, error);
    reply_html(res, 200, report::incident_html(*view, {"/ui/incidents/", "/ui/"}));
  });
  router.get(R"(/ui/.*)", "/ui/*", [](const http::Request& req, http::Response& res) {
    reply_error_page(res, 404, "no page " + req.path);
  });

  router.get(R"(/api/v1/incidents/([^/]+)/view)", "/api/v1/incidents/:id/view",
             [view_of](const http::Request& req, http::Response& res) {
               int status = 200;
               std::string error;
               auto view = view_of(req.matches[1], status, error);
               if (!view) return reply_error(res, status, error);
               reply_json(res, 200, report::to_json(*view));
             });
}

}  // namespace ss::collector::ui
