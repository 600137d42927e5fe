// Small text helpers shared by the BeeGFS parsers: whitespace splitting, numbers with units, lines.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/text.h"

namespace ss::agent::beegfs {

std::vector<std::string_view> split_ws(std::string_view line);

// The whole token as a finite double (strtod syntax, so "3.28777e+08" works); nullopt otherwise.
std::optional<double> parse_number(std::string_view token);

// "1489.7GiB" → bytes, "149.0M" → 149e6 (inode counts), "12" → 12. nullopt for anything else.
std::optional<double> parse_bytes_with_unit(std::string_view token);
std::optional<double> parse_count_with_unit(std::string_view token);

// Splits text into lines (without '\n', '\r' removed); line numbers are index + 1.
std::vector<std::string_view> split_lines(std::string_view text);

std::string lower(std::string_view s);

}  // namespace ss::agent::beegfs
