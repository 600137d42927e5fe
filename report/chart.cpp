#include "report/chart.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <ctime>

#include "report/html.h"

namespace ss::report {

size_t Chart::points() const {
  size_t n = 0;
  for (const auto& s : series) n += s.points.size();
  return n;
}

nlohmann::json to_json(const Chart& c) {
  nlohmann::json series = nlohmann::json::array();
  for (const auto& s : c.series) {
    nlohmann::json pts = nlohmann::json::array();
    for (const auto& [t, v] : s.points) pts.push_back({t, std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr)});
    series.push_back({{"name", s.name}, {"points", std::move(pts)}});
  }
  nlohmann::json lines = nlohmann::json::array();
  for (const auto& l : c.lines) lines.push_back({{"label", l.label}, {"value", l.value}, {"threshold", l.threshold}});
  nlohmann::json j = {{"title", c.title}, {"unit", c.unit},   {"from", c.from_ms},   {"to", c.to_ms},
                      {"mark_from", c.mark_from_ms},          {"mark_to", c.mark_to_ms},
                      {"series", std::move(series)},          {"lines", std::move(lines)}, {"note", c.note}};
  if (c.band) j["band"] = {{"low", c.band->first}, {"high", c.band->second}, {"label", c.band_label}};
  return j;
}

Result<Chart> chart_from_json(const nlohmann::json& j) {
  try {
    Chart c;
    c.title = j.at("title").get<std::string>();
    c.unit = j.value("unit", "");
    c.from_ms = j.at("from").get<int64_t>();
    c.to_ms = j.at("to").get<int64_t>();
    c.mark_from_ms = j.value("mark_from", c.from_ms);
    c.mark_to_ms = j.value("mark_to", c.to_ms);
    c.note = j.value("note", "");
    for (const auto& s : j.value("series", nlohmann::json::array())) {
      ChartSeries cs;
      cs.name = s.value("name", "");
      for (const auto& p : s.at("points"))
        if (p.is_array() && p.size() == 2 && p[1].is_number()) cs.points.push_back({p[0].get<int64_t>(), p[1].get<double>()});
      c.series.push_back(std::move(cs));
    }
    for (const auto& l : j.value("lines", nlohmann::json::array()))
      c.lines.push_back({l.value("label", ""), l.value("value", 0.0), l.value("threshold", false)});
    if (j.contains("band") && j["band"].is_object()) {
      c.band = std::pair{j["band"].value("low", 0.0), j["band"].value("high", 0.0)};
      c.band_label = j["band"].value("label", "");
    }
    return c;
  } catch (const nlohmann::json::exception& e) {
    return errorf("chart: {}", e.what());
  }
}

std::string format_value(double v, const std::string& unit) {
  if (unit == "%") return fmt::format("{:.0f} %", v);
  if (unit == "B/s") return bytes_text(v) + "/s";
  if (unit == "bytes") return bytes_text(v);
  if (unit == "ms") return v >= 100 ? fmt::format("{:.0f} ms", v) : fmt::format("{:.3g} ms", v);
  return unit.empty() ? si(v) : si(v) + " " + unit;
}

namespace {

constexpr double kW = 760, kH = 220, kLeft = 64, kRight = 12, kTop = 10, kBottom = 26;

// 1, 2 or 5 times a power of ten, at least `raw`.
double nice_step(double raw) {
  if (!(raw > 0)) return 1;
  double p = std::pow(10, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * p >= raw) return m * p;
  return 10 * p;
}

int64_t time_step(int64_t span_ms) {
  static const int64_t steps[] = {10'000,    30'000,    60'000,     120'000,    300'000,     600'000,
                                  900'000,   1'800'000, 3'600'000,  7'200'000,  10'800'000,  21'600'000,
                                  43'200'000, 86'400'000, 172'800'000, 604'800'000};
  for (int64_t s : steps)
    if (span_ms / s <= 6) return s;
  return 604'800'000;
}

std::string hhmm(int64_t ms, bool with_day) {
  std::time_t s = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&s, &tm);
  if (with_day) return fmt::format("{:02}-{:02} {:02}:{:02}", tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min);
  return fmt::format("{:02}:{:02}", tm.tm_hour, tm.tm_min);
}

}  // namespace

