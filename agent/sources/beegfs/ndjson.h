// Reads the JSON records of a BeeGFS 8 `beegfs ... --output ndjson|json` run.
//
// stdout can mix JSON with text (`------- 0s -------`, `Total results for nodes: N`, license warnings), and JSON
// mode prints one array per page, so lines that start with neither '[' nor '{' are dropped and every array is
// flattened into its objects. Multi-line (json-pretty) output is not accepted: ask for ndjson.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace ss::agent::beegfs {

struct JsonRecord {
  size_t line = 0;  // 1-based line of stdout the object came from
  nlohmann::json object;
};

Result<std::vector<JsonRecord>> read_json_records(std::string_view text, std::string_view command);

// A BeeGFS 8 cell: "" is 0, numbers may come as strings or numbers. nullopt when it is neither.
std::optional<double> json_number(const nlohmann::json& v);
std::string json_string(const nlohmann::json& v);

}  // namespace ss::agent::beegfs
