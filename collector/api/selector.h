// Series selectors in Prometheus syntax: name{label="v", label!="v", label=~"re", label!~"re"}.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "collector/store/store.h"
#include "common/result.h"

namespace ss::collector {

struct Selector {
  std::string name;  // empty: any name (then at least one matcher is required)
  std::vector<Matcher> matchers;
};

// Parses `name`, `name{...}` or `{...}`. Errors say what is wrong and at which character.
Result<Selector> parse_selector(std::string_view text);

std::string format_selector(const Selector& s);

}  // namespace ss::collector
