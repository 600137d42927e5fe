#include "agent/sources/beegfs/targets.h"

#include "agent/sources/beegfs/ndjson.h"
#include "agent/sources/beegfs/text.h"

namespace ss::agent::beegfs {

namespace {

constexpr std::string_view kCtl = "beegfs-ctl --listtargets";
constexpr std::string_view kCli = "beegfs target list";
constexpr std::string_view kNodes = "beegfs-ctl --listnodes";

enum class Col { Target, MirrorGroup, MemberType, Reach, Consistency, StPool, CapPool, Total, Free, Pct, ITotal, IFree,
                 NodeID, Unknown };

// Header words, with the two-word names "Cap. Pool" and "St. Pool" joined.
std::vector<Col> read_header(const std::vector<std::string_view>& toks, size_t& unknown) {
  std::vector<Col> cols;
  int pct = 0;
  for (size_t i = 0; i < toks.size(); ++i) {
    std::string_view t = toks[i];
    if ((t == "Cap." || t == "St.") && i + 1 < toks.size() && toks[i + 1] == "Pool") {
      cols.push_back(t == "Cap." ? Col::CapPool : Col::StPool);
      ++i;
    } else if (t == "Pool") cols.push_back(Col::CapPool);  // pre-7.0 beegfs-df header
    else if (t == "TargetID") cols.push_back(Col::Target);
    else if (t == "MirrorGroupID") cols.push_back(Col::MirrorGroup);
    else if (t == "MGMemberType") cols.push_back(Col::MemberType);
    else if (t == "Reachability") cols.push_back(Col::Reach);
    else if (t == "Consistency") cols.push_back(Col::Consistency);
    else if (t == "Total") cols.push_back(Col::Total);
    else if (t == "Free") cols.push_back(Col::Free);
    else if (t == "%") cols.push_back(Col::Pct), ++pct;
    else if (t == "ITotal") cols.push_back(Col::ITotal);
    else if (t == "IFree") cols.push_back(Col::IFree);
    else if (t == "NodeID") cols.push_back(Col::NodeID);
    else cols.push_back(Col::Unknown), ++unknown;
  }
  return cols;
}

bool all_equals_signs(const std::vector<std::string_view>& toks) {
  for (auto t : toks)
    if (t.find_first_not_of('=') != std::string_view::npos) return false;
  return true;
}

}  // namespace

Result<Targets> parse_ctl_targets(std::string_view text, std::string_view nodetype) {
  Targets out;
  std::string type(nodetype);
  std::vector<Col> cols;
  auto lines = split_lines(text);
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string_view line = trim(lines[i]);
    if (line.empty()) continue;
    if (line == "METADATA SERVERS:") {
      type = "meta", cols.clear();
      continue;
    }
    if (line == "STORAGE TARGETS:") {
      type = "storage", cols.clear();
      continue;
    }
    auto toks = split_ws(line);
    if (toks[0] == "TargetID" || toks[0] == "MirrorGroupID") {
      cols = read_header(toks, out.unknown_fields);
      continue;
    }
    if (all_equals_signs(toks)) continue;
    if (cols.empty()) return errorf("{}: line {}: data before a header line: \"{}\"", kCtl, i + 1, line);
    // NodeID with --longnodes ("beegfs-storage stor01 [ID: 1]") has spaces: the last column takes the rest.
    bool node_last = cols.back() == Col::NodeID;
    if (toks.size() < cols.size() || (!node_last && toks.size() != cols.size()))
      return errorf("{}: line {}: expected {} columns, found {}", kCtl, i + 1, cols.size(), toks.size());
    if (type.empty()) return errorf("{}: line {}: node type unknown (no heading, none given)", kCtl, i + 1);
    TargetRow row;
    row.nodetype = type;
    for (size_t c = 0; c < cols.size(); ++c) {
      std::string_view t = toks[c];
      auto need = [&](std::optional<double> v, std::string_view what) -> Result<double> {
        if (!v) return errorf("{}: line {}: column {} is not {}: \"{}\"", kCtl, i + 1, c + 1, what, t);
        return *v;
      };
      switch (cols[c]) {
        case Col::Target: {
          auto v = need(parse_number(t), "a target id");
          if (!v) return v.error();
          row.target = std::string(t);
          break;
        }
        case Col::Reach: row.reachability = std::string(t); break;
        case Col::Consistency: row.consistency = std::string(t); break;
        case Col::CapPool: row.cap_pool = lower(t); break;
        case Col::Total:
        case Col::Free: {
          auto v = need(parse_bytes_with_unit(t), "a size");
          if (!v) return v.error();
          (cols[c] == Col::Total ? row.total_bytes : row.free_bytes) = *v;
          break;
        }
        case Col::ITotal:
        case Col::IFree: {
          auto v = need(parse_count_with_unit(t), "an inode count");
          if (!v) return v.error();
          (cols[c] == Col::ITotal ? row.inodes : row.inodes_free) = *v;
          break;
        }
        case Col::NodeID:
          row.node = std::string(line.substr(static_cast<size_t>(t.data() - line.data())));
          break;
        default: break;
      }
    }
    if (row.target.empty()) return errorf("{}: line {}: no TargetID column", kCtl, i + 1);
    out.rows.push_back(std::move(row));
  }
  return out;
}

