#include "common/sample.h"

#include <algorithm>

namespace ss {

size_t Batch::point_count() const {
  size_t n = 0;
  for (const auto& s : series) n += s.points.size();
  return n;
}

static bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool valid_metric_name(std::string_view n) {
  if (n.empty() || n.size() > 200) return false;
  if (!(is_alpha(n[0]) || n[0] == '_' || n[0] == ':')) return false;
  return std::all_of(n.begin(), n.end(), [](char c) { return is_alpha(c) || is_digit(c) || c == '_' || c == ':'; });
}

bool valid_label_name(std::string_view n) {
  if (n.empty() || n.size() > 100) return false;
  if (!(is_alpha(n[0]) || n[0] == '_')) return false;
  return std::all_of(n.begin(), n.end(), [](char c) { return is_alpha(c) || is_digit(c) || c == '_'; });
}

bool valid_node_name(std::string_view n) {
  if (n.empty() || n.size() > 253) return false;
  return std::all_of(n.begin(), n.end(),
                     [](char c) { return is_alpha(c) || is_digit(c) || c == '.' || c == '_' || c == '-'; });
}

std::string_view series_type_name(SeriesType t) { return t == SeriesType::Counter ? "counter" : "gauge"; }

Result<void> normalize_labels(Labels& labels) {
  std::sort(labels.begin(), labels.end(), [](const Label& a, const Label& b) { return a.first < b.first; });
  for (size_t i = 0; i < labels.size(); ++i) {
    if (!valid_label_name(labels[i].first)) return errorf("label name \"{}\" is invalid", labels[i].first);
    if (i > 0 && labels[i].first == labels[i - 1].first)
      return errorf("label \"{}\" appears twice", labels[i].first);
  }
  return {};
}

std::string_view label_value(const Labels& labels, std::string_view name) {
  for (const auto& [k, v] : labels)
    if (k == name) return v;
  return {};
}

std::string escape_label_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string series_key(std::string_view name, const Labels& labels) {
  std::string out(name);
  out += '{';
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i) out += ',';
    out += labels[i].first;
    out += "=\"";
    out += escape_label_value(labels[i].second);
    out += '"';
  }
  out += '}';
  return out;
}

}  // namespace ss
