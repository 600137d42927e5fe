#include "agent/sources/beegfs/text.h"

#include <cmath>
#include <cstdlib>

namespace ss::agent::beegfs {

std::vector<std::string_view> split_ws(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

std::optional<double> parse_number(std::string_view token) {
  if (token.empty() || token.size() > 64) return std::nullopt;
  char c = token.front();
  if (!(c == '-' || c == '+' || c == '.' || (c >= '0' && c <= '9'))) return std::nullopt;
  std::string s(token);
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

namespace {
std::optional<double> with_suffix(std::string_view token, std::initializer_list<std::pair<std::string_view, double>> units) {
  for (auto [suffix, mult] : units) {
    if (token.size() > suffix.size() && token.ends_with(suffix)) {
      auto v = parse_number(token.substr(0, token.size() - suffix.size()));
      if (v) return *v * mult;
      return std::nullopt;
    }
  }
  return parse_number(token);
}
}  // namespace

std::optional<double> parse_bytes_with_unit(std::string_view token) {
  constexpr double K = 1024.0;
  return with_suffix(token, {{"PiB", K * K * K * K * K}, {"TiB", K * K * K * K}, {"GiB", K * K * K}, {"MiB", K * K},
                             {"KiB", K}, {"B", 1.0}});
}

std::optional<double> parse_count_with_unit(std::string_view token) {
  return with_suffix(token, {{"G", 1e9}, {"M", 1e6}, {"k", 1e3}, {"K", 1e3}});
}

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    size_t end = nl == std::string_view::npos ? text.size() : nl;
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    out.push_back(line);
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

}  // namespace ss::agent::beegfs
