#include "report/incident_page.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "report/html.h"

namespace ss::report {

using json = nlohmann::json;

namespace {

std::string str(const json& j, const char* key) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
}
double num(const json& j, const char* key) {
  return j.contains(key) && j[key].is_number() ? j[key].get<double>() : 0.0;
}
int64_t ms(const json& j, const char* key) {
  return j.contains(key) && j[key].is_number() ? j[key].get<int64_t>() : 0;
}
bool has_end(const json& i) { return i.contains("end") && i["end"].is_number(); }

// "ai0-OST0003" -> 3 (the index `lfs find --ost` takes); -1 when the name has none.
long ost_index(const std::string& target) {
  auto p = target.rfind("OST");
  if (p == std::string::npos || p + 3 >= target.size()) return -1;
  char* end = nullptr;
  long v = std::strtol(target.c_str() + p + 3, &end, 16);
  return end == target.c_str() + p + 3 ? -1 : v;
}

// Plain text with `code` spans to HTML.
std::string step_html(const std::string& text) {
  std::string out;
  bool code = false;
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == '`') {
      out += escape(text.substr(start, i - start));
      if (i < text.size()) out += code ? "</code>" : "<code>";
      code = !code;
      start = i + 1;
    }
  }
  if (!code) out += "</code>";  // an unbalanced backtick: close what was opened
  return out;
}

std::string title_of(const json& i) {
  std::string where = str(i, "target").empty() ? str(i, "fs") : str(i, "target");
  if (str(i, "kind") == "checkpoint_stall") {
    std::string job = i.contains("evidence") ? str(i["evidence"].value("peak", json::object()), "job") : "";
    if (job.empty() && i.contains("culprits") && !i["culprits"].empty()) job = str(i["culprits"][0], "job");
    if (!job.empty()) where = "job " + job;
  }
  return str(i, "kind") + (where.empty() ? "" : " on " + where);
}

}  // namespace

std::string duration_text(int64_t d) {
  d = std::max<int64_t>(0, d) / 1000;
  if (d < 60) return fmt::format("{} s", d);
  if (d < 3600) return fmt::format("{} min {} s", d / 60, d % 60);
  if (d < 86400) return fmt::format("{} h {} min", d / 3600, d % 3600 / 60);
  return fmt::format("{} d {} h", d / 86400, d % 86400 / 3600);
}

std::string severity_html(const std::string& s) {
  return fmt::format("<span class=\"{}\">{}</span>", s == "critical" ? "crit" : "warn", escape(s));
}

std::string culprit_label(const json& c) {
  std::string s;
  auto add = [&](const char* key, const char* prefix) {
    std::string v = str(c, key);
    if (!v.empty()) s += (s.empty() ? "" : " ") + std::string(prefix) + v;
  };
  add("job", "job ");
  add("node", "on ");
  add("comm", "");
  add("path", "");
  add("user", "user ");
  return s.empty() ? "(unattributed)" : s;
}

json to_json(const IncidentView& v) {
  json charts = json::array();
  for (const auto& c : v.charts) charts.push_back(to_json(c));
  json related = json::array();
  for (const auto& r : v.related) {
    json o = r.incident;
    o["relation"] = r.relation;
    related.push_back(std::move(o));
  }
  return {{"incident", v.incident}, {"charts", charts}, {"related", related}, {"chain", v.chain}};
}

Result<IncidentView> view_from_json(const json& j) {
  if (!j.is_object() || !j.contains("incident") || !j["incident"].is_object())
    return Error{"incident view: no \"incident\" object"};
  IncidentView v;
  v.incident = j["incident"];
  for (const auto& c : j.value("charts", json::array())) {
    auto chart = chart_from_json(c);
    if (!chart) return chart.error();
    v.charts.push_back(std::move(*chart));
  }
  for (const auto& r : j.value("related", json::array())) {
    if (!r.is_object()) continue;
    json inc = r;
    std::string relation = str(r, "relation");
    inc.erase("relation");
    v.related.push_back({std::move(inc), relation});
  }
  for (const auto& id : j.value("chain", json::array()))
    if (id.is_string()) v.chain.push_back(id.get<std::string>());
  return v;
}

