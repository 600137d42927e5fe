#include "agent/sources/lustre/lctl_format.h"

#include "agent/sources/lustre/text.h"

namespace ss::agent::lustre {

namespace {

// Parameter names: letters, digits and the punctuation of device names and NIDs.
bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '-' || c == '@' || c == ':' || c == '*' || c == '/' || c == '+';
}

// The name of a name line ("osc.X.stats=…"), or empty.
std::string_view name_of(std::string_view line) {
  size_t eq = line.find('=');
  if (eq == 0 || eq == std::string_view::npos) return {};
  std::string_view name = line.substr(0, eq);
  if (!((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z'))) return {};
  for (char c : name)
    if (!is_name_char(c)) return {};
  return name;
}

}  // namespace

std::vector<LctlParam> parse_lctl_get_param(std::string_view output) {
  std::vector<LctlParam> out;
  bool in_block = false;  // the last param was "name=" and takes the following lines
  std::string_view line;
  while (next_line(output, line)) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::string_view name = name_of(line);
    if (!name.empty()) {
      std::string_view value = line.substr(name.size() + 1);
      if (!out.empty() && out.back().name == name && !in_block) {
        out.back().value.append("\n").append(value);  // -H: one more line of the same value
        continue;
      }
      out.push_back(LctlParam{std::string(name), std::string(value)});
      in_block = value.empty();
      continue;
    }
    if (out.empty()) continue;  // text before the first name (lctl -n output) has no owner
    std::string& v = out.back().value;
    if (!(in_block && v.empty())) v.push_back('\n');
    v.append(line);
    in_block = true;
  }
  for (auto& p : out)
    while (!p.value.empty() && p.value.back() == '\n') p.value.pop_back();
  return out;
}

std::optional<std::string_view> match_param(std::string_view name, std::string_view prefix, std::string_view suffix) {
  if (name.size() <= prefix.size() + suffix.size() || !name.starts_with(prefix) || !name.ends_with(suffix))
    return std::nullopt;
  return name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
}

}  // namespace ss::agent::lustre
