#include "agent/sources/weka/json_util.h"

#include <cmath>
#include <cstdlib>
#include <string>

#include "common/time.h"

namespace ss::agent::weka {

Result<nlohmann::json> parse_json(std::string_view text, std::string_view command) {
  try {
    return nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::parse_error& e) {
    // Name the line: count newlines up to the byte offset the parser stopped at.
    size_t offset = std::min<size_t>(e.byte, text.size());
    size_t line = 1;
    for (size_t i = 0; i + 1 < offset; ++i) line += text[i] == '\n';
    return errorf("{}: line {}: not valid JSON ({})", command, line, e.what());
  } catch (const nlohmann::json::exception& e) {
    // Syntactically fine but unrepresentable, such as a number beyond a double's range (out_of_range 406).
    return errorf("{}: not usable JSON ({})", command, e.what());
  }
}

const nlohmann::json& unwrap_data(const nlohmann::json& j) {
  if (j.is_object() && j.size() == 1 && j.contains("data")) return j["data"];
  return j;
}

std::optional<double> number(const nlohmann::json& v) {
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    if (s.empty() || s.size() > 64) return std::nullopt;
    char* end = nullptr;
    double d = std::strtod(s.c_str(), &end);
    if (end == s.c_str() + s.size() && std::isfinite(d)) return d;
  }
  return std::nullopt;
}

std::optional<int64_t> timestamp_ms(const nlohmann::json& v) {
  if (v.is_number()) {
    double d = v.get<double>();
    if (!std::isfinite(d) || d <= 0 || d > 1e15) return std::nullopt;
    return d > 1e11 ? static_cast<int64_t>(d) : static_cast<int64_t>(d * 1000);
  }
  if (v.is_string()) {
    auto r = parse_time_ms(v.get_ref<const std::string&>(), 0);
    if (r && *r > 0) return *r;
  }
  return std::nullopt;
}

std::string bare_id(std::string_view id) {
  auto lt = id.find('<');
  if (lt != std::string_view::npos && id.ends_with(">")) return std::string(id.substr(lt + 1, id.size() - lt - 2));
  return std::string(id);
}

}  // namespace ss::agent::weka