std::vector<std::string> next_steps(const json& i) {
  std::vector<std::string> out;
  std::string kind = str(i, "kind"), fs = str(i, "fs"), target = str(i, "target");
  json ev = i.contains("evidence") && i["evidence"].is_object() ? i["evidence"].value("peak", i["evidence"]) : json::object();
  const json culprits = i.value("culprits", json::array());
  if (kind == "metadata_storm") {
    for (size_t k = 0; k < culprits.size() && k < 3; ++k) {
      const auto& c = culprits[k];
      std::string who = str(c, "comm").empty() ? "the processes" : "process `" + str(c, "comm") + "`";
      if (!str(c, "job").empty()) who += " of job " + str(c, "job");
      if (!str(c, "node").empty()) who += " on " + str(c, "node");
      if (!str(c, "user").empty()) who += " (user " + str(c, "user") + ")";
      std::string where = str(c, "path").empty() ? "" : " in `" + str(c, "path") + "`";
      out.push_back(fmt::format("Look at {}{}: {:.0f} % of the excess metadata ops.", who, where, 100 * num(c, "share")));
    }
    if (culprits.empty()) out.push_back("No culprit was attributed: check which jobs ran on the nodes below at the start.");
    out.push_back("Typical fixes: list a directory once and cache it instead of stat()ing or opening files in a loop; "
                  "use `lfs find` rather than `find`/`ls -l` on Lustre; shard datasets into fewer, larger files; "
                  "spread many small files over several directories.");
    for (const auto& w : ev.value("mdc_wait", json::array()))
      out.push_back(fmt::format("Clients waited {:.0f} ms per RPC on {}: every job on {} was slowed, not only the culprit.",
                                num(w, "mean_wait_ms"), str(w, "target"), fs.empty() ? "this file system" : fs));
  } else if (kind == "waittime_spike") {
    out.push_back(fmt::format("Target {} answered in {:.0f} ms per RPC (baseline {:.1f} ms); see which nodes saw it in the chart.",
                              target, num(ev, "mean_wait_ms"), num(ev, "baseline_ms")));
    out.push_back("If a metadata storm or an OST imbalance overlaps it (related incidents below), that is the likely cause: fix it first.");
    out.push_back(target.find("MDT") != std::string::npos
                      ? "On the MDS: `lctl get_param mdt.*.md_stats` and `lctl get_param mds.MDS.mdt.stats` show who loads it."
                      : "On the OSS: `lctl get_param obdfilter.*.stats` and `lctl get_param ost.OSS.ost_io.stats`; check the OST's fill and the disks behind it.");
  } else if (kind == "ost_imbalance") {
    std::string full = str(ev, "fullest"), empty = str(ev, "emptiest");
    double move = num(ev, "bytes_to_move");
    std::string mount = "/mnt/" + (fs.empty() ? std::string("FS") : fs);
    if (!full.empty())
      out.push_back(fmt::format("Move about {} off {} (the fullest, {:.0f} % full) toward {} (the emptiest).", bytes_text(move),
                                full, 100 * num(ev.value("fill", json::object()).value(full, json::object()), "fill"),
                                empty.empty() ? "the emptiest OSTs" : empty));
    if (long idx = ost_index(full); idx >= 0)
      out.push_back(fmt::format("Find large files on it and migrate them: `lfs find {} --ost {} --size +1G --type f | lfs_migrate -y` "
                                "(with your mount point).",
                                mount, idx));
    out.push_back("Stripe new large files wider so they spread: `lfs setstripe -c -1 <directory>`; consider deactivating "
                  "new allocations on the full OST until it drains (`lctl set_param osp.<fs>-OSTxxxx-osc-MDT*.max_create_count=0`).");
  } else if (kind == "checkpoint_stall") {
    double bytes = num(ev, "bytes"), bw = num(ev, "effective_bandwidth"), need = num(ev, "bandwidth_for_target");
    double target_s = num(ev, "target_stall_seconds");
    int gpus = static_cast<int>(num(ev, "gpus_judged"));
    out.push_back(fmt::format("The checkpoint wrote {} in {:.0f} s at {}/s; {}/s would keep the stall under {:.0f} s.",
                              bytes_text(bytes), num(ev, "stall_seconds"), bytes_text(bw), bytes_text(need), target_s));
    if (bytes > 0 && bw > 0)
      out.push_back(fmt::format("What it costs at each throughput, and the one the target needs: "
                                "`stormscope plan --checkpoint-size {:.1f}GB --gpus {} --write {:.2f}GB/s {:.2f}GB/s --target {:.0f}s`",
                                bytes / 1e9, std::max(gpus, 1), bw / 1e9, std::max(need, bw) / 1e9, target_s));
    out.push_back("Write checkpoints asynchronously (copy to host memory, write in the background), shard them over more "
                  "nodes and OSTs (`lfs setstripe -c` on the checkpoint directory), or checkpoint less often.");
  }
  return out;
}

