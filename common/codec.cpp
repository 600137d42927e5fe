#include "common/codec.h"

#include <cmath>
#include <iterator>
#include <limits>
#include <nlohmann/json.hpp>

namespace ss {
namespace {

using json = nlohmann::json;

struct Invalid {
  std::string message;
};

[[noreturn]] void fail(const std::string& where, const std::string& what) {
  throw Invalid{where.empty() ? what : where + ": " + what};
}

const char* kind_of(const json& j) { return j.type_name(); }

std::string read_string(const json& j, const std::string& where) {
  if (!j.is_string()) fail(where, fmt::format("expected a string, got {}", kind_of(j)));
  return j.get<std::string>();
}

int64_t read_timestamp(const json& j, const std::string& where) {
  int64_t t;
  if (j.is_number_unsigned()) {
    uint64_t u = j.get<uint64_t>();
    if (u > static_cast<uint64_t>(kMaxTimestampMs)) fail(where, fmt::format("timestamp {} is out of range", u));
    t = static_cast<int64_t>(u);
  } else if (j.is_number_integer()) {
    t = j.get<int64_t>();
  } else {
    fail(where, fmt::format("timestamp must be an integer (ms since the epoch), got {}", kind_of(j)));
  }
  if (t < kMinTimestampMs || t > kMaxTimestampMs)
    fail(where, fmt::format("timestamp {} is out of range (milliseconds since the epoch expected)", t));
  return t;
}

double read_value(const json& j, const std::string& where) {
  if (j.is_number()) return j.get<double>();
  if (j.is_string()) {
    const auto& s = j.get_ref<const std::string&>();
    if (s == "NaN") return std::numeric_limits<double>::quiet_NaN();
    if (s == "+Inf" || s == "Inf") return std::numeric_limits<double>::infinity();
    if (s == "-Inf") return -std::numeric_limits<double>::infinity();
    fail(where, fmt::format("value \"{}\" is not a number", s));
  }
  fail(where, fmt::format("value must be a number, got {}", kind_of(j)));
}

Labels read_labels(const json& j, const std::string& where, const DecodeLimits& lim) {
  if (!j.is_object()) fail(where, fmt::format("expected an object, got {}", kind_of(j)));
  if (j.size() > lim.max_labels_per_series)
    fail(where, fmt::format("{} labels, at most {} allowed", j.size(), lim.max_labels_per_series));
  Labels labels;
  labels.reserve(j.size());
  for (const auto& [k, v] : j.items()) {
    std::string at = where + "." + k;
    if (!valid_label_name(k)) fail(where, fmt::format("label name \"{}\" is invalid", k));
    if (k.starts_with("__")) fail(where, fmt::format("label name \"{}\" is reserved", k));
    if (k == "node") fail(where, "label \"node\" is reserved: the collector adds it from the batch's node");
    std::string value = read_string(v, at);
    if (value.size() > lim.max_label_value_bytes)
      fail(at, fmt::format("label value is {} bytes, at most {} allowed", value.size(), lim.max_label_value_bytes));
    labels.emplace_back(k, std::move(value));
  }
  // json objects iterate in key order, so labels are already sorted and unique.
  return labels;
}

void only_keys(const json& j, const std::string& where, std::initializer_list<std::string_view> allowed) {
  for (const auto& [k, v] : j.items()) {
    bool known = false;
    for (auto a : allowed) known = known || k == a;
    if (!known) fail(where, fmt::format("unknown field \"{}\"", k));
  }
}

const json& required(const json& j, const char* key, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end()) fail(where, fmt::format("missing field \"{}\"", key));
  return *it;
}

std::string at(const std::string& base, const char* field) { return base.empty() ? field : base + "." + field; }

Series read_series(const json& j, const std::string& where, const DecodeLimits& lim, size_t& points_total) {
  if (!j.is_object()) fail(where, fmt::format("expected an object, got {}", kind_of(j)));
  only_keys(j, where, {"name", "type", "labels", "points"});
  Series s;
  s.name = read_string(required(j, "name", where), at(where, "name"));
  if (!valid_metric_name(s.name)) fail(at(where, "name"), fmt::format("metric name \"{}\" is invalid", s.name));
  std::string type = read_string(required(j, "type", where), at(where, "type"));
  if (type == "counter") s.type = SeriesType::Counter;
  else if (type == "gauge") s.type = SeriesType::Gauge;
  else fail(at(where, "type"), fmt::format("type \"{}\" is not \"counter\" or \"gauge\"", type));
  if (auto it = j.find("labels"); it != j.end()) s.labels = read_labels(*it, at(where, "labels"), lim);
  const json& pts = required(j, "points", where);
  std::string pw = at(where, "points");
  if (!pts.is_array()) fail(pw, fmt::format("expected an array, got {}", kind_of(pts)));
  points_total += pts.size();
  if (points_total > lim.max_points) fail(pw, fmt::format("batch has more than {} points", lim.max_points));
  s.points.reserve(pts.size());
  for (size_t i = 0; i < pts.size(); ++i) {
    const json& p = pts[i];
    std::string pi = fmt::format("{}[{}]", pw, i);
    if (!p.is_array() || p.size() != 2) fail(pi, "a point is [timestamp_ms, value]");
    Point pt{read_timestamp(p[0], pi + "[0]"), read_value(p[1], pi + "[1]")};
    if (s.type == SeriesType::Counter && pt.value < 0)
      fail(pi + "[1]", fmt::format("counter value {} is negative", pt.value));
    s.points.push_back(pt);
  }
  return s;
}

Event read_event(const json& j, const std::string& where, const DecodeLimits& lim) {
  if (!j.is_object()) fail(where, fmt::format("expected an object, got {}", kind_of(j)));
  only_keys(j, where, {"kind", "t", "labels", "fields"});
  Event e;
  e.kind = read_string(required(j, "kind", where), at(where, "kind"));
  if (!valid_label_name(e.kind)) fail(at(where, "kind"), fmt::format("event kind \"{}\" is invalid", e.kind));
  e.t_ms = read_timestamp(required(j, "t", where), at(where, "t"));
  if (auto it = j.find("labels"); it != j.end()) e.labels = read_labels(*it, at(where, "labels"), lim);
  if (auto it = j.find("fields"); it != j.end()) {
    if (!it->is_object()) fail(at(where, "fields"), fmt::format("expected an object, got {}", kind_of(*it)));
    e.fields_json = it->dump();
  }
  return e;
}

}  // namespace