std::string chart_svg(const Chart& c) {
  const size_t n = c.points();
  std::string out = fmt::format("<figure class=\"chart\" data-points=\"{}\"><h3>{}</h3>", n, escape(c.title));
  if (!c.note.empty()) out += fmt::format("<div class=\"muted\">{}</div>", escape(c.note));
  int64_t from = c.from_ms, to = std::max(c.to_ms, c.from_ms + 1);
  double lo = INFINITY, hi = -INFINITY;
  for (const auto& s : c.series)
    for (const auto& [t, v] : s.points)
      if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  for (const auto& l : c.lines) lo = std::min(lo, l.value), hi = std::max(hi, l.value);
  if (c.band) lo = std::min(lo, c.band->first), hi = std::max(hi, c.band->second);
  if (!std::isfinite(lo)) lo = 0, hi = 1;
  lo = std::min(lo, 0.0);  // rates, waits, fills and utilizations read best from zero
  if (hi <= lo) hi = lo + 1;
  double ystep = nice_step((hi - lo) / 4);
  hi = std::ceil(hi / ystep) * ystep;
  lo = std::floor(lo / ystep) * ystep;
  const double pw = kW - kLeft - kRight, ph = kH - kTop - kBottom;
  auto X = [&](int64_t t) { return kLeft + pw * double(t - from) / double(to - from); };
  auto Y = [&](double v) { return kTop + ph * (1 - (v - lo) / (hi - lo)); };

  out += fmt::format("<svg viewBox=\"0 0 {} {}\" width=\"100%\" role=\"img\" aria-label=\"{}\" "
                     "xmlns=\"http://www.w3.org/2000/svg\">",
                     kW, kH, escape(c.title));
  // The incident's window, then the baseline band under everything else.
  int64_t mf = std::clamp(c.mark_from_ms, from, to), mt = std::clamp(c.mark_to_ms, from, to);
  if (mt > mf)
    out += fmt::format("<rect class=\"win\" x=\"{:.1f}\" y=\"{}\" width=\"{:.1f}\" height=\"{}\"/>", X(mf), kTop,
                       X(mt) - X(mf), ph);
  if (c.band)
    out += fmt::format("<rect class=\"band\" x=\"{}\" y=\"{:.1f}\" width=\"{}\" height=\"{:.1f}\"/>", kLeft,
                       Y(c.band->second), pw, std::max(1.0, Y(c.band->first) - Y(c.band->second)));
  for (double v = lo; v <= hi + ystep / 2; v += ystep) {
    out += fmt::format("<line class=\"grid\" x1=\"{}\" x2=\"{}\" y1=\"{:.1f}\" y2=\"{:.1f}\"/>", kLeft, kW - kRight,
                       Y(v), Y(v));
    out += fmt::format("<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>", kLeft - 6, Y(v) + 4,
                       escape(format_value(v, c.unit)));
  }
  int64_t ts = time_step(to - from);
  bool days = to - from > 86'400'000;
  for (int64_t t = (from / ts + 1) * ts; t < to; t += ts)
    out += fmt::format("<line class=\"grid\" x1=\"{0:.1f}\" x2=\"{0:.1f}\" y1=\"{1}\" y2=\"{2}\"/>"
                       "<text x=\"{0:.1f}\" y=\"{3}\" text-anchor=\"middle\">{4}</text>",
                       X(t), kTop, kTop + ph, kH - 8, hhmm(t, days));
  for (const auto& l : c.lines)
    out += fmt::format("<line class=\"{}\" x1=\"{}\" x2=\"{}\" y1=\"{:.1f}\" y2=\"{:.1f}\"/>", l.threshold ? "thr" : "ref",
                       kLeft, kW - kRight, Y(l.value), Y(l.value));
  // A series is a polyline broken where points are further apart than 3 of its usual gaps (missing data).
  for (size_t i = 0; i < c.series.size(); ++i) {
    const auto& pts = c.series[i].points;
    std::vector<int64_t> gaps;
    for (size_t k = 1; k < pts.size(); ++k) gaps.push_back(pts[k].first - pts[k - 1].first);
    int64_t usual = 0;
    if (!gaps.empty()) {
      std::nth_element(gaps.begin(), gaps.begin() + gaps.size() / 2, gaps.end());
      usual = gaps[gaps.size() / 2];
    }
    std::string path;
    int64_t prev = 0;
    bool pen = false;
    for (const auto& [t, v] : pts) {
      if (!std::isfinite(v)) {
        pen = false;
        continue;
      }
      bool jump = pen && usual > 0 && t - prev > 3 * usual;
      path += fmt::format("{}{:.1f},{:.1f}", !pen || jump ? "M" : "L", X(t), Y(v));
      pen = true;
      prev = t;
    }
    if (pts.size() == 1)  // a lone point still shows
      path += fmt::format("h2");
    out += fmt::format("<path class=\"s k{}\" d=\"{}\"><title>{}</title></path>", i % 8, path,
                       escape(c.series[i].name));
  }
  if (n == 0)
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">no stored points in this range</text>",
                       kLeft + pw / 2, kTop + ph / 2);
  out += "</svg><div class=\"legend\">";
  for (size_t i = 0; i < c.series.size(); ++i)
    out += fmt::format("<span><i class=\"k{}\"></i>{}</span>", i % 8, escape(c.series[i].name));
  if (c.band)
    out += fmt::format("<span><i class=\"kband\"></i>{} ({} – {})</span>", escape(c.band_label),
                       escape(format_value(c.band->first, c.unit)), escape(format_value(c.band->second, c.unit)));
  for (const auto& l : c.lines)
    out += fmt::format("<span><i class=\"{}\"></i>{}: {}</span>", l.threshold ? "kthr" : "kref", escape(l.label),
                       escape(format_value(l.value, c.unit)));
  out += "</div></figure>\n";
  return out;
}

std::string sparkline(const std::vector<double>& values, size_t width) {
  static const char* kBars[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
  std::vector<double> finite;
  for (double v : values)
    if (std::isfinite(v)) finite.push_back(v);
  if (finite.empty() || width == 0) return "";
  size_t cols = std::min(width, finite.size());
  std::vector<double> col(cols, 0);
  std::vector<int> cnt(cols, 0);
  for (size_t i = 0; i < finite.size(); ++i) {
    size_t k = i * cols / finite.size();
    col[k] += finite[i];
    cnt[k]++;
  }
  double lo = INFINITY, hi = -INFINITY;
  for (size_t k = 0; k < cols; ++k) {
    col[k] /= std::max(1, cnt[k]);
    lo = std::min(lo, col[k]);
    hi = std::max(hi, col[k]);
  }
  lo = std::min(lo, 0.0);
  std::string out;
  for (double v : col) out += kBars[hi > lo ? std::clamp(int((v - lo) / (hi - lo) * 7.999), 0, 7) : 0];
  return out;
}

}  // namespace ss::report
