#include "common/codec.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <charconv>
#include <cmath>
#include <iterator>
#include <limits>
#include <nlohmann/json.hpp>

#include "common/batch_writer.h"

namespace ss {
namespace {

using json = nlohmann::json;

// A hand-written strict JSON reader for ingest batches: one pass, no DOM, points parsed straight into
// the batch (the DOM decoder was the ingest bottleneck). Semantic errors name the place
// ("series[3].points[7][1]: ..."); syntax errors say "body is not valid JSON" with the byte offset.
struct Invalid {
  std::string message;
};

[[noreturn]] void fail(const std::string& where, const std::string& what) {
  throw Invalid{where.empty() ? what : where + ": " + what};
}

// Where a value sits in the batch ("series[3].labels.fs"), put into words only when an error names it:
// writing the path down for every value cost more than parsing the value.
struct Where {
  static constexpr size_t kNoIndex = SIZE_MAX;
  const Where* parent = nullptr;
  std::string_view field;   // ".field" (the whole text at the root)
  size_t index = kNoIndex;  // or "[index]"

  Where at(std::string_view f) const { return {this, f, kNoIndex}; }
  Where operator[](size_t i) const { return {this, {}, i}; }
  std::string str() const {
    std::string base = parent ? parent->str() : std::string();
    if (index != kNoIndex) return base + "[" + std::to_string(index) + "]";
    return base.empty() ? std::string(field) : base + "." + std::string(field);
  }
};

[[noreturn]] void fail(const Where& where, const std::string& what) { fail(where.str(), what); }

enum class Kind { Object, Array, String, Number, Boolean, Null };

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::Object: return "object";
    case Kind::Array: return "array";
    case Kind::String: return "string";
    case Kind::Number: return "number";
    case Kind::Boolean: return "boolean";
    case Kind::Null: return "null";
  }
  return "value";
}

// A scalar or a skipped container: its kind and its text.
struct Token {
  Kind kind;
  std::string_view text;
  bool integer = false;  // a number without fraction or exponent
  double number = 0;     // the value of a number that is not an integer
};

