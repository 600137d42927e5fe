// stormscope report: one incident as terminal text with sparklines or as one self-contained HTML file, or
// a range summarized (incidents, dollars per kind and job, worst offenders). Fetches the collector's JSON
// (/api/v1/incidents/<id>/view, /api/v1/incidents) and renders it with the collector's own page code.
#include <nlohmann/json.hpp>

#include <fstream>
#include <iostream>

#include "cli/client.h"
#include "cli/command.h"
#include "common/time.h"
#include "report/incident_list.h"
#include "report/incident_page.h"

namespace ss::cli {
namespace {

struct ReportArgs {
  std::string id, from, to, kind, fs, job, severity, html;
};

int fail(const std::string& message, int code = 2) {
  std::cerr << "stormscope report: " << message << "\n";
  return code;
}

int write_or_print(const std::string& text, const std::string& path) {
  if (path.empty() || path == "-") {
    std::cout << text;
    return 0;
  }
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
  f.close();
  if (!f) return fail("cannot write " + path);
  std::cerr << "wrote " << path << "\n";
  return 0;
}

int run(const ReportArgs& a, const Globals& g) {
  bool range = !a.from.empty() || !a.to.empty();
  if (a.id.empty() && !range) return fail("give an incident id, or --from/--to for a range");
  if (!a.id.empty() && (range || !a.kind.empty() || !a.fs.empty() || !a.job.empty() || !a.severity.empty()))
    return fail("an incident id takes no range or filters");
  auto client = collector_client(g.collector, g.token);
  if (!client) return fail(client.error().message);

  if (!a.id.empty()) {
    const std::string path = "/api/v1/incidents/" + a.id + "/view";
    auto r = (*client)->Get(path);
    if (!r || r->status != 200) return fail(describe_failure(r, g.collector, path), r && r->status == 404 ? 1 : 2);
    auto j = nlohmann::json::parse(r->body, nullptr, false);
    auto view = report::view_from_json(j);
    if (!view) return fail("unexpected answer: " + view.error().message);
    if (!a.html.empty()) return write_or_print(report::incident_html(*view, {}), a.html);
    std::cout << report::incident_text(*view);
    return 0;
  }

  // The filters are checked here as the collector's /ui/ checks them, then kind and fs go to the API.
  std::map<std::string, std::string> params;
  if (!a.from.empty()) params["from"] = a.from;
  if (!a.to.empty()) params["to"] = a.to;
  if (!a.kind.empty()) params["kind"] = a.kind;
  if (!a.fs.empty()) params["fs"] = a.fs;
  if (!a.job.empty()) params["job"] = a.job;
  if (!a.severity.empty()) params["severity"] = a.severity;
  auto filters = report::parse_list_filters(params, now_ms());
  if (!filters) return fail(filters.error().message);
  httplib::Params q{{"from", std::to_string(filters->from_ms)}, {"to", std::to_string(filters->to_ms)}, {"limit", "100000"}};
  if (!a.kind.empty()) q.emplace("kind", a.kind);
  if (!a.fs.empty()) q.emplace("fs", a.fs);
  auto r = (*client)->Get("/api/v1/incidents", q, httplib::Headers{});
  if (!r || r->status != 200) return fail(describe_failure(r, g.collector, "/api/v1/incidents"));
  auto j = nlohmann::json::parse(r->body, nullptr, false);
  if (!j.is_object() || !j.contains("incidents") || !j["incidents"].is_array())
    return fail("unexpected answer: " + r->body.substr(0, 200));
  std::vector<report::IncidentRow> rows;
  for (const auto& i : j["incidents"]) {
    auto row = report::row_from_json(i);
    if (report::matches(row, *filters)) rows.push_back(std::move(row));
  }
  auto summary = report::summarize(std::move(rows), *filters);
  if (!a.html.empty()) return write_or_print(report::list_html(summary, ""), a.html);
  std::cout << report::range_text(summary);
  return 0;
}

}  // namespace

Command report_command() {
  return {"report", "An incident as text with sparklines or one self-contained HTML file; or a range summarized",
          [](CLI::App& sub) -> CommandRun {
            auto a = std::make_shared<ReportArgs>();
            sub.add_option("id", a->id, "an incident id (from `stormscope incidents`)");
            sub.add_option("--html", a->html, "write one self-contained HTML file instead of text (- for stdout)");
            sub.add_option("--from", a->from, "summarize a range from here (RFC 3339, ms, now-7d; default: 7 days before --to)");
            sub.add_option("--to", a->to, "end of the range (default now)");
            sub.add_option("--kind", a->kind, "only this kind (metadata_storm, waittime_spike, ost_imbalance, checkpoint_stall)");
            sub.add_option("--fs", a->fs, "only this file system");
            sub.add_option("--job", a->job, "only incidents naming this job as culprit or victim");
            sub.add_option("--severity", a->severity, "warning or critical");
            return [a](const Globals& g) { return run(*a, g); };
          }};
}

}  // namespace ss::cli
