#include "agent/sources/lustre/rpc_stats_format.h"

#include "agent/sources/lustre/text.h"

namespace ss::agent::lustre {

namespace {

std::optional<uint64_t> bucket_value(std::string_view key) {
  uint64_t mult = 1;
  if (!key.empty() && (key.back() == 'K' || key.back() == 'M' || key.back() == 'G')) {
    mult = key.back() == 'K' ? 1ull << 10 : key.back() == 'M' ? 1ull << 20 : 1ull << 30;
    key.remove_suffix(1);
  }
  auto v = to_u64(key);
  if (!v || *v > UINT64_MAX / mult) return std::nullopt;
  return *v * mult;
}

}  // namespace

RpcStats parse_rpc_stats(std::string_view text) {
  RpcStats out;
  std::vector<RpcHistRow>* table = nullptr;
  bool modify_section = false;
  std::string_view line;
  while (next_line(text, line)) {
    std::string_view t = trim(line);
    if (t.empty()) continue;
    if (parse_stats_header_line(t, &out.header)) continue;
    if (t == "read\t\t\twrite" || (t.starts_with("read") && t.ends_with("write"))) {
      modify_section = false;
      continue;
    }
    if (t == "modify") {
      modify_section = true;
      continue;
    }
    if (size_t colon = t.find(':'); colon != std::string_view::npos) {
      std::string_view key = trim(t.substr(0, colon));
      std::string_view value = trim(t.substr(colon + 1));
      std::optional<uint64_t>* gauge = nullptr;
      if (key == "read RPCs in flight") gauge = &out.read_in_flight;
      else if (key == "write RPCs in flight") gauge = &out.write_in_flight;
      else if (key == "DIO RPCs in flight") gauge = &out.dio_in_flight;
      else if (key == "modify_RPCs_in_flight") gauge = &out.modify_in_flight;
      else if (key == "pending write pages") gauge = &out.pending_write_pages;
      else if (key == "pending read pages") gauge = &out.pending_read_pages;
      if (gauge) {
        if (auto v = to_u64(value)) *gauge = v;
        else ++out.skipped_lines;
        continue;
      }
      if (auto bucket = bucket_value(key); bucket && table) {
        std::string_view rest = value;
        auto first = to_u64(next_token(rest));
        next_token(rest);  // %
        next_token(rest);  // cum %
        RpcHistRow row{*bucket, first.value_or(0), 0};
        bool ok = first.has_value();
        if (table != &out.modify_rpcs_in_flight) {
          ok = ok && next_token(rest) == "|";
          auto w = to_u64(next_token(rest));
          ok = ok && w.has_value();
          row.write = w.value_or(0);
        }
        if (ok) table->push_back(row);
        else ++out.skipped_lines;
        continue;
      }
      ++out.skipped_lines;
      continue;
    }
    if (t.starts_with("pages per rpc")) table = &out.pages_per_rpc;
    else if (t.starts_with("rpcs in flight")) table = modify_section ? &out.modify_rpcs_in_flight : &out.rpcs_in_flight;
    else if (t.starts_with("offset")) table = &out.offset;
    else {
      table = nullptr;
      ++out.skipped_lines;
    }
  }
  return out;
}

}  // namespace ss::agent::lustre
