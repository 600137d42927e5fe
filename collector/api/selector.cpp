#include "collector/api/selector.h"

#include "common/sample.h"

namespace ss::collector {
namespace {

class Parser {
 public:
  explicit Parser(std::string_view text) : t_(text) {}

  Result<Selector> parse() {
    Selector s;
    skip_space();
    size_t start = i_;
    while (i_ < t_.size() && (std::isalnum(static_cast<unsigned char>(t_[i_])) || t_[i_] == '_' || t_[i_] == ':')) ++i_;
    s.name = std::string(t_.substr(start, i_ - start));
    if (!s.name.empty() && !valid_metric_name(s.name)) return fail(start, "invalid metric name \"" + s.name + "\"");
    skip_space();
    if (i_ < t_.size() && t_[i_] == '{') {
      ++i_;
      for (;;) {
        skip_space();
        if (i_ < t_.size() && t_[i_] == '}') {
          ++i_;
          break;
        }
        auto m = matcher();
        if (!m) return m.error();
        s.matchers.push_back(std::move(*m));
        skip_space();
        if (i_ < t_.size() && t_[i_] == ',') {
          ++i_;
          continue;
        }
        if (i_ < t_.size() && t_[i_] == '}') {
          ++i_;
          break;
        }
        return fail(i_, "expected ',' or '}'");
      }
    }
    skip_space();
    if (i_ != t_.size()) return fail(i_, "unexpected text");
    if (s.name.empty() && s.matchers.empty()) return Error{"selector: a metric name or a label matcher is required"};
    for (auto it = s.matchers.begin(); it != s.matchers.end();) {
      // {__name__="x"} is the same as x{}. A value that is no metric name stays a matcher (it matches nothing,
      // as in Prometheus): as the name it would format to a selector that does not parse.
      if (it->label == "__name__" && it->op == Matcher::Op::Eq && s.name.empty() && valid_metric_name(it->value)) {
        s.name = it->value;
        it = s.matchers.erase(it);
      } else {
        ++it;
      }
    }
    return s;
  }

 private:
  Error fail(size_t at, const std::string& what) const {
    return errorf("selector \"{}\": {} at character {}", t_, what, at + 1);
  }

  void skip_space() {
    while (i_ < t_.size() && (t_[i_] == ' ' || t_[i_] == '\t' || t_[i_] == '\n')) ++i_;
  }

  Result<Matcher> matcher() {
    Matcher m;
    size_t start = i_;
    while (i_ < t_.size() && (std::isalnum(static_cast<unsigned char>(t_[i_])) || t_[i_] == '_')) ++i_;
    m.label = std::string(t_.substr(start, i_ - start));
    if (!valid_label_name(m.label)) return fail(start, "expected a label name");
    skip_space();
    auto rest = t_.substr(i_);
    if (rest.starts_with("=~")) m.op = Matcher::Op::Re, i_ += 2;
    else if (rest.starts_with("!~")) m.op = Matcher::Op::Nre, i_ += 2;
    else if (rest.starts_with("!=")) m.op = Matcher::Op::Neq, i_ += 2;
    else if (rest.starts_with("=")) m.op = Matcher::Op::Eq, i_ += 1;
    else return fail(i_, "expected =, !=, =~ or !~");
    skip_space();
    if (i_ >= t_.size() || (t_[i_] != '"' && t_[i_] != '\'')) return fail(i_, "expected a quoted value");
    char quote = t_[i_++];
    for (;;) {
      if (i_ >= t_.size()) return fail(i_, "unterminated string");
      char c = t_[i_++];
      if (c == quote) break;
      if (c == '\\') {
        if (i_ >= t_.size()) return fail(i_, "unterminated string");
        char e = t_[i_++];
        m.value += e == 'n' ? '\n' : e == 't' ? '\t' : e;
      } else {
        m.value += c;
      }
    }
    return m;
  }

  std::string_view t_;
  size_t i_ = 0;
};

}  // namespace

Result<Selector> parse_selector(std::string_view text) { return Parser(text).parse(); }

std::string format_selector(const Selector& s) {
  std::string out = s.name + "{";
  for (size_t i = 0; i < s.matchers.size(); ++i) {
    const auto& m = s.matchers[i];
    if (i) out += ",";
    out += m.label;
    switch (m.op) {
      case Matcher::Op::Eq: out += "="; break;
      case Matcher::Op::Neq: out += "!="; break;
      case Matcher::Op::Re: out += "=~"; break;
      case Matcher::Op::Nre: out += "!~"; break;
    }
    out += "\"" + escape_label_value(m.value) + "\"";
  }
  return out + "}";
}

}  // namespace ss::collector