Result<Batch> decode_batch(std::string_view text, const DecodeLimits& lim) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    // Parse again with exceptions only to get the position of the syntax error.
    try {
      json again = json::parse(text);
      (void)again;
    } catch (const json::parse_error& e) {
      return errorf("body is not valid JSON: {}", e.what());
    }
    return Error{"body is not valid JSON"};
  }
  try {
    if (!j.is_object()) fail("batch", fmt::format("expected a JSON object, got {}", kind_of(j)));
    only_keys(j, "batch", {"node", "stream", "seq", "series", "events"});
    Batch b;
    b.node = read_string(required(j, "node", "batch"), "node");
    if (!valid_node_name(b.node)) fail("node", fmt::format("\"{}\" is not 1-253 characters of [A-Za-z0-9._-]", b.node));
    if (auto it = j.find("stream"); it != j.end()) {
      b.stream = read_string(*it, "stream");
      if (b.stream.size() > 64 || (!b.stream.empty() && !valid_node_name(b.stream)))
        fail("stream", "must be at most 64 characters of [A-Za-z0-9._-]");
    }
    const json& seq = required(j, "seq", "batch");
    if (!seq.is_number_unsigned() && !(seq.is_number_integer() && seq.get<int64_t>() >= 0))
      fail("seq", fmt::format("must be a non-negative integer, got {}", seq.dump()));
    b.seq = seq.get<uint64_t>();
    size_t points_total = 0;
    if (auto it = j.find("series"); it != j.end()) {
      if (!it->is_array()) fail("series", fmt::format("expected an array, got {}", kind_of(*it)));
      if (it->size() > lim.max_series) fail("series", fmt::format("more than {} series", lim.max_series));
      b.series.reserve(it->size());
      for (size_t i = 0; i < it->size(); ++i)
        b.series.push_back(read_series((*it)[i], fmt::format("series[{}]", i), lim, points_total));
    }
    if (auto it = j.find("events"); it != j.end()) {
      if (!it->is_array()) fail("events", fmt::format("expected an array, got {}", kind_of(*it)));
      if (it->size() > lim.max_events) fail("events", fmt::format("more than {} events", lim.max_events));
      for (size_t i = 0; i < it->size(); ++i) b.events.push_back(read_event((*it)[i], fmt::format("events[{}]", i), lim));
    }
    return b;
  } catch (const Invalid& e) {
    return Error{e.message};
  } catch (const json::exception& e) {
    return errorf("malformed batch: {}", e.what());
  }
}

