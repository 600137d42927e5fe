#include "agent/sources/beegfs/ndjson.h"

#include "agent/sources/beegfs/text.h"

namespace ss::agent::beegfs {

Result<std::vector<JsonRecord>> read_json_records(std::string_view text, std::string_view command) {
  std::vector<JsonRecord> out;
  auto lines = split_lines(text);
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string_view line = trim(lines[i]);
    if (line.empty() || (line.front() != '[' && line.front() != '{')) continue;
    nlohmann::json j = nlohmann::json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded())
      return errorf("{}: line {}: not valid JSON (run it with --output ndjson)", command, i + 1);
    if (j.is_object()) {
      out.push_back({i + 1, std::move(j)});
    } else {
      for (auto& e : j) {
        if (!e.is_object()) return errorf("{}: line {}: expected an array of objects", command, i + 1);
        out.push_back({i + 1, std::move(e)});
      }
    }
  }
  return out;
}

std::optional<double> json_number(const nlohmann::json& v) {
  if (v.is_number()) return v.get<double>();
  if (v.is_null()) return 0.0;
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    if (s.empty()) return 0.0;
    return parse_number(s);
  }
  return std::nullopt;
}

std::string json_string(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  return v.dump();
}

}  // namespace ss::agent::beegfs