class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {}

  [[noreturn]] void syntax(const char* what) const {
    throw Invalid{fmt::format("body is not valid JSON: syntax error at byte {}: {}", p_, what)};
  }

  void ws() {
    while (p_ < s_.size() && (s_[p_] == ' ' || s_[p_] == '\n' || s_[p_] == '\r' || s_[p_] == '\t')) ++p_;
  }
  char peek() {
    ws();
    if (p_ >= s_.size()) syntax("unexpected end of input");
    return s_[p_];
  }
  void expect(char c) {
    if (peek() != c) syntax(fmt::format("expected '{}'", c).c_str());
    ++p_;
  }
  bool at_end() {
    ws();
    return p_ >= s_.size();
  }

  Kind kind_here() {
    switch (peek()) {
      case '{': return Kind::Object;
      case '[': return Kind::Array;
      case '"': return Kind::String;
      case 't':
      case 'f': return Kind::Boolean;
      case 'n': return Kind::Null;
      default: return Kind::Number;
    }
  }

  // Objects: begin, then next_key until it returns false.
  void begin_object() { expect('{'); }
  // The key is a view of the input (or, when it has escapes, of a buffer the next key reuses).
  bool next_key(bool first, std::string_view& key) {
    char c = peek();
    if (c == '}') {
      ++p_;
      return false;
    }
    if (!first) {
      if (c != ',') syntax("expected ',' or '}'");
      ++p_;
    }
    if (peek() != '"') syntax("expected a string key");
    key = view(key_scratch_);
    expect(':');
    return true;
  }
  void begin_array() { expect('['); }
  bool next_element(bool first) {
    char c = peek();
    if (c == ']') {
      ++p_;
      return false;
    }
    if (!first) {
      if (c != ',') syntax("expected ',' or ']'");
      ++p_;
      ws();
    }
    return true;
  }

  std::string string() {
    std::string scratch;
    std::string_view v = view(scratch);
    return v.data() == scratch.data() ? std::move(scratch) : std::string(v);
  }

  // A string's text: a view of the input when it has no escapes (the common case: no copy), else
  // decoded into `out`.
  std::string_view view(std::string& out) {
    if (peek() != '"') syntax("expected a string");
    ++p_;
    size_t begin = p_;
    const char* d = s_.data();
    const size_t n = s_.size();
    uint64_t high = 0;  // any byte >= 0x80: only then is UTF-8 checked
    if constexpr (std::endian::native == std::endian::little) {
      // Eight bytes at a time up to the first quote, backslash or control character.
      constexpr uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
      auto zero_byte = [&](uint64_t x) { return (x - kOnes) & ~x & kHigh; };
      while (p_ + 8 <= n) {
        uint64_t w;
        std::memcpy(&w, d + p_, 8);
        uint64_t special = zero_byte(w ^ (kOnes * '"')) | zero_byte(w ^ (kOnes * '\\')) | ((w - kOnes * 0x20) & ~w & kHigh);
        if (special) {  // the lowest flagged byte is exact (borrows only flag bytes above it)
          int plain = std::countr_zero(special) / 8;
          high |= plain ? w & (~uint64_t(0) >> (64 - 8 * plain)) : 0;
          p_ += static_cast<size_t>(plain);
          break;
        }
        high |= w;
        p_ += 8;
      }
    }
    while (p_ < n) {
      auto c = static_cast<unsigned char>(d[p_]);
      if (c == '"') {
        std::string_view v = s_.substr(begin, p_ - begin);
        ++p_;
        if (high & 0x8080808080808080ull) check_utf8(v);
        return v;
      }
      if (c == '\\' || c < 0x20) break;
      high |= c;
      ++p_;
    }
    out.assign(s_.substr(begin, p_ - begin));
    for (;;) {
      if (p_ >= s_.size()) syntax("unterminated string");
      unsigned char c = static_cast<unsigned char>(s_[p_++]);
      if (c == '"') break;
      if (c < 0x20) syntax("control character in string");
      if (c != '\\') {
        out.push_back(static_cast<char>(c));
        continue;
      }
      if (p_ >= s_.size()) syntax("unterminated string");
      char e = s_[p_++];
      switch (e) {
        case '"': out.push_back('"'); break;
        case '\\': out.push_back('\\'); break;
        case '/': out.push_back('/'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'u': {
          uint32_t cp = hex4();
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (p_ + 2 > s_.size() || s_[p_] != '\\' || s_[p_ + 1] != 'u') syntax("lone surrogate in \\u escape");
            p_ += 2;
            uint32_t lo = hex4();
            if (lo < 0xDC00 || lo > 0xDFFF) syntax("invalid surrogate pair in \\u escape");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            syntax("lone surrogate in \\u escape");
          }
          put_utf8(out, cp);
          break;
        }
        default: syntax("invalid escape in string");
      }
    }
    check_utf8(out);
    return out;
  }

  // A number token, checked against the JSON grammar.
  Token number() {
    ws();
    size_t b = p_;
    bool integer = true;
    if (p_ < s_.size() && s_[p_] == '-') ++p_;
    if (p_ >= s_.size() || !isdigit(s_[p_])) syntax("invalid value");
    if (s_[p_] == '0') ++p_;
    else
      while (p_ < s_.size() && isdigit(s_[p_])) ++p_;
    if (p_ < s_.size() && s_[p_] == '.') {
      integer = false;
      ++p_;
      if (p_ >= s_.size() || !isdigit(s_[p_])) syntax("invalid number");
      while (p_ < s_.size() && isdigit(s_[p_])) ++p_;
    }
    if (p_ < s_.size() && (s_[p_] == 'e' || s_[p_] == 'E')) {
      integer = false;
      ++p_;
      if (p_ < s_.size() && (s_[p_] == '+' || s_[p_] == '-')) ++p_;
      if (p_ >= s_.size() || !isdigit(s_[p_])) syntax("invalid number");
      while (p_ < s_.size() && isdigit(s_[p_])) ++p_;
    }
    std::string_view text = s_.substr(b, p_ - b);
    double v = 0;
    if (!integer) {
      // As in nlohmann's grammar: a number beyond the double range is an error, a tiny one is zero.
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      (void)end;
      if (ec == std::errc::result_out_of_range) {
        size_t e = text.find_first_of("eE");
        if (e == std::string_view::npos || text[e + 1] != '-') syntax("number out of range");
        v = text[0] == '-' ? -0.0 : 0.0;
      }
    }
    return {Kind::Number, text, integer, v};
  }

  void literal(std::string_view word) {
    if (s_.substr(p_, word.size()) != word) syntax("invalid literal");
    p_ += word.size();
  }

  // Reads any value; containers are checked and skipped.
  Token any() {
    Kind k = kind_here();
    size_t b = p_;
    switch (k) {
      case Kind::Object: {
        begin_object();
        std::string_view key;
        for (bool first = true; next_key(first, key); first = false) any();
        break;
      }
      case Kind::Array:
        begin_array();
        for (bool first = true; next_element(first); first = false) any();
        break;
      case Kind::String: string(); break;
      case Kind::Boolean: literal(s_[p_] == 't' ? "true" : "false"); break;
      case Kind::Null: literal("null"); break;
      case Kind::Number: return number();
    }
    return {k, s_.substr(b, p_ - b)};
  }

  // Skips the value in place and throws `where: expected <what>, got <kind>`.
  [[noreturn]] void wrong(const Where& where, const char* what) {
    Kind k = any().kind;
    fail(where, fmt::format("expected {}, got {}", what, kind_name(k)));
  }

  std::string read_string(const Where& where) {
    if (kind_here() != Kind::String) wrong(where, "a string");
    return string();
  }

 private:
  static bool isdigit(char c) { return c >= '0' && c <= '9'; }

  uint32_t hex4() {
    if (p_ + 4 > s_.size()) syntax("short \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      char c = s_[p_++];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= c - '0';
      else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
      else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
      else syntax("invalid \\u escape");
    }
    return v;
  }

  static void put_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  void check_utf8(std::string_view v) const {
    size_t i = 0;
    while (i < v.size()) {
      unsigned char c = static_cast<unsigned char>(v[i]);
      if (c < 0x80) {
        ++i;
        continue;
      }
      int n = (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : -1;
      if (n < 0 || i + n >= v.size()) syntax("invalid UTF-8 in string");
      uint32_t cp = c & (0x3F >> n);
      for (int k = 1; k <= n; ++k) {
        unsigned char cc = static_cast<unsigned char>(v[i + k]);
        if ((cc & 0xC0) != 0x80) syntax("invalid UTF-8 in string");
        cp = (cp << 6) | (cc & 0x3F);
      }
      static const uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
      if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) syntax("invalid UTF-8 in string");
      i += n + 1;
    }
  }

  std::string_view s_;
  size_t p_ = 0;
  std::string key_scratch_;
};

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
