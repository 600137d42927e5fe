#include "agent/sources/beegfs/serverstats.h"

#include <charconv>

#include "agent/sources/beegfs/ndjson.h"
#include "agent/sources/beegfs/text.h"
#include "common/time.h"

namespace ss::agent::beegfs {

namespace {

constexpr std::string_view kCtl = "beegfs-ctl --serverstats";
constexpr std::string_view kCli = "beegfs stats server";

enum class Col { Time, Node, WriteKiB, ReadKiB, RecvKiB, SendKiB, Reqs, Qlen, Bsy, Name, Unknown };

Col column_of(std::string_view h) {
  if (h == "time_index") return Col::Time;
  if (h == "nodeID") return Col::Node;
  if (h == "write_KiB") return Col::WriteKiB;
  if (h == "read_KiB") return Col::ReadKiB;
  if (h == "recv_KiB") return Col::RecvKiB;
  if (h == "send_KiB") return Col::SendKiB;
  if (h == "reqs") return Col::Reqs;
  if (h == "qlen") return Col::Qlen;
  if (h == "bsy") return Col::Bsy;
  if (h == "name") return Col::Name;
  return Col::Unknown;
}

bool parse_i64(std::string_view s, int64_t& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

Result<ServerStats> parse_ctl_serverstats(std::string_view text) {
  ServerStats out;
  std::vector<Col> cols;
  int64_t block_time = 0;  // from "===== time index: <u> =====" in --perserver mode
  auto lines = split_lines(text);
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string_view line = trim(lines[i]);
    if (line.empty() || line.starts_with("Total results for") || line.starts_with("*")) continue;
    if (line.starts_with("=====")) {
      constexpr std::string_view kMark = "time index:";
      auto pos = line.find(kMark);
      if (pos == std::string_view::npos) continue;
      auto toks = split_ws(line.substr(pos + kMark.size()));
      if (toks.empty() || !parse_i64(toks[0], block_time))
        return errorf("{}: line {}: cannot read the time index", kCtl, i + 1);
      continue;
    }
    auto toks = split_ws(line);
    if (toks[0] == "time_index" || toks[0] == "nodeID") {
      cols.clear();
      for (auto t : toks) {
        cols.push_back(column_of(t));
        if (cols.back() == Col::Unknown) ++out.unknown_fields;
      }
      continue;
    }
    if (cols.empty()) return errorf("{}: line {}: data before a header line: \"{}\"", kCtl, i + 1, line);
    bool has_name = cols.back() == Col::Name;
    size_t numeric = has_name ? cols.size() - 1 : cols.size();
    if (toks.size() < numeric || (!has_name && toks.size() != numeric))
      return errorf("{}: line {}: expected {} columns, found {}", kCtl, i + 1, cols.size(), toks.size());
    ServerStatsRow row;
    row.time_s = block_time;
    for (size_t c = 0; c < numeric; ++c) {
      if (cols[c] == Col::Node) {
        row.node = std::string(toks[c]);
        continue;
      }
      auto v = parse_number(toks[c]);
      if (!v) return errorf("{}: line {}: column {} is not a number: \"{}\"", kCtl, i + 1, c + 1, toks[c]);
      switch (cols[c]) {
        case Col::Time: row.time_s = static_cast<int64_t>(*v); break;
        case Col::WriteKiB: row.write_bytes = *v * 1024, row.has_disk = true; break;
        case Col::ReadKiB: row.read_bytes = *v * 1024, row.has_disk = true; break;
        case Col::RecvKiB: row.recv_bytes = *v * 1024, row.has_net = true; break;
        case Col::SendKiB: row.send_bytes = *v * 1024, row.has_net = true; break;
        case Col::Reqs: row.requests = *v; break;
        case Col::Qlen: row.queue_length = *v; break;
        case Col::Bsy: row.busy_workers = *v; break;
        default: break;
      }
    }
    if (has_name && toks.size() > numeric) {
      // The name is the rest of the line.
      row.alias = std::string(line.substr(static_cast<size_t>(toks[numeric].data() - line.data())));
    }
    out.rows.push_back(std::move(row));
  }
  return out;
}

Result<ServerStats> parse_cli_stats_server(std::string_view text) {
  auto records = read_json_records(text, kCli);
  if (!records) return records.error();
  ServerStats out;
  for (const auto& rec : *records) {
    ServerStatsRow row;
    for (const auto& [key, value] : rec.object.items()) {
      if (key == "node_id") {
        row.node = json_string(value);
        continue;
      }
      if (key == "alias") {
        row.alias = json_string(value);
        continue;
      }
      if (key == "uid") continue;
      if (key == "time") {
        std::string s = json_string(value);
        int64_t secs = 0;
        if (value.is_number_integer()) {
          row.time_s = value.get<int64_t>();
        } else if (parse_i64(s, secs)) {
          row.time_s = secs;
        } else {
          auto t = parse_time_ms(s, 0);
          if (!t) return errorf("{}: line {}: \"time\" is not a time: \"{}\"", kCli, rec.line, s);
          row.time_s = *t / 1000;
        }
        continue;
      }
      double* target = nullptr;
      bool* flag = nullptr;
      if (key == "requests") target = &row.requests;
      else if (key == "queue_length") target = &row.queue_length;
      else if (key == "busy_workers") target = &row.busy_workers;
      else if (key == "written") target = &row.write_bytes, flag = &row.has_disk;
      else if (key == "read") target = &row.read_bytes, flag = &row.has_disk;
      else if (key == "sent") target = &row.send_bytes, flag = &row.has_net;
      else if (key == "received") target = &row.recv_bytes, flag = &row.has_net;
      if (!target) {
        ++out.unknown_fields;
        continue;
      }
      auto v = json_number(value);
      if (!v)
        return errorf("{}: line {}: \"{}\" is not a number: {} (run it with --raw)", kCli, rec.line, key,
                      value.dump());
      *target = *v;
      if (flag) *flag = true;
    }
    out.rows.push_back(std::move(row));
  }
  return out;
}

}  // namespace ss::agent::beegfs
