#include "agent/sources/weka/stats.h"

#include <map>
#include <tuple>

#include "agent/sources/weka/json_util.h"

namespace ss::agent::weka {

namespace {

constexpr std::string_view kCmd = "weka stats";

// "READS[fS: 0]" → stat "READS", param "fS: 0".
void split_key(const std::string& key, std::string& stat, std::string& param) {
  auto open = key.find('[');
  if (open != std::string::npos && key.back() == ']') {
    stat = key.substr(0, open);
    param = key.substr(open + 1, key.size() - open - 2);
  } else {
    stat = key, param.clear();
  }
}

// One value: a number is kept, a list of buckets is a histogram (skipped), anything else is unknown.
void add_value(Stats& out, const std::string& category, const std::string& key, const nlohmann::json& v, int64_t t) {
  if (v.is_array()) {
    ++out.histograms;
    return;
  }
  auto n = number(v);
  if (!n) {
    ++out.unknown_fields;
    return;
  }
  StatValue s;
  s.category = category;
  split_key(key, s.stat, s.param);
  s.value = *n;
  s.t_ms = t;
  out.values.push_back(std::move(s));
}

Result<void> parse_rows(const nlohmann::json& rows, Stats& out) {
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& r = rows[i];
    if (!r.is_object()) return errorf("{}: row {}: expected an object", kCmd, i + 1);
    const char* stat_key = r.contains("stat") ? "stat" : "stat_type";
    const char* value_key = r.contains("value") ? "value" : "stat_value";
    if (!r.contains("category") || !r.contains(stat_key) || !r.contains(value_key) || !r.contains("timestamp"))
      return errorf("{}: row {}: needs category, stat, value and timestamp (run it with -J)", kCmd, i + 1);
    auto t = timestamp_ms(r["timestamp"]);
    if (!t) return errorf("{}: row {}: timestamp is not a time: {}", kCmd, i + 1, r["timestamp"].dump());
    if (!r["category"].is_string() || !r[stat_key].is_string())
      return errorf("{}: row {}: category and stat must be strings", kCmd, i + 1);
    add_value(out, r["category"].get<std::string>(), r[stat_key].get<std::string>(), r[value_key], *t);
  }
  return {};
}

Result<void> parse_tree(const nlohmann::json& tree, Stats& out) {
  for (const auto& [node, categories] : tree.items()) {
    if (!categories.is_object()) {
      ++out.unknown_fields;
      continue;
    }
    for (const auto& [category, buckets] : categories.items()) {
      if (!buckets.is_array()) return errorf("{}: {}.{}: expected a list of buckets", kCmd, node, category);
      for (size_t i = 0; i < buckets.size(); ++i) {
        const auto& b = buckets[i];
        if (!b.is_object() || !b.contains("stats") || !b["stats"].is_object() || !b.contains("timestamp"))
          return errorf("{}: {}.{}[{}]: expected {{\"stats\": {{...}}, \"timestamp\": ...}}", kCmd, node, category, i);
        auto t = timestamp_ms(b["timestamp"]);
        if (!t) return errorf("{}: {}.{}[{}]: timestamp is not a time: {}", kCmd, node, category, i, b["timestamp"].dump());
        for (const auto& [key, v] : b["stats"].items()) add_value(out, category, key, v, *t);
      }
    }
  }
  return {};
}

}  // namespace

Result<Stats> parse_stats(std::string_view text) {
  auto j = parse_json(text, kCmd);
  if (!j) return j.error();
  const auto& body = unwrap_data(*j);
  Stats out;
  Result<void> r;
  if (body.is_array()) r = parse_rows(body, out);
  else if (body.is_object()) r = parse_tree(body, out);
  else return errorf("{}: expected a list of rows or an object of nodes", kCmd);
  if (!r) return r.error();
  return out;
}

std::vector<StatValue> newest_values(const Stats& stats) {
  std::map<std::tuple<std::string, std::string, std::string>, const StatValue*> newest;
  for (const auto& v : stats.values) {
    auto& slot = newest[{v.category, v.stat, v.param}];
    if (!slot || v.t_ms >= slot->t_ms) slot = &v;
  }
  std::vector<StatValue> out;
  for (const auto& [k, v] : newest) out.push_back(*v);
  return out;
}

}  // namespace ss::agent::weka

namespace ss::agent::weka {

StatKind classify_stat(std::string_view stat, std::string& op) {
  auto lower = [](std::string_view s) {
    std::string o(s);
    for (auto& c : o)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return o;
  };
  op.clear();
  if (stat == "OPS") return StatKind::Total;
  if (stat == "READS") return op = "read", StatKind::OpRate;
  if (stat == "WRITES") return op = "write", StatKind::OpRate;
  if (stat == "READ_BYTES") return op = "read", StatKind::Bytes;
  if (stat == "WRITE_BYTES") return op = "write", StatKind::Bytes;
  if (stat == "THROUGHPUT" || stat.ends_with("_QOS_DELAY") || stat.ends_with("_NO_QOS") || stat.ends_with("_SIZES") ||
      stat.ends_with("_SIZES_RATE") || stat.ends_with("_DURATION") || stat.ends_with("_NO_LEASE") ||
      stat.find("_1HOP") != std::string_view::npos || stat.starts_with("REQUESTS_") || stat == "DOORBELL_RING_COUNT" ||
      stat == "READ_CHECKSUM_ERRORS")
    return StatKind::Ignored;
  if (stat.size() > 4 && stat.ends_with("_OPS")) return op = lower(stat.substr(0, stat.size() - 4)), StatKind::OpRate;
  if (stat.size() > 8 && stat.ends_with("_LATENCY")) {
    op = lower(stat.substr(0, stat.size() - 8));
    return StatKind::OpLatency;
  }
  return StatKind::Unknown;
}

}  // namespace ss::agent::weka
