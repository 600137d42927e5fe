#include "collector/remote/relabel.h"

#include <algorithm>

namespace ss::collector::remote {

namespace {

std::string value_of(const Labels& labels, const std::string& name) { return std::string(label_value(labels, name)); }

void set_label(Labels& labels, const std::string& name, std::string value) {
  auto it = std::lower_bound(labels.begin(), labels.end(), name, [](const Label& l, const std::string& n) { return l.first < n; });
  if (it != labels.end() && it->first == name) {
    if (value.empty()) labels.erase(it);
    else it->second = std::move(value);
  } else if (!value.empty()) {
    labels.insert(it, {name, std::move(value)});
  }
}

// $1, ${1}, $$ in a replacement, from the groups of a match.
std::string expand(const std::string& tmpl, const std::smatch& m) {
  std::string out;
  for (size_t i = 0; i < tmpl.size(); ++i) {
    if (tmpl[i] != '$' || i + 1 == tmpl.size()) {
      out += tmpl[i];
      continue;
    }
    size_t j = i + 1;
    bool braced = tmpl[j] == '{';
    if (braced) ++j;
    size_t start = j;
    while (j < tmpl.size() && std::isdigit(static_cast<unsigned char>(tmpl[j]))) ++j;
    if (tmpl[i + 1] == '$') {
      out += '$';
      i += 1;
    } else if (j == start || (braced && (j == tmpl.size() || tmpl[j] != '}'))) {
      out += tmpl[i];  // not a group reference: kept as written
    } else {
      size_t g = std::stoul(tmpl.substr(start, j - start));
      if (g < m.size()) out += m[g].str();
      i = braced ? j : j - 1;
    }
  }
  return out;
}

}  // namespace

std::vector<RelabelRule> read_relabel_rules(const YAML::Node& list, const std::string& path) {
  std::vector<RelabelRule> rules;
  if (!list) return rules;
  if (!list.IsSequence()) throw config::Invalid{path + ": expected a list of relabel rules"};
  for (size_t i = 0; i < list.size(); ++i) {
    config::Section s(list[i], fmt::format("{}[{}]", path, i));
    s.allow_only({"action", "source_labels", "separator", "regex", "target_label", "replacement"});
    RelabelRule r;
    std::string action = s.string("action", "replace");
    static const std::vector<std::pair<std::string, RelabelRule::Action>> kActions{
        {"replace", RelabelRule::Action::Replace},     {"keep", RelabelRule::Action::Keep},
        {"drop", RelabelRule::Action::Drop},           {"labeldrop", RelabelRule::Action::LabelDrop},
        {"labelkeep", RelabelRule::Action::LabelKeep}, {"labelmap", RelabelRule::Action::LabelMap}};
    auto a = std::find_if(kActions.begin(), kActions.end(), [&](const auto& p) { return p.first == action; });
    if (a == kActions.end())
      s.fail("action", "expected replace, keep, drop, labeldrop, labelkeep or labelmap");
    r.action = a->second;
    r.source_labels = s.strings("source_labels", {});
    r.separator = s.string("separator", r.separator);
    r.regex_text = s.string("regex", r.regex_text);
    try {
      r.regex = std::regex(r.regex_text, std::regex::ECMAScript | std::regex::optimize);
    } catch (const std::regex_error& e) {
      s.fail("regex", fmt::format("invalid regular expression \"{}\": {}", r.regex_text, e.what()));
    }
    r.target_label = s.string("target_label", "");
    r.replacement = s.string("replacement", r.replacement);
    if (r.action == RelabelRule::Action::Replace && !valid_label_name(r.target_label) && r.target_label != "__name__")
      s.fail("target_label", "replace needs a target_label that is a label name");
    if ((r.action == RelabelRule::Action::Keep || r.action == RelabelRule::Action::Drop) && r.source_labels.empty())
      s.fail("source_labels", fmt::format("{} needs source_labels", action));
    rules.push_back(std::move(r));
  }
  return rules;
}

std::optional<Labels> relabel(Labels labels, const std::vector<RelabelRule>& rules) {
  for (const auto& r : rules) {
    std::string joined;
    for (size_t i = 0; i < r.source_labels.size(); ++i) {
      if (i) joined += r.separator;
      joined += value_of(labels, r.source_labels[i]);
    }
    switch (r.action) {
      case RelabelRule::Action::Replace: {
        std::smatch m;
        if (std::regex_match(joined, m, r.regex)) set_label(labels, r.target_label, expand(r.replacement, m));
        break;
      }
      case RelabelRule::Action::Keep:
        if (!std::regex_match(joined, r.regex)) return std::nullopt;
        break;
      case RelabelRule::Action::Drop:
        if (std::regex_match(joined, r.regex)) return std::nullopt;
        break;
      case RelabelRule::Action::LabelDrop:
      case RelabelRule::Action::LabelKeep: {
        bool keep_matching = r.action == RelabelRule::Action::LabelKeep;
        std::erase_if(labels, [&](const Label& l) {
          return l.first != "__name__" && std::regex_match(l.first, r.regex) != keep_matching;
        });
        break;
      }
      case RelabelRule::Action::LabelMap: {
        Labels add;
        for (const auto& l : labels) {
          std::smatch m;
          if (std::regex_match(l.first, m, r.regex)) add.push_back({expand(r.replacement, m), l.second});
        }
        for (auto& [k, v] : add) set_label(labels, k, std::move(v));
        break;
      }
    }
  }
  return labels;
}

}  // namespace ss::collector::remote