std::string incident_html(const IncidentView& v, const PageLinks& links) {
  const json& i = v.incident;
  std::string b;
  b.reserve(16384);
  if (!links.list_href.empty())
    b += fmt::format("<p><a href=\"{}\">&larr; all incidents</a></p>", escape(links.list_href));
  b += fmt::format("<h1>{} {}</h1>", escape(title_of(i)), severity_html(str(i, "severity")));
  b += fmt::format("<div class=\"summary\">{}</div>", escape(str(i, "summary")));
  int64_t start = ms(i, "start");
  b += "<dl class=\"facts\">";
  auto fact = [&](const char* name, const std::string& html) { b += fmt::format("<dt>{}</dt><dd>{}</dd>", name, html); };
  fact("Incident", "<code>" + escape(str(i, "id")) + "</code>");
  fact("Kind", escape(str(i, "kind")));
  fact("File system", escape(str(i, "fs").empty() ? "-" : str(i, "fs")));
  fact("Target", escape(str(i, "target").empty() ? "-" : str(i, "target")));
  fact("Start", time_html(start));
  if (has_end(i)) {
    fact("End", time_html(ms(i, "end")));
    fact("Duration", escape(duration_text(ms(i, "end") - start)));
  } else {
    fact("End", "<span class=\"open\">open</span>" +
                    (i.contains("last_seen") ? " (last seen " + time_html(ms(i, "last_seen")) + ")" : std::string()));
    fact("Duration", escape(duration_text(ms(i, "last_seen") - start)) + " so far");
  }
  fact("Severity", severity_html(str(i, "severity")));
  fact("GPU idle", escape(fmt::format("{:.0f} GPU-seconds", num(i, "gpu_idle_seconds"))));
  fact("Cost", "<strong>" + escape(dollars(num(i, "cost_usd"))) + "</strong>");
  if (!str(i, "close_reason").empty()) fact("Closed", escape(str(i, "close_reason")));
  b += "</dl>";

  if (!v.charts.empty()) {
    b += "<h2>Signal</h2>";
    for (const auto& c : v.charts) b += chart_svg(c);
  }

  b += "<h2>Culprits</h2>";
  const json culprits = i.value("culprits", json::array());
  if (culprits.empty()) {
    b += "<p class=\"muted\">None attributed.</p>";
  } else {
    b += "<table><tr><th>Job</th><th>Node</th><th>Process</th><th>Directory</th><th>User</th><th class=\"num\">Share</th></tr>";
    for (const auto& c : culprits)
      b += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{:.0f} %</td></tr>",
                       escape(str(c, "job")), escape(str(c, "node")), escape(str(c, "comm")), escape(str(c, "path")),
                       escape(str(c, "user")), 100 * num(c, "share"));
    b += "</table>";
  }
  if (i.contains("victims") && i["victims"].is_array()) {
    b += "<h2>Victims</h2>";
    if (i["victims"].empty()) b += "<p class=\"muted\">No job's GPUs fell below their baseline.</p>";
    else {
      b += "<table><tr><th>Job</th><th>Nodes</th><th class=\"num\">GPU-seconds idle</th><th class=\"num\">Cost</th></tr>";
      for (const auto& vic : i["victims"]) {
        std::string nodes;
        for (const auto& n : vic.value("nodes", json::array()))
          if (n.is_string()) nodes += (nodes.empty() ? "" : ", ") + n.get<std::string>();
        b += fmt::format("<tr><td>{}</td><td>{}</td><td class=\"num\">{:.0f}</td><td class=\"num\">{}</td></tr>",
                         escape(str(vic, "job")), escape(nodes), num(vic, "gpu_idle_seconds"),
                         escape(dollars(num(vic, "cost_usd"))));
      }
      b += "</table>";
    }
  }

  b += "<h2>Related incidents</h2>";
  auto id_html = [&](const std::string& id) {
    if (links.incident_base.empty()) return "<code>" + escape(id) + "</code>";
    return fmt::format("<a href=\"{}{}\">{}</a>", escape(links.incident_base), escape(url_encode(id)), escape(id));
  };
  if (v.chain.size() > 1) {
    std::string chain;
    for (const auto& id : v.chain) {
      std::string label = id;
      if (id == str(i, "id")) label = "this " + str(i, "kind");
      for (const auto& r : v.related)
        if (str(r.incident, "id") == id) label = title_of(r.incident);
      chain += (chain.empty() ? "" : " &rarr; ") +
               (id == str(i, "id") ? "<strong>" + escape(label) + "</strong>"
                                   : (links.incident_base.empty() ? escape(label)
                                                                  : fmt::format("<a href=\"{}{}\">{}</a>", escape(links.incident_base),
                                                                                escape(url_encode(id)), escape(label))));
    }
    b += "<p>Likely chain: " + chain + "</p>";
  }
  if (v.related.empty()) {
    b += "<p class=\"muted\">None overlapping on this file system.</p>";
  } else {
    b += "<table><tr><th>Relation</th><th>Incident</th><th>Kind</th><th>Target</th><th>Start</th><th>End</th><th>Summary</th></tr>";
    for (const auto& r : v.related) {
      const json& o = r.incident;
      b += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                       escape(r.relation), id_html(str(o, "id")), escape(str(o, "kind")), escape(str(o, "target")),
                       time_html(ms(o, "start")), has_end(o) ? time_html(ms(o, "end")) : "<span class=\"open\">open</span>",
                       escape(str(o, "summary")));
    }
    b += "</table>";
  }

  b += "<h2>Nodes</h2>";
  std::string nodes;
  for (const auto& n : i.value("nodes", json::array()))
    if (n.is_string()) nodes += (nodes.empty() ? "" : ", ") + escape(n.get<std::string>());
  b += nodes.empty() ? "<p class=\"muted\">None recorded.</p>" : "<p>" + nodes + "</p>";

  b += "<h2>What to do next</h2><ol class=\"steps\">";
  for (const auto& s : next_steps(i)) b += "<li>" + step_html(s) + "</li>";
  b += "</ol>";

  b += "<h2>Evidence</h2><pre>" + escape(i.value("evidence", json::object()).dump(2)) + "</pre>";
  return page(title_of(i) + " — Stormscope", b);
}

