#include "agent/sources/beegfs/clientstats.h"

#include <cmath>

#include "agent/sources/beegfs/ndjson.h"
#include "agent/sources/beegfs/text.h"

namespace ss::agent::beegfs {

namespace {

constexpr std::string_view kCtl = "beegfs-ctl --clientstats";
constexpr std::string_view kCli = "beegfs stats client";

// Applies one named counter; false when the name is a per-second rate (interval mode), which is skipped.
bool apply(ClientOps& e, std::string_view name, double v) {
  std::string op = lower(name);
  if (op.ends_with("/s")) return false;
  double mult = 1;
  if (op.starts_with("mib-")) {
    mult = 1024.0 * 1024.0;
    op = "b-" + op.substr(4);
  }
  if (op == "b-rd" || op == "rd") {
    e.read_bytes = v * mult, e.has_bytes = true;
  } else if (op == "b-wr" || op == "wr") {
    e.write_bytes = v * mult, e.has_bytes = true;
  } else if (op == "sum") {
    e.sum = v;
  } else {
    e.ops.emplace_back(std::move(op), v);
  }
  return true;
}

// One "<value> [<op>]" pair at tokens[i], tokens[i+1].
bool is_op_token(std::string_view t) { return t.size() > 2 && t.front() == '[' && t.back() == ']'; }

}  // namespace

Result<ClientStats> parse_ctl_clientstats(std::string_view text) {
  ClientStats out;
  int batches = 0;
  auto lines = split_lines(text);
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string_view line = trim(lines[i]);
    if (line.empty() || line.starts_with("*") || line.starts_with("Warning:")) continue;
    if (line.starts_with("======")) {
      // Interval mode: the first batch holds absolute counters, later ones differences. Keep the first.
      if (++batches > 1) break;
      continue;
    }
    auto toks = split_ws(line);
    if (toks[0] == "Sum:") continue;
    ClientOps e;
    size_t first = 1;
    if (toks.size() >= 2 && is_op_token(toks[1])) {
      // An id of 16+ characters is glued to the first value (setw(16) without a separator). The first value
      // is `sum`, the total of the other op counts, which tells where the id ends.
      double others = 0;
      for (size_t k = 2; k + 1 < toks.size(); k += 2) {
        auto v = parse_number(toks[k]);
        std::string op = is_op_token(toks[k + 1]) ? lower(toks[k + 1].substr(1, toks[k + 1].size() - 2)) : "";
        if (v && !op.empty() && op.find("-rd") == std::string::npos && op.find("-wr") == std::string::npos)
          others += *v;
      }
      std::string sum = fmt::format("{}", static_cast<unsigned long long>(others));
      if (toks[1] != "[sum]" || toks[0].size() <= sum.size() || !toks[0].ends_with(sum))
        return errorf("{}: line {}: cannot separate the id from the first value in \"{}\"", kCtl, i + 1, toks[0]);
      e.id = std::string(toks[0].substr(0, toks[0].size() - sum.size()));
      e.sum = others;
      first = 2;
    } else {
      e.id = std::string(toks[0]);
    }
    if ((toks.size() - first) % 2 != 0)
      return errorf("{}: line {}: expected \"<value> [<op>]\" pairs after the id", kCtl, i + 1);
    for (size_t k = first; k + 1 < toks.size(); k += 2) {
      auto v = parse_number(toks[k]);
      if (!v || !is_op_token(toks[k + 1]))
        return errorf("{}: line {}: expected \"<value> [<op>]\", found \"{} {}\"", kCtl, i + 1, toks[k], toks[k + 1]);
      if (!apply(e, toks[k + 1].substr(1, toks[k + 1].size() - 2), *v)) ++out.unknown_fields;
    }
    out.entries.push_back(std::move(e));
  }
  return out;
}

Result<ClientStats> parse_cli_stats_clients(std::string_view text, std::string_view key) {
  auto records = read_json_records(text, kCli);
  if (!records) return records.error();
  ClientStats out;
  for (const auto& rec : *records) {
    auto id = rec.object.find(std::string(key));
    if (id == rec.object.end()) return errorf("{}: line {}: no \"{}\" column", kCli, rec.line, key);
    ClientOps e;
    e.id = json_string(*id);
    if (e.id == "Summary") continue;
    for (const auto& [name, value] : rec.object.items()) {
      if (name == key) continue;
      if (value.is_string() && value.get_ref<const std::string&>().empty()) continue;  // a zero counter
      auto v = json_number(value);
      if (!v && value.is_string()) v = parse_bytes_with_unit(value.get_ref<const std::string&>());
      if (!v) {
        ++out.unknown_fields;
        continue;
      }
      if (!apply(e, name, *v)) ++out.unknown_fields;
    }
    out.entries.push_back(std::move(e));
  }
  return out;
}

}  // namespace ss::agent::beegfs