Result<Targets> parse_cli_targets(std::string_view text) {
  auto records = read_json_records(text, kCli);
  if (!records) return records.error();
  Targets out;
  for (const auto& rec : *records) {
    TargetRow row;
    int type = 0;
    for (const auto& [key, value] : rec.object.items()) {
      auto number = [&](std::optional<double>& slot) -> Result<void> {
        // space_used is "<bytes> (<pct>%)" even with --raw; only the plain numbers are read.
        auto v = json_number(value);
        if (!v && value.is_string()) v = parse_bytes_with_unit(value.get_ref<const std::string&>());
        if (!v) return errorf("{}: line {}: \"{}\" is not a number: {} (run it with --raw)", kCli, rec.line, key,
                              value.dump());
        slot = *v;
        return {};
      };
      Result<void> r;
      if (key == "id") {
        if (value.is_object()) {
          if (value.contains("num_id")) row.target = json_string(value["num_id"]);
          if (value.contains("node_type") && value["node_type"].is_number_integer())
            type = value["node_type"].get<int>();
          else if (value.contains("node_type")) row.nodetype = lower(json_string(value["node_type"]));
        } else {
          row.target = json_string(value);
        }
      } else if (key == "type") {
        if (value.is_number_integer()) type = value.get<int>();
        else row.nodetype = lower(json_string(value));
      } else if (key == "node") row.node = json_string(value);
      else if (key == "reachability") row.reachability = json_string(value);
      else if (key == "consistency") row.consistency = json_string(value);
      else if (key == "cap_pool") row.cap_pool = lower(json_string(value));
      else if (key == "space") r = number(row.total_bytes);
      else if (key == "space_free") r = number(row.free_bytes);
      else if (key == "inodes") r = number(row.inodes);
      else if (key == "inodes_free") r = number(row.inodes_free);
      else if (key == "uid" || key == "alias" || key == "storage_pool" || key == "last_contact" ||
               key == "sync_state" || key == "space_used" || key == "inodes_used") {
      } else ++out.unknown_fields;
      if (!r) return r.error();
    }
    if (type == 2) row.nodetype = "meta";
    else if (type == 3) row.nodetype = "storage";
    if (row.nodetype.starts_with("m")) row.nodetype = "meta";
    if (row.nodetype.starts_with("s")) row.nodetype = "storage";
    if (row.nodetype.empty()) return errorf("{}: line {}: the target has no node type", kCli, rec.line);
    if (row.target.empty()) return errorf("{}: line {}: the target has no id", kCli, rec.line);
    out.rows.push_back(std::move(row));
  }
  return out;
}

Result<std::vector<NodeRef>> parse_ctl_listnodes(std::string_view text) {
  std::vector<NodeRef> out;
  auto lines = split_lines(text);
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    if (line.empty() || line.front() == ' ' || line.front() == '\t') continue;
    line = trim(line);
    if (line.starts_with("Number of nodes:") || line.starts_with("Root:")) continue;
    auto open = line.rfind(" [ID: ");
    if (open == std::string_view::npos || line.back() != ']')
      return errorf("{}: line {}: expected \"<alias> [ID: <n>]\", found \"{}\"", kNodes, i + 1, line);
    std::string_view id = line.substr(open + 6, line.size() - open - 7);
    if (!parse_number(id)) return errorf("{}: line {}: node id is not a number: \"{}\"", kNodes, i + 1, id);
    out.push_back({std::string(line.substr(0, open)), std::string(id)});
  }
  return out;
}

}  // namespace ss::agent::beegfs
