#include "report/incident_list.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "common/time.h"
#include "report/chart.h"
#include "report/html.h"
#include "report/incident_page.h"

namespace ss::report {

using json = nlohmann::json;

namespace {
constexpr const char* kKindNames[] = {"metadata_storm", "waittime_spike", "ost_imbalance", "checkpoint_stall"};
}

IncidentRow row_from_json(const json& i) {
  IncidentRow r;
  r.id = i.value("id", "");
  r.kind = i.value("kind", "");
  r.fs = i.value("fs", "");
  r.target = i.value("target", "");
  r.severity = i.value("severity", "");
  r.summary = i.value("summary", "");
  r.start_ms = i.value("start", int64_t{0});
  if (i.contains("end") && i["end"].is_number()) r.end_ms = i["end"].get<int64_t>();
  r.last_seen_ms = i.value("last_seen", r.start_ms);
  r.cost_usd = i.value("cost_usd", 0.0);
  r.gpu_idle_seconds = i.value("gpu_idle_seconds", 0.0);
  const json culprits = i.value("culprits", json::array());
  for (const auto& c : culprits)
    if (c.is_object() && c.contains("job") && c["job"].is_string()) r.culprit_jobs.push_back({c["job"].get<std::string>(), c.value("share", 0.0)});
  if (!culprits.empty() && culprits[0].is_object()) r.top_culprit = culprit_label(culprits[0]);
  for (const auto& v : i.value("victims", json::array()))
    if (v.is_object() && v.contains("job") && v["job"].is_string()) r.victim_jobs.push_back({v["job"].get<std::string>(), v.value("cost_usd", 0.0)});
  return r;
}

Result<ListFilters> parse_list_filters(const std::map<std::string, std::string>& params, int64_t now) {
  ListFilters f;
  f.to_ms = now;
  f.from_ms = now - 7 * 86'400'000LL;
  bool from_set = false;
  for (const auto& [k, v] : params) {
    if (v.empty() && k != "from" && k != "to") continue;  // an empty form field means "any"
    if (k == "from" || k == "to") {
      if (v.empty()) continue;
      auto t = parse_time_ms(v, now);
      if (!t) return errorf("{}: {}", k, t.error().message);
      (k == "from" ? f.from_ms : f.to_ms) = *t;
      from_set = from_set || k == "from";
    } else if (k == "kind") {
      if (std::none_of(std::begin(kKindNames), std::end(kKindNames), [&](const char* n) { return v == n; }))
        return Error{"kind: one of metadata_storm, waittime_spike, ost_imbalance, checkpoint_stall"};
      f.kind = v;
    } else if (k == "fs") {
      f.fs = v;
    } else if (k == "job") {
      f.job = v;
    } else if (k == "severity") {
      if (v != "warning" && v != "critical") return Error{"severity: warning or critical"};
      f.severity = v;
    } else {
      return errorf("unknown parameter {} (from, to, kind, fs, job, severity)", k);
    }
  }
  if (!from_set && params.count("to") && !params.at("to").empty()) f.from_ms = f.to_ms - 7 * 86'400'000LL;
  if (f.from_ms > f.to_ms) return Error{"from is after to"};
  return f;
}

bool matches(const IncidentRow& r, const ListFilters& f) {
  if (r.start_ms > f.to_ms || (r.end_ms && *r.end_ms < f.from_ms)) return false;
  if (!f.kind.empty() && r.kind != f.kind) return false;
  if (!f.fs.empty() && r.fs != f.fs) return false;
  if (!f.severity.empty() && r.severity != f.severity) return false;
  if (!f.job.empty()) {
    auto is = [&](const auto& p) { return p.first == f.job; };
    if (std::none_of(r.culprit_jobs.begin(), r.culprit_jobs.end(), is) &&
        std::none_of(r.victim_jobs.begin(), r.victim_jobs.end(), is))
      return false;
  }
  return true;
}

RangeSummary summarize(std::vector<IncidentRow> rows, const ListFilters& filters) {
  RangeSummary s;
  s.filters = filters;
  s.rows = std::move(rows);
  std::sort(s.rows.begin(), s.rows.end(),
            [](const IncidentRow& a, const IncidentRow& b) { return std::tie(a.start_ms, a.id) < std::tie(b.start_ms, b.id); });
  for (const auto& r : s.rows) {
    auto& k = s.by_kind[r.kind];
    k.first++;
    k.second += r.cost_usd;
    s.total_usd += r.cost_usd;
    double shares = 0;
    for (const auto& [job, share] : r.culprit_jobs) shares += share;
    for (const auto& [job, share] : r.culprit_jobs) {
      auto& j = s.by_job[job];
      j.caused_usd += shares > 0 ? r.cost_usd * share / shares : 0;
      j.incidents++;
    }
    for (const auto& [job, usd] : r.victim_jobs) s.by_job[job].lost_usd += usd;
  }
  return s;
}

std::vector<std::pair<std::string, JobCost>> worst_jobs(const RangeSummary& s, size_t n) {
  std::vector<std::pair<std::string, JobCost>> v(s.by_job.begin(), s.by_job.end());
  std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
    return std::tie(b.second.caused_usd, b.second.lost_usd, b.second.incidents, a.first) <
           std::tie(a.second.caused_usd, a.second.lost_usd, a.second.incidents, b.first);
  });
  if (v.size() > n) v.resize(n);
  return v;
}

