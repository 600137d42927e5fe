// The metric catalog (common/metrics.h) against what ships with it: every name the rules and dashboards
// read is a family of the catalog (or one of its histogram series), a series the rules record, or one
// Prometheus makes itself; and the catalog itself is well-formed.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "common/metrics.h"

namespace fs = std::filesystem;
using namespace ss;

namespace {

const fs::path kSource = SS_SOURCE_DIR;

// The metric names a PromQL expression reads: identifiers that are neither functions, keywords, label
// names (inside {…} or by/without/on/ignoring/group_*(…)), durations nor Grafana variables.
std::set<std::string> metric_names(std::string e) {
  static const std::regex strings(R"re("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)re");
  static const std::regex matchers(R"(\{[^}]*\})");
  static const std::regex ranges(R"(\[[^\]]*\])");
  static const std::regex groupings(R"(\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\))");
  static const std::regex variables(R"(\$\{[^}]*\}|\$\w+)");
  static const std::regex ident(R"((^|[^\w.:])([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?=(\s*\()?))");
  static const std::set<std::string> keywords{"and", "or", "unless", "by", "without", "offset", "bool", "on",
                                              "ignoring", "group_left", "group_right", "inf", "nan"};
  for (const auto* re : {&strings, &matchers, &ranges, &groupings, &variables}) e = std::regex_replace(e, *re, " ");
  std::set<std::string> out;
  for (auto it = std::sregex_iterator(e.begin(), e.end(), ident); it != std::sregex_iterator(); ++it) {
    std::string name = (*it)[2];
    if ((*it)[3].matched || keywords.count(name)) continue;
    out.insert(name);
  }
  return out;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<fs::path> files(const fs::path& dir, const std::string& ext) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ext) out.push_back(e.path());
  return out;
}

// Names read by every rule and dashboard expression, and the names the rules record.
struct Uses {
  std::map<std::string, std::string> read;  // name → where
  std::set<std::string> recorded;
};

void walk_dashboard(const nlohmann::json& j, const std::string& where, Uses& uses) {
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) {
      if (k == "expr" && v.is_string()) {
        for (const auto& n : metric_names(v.get<std::string>())) uses.read.emplace(n, where);
      } else if (k == "query" && v.is_string()) {
        // A variable's label_values(metric, label).
        static const std::regex label_values(R"(label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*,)");
        std::smatch m;
        std::string q = v.get<std::string>();
        if (std::regex_search(q, m, label_values)) uses.read.emplace(m[1], where);
      } else {
        walk_dashboard(v, where, uses);
      }
    }
  } else if (j.is_array()) {
    for (const auto& v : j) walk_dashboard(v, where, uses);
  }
}

Uses uses_of_rules_and_dashboards() {
  Uses uses;
  for (const auto& f : files(kSource / "rules", ".yml")) {
    YAML::Node doc = YAML::LoadFile(f.string());
    for (const auto& group : doc["groups"])
      for (const auto& rule : group["rules"]) {
        if (rule["record"]) uses.recorded.insert(rule["record"].as<std::string>());
        for (const auto& n : metric_names(rule["expr"].as<std::string>()))
          uses.read.emplace(n, f.filename().string());
      }
  }
  for (const auto& f : files(kSource / "dashboards", ".json"))
    walk_dashboard(nlohmann::json::parse(read_file(f)), f.filename().string(), uses);
  return uses;
}

bool known(const std::string& name, const std::set<std::string>& recorded) {
  // Series Prometheus makes itself: the scrape's health and the alerts' state.
  static const std::set<std::string> prometheus{"up", "scrape_duration_seconds", "scrape_samples_scraped", "ALERTS",
                                                "ALERTS_FOR_STATE"};
  if (recorded.count(name) || prometheus.count(name) || metrics::find(name)) return true;
  // The series of a histogram family.
  for (std::string_view suffix : {"_bucket", "_sum", "_count"}) {
    if (!name.ends_with(suffix)) continue;
    const metrics::Metric* m = metrics::find(std::string_view(name).substr(0, name.size() - suffix.size()));
    if (m && m->kind == MetricKind::Histogram) return true;
  }
  return false;
}

TEST(MetricCatalog, RulesAndDashboardsUseOnlyCatalogNames) {
  Uses uses = uses_of_rules_and_dashboards();
  ASSERT_GT(uses.read.size(), 20u) << "no expressions found under " << kSource;
  ASSERT_GT(uses.recorded.size(), 5u);
  for (const auto& [name, where] : uses.read)
    EXPECT_TRUE(known(name, uses.recorded)) << where << " reads " << name
                                            << ", which is neither in common/metrics.h nor recorded by a rule";
}

TEST(MetricCatalog, ExpressionParserFindsMetricNames) {
  // The parser the test above relies on: functions, label names, durations, variables and strings are not names.
  EXPECT_EQ(metric_names(R"(sum by (fs, target) (rate(lustre_client_rpcs_total{op=~"a|b"}[5m])) / (x:y:z > 0))"),
            (std::set<std::string>{"lustre_client_rpcs_total", "x:y:z"}));
  EXPECT_EQ(metric_names(R"(topk(10, a_total{job="$job"}[$__rate_interval] offset 1h) and on (node) group_left(m) up)"),
            (std::set<std::string>{"a_total", "up"}));
  EXPECT_EQ(metric_names("histogram_quantile(0.99, sum by (le) (rate(h_bucket[5m])))"), (std::set<std::string>{"h_bucket"}));
  // A function's parenthesis is not part of the match, or the name after it would lose its first letter.
  EXPECT_EQ(metric_names("sum(job:gpu_idle_dollars:per_hour)"), (std::set<std::string>{"job:gpu_idle_dollars:per_hour"}));
  EXPECT_FALSE(known("no_such_metric_total", {}));
  EXPECT_TRUE(known("vfs_op_duration_seconds_bucket", {}));
  EXPECT_FALSE(known("vfs_ops_total_bucket", {}));  // not a histogram
}

TEST(MetricCatalog, IsWellFormed) {
  static const std::regex name(R"([a-z_][a-z0-9_]*)"), labels(R"(([a-z_][a-z0-9_]*( [a-z_][a-z0-9_]*)*)?)");
  std::set<std::string_view> seen;
  for (const auto& m : metrics::catalog()) {
    EXPECT_TRUE(seen.insert(m.name).second) << m.name << " is listed twice";
    EXPECT_TRUE(std::regex_match(std::string(m.name), name)) << m.name;
    EXPECT_TRUE(std::regex_match(std::string(m.labels), labels)) << m.name << ": labels \"" << m.labels << "\"";
    EXPECT_FALSE(m.help.empty()) << m.name;
    // Prometheus conventions: counters end in _total, and only counters do.
    EXPECT_EQ(m.kind == MetricKind::Counter, m.name.ends_with("_total")) << m.name;
  }
  ASSERT_NE(metrics::find("gpu_utilization_ratio"), nullptr);
  EXPECT_EQ(metrics::find("gpu_utilization_ratio")->help, metrics::gpu_utilization_ratio.help);
  EXPECT_EQ(metrics::find("gpu_utilization"), nullptr);
}

}  // namespace
