#include "agent/sources/lustre/stats_format.h"

#include "agent/sources/lustre/text.h"

namespace ss::agent::lustre {

const StatsCounter* Stats::find(std::string_view name) const {
  for (const auto& c : counters)
    if (c.name == name) return &c;
  return nullptr;
}

std::string_view normalize_unit(std::string_view unit) {
  if (unit == "usec" || unit == "usecs") return "usecs";
  if (unit == "regs" || unit == "reqs") return "reqs";
  if (unit == "sec" || unit == "secs") return "secs";
  return unit;
}

bool parse_stats_header_line(std::string_view line, StatsHeader* header) {
  // Called on every line of every stats file: most are counters, turned away by their first letters.
  size_t i = 0;
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
  std::string_view head = line.substr(i);
  if (!head.starts_with("snapshot_time") && !head.starts_with("start_time") && !head.starts_with("elapsed_time"))
    return false;
  std::string_view rest = line;
  std::string_view name = next_token(rest);
  if (!name.empty() && name.back() == ':') name.remove_suffix(1);
  StatsHeader ignored;
  StatsHeader& h = header ? *header : ignored;
  std::optional<double>* field = nullptr;
  if (name == "snapshot_time") field = &h.snapshot_s;
  else if (name == "start_time") field = &h.start_s;
  else if (name == "elapsed_time") field = &h.elapsed_s;
  else return false;
  if (!header) return true;
  std::string_view value = next_token(rest);
  if (value == ":") value = next_token(rest);
  // 2.12-2.14 rpc_stats pad the nanoseconds with spaces: "1653661756.  4002690".
  std::string_view whole = value, frac;
  if (size_t dot = value.find('.'); dot != std::string_view::npos) {
    whole = value.substr(0, dot);
    frac = value.substr(dot + 1);
    if (frac.empty()) frac = next_token(rest);
  }
  std::string_view unit = trim(rest);
  double frac_unit = unit.find("usecs") != std::string_view::npos ? 1e6 : 1e9;
  if (auto s = to_seconds(whole, frac, frac_unit)) *field = s;
  return true;
}

Stats parse_stats(std::string_view text, HeaderTimes times) {
  Stats out;
  out.counters.reserve(32);  // one allocation for a typical file instead of six
  std::string_view line;
  while (next_line(text, line)) {
    if (trim(line).empty()) continue;
    if (parse_stats_header_line(line, times == HeaderTimes::Parse ? &out.header : nullptr)) continue;
    std::string_view rest = line;
    StatsCounter c;
    std::string_view name = next_token(rest);
    auto count = next_integer<int64_t>(rest);
    std::string_view samples = next_token(rest);
    std::string_view unit = next_token(rest);
    if (!count || *count < 0 || samples != "samples" || unit.size() < 2 || unit.front() != '[' ||
        unit.back() != ']') {
      ++out.skipped_lines;
      continue;
    }
    c.name = std::string(name);
    c.count = *count;
    c.unit = std::string(normalize_unit(unit.substr(1, unit.size() - 2)));
    if (!trim(rest).empty()) {
      auto mn = next_integer<int64_t>(rest), mx = mn ? next_integer<int64_t>(rest) : mn,
           sm = mx ? next_integer<int64_t>(rest) : mx;
      std::string_view t4 = sm ? next_token(rest) : std::string_view{};
      if (!sm || !trim(rest).empty()) {
        ++out.skipped_lines;
        continue;
      }
      c.has_sum = true;
      c.min = *mn;
      c.max = *mx;
      c.sum = *sm;
      if (auto sq = to_u64(t4)) {
        c.has_sumsq = true;
        c.sumsq = *sq;
      }
    }
    out.counters.push_back(std::move(c));
  }
  return out;
}

}  // namespace ss::agent::lustre