namespace {

// One lane per kind; each incident a bar from start to end (open ones to the range's end), a link to its page.
std::string timeline_svg(const RangeSummary& s, const std::string& base) {
  const double W = 760, lane = 26, left = 120, right = 10, top = 6;
  const double H = top + lane * 4 + 24;
  int64_t from = s.filters.from_ms, to = std::max(s.filters.to_ms, from + 1);
  auto X = [&](int64_t t) { return left + (W - left - right) * double(std::clamp(t, from, to) - from) / double(to - from); };
  size_t drawn = 0;
  std::string bars;
  // Bars closer than a pixel merge into one (10,000 incidents a day would otherwise be 10,000 rects); a
  // merged bar links to the list of its span and kind, a single one to its incident.
  struct Bar {
    double x0 = 0, x1 = -1;
    int64_t from = 0, to = 0;
    const IncidentRow* first = nullptr;
    int n = 0;
    bool critical = false;
  };
  auto flush = [&](const Bar& b, const char* kind, double y) {
    if (!b.n) return;
    std::string title = b.n == 1 ? utc_text(b.first->start_ms) + " " + b.first->summary
                                 : fmt::format("{} incidents from {} to {}", b.n, utc_text(b.from), utc_text(b.to));
    std::string rect = fmt::format("<rect class=\"{}\" x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\"><title>{}</title></rect>",
                                   b.critical ? "ic" : "iw", b.x0, y + 5, b.x1 - b.x0, lane - 10, escape(title));
    std::string href = b.n == 1 ? base + url_encode(b.first->id)
                                : fmt::format("?from={}&to={}&kind={}", b.from, b.to, kind);
    bars += base.empty() ? rect : fmt::format("<a href=\"{}\">{}</a>", escape(href), rect);
    ++drawn;
  };
  for (int k = 0; k < 4; ++k) {
    double y = top + lane * k;
    bars += fmt::format("<line class=\"grid\" x1=\"{}\" x2=\"{}\" y1=\"{:.1f}\" y2=\"{:.1f}\"/>"
                        "<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>",
                        left, W - right, y + lane, y + lane, left - 6, y + lane * 0.65, kKindNames[k]);
    Bar bar;
    for (const auto& r : s.rows) {
      if (r.kind != kKindNames[k]) continue;
      int64_t end = r.end_ms ? *r.end_ms : std::max(r.last_seen_ms, to);
      double x0 = X(r.start_ms), x1 = std::max(X(end), x0 + 2);
      if (bar.n && x0 <= bar.x1 + 1) {
        bar.x1 = std::max(bar.x1, x1);
        bar.to = std::max(bar.to, end);
        bar.critical = bar.critical || r.severity == "critical";
        ++bar.n;
        continue;
      }
      flush(bar, kKindNames[k], y);
      bar = {x0, x1, r.start_ms, end, &r, 1, r.severity == "critical"};
    }
    flush(bar, kKindNames[k], y);
  }
  std::string axis;
  int64_t span = to - from;
  for (int t = 0; t <= 4; ++t) {
    int64_t at = from + span * t / 4;
    std::string label = utc_text(at).substr(span > 2 * 86'400'000LL ? 5 : 11, span > 2 * 86'400'000LL ? 11 : 5);
    axis += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"{}\">{}</text>", X(at), H - 6,
                        t == 0 ? "start" : t == 4 ? "end" : "middle", label);
  }
  return fmt::format("<figure class=\"chart\" data-points=\"{}\"><h3>Timeline (UTC)</h3><svg viewBox=\"0 0 {} {}\" "
                     "width=\"100%\" role=\"img\" aria-label=\"incident timeline\" xmlns=\"http://www.w3.org/2000/svg\">{}{}</svg>"
                     "<div class=\"legend\"><span><i style=\"background:var(--crit)\"></i>critical</span>"
                     "<span><i style=\"background:var(--warn)\"></i>warning</span></div></figure>",
                     drawn, W, H, bars, axis);
}

