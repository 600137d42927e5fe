// The strict, one-pass JSON reader under the ingest codec (codec.cpp): tokens, the place of a value in the
// batch for error messages, and the Reader. Kept apart from the batch schema as Prometheus keeps its lexer
// apart from its parser; private to common/ (only codec.cpp includes it).
#pragma once

#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fmt/format.h>
#include <iterator>
#include <limits>
#include <string>
#include <string_view>

namespace ss::json_reader {

// A hand-written strict JSON reader for ingest batches: one pass, no DOM, points parsed straight into
// the batch (the DOM decoder was the ingest bottleneck). Semantic errors name the place
// ("series[3].points[7][1]: ..."); syntax errors say "body is not valid JSON" with the byte offset.
struct Invalid {
  std::string message;
};

[[noreturn]] inline void fail(const std::string& where, const std::string& what) {
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

[[noreturn]] inline void fail(const Where& where, const std::string& what) { fail(where.str(), what); }

enum class Kind { Object, Array, String, Number, Boolean, Null };

inline const char* kind_name(Kind k) {
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

}  // namespace ss::json_reader
