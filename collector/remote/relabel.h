// write_relabel_configs as in Prometheus (actions replace, keep, drop, labeldrop, labelkeep, labelmap),
// applied to each series before it is sent. Regular expressions are anchored at both ends, as Prometheus'.
// Examples: rename node to instance ({source_labels: [node], target_label: instance} then
// {action: labeldrop, regex: node}); add a label ({target_label: cluster, replacement: a100}).
#pragma once

#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/sample.h"

namespace ss::collector::remote {

struct RelabelRule {
  enum class Action { Replace, Keep, Drop, LabelDrop, LabelKeep, LabelMap };
  Action action = Action::Replace;
  std::vector<std::string> source_labels;
  std::string separator = ";";
  std::string regex_text = "(.*)";
  std::regex regex{"(.*)"};
  std::string target_label;
  std::string replacement = "$1";
};

// Reads a list of rules; throws config::Invalid with the key's path on a bad rule.
std::vector<RelabelRule> read_relabel_rules(const YAML::Node& list, const std::string& path);

// Applies the rules to labels (with "__name__", sorted); nullopt when a keep/drop rule drops the series.
std::optional<Labels> relabel(Labels labels, const std::vector<RelabelRule>& rules);

}  // namespace ss::collector::remote
