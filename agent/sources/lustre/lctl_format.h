// `lctl get_param` output framing, every version:
//   name=value                     one line (≤2.15: only when the value has no newline and is short)
//   name=                          then the value's lines, up to the next name line
//   name=line1 / name=line2        with -H (2.16+): every value line carries the name
// A name line is "<name>=" where the name has no whitespace; stats, job_stats, import and rpc_stats value
// lines never have that shape. Dotted names are ambiguous (exports.10.73.20.12@tcp.stats), so
// match_param anchors on a known prefix and suffix instead of splitting on dots.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ss::agent::lustre {

struct LctlParam {
  std::string name;   // "osc.ai0-OST0000-osc-ffff8810.stats"
  std::string value;  // the value text, lines joined with '\n' (no trailing newline)
};

std::vector<LctlParam> parse_lctl_get_param(std::string_view output);

// "osc.X.stats" with prefix "osc." and suffix ".stats" → "X"; nullopt when it does not match or X is empty.
std::optional<std::string_view> match_param(std::string_view name, std::string_view prefix, std::string_view suffix);

}  // namespace ss::agent::lustre
