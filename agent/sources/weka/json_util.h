// JSON helpers shared by the Weka parsers: parse with a message naming the command and line, unwrap the REST
// envelope {"data": ...}, read numbers that may come as strings, read minute-bucket timestamps.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string_view>

#include "common/result.h"

namespace ss::agent::weka {

Result<nlohmann::json> parse_json(std::string_view text, std::string_view command);
const nlohmann::json& unwrap_data(const nlohmann::json& j);
std::optional<double> number(const nlohmann::json& v);
// RFC 3339 text, or a number of seconds (or milliseconds when large) since the epoch.
std::optional<int64_t> timestamp_ms(const nlohmann::json& v);
// "FSId<3>", "NodeId<41>" and 6.0's bare "3" → "3"; anything else unchanged.
std::string bare_id(std::string_view id);

}  // namespace ss::agent::weka