std::string incident_text(const IncidentView& v) {
  const json& i = v.incident;
  std::string o;
  int64_t start = ms(i, "start");
  o += fmt::format("{}  [{}]\n{}\n\n", title_of(i), str(i, "severity"), str(i, "summary"));
  o += fmt::format("  id          {}\n  file system {}\n  target      {}\n", str(i, "id"), str(i, "fs").empty() ? "-" : str(i, "fs"),
                   str(i, "target").empty() ? "-" : str(i, "target"));
  o += fmt::format("  start       {}\n", utc_text(start));
  if (has_end(i))
    o += fmt::format("  end         {}  ({})\n", utc_text(ms(i, "end")), duration_text(ms(i, "end") - start));
  else
    o += fmt::format("  end         open  ({} so far)\n", duration_text(ms(i, "last_seen") - start));
  o += fmt::format("  cost        {}  ({:.0f} GPU-seconds idle)\n", dollars(num(i, "cost_usd")), num(i, "gpu_idle_seconds"));
  for (const auto& c : v.charts) {
    o += fmt::format("\n{}\n", c.title);
    size_t width = 0;
    for (size_t k = 0; k < c.series.size() && k < 8; ++k) width = std::max(width, c.series[k].name.size());
    width = std::min<size_t>(width, 28);
    for (size_t k = 0; k < c.series.size() && k < 8; ++k) {
      std::vector<double> vals;
      double peak = -INFINITY;
      for (const auto& [t, val] : c.series[k].points) vals.push_back(val), peak = std::max(peak, val);
      std::string name = c.series[k].name.substr(0, width);
      o += fmt::format("  {:<{}}  {}  peak {}\n", name, width, sparkline(vals, 48),
                       vals.empty() ? "-" : format_value(peak, c.unit));
    }
    if (c.series.size() > 8) o += fmt::format("  … and {} more\n", c.series.size() - 8);
    for (const auto& l : c.lines) o += fmt::format("  {}: {}\n", l.label, format_value(l.value, c.unit));
    if (c.band)
      o += fmt::format("  {}: {} – {}\n", c.band_label, format_value(c.band->first, c.unit), format_value(c.band->second, c.unit));
  }
  o += "\nCulprits\n";
  const json culprits = i.value("culprits", json::array());
  if (culprits.empty()) o += "  none attributed\n";
  for (const auto& c : culprits) o += fmt::format("  {:>4.0f} %  {}\n", 100 * num(c, "share"), culprit_label(c));
  if (i.contains("victims") && i["victims"].is_array() && !i["victims"].empty()) {
    o += "\nVictims\n";
    for (const auto& vic : i["victims"])
      o += fmt::format("  job {:<16} {:>8.0f} GPU-s  {}\n", str(vic, "job"), num(vic, "gpu_idle_seconds"),
                       dollars(num(vic, "cost_usd")));
  }
  if (!v.related.empty()) {
    o += "\nRelated incidents\n";
    for (const auto& r : v.related)
      o += fmt::format("  {:<13} {}  {}\n", r.relation, str(r.incident, "id"), str(r.incident, "summary"));
  }
  if (v.chain.size() > 1) {
    std::string chain;
    for (const auto& id : v.chain) chain += (chain.empty() ? "" : " -> ") + id;
    o += "  likely chain: " + chain + "\n";
  }
  std::string nodes;
  for (const auto& n : i.value("nodes", json::array()))
    if (n.is_string()) nodes += (nodes.empty() ? "" : ", ") + n.get<std::string>();
  o += "\nNodes\n  " + (nodes.empty() ? "-" : nodes) + "\n\nWhat to do next\n";
  int k = 1;
  for (const auto& s : next_steps(i)) o += fmt::format("  {}. {}\n", k++, s);
  return o;
}

}  // namespace ss::report