namespace {

// The encoder writes JSON text directly (no DOM): an agent encodes tens of thousands of series per cycle.
void put_string(std::string& out, std::string_view s) {
  out += '"';
  size_t i = 0;
  while (i < s.size()) {
    // Copy runs of plain ASCII in one append.
    size_t run = i;
    while (run < s.size()) {
      auto r = static_cast<unsigned char>(s[run]);
      if (r < 0x20 || r >= 0x80 || r == '"' || r == '\\') break;
      ++run;
    }
    if (run > i) {
      out.append(s.data() + i, run - i);
      i = run;
      continue;
    }
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        case '\r': out += "\\r"; break;
        default: fmt::format_to(std::back_inserter(out), "\\u{:04x}", c);
      }
      ++i;
    } else {
      // Copy a well-formed UTF-8 sequence; anything else becomes U+FFFD so the output is always valid JSON.
      size_t len = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c <= 0xDF ? 2 : 0;
      bool ok = len > 0 && i + len <= s.size();
      for (size_t k = 1; ok && k < len; ++k) ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
      if (ok && len == 3) {
        auto c1 = static_cast<unsigned char>(s[i + 1]);
        ok = !(c == 0xE0 && c1 < 0xA0) && !(c == 0xED && c1 >= 0xA0);  // overlong, surrogates
      }
      if (ok && len == 4) {
        auto c1 = static_cast<unsigned char>(s[i + 1]);
        ok = !(c == 0xF0 && c1 < 0x90) && !(c == 0xF4 && c1 >= 0x90);
      }
      if (ok) {
        out.append(s.data() + i, len);
        i += len;
      } else {
        out += "\\ufffd";
        ++i;
      }
    }
  }
  out += '"';
}

void put_labels(std::string& out, const Labels& labels) {
  out += '{';
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i) out += ',';
    put_string(out, labels[i].first);
    out += ':';
    put_string(out, labels[i].second);
  }
  out += '}';
}

void put_value(std::string& out, double v) {
  if (std::isnan(v)) out += "\"NaN\"";
  else if (std::isinf(v)) out += v > 0 ? "\"+Inf\"" : "\"-Inf\"";
  else {
    char buf[40];
    out.append(buf, fmt::format_to(buf, "{}", v));
  }
}

void put_int(std::string& out, int64_t v) {
  char buf[24];
  out.append(buf, fmt::format_to(buf, "{}", v));
}

}  // namespace

std::string encode_batch(const Batch& b) {
  std::string out;
  out.reserve(128 + b.series.size() * 96 + b.point_count() * 24);
  out += "{\"node\":";
  put_string(out, b.node);
  if (!b.stream.empty()) {
    out += ",\"stream\":";
    put_string(out, b.stream);
  }
  fmt::format_to(std::back_inserter(out), ",\"seq\":{},\"series\":[", b.seq);
  for (size_t i = 0; i < b.series.size(); ++i) {
    const Series& s = b.series[i];
    if (i) out += ',';
    out += "{\"name\":";
    put_string(out, s.name);
    out += ",\"type\":";
    put_string(out, series_type_name(s.type));
    out += ",\"labels\":";
    put_labels(out, s.labels);
    out += ",\"points\":[";
    for (size_t k = 0; k < s.points.size(); ++k) {
      if (k) out += ',';
      out += '[';
      put_int(out, s.points[k].t_ms);
      out += ',';
      put_value(out, s.points[k].value);
      out += ']';
    }
    out += "]}";
  }
  out += ']';
  if (!b.events.empty()) {
    out += ",\"events\":[";
    for (size_t i = 0; i < b.events.size(); ++i) {
      const Event& e = b.events[i];
      if (i) out += ',';
      out += "{\"kind\":";
      put_string(out, e.kind);
      fmt::format_to(std::back_inserter(out), ",\"t\":{},\"labels\":", e.t_ms);
      put_labels(out, e.labels);
      out += ",\"fields\":";
      json fields = json::parse(e.fields_json, nullptr, false);
      if (fields.is_discarded() || !fields.is_object()) fields = json::object();
      out += fields.dump(-1, ' ', false, json::error_handler_t::replace);
      out += '}';
    }
    out += ']';
  }
  out += '}';
  return out;
}

}  // namespace ss
