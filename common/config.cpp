#include "common/config.h"

#include <charconv>
#include <fstream>
#include <sstream>

#include "common/time.h"

namespace ss::config {

Result<YAML::Node> load_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return errorf("cannot read configuration file {}", path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto r = load_string(ss.str());
  if (!r) return errorf("{}: {}", path, r.error().message);
  return r;
}

Result<YAML::Node> load_string(const std::string& text) {
  try {
    YAML::Node n = YAML::Load(text);
    if (n.IsNull()) return YAML::Node(YAML::NodeType::Map);
    if (!n.IsMap()) return Error{"the top level must be a mapping of keys"};
    return n;
  } catch (const YAML::Exception& e) {
    return errorf("not valid YAML: {}", e.what());
  }
}

Section::Section(YAML::Node node, std::string path) : node_(std::move(node)), path_(std::move(path)) {
  if (node_.IsDefined() && !node_.IsNull() && !node_.IsMap())
    throw Invalid{fmt::format("{}: expected a mapping", path_.empty() ? "configuration" : path_)};
}

std::string Section::path_of(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

void Section::fail(std::string_view key, std::string_view what) const {
  throw Invalid{fmt::format("{}: {}", key.empty() ? path_ : path_of(key), what)};
}

void Section::allow_only(std::initializer_list<std::string_view> allowed) const {
  if (!node_.IsDefined() || node_.IsNull()) return;
  for (const auto& kv : node_) {
    auto key = kv.first.as<std::string>();
    bool known = false;
    for (auto a : allowed) known = known || key == a;
    if (!known) {
      std::string list;
      for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      fail(key, fmt::format("unknown key (known keys: {})", list));
    }
  }
}

bool Section::has(std::string_view key) const {
  return node_.IsDefined() && node_.IsMap() && node_[std::string(key)].IsDefined() &&
         !node_[std::string(key)].IsNull();
}

std::string Section::string(std::string_view key, std::string def) const {
  if (!has(key)) return def;
  auto n = node_[std::string(key)];
  if (!n.IsScalar()) fail(key, "expected a string");
  return n.as<std::string>();
}

bool Section::boolean(std::string_view key, bool def) const {
  if (!has(key)) return def;
  auto s = string(key, "");
  if (s == "true" || s == "yes" || s == "on") return true;
  if (s == "false" || s == "no" || s == "off") return false;
  fail(key, fmt::format("expected true or false, got \"{}\"", s));
}

int64_t Section::integer(std::string_view key, int64_t def) const {
  if (!has(key)) return def;
  auto s = string(key, "");
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) fail(key, fmt::format("expected an integer, got \"{}\"", s));
  return v;
}

double Section::number(std::string_view key, double def) const {
  if (!has(key)) return def;
  auto s = string(key, "");
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) fail(key, fmt::format("expected a number, got \"{}\"", s));
  return v;
}

int64_t Section::duration_ms(std::string_view key, int64_t def) const {
  if (!has(key)) return def;
  auto r = parse_duration_ms(string(key, ""));
  if (!r) fail(key, r.error().message);
  if (*r < 0) fail(key, "must not be negative");
  return *r;
}

int64_t Section::bytes(std::string_view key, int64_t def) const {
  if (!has(key)) return def;
  auto r = parse_bytes(string(key, ""));
  if (!r) fail(key, r.error().message);
  return *r;
}

std::vector<std::string> Section::strings(std::string_view key, std::vector<std::string> def) const {
  if (!has(key)) return def;
  auto n = node_[std::string(key)];
  if (n.IsScalar()) return {n.as<std::string>()};
  if (!n.IsSequence()) fail(key, "expected a list of strings");
  std::vector<std::string> out;
  for (const auto& e : n) {
    if (!e.IsScalar()) fail(key, "expected a list of strings");
    out.push_back(e.as<std::string>());
  }
  return out;
}

Section Section::child(std::string_view key) const {
  if (!has(key)) return Section(YAML::Node(YAML::NodeType::Map), path_of(key));
  return Section(node_[std::string(key)], path_of(key));
}

Result<int64_t> parse_bytes(std::string_view text) {
  size_t i = 0;
  while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.')) ++i;
  double num = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + i, num);
  if (i == 0 || ec != std::errc()) return errorf("\"{}\" is not a size (for example 64MiB)", text);
  std::string_view unit = text.substr(i);
  while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  double mult;
  if (unit.empty() || unit == "B") mult = 1;
  else if (unit == "KiB" || unit == "K") mult = 1024.0;
  else if (unit == "MiB" || unit == "M") mult = 1024.0 * 1024;
  else if (unit == "GiB" || unit == "G") mult = 1024.0 * 1024 * 1024;
  else if (unit == "TiB" || unit == "T") mult = 1024.0 * 1024 * 1024 * 1024;
  else if (unit == "kB" || unit == "KB") mult = 1e3;
  else if (unit == "MB") mult = 1e6;
  else if (unit == "GB") mult = 1e9;
  else if (unit == "TB") mult = 1e12;
  else return errorf("\"{}\": unknown size unit \"{}\" (B, KiB, MiB, GiB, TiB, kB, MB, GB, TB)", text, unit);
  return static_cast<int64_t>(num * mult);
}

}  // namespace ss::config
