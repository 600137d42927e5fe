#include "common/codec.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <charconv>
#include <cmath>
#include <iterator>
#include <limits>
#include <nlohmann/json.hpp>

#include "common/json_reader.h"

namespace ss {
namespace {

using json = nlohmann::json;
using namespace json_reader;

int64_t to_timestamp(const Token& t, const Where& where) {
  if (t.kind != Kind::Number || !t.integer)
    fail(where, fmt::format("timestamp must be an integer (ms since the epoch), got {}", kind_name(t.kind)));
  int64_t v = 0;
  auto [end, ec] = std::from_chars(t.text.data(), t.text.data() + t.text.size(), v);
  if (ec != std::errc() || end != t.text.data() + t.text.size())
    fail(where, fmt::format("timestamp {} is out of range", t.text));
  if (v < kMinTimestampMs || v > kMaxTimestampMs)
    fail(where, fmt::format("timestamp {} is out of range (milliseconds since the epoch expected)", v));
  return v;
}

double to_value(const Token& t, std::string_view str, const Where& where) {
  if (t.kind == Kind::Number) {
    if (!t.integer) return t.number;
    double v = 0;
    std::from_chars(t.text.data(), t.text.data() + t.text.size(), v);  // integers never underflow
    return v;
  }
  if (t.kind == Kind::String) {
    if (str == "NaN") return std::numeric_limits<double>::quiet_NaN();
    if (str == "+Inf" || str == "Inf") return std::numeric_limits<double>::infinity();
    if (str == "-Inf") return -std::numeric_limits<double>::infinity();
    fail(where, fmt::format("value \"{}\" is not a number", str));
  }
  fail(where, fmt::format("value must be a number, got {}", kind_name(t.kind)));
}

Labels read_labels(Reader& r, const Where& where, const DecodeLimits& lim) {
  if (r.kind_here() != Kind::Object) r.wrong(where, "an object");
  Labels labels;
  labels.reserve(4);
  r.begin_object();
  std::string_view k;
  for (bool first = true; r.next_key(first, k); first = false) {
    Where at = where.at(k);
    if (!valid_label_name(k)) fail(where, fmt::format("label name \"{}\" is invalid", k));
    if (k.starts_with("__")) fail(where, fmt::format("label name \"{}\" is reserved", k));
    if (k == "node") fail(where, "label \"node\" is reserved: the collector adds it from the batch's node");
    std::string value = r.read_string(at);
    if (value.size() > lim.max_label_value_bytes)
      fail(at, fmt::format("label value is {} bytes, at most {} allowed", value.size(), lim.max_label_value_bytes));
    labels.emplace_back(std::string(k), std::move(value));
  }
  if (labels.size() > lim.max_labels_per_series)
    fail(where, fmt::format("{} labels, at most {} allowed", labels.size(), lim.max_labels_per_series));
  auto by_name = [](const Label& a, const Label& b) { return a.first < b.first; };
  if (!std::is_sorted(labels.begin(), labels.end(), by_name)) std::sort(labels.begin(), labels.end(), by_name);
  for (size_t i = 1; i < labels.size(); ++i)
    if (labels[i].first == labels[i - 1].first) fail(where, fmt::format("label \"{}\" appears twice", labels[i].first));
  return labels;
}

// One point: [timestamp_ms, value]. The shape is checked before the elements, as the message promises.
Point read_point(Reader& r, const Where& pw, size_t i) {
  Where where = pw[i];
  if (r.kind_here() != Kind::Array) {
    r.any();
    fail(where, "a point is [timestamp_ms, value]");
  }
  r.begin_array();
  Token tok[2];
  std::string strval;
  int n = 0;
  for (bool first = true; r.next_element(first); first = false) {
    if (n < 2 && r.kind_here() == Kind::String) {
      strval = r.string();
      tok[n] = {Kind::String, {}};
    } else if (n < 2 && r.kind_here() == Kind::Number) {
      tok[n] = r.number();
    } else {
      Token t = r.any();
      if (n < 2) tok[n] = t;
    }
    ++n;
  }
  if (n != 2) fail(where, "a point is [timestamp_ms, value]");
  // `where` is put into words only on failure, so the common case costs no more than the checks.
  return Point{to_timestamp(tok[0], where[0]), to_value(tok[1], strval, where[1])};
}

void read_points(Reader& r, const Where& pw, Series& s, const DecodeLimits& lim, size_t& points_total) {
  if (r.kind_here() != Kind::Array) r.wrong(pw, "an array");
  r.begin_array();
  s.points.reserve(4);
  for (bool first = true; r.next_element(first); first = false) {
    if (++points_total > lim.max_points) fail(pw, fmt::format("batch has more than {} points", lim.max_points));
    s.points.push_back(read_point(r, pw, s.points.size()));
  }
}

Series read_series(Reader& r, const Where& where, const DecodeLimits& lim, size_t& points_total) {
  if (r.kind_here() != Kind::Object) r.wrong(where, "an object");
  Series s;
  bool has_name = false, has_type = false, has_points = false;
  r.begin_object();
  std::string_view k;
  for (bool first = true; r.next_key(first, k); first = false) {
    if (k == "name") {
      s.name = r.read_string(where.at("name"));
      if (!valid_metric_name(s.name)) fail(where.at("name"), fmt::format("metric name \"{}\" is invalid", s.name));
      has_name = true;
    } else if (k == "type") {
      std::string type = r.read_string(where.at("type"));
      if (type == "counter") s.type = SeriesType::Counter;
      else if (type == "gauge") s.type = SeriesType::Gauge;
      else fail(where.at("type"), fmt::format("type \"{}\" is not \"counter\" or \"gauge\"", type));
      has_type = true;
    } else if (k == "labels") {
      s.labels = read_labels(r, where.at("labels"), lim);
    } else if (k == "points") {
      s.points.clear();
      read_points(r, where.at("points"), s, lim, points_total);
      has_points = true;
    } else {
      fail(where, fmt::format("unknown field \"{}\"", k));
    }
  }
  if (!has_name) fail(where, "missing field \"name\"");
  if (!has_type) fail(where, "missing field \"type\"");
  if (!has_points) fail(where, "missing field \"points\"");
  if (s.type == SeriesType::Counter)
    for (size_t i = 0; i < s.points.size(); ++i)
      if (s.points[i].value < 0)
        fail(where.at("points")[i][1], fmt::format("counter value {} is negative", s.points[i].value));
  return s;
}

Event read_event(Reader& r, const Where& where, const DecodeLimits& lim) {
  if (r.kind_here() != Kind::Object) r.wrong(where, "an object");
  Event e;
  bool has_kind = false, has_t = false;
  r.begin_object();
  std::string_view k;
  for (bool first = true; r.next_key(first, k); first = false) {
    if (k == "kind") {
      e.kind = r.read_string(where.at("kind"));
      if (!valid_label_name(e.kind)) fail(where.at("kind"), fmt::format("event kind \"{}\" is invalid", e.kind));
      has_kind = true;
    } else if (k == "t") {
      Token t = r.kind_here() == Kind::Number ? r.number() : r.any();
      e.t_ms = to_timestamp(t, where.at("t"));
      has_t = true;
    } else if (k == "labels") {
      e.labels = read_labels(r, where.at("labels"), lim);
    } else if (k == "fields") {
      Token f = r.any();
      if (f.kind != Kind::Object) fail(where.at("fields"), fmt::format("expected an object, got {}", kind_name(f.kind)));
      // Events are few: keep the fields as canonical JSON text.
      e.fields_json = json::parse(f.text).dump();
    } else {
      fail(where, fmt::format("unknown field \"{}\"", k));
    }
  }
  if (!has_kind) fail(where, "missing field \"kind\"");
  if (!has_t) fail(where, "missing field \"t\"");
  return e;
}

Batch read_batch(Reader& r, const DecodeLimits& lim) {
  if (r.kind_here() != Kind::Object) {
    Kind k = r.any().kind;
    if (!r.at_end()) r.syntax("unexpected text after the value");
    fail("batch", fmt::format("expected a JSON object, got {}", kind_name(k)));
  }
  Batch b;
  bool has_node = false, has_seq = false;
  size_t points_total = 0;
  r.begin_object();
  std::string_view k;
  for (bool first = true; r.next_key(first, k); first = false) {
    if (k == "node") {
      b.node = r.read_string(Where{nullptr, "node"});
      if (!valid_node_name(b.node))
        fail("node", fmt::format("\"{}\" is not 1-253 characters of [A-Za-z0-9._-]", b.node));
      has_node = true;
    } else if (k == "stream") {
      b.stream = r.read_string(Where{nullptr, "stream"});
      if (b.stream.size() > 64 || (!b.stream.empty() && !valid_node_name(b.stream)))
        fail("stream", "must be at most 64 characters of [A-Za-z0-9._-]");
    } else if (k == "seq") {
      Token t = r.kind_here() == Kind::Number ? r.number() : r.any();
      uint64_t v = 0;
      bool ok = t.kind == Kind::Number && t.integer && t.text[0] != '-';
      if (ok) {
        auto [end, ec] = std::from_chars(t.text.data(), t.text.data() + t.text.size(), v);
        ok = ec == std::errc() && end == t.text.data() + t.text.size();
      }
      if (!ok && t.kind == Kind::Number && t.text == "-0") ok = true;
      if (!ok) fail("seq", fmt::format("must be a non-negative integer, got {}", t.text));
      b.seq = v;
      has_seq = true;
    } else if (k == "series") {
      const Where series{nullptr, "series"};
      if (r.kind_here() != Kind::Array) r.wrong(series, "an array");
      r.begin_array();
      for (bool f = true; r.next_element(f); f = false) {
        if (b.series.size() >= lim.max_series) fail(series, fmt::format("more than {} series", lim.max_series));
        b.series.push_back(read_series(r, series[b.series.size()], lim, points_total));
      }
    } else if (k == "events") {
      const Where events{nullptr, "events"};
      if (r.kind_here() != Kind::Array) r.wrong(events, "an array");
      r.begin_array();
      for (bool f = true; r.next_element(f); f = false) {
        if (b.events.size() >= lim.max_events) fail(events, fmt::format("more than {} events", lim.max_events));
        b.events.push_back(read_event(r, events[b.events.size()], lim));
      }
    } else {
      fail("batch", fmt::format("unknown field \"{}\"", k));
    }
  }
  if (!r.at_end()) r.syntax("unexpected text after the batch");
  if (!has_node) fail("batch", "missing field \"node\"");
  if (!has_seq) fail("batch", "missing field \"seq\"");
  return b;
}

}  // namespace

Result<Batch> decode_batch(std::string_view text, const DecodeLimits& lim) {
  try {
    Reader r(text);
    return read_batch(r, lim);
  } catch (const Invalid& e) {
    // A syntax error anywhere in the body takes precedence over a semantic one found before it.
    try {
      Reader again(text);
      again.any();
      if (!again.at_end()) again.syntax("unexpected text after the value");
    } catch (const Invalid& syntax) {
      return Error{syntax.message};
    }
    return Error{e.message};
  } catch (const json::exception& e) {
    return errorf("malformed batch: {}", e.what());
  }
}

}  // namespace ss