std::string option(const std::string& value, const std::string& chosen, const std::string& label) {
  return fmt::format("<option value=\"{}\"{}>{}</option>", escape(value), value == chosen ? " selected" : "", escape(label));
}

}  // namespace

std::string list_html(const RangeSummary& s, const std::string& base, size_t max_rows) {
  const auto& f = s.filters;
  std::string b;
  b.reserve(64 * 1024 + s.rows.size() * 300);
  b += "<h1>Stormscope incidents</h1>";
  b += fmt::format("<p class=\"muted\">From {} to {}: {} incident{}, {} of GPU idle time.</p>", time_html(f.from_ms),
                   time_html(f.to_ms), s.rows.size(), s.rows.size() == 1 ? "" : "s", escape(dollars(s.total_usd)));
  // A GET form: the page is a bookmarkable URL and works without JavaScript.
  b += "<form class=\"filters\" method=\"get\" action=\"\">";
  b += fmt::format("<label>From<input name=\"from\" value=\"{}\" size=\"22\"></label>", escape(format_rfc3339(f.from_ms)));
  b += fmt::format("<label>To<input name=\"to\" value=\"{}\" size=\"22\"></label>", escape(format_rfc3339(f.to_ms)));
  b += "<label>Kind<select name=\"kind\">" + option("", f.kind, "any");
  for (const char* k : kKindNames) b += option(k, f.kind, k);
  b += "</select></label>";
  b += fmt::format("<label>File system<input name=\"fs\" value=\"{}\" size=\"10\"></label>", escape(f.fs));
  b += fmt::format("<label>Job<input name=\"job\" value=\"{}\" size=\"12\"></label>", escape(f.job));
  b += "<label>Severity<select name=\"severity\">" + option("", f.severity, "any") +
       option("warning", f.severity, "warning") + option("critical", f.severity, "critical") + "</select></label>";
  b += "<button type=\"submit\">Show</button></form>";

  b += timeline_svg(s, base);

  b += "<h2>Dollars per kind</h2><table><tr><th>Kind</th><th class=\"num\">Incidents</th><th class=\"num\">GPU idle cost</th></tr>";
  for (const char* k : kKindNames) {
    auto it = s.by_kind.find(k);
    int n = it == s.by_kind.end() ? 0 : it->second.first;
    double usd = it == s.by_kind.end() ? 0 : it->second.second;
    b += fmt::format("<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>", k, n, escape(dollars(usd)));
  }
  b += fmt::format("<tr><th>total</th><th class=\"num\">{}</th><th class=\"num\">{}</th></tr></table>", s.rows.size(),
                   escape(dollars(s.total_usd)));

  b += "<h2>Dollars per job</h2>";
  auto jobs = worst_jobs(s, 25);
  if (jobs.empty()) {
    b += "<p class=\"muted\">No job was named as a culprit or victim.</p>";
  } else {
    b += "<table><tr><th>Job</th><th class=\"num\">Incidents as culprit</th><th class=\"num\">Dollars caused</th>"
         "<th class=\"num\">Dollars lost as victim</th></tr>";
    for (const auto& [job, c] : jobs)
      b += fmt::format("<tr><td><a href=\"?{}job={}\">{}</a></td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                       "from=" + url_encode(format_rfc3339(f.from_ms)) + "&amp;to=" + url_encode(format_rfc3339(f.to_ms)) + "&amp;",
                       escape(url_encode(job)), escape(job), c.incidents, escape(dollars(c.caused_usd)), escape(dollars(c.lost_usd)));
    b += "</table>";
    if (s.by_job.size() > jobs.size()) b += fmt::format("<p class=\"muted\">and {} more jobs.</p>", s.by_job.size() - jobs.size());
  }

  b += "<h2>Incidents</h2>";
  if (s.rows.empty()) {
    b += "<p class=\"muted\">None in this range.</p>";
  } else {
    if (s.rows.size() > max_rows)
      b += fmt::format("<p class=\"muted\">The newest {} of {}; narrow the range or filter to see the rest.</p>", max_rows,
                       s.rows.size());
    b += "<table><tr><th>Start</th><th>Kind</th><th>Where</th><th>Duration</th><th>Severity</th><th class=\"num\">Cost</th>"
         "<th>Top culprit / summary</th></tr>";
    size_t shown = 0;
    for (auto it = s.rows.rbegin(); it != s.rows.rend() && shown < max_rows; ++it, ++shown) {
      const auto& r = *it;
      std::string where = r.target.empty() ? r.fs : r.target;
      std::string dur = r.end_ms ? escape(duration_text(*r.end_ms - r.start_ms)) : "<span class=\"open\">open</span>";
      std::string start = fmt::format("<a href=\"{}{}\">{}</a>", escape(base), escape(url_encode(r.id)), escape(utc_text(r.start_ms)));
      if (base.empty()) start = escape(utc_text(r.start_ms));
      b += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td>{}</td></tr>", start,
                       escape(r.kind), escape(where), dur, severity_html(r.severity), escape(dollars(r.cost_usd)),
                       escape(r.top_culprit.empty() ? r.summary : r.top_culprit));
    }
    b += "</table>";
  }
  return page("Incidents — Stormscope", b);
}

