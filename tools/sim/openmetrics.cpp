#include "tools/sim/openmetrics.h"

#include <fmt/format.h>

namespace ss::collector::sim {

namespace {

constexpr std::string_view kTotal = "_total";

bool ends_with_total(const std::string& name) {
  return name.size() > kTotal.size() && name.compare(name.size() - kTotal.size(), kTotal.size(), kTotal) == 0;
}

// OpenMetrics names a counter family without `_total`; counters without the suffix (histogram components
// sent as counters, DESIGN.md §4) are written as `unknown`, which OpenMetrics allows under any name.
std::string family_name(const Series& s) {
  if (s.type == SeriesType::Counter && ends_with_total(s.name)) return s.name.substr(0, s.name.size() - kTotal.size());
  return s.name;
}

std::string_view family_type(const std::string& family, const std::string& sample, SeriesType t) {
  if (t == SeriesType::Gauge) return "gauge";
  return family == sample ? "unknown" : "counter";
}

std::string label_text(const Labels& labels) {
  std::string out = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i) out += ',';
    out += labels[i].first + "=\"" + escape_label_value(labels[i].second) + "\"";
  }
  return out + "}";
}

std::string seconds(int64_t t_ms) {
  int64_t s = t_ms / 1000, ms = t_ms % 1000;
  if (ms < 0) s -= 1, ms += 1000;
  return fmt::format("{}.{:03d}", s, ms);
}

}  // namespace

void OpenMetricsWriter::add(const Batch& batch) {
  std::string instance = batch.node + ":" + scrape_.port;
  for (const auto& s : batch.series) {
    Labels labels = s.labels;
    labels.push_back({"instance", instance});
    if (label_value(s.labels, "job").empty()) {
      std::erase_if(labels, [](const Label& l) { return l.first == "job"; });
      labels.push_back({"job", scrape_.job});
    }
    (void)normalize_labels(labels);
    Family& f = families_[family_name(s)];
    f.type = s.type;
    auto& points = f.series[s.name + label_text(labels)];
    points.insert(points.end(), s.points.begin(), s.points.end());
    for (const auto& p : s.points) {
      reported_[instance].insert(p.t_ms);
      times_.insert(p.t_ms);
    }
  }
}

void OpenMetricsWriter::write(std::ostream& out) const {
  for (const auto& [family, f] : families_) {
    if (f.series.empty()) continue;
    std::string sample = f.series.begin()->first.substr(0, f.series.begin()->first.find('{'));
    out << "# TYPE " << family << ' ' << family_type(family, sample, f.type) << '\n';
    for (const auto& [key, points] : f.series)
      for (const auto& p : points) out << key << ' ' << fmt::format("{}", p.value) << ' ' << seconds(p.t_ms) << '\n';
  }
  if (!reported_.empty() && !families_.count("up")) {
    out << "# TYPE up gauge\n";
    for (const auto& [instance, at] : reported_) {
      Labels l = {{"instance", instance}, {"job", scrape_.job}};
      std::string key = "up" + label_text(l);
      for (int64_t t : times_) out << key << ' ' << (at.count(t) ? 1 : 0) << ' ' << seconds(t) << '\n';
    }
  }
  out << "# EOF\n";
}

}  // namespace ss::collector::sim
