#include "common/batch_writer.h"

#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>

#include "common/codec.h"

namespace ss {

using json = nlohmann::json;

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

BatchWriter::BatchWriter(std::string& out, std::string_view node, std::string_view stream, uint64_t seq) : out_(out) {
  out_ += "{\"node\":";
  put_string(out_, node);
  if (!stream.empty()) {
    out_ += ",\"stream\":";
    put_string(out_, stream);
  }
  fmt::format_to(std::back_inserter(out_), ",\"seq\":{},\"series\":[", seq);
}

void BatchWriter::series(std::string_view name, SeriesType type, const Labels& labels, const Point* points,
                         size_t n) {
  if (series_) out_ += ',';
  ++series_;
  out_ += "{\"name\":";
  put_string(out_, name);
  out_ += type == SeriesType::Counter ? ",\"type\":\"counter\",\"labels\":" : ",\"type\":\"gauge\",\"labels\":";
  put_labels(out_, labels);
  out_ += ",\"points\":[";
  for (size_t k = 0; k < n; ++k) {
    if (k) out_ += ',';
    out_ += '[';
    put_int(out_, points[k].t_ms);
    out_ += ',';
    put_value(out_, points[k].value);
    out_ += ']';
  }
  out_ += "]}";
}

void BatchWriter::event(const Event& e) {
  out_ += events_ ? "," : "],\"events\":[";
  ++events_;
  out_ += "{\"kind\":";
  put_string(out_, e.kind);
  fmt::format_to(std::back_inserter(out_), ",\"t\":{},\"labels\":", e.t_ms);
  put_labels(out_, e.labels);
  out_ += ",\"fields\":";
  json fields = json::parse(e.fields_json, nullptr, false);
  if (fields.is_discarded() || !fields.is_object()) fields = json::object();
  out_ += fields.dump(-1, ' ', false, json::error_handler_t::replace);
  out_ += '}';
}

void BatchWriter::finish() { out_ += "]}"; }

void append_json_string(std::string& out, std::string_view s) { put_string(out, s); }

std::string encode_batch(const Batch& b) {
  std::string out;
  out.reserve(128 + b.series.size() * 96 + b.point_count() * 24);
  BatchWriter w(out, b.node, b.stream, b.seq);
  for (const Series& s : b.series) w.series(s.name, s.type, s.labels, s.points.data(), s.points.size());
  for (const Event& e : b.events) w.event(e);
  w.finish();
  return out;
}

}  // namespace ss