std::string range_text(const RangeSummary& s, size_t max_rows) {
  std::string o = fmt::format("Incidents from {} to {}: {}, {} of GPU idle time\n\n", utc_text(s.filters.from_ms),
                              utc_text(s.filters.to_ms), s.rows.size(), dollars(s.total_usd));
  o += fmt::format("{:<18} {:>9} {:>12}\n", "kind", "incidents", "cost");
  for (const char* k : kKindNames) {
    auto it = s.by_kind.find(k);
    o += fmt::format("{:<18} {:>9} {:>12}\n", k, it == s.by_kind.end() ? 0 : it->second.first,
                     dollars(it == s.by_kind.end() ? 0 : it->second.second));
  }
  auto jobs = worst_jobs(s, 10);
  o += "\nWorst offenders (jobs by dollars caused)\n";
  if (jobs.empty()) o += "  none named\n";
  else o += fmt::format("  {:<20} {:>9} {:>12} {:>12}\n", "job", "incidents", "caused", "lost");
  for (const auto& [job, c] : jobs)
    o += fmt::format("  {:<20} {:>9} {:>12} {:>12}\n", job, c.incidents, dollars(c.caused_usd), dollars(c.lost_usd));
  // The most expensive incidents.
  std::vector<const IncidentRow*> top;
  for (const auto& r : s.rows) top.push_back(&r);
  std::sort(top.begin(), top.end(), [](auto* a, auto* b) { return a->cost_usd > b->cost_usd; });
  o += "\nMost expensive incidents\n";
  for (size_t k = 0; k < top.size() && k < max_rows; ++k)
    o += fmt::format("  {:>10}  {}  {:<16}  {}\n    {}\n", dollars(top[k]->cost_usd), utc_text(top[k]->start_ms).substr(0, 19),
                     top[k]->kind, top[k]->summary, top[k]->id);
  if (top.empty()) o += "  none\n";
  return o;
}

}  // namespace ss::report
